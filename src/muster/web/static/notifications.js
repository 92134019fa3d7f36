/* Muster notification badge: keeps the unread count next to the Inbox link live.
 * The count comes from /notifications/count when the page loads, whenever the feed
 * (re)connects and whenever the feed reports a notification event; the server sends
 * notify.* events to their recipient only. A page that already follows the feed
 * (live.js, feed.js) hands its EventSource over through Muster.shareFeed; any other
 * page opens one of its own. */
(function () {
  "use strict";

  var TYPES = ["notify.NotificationQueued", "notify.NotificationRead"];
  var DEBOUNCE_MS = 150;
  var badge = null;
  var timer = null;
  var shared = false;

  function show(count) {
    badge.textContent = count > 0 ? String(count) : "";
    badge.setAttribute("data-count", String(count));
    if (count > 0) {
      badge.classList.remove("hidden");
    } else {
      badge.classList.add("hidden");
    }
  }

  function refresh() {
    timer = null;
    fetch(badge.getAttribute("data-count-url"), {
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        if (data && typeof data.unread === "number") {
          show(data.unread);
        }
      })
      .catch(function () { /* the next event tries again */ });
  }

  function schedule() {
    if (badge !== null && timer === null) {
      timer = window.setTimeout(refresh, DEBOUNCE_MS);
    }
  }

  function follow(source) {
    source.addEventListener("open", schedule);
    TYPES.forEach(function (type) {
      source.addEventListener(type, schedule);
    });
  }

  function shareFeed(source) {
    shared = true;
    follow(source);
  }

  function start() {
    badge = document.getElementById("notification-badge");
    if (!badge || !window.fetch) {
      badge = null;
      return;
    }
    schedule();
    /* Other scripts start on the same DOMContentLoaded; look once they have. */
    window.setTimeout(function () {
      if (shared || !window.EventSource) {
        return;
      }
      var source = new EventSource("/api/events/stream");
      follow(source);
      window.addEventListener("pagehide", function () {
        source.close();
      });
    }, 0);
  }

  window.Muster = window.Muster || {};
  window.Muster.shareFeed = shareFeed;
  document.addEventListener("DOMContentLoaded", start);
})();
