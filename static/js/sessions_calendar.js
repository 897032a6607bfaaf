// The "copy link" button of the personal calendar subscription (templates/feedback/sessions_calendar.html).
// Without this script the button stays hidden and the link can be selected and copied by hand.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("button[data-copy]").forEach((button) => {
    const field = document.querySelector(button.dataset.copy);
    const status = button.parentElement.querySelector("[data-copy-status]");
    if (!field) return;
    button.hidden = false;
    const say = (text) => { if (status) status.textContent = text; };
    button.addEventListener("click", async () => {
      field.select();
      try {
        // Only on https or localhost; plain http on an intranet falls back to execCommand.
        if (navigator.clipboard && window.isSecureContext) {
          await navigator.clipboard.writeText(field.value);
        } else if (!document.execCommand("copy")) {
          throw new Error("copy refused");
        }
        say("已复制");
      } catch (error) {
        say("请按 Ctrl+C 复制已选中的链接");
      }
    });
  });
});
