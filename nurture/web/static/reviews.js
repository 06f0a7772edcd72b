// The NPS page's trend chart: the score per period as a line, its 95% interval as a
// shaded band. The table under it holds the same figures, so the page says everything
// without this file.
(function () {
  "use strict";

  function read(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function trend() {
    var data = read("nps-trend-data");
    var canvas = document.getElementById("nps-trend-chart");
    if (!data || !canvas) return;
    var band = "rgba(23, 116, 95, 0.14)";
    new window.Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: [
          // The band: the upper bound filled down to the lower bound (the previous dataset).
          { label: "95% interval, low", data: data.low, borderWidth: 0, pointRadius: 0, fill: false, spanGaps: false },
          { label: "95% interval", data: data.high, borderWidth: 0, pointRadius: 0, backgroundColor: band, fill: "-1", spanGaps: false },
          {
            label: "NPS", data: data.nps, borderColor: "#17745f", backgroundColor: "#17745f",
            borderWidth: 2, pointRadius: 3, fill: false, spanGaps: false, tension: 0
          }
        ]
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: {
            position: "bottom",
            labels: {
              boxWidth: 10, boxHeight: 10,
              filter: function (item) { return item.text !== "95% interval, low"; }
            }
          },
          tooltip: {
            filter: function (item) { return item.datasetIndex === 2; },
            callbacks: {
              afterLabel: function (item) {
                var i = item.dataIndex;
                if (data.low[i] === null) return "";
                return "95% interval " + Math.round(data.low[i]) + " to " + Math.round(data.high[i]) +
                  " · " + data.answers[i] + " answers";
              }
            }
          }
        },
        scales: {
          x: { grid: { display: false }, ticks: { maxRotation: 0, autoSkip: true } },
          y: { min: -100, max: 100, grid: { color: "#eef0f3" }, ticks: { stepSize: 25 } }
        }
      }
    });
  }

  function start() {
    if (!window.Chart) return;
    window.Chart.defaults.font.family = "'Inter Variable', system-ui, sans-serif";
    window.Chart.defaults.color = "#667085";
    trend();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
