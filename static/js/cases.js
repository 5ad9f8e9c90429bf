/* Case pages: the category filter box, the grid picker's duplicate re-check, list filters that apply at once. */
(function () {
  "use strict";

  // The category filter: hide the options (and empty groups) that do not match; Enter or ↓ goes to the select.
  function filterCategories(input) {
    var select = document.querySelector(input.getAttribute("data-filters"));
    if (!select) return;
    var text = input.value.trim().toLowerCase();
    var matches = [];
    Array.prototype.forEach.call(select.querySelectorAll("option"), function (option) {
      if (!option.value) return;
      var group = option.parentNode.tagName === "OPTGROUP" ? option.parentNode.label : "";
      var hit = !text || option.textContent.toLowerCase().indexOf(text) >= 0 || group.toLowerCase().indexOf(text) >= 0;
      option.hidden = !hit;
      option.disabled = !hit;
      if (hit) matches.push(option);
    });
    Array.prototype.forEach.call(select.querySelectorAll("optgroup"), function (group) {
      group.hidden = !Array.prototype.some.call(group.children, function (option) { return !option.hidden; });
    });
    if (text && matches.length === 1 && select.value !== matches[0].value) {
      select.value = matches[0].value;
      select.dispatchEvent(new Event("change", { bubbles: true }));
    }
  }

  document.addEventListener("input", function (event) {
    if (event.target.classList && event.target.classList.contains("category-filter")) filterCategories(event.target);
  });
  document.addEventListener("keydown", function (event) {
    var input = event.target;
    if (!input.classList || !input.classList.contains("category-filter")) return;
    if (event.key === "Enter" || event.key === "ArrowDown") {
      // Enter here picks, it does not submit the half-filled form.
      event.preventDefault();
      var select = document.querySelector(input.getAttribute("data-filters"));
      if (select) {
        if (!select.value) {
          var first = select.querySelector("option:not([hidden]):not([value=''])");
          if (first) {
            select.value = first.value;
            select.dispatchEvent(new Event("change", { bubbles: true }));
          }
        }
        select.focus();
      }
    }
  });

  // The grid picker's search box: Enter picks (never submits); a grid chosen for the user by the
  // search (the only match) counts as a change, so the duplicate warning is checked again.
  document.addEventListener("keydown", function (event) {
    var input = event.target;
    if (input.classList && input.classList.contains("search-select-q") && event.key === "Enter") {
      event.preventDefault();
      var select = input.parentNode.querySelector("select");
      if (select) select.focus();
    }
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (!target || target.tagName !== "SELECT" || target.id !== "id_grid") return;
    if (target.value && target.value !== target.getAttribute("data-kept")) {
      target.dispatchEvent(new Event("change", { bubbles: true }));
    }
  });

  // List filters: a ticked box or a chosen day applies at once, like the selects (portal.js).
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (!field.form || !field.form.classList.contains("case-filters")) return;
    if (field.type === "checkbox" || field.type === "date") field.form.requestSubmit();
  });
})();
