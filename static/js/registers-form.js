/* The registers' forms: show the counterparty kind's fields only; the clean-up fields only for an irregular
   contract; a schedule row added from the template row. Without the script every field shows and works. */
(function () {
  document.querySelectorAll("[data-counterparty]").forEach(function (box) {
    function sync() {
      var checked = box.querySelector("input[name='counterparty_kind']:checked");
      var kind = checked ? checked.value : "firm";
      box.querySelectorAll(".counterparty-fields").forEach(function (part) { part.hidden = part.dataset.kind !== kind; });
    }
    box.addEventListener("change", sync);
    sync();
  });
  var regular = document.getElementById("id_is_regular");
  if (regular) {
    var sync = function () {
      document.querySelectorAll("[data-irregular-only]").forEach(function (part) { part.hidden = regular.checked; });
    };
    regular.addEventListener("change", sync);
    sync();
  }
  var add = document.getElementById("schedule-add");
  var template = document.getElementById("schedule-row-template");
  var body = document.getElementById("schedule-rows");
  if (add && template && body) {
    add.addEventListener("click", function () {
      body.appendChild(template.content.cloneNode(true));
      var inputs = body.querySelectorAll("tr:last-child input");
      if (inputs.length) inputs[0].focus();
    });
    body.addEventListener("click", function (event) {
      var button = event.target.closest("[data-remove-row]");
      if (button) button.closest("tr").remove();
    });
  }
})();
