// The campaign dashboard: draws the per-minute (or per-hour) chart as SVG from the figures'
// own JSON, and while the campaign is live re-fetches the figures every few seconds and
// swaps them in place (no framework, no CDN).
(function () {
  "use strict";
  var container = document.getElementById("dashboard");
  if (!container) return;
  var SVG = "http://www.w3.org/2000/svg";
  var SERIES = ["submitted", "sent", "delivered"];

  function element(name, attributes) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attributes).forEach(function (key) { node.setAttribute(key, attributes[key]); });
    return node;
  }

  function draw() {
    var svg = container.querySelector("svg.timeseries");
    var source = container.querySelector("#series-data");
    if (!svg || !source) return;
    var data = JSON.parse(source.textContent);
    var width = 640, height = 240, left = 40, bottom = 20, top = 10;
    var count = data.labels.length;
    var highest = 1;
    SERIES.forEach(function (name) {
      data[name].forEach(function (n) { if (n > highest) highest = n; });
    });
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    svg.appendChild(element("line", { x1: left, y1: height - bottom, x2: width, y2: height - bottom, "class": "axis" }));
    svg.appendChild(element("line", { x1: left, y1: top, x2: left, y2: height - bottom, "class": "axis" }));
    var label = element("text", { x: 2, y: top + 10 });
    label.textContent = String(highest);
    svg.appendChild(label);
    if (count === 0) return;
    var x = function (i) { return left + (count === 1 ? 0.5 : i / (count - 1)) * (width - left - 4); };
    var y = function (n) { return height - bottom - (n / highest) * (height - bottom - top); };
    SERIES.forEach(function (name) {
      var points = data[name].map(function (n, i) { return x(i).toFixed(1) + "," + y(n).toFixed(1); });
      svg.appendChild(element("polyline", { points: points.join(" "), "class": name }));
    });
    var first = element("text", { x: left, y: height - 4 });
    first.textContent = data.labels[0];
    svg.appendChild(first);
    var last = element("text", { x: width - 4, y: height - 4, "text-anchor": "end" });
    last.textContent = data.labels[count - 1];
    svg.appendChild(last);
  }

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
        draw();
        if (live()) window.setTimeout(refresh, 5000);
      })
      .catch(function () { window.setTimeout(refresh, 15000); });
  }

  draw();
  if (live()) window.setTimeout(refresh, 5000);
})();
