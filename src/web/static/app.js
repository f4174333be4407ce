/* Khanyisa pages: live refresh (Server-Sent Events), filters that apply in place, location.
 * Everything works without this script; it only saves reloads. No third-party code. */
(function () {
  "use strict";

  var region = document.querySelector("[data-live-region]");
  var announcer = document.getElementById("live-status");
  var refreshTimer = null;
  var inFlight = null;

  function announce(text) {
    if (announcer) announcer.textContent = text;
  }

  function stamp() {
    var now = new Date();
    return ("0" + now.getHours()).slice(-2) + ":" + ("0" + now.getMinutes()).slice(-2);
  }

  /* Fetch the region's fragment again and swap it in, keeping keyboard focus where it was. */
  function refresh(url, onDone) {
    if (!region) return;
    var target = url || region.getAttribute("data-fragment-url");
    if (inFlight) inFlight.abort();
    var ctrl = new AbortController();
    inFlight = ctrl;
    var active = document.activeElement;
    var focusKey = active && region.contains(active) ? active.getAttribute("href") || active.id : null;
    fetch(target, { credentials: "same-origin", signal: ctrl.signal, headers: { Accept: "text/html" } })
      .then(function (response) {
        if (response.redirected && new URL(response.url).pathname === "/login") {
          window.location.assign(response.url); // the session ended: sign in again
          return null;
        }
        // 422: the view was refused (a search too short, a page too deep); the fragment says why.
        if (!response.ok && response.status !== 422) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        if (html === null) return;
        region.innerHTML = html;
        region.setAttribute("data-fragment-url", target);
        var count = Number(document.body.getAttribute("data-refreshes") || "0") + 1;
        document.body.setAttribute("data-refreshes", String(count));
        document.body.setAttribute("data-updated", stamp());
        if (focusKey) {
          var again = region.querySelector('[href="' + CSS.escape(focusKey) + '"]') || document.getElementById(focusKey);
          if (again) again.focus();
        }
        if (onDone) onDone();
      })
      .catch(function (error) {
        if (error.name !== "AbortError") announce("The figures could not be refreshed. They will update on the next change.");
      })
      .finally(function () {
        if (inFlight === ctrl) inFlight = null;
      });
  }

  /* Changes often come in bursts (a sweep escalates many tickets at once): refresh shortly
   * after the first, then at most every few seconds while they keep coming, and always once
   * more after the last, so the page ends on the latest figures without hammering the server. */
  var QUIET_MS = 300;
  var MIN_INTERVAL_MS = 2000;
  var lastRefresh = 0;
  function scheduleRefresh() {
    if (refreshTimer) return;
    var wait = Math.max(QUIET_MS, lastRefresh + MIN_INTERVAL_MS - Date.now());
    refreshTimer = setTimeout(function () {
      refreshTimer = null;
      lastRefresh = Date.now();
      refresh();
    }, wait);
  }

  /* Live events: the browser reconnects by itself after a network drop or a server restart;
   * if it gives up (an error answer), try again with a growing pause. After every reconnect
   * the region is fetched again, since changes made meanwhile were not heard. */
  var source = null;
  var retryDelay = 2000;
  var everReady = false;
  var LIVE_EVENTS = ["ticket_created", "ticket_updated", "ticket_assigned", "ticket_escalated", "resync"];

  function connect(url) {
    if (!window.EventSource || !url) return;
    if (source) source.close();
    var es = new EventSource(url, { withCredentials: true });
    source = es;
    es.addEventListener("ready", function () {
      document.body.setAttribute("data-live", "ready");
      retryDelay = 2000;
      if (everReady) scheduleRefresh();
      everReady = true;
    });
    LIVE_EVENTS.forEach(function (name) { es.addEventListener(name, scheduleRefresh); });
    es.onerror = function () {
      if (source !== es) return;
      document.body.setAttribute("data-live", "reconnecting");
      if (es.readyState === EventSource.CLOSED) {
        setTimeout(function () { if (source === es) connect(url); }, retryDelay);
        retryDelay = Math.min(retryDelay * 2, 30000);
      }
    };
  }

  if (region && region.getAttribute("data-events-url")) {
    connect(region.getAttribute("data-events-url"));
    window.addEventListener("pagehide", function () { if (source) source.close(); });
  }

  /* Filters: apply in place (the URL keeps the view, so it can be bookmarked and shared). */
  function viewQuery(form) {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, key) {
      if (key !== "page" && String(value).trim() !== "") params.append(key, String(value).trim());
    });
    return params.toString();
  }

  function apply(form) {
    var query = viewQuery(form);
    var page = form.getAttribute("action");
    var fragment = "/fragments" + page;
    history.pushState(null, "", page + (query ? "?" + query : ""));
    refresh(fragment + (query ? "?" + query : ""), function () {
      var total = region.querySelector("[data-testid=ticket-total]") || region.querySelector("[data-testid=list-refusal]");
      announce(total ? total.textContent.replace(/\s+/g, " ").trim() : "Figures updated.");
    });
    if (region.hasAttribute("data-events-url") && page === "/dashboard") {
      var ward = new URLSearchParams(query).get("ward_id"); // events follow the ward, not the period
      var events = "/api/v1/dashboard/events" + (ward ? "?ward_id=" + encodeURIComponent(ward) : "");
      region.setAttribute("data-events-url", events);
      everReady = false;
      connect(events);
    }
  }

  Array.prototype.forEach.call(document.querySelectorAll("form[data-live-filter]"), function (form) {
    if (!region) return;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      apply(form);
    });
    Array.prototype.forEach.call(form.querySelectorAll("[data-autoapply]"), function (control) {
      control.addEventListener("change", function () { apply(form); });
    });
  });
  window.addEventListener("popstate", function () { window.location.reload(); });

  /* The skip link moves keyboard focus, not just the scroll position. */
  var skip = document.querySelector(".skip-link");
  var main = document.getElementById("main");
  if (skip && main) {
    skip.addEventListener("click", function (event) {
      event.preventDefault();
      main.focus();
      main.scrollIntoView();
    });
  }

  /* The report form may add the resident's location, only when they ask for it. */
  var locate = document.querySelector("[data-locate]");
  if (locate && navigator.geolocation) {
    locate.hidden = false;
    var note = document.getElementById("locate-status");
    locate.addEventListener("click", function () {
      note.textContent = note.dataset.finding || "Finding your location…";
      navigator.geolocation.getCurrentPosition(
        function (pos) {
          document.getElementById("r-latitude").value = pos.coords.latitude.toFixed(6);
          document.getElementById("r-longitude").value = pos.coords.longitude.toFixed(6);
          note.textContent = note.dataset.added || "Location added.";
          document.dispatchEvent(new Event("khanyisa:location"));
        },
        function () { note.textContent = note.dataset.unavailable || "Your location is not available; the address is enough."; },
        { enableHighAccuracy: true, timeout: 10000 }
      );
    });
  }
})();
