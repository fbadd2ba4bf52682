/* Clientside callbacks of the dashboard (namespace "dashboard"): browser-only work that
   needs no round-trip. Wired in callbacks/session.py, agents.py and advanced.py.
   Messages go through T("…") (assets/i18n.js): marked for pybabel, shown in the page's language. */
function T(msg) { return window.aiUsageI18n ? window.aiUsageI18n.t(msg) : msg; }
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  dashboard: {
    /* ?token= and the browser's IANA timezone into memory-only stores. Reads
       window.location directly so the first call already has both; later calls with
       the same values change nothing (no second round of data callbacks). */
    session: function (_search, oldToken, oldTz) {
      var nu = window.dash_clientside.no_update;
      /* An entry the view pushed (assets/view_url.js) has no token: the one in memory stays. */
      var token = new URLSearchParams(window.location.search || "").get("token") || oldToken || null;
      var tz = "UTC";
      try {
        tz = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
      } catch (e) { /* very old browser: UTC */ }
      return [token === oldToken ? nu : token, tz === oldTz ? nu : tz];
    },
    /* The theme the charts are drawn in ('light' | 'dark'): window.dashboardTheme resolved it
       from ?theme= (and keeps it live for 'auto'). */
    theme: function (_search, old) {
      var t = window.dashboardTheme.resolved();
      return t === old ? window.dash_clientside.no_update : t;
    },
    /* The period the sections answer (stores filter-applied-*), from the filter bar. Returns
       [appliedPreset, appliedStart, appliedEnd, pickerStart, pickerEnd, datesHidden, datesHint,
       notice, granularity, granularityOptions]; no_update wherever nothing changes, so a click
       that leaves the period as it is queries nothing. */
    applyFilters: function (preset, start, end, gran, aPreset, aStart, aEnd, options) {
      var nu = window.dash_clientside.no_update, F = window.dashboardFilters;
      var trig = (window.dash_clientside.callback_context.triggered || []).map(function (t) { return t.prop_id; });
      var datesChanged = trig.some(function (p) { return p.indexOf(F.DATES + ".") === 0; });
      var today = F.isoDay(new Date());
      var shown = aPreset === "custom" ? [aStart, aEnd] : F.presetWindow(aPreset, today);
      var out = [nu, nu, nu, nu, nu, preset !== "custom", "", "", nu, nu];
      var win;
      if (preset !== "custom") {
        if (window.aiUsageView && trig.length) { window.aiUsageView.linkDates = null; }
        if (aPreset !== preset || aStart !== null || aEnd !== null) { out[0] = preset; out[1] = null; out[2] = null; }
        win = F.presetWindow(preset, today);
      } else if (!datesChanged) {
        /* Personalizado: the picker opens on the period on screen; nothing is re-queried. */
        win = shown;
        if (start !== win[0]) { out[3] = win[0]; }
        if (end !== win[1]) { out[4] = win[1]; }
      } else {
        /* A link's impossible date reaches the picker as none (view_url.js): named all the same. */
        var link = (window.aiUsageView && window.aiUsageView.linkDates) || [null, null];
        var named = function (picked, given) { return picked || (given && !F.realIso(given) ? given : picked); };
        var refusal = F.refusal(named(start, link[0]), named(end, link[1]), today);
        if (refusal) { out[7] = refusal; return out; }
        if (window.aiUsageView) { window.aiUsageView.linkDates = null; }  /* a range applies: the link's dates are past */
        win = [start, end];
        if (shown[0] !== start || shown[1] !== end) { out[0] = "custom"; out[1] = start; out[2] = end; }
      }
      out[6] = F.untilToday(win[1], today);
      var tooLong = F.days(win[0], win[1]) > F.MAX_HOURLY_DAYS;
      if (tooLong && gran === "hour") {
        out[8] = "day";
        out[7] = T("Hora está disponible para periodos de hasta {n} días: se muestra por Día.").replace("{n}", F.MAX_HOURLY_DAYS);
      }
      out[9] = F.hourOption(options, tooLong);
      return out;
    },
    toggleAdvanced: function (_clicks, isOpen) {
      return [!isOpen, String(!isOpen)];
    },
    exportCsv: function (clicks) {
      return Boolean(clicks);
    },
    /* A grid too narrow for its columns hides the ranked ones and may pin its names
       (dashAgGridFunctions.narrowColumns, on the grid's size events). Those events can fire before dash-ag-grid attaches its
       listeners (then nothing hid them and the grid scrolled sideways): run it again whenever
       the grid's rows arrive. */
    narrow: function (_rows) {
      var trig = (window.dash_clientside.callback_context.triggered || [])[0];
      var id = trig ? trig.prop_id.split(".")[0] : null;
      var grid = window.dash_ag_grid;
      var fns = window.dashAgGridFunctions;
      if (!id || !grid || !grid.getApiAsync || !fns || !fns.narrowColumns) { return; }
      grid.getApiAsync(id).then(function (api) {
        setTimeout(function () { fns.narrowColumns({ api: api }); }, 0);
      }).catch(function () { /* grid not mounted: its own events will do it */ });
    },
    /* The search box <name>-search filters the grid <name>-grid (Agentes, Usuarios). */
    quickFilter: function (text) {
      var grid = window.dash_ag_grid && window.dash_ag_grid.getApi ? window.dash_ag_grid : null;
      var trig = (window.dash_clientside.callback_context.triggered || [])[0];
      var id = trig ? trig.prop_id.split(".")[0].replace(/-search$/, "-grid") : "agents-grid";
      if (!grid) { return; }
      try {
        grid.getApi(id).setGridOption("quickFilterText", text || "");
      } catch (e) { /* grid not mounted yet: nothing to filter */ }
    },
    /* Under the grid, after "26 filas": "4 coinciden con «ca»" while a search is active (the
       " · " before it is CSS: .chart-note span + span:not(:empty)::before). */
    searchMatches: function (shown, text, all) {
      text = (text || "").trim();
      if (!text || !all || !all.length) { return ""; }
      var n = (shown || []).length;
      var locale = window.aiUsageI18n ? window.aiUsageI18n.numberLocale : "es-ES";
      var count = new Intl.NumberFormat(locale, { useGrouping: "always" }).format(n);
      return (n === 1 ? T("{n} coincide con «{text}»") : T("{n} coinciden con «{text}»"))
        .replace("{n}", count).replace("{text}", text);
    }
  }
});

/* The filter bar's dates: helpers of applyFilters, and typed dates applied on Enter, Tab and blur
   (Dash 4's DatePickerRange applies typed text only on Enter or Tab, reverts what it cannot parse
   without a word, and accepts a reversed pair). */
window.dashboardFilters = (function () {
  var F = {
    DATES: "filter-dates", WRAP: "filter-dates-wrap", NOTICE: "filter-notice",
    MAX_HOURLY_DAYS: 92 /* queries.filters.MAX_HOURLY_DAYS (tests/test_layouts.py checks they agree) */
  };
  F.hourTooLong = function () {
    return T("Hora está disponible para periodos de hasta {n} días; elige Día, Semana o Mes").replace("{n}", F.MAX_HOURLY_DAYS);
  };
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  F.isoDay = function (d) { return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()); };
  function fromIso(s) { var p = s.split("-"); return new Date(+p[0], +p[1] - 1, +p[2]); }
  F.display = function (s) { var p = s.split("-"); return p[2] + "/" + p[1] + "/" + p[0]; };
  F.days = function (a, b) {
    var x = fromIso(a), y = fromIso(b);
    return Math.round((Date.UTC(y.getFullYear(), y.getMonth(), y.getDate()) -
                       Date.UTC(x.getFullYear(), x.getMonth(), x.getDate())) / 86400000) + 1;
  };
  /* The window a preset answers, as queries.filters.parse_filters computes it (browser timezone). */
  F.presetWindow = function (preset, today) {
    var t = fromIso(today);
    if (preset === "ytd") { return [t.getFullYear() + "-01-01", today]; }
    var n = parseInt(preset, 10) || 30;
    return [F.isoDay(new Date(t.getFullYear(), t.getMonth(), t.getDate() - (n - 1))), today];
  };
  /* Why a picked range is not applied (shown beside the inputs), or "" when it is fine. */
  F.refusal = function (start, end, today) {
    if (!start || !end) { return T("Escribe una fecha de inicio y una de fin (DD/MM/AAAA)."); }
    /* A link's date that does not exist (?from=2026-13-01): said as such, not as "after today". */
    var unreal = !F.realIso(start) ? start : (!F.realIso(end) ? end : null);
    if (unreal !== null) {
      return T("«{text}» no es una fecha válida: escríbela como DD/MM/AAAA.").replace("{text}", unreal);
    }
    if (start > today) {
      return T("La fecha de inicio ({start}) es posterior a hoy: solo el final del periodo puede pasar de hoy.")
        .replace("{start}", F.display(start));
    }
    if (start > end) {
      return T("La fecha de inicio ({start}) es posterior a la de fin ({end}): cambia una de las dos para aplicar el periodo.")
        .replace("{start}", F.display(start)).replace("{end}", F.display(end));
    }
    /* queries.filters' other limits, said here rather than as an error inside every chart. */
    if (start < "1970-01-01" || end > "2199-12-31") {
      return T("Las fechas deben estar entre el 01/01/1970 y el 31/12/2199.");
    }
    var limit = (+start.slice(0, 4) + 3) + start.slice(4);
    if (end >= limit) { return T("El periodo máximo es de 3 años: acorta el rango."); }
    return "";
  };
  F.untilToday = function (end, today) {
    if (!end || end <= today) { return ""; }
    return { type: "Span", namespace: "dash_html_components", props: { children: T("hasta hoy"),
      title: T("El periodo termina el {end}; los días después de hoy aún no tienen datos.").replace("{end}", F.display(end)) } };
  };
  /* Hora disabled, with a tooltip that says why, on a window too long for hourly buckets. */
  F.hourOption = function (options, tooLong) {
    var nu = window.dash_clientside.no_update;
    if (!options) { return nu; }
    var hour = options.filter(function (o) { return o.value === "hour"; })[0];
    if (!hour || Boolean(hour.disabled) === tooLong) { return nu; }
    return options.map(function (o) {
      if (o.value !== "hour") { return o; }
      return { value: "hour", disabled: tooLong, label: { type: "Span", namespace: "dash_html_components",
        props: { children: T("Hora"), title: tooLong ? F.hourTooLong() : "" } } };
    });
  };
  /* YYYY-MM-DD naming a day of the calendar (not 2026-13-01 nor 2026-02-30). */
  F.realIso = function (s) {
    var m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s || "");
    if (!m) { return false; }
    var d = new Date(+m[1], +m[2] - 1, +m[3]);
    return d.getFullYear() === +m[1] && d.getMonth() === +m[2] - 1 && d.getDate() === +m[3];
  };
  /* DD/MM/YYYY (also D/M/YYYY, with - or . between) to YYYY-MM-DD; null when not a real date. */
  F.parseTyped = function (text) {
    var m = /^\s*(\d{1,2})[\/.\-](\d{1,2})[\/.\-](\d{4})\s*$/.exec(text || "");
    if (!m) { return null; }
    var iso = m[3] + "-" + pad(+m[2]) + "-" + pad(+m[1]);
    return F.realIso(iso) ? iso : null;
  };
  function inputs() {
    var wrap = document.getElementById(F.WRAP);
    return wrap ? wrap.querySelectorAll("input.dash-datepicker-input") : [];
  }
  function isDateInput(el) {
    return Boolean(el && el.classList && el.classList.contains("dash-datepicker-input") &&
                   el.closest("#" + F.WRAP));
  }
  /* Both typed dates into the picker's props (applyFilters then validates the pair). */
  function commit() {
    var ins = inputs();
    if (ins.length !== 2) { return; }
    var start = F.parseTyped(ins[0].value), end = F.parseTyped(ins[1].value);
    var bad = !start ? ins[0] : (!end ? ins[1] : null);
    if (bad) {
      var text = bad.value.trim();
      window.dash_clientside.set_props(F.NOTICE, { children: text ?
        T("«{text}» no es una fecha válida: escríbela como DD/MM/AAAA.").replace("{text}", text) :
        T("Escribe una fecha de inicio y una de fin (DD/MM/AAAA).") });
      return;
    }
    window.dash_clientside.set_props(F.DATES, { start_date: start, end_date: end });
  }
  function closeCalendar() {
    var wrapper = document.getElementById(F.DATES + "-wrapper");
    if (wrapper && wrapper.getAttribute("aria-expanded") === "true") {
      document.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    }
  }
  /* Capture phase on window: runs before React's handlers, which would otherwise revert the text. */
  window.addEventListener("keydown", function (ev) {
    if ((ev.key !== "Enter" && ev.key !== "Tab") || !isDateInput(ev.target)) { return; }
    ev.stopPropagation();
    if (ev.key === "Enter") { ev.preventDefault(); closeCalendar(); }
    commit();
  }, true);
  window.addEventListener("focusout", function (ev) {
    if (!isDateInput(ev.target)) { return; }
    var to = ev.relatedTarget;
    if (to && to.closest && to.closest(".dash-datepicker-content")) { return; }  // a click in the calendar
    commit();
  }, true);
  /* The calendar's month buttons come labelled in English ("Decrease value" even there): named in
     the page's language. */
  var LABELS = null;  /* built on first use: assets/i18n.js loads after this file */
  new MutationObserver(function () {
    var wrap = document.getElementById(F.WRAP);
    if (!wrap) { return; }
    LABELS = LABELS || { "Previous month": T("Mes anterior"), "Next month": T("Mes siguiente"),
                         "Decrease value": T("Año anterior"), "Increase value": T("Año siguiente") };
    wrap.querySelectorAll(Object.keys(LABELS).map(function (k) { return "[aria-label='" + k + "']"; }).join(", ")).forEach(function (b) {
      var label = LABELS[b.getAttribute("aria-label")];
      if (label !== b.getAttribute("aria-label")) { b.setAttribute("aria-label", label); }
    });
    /* The calendar's month menu cites an id that is never rendered; its year box has no name. */
    wrap.querySelectorAll("[aria-labelledby]").forEach(function (el) {
      var refs = el.getAttribute("aria-labelledby").split(/\s+/);
      var kept = refs.filter(function (r) { return r && document.getElementById(r); });
      if (kept.length !== refs.length) { el.setAttribute("aria-labelledby", kept.join(" ")); }
    });
    wrap.querySelectorAll(".dash-datepicker-content input[type=number]:not([aria-label])").forEach(function (el) {
      el.setAttribute("aria-label", T("Año"));
    });
  }).observe(document.documentElement, {
    childList: true, subtree: true,
    // React may set aria-labelledby / aria-label on an element already in the page.
    attributes: true, attributeFilter: ["aria-labelledby", "aria-label"]
  });
  return F;
})();

/* Theme (contract §4: ?theme=light|dark|auto, light by default). The resolved theme goes on
   <html> as data-bs-theme (Bootstrap 5.3's own dark mode and this page's CSS custom properties,
   assets/10_dashboard.css) and data-ag-theme-mode (the grid's theme modes, layouts/agents.py),
   and into the session-theme store, so the server draws the charts in it. 'auto' follows
   prefers-color-scheme, also when it changes while the page is open. */
window.dashboardTheme = (function () {
  var THEMES = ["light", "dark", "auto"];
  var asked = new URLSearchParams(window.location.search || "").get("theme");
  var choice = THEMES.indexOf(asked) >= 0 ? asked : "light";
  var query = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
  var T = { choice: choice };
  T.resolved = function () {
    if (choice !== "auto") { return choice; }
    return query && query.matches ? "dark" : "light";
  };
  function apply() {
    var t = T.resolved(), root = document.documentElement;
    root.setAttribute("data-bs-theme", t);
    root.setAttribute("data-ag-theme-mode", t);
    return t;
  }
  apply();
  if (choice === "auto" && query) {
    var changed = function () {
      var t = apply();
      if (window.dash_clientside && window.dash_clientside.set_props) {
        window.dash_clientside.set_props("session-theme", { data: t });
      }
    };
    if (query.addEventListener) { query.addEventListener("change", changed); } else { query.addListener(changed); }
  }
  return T;
})();

/* Embedding (contract §4): the page tells its parent window its height on every size change,
   {type: "ai-usage:height", height}, so the panel sizes the iframe with no inner scroll bar.
   Measured on <html> (its box follows the content; scrollHeight would never shrink below the
   iframe), debounced to one message per burst of changes, sent only when the height changed.
   Target origin: the parent's, when the browser tells it (location.ancestorOrigins, else the
   referrer the parent's navigation left); "*" otherwise. The message carries no data — only
   a height in pixels — and CSP frame-ancestors (AI_USAGE_FRAME_ANCESTORS) already limits who
   can be the parent, so "*" exposes nothing worth a missing resize. */
window.dashboardEmbed = (function () {
  var E = { TYPE: "ai-usage:height", WAIT_MS: 80, last: null };
  if (window.parent === window) { return E; }
  E.targetOrigin = function () {
    try {
      var ancestors = window.location.ancestorOrigins;
      if (ancestors && ancestors.length && ancestors[0] !== "null") { return ancestors[0]; }
      if (document.referrer) { return new URL(document.referrer).origin; }
    } catch (e) { /* an opaque or malformed origin: fall back to "*" */ }
    return "*";
  };
  E.height = function () {
    return Math.ceil(document.documentElement.getBoundingClientRect().height);
  };
  var timer = null;
  function post() {
    timer = null;
    var h = E.height();
    if (h === E.last || h <= 0) { return; }
    E.last = h;
    window.parent.postMessage({ type: E.TYPE, height: h }, E.targetOrigin());
  }
  function schedule() {
    if (timer !== null) { clearTimeout(timer); }
    timer = setTimeout(post, E.WAIT_MS);
  }
  if (window.ResizeObserver) {
    var observer = new ResizeObserver(schedule);
    observer.observe(document.documentElement);
    if (document.body) { observer.observe(document.body); }
  } else {
    window.addEventListener("resize", schedule);
  }
  schedule();
  return E;
})();
