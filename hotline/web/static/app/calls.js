// Client-side glue of the calls area (no inline script: the CSP forbids it).
(function () {
  "use strict";

  function clock(totalSeconds) {
    var s = Math.max(0, Math.floor(totalSeconds));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    var mm = h ? String(m).padStart(2, "0") : String(m);
    return (h ? h + ":" : "") + mm + ":" + String(r).padStart(2, "0");
  }

  // Every element with data-started-at shows the time since then, updated each second.
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-started-at]").forEach(function (el) {
      var started = Date.parse(el.getAttribute("data-started-at"));
      if (!isNaN(started)) el.textContent = clock((now - started) / 1000);
    });
  }

  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  // Keyboard shortcuts: n = next call, m = find municipality, a = wrap-up reason.
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Enter" && event.target && event.target.id === "municipality-q") {
      var first = document.querySelector("#municipality-hits .hl-hit");
      if (first) { event.preventDefault(); first.click(); }
      return;
    }
    if (typing(event.target)) return;
    var key = event.key.toLowerCase();
    if (key === "n") {
      var next = document.getElementById("next-call");
      if (next && !next.disabled) { event.preventDefault(); next.click(); }
    } else if (key === "m") {
      var search = document.getElementById("municipality-q");
      if (search) { event.preventDefault(); search.focus(); }
    } else if (key === "a") {
      var reason = document.getElementById("contact-reason");
      if (reason) { event.preventDefault(); reason.focus(); }
    }
  });

  document.addEventListener("DOMContentLoaded", tick);
  document.addEventListener("htmx:afterSwap", tick);
  setInterval(tick, 1000);
})();
