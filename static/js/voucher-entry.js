/* The voucher entry page (记账凭证录入), keyboard first.
 *
 * - Account cells search the book's accounts on the server as you type (code or part of a name);
 *   arrows move in the list, Enter picks.
 * - Enter moves to the next cell; in the last cell of a row it moves to (or adds) the next row.
 * - "=" in an empty amount cell fills the amount that balances the voucher.
 * - A debit clears the row's credit and the other way round.
 * - An empty summary takes the one of the line above when the cell is entered.
 * - The footer keeps the debit and credit totals and their difference; the save buttons stay
 *   disabled until the difference is 0.00 (the server refuses an unbalanced voucher anyway).
 * - Ctrl+S saves.
 * Amounts are counted in fen (integers), never in floating yuan.
 */
(function () {
  "use strict";
  var form = document.getElementById("voucher-form");
  if (!form) return;
  var rows = document.getElementById("voucher-rows");
  var template = document.getElementById("voucher-row-template");
  var searchUrl = form.getAttribute("data-search-url");
  var year = form.getAttribute("data-year") || "";
  var saveButtons = form.querySelectorAll("button[type=submit]");
  var hint = document.getElementById("voucher-hint");

  /* --- Money in fen -------------------------------------------------------------------------- */

  function toFen(text) {
    var value = (text || "").replace(/[,，\s¥￥]/g, "");
    if (value === "") return 0;
    var match = /^(\d*)(?:\.(\d{0,2}))?$/.exec(value);
    if (!match || (match[1] === "" && !match[2])) return NaN;
    var fen = (match[2] || "") + "00";
    return parseInt(match[1] || "0", 10) * 100 + parseInt(fen.slice(0, 2), 10);
  }

  function yuan(fen, grouped) {
    var sign = fen < 0 ? "-" : "";
    fen = Math.abs(fen);
    var whole = String(Math.floor(fen / 100));
    if (grouped) whole = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    var cents = String(fen % 100);
    return sign + whole + "." + (cents.length < 2 ? "0" + cents : cents);
  }

  /* --- Totals -------------------------------------------------------------------------------- */

  function lineRows() {
    return Array.prototype.slice.call(rows.querySelectorAll("tr.voucher-line"));
  }

  function sums(except) {
    var debit = 0, credit = 0, bad = false;
    lineRows().forEach(function (row) {
      ["debit", "credit"].forEach(function (side) {
        var input = row.querySelector(".line-" + side);
        if (input === except) return;
        var fen = toFen(input.value);
        if (isNaN(fen)) { bad = true; return; }
        if (side === "debit") debit += fen; else credit += fen;
      });
    });
    return {debit: debit, credit: credit, bad: bad};
  }

  function recount() {
    var total = sums(null);
    var difference = total.debit - total.credit;
    document.getElementById("total-debit").textContent = yuan(total.debit, true);
    document.getElementById("total-credit").textContent = yuan(total.credit, true);
    var out = document.getElementById("total-difference");
    out.textContent = yuan(difference, true);
    var balanced = !total.bad && difference === 0 && total.debit > 0;
    out.classList.toggle("unbalanced", !balanced);
    out.classList.toggle("balanced", balanced);
    saveButtons.forEach(function (button) { button.disabled = !balanced; });
    if (hint) hint.hidden = balanced;
    lineRows().forEach(function (row) {
      row.querySelectorAll(".line-amount").forEach(function (input) {
        input.classList.toggle("is-invalid", isNaN(toFen(input.value)));
      });
    });
    return balanced;
  }

  /* --- Rows ---------------------------------------------------------------------------------- */

  function renumber() {
    lineRows().forEach(function (row, index) { row.querySelector(".col-n").textContent = index + 1; });
  }

  function addRow(after) {
    var fragment = template.content.cloneNode(true);
    var row = fragment.querySelector("tr");
    if (after && after.nextSibling) rows.insertBefore(fragment, after.nextSibling); else rows.appendChild(fragment);
    renumber();
    return row;
  }

  function cells(row) {
    return [row.querySelector(".line-summary"), row.querySelector(".line-account-text"),
            row.querySelector(".line-debit"), row.querySelector(".line-credit")];
  }

  function focusCell(input) {
    input.focus();
    if (input.select) input.select();
  }

  function nextCell(input) {
    var row = input.closest("tr");
    var list = cells(row);
    var index = list.indexOf(input);
    if (index === 2 && input.value && !row.querySelector(".line-credit").value) index = 3;  // a debit row ends here
    if (index < list.length - 1) { focusCell(list[index + 1]); return; }
    var next = row.nextElementSibling || addRow(row);
    focusCell(next.querySelector(".line-summary"));
  }

  document.getElementById("line-add").addEventListener("click", function () {
    var row = addRow(null);
    focusCell(row.querySelector(".line-summary"));
  });

  rows.addEventListener("click", function (event) {
    var button = event.target.closest(".line-remove");
    if (!button) return;
    var row = button.closest("tr");
    if (lineRows().length > 2) {
      row.remove();
    } else {
      cells(row).forEach(function (input) { input.value = ""; });
      row.querySelector(".line-account").value = "";
    }
    renumber();
    recount();
  });

  /* --- Account type-ahead -------------------------------------------------------------------- */

  var searchTimer = null, searchSeq = 0;

  function listOf(input) { return input.parentNode.querySelector(".account-suggest"); }

  function closeList(input) {
    var list = listOf(input);
    list.hidden = true;
    list.innerHTML = "";
    input.setAttribute("aria-expanded", "false");
  }

  function pick(input, item) {
    input.parentNode.querySelector(".line-account").value = item.getAttribute("data-value");
    input.value = item.getAttribute("data-label");
    input.classList.remove("is-invalid");
    closeList(input);
  }

  function active(list) { return list.querySelector("li.active"); }

  function move(list, step) {
    var items = Array.prototype.slice.call(list.querySelectorAll("li[data-value]"));
    if (!items.length) return;
    var index = items.indexOf(active(list));
    if (index >= 0) items[index].classList.remove("active");
    index = (index + step + items.length) % items.length;
    items[index].classList.add("active");
    items[index].scrollIntoView({block: "nearest"});
  }

  function search(input) {
    var seq = ++searchSeq;
    var text = input.value.trim();
    var url = searchUrl + "?q=" + encodeURIComponent(text) + (year ? "&year=" + encodeURIComponent(year) : "");
    input.dataset.searching = "1";
    fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (response) { return response.json(); })
      .then(function (data) {
        if (seq !== searchSeq || document.activeElement !== input) return;
        var list = listOf(input);
        list.innerHTML = "";
        data.results.forEach(function (result, index) {
          var item = document.createElement("li");
          item.setAttribute("role", "option");
          item.setAttribute("data-value", result.value);
          item.setAttribute("data-label", result.label);
          item.setAttribute("data-code", result.code);
          item.textContent = result.label;
          var side = document.createElement("span");
          side.className = "side";
          side.textContent = result.side;
          item.appendChild(side);
          if (index === 0) item.classList.add("active");
          list.appendChild(item);
        });
        if (!data.results.length) {
          var none = document.createElement("li");
          none.className = "none";
          none.textContent = form.getAttribute("data-no-match");
          list.appendChild(none);
        }
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
      })
      .catch(function () {})
      .then(function () { if (seq === searchSeq) delete input.dataset.searching; });
    return seq;
  }

  rows.addEventListener("input", function (event) {
    var input = event.target;
    if (input.classList.contains("line-account-text")) {
      input.parentNode.querySelector(".line-account").value = "";
      clearTimeout(searchTimer);
      searchTimer = setTimeout(function () { search(input); }, 120);
      return;
    }
    if (input.classList.contains("line-amount")) {
      if (input.value.trim() !== "") {
        var other = input.closest("tr").querySelector(input.classList.contains("line-debit") ? ".line-credit" : ".line-debit");
        other.value = "";
      }
      recount();
    }
  });

  rows.addEventListener("mousedown", function (event) {
    var item = event.target.closest(".account-suggest li[data-value]");
    if (!item) return;
    event.preventDefault();
    var input = item.closest(".account-picker").querySelector(".line-account-text");
    pick(input, item);
    nextCell(input);
  });

  rows.addEventListener("focusout", function (event) {
    var input = event.target;
    if (input.classList.contains("line-account-text")) {
      setTimeout(function () { if (document.activeElement !== input) closeList(input); }, 150);
    }
    if (input.classList.contains("line-amount")) {
      var fen = toFen(input.value);
      if (input.value.trim() !== "" && !isNaN(fen)) input.value = fen ? yuan(fen, false) : "";
      recount();
    }
  });

  rows.addEventListener("focusin", function (event) {
    var input = event.target;
    if (input.classList.contains("line-summary") && input.value === "") {
      var above = input.closest("tr").previousElementSibling;
      var summary = above && above.querySelector(".line-summary").value;
      if (summary) { input.value = summary; input.select(); }
    }
  });

  /* --- Keys ---------------------------------------------------------------------------------- */

  rows.addEventListener("keydown", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input")) return;
    var isAccount = input.classList.contains("line-account-text");
    if (isAccount) {
      var list = listOf(input);
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (list.hidden) search(input); else move(list, event.key === "ArrowDown" ? 1 : -1);
        event.preventDefault();
        return;
      }
      if (event.key === "Escape" && !list.hidden) { closeList(input); event.preventDefault(); return; }
      if (event.key === "Enter") {
        event.preventDefault();
        var item = !list.hidden && active(list);
        if (item) { pick(input, item); nextCell(input); return; }
        if (input.parentNode.querySelector(".line-account").value) { nextCell(input); return; }
        // Typed faster than the list came: search now and pick the first result.
        clearTimeout(searchTimer);
        var seq = search(input);
        var wait = setInterval(function () {
          if (seq !== searchSeq) { clearInterval(wait); return; }
          if (input.dataset.searching) return;
          clearInterval(wait);
          var first = listOf(input).querySelector("li[data-value]");
          if (first) { pick(input, first); nextCell(input); }
        }, 30);
        return;
      }
      return;
    }
    if (input.classList.contains("line-amount") && event.key === "=") {
      event.preventDefault();
      var row = input.closest("tr");
      var others = sums(null);
      var debitInput = row.querySelector(".line-debit"), creditInput = row.querySelector(".line-credit");
      var debitHere = toFen(debitInput.value) || 0, creditHere = toFen(creditInput.value) || 0;
      // What the other lines leave: positive wants a credit here, negative a debit.
      var rest = (others.debit - debitHere) - (others.credit - creditHere);
      if (rest === 0) return;
      debitInput.value = rest < 0 ? yuan(-rest, false) : "";
      creditInput.value = rest > 0 ? yuan(rest, false) : "";
      recount();
      focusCell(rest > 0 ? creditInput : debitInput);
      return;
    }
    if (event.key === "Enter") {
      event.preventDefault();
      nextCell(input);
    }
  });

  document.addEventListener("keydown", function (event) {
    if ((event.ctrlKey || event.metaKey) && (event.key === "s" || event.key === "S")) {
      event.preventDefault();
      var save = document.getElementById("voucher-save");
      if (recount() && form.requestSubmit) form.requestSubmit(save);
      else if (hint) hint.classList.add("flash");
    }
  });

  // Enter in the head (date, attachments) moves on to the first line instead of submitting.
  form.querySelectorAll(".voucher-head input").forEach(function (input) {
    input.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") return;
      event.preventDefault();
      if (input.id === "id_date") focusCell(document.getElementById("id_attachments"));
      else focusCell(rows.querySelector(".line-summary"));
    });
  });

  form.addEventListener("submit", function (event) {
    if (!recount()) event.preventDefault();
  });

  /* --- A new sub-account, without leaving the voucher ------------------------------------------ */

  var subForm = document.getElementById("sub-account-form");
  if (subForm && window.fetch) {
    subForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var result = subForm.querySelector(".sub-account-result");
      fetch(subForm.action, {method: "POST", body: new FormData(subForm), credentials: "same-origin",
                             headers: {"Accept": "application/json"}})
        .then(function (response) { return response.json(); })
        .then(function (data) {
          result.classList.toggle("text-danger", !!data.errors);
          result.textContent = data.errors ? data.errors.join(" ") : "✓ " + data.label;
          if (!data.errors) subForm.reset();
        });
    });
  }

  recount();
  var firstEmpty = lineRows().find(function (row) { return !row.querySelector(".line-account").value; });
  var dateInput = document.getElementById("id_date");
  if (!form.querySelector(".form-error-summary") && dateInput) dateInput.focus();
  else if (firstEmpty) firstEmpty.querySelector(".line-summary").focus();
})();
