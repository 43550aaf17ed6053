// Hotline's small client-side glue; no inline script anywhere (the CSP forbids it).
"use strict";

// DKFDS's components (accordions, alerts, ...) come alive with its init().
document.addEventListener("DOMContentLoaded", () => {
  if (window.DKFDS) window.DKFDS.init();
});

// "Brug i svar" in the rules panel ticks the topic in the reply composer and shows it.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-cite-topic]");
  if (!button) return;
  const checkbox = document.getElementById("cite-" + button.dataset.citeTopic);
  if (!checkbox) return;
  checkbox.checked = true;
  checkbox.dispatchEvent(new Event("change", { bubbles: true }));
  checkbox.dispatchEvent(new CustomEvent("hl:reveal", { bubbles: true }));
  checkbox.scrollIntoView({ block: "nearest" });
  button.setAttribute("aria-pressed", "true");
});

// htmx swaps nothing when a request fails; say why instead of leaving the screen silently stale.
function showFlash(text) {
  const flash = document.getElementById("hl-flash");
  if (!flash) return;
  flash.textContent = text;
  flash.hidden = false;
  clearTimeout(showFlash.timer);
  showFlash.timer = setTimeout(() => { flash.hidden = true; }, 8000);
}

// A 422 is swapped (base.html's htmx-config) when it is a fragment: a form with its mistakes. The
// error handlers' plain text and FastAPI's JSON about a malformed request are failures like others.
document.addEventListener("htmx:beforeSwap", (event) => {
  const xhr = event.detail.xhr;
  if (xhr.status !== 422 || (xhr.getResponseHeader("Content-Type") || "").startsWith("text/html")) return;
  event.detail.shouldSwap = false;
  event.detail.isError = true;
});

document.addEventListener("htmx:responseError", (event) => {
  const xhr = event.detail.xhr;
  const plain = (xhr.getResponseHeader("Content-Type") || "").startsWith("text/plain");
  const flash = document.getElementById("hl-flash");
  showFlash(plain && xhr.responseText ? xhr.responseText : flash && flash.dataset.generic);
});

document.addEventListener("htmx:sendError", () => {
  const flash = document.getElementById("hl-flash");
  showFlash(flash && flash.dataset.network);
});

// A field with data-max-chars says at the field, while it is typed in, that it is too long and
// what the limit is (data-too-long, with {count} for the length); the server refuses it as well.
function checkLength(field) {
  const max = Number(field.dataset.maxChars);
  const id = field.id + "-length";
  const group = field.closest(".form-group");
  let message = document.getElementById(id);
  const described = (field.getAttribute("aria-describedby") || "").split(" ").filter((x) => x && x !== id);
  if (field.value.length <= max) {
    if (!message) return;
    message.remove();
    field.setAttribute("aria-describedby", described.join(" "));
    if (field.dataset.lengthInvalid) {
      field.removeAttribute("aria-invalid");
      if (group && !group.querySelector(".form-error-message")) group.classList.remove("form-error");
      delete field.dataset.lengthInvalid;
    }
    return;
  }
  if (!message) {
    message = document.createElement("span");
    message.id = id;
    message.className = "form-error-message";
    message.setAttribute("aria-live", "polite");
    field.parentNode.insertBefore(message, field);
    field.setAttribute("aria-describedby", described.concat(id).join(" "));
  }
  const count = field.value.length.toLocaleString("da-DK");
  message.textContent = (field.dataset.tooLong || "").replace("{count}", count);
  if (!field.hasAttribute("aria-invalid")) {
    field.setAttribute("aria-invalid", "true");
    field.dataset.lengthInvalid = "1";
  }
  if (group) group.classList.add("form-error");
}

document.addEventListener("input", (event) => {
  if (event.target.dataset && event.target.dataset.maxChars) checkLength(event.target);
});

// After a form comes back with errors, the keyboard goes to the first wrong field (a page with
// data-has-errors, or a swapped-in fragment with it); "hl:reveal" first shows its tab, if any.
function focusFirstError(root) {
  const form = root.matches && root.matches("[data-has-errors]") ? root : root.querySelector("[data-has-errors]");
  if (!form) return false;
  const fields = Array.from(document.querySelectorAll("[aria-invalid=true]"));
  const field = fields.find((el) => form.contains(el) || el.form === form);
  if (!field) return false;
  field.dispatchEvent(new CustomEvent("hl:reveal", { bubbles: true }));
  field.focus();
  return true;
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-max-chars]").forEach(checkLength);
  focusFirstError(document);
});
document.addEventListener("htmx:afterSettle", (event) => {
  event.target.querySelectorAll("[data-max-chars]").forEach(checkLength);
  if (event.target.matches("form[data-has-errors]")) focusFirstError(event.target);
});
