/* The decision page: the quorum and the votes needed, as the clerk types the counts, by the same
   rules as the services (services.decisions.needed). */
(function () {
  var box = document.getElementById("quorum");
  if (!box) return;
  function needed(rule, of) {
    if (!(of > 0)) return null;
    if (rule === "majority") return Math.floor(of / 2) + 1;
    if (rule === "two_thirds") return Math.ceil(of * 2 / 3);
    if (rule === "all") return of;
    return 0;
  }
  var expected = document.getElementById("id_expected"), attended = document.getElementById("id_attended");
  function update() {
    var a = needed(box.dataset.attendance, parseInt(expected.value, 10));
    var v = needed(box.dataset.approval, parseInt(attended.value, 10));
    document.getElementById("quorum-needed").textContent = a === null ? "—" : a;
    document.getElementById("votes-needed").textContent = v === null ? "—" : v;
  }
  expected.addEventListener("input", update);
  attended.addEventListener("input", update);
  update();
})();
