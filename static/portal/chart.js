// The portal's charts (templates/reports/_chart.html): counts per minute, hour or day drawn
// as SVG from the page's own JSON (reports/timeseries.py), no library, no CDN.
//
// Few buckets are drawn as grouped bars with their values written on them, so that even a
// one-minute campaign reads at a glance; many as lines. Each series differs by colour AND by
// pattern (a hatched bar, a dashed line) and marker, so that series which coincide or a reader
// who cannot tell the colours apart can still tell them apart. Pointing at a bucket, or
// focusing the chart and using the arrow keys, shows its figures.
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  // Per series, in order: its look in lines and in bars.
  var LOOKS = [
    { cls: "s0", dash: "", marker: "circle", fill: "solid" },
    { cls: "s1", dash: "7 4", marker: "square", fill: "hatch" },
    { cls: "s2", dash: "2 3", marker: "diamond", fill: "outline" },
  ];
  var MIN_BAR_GROUP = 14; // px per bucket below which lines are drawn instead of bars
  var MIN_MARKER_GAP = 10; // px between points below which lines have no markers
  var charts = 0;

  function element(name, attributes, parent) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attributes).forEach(function (key) { node.setAttribute(key, attributes[key]); });
    if (parent) parent.appendChild(node);
    return node;
  }

  function text(parent, x, y, value, attributes) {
    var node = element("text", Object.assign({ x: x, y: y }, attributes || {}), parent);
    node.textContent = value;
    return node;
  }

  function number(n) { return Number(n).toLocaleString(); }

  // A round step for the y axis: 1, 2 or 5 times a power of ten, about a quarter of `top`.
  function niceStep(top) {
    var rough = Math.max(top / 4, 1);
    var power = Math.pow(10, Math.floor(Math.log10(rough)));
    var steps = [1, 2, 5, 10];
    for (var i = 0; i < steps.length; i++) {
      if (steps[i] * power >= rough) return steps[i] * power;
    }
    return 10 * power;
  }

  function marker(parent, kind, x, y, cls) {
    if (kind === "circle") return element("circle", { cx: x, cy: y, r: 3.5, "class": cls }, parent);
    if (kind === "square") return element("rect", { x: x - 3.5, y: y - 3.5, width: 7, height: 7, "class": cls }, parent);
    return element("path", { d: "M" + x + " " + (y - 4.5) + "l4.5 4.5l-4.5 4.5l-4.5-4.5z", "class": cls }, parent);
  }

  function patterns(svg, id) {
    var defs = element("defs", {}, svg);
    var hatch = element("pattern", { id: id + "-hatch", width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" }, defs);
    element("rect", { width: 6, height: 6, "class": "hatch-ground" }, hatch);
    element("line", { x1: 0, y1: 0, x2: 0, y2: 6, "class": "hatch-line s1" }, hatch);
  }

  function legend(list, data, bars, id) {
    if (!list) return;
    list.textContent = "";
    data.series.forEach(function (pair, i) {
      var look = LOOKS[i % LOOKS.length];
      var item = document.createElement("li");
      var swatch = element("svg", { width: 28, height: 14, viewBox: "0 0 28 14", "class": "swatch" }, item);
      if (bars) {
        element("rect", barAttributes(look, id, 6, 1, 16, 12), swatch);
      } else {
        element("line", { x1: 1, y1: 7, x2: 27, y2: 7, "class": "line " + look.cls, "stroke-dasharray": look.dash }, swatch);
        marker(swatch, look.marker, 14, 7, "marker " + look.cls);
      }
      item.appendChild(document.createTextNode(pair[1]));
      list.appendChild(item);
    });
  }

  function barAttributes(look, id, x, y, width, height) {
    var attributes = { x: x, y: y, width: width, height: height, "class": "cbar " + look.cls + " " + look.fill };
    if (look.fill === "hatch") attributes.fill = "url(#" + id + "-hatch)";
    return attributes;
  }

  function draw(svg) {
    var source = document.getElementById(svg.dataset.chart);
    if (!source) return;
    var data = JSON.parse(source.textContent);
    var figure = svg.closest("figure");
    var tip = figure && figure.querySelector(".chart-tip");
    var id = svg.dataset.chartId || (svg.dataset.chartId = "chart" + (++charts));
    var count = data.labels.length;
    var width = Math.max(svg.clientWidth, 200), height = Math.max(svg.clientHeight, 140);
    var left = 48, right = 12, top = 18, bottom = 24;
    var plotWidth = width - left - right, plotHeight = height - top - bottom;
    svg.setAttribute("viewBox", "0 0 " + width + " " + height);
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    patterns(svg, id);

    var highest = 0;
    data.series.forEach(function (pair) {
      data[pair[0]].forEach(function (n) { if (n > highest) highest = n; });
    });
    var step = niceStep(highest), most = Math.max(step, Math.ceil(highest / step) * step);
    var y = function (n) { return top + plotHeight - (n / most) * plotHeight; };
    for (var tick = 0; tick <= most; tick += step) {
      element("line", { x1: left, x2: width - right, y1: y(tick), y2: y(tick), "class": tick ? "grid" : "axis" }, svg);
      text(svg, left - 6, y(tick) + 4, number(tick), { "text-anchor": "end" });
    }
    var bars = count > 0 && plotWidth / count >= MIN_BAR_GROUP;
    legend(figure && figure.querySelector(".chart-legend"), data, bars, id);
    if (count === 0) {
      text(svg, left + plotWidth / 2, top + plotHeight / 2, "Nothing submitted yet", { "text-anchor": "middle", "class": "empty" });
      return;
    }

    // Bucket i spans [x0(i), x0(i) + group); lines put their point in its middle.
    var group = plotWidth / count;
    var x0 = function (i) { return left + i * group; };
    var middle = function (i) { return x0(i) + group / 2; };
    var series = data.series.map(function (pair) { return data[pair[0]]; });
    if (bars) {
      var barWidth = Math.min(40, (group * 0.8) / series.length);
      var groupWidth = barWidth * series.length;
      var labelled = count <= 24 && barWidth >= 14;
      series.forEach(function (values, s) {
        var look = LOOKS[s % LOOKS.length];
        values.forEach(function (n, i) {
          var x = middle(i) - groupWidth / 2 + s * barWidth;
          // A zero is a hairline on the axis, so that it reads as "0", not as missing.
          var h = Math.max(y(0) - y(n), n ? 1.5 : 0);
          element("rect", barAttributes(look, id, x + 1, y(0) - h, barWidth - 2, h), svg);
          if (labelled) text(svg, x + barWidth / 2, y(0) - h - 4, number(n), { "text-anchor": "middle", "class": "value" });
        });
      });
    } else {
      var markers = group >= MIN_MARKER_GAP;
      series.forEach(function (values, s) {
        var look = LOOKS[s % LOOKS.length];
        var points = values.map(function (n, i) { return middle(i).toFixed(1) + "," + y(n).toFixed(1); });
        element("polyline", { points: points.join(" "), "class": "line " + look.cls, "stroke-dasharray": look.dash }, svg);
        if (markers) values.forEach(function (n, i) { marker(svg, look.marker, middle(i), y(n), "marker " + look.cls); });
      });
    }

    // Bucket names under the axis: as many as fit, evenly spread, always the first and last.
    var room = Math.max(1, Math.floor(plotWidth / 90));
    var shown = {};
    for (var k = 0; k <= room; k++) shown[Math.round((k * (count - 1)) / Math.max(room, 1))] = true;
    Object.keys(shown).forEach(function (key) {
      var i = Number(key);
      var anchor = count === 1 ? "middle" : i === 0 ? "start" : i === count - 1 ? "end" : "middle";
      var x = anchor === "start" ? x0(i) : anchor === "end" ? x0(i) + group : middle(i);
      text(svg, x, height - 6, data.short[i], { "text-anchor": anchor });
    });

    // Reading a bucket's figures: a band over it and the figures beside it.
    var band = element("rect", { x: 0, y: top, width: group, height: plotHeight, "class": "focus-band", visibility: "hidden" }, svg);
    var catcher = element("rect", { x: left, y: top, width: plotWidth, height: plotHeight, "class": "catcher" }, svg);
    var current = -1;
    function show(i) {
      current = Math.max(0, Math.min(count - 1, i));
      band.setAttribute("x", x0(current));
      band.setAttribute("visibility", "visible");
      if (!tip) return;
      tip.textContent = "";
      var title = document.createElement("strong");
      title.textContent = data.labels[current];
      tip.appendChild(title);
      data.series.forEach(function (pair, s) {
        var line = document.createElement("span");
        line.className = "tip-line " + LOOKS[s % LOOKS.length].cls;
        line.textContent = pair[1] + ": " + number(data[pair[0]][current]);
        tip.appendChild(line);
      });
      tip.hidden = false;
      // Beside the bucket, not over it, on whichever side has more room; inside the frame.
      var scale = svg.getBoundingClientRect().width / width;
      var frame = svg.parentNode.getBoundingClientRect().width;
      var before = x0(current) * scale, after = (x0(current) + group) * scale;
      var place = frame - after > before ? after + 8 : before - tip.offsetWidth - 8;
      tip.style.left = Math.max(0, Math.min(frame - tip.offsetWidth, place)) + "px";
      tip.style.top = top * scale + "px";
    }
    function hide() {
      current = -1;
      band.setAttribute("visibility", "hidden");
      if (tip) tip.hidden = true;
    }
    function at(event) {
      var box = svg.getBoundingClientRect();
      var x = ((event.clientX - box.left) / box.width) * width;
      return Math.floor((x - left) / group);
    }
    catcher.addEventListener("mousemove", function (event) { show(at(event)); });
    catcher.addEventListener("mouseleave", hide);
    svg.onkeydown = function (event) {
      if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
        event.preventDefault();
        show(current < 0 ? (event.key === "ArrowRight" ? 0 : count - 1) : current + (event.key === "ArrowRight" ? 1 : -1));
      } else if (event.key === "Home" || event.key === "End") {
        event.preventDefault();
        show(event.key === "Home" ? 0 : count - 1);
      } else if (event.key === "Escape") {
        hide();
      }
    };
    svg.onblur = hide;
  }

  function drawAll(root) {
    Array.prototype.forEach.call((root || document).querySelectorAll("svg[data-chart]"), draw);
  }

  window.portalCharts = { drawAll: drawAll };
  var resized = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(resized);
    resized = window.setTimeout(function () { drawAll(document); }, 150);
  });
  drawAll(document);
})();
