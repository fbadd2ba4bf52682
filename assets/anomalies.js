/* Anomalías (callbacks/anomalies.py): a click on a listed anomaly narrows the page to its local
   day — Personalizado with that day as both dates, through the filter bar's own controls, so
   applyFilters (dashboard.js) validates and applies it as if typed — and adds the anomaly's
   first contributor to the slice store (filter-slice: {"agentId": [...], "model": [...],
   "actionType": [...]}, API parameter names; "none" = rows without an agent). */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  anomalies: {
    select: function (clicks, data, slice) {
      var nu = window.dash_clientside.no_update;
      var ctx = window.dash_clientside.callback_context;
      var trig = (ctx.triggered || []).filter(function (t) { return t.value; });
      if (!trig.length || !data) { return [nu, nu, nu, nu]; }
      var id;
      try { id = JSON.parse(trig[0].prop_id.split(".n_clicks")[0]); } catch (e) { return [nu, nu, nu, nu]; }
      var item = data[id.index];
      if (!item) { return [nu, nu, nu, nu]; }
      var next = nu;
      if (item.slice) {
        next = Object.assign({}, slice || {});
        var values = (next[item.slice.key] || []).slice();
        if (values.indexOf(item.slice.value) < 0) { values.push(item.slice.value); }
        next[item.slice.key] = values;
      }
      return ["custom", item.date, item.date, next];
    }
  }
});
