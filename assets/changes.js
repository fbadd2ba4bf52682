/* «Mayores cambios» (layouts/changes.py, callbacks/changes.py): its entries drawn as plain DOM
   nodes from the data callbacks/changes.py writes to ids.CHANGES_VIEW, instead of ~170 Dash
   components re-created on every filter change (each one a store update and a React mount on
   the page's main thread). Every string is data: set with textContent and the title
   attribute, never parsed as HTML. A click writes ids.CHANGES_CLICK ({i: entry index, n: clicks
   so far}); callbacks/changes.py adds the entry's filter to the slice. The ids below are
   layouts/ids.py's (tests/test_layouts.py checks they agree). */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  changes: (function () {
    var HOST = "changes-entries", CLICK = "changes-click";
    var clicks = 0;
    function el(tag, className, text) {
      var node = document.createElement(tag);
      if (className) { node.className = className; }
      if (text !== undefined && text !== null) { node.textContent = String(text); }
      return node;
    }
    function entry(item) {
      var button = el("button", "change-item " + String(item.tone || ""));
      button.type = "button";
      button.title = String(item.title || "");
      button.setAttribute("data-api", String(item.api || ""));
      button.setAttribute("data-index", String(item.index));
      var arrow = el("span", "change-arrow", item.arrow);
      arrow.setAttribute("aria-hidden", "true");
      var who = el("span", "change-who");
      who.appendChild(el("span", "change-name", item.name));
      who.appendChild(el("span", "change-detail", item.detail));
      button.appendChild(arrow);
      button.appendChild(who);
      button.appendChild(el("span", "change-abs num", item.abs));
      button.appendChild(el("span", "change-pct num", item.pct));
      return button;
    }
    function grid(columns) {
      var out = el("div", "changes-grid");
      columns.forEach(function (column) {
        var col = el("div", "changes-col");
        col.appendChild(el("h3", "changes-title", column.title));
        (column.lists || []).forEach(function (list) {
          var box = el("div", "changes-list");
          box.appendChild(el("div", "changes-dir", list.head));
          var items = list.items || [];
          if (!items.length) { box.appendChild(el("div", "changes-none", list.none)); }
          items.forEach(function (item) { box.appendChild(entry(item)); });
          col.appendChild(box);
        });
        out.appendChild(col);
      });
      return out;
    }
    function onClick(event) {
      var button = event.target.closest ? event.target.closest("button.change-item") : null;
      if (!button || !event.currentTarget.contains(button)) { return; }
      var i = parseInt(button.getAttribute("data-index"), 10);
      if (isNaN(i)) { return; }
      clicks += 1;
      window.dash_clientside.set_props(CLICK, { data: { i: i, n: clicks } });
    }
    return {
      /* The section's data-stamp once the entries are on the page (page_timing.py waits for it). */
      draw: function (view) {
        if (!view) { return window.dash_clientside.no_update; }
        var host = document.getElementById(HOST);
        if (host) {
          if (!host.dataset.listening) {
            host.addEventListener("click", onClick);
            host.dataset.listening = "1";
          }
          var columns = view.columns || [];
          if (columns.length) { host.replaceChildren(grid(columns)); } else { host.replaceChildren(); }
        }
        return view.stamp;
      }
    };
  })()
});
