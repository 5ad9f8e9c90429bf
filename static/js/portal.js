/* Yiwang staff pages: the few behaviours Bootstrap and htmx do not give us. */
(function () {
  "use strict";

  // Sidebar. From md up the menu button collapses the rail to icons and the choice is remembered
  // in this browser; on a phone the rail is an off-canvas panel (Bootstrap's offcanvas-md) that
  // the same button opens over the page.
  var toggle = document.getElementById("sidebar-toggle");
  var sidebar = document.getElementById("portal-sidebar");
  if (toggle && sidebar) {
    var root = document.documentElement;
    var phone = window.matchMedia("(max-width: 767.98px)");
    var sync = function () {
      var open = phone.matches ? sidebar.classList.contains("show") : !root.classList.contains("sidebar-collapsed");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    };
    sync();
    toggle.addEventListener("click", function () {
      if (phone.matches && window.bootstrap) {
        window.bootstrap.Offcanvas.getOrCreateInstance(sidebar).toggle();
        return;
      }
      root.classList.add("sidebar-animate");
      window.setTimeout(function () { root.classList.remove("sidebar-animate"); }, 300);
      root.classList.toggle("sidebar-collapsed");
      localStorage.setItem("yiwang.sidebar", root.classList.contains("sidebar-collapsed") ? "collapsed" : "open");
      sync();
    });
    sidebar.addEventListener("shown.bs.offcanvas", sync);
    sidebar.addEventListener("hidden.bs.offcanvas", sync);
    if (phone.addEventListener) phone.addEventListener("change", sync);
  }

  // Filter bars: a changed select applies at once (the form still works without JS).
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (select.tagName === "SELECT" && select.form && select.form.hasAttribute("data-autosubmit")) {
      // A changed upper level makes the lower pickers stale: clear them before submitting.
      var order = (select.form.getAttribute("data-cascade") || "").split(" ");
      var index = order.indexOf(select.name);
      if (index >= 0) {
        order.slice(index + 1).forEach(function (name) {
          var lower = select.form.elements[name];
          if (lower) lower.value = "";
        });
      }
      select.form.requestSubmit();
    }
  });
})();

/* Part 2: forms that ask once before a consequential action (data-confirm="question"). */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });
  // One button of a form that asks first (data-confirm-click="question"), the form's other buttons not.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-confirm-click]");
    if (button && !window.confirm(button.getAttribute("data-confirm-click"))) event.preventDefault();
  });
})();

/* Part 2: a select refilled by a server search (the portal's SearchSelect) keeps the choice the
   user already made when it is still among the new options, and takes the only match. */
(function () {
  "use strict";
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (target && target.tagName === "SELECT") target.setAttribute("data-kept", target.value);
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (!target || target.tagName !== "SELECT") return;
    var kept = target.getAttribute("data-kept");
    var values = Array.prototype.map.call(target.options, function (option) { return option.value; });
    var real = values.filter(function (value) { return value !== ""; });
    if (kept && values.indexOf(kept) >= 0) target.value = kept;
    else if (real.length === 1) target.value = real[0];
  });
})();

/* Phones: a list table with the table-cards class shows each row as a card, each cell under the
   name of its column (portal.css draws data-label). The names are taken from the table's own
   header row here, once for every table, so no template repeats them; a cell that already has
   a data-label keeps it. */
(function () {
  "use strict";
  function headerLabels(table) {
    var rows = table.tHead ? table.tHead.rows : [];
    if (!rows.length) return [];
    var labels = [];
    Array.prototype.forEach.call(rows[rows.length - 1].cells, function (th) {
      var copy = th.cloneNode(true);
      Array.prototype.forEach.call(copy.querySelectorAll(".visually-hidden"), function (hidden) { hidden.remove(); });
      var text = copy.textContent.replace(/\s+/g, " ").trim();
      for (var span = 0; span < (th.colSpan || 1); span++) labels.push(text);
    });
    return labels;
  }
  function labelTables(root) {
    if (!root || !root.querySelectorAll) return;
    var tables = root.matches && root.matches("table.table-cards") ? [root] : root.querySelectorAll("table.table-cards");
    Array.prototype.forEach.call(tables, function (table) {
      var labels = headerLabels(table);
      Array.prototype.forEach.call(table.querySelectorAll(":scope > tbody > tr, :scope > tfoot > tr"), function (row) {
        var column = 0;
        Array.prototype.forEach.call(row.cells, function (cell) {
          if (!cell.hasAttribute("data-label") && labels[column]) cell.setAttribute("data-label", labels[column]);
          column += cell.colSpan || 1;
        });
      });
    });
  }
  labelTables(document);
  document.addEventListener("htmx:load", function (event) { labelTables(event.detail.elt); });
})();

/* Phones: a filter bar shows its search box and a "筛选" button; the other filters fold away
   until the button opens them (portal.css hides them below md only where this script runs). The
   button counts the filters in use. An opened bar stays open while its list reloads (htmx
   swaps the bar too) and when the page is opened again in this tab. */
(function () {
  "use strict";
  var KEY = "yiwang.filters-open";
  function openPaths() {
    try { return JSON.parse(sessionStorage.getItem(KEY) || "[]"); } catch (error) { return []; }
  }
  function remember(open) {
    var paths = openPaths().filter(function (path) { return path !== location.pathname; });
    if (open) paths.push(location.pathname);
    try { sessionStorage.setItem(KEY, JSON.stringify(paths.slice(-20))); } catch (error) { /* private mode */ }
  }
  function inUse(form) {
    var count = 0;
    Array.prototype.forEach.call(form.querySelectorAll(".filter-field:not(.filter-search)"), function (field) {
      var control = field.querySelector("select, input");
      if (!control || control.disabled) return;
      if (control.type === "checkbox" ? control.checked : control.value) count++;
    });
    return count;
  }
  function setOpen(form, open) {
    form.classList.toggle("is-open", open);
    var button = form.querySelector(".portal-filters-toggle");
    if (button) button.setAttribute("aria-expanded", open ? "true" : "false");
  }
  function prepare(root) {
    if (!root || !root.querySelectorAll) return;
    var open = openPaths().indexOf(location.pathname) >= 0;
    Array.prototype.forEach.call(root.querySelectorAll("form.portal-filters"), function (form) {
      var button = form.querySelector(".portal-filters-toggle");
      if (!button) return;
      var count = inUse(form);
      var badge = button.querySelector(".count");
      if (badge) {
        badge.textContent = count ? String(count) : "";
        badge.hidden = !count;
      }
      setOpen(form, open);
    });
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".portal-filters-toggle");
    if (!button || !button.form) return;
    var open = !button.form.classList.contains("is-open");
    setOpen(button.form, open);
    remember(open);
  });
  prepare(document);
  document.addEventListener("htmx:load", function (event) { prepare(event.detail.elt); });
})();

/* Phones: a row of tabs too wide for the screen scrolls sideways; start it at the active tab. */
(function () {
  "use strict";
  function reveal(root) {
    if (!root || !root.querySelectorAll) return;
    Array.prototype.forEach.call(root.querySelectorAll(".portal-tabs"), function (tabs) {
      var active = tabs.querySelector("a.active");
      if (active && tabs.scrollWidth > tabs.clientWidth) {
        // The row is positioned (portal.css): the tab's offsetLeft counts from the row's start.
        tabs.scrollLeft = Math.max(0, active.offsetLeft - 24);
      }
    });
  }
  reveal(document);
  document.addEventListener("htmx:load", function (event) { reveal(event.detail.elt); });
})();
