// One-click time-zone verification: show the zone the browser reports, let the user pick another
// (every IANA zone the browser knows + GET /api/cities), and POST /api/verify {token, tz_iana}.
// Everything the server sends back is shown with textContent, never as HTML.
"use strict";

(function () {
  var CITY_DEBOUNCE_MS = 150;
  var MAX_ZONES = 8;
  var MAX_CITIES = 8;
  var SUBMIT_TIMEOUT_MS = 15000;
  var NEW_LINK_HINT = "Ask the bot for a new link: send /tz in the chat (or /start to the bot in a private chat).";

  // Older names some browsers still report, and the current IANA names we store instead.
  var RENAMED = {
    "Asia/Calcutta": "Asia/Kolkata",
    "Asia/Katmandu": "Asia/Kathmandu",
    "Asia/Saigon": "Asia/Ho_Chi_Minh",
    "Asia/Rangoon": "Asia/Yangon",
    "Europe/Kiev": "Europe/Kyiv",
    "America/Godthab": "America/Nuuk",
    "Atlantic/Faeroe": "Atlantic/Faroe",
    "Pacific/Enderbury": "Pacific/Kanton",
    "Pacific/Ponape": "Pacific/Pohnpei",
    "Pacific/Truk": "Pacific/Chuuk",
    "America/Buenos_Aires": "America/Argentina/Buenos_Aires",
    "America/Catamarca": "America/Argentina/Catamarca",
    "America/Cordoba": "America/Argentina/Cordoba",
    "America/Jujuy": "America/Argentina/Jujuy",
    "America/Mendoza": "America/Argentina/Mendoza",
    "America/Indianapolis": "America/Indiana/Indianapolis",
    "America/Louisville": "America/Kentucky/Louisville"
  };

  var el = {
    heading: document.getElementById("zone-heading"),
    place: document.getElementById("detected-place"),
    zone: document.getElementById("detected-zone"),
    time: document.getElementById("local-time"),
    offset: document.getElementById("local-offset"),
    confirm: document.getElementById("confirm"),
    picker: document.getElementById("picker"),
    search: document.getElementById("zone-search"),
    options: document.getElementById("zone-options"),
    announce: document.getElementById("search-announce"),
    status: document.getElementById("status")
  };

  var token = new URLSearchParams(window.location.search).get("token") || "";
  var chosen = null; // {tz, place}
  var submitting = false;
  var done = false;

  // --- zones and clocks -----------------------------------------------------------------------

  function canonical(tz) {
    return RENAMED[tz] || tz;
  }

  function placeOf(tz) {
    if (tz === "UTC" || tz === "Etc/UTC" || tz === "Etc/GMT" || tz === "GMT") return "UTC";
    var fixed = /^Etc\/GMT([+-])(\d+)$/.exec(tz);
    // POSIX sign: Etc/GMT-9 is nine hours ahead of UTC.
    if (fixed) return "UTC" + (fixed[1] === "-" ? "+" : "\u2212") + fixed[2];
    var last = tz.split("/").pop() || tz;
    return last.replace(/_/g, " ");
  }

  var formatters = {};
  function formatter(tz) {
    if (!formatters[tz]) {
      formatters[tz] = {
        time: new Intl.DateTimeFormat(undefined, { timeZone: tz, weekday: "short", hour: "2-digit", minute: "2-digit" }),
        offset: new Intl.DateTimeFormat("en-US", { timeZone: tz, timeZoneName: "shortOffset" })
      };
    }
    return formatters[tz];
  }

  function timeIn(tz, now) {
    try {
      return formatter(tz).time.format(now);
    } catch (e) {
      return "";
    }
  }

  function offsetOf(tz, now) {
    try {
      var parts = formatter(tz).offset.formatToParts(now);
      for (var i = 0; i < parts.length; i++) {
        if (parts[i].type === "timeZoneName") return parts[i].value.replace("GMT", "UTC").replace(/^UTC$/, "UTC+0");
      }
    } catch (e) { /* older browser without shortOffset */ }
    return "";
  }

  function isKnownZone(tz) {
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: tz });
      return true;
    } catch (e) {
      return false;
    }
  }

  function tick() {
    if (!chosen) return;
    var now = new Date();
    var shown = timeIn(chosen.tz, now);
    if (el.time.textContent !== shown) el.time.textContent = shown;
    var offset = offsetOf(chosen.tz, now);
    var offsetText = offset ? "(" + offset + ")" : "";
    if (el.offset.textContent !== offsetText) el.offset.textContent = offsetText;
  }

  function choose(tz, place, picked) {
    chosen = { tz: canonical(tz), place: place || placeOf(canonical(tz)) };
    el.heading.textContent = picked ? "You picked" : "Your browser says you are in";
    el.place.textContent = chosen.place;
    el.zone.textContent = chosen.tz;
    tick();
    updateConfirm();
  }

  // --- status ---------------------------------------------------------------------------------

  function showStatus(kind, lines) {
    el.status.className = "status" + (kind ? " status-" + kind : "");
    el.status.textContent = "";
    lines.forEach(function (line) {
      var p = document.createElement("p");
      p.textContent = line;
      el.status.appendChild(p);
    });
    if (el.status.scrollIntoView) el.status.scrollIntoView({ block: "nearest" });
  }

  function updateConfirm() {
    el.confirm.disabled = done || submitting || !chosen || !token;
  }

  // --- confirm --------------------------------------------------------------------------------

  function submit() {
    if (submitting || done || !chosen || !token) return;
    submitting = true;
    updateConfirm();
    el.confirm.setAttribute("aria-busy", "true");
    el.confirm.textContent = "Saving\u2026";
    showStatus("", ["Saving your time zone\u2026"]);
    var tz = chosen.tz;
    var controller = typeof AbortController === "function" ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, SUBMIT_TIMEOUT_MS) : null;

    fetch("/api/verify", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify({ token: token, tz_iana: tz }),
      credentials: "same-origin",
      cache: "no-store",
      referrerPolicy: "no-referrer",
      signal: controller ? controller.signal : undefined
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (body) {
        return { response: response, body: body };
      });
    }).then(function (result) {
      var body = result.body || {};
      if (result.response.ok && body.success === true) {
        done = true;
        var saved = typeof body.timezone === "string" && body.timezone ? body.timezone : tz;
        showStatus("ok", ["You're set: " + saved + ". You can close this page and go back to the chat."]);
        el.confirm.textContent = "Confirmed";
        el.search.disabled = true;
        closeOptions();
        el.picker.hidden = true;
      } else if (result.response.status >= 400 && result.response.status < 500) {
        var reason = typeof body.error === "string" && body.error ? body.error : "This link can't be used.";
        showStatus("error", [reason, NEW_LINK_HINT]);
      } else {
        showStatus("error", ["Something went wrong on our side (HTTP " + result.response.status + "). Please press Confirm again in a moment."]);
      }
    }).catch(function () {
      showStatus("error", ["We couldn't reach the server. Check your connection and press Confirm again."]);
    }).then(function () {
      if (timer) clearTimeout(timer);
      submitting = false;
      el.confirm.removeAttribute("aria-busy");
      if (!done) el.confirm.textContent = "Confirm this time zone";
      updateConfirm();
    });
  }

  // --- picker (combobox) ----------------------------------------------------------------------

  // Every zone once, under its current name, searchable by the old name too ("Calcutta").
  var zones = [];
  var zoneKeys = [];
  (function () {
    var known = [];
    try {
      known = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
    } catch (e) { known = []; }
    var index = {};
    known.concat(["UTC"]).forEach(function (reported) {
      var tz = canonical(reported);
      if (!(tz in index)) {
        index[tz] = zones.length;
        zones.push(tz);
        zoneKeys.push([fold(tz)]);
      }
      if (reported !== tz) zoneKeys[index[tz]].push(fold(reported));
    });
  })();

  var results = [];     // [{tz, place, main, sub}] in display order
  var active = -1;
  var cityResults = [];
  var cityQuery = "";
  var citySeq = 0;
  var cityTimer = null;
  var cityController = null;

  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase().replace(/_/g, " ").replace(/\s+/g, " ").trim();
  }

  function zoneMatches(query) {
    var q = fold(query);
    if (!q) return [];
    var starts = [];
    var contains = [];
    for (var i = 0; i < zones.length; i++) {
      var best = null; // "starts": the place part or the whole name starts with the query
      zoneKeys[i].forEach(function (key) {
        var at = key.indexOf(q);
        if (at === -1 || best === "starts") return;
        var placePart = key.slice(key.lastIndexOf("/") + 1);
        best = placePart.indexOf(q) === 0 || at === 0 ? "starts" : "contains";
      });
      if (best) (best === "starts" ? starts : contains).push(zones[i]);
    }
    return starts.concat(contains).slice(0, MAX_ZONES);
  }

  function isOpen() {
    return !el.options.hidden;
  }

  function closeOptions() {
    el.options.hidden = true;
    el.search.setAttribute("aria-expanded", "false");
    el.search.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function render() {
    var query = el.search.value.trim();
    if (!query) {
      results = [];
      closeOptions();
      el.options.textContent = "";
      return;
    }
    var previous = active >= 0 && results[active] ? results[active].key : null;
    var now = new Date();
    results = [];
    zoneMatches(query).forEach(function (tz) {
      results.push({ key: "zone:" + tz, tz: tz, place: placeOf(canonical(tz)), main: placeOf(tz), sub: tz + " \u00b7 " + timeIn(tz, now), group: "zones" });
    });
    var cities = fold(cityQuery) === fold(query) ? cityResults : [];
    cities.forEach(function (city) {
      var where = [city.admin, city.country].filter(function (part) { return part && part !== city.name; }).join(", ");
      results.push({
        key: "city:" + city.name + "|" + where + "|" + city.tz,
        tz: city.tz,
        place: city.name,
        main: city.name + (where ? ", " + where : ""),
        sub: city.tz + " \u00b7 " + timeIn(city.tz, now),
        group: "cities"
      });
    });

    el.options.textContent = "";
    var groups = {};
    results.forEach(function (result, index) {
      if (!groups[result.group]) {
        var group = document.createElement("div");
        group.setAttribute("role", "group");
        var label = document.createElement("div");
        label.id = "zone-options-" + result.group;
        label.className = "group-label";
        label.setAttribute("role", "presentation");
        label.textContent = result.group === "zones" ? "Time zones" : "Cities";
        group.setAttribute("aria-labelledby", label.id);
        group.appendChild(label);
        el.options.appendChild(group);
        groups[result.group] = group;
      }
      var option = document.createElement("div");
      option.id = "zone-option-" + index;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.setAttribute("data-tz", result.tz);
      var main = document.createElement("span");
      main.className = "option-main";
      main.textContent = result.main;
      var sub = document.createElement("span");
      sub.className = "option-sub";
      sub.textContent = result.sub;
      option.appendChild(main);
      option.appendChild(sub);
      groups[result.group].appendChild(option);
    });
    if (!results.length) {
      var empty = document.createElement("div");
      empty.className = "empty";
      empty.textContent = cityPending() ? "Searching\u2026" : "No matching city or zone. Try another spelling.";
      el.options.appendChild(empty);
    }

    active = -1;
    if (previous) {
      for (var i = 0; i < results.length; i++) {
        if (results[i].key === previous) active = i;
      }
    }
    el.options.hidden = false;
    el.search.setAttribute("aria-expanded", "true");
    setActive(active);
  }

  function cityPending() {
    return cityTimer !== null || cityController !== null;
  }

  function setActive(index) {
    var previous = el.options.querySelector('[aria-selected="true"]');
    if (previous) previous.setAttribute("aria-selected", "false");
    active = index;
    if (index < 0 || index >= results.length) {
      active = -1;
      el.search.removeAttribute("aria-activedescendant");
      return;
    }
    var option = document.getElementById("zone-option-" + index);
    option.setAttribute("aria-selected", "true");
    el.search.setAttribute("aria-activedescendant", option.id);
    option.scrollIntoView({ block: "nearest" });
  }

  function pick(index) {
    var result = results[index];
    if (!result) return;
    choose(result.tz, result.place, true);
    el.search.value = result.main;
    closeOptions();
    el.announce.textContent = "Picked " + result.main + ", " + result.tz + ". Press Confirm to save it.";
    // The next step is Confirm; on a phone this also closes the on-screen keyboard.
    el.confirm.focus();
  }

  function announceCount() {
    if (!isOpen()) return;
    el.announce.textContent = results.length
      ? results.length + (results.length === 1 ? " match" : " matches") + ". Use up and down arrows to choose."
      : "No matches.";
  }

  function searchCities(query) {
    if (cityTimer !== null) clearTimeout(cityTimer);
    if (cityController) cityController.abort();
    cityController = null;
    cityTimer = null;
    if (!query) return;
    cityTimer = setTimeout(function () {
      cityTimer = null;
      var seq = ++citySeq;
      cityController = typeof AbortController === "function" ? new AbortController() : null;
      fetch("/api/cities?q=" + encodeURIComponent(query), {
        headers: { "Accept": "application/json" },
        credentials: "same-origin",
        referrerPolicy: "no-referrer",
        signal: cityController ? cityController.signal : undefined
      }).then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      }).then(function (body) {
        if (seq !== citySeq) return;
        cityController = null;
        cityQuery = query;
        cityResults = (body && Array.isArray(body.cities) ? body.cities : []).filter(function (city) {
          return city && typeof city.name === "string" && typeof city.tz === "string";
        }).slice(0, MAX_CITIES);
        if (el.search.value.trim() === query && document.activeElement === el.search) {
          render();
          announceCount();
        }
      }).catch(function () {
        if (seq !== citySeq) return;
        cityController = null;
        cityQuery = query;
        cityResults = [];
        if (el.search.value.trim() === query && document.activeElement === el.search) render();
      });
    }, CITY_DEBOUNCE_MS);
  }

  el.search.addEventListener("input", function () {
    var query = el.search.value.trim();
    searchCities(query);
    render();
  });

  el.search.addEventListener("keydown", function (event) {
    var key = event.key;
    if (key === "ArrowDown" || key === "ArrowUp") {
      event.preventDefault();
      if (!isOpen()) {
        render();
        if (!isOpen()) return;
      }
      if (!results.length) return;
      var step = key === "ArrowDown" ? 1 : -1;
      var next = active === -1 ? (step === 1 ? 0 : results.length - 1) : (active + step + results.length) % results.length;
      setActive(next);
    } else if (key === "Enter") {
      if (isOpen() && active >= 0) {
        event.preventDefault();
        pick(active);
      } else if (isOpen() && results.length === 1) {
        event.preventDefault();
        pick(0);
      }
    } else if (key === "Escape") {
      if (isOpen()) {
        event.preventDefault();
        closeOptions();
      } else if (el.search.value) {
        event.preventDefault();
        el.search.value = "";
        searchCities("");
      }
    } else if (key === "Tab") {
      closeOptions();
    }
  });

  el.search.addEventListener("focus", function () {
    if (el.search.value.trim() && !done) render();
  });

  el.search.addEventListener("blur", function () {
    // Let a click on an option land first.
    setTimeout(function () {
      if (document.activeElement !== el.search) closeOptions();
    }, 150);
  });

  // Keep focus in the input while clicking an option, then pick it.
  el.options.addEventListener("mousedown", function (event) { event.preventDefault(); });
  el.options.addEventListener("click", function (event) {
    var option = event.target.closest('[role="option"]');
    if (!option) return;
    pick(Number(option.id.replace("zone-option-", "")));
  });

  el.confirm.addEventListener("click", submit);

  // --- start ----------------------------------------------------------------------------------

  var detected = "";
  try {
    detected = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (e) { detected = ""; }

  if (detected && isKnownZone(detected)) {
    choose(detected, null, false);
  } else {
    el.heading.textContent = "We couldn't detect your time zone";
    el.place.textContent = "Search below";
    el.zone.textContent = "\u2014";
  }

  if (!token) {
    showStatus("error", ["This link is missing its code.", NEW_LINK_HINT]);
  }
  updateConfirm();
  setInterval(tick, 1000);
})();
