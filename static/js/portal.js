/* Yiwang staff pages: the few behaviours Bootstrap and htmx do not give us. */
(function () {
  "use strict";

  // Sidebar: collapse to icons and remember the choice in this browser.
  var toggle = document.getElementById("sidebar-toggle");
  if (toggle) {
    var root = document.documentElement;
    var sync = function () {
      toggle.setAttribute("aria-expanded", root.classList.contains("sidebar-collapsed") ? "false" : "true");
    };
    sync();
    toggle.addEventListener("click", function () {
      root.classList.toggle("sidebar-collapsed");
      localStorage.setItem("yiwang.sidebar", root.classList.contains("sidebar-collapsed") ? "collapsed" : "open");
      sync();
    });
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
