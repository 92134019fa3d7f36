/* Muster live activity feed: EventSource on /api/events/stream; no framework, no CDN.
 * New items are prepended to the feed; new incidents also to the incident list. */
(function () {
  "use strict";

  var MAX_ITEMS = 100;

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined) {
      node.textContent = text; /* never innerHTML: titles are user input */
    }
    return node;
  }

  function timeNode(iso, timeOnly) {
    var node = element("time", "", window.Muster.formatTime(iso, timeOnly));
    node.setAttribute("datetime", iso);
    node.title = iso;
    return node;
  }

  function hide(id) {
    var node = document.getElementById(id);
    if (node) {
      node.classList.add("hidden");
    }
  }

  function prependFeedItem(list, item) {
    var row = element("li", "feed-item feed-item-new");
    row.setAttribute("data-seq", String(item.seq));
    row.appendChild(timeNode(item.recorded_at, true));
    row.appendChild(element("span", "feed-summary", item.summary));
    list.insertBefore(row, list.firstChild);
    while (list.children.length > MAX_ITEMS) {
      list.removeChild(list.lastChild);
    }
    hide("feed-empty");
  }

  function prependIncident(incident) {
    var list = document.getElementById("incident-list");
    if (!list) {
      return;
    }
    var row = element("li", "incident incident-new");
    var link = element("a", "incident-title", incident.title);
    link.href = "/incidents/" + encodeURIComponent(incident.id);
    var meta = element("div", "incident-meta");
    meta.appendChild(element("span", "badge badge-" + incident.category.toLowerCase(), incident.category_label));
    meta.appendChild(element("span", "", incident.department));
    meta.appendChild(timeNode(incident.opened_at, false));
    row.appendChild(link);
    row.appendChild(meta);
    list.insertBefore(row, list.firstChild);
    var count = document.getElementById("incident-count");
    if (count) {
      count.textContent = String(list.children.length);
    }
    hide("incident-empty");
  }

  function start() {
    var feed = document.getElementById("feed");
    if (!feed || !window.EventSource) {
      return;
    }
    var list = document.getElementById("feed-list");
    var status = document.getElementById("feed-status");
    var seen = {};
    var types = JSON.parse(feed.getAttribute("data-event-types") || "[]");
    var url = "/api/events/stream?after=" + encodeURIComponent(feed.getAttribute("data-after") || "0");
    var source = new EventSource(url);
    if (window.Muster && window.Muster.shareFeed) {
      window.Muster.shareFeed(source); /* the notification badge listens too */
    }

    function setStatus(state) {
      status.textContent = status.getAttribute("data-" + state);
      status.className = "feed-status feed-status-" + state;
    }

    function onEvent(message) {
      var item = JSON.parse(message.data);
      if (seen[item.seq]) {
        return;
      }
      seen[item.seq] = true;
      prependFeedItem(list, item);
      if (item.incident) {
        prependIncident(item.incident);
      }
    }

    source.addEventListener("open", function () {
      setStatus("live");
    });
    source.addEventListener("error", function () {
      setStatus(source.readyState === EventSource.CLOSED ? "closed" : "reconnecting");
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
