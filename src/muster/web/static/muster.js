/* Muster: small helpers shared by every page (no framework, no CDN). */
(function () {
  "use strict";

  var language = document.documentElement.lang || "zh-CN";

  function formatTime(iso, timeOnly) {
    var moment = new Date(iso);
    if (isNaN(moment.getTime())) {
      return iso;
    }
    var options = timeOnly
      ? { hour: "2-digit", minute: "2-digit" }
      : { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" };
    return moment.toLocaleString(language, options);
  }

  function localiseTimes(root) {
    var nodes = (root || document).querySelectorAll("time[data-local]");
    Array.prototype.forEach.call(nodes, function (node) {
      node.textContent = formatTime(node.getAttribute("datetime"), node.hasAttribute("data-time-only"));
      node.title = node.getAttribute("datetime");
    });
  }

  window.Muster = { formatTime: formatTime, localiseTimes: localiseTimes };
  document.addEventListener("DOMContentLoaded", function () {
    localiseTimes(document);
  });
})();
