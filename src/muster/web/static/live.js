/* Muster live pages: the incident page and the inbox re-fetch their server-rendered
 * sections when the feed (/api/events/stream) reports an event that concerns them.
 * The container names the fragment URL (data-live-url), the incident or department
 * it follows (or data-every-department), the feed position it was rendered at and
 * the event types to hear. */
(function () {
  "use strict";

  var DEBOUNCE_MS = 150;

  function concerns(container, item) {
    var incident = container.getAttribute("data-incident-id");
    if (incident) {
      return item.incident_id === incident;
    }
    if (container.hasAttribute("data-every-department")) {
      return true; /* e.g. the city-wide resource board: every event it hears */
    }
    var department = container.getAttribute("data-department");
    if (!department) {
      return false;
    }
    return item.type.indexOf("response.Task") === 0 ||
      item.type === "response.ChecklistItemChecked" ||
      item.type === "response.EscalationStepReached" ||
      (item.departments || []).indexOf(department) !== -1;
  }

  function swap(container, html) {
    var incoming = document.createElement("div");
    incoming.innerHTML = html; /* server-rendered, escaped by the templates */
    var active = document.activeElement;
    Array.prototype.forEach.call(incoming.querySelectorAll("[data-live-part]"), function (part) {
      var name = part.getAttribute("data-live-part");
      var current = container.querySelector('[data-live-part="' + name + '"]');
      if (!current) {
        container.appendChild(part);
      } else if (active && current.contains(active) && active.tagName !== "BUTTON") {
        current.setAttribute("data-live-stale", "true"); /* keep what the user types */
      } else {
        current.parentNode.replaceChild(part, current);
      }
      if (window.Muster) {
        window.Muster.localiseTimes(part);
      }
    });
    container.setAttribute("data-live-version", String(Date.now()));
  }

  function start() {
    var container = document.querySelector("[data-live-url]");
    if (!container || !window.EventSource || !window.fetch) {
      return;
    }
    var url = container.getAttribute("data-live-url");
    var types = JSON.parse(container.getAttribute("data-event-types") || "[]");
    var after = container.getAttribute("data-after") || "0";
    var source = new EventSource("/api/events/stream?after=" + encodeURIComponent(after));
    if (window.Muster && window.Muster.shareFeed) {
      window.Muster.shareFeed(source); /* the notification badge listens too */
    }
    var timer = null;
    var seen = {};

    function refresh() {
      timer = null;
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (response) {
          return response.ok ? response.text() : null;
        })
        .then(function (html) {
          if (html !== null) {
            swap(container, html);
          }
        })
        .catch(function () { /* the next event tries again */ });
    }

    function onEvent(message) {
      var item = JSON.parse(message.data);
      if (seen[item.seq]) {
        return;
      }
      seen[item.seq] = true;
      if (concerns(container, item) && timer === null) {
        timer = window.setTimeout(refresh, DEBOUNCE_MS);
      }
    }

    source.addEventListener("open", function () {
      container.setAttribute("data-live", "live");
    });
    source.addEventListener("error", function () {
      container.setAttribute("data-live", source.readyState === EventSource.CLOSED ? "closed" : "reconnecting");
    });
    types.forEach(function (type) {
      source.addEventListener(type, onEvent);
    });
    window.addEventListener("pagehide", function () {
      source.close();
    });
  }

  document.addEventListener("DOMContentLoaded", start);
})();
