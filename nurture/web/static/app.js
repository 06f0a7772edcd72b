// Nurture UI behaviour: the phone menu, confirmations, copy buttons and the home chart.
// Everything works without this file except the chart; it only makes pages nicer.
(function () {
  "use strict";

  function setupMenu() {
    var button = document.querySelector("[data-menu-toggle]");
    if (!button) return;
    button.addEventListener("click", function () {
      var open = document.body.classList.toggle("menu-open");
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && document.body.classList.contains("menu-open")) {
        document.body.classList.remove("menu-open");
        button.setAttribute("aria-expanded", "false");
        button.focus();
      }
    });
  }

  function setupConfirm() {
    document.addEventListener("click", function (event) {
      var target = event.target.closest("[data-confirm]");
      if (target && !window.confirm(target.getAttribute("data-confirm"))) {
        event.preventDefault();
      }
    });
  }

  function setupCopy() {
    document.addEventListener("click", function (event) {
      var button = event.target.closest("[data-copy]");
      if (!button) return;
      var source = document.querySelector(button.getAttribute("data-copy"));
      if (!source || !navigator.clipboard) return;
      navigator.clipboard.writeText(source.textContent.trim()).then(function () {
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = "Copy"; }, 2000);
      });
    });
  }

  // Colours per event type group; unknown groups take the spare colours in turn.
  var GROUP_COLOURS = {
    email: "#3b6fd8", page: "#1f9e89", form: "#8a5cd6", webinar: "#e0a028",
    task: "#3f9b5a", nps: "#d98a2b", project: "#64748b", deal: "#2f855a",
    referral: "#b05bc4", lead: "#d6546b", other: "#b8c0cc"
  };
  var SPARE = ["#4aa3c9", "#c46f3d", "#7c8ef0", "#6aa84f", "#c9589a"];

  function label(group) {
    return group.charAt(0).toUpperCase() + group.slice(1).replace(/_/g, " ");
  }

  function setupChart() {
    var canvas = document.getElementById("events-chart");
    var data = document.getElementById("events-chart-data");
    if (!canvas || !data || !window.Chart) return;
    var series = JSON.parse(data.textContent);
    var spare = 0;
    var datasets = Object.keys(series.groups).map(function (group) {
      var colour = GROUP_COLOURS[group] || SPARE[spare++ % SPARE.length];
      return {
        label: label(group), data: series.groups[group], backgroundColor: colour,
        borderRadius: 2, maxBarThickness: 14
      };
    });
    var labels = series.labels.map(function (day) {
      var d = new Date(day + "T00:00:00Z");
      return d.toLocaleDateString(undefined, { day: "numeric", month: "short", timeZone: "UTC" });
    });
    window.Chart.defaults.font.family = "'Inter Variable', system-ui, sans-serif";
    window.Chart.defaults.color = "#667085";
    new window.Chart(canvas, {
      type: "bar",
      data: { labels: labels, datasets: datasets },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: { position: "bottom", labels: { boxWidth: 10, boxHeight: 10, usePointStyle: true } },
          tooltip: { filter: function (item) { return item.raw > 0; } }
        },
        scales: {
          x: { stacked: true, grid: { display: false }, ticks: { maxTicksLimit: 8, maxRotation: 0 } },
          y: { stacked: true, beginAtZero: true, grid: { color: "#eef0f3" }, ticks: { precision: 0 } }
        }
      }
    });
  }

  function start() {
    setupMenu();
    setupConfirm();
    setupCopy();
    setupChart();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
