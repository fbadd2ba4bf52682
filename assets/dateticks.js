/* Date axes that keep their tick labels level on a narrow page (a phone, a narrow panel).

   The server fixes a day or month axis's tick step for the page's widest layout
   (layouts/figures/common.py day_ticks / time_axis: at most 10 labels, weekly ticks on
   Mondays, months as «oct 2026»). It cannot know the plot's width: on a 390 px phone the
   Tendencia axis is ~220 px long, and Plotly tilted its six weekly labels by 30°. After every
   plot, each x axis whose step the server fixed (`dtick` in the figure) gets the smallest
   step of its ladder, from the server's up, whose labels stand level with a gap between them
   (a 14-day step on that phone; the server's own step on a wide page). The labels are
   measured as Plotly drew them (their text length, whatever their angle). A wider window
   (or a new figure) starts again from the server's step, so nothing stays coarser than it
   needs. The tick anchor (Mondays) and the label format stay the server's.
   The relayout goes into the graph's figure too (dcc.Graph copies a relayout into its
   `figure` prop), which no server callback reads.
   Names get the same care: an axis whose names have shorter forms (the heatmap's weekdays,
   `meta.names` in the figure: «lunes» · «lun» · «L») shows the longest form whose widest name
   stands level in its column; on a phone's 162 px heatmap Plotly stood «miércoles» upright. */
window.dashboardDateTicks = (function () {
  var DAY = 86400000;
  var D = {
    GAP_PX: 8,  // between two labels (layouts/figures/models.py TICK_GAP_PX)
    GROW_PX: 16,  // a plot this much longer than at the last change may take a finer step
    DAYS: [1, 2, 7, 14, 28, 56, 112].map(function (d) { return d * DAY; }),
    MONTHS: [1, 2, 3, 4, 6, 12],
  };

  /* The steps an axis may take, from the server's own up: numbers (ms) or "M<n>". */
  D.ladder = function (dtick) {
    if (typeof dtick === "string" && /^M\d+$/.test(dtick)) {
      var n = parseInt(dtick.slice(1), 10);
      return [n].concat(D.MONTHS.filter(function (m) { return m > n; })).map(function (m) { return "M" + m; });
    }
    var ms = Number(dtick);
    if (!isFinite(ms) || ms <= 0) { return []; }
    return [ms].concat(D.DAYS.filter(function (d) { return d > ms; }));
  };

  /* A step's shortest length in ms (a month: 28 days, so a step that fits in February fits). */
  D.stepMs = function (step) {
    return typeof step === "string" ? parseInt(step.slice(1), 10) * 28 * DAY : step;
  };

  /* The first step of the ladder whose labels, `widest` px each, stand level on an axis of
     `lengthPx` px showing `spanMs`; the last one when none does. */
  D.pick = function (ladder, widest, lengthPx, spanMs) {
    for (var i = 0; i < ladder.length; i++) {
      if (D.stepMs(ladder[i]) * lengthPx / spanMs >= widest + D.GAP_PX) { return ladder[i]; }
    }
    return ladder[ladder.length - 1];
  };

  /* The first of `forms` (lists of names, longest first) whose widest name, `widthOf` px, leaves
     GAP_PX in a column `perPx` wide; the last form when none does. */
  D.pickNames = function (forms, widthOf, perPx) {
    for (var i = 0; i < forms.length; i++) {
      if (Math.max.apply(null, forms[i].map(widthOf)) + D.GAP_PX <= perPx) { return i; }
    }
    return forms.length - 1;
  };

  var ruler = document.createElement("canvas").getContext("2d");
  function widthIn(font) {
    ruler.font = (font && font.size || 12) + "px " + (font && font.family || "sans-serif");
    return function (text) { return ruler.measureText(text).width; };
  }

  /* Names measured in the axis's own font, not as drawn: every form is measured alike, and an
     axis's column width does not depend on its names, so the choice never goes back and forth. */
  function fitNames(gd, full, given, update) {
    var names = given.meta && given.meta.names;
    Object.keys(names || {}).forEach(function (name) {
      var ax = full[name], forms = names[name];
      if (!ax || !ax.visible || !ax._length || !given[name] || !forms || !forms.length) { return; }
      var form = forms[D.pickNames(forms, widthIn(ax.tickfont), ax._length / forms[0].length)];
      if (JSON.stringify(given[name].ticktext) !== JSON.stringify(form)) { update[name + ".ticktext"] = form; }
    });
  }

  function fit(gd) {
    var full = gd._fullLayout, given = gd.layout || {}, traces = gd.data, update = {}, lengths = {};
    if (!full) { return; }
    var seen = gd.__dateTicks || (gd.__dateTicks = {});
    Object.keys(full).forEach(function (name) {
      var ax = full[name];
      if (!/^xaxis\d*$/.test(name) || !ax || ax.type !== "date" || !ax.visible || !given[name]) { return; }
      var dtick = given[name].dtick;
      if (dtick === undefined || dtick === null) { return; }  // Plotly's own steps: they follow the width
      var mine = seen[name];
      /* A new figure from the server comes with new traces (gd.data). Our relayout keeps them:
         dcc.Graph copies the relayout into its figure and plots that again with the same
         traces, so the step first seen with these traces is the server's. */
      if (!mine || mine.data !== gd.data) { mine = seen[name] = { data: gd.data, from: dtick }; }
      var labels = gd.querySelectorAll("g." + ax._id + "tick > text");
      var widest = 0;
      labels.forEach(function (t) { widest = Math.max(widest, t.getComputedTextLength ? t.getComputedTextLength() : 0); });
      var range = (ax.range || []).map(ax.r2l);
      var span = Math.abs(range[1] - range[0]);
      if (!widest || !span || !ax._length) { return; }  // not drawn (a collapsed section): on its next plot
      /* The widest label this figure has drawn at any step: fewer labels at a coarser step may
         all be narrower, and going back to the finer step for them would tilt them again. */
      mine.widest = Math.max(mine.widest || 0, widest);
      var ladder = D.ladder(mine.from);
      var step = D.pick(ladder, mine.widest, ax._length, span);
      if (step === dtick || step === undefined) { return; }
      /* Finer again only for a wider plot (the window grew), not for the few pixels a step's
         own labels move the margins by: no back and forth between two steps. */
      if (ladder.indexOf(step) < ladder.indexOf(dtick) && ax._length < (mine.length || 0) + D.GROW_PX) { return; }
      update[name + ".dtick"] = step;
      lengths[name] = ax._length;
    });
    fitNames(gd, full, given, update);
    /* Out of Plotly's own plot call; a newer plot (a resize) decides again, so an older
       decision still waiting is dropped. */
    clearTimeout(gd.__dateTicksTimer);
    if (Object.keys(update).length && window.Plotly) {
      gd.__dateTicksTimer = setTimeout(function () {
        if (gd.data !== traces) { return; }  // a new figure came meanwhile: its own plot decides
        Object.keys(lengths).forEach(function (name) { seen[name].length = lengths[name]; });
        window.Plotly.relayout(gd, update);
      }, 0);
    }
  }

  function watch(gd) {
    if (gd.__dateTicksWatched || typeof gd.on !== "function") { return; }
    gd.__dateTicksWatched = true;
    gd.on("plotly_afterplot", function () { fit(gd); });
    fit(gd);
  }

  var plots = document.getElementsByClassName("js-plotly-plot");  // live: cheap to look through
  function scan() {
    for (var i = 0; i < plots.length; i++) { watch(plots[i]); }
  }
  new MutationObserver(function (records) {
    for (var i = 0; i < records.length; i++) {
      if (records[i].addedNodes.length) { scan(); return; }
    }
  }).observe(document.documentElement, { childList: true, subtree: true });
  D.fit = fit;
  return D;
})();
