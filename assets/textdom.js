/* Text-only trees of DOM elements (layouts/textdom.py says what and why): a clientside
   callback, textdom.draw(view), builds view.tree under the element view.host and returns
   view.stamp for the section's data-stamp. A node: {t: tag, c: class, x: text, k: kids,
   a: attributes}. Only the tags and attributes layouts/textdom.py allows are drawn
   (tests/test_layouts.py checks both lists agree); text becomes text nodes and attributes go
   through setAttribute, so data is never parsed as HTML. A click on a node with data-click
   writes that store {i: its data-index, n: clicks so far}. */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  textdom: (function () {
    var TAGS = ["div", "span", "strong", "h3", "ol", "li", "button"];
    var ATTRIBUTE = /^(?:title|value|type|data-[a-z][a-z-]*|aria-[a-z][a-z-]*)$/;
    var clicks = 0;
    function build(spec) {
      if (!spec || TAGS.indexOf(spec.t) < 0) { return document.createTextNode(""); }
      var node = document.createElement(spec.t);
      if (spec.c) { node.className = String(spec.c); }
      var attrs = spec.a || {};
      Object.keys(attrs).forEach(function (k) {
        if (ATTRIBUTE.test(k)) { node.setAttribute(k, String(attrs[k])); }
      });
      if (spec.x !== undefined && spec.x !== null) { node.appendChild(document.createTextNode(String(spec.x))); }
      (spec.k || []).forEach(function (kid) { node.appendChild(build(kid)); });
      return node;
    }
    function onClick(event) {
      var target = event.target.closest ? event.target.closest("[data-click]") : null;
      if (!target || !event.currentTarget.contains(target)) { return; }
      var i = parseInt(target.getAttribute("data-index"), 10);
      if (isNaN(i)) { return; }
      clicks += 1;
      window.dash_clientside.set_props(target.getAttribute("data-click"), { data: { i: i, n: clicks } });
    }
    return {
      draw: function (view) {
        if (!view) { return window.dash_clientside.no_update; }
        var host = document.getElementById(view.host);
        if (host) {
          if (!host.dataset.textdom) {
            host.addEventListener("click", onClick);
            host.dataset.textdom = "1";
          }
          if (view.tree) { host.replaceChildren(build(view.tree)); } else { host.replaceChildren(); }
        }
        return view.stamp;
      }
    };
  })()
});
