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

// Another municipality brings a new composer (its letterhead, its rules): what the agent had
// already written moves over to it, field by field (a default, like the subject, is the new one's).
var carriedReply = null;
document.addEventListener("htmx:oobBeforeSwap", function (event) {
  var form = document.getElementById("reply-form");
  if (!form || event.detail.target.id !== "reply-panel") return;
  carriedReply = [];
  form.querySelectorAll("input[name], textarea[name]").forEach(function (field) {
    if (field.type === "hidden") return;
    if (field.type === "checkbox") {
      if (field.checked !== field.defaultChecked) carriedReply.push([field.name, field.value, field.checked]);
    } else if (field.value !== field.defaultValue) {
      carriedReply.push([field.name, null, field.value]);
    }
  });
});
document.addEventListener("htmx:afterSettle", function (event) {
  var form = document.getElementById("reply-form");
  if (!carriedReply || !form || event.target.id !== "reply-panel") return;
  carriedReply.forEach(function (item) {
    form.querySelectorAll("[name='" + item[0] + "']").forEach(function (field) {
      if (field.type === "checkbox") { if (field.value === item[1]) field.checked = item[2]; }
      else { field.value = item[2]; field.dispatchEvent(new Event("input", { bubbles: true })); }
    });
  });
  carriedReply = null;
});
