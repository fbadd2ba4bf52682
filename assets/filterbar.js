/* The filter bar is sticky (assets/10_dashboard.css) so that it stays at hand while scrolling,
   but on a phone or in a short panel it is most of the screen: 368 of 844 px on a 390 px wide
   phone, 212 of 600 px in a 768 × 600 iframe. Taller than STATIC_SHARE of the window, it
   scrolls away with the page instead (html.filterbar-static), and sticks again once the window
   is tall or wide enough. Its height follows its content (chips, wrapping rows, the language),
   so the rule reads it rather than guessing from media queries. An iframe the panel sizes to the
   page's height (assets/dashboard.js, dashboardEmbed) never scrolls inside: there the bar never
   sticks either way. */
window.dashboardFilterbar = (function () {
  /* STICKY_SHARE < STATIC_SHARE: a window whose height moves a little (a mobile browser's
     toolbar hiding while the page scrolls) does not flip the bar back and forth. */
  var F = { STATIC_SHARE: 0.25, STICKY_SHARE: 0.22, CLASS: "filterbar-static" };
  F.update = function () {
    var bar = document.querySelector(".filterbar-wrap");
    if (!bar || !window.innerHeight) { return; }
    var root = document.documentElement;
    var share = bar.getBoundingClientRect().height / window.innerHeight;
    root.classList.toggle(F.CLASS, share > (root.classList.contains(F.CLASS) ? F.STICKY_SHARE : F.STATIC_SHARE));
  };
  var observed = null;
  function watch() {
    var bar = document.querySelector(".filterbar-wrap");
    if (bar && bar !== observed && window.ResizeObserver) {
      observed = bar;
      new ResizeObserver(F.update).observe(bar);
    }
    F.update();
  }
  window.addEventListener("resize", F.update);
  /* Dash renders the layout after this file runs: look for the bar until it is there. */
  new MutationObserver(function (_m, obs) {
    if (document.querySelector(".filterbar-wrap")) { watch(); obs.disconnect(); }
  }).observe(document.documentElement, { childList: true, subtree: true });
  watch();
  return F;
})();
