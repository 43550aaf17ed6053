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

  // Enter in a search field opens its first hit. The search waits for a pause in typing, so
  // when the hits shown are not yet those of what was typed, the first new hit opens on arrival.
  var SEARCHES = {
    "municipality-q": { list: "municipality-hits", hit: ".hl-hit" },
    "rule-search": { list: "rule-topics", hit: ".hl-rule-link" },
  };
  var pendingSearch = null;

  // The query the shown hits answer (data-q on the list or on its content).
  function shownQuery(list) {
    var marker = list.hasAttribute("data-q") ? list : list.querySelector("[data-q]");
    return marker ? marker.getAttribute("data-q") : "";
  }

  // Hits only just swapped in are not yet wired up by htmx (that happens as they settle): a
  // click then would submit the choice as a plain form and reload the console, losing the
  // reply being written. So the click waits for the settle, like a search still on its way.
  function openFirstHit(input) {
    var search = SEARCHES[input.id];
    var list = document.getElementById(search.list);
    var settled = list && !list.classList.contains("htmx-settling") && !list.querySelector(".htmx-added");
    if (!settled || shownQuery(list) !== input.value) { pendingSearch = input; return; }
    pendingSearch = null;
    var first = list.querySelector(search.hit);
    if (first) first.click();
  }

  document.addEventListener("input", function (event) {
    if (event.target === pendingSearch) pendingSearch = null;
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (pendingSearch && document.body.contains(pendingSearch)) openFirstHit(pendingSearch);
  });
  // Right as the new picker is in (before the agent can press Escape to leave it).
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.target.id === "municipality-picker") keepKeyboardInPicker();
  });

  // A municipality chosen (by Enter in the search or on a hit) leaves the keyboard in the
  // picker's search, whatever held the focus while the choice was on its way (the hit itself
  // is gone), unless the agent has meanwhile gone on typing elsewhere.
  function keepKeyboardInPicker() {
    var active = document.activeElement;
    if (typing(active) && active.id !== "municipality-q") return;
    var search = document.getElementById("municipality-q");
    if (search && active !== search) search.focus();
  }

  // Keyboard shortcuts: n = next call, m = find municipality, r = search the rules,
  // a = wrap-up reason, s = state; Ctrl+Enter sends the reply; Escape leaves a field of the
  // console, so that the single-letter shortcuts work again.
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    var inReply = target.closest && target.closest("#reply-form");
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && inReply) {
      var send = document.getElementById("reply-send");
      if (send && !send.disabled) { event.preventDefault(); send.click(); }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Enter" && SEARCHES.hasOwnProperty(target.id)) {
      // Also keeps the rule search's form from being submitted, which would leave the console.
      event.preventDefault();
      openFirstHit(target);
      return;
    }
    if (typing(target)) {
      if (event.key === "Escape" && target.closest(".hl-console")) {
        event.preventDefault();
        target.blur();
      }
      return;
    }
    var key = event.key.toLowerCase();
    if (key === "n") {
      var next = document.getElementById("next-call");
      if (next && !next.disabled) { event.preventDefault(); takeNext(next); }
    } else if (key === "m" || key === "r") {
      var search = document.getElementById(key === "m" ? "municipality-q" : "rule-search");
      if (search) { event.preventDefault(); search.focus(); }
    } else if (key === "a") {
      var reason = document.getElementById("contact-reason");
      if (reason) { event.preventDefault(); reason.focus(); }
    } else if (key === "s") {
      var toggle = document.getElementById("agent-state-toggle");
      if (toggle) { event.preventDefault(); toggle.click(); }
    }
  });

  // "Ikke klar": the button takes no call; the keyboard lands on it, which reads out why.
  function takeNext(button) {
    if (button.getAttribute("aria-disabled") === "true") button.focus();
    else button.click();
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("#next-call[aria-disabled=true]");
    if (button) event.preventDefault();
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

  // A "<name>-rows" event patches the fragment's rows (the queue: [data-queue-rows], each row
  // [data-call=<id>]): new head and "more" line, the rows' order, and the HTML of only the rows
  // that are new or changed. Rows that stay are left in place, so the keyboard stays on them.
  function patchRows(target, patch) {
    var body = target.querySelector("[data-queue-rows]");
    var head = target.querySelector("[data-queue-head]");
    var more = target.querySelector("[data-queue-more]");
    if (!body || !head || !more) return;
    var focused = document.activeElement;
    var focusId = focused && focused.id && target.contains(focused) ? focused.id : null;
    head.innerHTML = patch.head;
    more.innerHTML = patch.more;
    var keep = {};
    patch.order.forEach(function (id) { keep[id] = true; });
    var rows = {};
    Array.prototype.slice.call(body.children).forEach(function (row) {
      var id = row.getAttribute("data-call");
      if (keep[id] && !patch.rows.hasOwnProperty(id)) rows[id] = row;
      else row.remove();
    });
    var cursor = body.firstElementChild;
    patch.order.forEach(function (id) {
      var row = rows[id];
      if (!row) {
        var template = document.createElement("template");
        template.innerHTML = patch.rows[id].trim();
        row = template.content.firstElementChild;
      }
      if (row === cursor) cursor = cursor.nextElementSibling;
      else body.insertBefore(row, cursor);
    });
    body.querySelectorAll(".hl-queue-position").forEach(function (position, at) {
      position.textContent = (at + 1) + ".";
    });
    if (window.htmx) window.htmx.process(target);
    if (focusId && !target.contains(document.activeElement)) {
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
      var name = target.getAttribute("data-live-fragment");
      source.addEventListener(name, function (event) { swapFragment(target, event.data); });
      source.addEventListener(name + "-rows", function (event) {
        patchRows(target, JSON.parse(event.data));
      });
    });
    source.addEventListener("open", function () { if (status) status.hidden = true; });
    source.addEventListener("error", function () { if (status) status.hidden = false; });
    window.addEventListener("pagehide", function () { source.close(); });
  }

  // The right column's tabs (WAI-ARIA tabs): click or arrow keys choose one; the others hide.
  function selectTab(tab, focus) {
    var list = tab.closest("[role=tablist]");
    list.querySelectorAll("[role=tab]").forEach(function (other) {
      var chosen = other === tab;
      other.setAttribute("aria-selected", chosen ? "true" : "false");
      other.tabIndex = chosen ? 0 : -1;
      var panel = document.getElementById(other.getAttribute("aria-controls"));
      if (panel) panel.hidden = !chosen;
    });
    if (focus) tab.focus();
  }

  document.addEventListener("click", function (event) {
    var tab = event.target.closest && event.target.closest("[role=tab]");
    if (tab) selectTab(tab, false);
  });
  document.addEventListener("keydown", function (event) {
    var tab = event.target.closest && event.target.closest("[role=tab]");
    if (!tab) return;
    var tabs = Array.prototype.slice.call(tab.closest("[role=tablist]").querySelectorAll("[role=tab]"));
    var at = tabs.indexOf(tab), to = null;
    if (event.key === "ArrowRight") to = tabs[(at + 1) % tabs.length];
    else if (event.key === "ArrowLeft") to = tabs[(at - 1 + tabs.length) % tabs.length];
    else if (event.key === "Home") to = tabs[0];
    else if (event.key === "End") to = tabs[tabs.length - 1];
    if (to) { event.preventDefault(); event.stopPropagation(); selectTab(to, true); }
  }, true);

  // Something in a hidden tab is to be shown (a cited rule, a field with an error): its tab opens.
  document.addEventListener("hl:reveal", function (event) {
    var panel = event.target.closest && event.target.closest("[role=tabpanel]");
    var tab = panel && panel.hidden && document.querySelector("[role=tab][aria-controls='" + panel.id + "']");
    if (tab) selectTab(tab, false);
  });

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
