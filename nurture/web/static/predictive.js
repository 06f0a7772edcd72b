// The predictive model page: the calibration chart (mean predicted against observed rate
// per held-out decile). The table below it holds the same numbers without script.
(function () {
  "use strict";

  function setupCalibrationChart() {
    var canvas = document.getElementById("calibration-chart");
    var source = document.getElementById("calibration-chart-data");
    if (!canvas || !source || !window.Chart) return;
    var data = JSON.parse(source.textContent);
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [
          { label: "Mean predicted %", data: data.predicted, backgroundColor: "#3b6fd8", borderRadius: 2 },
          { label: "Observed rate %", data: data.observed, backgroundColor: "#1f9e89", borderRadius: 2 }
        ]
      },
      options: {
        maintainAspectRatio: false, animation: false,
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { position: "bottom", labels: { boxWidth: 10, boxHeight: 10 } } },
        scales: {
          x: { title: { display: true, text: "Decile of predicted probability" }, grid: { display: false } },
          y: { beginAtZero: true, suggestedMax: 100, ticks: { callback: function (v) { return v + "%"; } } }
        }
      }
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setupCalibrationChart);
  else setupCalibrationChart();
})();
