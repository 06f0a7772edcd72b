// The experiment pages. Results: three Chart.js charts drawn from the JSON the page
// carries (rates with their 95 % intervals as floating bars, each variant's posterior
// density, a bandit's shares over time); the table above holds the same numbers without
// script. Editor: "Add variant" / "Remove" rows, and the live sample-size line (htmx).
(function () {
  "use strict";

  var COLOURS = ["#3b6fd8", "#1f9e89", "#d8893b", "#9b59b6", "#c2394f", "#5d6676"];

  function colour(index, alpha) {
    var hex = COLOURS[index % COLOURS.length];
    if (alpha === undefined) return hex;
    var n = parseInt(hex.slice(1), 16);
    return "rgba(" + (n >> 16) + "," + ((n >> 8) & 255) + "," + (n & 255) + "," + alpha + ")";
  }

  function percentTick(v) { return v + "%"; }

  var legend = { position: "bottom", labels: { boxWidth: 10, boxHeight: 10 } };

  function drawRates(data, words) {
    var canvas = document.getElementById("rates-chart");
    if (!canvas || !data) return;
    new window.Chart(canvas, {
      data: {
        labels: data.labels,
        datasets: [
          {
            type: "bar", label: words.interval, data: data.intervals,
            backgroundColor: data.labels.map(function (_, i) { return colour(i, 0.25); }),
            borderColor: data.labels.map(function (_, i) { return colour(i); }),
            borderWidth: 1, borderSkipped: false, barPercentage: 0.45
          },
          {
            type: "scatter", label: words.rate_axis, data: data.rates,
            backgroundColor: "#1b2333", pointRadius: 5, pointStyle: "rectRot"
          }
        ]
      },
      options: {
        maintainAspectRatio: false, animation: false,
        plugins: {
          legend: legend,
          tooltip: {
            callbacks: {
              label: function (ctx) {
                var v = ctx.raw;
                if (Array.isArray(v)) return words.interval + ": " + v[0] + "% … " + v[1] + "%";
                return words.rate_axis + ": " + v + "%";
              }
            }
          }
        },
        scales: {
          x: { grid: { display: false } },
          y: { beginAtZero: true, title: { display: true, text: words.rate_axis }, ticks: { callback: percentTick } }
        }
      }
    });
  }

  function drawPosterior(data, words) {
    var canvas = document.getElementById("posterior-chart");
    if (!canvas || !data) return;
    new window.Chart(canvas, {
      type: "line",
      data: {
        datasets: data.series.map(function (s, i) {
          return {
            label: s.label, data: s.points, parsing: false, pointRadius: 0, borderWidth: 2,
            borderColor: colour(i), backgroundColor: colour(i, 0.15), fill: true, tension: 0.2
          };
        })
      },
      options: {
        maintainAspectRatio: false, animation: false,
        interaction: { mode: "nearest", axis: "x", intersect: false },
        plugins: { legend: legend },
        scales: {
          x: { type: "linear", title: { display: true, text: words.rate_axis }, ticks: { callback: percentTick } },
          y: { beginAtZero: true, title: { display: true, text: words.density_axis } }
        }
      }
    });
  }

  function drawAllocation(data, words) {
    var canvas = document.getElementById("allocation-chart");
    if (!canvas || !data) return;
    new window.Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: data.series.map(function (s, i) {
          return { label: s.label, data: s.data, borderColor: colour(i), backgroundColor: colour(i), stepped: true, pointRadius: 2 };
        })
      },
      options: {
        maintainAspectRatio: false, animation: false,
        interaction: { mode: "index", intersect: false },
        plugins: { legend: legend },
        scales: {
          x: { grid: { display: false } },
          y: { min: 0, max: 100, title: { display: true, text: words.share_axis }, ticks: { callback: percentTick } }
        }
      }
    });
  }

  function setupCharts() {
    var source = document.getElementById("experiment-chart-data");
    if (!source || !window.Chart) return;
    var charts = JSON.parse(source.textContent);
    drawRates(charts.rates, charts.words);
    drawPosterior(charts.posterior, charts.words);
    drawAllocation(charts.allocation, charts.words);
  }

  // Editor ------------------------------------------------------------------------------

  function renumber(list) {
    var rows = list.querySelectorAll("[data-variant-row]");
    var arms = rows.length;
    rows.forEach(function (row, index) {
      var key = String.fromCharCode(97 + index);
      var badge = row.querySelector("[data-variant-key]");
      if (badge) badge.textContent = key;
    });
    var add = document.querySelector("[data-add-variant]");
    if (add) add.disabled = arms >= Number(add.getAttribute("data-max"));
    var count = document.getElementById("sample-arms");
    if (count) {
      count.value = String(Math.max(arms, 2));
      count.dispatchEvent(new Event("change", { bubbles: true }));
    }
    var fallback = document.getElementById("default-variant");
    if (fallback && fallback.getAttribute("data-by-position") !== null) {
      var chosen = fallback.value;
      fallback.innerHTML = "";
      for (var i = 0; i < arms; i += 1) {
        var option = document.createElement("option");
        option.value = option.textContent = String.fromCharCode(97 + i);
        fallback.appendChild(option);
      }
      fallback.value = chosen && chosen.charCodeAt(0) - 97 < arms ? chosen : "a";
    }
  }

  function setupEditor() {
    var list = document.getElementById("variant-rows");
    var blank = document.getElementById("variant-row-template");
    if (!list) return;
    var next = Number(list.getAttribute("data-next") || list.children.length);
    document.addEventListener("click", function (event) {
      var add = event.target.closest("[data-add-variant]");
      if (add && blank) {
        var html = blank.innerHTML.replace(/__N__/g, String(next));
        next += 1;
        list.insertAdjacentHTML("beforeend", html);
        renumber(list);
        var fresh = list.lastElementChild.querySelector("input");
        if (fresh) fresh.focus();
        return;
      }
      var remove = event.target.closest("[data-remove-variant]");
      if (remove) {
        remove.closest("[data-variant-row]").remove();
        renumber(list);
      }
    });
  }

  function setup() {
    setupCharts();
    setupEditor();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setup);
  else setup();
})();
