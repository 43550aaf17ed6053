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

  // Keyboard shortcuts: n = next call, m = find municipality, a = wrap-up reason, s = state.
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
    } else if (key === "s") {
      var toggle = document.getElementById("agent-state-toggle");
      if (toggle) { event.preventDefault(); toggle.click(); }
    }
  });

  // Live fragments: the page's one EventSource ([data-live-stream]) sends named events, each
  // the new HTML of the element [data-live-fragment=<name>]. The browser reconnects by itself
  // when the stream breaks; without EventSource the page is as fresh as its last load.
  function swapFragment(target, html) {
    var focused = document.activeElement;
    var focusId = focused && focused.id && target.contains(focused) ? focused.id : null;
    target.innerHTML = html;
    if (window.htmx) window.htmx.process(target);
    if (focusId) {
      // Keep the keyboard where it was; if that row went, fall back to "next call".
      var again = document.getElementById(focusId) || document.getElementById("next-call");
      if (again && target.contains(again)) again.focus();
    }
    tick();
  }

  function connectLive() {
    var root = document.querySelector("[data-live-stream]");
    if (!root || !window.EventSource) return;
    var source = new EventSource(root.getAttribute("data-live-stream"));
    var status = document.querySelector("[data-live-status]");
    root.querySelectorAll("[data-live-fragment]").forEach(function (target) {
      source.addEventListener(target.getAttribute("data-live-fragment"), function (event) {
        swapFragment(target, event.data);
      });
    });
    source.addEventListener("open", function () { if (status) status.hidden = true; });
    source.addEventListener("error", function () { if (status) status.hidden = false; });
    window.addEventListener("pagehide", function () { source.close(); });
  }

  // The wrap-up's URL field is shown when "avoidable contact" is ticked.
  function syncAvoidable(focus) {
    var box = document.getElementById("avoidable");
    var group = document.getElementById("avoidable-url-group");
    if (!box || !group) return;
    group.hidden = !box.checked;
    if (focus && box.checked) document.getElementById("avoidable-url").focus();
  }

  document.addEventListener("change", function (event) {
    if (event.target && event.target.id === "avoidable") syncAvoidable(true);
  });

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    syncAvoidable(false);
    connectLive();
  });
  document.addEventListener("htmx:afterSwap", tick);
  setInterval(tick, 1000);
})();
