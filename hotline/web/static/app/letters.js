// Client-side glue of the letters area (no inline script: the CSP forbids it).
// After the composer is swapped in, move focus to its notice or first error, for screen readers.
document.addEventListener("htmx:afterSettle", function () {
  var message = document.querySelector("#reply-composer .alert");
  if (!message || message === document.activeElement) return;
  message.setAttribute("tabindex", "-1");
  message.focus();
});
