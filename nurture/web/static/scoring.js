// Scoring pages: condition rows you can add and remove, a plain-language preview of the
// rule as you type, and the contact page's score chart. The forms work without it
// (they offer blank rows), and the chart's figures are also in a table.
(function () {
  "use strict";

  var WORDS = {
    equals: "is", not_equals: "is not", in: "is one of", not_in: "is none of",
    contains: "contains", not_contains: "does not contain", starts_with: "starts with",
    gt: "is more than", gte: "is at least", lt: "is less than", lte: "is at most",
    between: "is between", at_least: "is at least", at_most: "is at most",
    is_set: "is set", is_not_set: "is not set"
  };
  var MAX_ROWS = { behaviour: 10, fit: 20 };

  function value(form, name) {
    var input = form.querySelector("[name='" + name + "']");
    return input ? input.value.trim() : "";
  }

  function shown(text) {
    if (/^-?\d+(\.\d+)?$/.test(text) || text === "true" || text === "false") return text;
    if (/^".*"$/.test(text)) text = text.slice(1, -1);
    return "'" + text + "'";
  }

  function phrases(form) {
    var out = [];
    form.querySelectorAll("[data-cond-row]").forEach(function (row) {
      var name = row.querySelector("[name$='-name']").value.trim();
      var op = row.querySelector("[name$='-op']").value;
      var text = row.querySelector("[name$='-value']").value.trim();
      if (!name && !text) return;
      var words = WORDS[op] || op;
      if (op === "is_set" || op === "is_not_set") out.push(name + " " + words);
      else if (op === "in" || op === "not_in") out.push(name + " " + words + " " + text.split(",").map(function (v) { return shown(v.trim()); }).join(", "));
      else if (op === "between") out.push(name + " " + words + " " + text);
      else out.push(name + " " + words + " " + shown(text));
    });
    return out;
  }

  function signed(points) {
    var n = parseInt(points, 10);
    if (isNaN(n)) return "? points";
    return (n > 0 ? "+" : n < 0 ? "−" : "") + Math.abs(n);
  }

  function preview(form) {
    var kind = form.getAttribute("data-rule-form");
    var text = signed(value(form, "points")) + " when ";
    var parts = phrases(form);
    if (kind === "behaviour") {
      text += value(form, "event_type") || "…";
      var count = value(form, "threshold_count"), within = value(form, "threshold_days");
      if (count && within) text += " happens " + count + " times within " + within + " days";
      if (parts.length) text += " where " + parts.join(" and ");
      var cap = value(form, "cap_points"), days = value(form, "cap_days");
      if (cap && days) text += ", at most " + cap + " per " + (days === "1" ? "day" : days + " days");
    } else {
      var any = form.querySelector("[name='match'][value='any']");
      var joiner = any && any.checked ? " or " : " and ";
      text += parts.length ? parts.join(joiner) : value(form, "condition_json") ? "(the JSON condition)" : "…";
    }
    return text;
  }

  function renumber(row, index) {
    row.querySelectorAll("input, select, label").forEach(function (el) {
      ["id", "name", "for"].forEach(function (attr) {
        var v = el.getAttribute(attr);
        if (v) el.setAttribute(attr, v.replace(/^(c|cond-)\d+/, "$1" + index));
      });
    });
    var legend = row.querySelector("legend");
    if (legend) legend.textContent = "Condition " + (index + 1);
  }

  function setupRows(form) {
    var box = form.querySelector("[data-cond-rows]");
    var add = form.querySelector("[data-cond-add]");
    if (!box || !add) return;
    var limit = MAX_ROWS[form.getAttribute("data-rule-form")] || 10;
    function refresh() {
      var rows = box.querySelectorAll("[data-cond-row]");
      rows.forEach(function (row, i) {
        renumber(row, i);
        row.querySelector("[data-cond-remove]").hidden = rows.length < 2;
      });
      add.hidden = rows.length >= limit;
    }
    add.addEventListener("click", function () {
      var rows = box.querySelectorAll("[data-cond-row]");
      var copy = rows[rows.length - 1].cloneNode(true);
      copy.classList.remove("has-error");
      copy.querySelectorAll(".cond-errors").forEach(function (el) { el.remove(); });
      copy.querySelectorAll("input").forEach(function (el) { el.value = ""; el.removeAttribute("aria-invalid"); });
      box.appendChild(copy);
      refresh();
      copy.querySelector("input").focus();
    });
    box.addEventListener("click", function (event) {
      var button = event.target.closest("[data-cond-remove]");
      if (!button) return;
      button.closest("[data-cond-row]").remove();
      refresh();
      form.dispatchEvent(new Event("input"));
    });
    refresh();
  }

  function setupForm() {
    var form = document.querySelector("[data-rule-form]");
    if (!form) return;
    setupRows(form);
    var out = form.querySelector("[data-live-preview]");
    function update() { if (out) out.textContent = preview(form); }
    form.addEventListener("input", update);
    form.addEventListener("change", update);
    update();
  }

  function setupChart() {
    var canvas = document.getElementById("score-chart");
    var data = document.getElementById("score-chart-data");
    if (!canvas || !data || !window.Chart) return;
    var series = JSON.parse(data.textContent);
    new window.Chart(canvas, {
      type: "line",
      data: { labels: series.labels, datasets: [{ label: "Score", data: series.scores, borderColor: "#3b4fa0",
        backgroundColor: "rgba(59, 79, 160, 0.12)", fill: true, stepped: true, pointRadius: 2 }] },
      options: { maintainAspectRatio: false, animation: false, plugins: { legend: { display: false } },
        scales: { y: { ticks: { precision: 0 } }, x: { ticks: { maxTicksLimit: 6, maxRotation: 0 } } } }
    });
  }

  function start() {
    setupForm();
    setupChart();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
