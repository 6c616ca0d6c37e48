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
    // Drawn in the element's own pixels, so that text and dots keep their shape at any width.
    var width = Math.max(svg.clientWidth, 200), height = Math.max(svg.clientHeight, 120);
    var left = 40, bottom = 20, top = 10, right = 8;
    svg.setAttribute("viewBox", "0 0 " + width + " " + height);
    var count = data.labels.length;
    var highest = 1;
    SERIES.forEach(function (name) {
      data[name].forEach(function (n) { if (n > highest) highest = n; });
    });
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    svg.appendChild(element("line", { x1: left, y1: height - bottom, x2: width - right, y2: height - bottom, "class": "axis" }));
    svg.appendChild(element("line", { x1: left, y1: top, x2: left, y2: height - bottom, "class": "axis" }));
    var most = element("text", { x: left - 6, y: top + 10, "text-anchor": "end" });
    most.textContent = String(highest);
    svg.appendChild(most);
    var zero = element("text", { x: left - 6, y: height - bottom, "text-anchor": "end" });
    zero.textContent = "0";
    svg.appendChild(zero);
    if (count === 0) return;
    var span = width - left - right - 8;
    var x = function (i) { return left + 4 + (count === 1 ? 0.5 : i / (count - 1)) * span; };
    var y = function (n) { return height - bottom - (n / highest) * (height - bottom - top); };
    // Dots where the points are few enough to tell apart; one point is a dot and nothing else.
    var dots = count <= span / 6;
    SERIES.forEach(function (name) {
      var points = data[name].map(function (n, i) { return x(i).toFixed(1) + "," + y(n).toFixed(1); });
      svg.appendChild(element("polyline", { points: points.join(" "), "class": name }));
      if (!dots) return;
      data[name].forEach(function (n, i) {
        svg.appendChild(element("circle", { cx: x(i).toFixed(1), cy: y(n).toFixed(1), r: 3, "class": name }));
      });
    });
    var first = element("text", { x: left, y: height - 4 });
    first.textContent = data.labels[0];
    svg.appendChild(first);
    if (count > 1) {
      var last = element("text", { x: width - right, y: height - 4, "text-anchor": "end" });
      last.textContent = data.labels[count - 1];
      svg.appendChild(last);
    }
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

  var resized = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(resized);
    resized = window.setTimeout(draw, 150);
  });
  draw();
  if (live()) window.setTimeout(refresh, 5000);
})();
