/* Clientside callbacks of the dashboard (namespace "dashboard"): browser-only work that
   needs no round-trip. Wired in callbacks/session.py, agents.py and advanced.py. */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  dashboard: {
    /* ?token= and the browser's IANA timezone into memory-only stores. Reads
       window.location directly so the first call already has both; later calls with
       the same values change nothing (no second round of data callbacks). */
    session: function (_search, oldToken, oldTz) {
      var nu = window.dash_clientside.no_update;
      var token = new URLSearchParams(window.location.search || "").get("token") || null;
      var tz = "UTC";
      try {
        tz = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
      } catch (e) { /* very old browser: UTC */ }
      return [token === oldToken ? nu : token, tz === oldTz ? nu : tz];
    },
    toggleDates: function (preset) {
      return preset !== "custom";
    },
    toggleAdvanced: function (_clicks, isOpen) {
      return [!isOpen, String(!isOpen)];
    },
    exportCsv: function (clicks) {
      return Boolean(clicks);
    },
    quickFilter: function (text) {
      var grid = window.dash_ag_grid && window.dash_ag_grid.getApi ? window.dash_ag_grid : null;
      if (!grid) { return; }
      try {
        grid.getApi("agents-grid").setGridOption("quickFilterText", text || "");
      } catch (e) { /* grid not mounted yet: nothing to filter */ }
    },
    /* Under the grid, after "26 filas": "4 coinciden con «ca»" while a search is active (the
       " · " before it is CSS: .chart-note span + span:not(:empty)::before). */
    searchMatches: function (shown, text, all) {
      text = (text || "").trim();
      if (!text || !all || !all.length) { return ""; }
      var n = (shown || []).length;
      var count = new Intl.NumberFormat("es-ES", { useGrouping: "always" }).format(n);
      return count + (n === 1 ? " coincide" : " coinciden") + " con «" + text + "»";
    }
  }
});
