// Client-side glue of the rules area (no inline script: the CSP forbids it).
// Mark the topic whose rule is shown in #rule-detail, so the agent sees where they are.
document.addEventListener("htmx:afterSwap", (event) => {
  const target = event.detail.target;
  if (!target || target.id !== "rule-detail") return;
  const article = target.querySelector("[data-topic]");
  document.querySelectorAll(".hl-rule-link[aria-current]").forEach((el) => el.removeAttribute("aria-current"));
  if (!article) return;
  document.querySelectorAll(".hl-rule-link").forEach((el) => {
    if (el.dataset.topic === article.dataset.topic) el.setAttribute("aria-current", "true");
  });
});

// After the flag control under a rule is swapped, move focus to its thanks or error, so a
// keyboard or screen-reader user hears the result and stays in place.
document.addEventListener("htmx:afterSwap", (event) => {
  const target = event.detail.target;
  if (!target || target.id !== "rule-flag") return;
  const swapped = document.getElementById("rule-flag");
  const message = swapped && swapped.querySelector(".hl-rule-flag-message");
  if (!message) return;
  message.setAttribute("tabindex", "-1");
  message.focus();
});

// A draft's preview (admin edit page): bring it into view and move focus to its heading.
document.addEventListener("htmx:afterSwap", (event) => {
  const target = event.detail.target;
  if (!target || target.id !== "draft-preview") return;
  const heading = document.getElementById("draft-preview-heading");
  if (heading) heading.focus();
  target.scrollIntoView({ block: "start" });
});
