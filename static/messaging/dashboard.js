// The campaign dashboard: while the campaign is live, re-fetch the figures every few seconds,
// swap them in place and redraw the chart (static/portal/chart.js); no framework, no CDN.
(function () {
  "use strict";
  var container = document.getElementById("dashboard");
  if (!container) return;

  function live() {
    var figures = container.querySelector(".figures");
    return figures && figures.dataset.live === "true";
  }

  function refresh() {
    fetch(container.dataset.src, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        // Our own server-rendered fragment, escaped by Django's templates.
        container.innerHTML = html;
        if (window.portalCharts) window.portalCharts.drawAll(container);
        if (live()) window.setTimeout(refresh, 5000);
      })
      .catch(function () { window.setTimeout(refresh, 15000); });
  }

  if (live()) window.setTimeout(refresh, 5000);
})();
