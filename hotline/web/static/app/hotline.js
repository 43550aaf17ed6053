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
