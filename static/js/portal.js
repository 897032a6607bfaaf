// The portal's own script (served by the portal; county intranets have no internet).
// Pages work without it; it only adds conveniences.
document.addEventListener("DOMContentLoaded", () => {
  // Ask before irreversible review decisions.
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
});
