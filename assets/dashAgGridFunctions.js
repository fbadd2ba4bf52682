/* Value formatters and comparators for the Agentes grid: the page's number format in its
   language (<html lang>, see assets/i18n.js), as layouts/fmt.py: es "US$ 1.234,56", "1,4M",
   "2,3 mil M"; en "$1,234.56", "1.4M", "2.3B"; always grouped. */
var dagfuncs = (window.dashAgGridFunctions = window.dashAgGridFunctions || {});

(function () {
  function T(msg) { return window.aiUsageI18n ? window.aiUsageI18n.t(msg) : msg; }  // assets/i18n.js
  function english() { return Boolean(window.aiUsageI18n && window.aiUsageI18n.lang === "en"); }
  function fmtNumber(x, decimals) {
    return new Intl.NumberFormat(english() ? "en-US" : "es-ES", {
      minimumFractionDigits: decimals, maximumFractionDigits: decimals, useGrouping: "always"
    }).format(x);
  }
  /* decimals: 2 by default; 4 for the unit costs (a call costs fractions of a cent). */
  dagfuncs.formatUsd = function (x, decimals) {
    if (x === null || x === undefined || isNaN(x)) { return "—"; }
    var d = decimals === undefined ? 2 : decimals, tiny = 0.5 * Math.pow(10, -d);
    if (english()) {
      if (x > 0 && x < tiny) { return "< $" + fmtNumber(Math.pow(10, -d), d); }
      return (x < 0 ? "-$" : "$") + fmtNumber(Math.abs(x), d);
    }
    if (x > 0 && x < tiny) { return "< US$ " + fmtNumber(Math.pow(10, -d), d); }
    return "US$ " + fmtNumber(x, d);
  };
  /* Another display currency (?currency=EUR), the amount already converted, as layouts/fmt.py's
     Money.format: es "1.135,80 €" (symbol after), en "€1,135.80" ("GBP 1.00" for a bare code). */
  dagfuncs.formatMoney = function (x, symbol, decimals) {
    if (x === null || x === undefined || isNaN(x)) { return "—"; }
    var d = decimals === undefined ? 2 : decimals;
    function put(sign, n) {
      if (!english()) { return sign + n + " " + symbol; }
      return sign + symbol + (/^[A-Za-z]+$/.test(symbol) ? " " : "") + n;
    }
    if (x > 0 && x < 0.5 * Math.pow(10, -d)) { return "< " + put("", fmtNumber(Math.pow(10, -d), d)); }
    return put(x < 0 ? "-" : "", fmtNumber(Math.abs(x), d));
  };
  /* Δ % (a percentage) against the earlier period: "+12,5 %" / "−3,0 %"; "nuevo" without earlier
     cost. The cell (formatDelta) drops the decimal past ±1.000 %, where it says nothing more
     and would not fit the column; the hover (deltaTooltip) keeps it. */
  function signedPct(x, decimals) {
    return (x > 0 ? "+" : x < 0 ? "−" : "") + fmtNumber(Math.abs(x), decimals) + (english() ? "%" : " %");
  }
  dagfuncs.deltaTooltip = function (x, data) {
    if (x === null || x === undefined || isNaN(x)) {
      return data && data.previous_cost_usd === 0 && data.cost_usd > 0 ? T("nuevo") : "—";
    }
    return signedPct(x, 1);
  };
  dagfuncs.formatDelta = function (x, data) {
    if (x === null || x === undefined || isNaN(x)) { return dagfuncs.deltaTooltip(x, data); }
    return signedPct(x, Math.abs(x) >= 1000 ? 0 : 1);
  };
  dagfuncs.formatInt = function (x) {
    if (x === null || x === undefined || isNaN(x)) { return "—"; }
    return fmtNumber(Math.round(x), 0);
  };
  dagfuncs.formatCompact = function (x) {
    if (x === null || x === undefined || isNaN(x)) { return "—"; }
    var steps = english() ? [[1e9, "B"], [1e6, "M"], [1e3, "K"]] : [[1e9, " mil M"], [1e6, "M"], [1e3, "K"]];
    var zero = english() ? /\.0$/ : /,0$/;
    for (var i = 0; i < steps.length; i++) {
      if (Math.abs(x) >= steps[i][0] * 0.9995) {
        var v = x / steps[i][0];
        var text = fmtNumber(v, Math.abs(v) >= 100 ? 0 : 1).replace(zero, "");
        return text + steps[i][1];
      }
    }
    return fmtNumber(x, 0);
  };
  /* "Sin agente" sorts last in both directions (AG Grid negates the result for a descending
     sort, so the sign is flipped back there); names compare in Spanish. */
  dagfuncs.compareNames = function (a, b, nodeA, nodeB, isDescending) {
    var na = nodeA && nodeA.data && (nodeA.data.no_agent || nodeA.data.no_user);
    var nb = nodeB && nodeB.data && (nodeB.data.no_agent || nodeB.data.no_user);
    if (na !== nb) { return (na ? 1 : -1) * (isDescending ? -1 : 1); }
    return String(a || "").localeCompare(String(b || ""), english() ? "en" : "es", { sensitivity: "base" });
  };
  /* Sparkline column: sort by the change between the second and the first half of the window. */
  dagfuncs.trendOf = function (series) {
    if (!series || !series.length) { return 0; }
    var half = Math.floor(series.length / 2), a = 0, b = 0;
    for (var i = 0; i < series.length; i++) { if (i < half) { a += series[i]; } else { b += series[i]; } }
    return b / Math.max(series.length - half, 1) - a / Math.max(half, 1);
  };
  dagfuncs.compareTrend = function (a, b) {
    return dagfuncs.trendOf(a) - dagfuncs.trendOf(b);
  };
  /* Search: accents and case do not matter («deteccion» finds «Detección»). AG Grid calls the
     parser once per search text and the matcher per row with its joined cell text. */
  dagfuncs.fold = function (text) {
    return String(text === null || text === undefined ? "" : text)
      .normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  };
  dagfuncs.quickFilterParts = function (text) {
    return dagfuncs.fold(text).split(/\s+/).filter(Boolean);
  };
  dagfuncs.quickFilterMatches = function (parts, rowText) {
    var row = dagfuncs.fold(rowText);
    return parts.every(function (p) { return row.indexOf(p) !== -1; });
  };
  /* A grid narrower than its columns' minWidths first hides the columns marked
     context.narrow, lowest rank first (1: the unit costs, 2: p95; they stay in the CSV), until
     the rest fit; if even the rest do not fit (a phone, a narrow panel), the column marked
     context.pin stays pinned to the left while the others scroll sideways under it, so every
     row keeps its name. A wider grid gets everything back, unpinned; the CSV keeps every
     column (its columnKeys name them). layouts/grids.py: NARROW, NARROW_LATER, PIN_NARROW. */
  dagfuncs.narrowColumns = function (params) {
    var api = params && params.api;
    if (!api || api.isDestroyed()) { return; }
    var cols = (api.getColumns() || []).filter(function (c) { return !c.getColDef().hide; });
    var ranked = cols.filter(function (c) { var x = c.getColDef().context; return x && x.narrow; });
    var pinned = cols.filter(function (c) { var x = c.getColDef().context; return x && x.pin; });
    if (!ranked.length && !pinned.length) { return; }
    /* gridSizeChanged carries the width; the other events do not, and the grid's id is not
       the element's (dash-ag-grid numbers its grids): the viewport's pixel range is the width. */
    var range = null;
    try { range = api.getHorizontalPixelRange(); } catch (e) { range = null; }
    var el = document.getElementById(api.getGridId());
    var width = params.clientWidth || 0;
    if (!width && range) {  /* the centre's range leaves out the columns pinned now: add them back */
      width = range.right - range.left;
      pinned.forEach(function (c) { if (c.getPinned() === "left") { width += c.getActualWidth(); } });
    }
    width = width || (el ? el.clientWidth : 0);
    if (!width) { return; }
    var need = 0;
    cols.forEach(function (c) { need += c.getColDef().minWidth || 100; });
    var rank = function (c) { var n = c.getColDef().context.narrow; return n === true ? 1 : Number(n) || 1; };
    var ranks = ranked.map(rank).filter(function (r, i, all) { return all.indexOf(r) === i; });
    ranks.sort(function (a, b) { return a - b; });
    var hide = [];
    ranks.forEach(function (r) {
      if (need <= width) { return; }
      ranked.forEach(function (c) {
        if (rank(c) === r) { hide.push(c); need -= c.getColDef().minWidth || 100; }
      });
    });
    var show = ranked.filter(function (c) { return hide.indexOf(c) < 0; });
    if (hide.length) { api.setColumnsVisible(hide, false); }
    if (show.length) { api.setColumnsVisible(show, true); }
    if (pinned.length) { api.setColumnsPinned(pinned, need > width ? "left" : null); }
  };
  /* A column's CSV header: its csvName (the currency said: "Costo/ejec. (USD)") or its header. */
  dagfuncs.csvHeader = function (params) {
    var def = params.column.getColDef(), extra = def.headerComponentParams || {};
    return extra.csvName || def.headerName || def.field;
  };
  /* CSV export: a text cell a spreadsheet would read as a formula (= + - @ tab CR first) gets a
     leading ' (OWASP, CSV injection); numbers go out raw (dot decimal, full precision). */
  dagfuncs.csvSafeCell = function (params) {
    var v = params.value;
    if (v === null || v === undefined) { return ""; }
    if (typeof v === "string" && /^[=+\-@\t\r]/.test(v)) { return "'" + v; }
    return v;
  };
})();
