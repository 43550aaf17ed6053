// The console's CPR warning as the agent types, and the topics ticked in the callback form.
// The server is authoritative: it refuses notes and callbacks with a CPR number (hotline/kit/cpr.py).
(function () {
  "use strict";

  // DDMMYY-XXXX or DDMMYYXXXX, not inside a longer run of digits (same as hotline/kit/cpr.py).
  var SHAPE = /(?<![\d+])(?<!\d[-./])(\d{2})(\d{2})(\d{2})[-‐‑–]?(\d)(\d{3})(?!\d)(?![-./]\d)/g;

  function cprYear(yy, seventh) {
    if (seventh <= 3) return 1900 + yy;
    if (seventh === 4 || seventh === 9) return yy <= 36 ? 2000 + yy : 1900 + yy;
    return yy <= 57 ? 2000 + yy : 1800 + yy;
  }

  function containsCpr(text) {
    SHAPE.lastIndex = 0;
    var match;
    while ((match = SHAPE.exec(text || "")) !== null) {
      var day = +match[1], month = +match[2];
      var year = cprYear(+match[3], +match[4]);
      var date = new Date(Date.UTC(year, month - 1, day));
      if (date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day) {
        return true;
      }
    }
    return false;
  }

  function warn(field) {
    var box = document.getElementById(field.dataset.cprWarning);
    if (!box) return false;
    var found = containsCpr(field.value);
    if (found && !box.dataset.shown) {
      box.replaceChildren();
      var alert = document.createElement("div"), body = document.createElement("div");
      var text = document.createElement("p");
      alert.className = "alert alert-warning";
      body.className = "alert-body";
      text.className = "alert-text";
      text.textContent = box.dataset.cprText;
      body.appendChild(text);
      alert.appendChild(body);
      box.appendChild(alert);
      box.dataset.shown = "1";
    } else if (!found && (box.dataset.shown || box.childElementCount)) {
      box.replaceChildren();
      delete box.dataset.shown;
    }
    return found;
  }

  document.addEventListener("input", function (event) {
    if (event.target.dataset && event.target.dataset.cprWarning) warn(event.target);
  });

  // Wrap-up sends the notes too: keep a CPR number from leaving the browser that way (sent by
  // htmx, the request is cancelled before it starts; without htmx, the submit is).
  function stopCprInNotes(form, event) {
    var notes = form && form.id === "wrap-up-form" && document.getElementById("call-notes");
    if (notes && warn(notes)) {
      event.preventDefault();
      notes.dispatchEvent(new CustomEvent("hl:reveal", { bubbles: true }));
      notes.focus();
    }
  }
  document.addEventListener("submit", function (event) { stopCprInNotes(event.target, event); });
  document.addEventListener("htmx:beforeRequest", function (event) {
    stopCprInNotes(event.detail.elt, event);
  });

  // The topics the agent opened in the rules panel (or chose for the reply) in this call.
  var opened = new Set();
  document.addEventListener("click", function (event) {
    var topic = event.target.closest("#rule-topics [data-topic], [data-cite-topic]");
    if (topic) opened.add(topic.dataset.topic || topic.dataset.citeTopic);
  });

  document.addEventListener("htmx:load", function (event) {
    var form = event.target.querySelector && event.target.querySelector("#callback-form");
    if (!form || event.target.querySelector(".alert-error")) return;
    document.querySelectorAll("#reply-form input[name=topics]:checked").forEach(function (box) {
      opened.add(box.value);
    });
    form.querySelectorAll("[data-callback-topic]").forEach(function (box) {
      if (opened.has(box.dataset.callbackTopic)) box.checked = true;
    });
  });
})();
