/* Muster situation map (the common operating picture): Leaflet from /static/leaflet,
 * layers from /api/v1/situation/map/layers (GeoJSON), a time slider over the log's
 * span (right end = live), and live refresh when the feed (/api/events/stream) reports
 * an incident, task, trigger, CAP, observation, resource or resource-request event.
 * Resource requests (/api/v1/resource-requests?format=geojson, with their texts) are a
 * layer of their own, coloured by status, shown live only. Clicking an incident shows its
 * cascade assessment (/api/v1/situation/incidents/{id}/cascade: chains, exposed assets,
 * departments to involve) in the side panel. No framework, no CDN; every text from the
 * server goes in with textContent (titles are user input). */
(function () {
  "use strict";

  var DEBOUNCE_MS = 400;
  var SLIDER_MAX = 1000;
  var LAYERS = ["cap_areas", "exposed_assets", "resources", "observations", "triggers", "incidents", "tasks"];
  var LEVEL_COLOURS = { L1: "#c62828", L2: "#fb8c00", L3: "#fdd835", L4: "#1e88e5" };
  var STATUS_COLOURS = { normal: "#2e7d32", over: "#d32f2f", unrated: "#9e9e9e" };
  var SEVERITY_COLOURS = { Extreme: "#b71c1c", Severe: "#ef6c00" };
  var REQUESTS_URL = "/api/v1/resource-requests?format=geojson";
  var REQUEST_STATUSES = ["open", "partly_committed", "committed", "declined"];
  var REQUEST_EVENT_TYPES = [
    "resources.ResourceRequested", "resources.RequestCancelled", "resources.ResourceCommitted",
    "resources.RequestDeclined", "resources.CommitmentStatusChanged", "resources.AllocationDecided"
  ];

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
    return iso && window.Muster ? window.Muster.formatTime(iso, false) : (iso || "");
  }

  function popup(title, rows, link, linkText) {
    var box = element("div", "map-popup");
    box.appendChild(element("h3", "", title));
    var list = element("dl");
    rows.forEach(function (row) {
      if (row[1] === undefined || row[1] === null || row[1] === "") {
        return;
      }
      list.appendChild(element("dt", "", row[0]));
      list.appendChild(element("dd", "", row[1]));
    });
    box.appendChild(list);
    if (link) {
      var anchor = element("a", "", linkText);
      anchor.href = link;
      box.appendChild(anchor);
    }
    return box;
  }

  function tagged(layer, kind, id, status) {
    /* Mark the SVG element so pages and tests can find a feature (and its status). */
    layer.on("add", function () {
      var node = layer.getElement ? layer.getElement() : null;
      if (node) {
        node.setAttribute("data-kind", kind);
        node.setAttribute("data-feature-id", id);
        if (status) {
          node.setAttribute("data-status", status);
        }
      }
    });
    return layer;
  }

  function start() {
    var container = document.getElementById("situation-map");
    if (!container || !window.L || !window.fetch) {
      return;
    }
    var L = window.L;
    var texts = JSON.parse(container.getAttribute("data-texts") || "{}");
    var layersUrl = container.getAttribute("data-layers-url");
    var slider = document.getElementById("time-slider");
    var label = document.getElementById("time-label");
    var liveButton = document.getElementById("time-live");
    var notes = document.getElementById("map-notes");
    var status = document.getElementById("map-feed-status");
    var span = null;
    var fitted = false;
    var fitting = false;
    var userMoved = false;
    var requested = 0;
    var timer = null;
    var version = 0;
    var cascadeBox = document.getElementById("map-cascade");
    var departments = JSON.parse(container.getAttribute("data-departments") || "{}");
    var chinese = (document.documentElement.lang || "").indexOf("zh") === 0;
    var shownIncident = null;
    var cascadeTicket = 0;
    /* /situation/map?at=ISO opens the map at that moment (links from replay). */
    var pinnedAt = window.URLSearchParams ?
      new URLSearchParams(window.location.search).get("at") : null;

    var map = L.map(container, { zoomControl: true, worldCopyJump: true });
    map.setView([30, 110], 4);
    var tileUrl = container.getAttribute("data-tile-url");
    if (tileUrl) {
      L.tileLayer(tileUrl, { maxZoom: 19 }).addTo(map);
    }
    var groups = {};
    var overlays = {};
    LAYERS.forEach(function (name) {
      groups[name] = L.featureGroup().addTo(map);
      overlays[texts[name] || name] = groups[name];
    });
    var layerControl = L.control.layers(null, overlays, { collapsed: false }).addTo(map);
    groups.requests = L.featureGroup().addTo(map); /* named once its texts arrive */
    var requestTexts = null;
    L.control.scale({ imperial: false }).addTo(map);
    map.on("zoomstart dragstart", function () {
      if (!fitting && fitted) {
        userMoved = true;
      }
    });

    function say(key, value) {
      return (texts[key] || key) + (value === undefined ? "" : value);
    }

    function incidentLayer(feature, latlng) {
      var p = feature.properties;
      var marker = L.circleMarker(latlng, {
        radius: 9, color: "#ffffff", weight: 2, fillOpacity: 0.95,
        fillColor: LEVEL_COLOURS[p.level] || "#546e7a", className: "map-incident"
      });
      marker.bindPopup(popup(p.title, [
        [say("type"), p.type_name ? p.type + " " + p.type_name : p.type],
        [say("level"), p.level_label || say("no_level")],
        [say("status"), p.status_label],
        [say("opened_at"), when(p.opened_at)]
      ], p.link, say("open_incident")));
      marker.getPopup().getContent().appendChild(situationLink(p.id));
      marker.bindTooltip(p.title);
      marker.on("click", function () {
        showCascade(p.id, p.title);
      });
      return tagged(marker, "incident", p.id);
    }

    function situationLink(incidentId) {
      var anchor = element("a", "map-situation-link", say("open_situation"));
      anchor.href = "/situation/incidents/" + encodeURIComponent(incidentId);
      return anchor;
    }

    function named(item) {
      return chinese ? item.name_zh : (item.name_en || item.name_zh);
    }

    function departmentName(code) {
      return departments[code] || code;
    }

    function cascadeStep(step) {
      var item = element("li", "map-cascade-step");
      item.setAttribute("data-rule", step.rule);
      item.appendChild(element("strong", "", chinese ? step.hazard_zh : step.hazard_en));
      item.appendChild(document.createTextNode(" · " + step.rule +
        (step.population === null || step.population === undefined ? "" : " · " + say("people") + " " + step.population)));
      var assets = element("ul", "map-cascade-assets");
      step.assets.forEach(function (asset) {
        var row = element("li", "", named(asset) + " (" + asset.id + ") ");
        row.setAttribute("data-asset-id", asset.id);
        row.appendChild(element("span", "asset-department", departmentName(asset.department)));
        assets.appendChild(row);
      });
      item.appendChild(assets);
      return item;
    }

    function drawCascade(incidentId, title, data) {
      cascadeBox.textContent = "";
      cascadeBox.appendChild(element("h3", "", title));
      if (!data.chains.length) {
        cascadeBox.appendChild(element("p", "muted", say("cascade_none")));
      }
      data.chains.forEach(function (chain) {
        var block = element("div", "map-cascade-chain");
        block.setAttribute("data-chain", chain.rule);
        block.appendChild(element("h3", "", chain.entry + " → " + chain.rule));
        var steps = element("ol");
        chain.steps.forEach(function (step) {
          steps.appendChild(cascadeStep(step));
        });
        block.appendChild(steps);
        cascadeBox.appendChild(block);
      });
      if (data.departments.length) {
        cascadeBox.appendChild(element("h3", "", say("departments_to_involve")));
        var list = element("ul", "map-cascade-departments");
        data.departments.forEach(function (item) {
          var tasks = item.tasks.map(function (task) { return chinese ? task.title_zh : task.title_en; });
          var row = element("li", "", departmentName(item.department) + (tasks.length ? ": " + tasks.join("; ") : ""));
          row.setAttribute("data-department", item.department);
          list.appendChild(row);
        });
        cascadeBox.appendChild(list);
      }
      cascadeBox.appendChild(situationLink(incidentId));
    }

    function showCascade(incidentId, title) {
      var ticket = ++cascadeTicket;
      shownIncident = { id: incidentId, title: title };
      cascadeBox.setAttribute("data-incident-id", incidentId);
      cascadeBox.setAttribute("data-state", "loading");
      if (!cascadeBox.firstChild || cascadeBox.getAttribute("data-shown") !== incidentId) {
        cascadeBox.textContent = "";
        cascadeBox.appendChild(element("p", "muted", say("cascade_loading")));
      }
      fetch("/api/v1/situation/incidents/" + encodeURIComponent(incidentId) + "/cascade",
        { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) {
          return response.json().then(function (body) {
            if (!response.ok) {
              throw new Error(body.detail || body.title || "HTTP " + response.status);
            }
            return body;
          });
        })
        .then(function (data) {
          if (ticket !== cascadeTicket) {
            return;
          }
          drawCascade(incidentId, title, data);
          cascadeBox.setAttribute("data-shown", incidentId);
          cascadeBox.setAttribute("data-state", "ready");
        })
        .catch(function (error) {
          if (ticket !== cascadeTicket) {
            return;
          }
          cascadeBox.textContent = "";
          cascadeBox.appendChild(element("h3", "", title));
          cascadeBox.appendChild(element("p", "map-note-withheld", say("cascade_failed") + " " + error.message));
          cascadeBox.appendChild(situationLink(incidentId));
          cascadeBox.setAttribute("data-shown", incidentId);
          cascadeBox.setAttribute("data-state", "failed");
        });
    }

    function assetLayer(feature, layer) {
      var p = feature.properties;
      layer.bindPopup(popup(named(p), [
        ["", p.id],
        [say("layer"), p.layer + " · " + p.dataset],
        [say("lead_department"), departmentName(p.department)],
        [say("hazards"), (p.hazards || []).join(", ")]
      ]));
      tagged(layer, "asset", p.layer + ":" + p.id);
    }

    function resourceLayer(feature, latlng) {
      var p = feature.properties;
      var mark = L.marker(latlng, {
        icon: L.divIcon({ className: "map-resource map-resource-" + p.status, iconSize: [10, 10] }),
        keyboard: true, title: p.name
      });
      var amount = p.quantity + (p.unit_label ? " " + p.unit_label : "");
      var capability = p.capability === null || p.capability === undefined ? "" :
        p.capability + " " + (p.measure_label || "");
      mark.bindPopup(popup(p.name, [
        [say("lead_department"), p.department_name],
        [say("type"), p.type_name + (p.tier ? " · " + p.tier : "")],
        [say("quantity"), amount],
        [say("capability"), capability],
        [say("status"), p.status_label + (p.status_reason ? " — " + p.status_reason : "")],
        ["", p.committed_label], /* "4 of 4 units committed" */
        [say("readiness"), p.ready_label],
        [say("place"), p.location_name]
      ], p.link, say("open_board")));
      return tagged(mark, "resource", p.id, p.status);
    }

    function requestText(key) {
      return (requestTexts && requestTexts[key]) || key;
    }

    function drawRequests(collection) {
      /* Diamonds beside the place asked for, several at one place side by side. */
      var stacked = {};
      collection.features.forEach(function (feature) {
        var p = feature.properties;
        var at = feature.geometry.coordinates;
        var key = at[0] + "," + at[1];
        var index = stacked[key] = (stacked[key] === undefined ? 0 : stacked[key] + 1);
        var mark = L.marker([at[1], at[0]], {
          icon: L.divIcon({
            className: "map-request map-request-" + p.status,
            html: '<span class="map-request-shape"></span>',
            iconSize: [14, 14], iconAnchor: [24 + 16 * index, -6]
          }),
          keyboard: true, title: p.type_name + " × " + p.quantity
        });
        mark.bindPopup(popup(p.type_name + " × " + p.quantity + (p.unit_label ? " " + p.unit_label : ""), [
          [requestText("status"), p.status_label],
          ["", p.committed_label],
          [requestText("open_units"), p.open_units],
          [requestText("requested_by"), p.requested_by_name],
          [requestText("to_department"), p.to_department_name || requestText("any_department")],
          [requestText("priority"), p.priority],
          [requestText("needed_by"), when(p.needed_by)],
          [requestText("place"), p.location_name],
          ["", p.id]
        ], p.link, requestText("open_board")));
        groups.requests.addLayer(tagged(mark, "request", p.id, p.status));
      });
    }

    function nameRequests(collection) {
      /* The layer's name and legend come with its first collection, in the reader's language. */
      if (requestTexts !== null || !collection.labels) {
        return;
      }
      requestTexts = collection.labels;
      layerControl.addOverlay(groups.requests, requestText("layer"));
      var legend = document.getElementById("map-legend");
      if (legend) {
        REQUEST_STATUSES.forEach(function (status) {
          var item = element("li", "map-legend-request");
          item.appendChild(element("span", "swatch swatch-request swatch-request-" + status));
          item.appendChild(document.createTextNode(requestText("legend_" + status)));
          legend.appendChild(item);
        });
      }
    }

    function triggerLayer(feature, latlng) {
      var p = feature.properties;
      var ring = L.circleMarker(latlng, {
        radius: 15, color: "#6a1b9a", weight: 3, dashArray: "5 4", fill: false,
        className: "map-trigger"
      });
      ring.bindPopup(popup(p.rule + " · " + p.instance, [
        [say("value"), p.value],
        [say("threshold"), p.threshold],
        [say("since"), when(p.since)],
        ["", p.explanation]
      ], p.link, say("open_incident")));
      return tagged(ring, "trigger", p.rule + ":" + p.instance);
    }

    function observationLayer(feature, latlng) {
      var p = feature.properties;
      var dot = L.circleMarker(latlng, {
        radius: 6, color: "#263238", weight: 1, fillOpacity: 0.9,
        fillColor: STATUS_COLOURS[p.status] || STATUS_COLOURS.unrated,
        className: "map-observation map-observation-" + p.status
      });
      var value = p.value === null || p.value === undefined ? "" : p.value + (p.unit ? " " + p.unit : "");
      dot.bindPopup(popup((p.station || "") + " · " + p.metric, [
        [say("value"), value],
        [say("status"), say("status_" + p.status)],
        [say("threshold"), p.rule ? p.threshold + " (" + p.rule + ")" : ""],
        [say("observed_at"), when(p.observed_at)],
        [say("dataset"), p.dataset + " · TLP:" + p.tlp],
        [say("masked"), (p.masked || []).join(", ")]
      ]));
      return tagged(dot, "observation", p.dataset + ":" + p.station + ":" + p.metric);
    }

    function capStyle(feature) {
      var colour = SEVERITY_COLOURS[feature.properties.severity] || "#f9a825";
      return { color: colour, weight: 2, fillColor: colour, fillOpacity: 0.15, className: "map-cap" };
    }

    function capPopup(p) {
      return popup(p.headline || p.event, [
        [say("event"), p.event],
        [say("severity"), p.severity],
        [say("area"), p.area],
        [say("expires"), when(p.expires)]
      ]);
    }

    function drawTasks(collection, incidents) {
      var byIncident = {};
      collection.features.forEach(function (feature) {
        var key = feature.properties.incident_id;
        (byIncident[key] = byIncident[key] || []).push(feature);
      });
      Object.keys(byIncident).forEach(function (incidentId) {
        var tasks = byIncident[incidentId];
        var at = tasks[0].geometry.coordinates;
        var box = element("div", "map-popup");
        var title = incidents[incidentId] || "";
        box.appendChild(element("h3", "", say("tasks") + (title ? " · " + title : "")));
        var list = element("ul");
        tasks.forEach(function (feature) {
          var p = feature.properties;
          var item = element("li", p.overdue ? "overdue" : "");
          item.appendChild(element("span", "", p.title + " — " + p.status_label + " · " +
            p.lead_department + (p.overdue ? " · " + say("overdue") : "")));
          list.appendChild(item);
        });
        box.appendChild(list);
        var anchor = element("a", "", say("open_incident"));
        anchor.href = tasks[0].properties.link;
        box.appendChild(anchor);
        var count = element("span", "", String(tasks.length));
        var marker = L.marker([at[1], at[0]], {
          icon: L.divIcon({ className: "map-task-icon", html: count, iconSize: [20, 18], iconAnchor: [-6, 26] }),
          keyboard: true, title: say("tasks")
        });
        marker.bindPopup(box);
        groups.tasks.addLayer(tagged(marker, "tasks", incidentId));
      });
    }

    function showNotes(data) {
      notes.textContent = "";
      var observations = data.layers.observations;
      (observations.withheld || []).forEach(function (item) {
        notes.appendChild(element("p", "map-note-withheld", say("withheld") + ": " + item.dataset + " — " + item.reason));
      });
      (observations.aggregated || []).forEach(function (item) {
        var counts = (item.counts || []).map(function (pair) { return pair[0] + " " + pair[1]; }).join(", ");
        notes.appendChild(element("p", "map-note-aggregated", say("aggregated") + ": " + item.dataset +
          (item.by ? " (" + item.by + ")" : "") + (counts ? " — " + counts : "")));
      });
      if (data.truncated) {
        notes.appendChild(element("p", "map-note-withheld", say("truncated")));
      }
    }

    function draw(data, requests) {
      LAYERS.forEach(function (name) {
        groups[name].clearLayers();
      });
      groups.requests.clearLayers();
      if (requests) {
        nameRequests(requests);
        drawRequests(requests);
      }
      var layers = data.layers;
      groups.cap_areas.addLayer(L.geoJSON(layers.cap_areas, {
        style: capStyle,
        pointToLayer: function (feature, latlng) {
          return L.circle(latlng, { radius: (feature.properties.radius_km || 0) * 1000 });
        },
        onEachFeature: function (feature, layer) {
          layer.bindPopup(capPopup(feature.properties));
          tagged(layer, "cap", feature.properties.alert_key);
        }
      }));
      groups.exposed_assets.addLayer(L.geoJSON(layers.exposed_assets, {
        style: function () { return { color: "#8d6e63", weight: 3, className: "map-asset" }; },
        pointToLayer: function (feature, latlng) {
          return L.circleMarker(latlng, { radius: 6, color: "#4e342e", fillColor: "#8d6e63", fillOpacity: 0.9, className: "map-asset" });
        },
        onEachFeature: assetLayer
      }));
      groups.resources.addLayer(L.geoJSON(layers.resources || { type: "FeatureCollection", features: [] },
        { pointToLayer: resourceLayer }));
      groups.observations.addLayer(L.geoJSON(layers.observations, { pointToLayer: observationLayer }));
      groups.triggers.addLayer(L.geoJSON(layers.triggers, { pointToLayer: triggerLayer }));
      groups.incidents.addLayer(L.geoJSON(layers.incidents, { pointToLayer: incidentLayer }));
      var titles = {};
      layers.incidents.features.forEach(function (feature) {
        titles[feature.properties.id] = feature.properties.title;
      });
      drawTasks(layers.tasks, titles);
      showNotes(data);
      if (!userMoved) {
        /* Until the user pans or zooms, keep everything in view. */
        var bounds = L.latLngBounds([]);
        LAYERS.forEach(function (name) {
          var found = groups[name].getBounds();
          if (found.isValid() && name !== "resources") {
            bounds.extend(found);
          }
        });
        if (!bounds.isValid()) {
          bounds = groups.resources.getBounds(); /* nothing else to show: the resources */
        }
        if (bounds.isValid() && !(fitted && map.getBounds().contains(bounds))) {
          fitting = true;
          map.fitBounds(bounds.pad(0.2), { maxZoom: 13, animate: false });
          fitting = false;
          fitted = true;
        }
      }
      if (shownIncident && data.live) {
        showCascade(shownIncident.id, shownIncident.title); /* the cascade may have moved */
      }
      version += 1;
      container.setAttribute("data-version", String(version));
      container.setAttribute("data-mode", data.live ? "live" : "past");
      container.setAttribute("data-at", data.at);
    }

    function sliderMoment() {
      if (pinnedAt !== null) {
        return pinnedAt;
      }
      var value = Number(slider.value);
      if (!span || !span.start || value >= SLIDER_MAX) {
        return null;
      }
      var from = Date.parse(span.start);
      var to = Date.parse(span.end);
      return new Date(from + (to - from) * value / SLIDER_MAX).toISOString();
    }

    function showTime(moment) {
      label.textContent = moment === null ? say("live") : say("as_of", " " + when(moment));
      liveButton.disabled = moment === null;
    }

    function load() {
      timer = null;
      var moment = sliderMoment();
      var url = layersUrl + (moment === null ? "" : "?at=" + encodeURIComponent(moment));
      var ticket = ++requested;
      /* Requests are shown live only: the log is not folded for them. */
      var requests = moment !== null ? Promise.resolve(null) :
        fetch(REQUESTS_URL, { credentials: "same-origin", headers: { "Accept": "application/geo+json" } })
          .then(function (response) { return response.ok ? response.json() : null; })
          .catch(function () { return null; });
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("HTTP " + response.status);
          }
          return response.json();
        })
        .then(function (data) {
          return requests.then(function (found) {
            return { data: data, requests: found };
          });
        })
        .then(function (both) {
          var data = both.data;
          if (ticket !== requested) {
            return; /* a newer request is on its way */
          }
          span = data.span;
          if (pinnedAt !== null && span && span.start && span.end) {
            var from = Date.parse(span.start);
            var to = Date.parse(span.end);
            var at = Date.parse(pinnedAt);
            if (to > from && !isNaN(at)) {
              slider.value = String(Math.max(0, Math.min(SLIDER_MAX - 1,
                Math.round((at - from) / (to - from) * SLIDER_MAX))));
            }
          }
          draw(data, both.requests);
          showTime(data.live ? null : data.at);
        })
        .catch(function () {
          notes.appendChild(element("p", "map-note-withheld", say("failed")));
        });
    }

    function schedule() {
      if (timer === null) {
        timer = window.setTimeout(load, DEBOUNCE_MS);
      }
    }

    slider.addEventListener("input", function () {
      pinnedAt = null; /* the person took over the time */
      showTime(sliderMoment());
    });
    slider.addEventListener("change", load);
    liveButton.addEventListener("click", function () {
      pinnedAt = null;
      slider.value = String(SLIDER_MAX);
      load();
    });
    load();

    if (!window.EventSource) {
      return;
    }
    var types = JSON.parse(container.getAttribute("data-event-types") || "[]");
    REQUEST_EVENT_TYPES.forEach(function (type) {
      if (types.indexOf(type) === -1) {
        types.push(type);
      }
    });
    var after = container.getAttribute("data-after") || "0";
    var source = new EventSource("/api/events/stream?after=" + encodeURIComponent(after));
    if (window.Muster && window.Muster.shareFeed) {
      window.Muster.shareFeed(source); /* the notification badge listens too */
    }
    var seen = {};

    function setStatus(state) {
      container.setAttribute("data-live", state);
      status.textContent = say("feed_" + state);
      status.className = "feed-status feed-status-" + state;
    }

    function onEvent(message) {
      var item = JSON.parse(message.data);
      if (seen[item.seq]) {
        return;
      }
      seen[item.seq] = true;
      if (sliderMoment() === null) {
        schedule(); /* live: fetch the layers again, once per burst */
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
