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
