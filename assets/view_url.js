/* The view in the URL (contract §4, issue 9): window, source, granularity, the slice and the comparison
   (compare=previous|year, carried in the slice's store under "compare") as readable
   query parameters named as in the API (?preset=30d&source=byok&agentId=a&agentId=b), a history
   entry per change so that reload and back/forward restore the view, «Copiar enlace», and the chips' ✕.
   Copied links leave ?token= out (the panel wraps a copied link in its own); pushed entries keep the
   token the page was opened with, never another, so a reload keeps access. lang, theme and currency
   are kept. */
(function () {
  var SLICE = ["agentId", "userId", "provider", "model", "actionType"];
  /* The filter row's dropdowns and the API names each one writes (callbacks/slice.py SELECTS). */
  var SELECTS = [["slice-agent", ["agentId"]], ["slice-user", ["userId"]], ["slice-model", ["provider", "model"]],
                 ["slice-action", ["actionType"]]];
  var VIEW = ["preset", "from", "to", "source", "granularity"].concat(SLICE).concat(["compare"]);
  var KEEP = ["lang", "theme", "currency"];
  var restoring = 0;  /* until then, state changes are the URL's own being applied: nothing pushed */
  var pending = null;

  function nu() { return window.dash_clientside.no_update; }

  /* «El enlace pide el origen «x», que no existe: se muestra Todos.»: a link's value the page does
     not offer, named (cut at 40 characters) beside what shows instead. One pass over the message,
     so a value holding "{shown}" stays as typed. */
  function oddValue(what, value, shown) {
    var parts = { what: what, value: value.length > 40 ? value.slice(0, 40) + "…" : value, shown: shown };
    return T("El enlace pide {what} «{value}», que no existe: se muestra {shown}.")
      .replace(/\{(what|value|shown)\}/g, function (_m, k) { return parts[k]; });
  }

  /* The view parameters of a search string, canonical (fixed order, slice values sorted). */
  function viewOf(search) {
    var p = new URLSearchParams(search || "");
    var out = [];
    VIEW.forEach(function (k) {
      var vs = p.getAll(k).filter(function (v) { return v !== ""; });
      if (SLICE.indexOf(k) >= 0) { vs = vs.filter(function (v, i) { return vs.indexOf(v) === i; }).sort(); }
      else { vs = vs.slice(0, 1); }
      vs.forEach(function (v) { out.push([k, v]); });
    });
    return out;
  }
  function encode(pairs) {
    var q = new URLSearchParams();
    pairs.forEach(function (kv) { q.append(kv[0], kv[1]); });
    return q.toString();
  }
  /* The page URL for a view: path, the kept panel parameters, the view; never the token. */
  function urlFor(pairs, withToken) {
    var cur = new URLSearchParams(window.location.search || "");
    var q = new URLSearchParams();
    if (withToken && cur.get("token")) { q.append("token", cur.get("token")); }
    KEEP.forEach(function (k) { if (cur.get(k)) { q.append(k, cur.get(k)); } });
    pairs.forEach(function (kv) { q.append(kv[0], kv[1]); });
    var s = q.toString();
    return window.location.pathname + (s ? "?" + s : "") + window.location.hash;
  }
  function stateView(aPreset, aStart, aEnd, source, gran, slice) {
    var out = [];
    if (aPreset === "custom" && aStart && aEnd) { out.push(["preset", "custom"], ["from", aStart], ["to", aEnd]); }
    else if (aPreset) { out.push(["preset", aPreset]); }
    if (source && source !== "all") { out.push(["source", source]); }
    if (gran && gran !== "auto") { out.push(["granularity", gran]); }
    var view = out;
    SLICE.forEach(function (k) {
      var vs = (slice && Array.isArray(slice[k])) ? slice[k].slice() : [];
      vs.filter(function (v, i) { return typeof v === "string" && v !== "" && vs.indexOf(v) === i; }).sort()
        .forEach(function (v) { view.push([k, v]); });
    });
    var cmp = slice && typeof slice.compare === "string" ? slice.compare : "";
    if (cmp) { view.push(["compare", cmp]); }
    return viewOf("?" + encode(view));
  }

  window.aiUsageView = {
    /* The URL's view into the controls and stores (on load, and on back/forward). */
    restore: function (search) {
      var p = new URLSearchParams(search || "");
      var out = [nu(), nu(), nu(), nu(), nu(), nu(), nu(), nu(), nu(), nu(), nu()];
      var preset = p.get("preset"), from = p.get("from"), to = p.get("to");
      var hasView = VIEW.some(function (k) { return p.has(k); });
      if (!hasView && !window.aiUsageView.pushed) { return out; }  /* a plain page: its defaults */
      restoring = Date.now();
      /* [preset control, picker start, picker end, applied preset, applied start, applied end, ...] */
      if (from !== null || to !== null) {
        /* A custom window, as the link gives it: the period bar applies it or says why not (a
           missing or impossible date, a reversed pair) beside the dates; the page keeps its
           default period meanwhile. Text that is not YYYY-MM-DD reaches the picker as no date,
           and so does a date that is no day of the calendar (the picker would show 2026-02-30
           as 02/03/2026): the period bar names it from linkDates. */
        var iso = function (s) { return s !== null && /^\d{4}-\d{2}-\d{2}$/.test(s) ? s : null; };
        var real = function (s) { return window.dashboardFilters.realIso(s) ? s : null; };
        window.aiUsageView.linkDates = [from, to];  /* read by applyFilters (dashboard.js) to name them */
        out[0] = "custom"; out[1] = real(from); out[2] = real(to); out[3] = "custom"; out[4] = iso(from); out[5] = iso(to);
      }
      /* Read as the API reads them (trimmed, any case: source=BYOK is byok). A value the page
         does not offer falls back to the default, and the period bar says so. */
      var odd = [];
      var pick = function (raw, allowed, fallback, what, shown) {
        var v = raw === null ? "" : raw.trim().toLowerCase();
        if (allowed.indexOf(v) >= 0) { return v; }
        if (v) { odd.push(oddValue(what, raw, shown)); }
        return fallback;
      };
      if (from === null && to === null) {
        var pr = pick(preset, ["7d", "30d", "90d", "ytd"], "30d", T("el periodo"), "30d");
        out[0] = pr; out[3] = pr; out[4] = null; out[5] = null;
      }
      out[6] = pick(p.get("source"), ["all", "system", "byok"], "all", T("el origen"), T("Todos"));
      out[7] = pick(p.get("granularity"), ["auto", "hour", "day", "week", "month"], "auto", T("la resolución"), T("Auto"));
      var slice = {};
      SLICE.forEach(function (k) {
        var vs = p.getAll(k).filter(function (v) { return v !== ""; });
        if (vs.length) { slice[k] = vs.filter(function (v, i) { return vs.indexOf(v) === i; }); }
      });
      /* The comparison: as the URL says it (a value the page does not offer reaches the server,
         whose bad-filter banner names it); the control shows it, or nothing for a value it does
         not offer, so that any choice, «Sin comparación» too, is a change that clears it (a native
         select fires no change for the option it already shows). */
      var cmp = p.get("compare") || "";
      if (["previous", "year"].indexOf(cmp.trim().toLowerCase()) >= 0) { cmp = cmp.trim().toLowerCase(); }  /* as the API reads it */
      if (cmp) { slice.compare = cmp; }
      window.aiUsageView.compare = cmp;
      out[8] = slice;
      out[9] = !cmp ? "none" : ["previous", "year"].indexOf(cmp) >= 0 ? cmp : "";
      out[10] = odd.join(" ");
      /* The view shown in their place: the notice stays while the view is that one (the URL is
         then rewritten to it, by push), and goes with the admin's first change. */
      window.aiUsageView.linkNotice = odd.length ? encode(stateView(out[3], out[4], out[5], out[6], out[7], out[8])) : null;
      return out;
    },
    /* A changed view: one history entry, once the state has settled. */
    push: function (aPreset, aStart, aEnd, source, gran, slice) {
      window.aiUsageView.compare = slice && typeof slice.compare === "string" ? slice.compare : "";
      pending = stateView(aPreset, aStart, aEnd, source, gran, slice);
      setTimeout(function () {
        if (pending === null) { return; }
        if (restoring && Date.now() - restoring < 800) { return; }  /* the URL's own view arriving */
        var want = encode(pending), have = encode(viewOf(window.location.search));
        if (want === have) { return; }
        if (window.aiUsageView.linkNotice && want !== window.aiUsageView.linkNotice && window.dash_clientside.set_props) {
          /* The link's odd values are past: the view on screen is the admin's now. */
          window.aiUsageView.linkNotice = null;
          window.dash_clientside.set_props("link-notice", { children: "" });
        }
        var hadView = viewOf(window.location.search).length > 0 || window.aiUsageView.pushed;
        if (!hadView && encode(pending) === encode(viewOf("?preset=30d"))) { return; }  /* the defaults */

        /* The entry keeps the ?token= the page was opened with (already in the entry it follows), so
           a reload of a pushed entry still opens the dashboard; no token is ever added. */
        window.history.pushState({ aiUsageView: want }, "", urlFor(pending, true));
        window.aiUsageView.pushed = true;
      }, 350);
      return nu();
    },
    /* «Copiar enlace»: the page URL as it stands, without the token. */
    copy: function (clicks) {
      if (!clicks) { return nu(); }
      var link = window.location.origin + urlFor(viewOf(window.location.search), false);
      window.aiUsageLastLink = link;
      var done = T("Enlace copiado (sin el token)");
      try {
        if (navigator.clipboard && navigator.clipboard.writeText) {
          navigator.clipboard.writeText(link).catch(function () { fallback(link); });
        } else { fallback(link); }
      } catch (e) { fallback(link); }
      return done;
    },
    /* The dropdowns from the slice and the window's options (ids.SLICE_OPTIONS), options and
       value set together, so a value (of the URL, a click) never reaches a dropdown before its
       option (Dash's dropdown drops such a value). A value the window does not hold is listed
       under its own text. No Output: set_props keeps this out of the callback graph, so nothing
       leads from the options back to the slice (docs/filters.md, the input loop). */
    show: function (slice, opts, values, options) {
      var set = window.dash_clientside && window.dash_clientside.set_props;
      if (!set) { return; }
      SELECTS.forEach(function (sel, i) {
        var want = [];
        sel[1].forEach(function (api) {
          var vs = (slice && Array.isArray(slice[api])) ? slice[api] : [];
          vs.forEach(function (v) {
            var w = sel[1].length > 1 ? api + ":" + v : v;
            if (typeof v === "string" && v !== "" && want.indexOf(w) < 0) { want.push(w); }
          });
        });
        var base = (opts && Array.isArray(opts[sel[0]])) ? opts[sel[0]] : [];
        var listed = base.map(function (o) { return o && o.value; });
        var merged = base.concat(want.filter(function (w) { return listed.indexOf(w) < 0; }).map(function (w) {
          var raw = sel[1].length > 1 ? w.slice(w.indexOf(":") + 1) : w;
          var text = raw === "none" && sel[0] === "slice-agent" ? T("Sin agente")
            : raw === "none" && sel[0] === "slice-user" ? T("Sin usuario") : raw;
          return { label: text, value: w, search: text };
        }));
        var props = {};
        if (JSON.stringify(merged) !== JSON.stringify(options[i] || [])) { props.options = merged; }
        var have = Array.isArray(values[i]) ? values[i].slice().sort() : [];
        if (JSON.stringify(want.slice().sort()) !== JSON.stringify(have)) { props.value = want; }
        if (Object.keys(props).length) { set(sel[0], props); }
      });
    },
    /* A legend entry of a Plotly donut that filters (the System/BYOK split): the clickData a
       click on its slice makes, so the same callback narrows the page; the entry does not hide
       its slice (a click filters, as on the slice). Hooked once per drawn plot. */
    hookLegend: function (graphId) {
      var tries = 0;
      (function hook() {
        var gd = document.querySelector("#" + graphId + " .js-plotly-plot");
        if (!gd || typeof gd.on !== "function") {
          if (tries++ < 40) { setTimeout(hook, 100); }
          return;
        }
        if (gd.aiUsageLegendHook) { return; }
        gd.aiUsageLegendHook = true;
        gd.on("plotly_legendclick", function (ev) {
          var trace = ev && ev.fullData && ev.fullData[ev.curveNumber];
          if (!trace || !Array.isArray(trace.labels) || ev.label === undefined) { return true; }
          var i = trace.labels.indexOf(ev.label);
          var cd = (trace.customdata || [])[i];
          if (i < 0 || !Array.isArray(cd) || !window.dash_clientside.set_props) { return true; }
          window.dash_clientside.set_props(graphId, {
            clickData: { points: [{ curveNumber: ev.curveNumber, pointNumber: i, label: ev.label, customdata: cd }] }
          });
          return false;
        });
      })();
    },
    pushed: false,
    compare: "",  /* the view's comparison, kept when a chip's ✕ rewrites the store */
    seen: null
  };

  function fallback(text) {
    var ta = document.createElement("textarea");
    ta.value = text; ta.setAttribute("readonly", ""); ta.style.position = "fixed"; ta.style.opacity = "0";
    document.body.appendChild(ta); ta.select();
    try { document.execCommand("copy"); } catch (e) { /* nothing more to try */ }
    document.body.removeChild(ta);
  }

  /* Back/forward to the very search dcc.Location last saw (the page's own URL after a reload: our
     pushState does not tell Location) changes none of its props, so no restore callback runs:
     apply that entry's view here, prop by prop, as restore would. */
  var TARGETS = [["filter-preset", "value"], ["filter-dates", "start_date"], ["filter-dates", "end_date"],
    ["filter-applied-preset", "data"], ["filter-applied-start", "data"], ["filter-applied-end", "data"],
    ["filter-source", "value"], ["filter-granularity", "value"], ["filter-slice", "data"], ["filter-compare", "value"],
    ["link-notice", "children"]];
  window.addEventListener("popstate", function () {
    if (!window.dash_clientside || !window.dash_clientside.set_props) { return; }
    if ((window.location.search || "") !== window.aiUsageView.seen) { return; }  /* Location restores it */
    var out = window.aiUsageView.restore(window.location.search);
    out.forEach(function (v, i) {
      if (v === nu()) { return; }
      var props = {};
      props[TARGETS[i][1]] = v;
      window.dash_clientside.set_props(TARGETS[i][0], props);
    });
  });

  /* A chip's ✕: the slice without that value, from the chips on screen (each carries its filter
     and value as data attributes; a chip standing for many values of one filter, their JSON list
     in data-vs), written to the store. */
  document.addEventListener("click", function (ev) {
    var x = ev.target && ev.target.closest ? ev.target.closest(".slice-chip-x") : null;
    if (!x || !window.dash_clientside || !window.dash_clientside.set_props) { return; }
    var slice = {};
    document.querySelectorAll(".slice-chip-x").forEach(function (b) {
      if (b === x) { return; }
      var f = b.getAttribute("data-f"), v = b.getAttribute("data-v"), vs = b.getAttribute("data-vs");
      var values = [];
      if (vs !== null) {
        try { values = JSON.parse(vs); } catch (e) { values = []; }
      } else if (v !== null) { values = [v]; }
      if (SLICE.indexOf(f) < 0 || !Array.isArray(values)) { return; }
      values.forEach(function (one) {
        if (typeof one === "string") { (slice[f] = slice[f] || []).push(one); }
      });
    });
    if (window.aiUsageView.compare) { slice.compare = window.aiUsageView.compare; }
    window.dash_clientside.set_props("filter-slice", { data: slice });
  });
})();

window.dash_clientside = Object.assign({}, window.dash_clientside, {
  view: {
    restore: function (search) {
      window.aiUsageView.seen = search || "";  /* the search dcc.Location holds (see popstate above) */
      return window.aiUsageView.restore(search);
    },
    push: function (a, b, c, d, e, f) { return window.aiUsageView.push(a, b, c, d, e, f); },
    copy: function (n) { return window.aiUsageView.copy(n); },
    show: function (slice, opts, va, vu, vm, vx, oa, ou, om, ox) {
      window.aiUsageView.show(slice, opts, [va, vu, vm, vx], [oa, ou, om, ox]);
    },
    hookLegend: function (figure) { window.aiUsageView.hookLegend("advanced-source-split"); }
  }
});
