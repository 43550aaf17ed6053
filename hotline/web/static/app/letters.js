// Client-side glue of the letters area (no inline script: the CSP forbids it).
// After a send swaps the composer in again, the keyboard goes to the first wrong field, or else
// to the notice, for screen readers. Only then: any other swap on the console keeps the focus.
document.addEventListener("htmx:afterSettle", function (event) {
  if (!event.target || event.target.id !== "reply-composer") return;
  if (focusFirstError(event.target)) return;
  var message = event.target.querySelector(".alert");
  if (!message || message === document.activeElement) return;
  message.setAttribute("tabindex", "-1");
  message.focus();
});
