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
