/* Print buttons and the printed-on stamp, for the portal and the stand-alone print pages.
   A button with data-print prints the page (no onclick attribute: the Content-Security-Policy
   runs no inline script). An element #printed-on with data-label gets "label YYYY-MM-DD" just
   before printing: the sheet on the notice board says the day it was printed. */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-print]");
    if (button) {
      event.preventDefault();
      window.print();
    }
  });
  var stamp = document.getElementById("printed-on");
  if (stamp && stamp.dataset.label) {
    window.addEventListener("beforeprint", function () {
      var d = new Date(), pad = function (n) { return (n < 10 ? "0" : "") + n; };
      stamp.textContent = stamp.dataset.label + " " + d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate());
    });
  }
})();
