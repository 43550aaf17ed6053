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
