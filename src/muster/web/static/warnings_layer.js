/* Public warnings on the situation map: the warnings in force
 * (/api/v1/alerts/current.geojson) as circles and polygons coloured by warning colour
 * (red, orange, yellow, blue), with the headline and message type in a popup.
 *
 * The layer attaches itself, so map.js needs no hook: a Leaflet init hook
 * (L.Map.addInitHook) finds the map built on #situation-map, the layer joins the map's
 * layer control (L.Control.Layers.addInitHook), and it follows the live feed the map
 * opens (handed over through Muster.shareFeed, which the notification badge also uses),
 * fetching again after every alerting.AlertPublished and on every (re)connection: an
 * Update replaces its warning and a Cancel makes it disappear. Live only: hidden while
 * the time slider shows the past (the map's data-mode). Load it before map.js. No
 * framework; texts from the server go in with textContent. */
(function () {
  "use strict";

  var URL = "/api/v1/alerts/current.geojson";
  var EVENT_TYPES = ["alerting.AlertPublished"];
  var COLOURS = { red: "#c62828", orange: "#ef6c00", yellow: "#fbc02d", blue: "#1565c0" };
  var DEBOUNCE_MS = 300;
  var L = window.L;
  if (!L || !L.Map || !L.Control || !L.Control.Layers || !window.fetch) {
    return;
  }

  var layerControl = null;
  var sources = [];
  var listeners = [];

  L.Control.Layers.addInitHook(function () {
    if (layerControl === null) {
      layerControl = this; /* the situation map's overlay switcher */
    }
  });

  var muster = window.Muster = window.Muster || {};
  var shareFeed = muster.shareFeed;
  muster.shareFeed = function (source) {
    if (shareFeed) {
      shareFeed(source);
    }
    sources.push(source);
    listeners.forEach(function (listen) { listen(source); });
  };

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined && text !== null) {
      node.textContent = String(text);
    }
    return node;
  }

  function when(iso) {
    return iso && window.Muster && window.Muster.formatTime ?
      window.Muster.formatTime(iso, false) : (iso || "");
  }

  function attach(map, container) {
    var group = L.featureGroup().addTo(map);
    var texts = {};
    var named = false;
    var hiddenForPast = false;
    var timer = null;
    var ticket = 0;
    var version = 0;
    container.setAttribute("data-warnings", "loading");

    function say(key) {
      return texts[key] || key;
    }

    function popup(p) {
      var box = element("div", "map-popup map-warning-popup");
      box.appendChild(element("h3", "", p.headline));
      var list = element("dl");
      [
        [say("msg_type"), p.msg_type_label + " (" + p.msg_type + ")"],
        ["", p.colour_label + " · " + p.event],
        [say("area"), p.area],
        [say("sent"), when(p.sent)],
        [say("expires"), when(p.expires)],
        [say("population"), p.population === null || p.population === undefined ?
          "" : Number(p.population).toLocaleString()]
      ].forEach(function (row) {
        if (row[1] === undefined || row[1] === null || row[1] === "") {
          return;
        }
        list.appendChild(element("dt", "", row[0]));
        list.appendChild(element("dd", "", row[1]));
      });
      box.appendChild(list);
      [[p.link, say("open")], [p.xml_url, say("xml")]].forEach(function (pair) {
        var anchor = element("a", "map-warning-link", pair[1]);
        anchor.href = pair[0];
        box.appendChild(anchor);
        box.appendChild(document.createTextNode(" "));
      });
      return box;
    }

    function style(feature) {
      var colour = COLOURS[feature.properties.colour] || "#757575";
      return { color: colour, weight: 2, fillColor: colour, fillOpacity: 0.2 };
    }

    function tagged(layer, p) {
      /* Mark the SVG element so pages and tests can find a warning and its state. */
      layer.on("add", function () {
        var node = layer.getElement ? layer.getElement() : null;
        if (node) {
          node.setAttribute("data-kind", "warning");
          node.setAttribute("data-feature-id", p.alert_id);
          node.setAttribute("data-identifier", p.identifier);
          node.setAttribute("data-colour", p.colour);
          node.setAttribute("data-msg-type", p.msg_type);
          node.classList.add("map-warning", "map-warning-" + p.colour);
        }
      });
      return layer;
    }

    function name(body) {
      /* The layer's name and legend come with its first collection, in the reader's language. */
      if (named) {
        return;
      }
      named = true;
      if (layerControl !== null) {
        layerControl.addOverlay(group, say("layer"));
      }
      var legend = document.getElementById("map-legend");
      if (!legend || !body.legend) {
        return;
      }
      Object.keys(COLOURS).forEach(function (colour) {
        var item = element("li", "map-legend-warning");
        item.setAttribute("data-warning-colour", colour);
        var swatch = element("span", "swatch swatch-warning");
        swatch.style.background = COLOURS[colour]; /* CSSOM, allowed by the CSP */
        item.appendChild(swatch);
        item.appendChild(document.createTextNode(body.legend[colour] || colour));
        legend.appendChild(item);
      });
    }

    function draw(body) {
      group.clearLayers();
      group.addLayer(L.geoJSON(body, {
        style: style,
        pointToLayer: function (feature, latlng) {
          return L.circle(latlng, { radius: (feature.properties.radius_km || 0) * 1000 });
        },
        onEachFeature: function (feature, layer) {
          layer.bindPopup(popup(feature.properties));
          tagged(layer, feature.properties);
        }
      }));
      var alerts = {};
      body.features.forEach(function (feature) {
        alerts[feature.properties.alert_id] = true;
      });
      version += 1;
      container.setAttribute("data-warnings-count", String(Object.keys(alerts).length));
      container.setAttribute("data-warnings-version", String(version));
    }

    function load() {
      timer = null;
      var mine = ++ticket;
      fetch(URL, { credentials: "same-origin", headers: { "Accept": "application/geo+json" } })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("HTTP " + response.status);
          }
          return response.json();
        })
        .then(function (body) {
          if (mine !== ticket) {
            return; /* a newer fetch is on its way */
          }
          texts = body.labels || {};
          name(body);
          draw(body);
          container.setAttribute("data-warnings", "ready");
        })
        .catch(function () {
          if (mine === ticket) {
            container.setAttribute("data-warnings", "failed"); /* the next event retries */
          }
        });
    }

    function schedule() {
      if (timer === null && !hiddenForPast) {
        timer = window.setTimeout(load, DEBOUNCE_MS);
      }
    }

    function follow(source) {
      source.addEventListener("open", schedule);
      EVENT_TYPES.forEach(function (type) {
        source.addEventListener(type, schedule);
      });
    }

    if (window.MutationObserver) {
      new MutationObserver(function () {
        var past = container.getAttribute("data-mode") === "past";
        if (past && !hiddenForPast) {
          hiddenForPast = true;
          map.removeLayer(group);
        } else if (!past && hiddenForPast) {
          hiddenForPast = false;
          map.addLayer(group);
          schedule();
        }
      }).observe(container, { attributes: true, attributeFilter: ["data-mode"] });
    }
    sources.forEach(follow);
    listeners.push(follow);
    load();
  }

  L.Map.addInitHook(function () {
    var container = this.getContainer();
    if (container && container.id === "situation-map") {
      try {
        attach(this, container);
      } catch (error) { /* never break the map itself */
        container.setAttribute("data-warnings", "failed");
      }
    }
  });
})();
