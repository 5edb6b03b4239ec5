/* The analytics dashboard's charts (analytics/templates/analytics/dashboard.html).
 * Each <canvas data-chart="ID"> is drawn from the JSON in <script type="application/json" id="ID">
 * (Django's json_script), with Chart.js from static/js/chart.umd.js. No inline code: strict CSP.
 * After an htmx swap the blocks are read from the response (htmx removes swapped-in scripts).
 * Charts are redrawn after htmx swaps in new results (a filter change). */
(function () {
  "use strict";

  var palette = { ok: "#1f8a4c", warn: "#c77c02", bad: "#c0392b", muted: "#8a94a6", info: "#2f5bd3" };
  var drawn = [];
  var swapped = {}; // json_script blocks of the last htmx swap, by id

  function config(spec) {
    var horizontal = !!spec.horizontal;
    var stacked = !!spec.stacked;
    var valueAxis = { stacked: stacked, beginAtZero: true, title: { display: !!spec.yTitle, text: spec.yTitle || "" } };
    var labelAxis = { stacked: stacked, ticks: { autoSkip: true, maxRotation: 60 } };
    return {
      type: spec.kind || "bar",
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map(function (d) {
          return { label: d.label, data: d.data, backgroundColor: palette[d.color] || palette.info };
        })
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        indexAxis: horizontal ? "y" : "x",
        plugins: { legend: { display: spec.datasets.length > 1, position: "bottom" } },
        scales: horizontal ? { x: valueAxis, y: labelAxis } : { x: labelAxis, y: valueAxis }
      }
    };
  }

  function draw(root) {
    if (!window.Chart || !root) return;
    root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var source = document.getElementById(canvas.dataset.chart);
      var text = source ? source.textContent : swapped[canvas.dataset.chart];
      // Other swaps settle too (the notifications poll): draw each canvas once.
      if (!text || canvas.dataset.drawn || window.Chart.getChart(canvas)) return;
      drawn.push(new window.Chart(canvas, config(JSON.parse(text))));
      canvas.dataset.drawn = "true";
    });
  }

  function clear() {
    drawn.forEach(function (chart) { chart.destroy(); });
    drawn = [];
  }

  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (!(event.detail.target && event.detail.target.id === "results" && event.detail.shouldSwap)) return;
    clear();
    // htmx drops every <script> it swaps in (allowScriptTags: false in base.html), the json_script data
    // blocks too: read them from the response first. DOMParser only parses; nothing runs.
    swapped = {};
    var doc = new DOMParser().parseFromString(event.detail.serverResponse, "text/html");
    doc.querySelectorAll('script[type="application/json"][id]').forEach(function (block) {
      swapped[block.id] = block.textContent;
    });
  });
  document.addEventListener("htmx:afterSettle", function () { draw(document.getElementById("results")); });
})();
