// The Reports page's charts, drawn from the JSON each section embeds; the tables under
// them hold the same figures, so the page says everything without this file.
(function () {
  "use strict";

  var STAGE_COLOURS = {
    subscriber: "#a3b1c6", lead: "#4aa3c9", mql: "#2f9e74", sql: "#7c8ef0",
    opportunity: "#c46f3d", customer: "#1f6f54", former_customer: "#98a1af", other: "#c9589a"
  };
  var SERIES_COLOURS = {
    delivered: "#a3b1c6", opened: "#4aa3c9", clicked: "#7c8ef0", replied: "#c46f3d", qualified: "#2f9e74"
  };
  var STAGE_LABELS = {
    subscriber: "Subscriber", lead: "Lead", mql: "MQL", sql: "SQL", opportunity: "Opportunity",
    customer: "Customer", former_customer: "Former customer", other: "Other"
  };

  function read(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function stageLabel(stage) {
    return STAGE_LABELS[stage] || stage;
  }

  function capital(text) {
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  function options(stacked) {
    return {
      responsive: true, maintainAspectRatio: false, animation: false,
      interaction: { mode: "index", intersect: false },
      plugins: { legend: { position: "bottom", labels: { boxWidth: 10, boxHeight: 10, usePointStyle: true } } },
      scales: {
        x: { stacked: stacked, grid: { display: false }, ticks: { maxRotation: 0, autoSkip: true } },
        y: { stacked: stacked, beginAtZero: true, grid: { color: "#eef0f3" }, ticks: { precision: 0 } }
      }
    };
  }

  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (canvas) new window.Chart(canvas, config);
  }

  function funnel() {
    var data = read("funnel-chart-data");
    if (!data) return;
    draw("funnel-chart", {
      type: "bar",
      data: {
        labels: data.labels.map(stageLabel),
        datasets: [
          { label: "Reached", data: data.reached, backgroundColor: "#2f9e74", borderRadius: 3, maxBarThickness: 48 },
          { label: "Went on to the next stage", data: data.went_on, backgroundColor: "#a3d9c2", borderRadius: 3, maxBarThickness: 48 }
        ]
      },
      options: options(false)
    });
  }

  function movement() {
    var data = read("movement-chart-data");
    if (!data) return;
    var datasets = data.stages.map(function (pair) {
      var stage = pair[0];
      return {
        label: stageLabel(stage), data: pair[1],
        backgroundColor: STAGE_COLOURS[stage] || "#98a1af", borderRadius: 2, maxBarThickness: 28
      };
    });
    var labels = data.labels.map(function (day) {
      var d = new Date(day + "T00:00:00Z");
      var shape = data.interval === "month" ? { month: "short", year: "numeric" } : { day: "numeric", month: "short" };
      shape.timeZone = "UTC";
      return d.toLocaleDateString(undefined, shape);
    });
    draw("movement-chart", { type: "bar", data: { labels: labels, datasets: datasets }, options: options(true) });
  }

  function sequences() {
    var data = read("sequences-chart-data");
    if (!data) return;
    var datasets = data.series.map(function (pair) {
      var name = pair[0];
      return {
        label: capital(name), data: pair[1],
        backgroundColor: SERIES_COLOURS[name], borderRadius: 2, maxBarThickness: 22
      };
    });
    draw("sequences-chart", { type: "bar", data: { labels: data.labels, datasets: datasets }, options: options(false) });
  }

  function start() {
    if (!window.Chart) return;
    window.Chart.defaults.font.family = "'Inter Variable', system-ui, sans-serif";
    window.Chart.defaults.color = "#667085";
    funnel();
    movement();
    sequences();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
