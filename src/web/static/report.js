/* The report forms: a point on the ward map, the open reports nearby once a category and a
 * place are known, and the quick exit of the GBV form. The forms work without this script. */
(function () {
  "use strict";

  var lat = document.getElementById("r-latitude");
  var lon = document.getElementById("r-longitude");
  var category = document.getElementById("r-category");
  var nearby = document.getElementById("nearby");

  function loadNearby() {
    if (!nearby || !category || !lat.value || !lon.value) return;
    if (!category.value || category.value === "gbv") {
      nearby.innerHTML = "";
      return;
    }
    var url = nearby.getAttribute("data-nearby-url") + "?" + new URLSearchParams({
      category: category.value, latitude: lat.value, longitude: lon.value
    }).toString();
    fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) { return r.ok ? r.text() : ""; })
      .then(function (html) { nearby.innerHTML = html; })
      .catch(function () { nearby.innerHTML = ""; });
  }

  if (category) category.addEventListener("change", loadNearby);
  document.addEventListener("khanyisa:location", loadNearby);

  var map = document.querySelector("[data-ward-map]");
  if (map && lat && lon) {
    var ns = "http://www.w3.org/2000/svg";
    var marker = null;
    map.addEventListener("click", function (event) {
      var pt = map.createSVGPoint();
      pt.x = event.clientX;
      pt.y = event.clientY;
      var at = pt.matrixTransform(map.getScreenCTM().inverse());
      var west = Number(map.getAttribute("data-west"));
      var north = Number(map.getAttribute("data-north"));
      lon.value = (west + at.x / Number(map.getAttribute("data-x-scale"))).toFixed(6);
      lat.value = (north - at.y / Number(map.getAttribute("data-y-scale"))).toFixed(6);
      if (!marker) {
        marker = document.createElementNS(ns, "circle");
        marker.setAttribute("r", "12");
        marker.setAttribute("class", "map-marker");
        map.appendChild(marker);
      }
      marker.setAttribute("cx", String(at.x));
      marker.setAttribute("cy", String(at.y));
      var note = document.getElementById("locate-status");
      if (note) note.textContent = note.dataset.onMap || "Location chosen on the map.";
      loadNearby();
    });
  }

  /* Photos: said at once when too many, too large or not a photo; the server checks them again. */
  var photos = document.getElementById("r-photos");
  if (photos) {
    var note = document.createElement("p");
    note.className = "field-error";
    note.id = "r-photos-check";
    note.setAttribute("role", "alert");
    note.hidden = true;
    photos.parentNode.appendChild(note);
    var photoProblem = function () {
      var files = photos.files || [];
      var most = Number(photos.getAttribute("data-max-photos"));
      var bytes = Number(photos.getAttribute("data-max-bytes"));
      if (files.length > most) return "Choose at most " + most + " photos.";
      for (var i = 0; i < files.length; i++) {
        if (!/^image\/(jpeg|png|webp)$/.test(files[i].type)) return files[i].name + " is not a JPEG, PNG or WebP photo.";
        if (files[i].size > bytes) return files[i].name + " is larger than 10 MB.";
      }
      return "";
    };
    var check = function () {
      var problem = photoProblem();
      note.textContent = problem;
      note.hidden = !problem;
      if (problem) photos.setAttribute("aria-invalid", "true");
      else photos.removeAttribute("aria-invalid");
      return !problem;
    };
    photos.addEventListener("change", check);
    photos.form.addEventListener("submit", function (event) {
      if (!check()) {
        event.preventDefault();
        photos.focus();
      }
    });
  }

  /* Quick exit: leave at once, and replace this page in the history so Back does not return. */
  var exit = document.querySelector("[data-quick-exit]");
  if (exit) {
    var leave = function (event) {
      if (event) event.preventDefault();
      window.location.replace(exit.getAttribute("href"));
    };
    exit.addEventListener("click", leave);
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape") leave(event);
    });
  }
})();
