// Delivery charts: each canvas.delivery-canvas carries its series as JSON in data-chart (days,
// succeeded, failed, lead_hours; totem_dashboard/pages_delivery.py); drawn with the vendored Chart.js.
(function () {
  "use strict";

  function draw(canvas) {
    var data = JSON.parse(canvas.dataset.chart || "{}");
    return new window.Chart(canvas, {
      data: {
        labels: data.days,
        datasets: [
          { type: "bar", label: "succeeded", data: data.succeeded, backgroundColor: "#2e7d4f", stack: "changes", yAxisID: "changes" },
          { type: "bar", label: "failed or rolled back", data: data.failed, backgroundColor: "#c0392b", stack: "changes", yAxisID: "changes" },
          { type: "line", label: "median lead time (h)", data: data.lead_hours, borderColor: "#2f5fa7",
            backgroundColor: "#2f5fa7", spanGaps: true, yAxisID: "hours" }
        ]
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        scales: {
          x: { stacked: true },
          changes: { type: "linear", position: "left", stacked: true, beginAtZero: true, ticks: { precision: 0 },
                     title: { display: true, text: "changes" } },
          hours: { type: "linear", position: "right", beginAtZero: true, grid: { drawOnChartArea: false },
                   title: { display: true, text: "lead time (h)" } }
        }
      }
    });
  }

  function start() {
    if (!window.Chart) { return; }
    document.querySelectorAll("canvas.delivery-canvas").forEach(function (canvas) {
      if (!window.Chart.getChart(canvas)) { draw(canvas); }
    });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
