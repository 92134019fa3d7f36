/* Muster replay mode: a time scrubber over an incident's events. Moving the slider
 * (drag, arrow keys, or the back/forward links) fetches the state replayed at that
 * event (/review/incidents/{id}/replay/state?seq=N, server-rendered HTML) and puts it
 * in place; the address follows (?seq=N), so the page can be reloaded or shared.
 * Without JavaScript the back/forward links navigate. No framework, no CDN. */
(function () {
  "use strict";

  var DEBOUNCE_MS = 150;

  function start() {
    var box = document.getElementById("replay-scrubber");
    var range = document.getElementById("replay-range");
    var state = document.getElementById("replay-state");
    if (!box || !range || !state || !window.fetch) {
      return;
    }
    var seqs = JSON.parse(box.getAttribute("data-positions") || "[]");
    var pageUrl = box.getAttribute("data-page-url");
    var stateUrl = box.getAttribute("data-state-url");
    var back = document.getElementById("replay-back");
    var forward = document.getElementById("replay-forward");
    var stops = document.querySelectorAll("#replay-stops li");
    var ticket = 0;
    var timer = null;
    var shown = Number(range.value);

    function clamp(index) {
      return Math.max(0, Math.min(seqs.length - 1, index));
    }

    function showStop(index) {
      for (var i = 0; i < stops.length; i += 1) {
        stops[i].classList.toggle("hidden", i !== index);
      }
      var current = stops[index];
      var time = current ? current.querySelector("time") : null;
      if (time) {
        range.setAttribute("aria-valuetext", time.textContent);
      }
      back.href = pageUrl + "?seq=" + seqs[clamp(index - 1)];
      forward.href = pageUrl + "?seq=" + seqs[clamp(index + 1)];
      setDisabled(back, index <= 0);
      setDisabled(forward, index >= seqs.length - 1);
    }

    function setDisabled(link, disabled) {
      if (disabled) {
        link.setAttribute("aria-disabled", "true");
      } else {
        link.removeAttribute("aria-disabled");
      }
    }

    function load() {
      timer = null;
      var index = Number(range.value);
      if (index === shown) {
        return;
      }
      var seq = seqs[index];
      var mine = ++ticket;
      state.setAttribute("aria-busy", "true");
      fetch(stateUrl + "?seq=" + encodeURIComponent(seq), {
        credentials: "same-origin",
        headers: { "Accept": "text/html" }
      })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("HTTP " + response.status);
          }
          return response.text();
        })
        .then(function (html) {
          if (mine !== ticket) {
            return; /* a newer position was asked for */
          }
          state.innerHTML = html; /* rendered and escaped by the server */
          state.setAttribute("aria-busy", "false");
          state.setAttribute("data-seq", String(seq));
          shown = index;
          if (window.history && window.history.replaceState) {
            window.history.replaceState(null, "", pageUrl + "?seq=" + seq);
          }
          if (window.Muster && window.Muster.localiseTimes) {
            window.Muster.localiseTimes(state);
          }
        })
        .catch(function () {
          if (mine === ticket) {
            window.location.href = pageUrl + "?seq=" + seq; /* fall back to a page load */
          }
        });
    }

    function moveTo(index) {
      index = clamp(index);
      range.value = String(index);
      showStop(index);
      if (timer !== null) {
        window.clearTimeout(timer);
      }
      timer = window.setTimeout(load, DEBOUNCE_MS);
    }

    range.addEventListener("input", function () {
      moveTo(Number(range.value));
    });
    back.addEventListener("click", function (event) {
      event.preventDefault();
      moveTo(Number(range.value) - 1);
    });
    forward.addEventListener("click", function (event) {
      event.preventDefault();
      moveTo(Number(range.value) + 1);
    });
    document.addEventListener("keydown", function (event) {
      var target = event.target;
      var tag = target && target.tagName ? target.tagName.toLowerCase() : "";
      if (target === range || tag === "input" || tag === "select" || tag === "textarea") {
        return; /* the slider moves itself; typing elsewhere is not scrubbing */
      }
      if (event.key === "ArrowLeft") {
        event.preventDefault();
        moveTo(Number(range.value) - 1);
      } else if (event.key === "ArrowRight") {
        event.preventDefault();
        moveTo(Number(range.value) + 1);
      }
    });
    showStop(shown);
  }

  document.addEventListener("DOMContentLoaded", start);
})();
