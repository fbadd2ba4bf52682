/* Cell renderers for the Agentes grid (AG Grid Community: no Enterprise sparklines).
   AgentCell: avatar image, or initials in a coloured circle when there is none (or it fails
   to load), and the agent's name. Sparkline: cost per bucket as a small inline SVG. */
var dagcomponentfuncs = (window.dashAgGridComponentFunctions = window.dashAgGridComponentFunctions || {});

(function () {
  var h = React.createElement;
  function T(msg) { return window.aiUsageI18n ? window.aiUsageI18n.t(msg) : msg; }  // assets/i18n.js
  var COLOURS = ["#475569"];  // layouts/theme.py AVATAR_COLOURS: neutral, no data colour

  function initials(name) {
    // Words are runs of letters or digits: "Sobremesa · Recetas" gives "SR", not "S·".
    var words = String(name || "?").trim().split(/[^\p{L}\p{N}]+/u).filter(Boolean);
    var first = words.length ? words[0][0] : "?";
    var second = words.length > 1 ? words[1][0] : (words.length ? (words[0][1] || "") : "");
    return (first + second).toUpperCase();
  }

  function colourOf(key) {
    var hash = 0, s = String(key || "");
    for (var i = 0; i < s.length; i++) { hash = (hash * 31 + s.charCodeAt(i)) | 0; }
    return COLOURS[Math.abs(hash) % COLOURS.length];
  }

  dagcomponentfuncs.AgentCell = function (props) {
    var data = props.data || {};
    var failed = React.useState(false);
    var avatar;
    if (data.no_agent) {
      avatar = h("span", { className: "avatar avatar-none", "aria-hidden": "true" }, "—");
    } else if (data.avatar_url && !failed[0]) {
      avatar = h("img", {
        className: "avatar", src: data.avatar_url, alt: "", loading: "lazy", referrerPolicy: "no-referrer",
        onError: function () { failed[1](true); }
      });
    } else {
      avatar = h("span", {
        className: "avatar avatar-initials", style: { background: colourOf(data.agent_id || data.name) },
        "aria-hidden": "true"
      }, initials(data.name));
    }
    return h("span", { className: "agent-cell" + (data.no_agent ? " no-agent" : "") },
      // The title carries the whole name: narrow screens cut it with an ellipsis.
      avatar, h("span", { className: "agent-name",
        title: props.value + (data.agent_id ? " (" + data.agent_id + ")" : "") }, props.value));
  };

  /* Usuarios: the user id as text (React escapes it), isolated from the cells around it (dir=auto:
     an id of RTL characters cannot reorder the row), cut with "…" and whole in its title.
     «Sin usuario» (system-initiated usage) and «otros (N usuarios)» read in italics. */
  dagcomponentfuncs.UserCell = function (props) {
    var data = props.data || {};
    var cls = "user-cell" + (data.no_user ? " no-user" : "") + (data.others ? " others-row" : "");
    return h("span", { className: cls },
      h("bdi", { className: "user-name", dir: "auto", title: String(props.value) }, props.value));
  };

  /* The empty grid's message, set by the server callback (noRowsOverlayComponentParams):
     "Sin datos en este periodo", or "Datos no disponibles" when the database did not answer. */
  dagcomponentfuncs.NoRowsOverlay = function (props) {
    // The params can change after the overlay is up (rowData and options arrive apart):
    // re-read them from the grid whenever its options change.
    var api = props.api;
    var read = function () {
      var p = api && !api.isDestroyed() ? api.getGridOption("noRowsOverlayComponentParams") : null;
      return (p && p.message) || props.message || T("Sin datos en este periodo");
    };
    var state = React.useState(read);
    React.useEffect(function () {
      if (!api) { return undefined; }
      var update = function () { state[1](read()); };
      api.addEventListener("gridOptionsChanged", update);
      update();
      return function () { if (!api.isDestroyed()) { api.removeEventListener("gridOptionsChanged", update); } };
    }, [api]);
    return h("span", { className: "ag-overlay-no-rows-center", role: "status" }, state[0]);
  };

  dagcomponentfuncs.Sparkline = function (props) {
    var values = (props.value || []).map(Number);
    var w = 120, h0 = 30, pad = 3;
    if (!values.length) { return h("span", { className: "spark-empty" }, "—"); }
    var max = Math.max.apply(null, values), min = 0;
    var span = max - min || 1;
    var step = values.length > 1 ? (w - 2 * pad) / (values.length - 1) : 0;
    var pts = values.map(function (v, i) {
      var x = values.length > 1 ? pad + i * step : w / 2;
      var y = h0 - pad - ((v - min) / span) * (h0 - 2 * pad);
      return [x, y];
    });
    var line = pts.map(function (p) { return p[0].toFixed(1) + "," + p[1].toFixed(1); }).join(" ");
    var area = "M" + pts[0][0].toFixed(1) + "," + (h0 - pad) + " L" + line.replace(/ /g, " L") +
      " L" + pts[pts.length - 1][0].toFixed(1) + "," + (h0 - pad) + " Z";
    var last = pts[pts.length - 1];
    var total = values.reduce(function (a, b) { return a + b; }, 0);
    var F = window.dashAgGridFunctions, symbol = props.data && props.data.money_symbol;
    var places = props.data && props.data.money_places;
    var money = symbol ? function (v) { return F.formatMoney(v, symbol, places); } : F.formatUsd;
    var label = T("Costo por periodo: {n} periodos, máximo {max}, total {total}")
      .replace("{n}", values.length).replace("{max}", money(max))
      .replace("{total}", money(total)) +
      (props.data && props.data.spark_partial ? T(" (el último periodo es parcial)") : "");
    return h("svg", {
      className: "sparkline", width: w, height: h0, viewBox: "0 0 " + w + " " + h0, role: "img",
      "aria-label": label
    },
      h("title", null, label),
      // Colours from CSS (.spark-*: the cost colour of the page's theme, assets/10_dashboard.css).
      h("path", { className: "spark-area", d: area }),
      h("polyline", { className: "spark-line", points: line, strokeWidth: 1.5,
        strokeLinejoin: "round", strokeLinecap: "round" }),
      // A partial last period (in progress or cut by the window): hollow, as on the trend chart.
      props.data && props.data.spark_partial
        ? h("circle", { className: "spark-partial", cx: last[0], cy: last[1], r: 2.5, strokeWidth: 1.5 })
        : h("circle", { className: "spark-dot", cx: last[0], cy: last[1], r: 2.5 })
    );
  };
})();
