// Roster import in the admin: while the server reads and checks (or writes) the file, show
// that it is working and for how long, and keep the form from being sent twice.
document.addEventListener("submit", (event) => {
  const form = event.target;
  const busy = form.querySelector(".roster-busy");
  if (!busy || event.defaultPrevented) return;
  if (form.dataset.sent) {
    event.preventDefault();
    return;
  }
  form.dataset.sent = "1";
  form.querySelectorAll("[type=submit]").forEach((button) => { button.disabled = true; });
  busy.hidden = false;
  const elapsed = busy.querySelector("[data-elapsed]");
  const started = Date.now();
  setInterval(() => { elapsed.textContent = Math.round((Date.now() - started) / 1000); }, 1000);
});
