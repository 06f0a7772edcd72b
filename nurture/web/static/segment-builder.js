// The segment rule builder, and the size chart on a segment's page.
//
// The rule document (JSON) is the state. Every change edits that object, then
// the tree is drawn again from it and serialised into the form's hidden
// textarea; typing inside a value box only updates the object (so focus stays).
// A debounced POST of the document to the preview endpoint shows the count and
// a sample; problems come back with paths like `rule.all[2].any[0].value`,
// which every drawn node knows, so each message lands next to its widget.
(function () {
  "use strict";

  var OPERATOR_LABELS = {
    equals: "is", not_equals: "is not", in: "is any of", not_in: "is none of",
    contains: "contains", not_contains: "does not contain", starts_with: "starts with",
    gt: "is more than", gte: "is at least", lt: "is less than", lte: "is at most",
    between: "is between", is_set: "is set", is_not_set: "is not set",
    before: "is before", after: "is after", within_last_days: "is in the last",
    more_than_days_ago: "is more than", at_least: "at least", at_most: "at most",
    exactly: "exactly", never: "never", member: "is in", not_member: "is not in"
  };
  var GROUP_LABELS = { all: "All of", any: "Any of", none: "None of" };
  var DEBOUNCE_MS = 350;

  var catalogue, fieldsByName, doc, root, textarea, timer, sequence = 0;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else if (key.slice(0, 2) === "on") node.addEventListener(key.slice(2), attrs[key]);
      else if (attrs[key] !== null && attrs[key] !== undefined && attrs[key] !== false) node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function select(options, value, onchange, label, multiple) {
    var box = el("select", { "aria-label": label, multiple: multiple ? "multiple" : null, onchange: onchange });
    options.forEach(function (option) {
      var pair = Array.isArray(option) ? option : [option, option];
      var chosen = multiple ? (value || []).indexOf(pair[0]) >= 0 : pair[0] === value;
      box.appendChild(el("option", { value: pair[0], selected: chosen ? "selected" : null, text: pair[1] }));
    });
    return box;
  }

  function ops(names) {
    return names.map(function (op) { return [op, OPERATOR_LABELS[op] || op]; });
  }

  // --- The tree: groups are {all: [...]}, {any: [...]} or {not: {any: [...]}} ("none of").

  function groupMode(node) {
    if (node.all) return "all";
    if (node.any) return "any";
    return "none";
  }

  function groupItems(node) {
    if (node.all) return node.all;
    if (node.any) return node.any;
    if (!node.not.any) node.not = { any: [node.not] };
    return node.not.any;
  }

  function itemsPath(node, path) {
    var mode = groupMode(node);
    return mode === "none" ? path + ".not.any" : path + "." + mode;
  }

  function isGroup(node) {
    return node && (Array.isArray(node.all) || Array.isArray(node.any) || node.not !== undefined);
  }

  function setGroupMode(node, mode) {
    var items = groupItems(node);
    delete node.all; delete node.any; delete node.not;
    if (mode === "none") node.not = { any: items };
    else node[mode] = items;
  }

  function newCondition() {
    var industries = (catalogue.suggestions || {})["company.industry"] || [];
    return { field: "company.industry", op: "equals", value: industries[0] || "" };
  }

  function drawGroup(node, path, parentItems, index) {
    var items = groupItems(node);
    var list = el("div", { class: "rule-items" });
    items.forEach(function (child, i) {
      var childPath = itemsPath(node, path) + "[" + i + "]";
      list.appendChild(isGroup(child) ? drawGroup(child, childPath, items, i) : drawCondition(child, childPath, items, i));
    });
    if (!items.length) {
      list.appendChild(el("p", { class: "muted small rule-empty", text: "No conditions yet: everyone matches." }));
    }
    var head = el("div", { class: "rule-group-head" }, [
      select([["all", GROUP_LABELS.all], ["any", GROUP_LABELS.any], ["none", GROUP_LABELS.none]],
        groupMode(node), function (event) { setGroupMode(node, event.target.value); changed(true); }, "Group matches"),
      el("span", { class: "muted small", text: "these conditions" }),
      parentItems ? el("button", { type: "button", class: "btn btn-small btn-ghost rule-remove", "aria-label": "Remove group",
        text: "Remove group", onclick: function () { parentItems.splice(index, 1); changed(true); } }) : null
    ]);
    var actions = el("div", { class: "rule-actions" }, [
      el("button", { type: "button", class: "btn btn-small", text: "+ Condition",
        onclick: function () { items.push(newCondition()); changed(true); } }),
      el("button", { type: "button", class: "btn btn-small btn-ghost", text: "+ Group",
        onclick: function () { items.push({ any: [newCondition()] }); changed(true); } })
    ]);
    return el("div", { class: "rule-group" + (parentItems ? " rule-nested" : ""), "data-path": path }, [
      head, list, actions, el("p", { class: "field-error rule-error", hidden: "hidden" })
    ]);
  }

  // --- Conditions: a subject (field, custom attribute, event, segment), an operator, values.

  function subjectOf(node) {
    if (node.event !== undefined) return "event";
    if (node.segment !== undefined) return "segment";
    if (String(node.field).indexOf("attributes.") === 0) return "attribute";
    return "field:" + node.field;
  }

  function subjectOptions() {
    var options = catalogue.fields.map(function (f) { return ["field:" + f.name, f.label]; });
    options.push(["attribute", "Custom attribute…"], ["event", "Behaviour: had an event…"]);
    if (catalogue.segments.length) options.push(["segment", "Member of segment…"]);
    return options;
  }

  function resetSubject(node, subject) {
    Object.keys(node).forEach(function (key) { delete node[key]; });
    if (subject === "event") {
      node.event = "email.clicked"; node.op = "at_least"; node.times = 1; node.within_last_days = 30;
    } else if (subject === "segment") {
      node.segment = catalogue.segments[0].id; node.op = "member";
    } else if (subject === "attribute") {
      node.field = "attributes."; node.op = "equals"; node.value = "";
    } else {
      var spec = fieldsByName[subject.slice(6)];
      node.field = spec.name; node.op = spec.operators[0]; node.value = defaultValue(spec, node.op);
    }
  }

  function defaultValue(spec, op) {
    if (op === "is_set" || op === "is_not_set") return undefined;
    if (op === "in" || op === "not_in") return spec.choices.length ? [spec.choices[0]] : [];
    if (op === "between") return spec.type === "date" ? ["", ""] : [0, 0];
    if (op === "within_last_days" || op === "more_than_days_ago") return 30;
    if (spec.type === "boolean") return false;
    if (spec.choices.length) return spec.choices[0];
    if (spec.type === "number" || spec.type === "reference") return 0;
    return "";
  }

  function drawCondition(node, path, parentItems, index) {
    var subject = subjectOf(node);
    var parts = [select(subjectOptions(), subject, function (event) {
      resetSubject(node, event.target.value); changed(true);
    }, "Condition on")];
    if (subject === "event") parts = parts.concat(eventParts(node));
    else if (subject === "segment") parts = parts.concat(segmentParts(node));
    else if (subject === "attribute") parts = parts.concat(attributeParts(node));
    else parts = parts.concat(fieldParts(node, fieldsByName[node.field]));
    parts.push(el("button", { type: "button", class: "icon-button rule-remove", "aria-label": "Remove condition", title: "Remove condition",
      text: "×", onclick: function () { parentItems.splice(index, 1); changed(true); } }));
    var row = el("div", { class: "rule-row" }, parts);
    var extra = subject === "event" ? whereParts(node) : null;
    return el("div", { class: "rule-condition", "data-path": path }, [
      row, extra, el("p", { class: "field-error rule-error", hidden: "hidden" })
    ]);
  }

  function input(type, value, key, onvalue, attrs) {
    var box = el("input", Object.assign({ type: type, value: value === undefined || value === null ? "" : value,
      "data-key": key, "aria-label": key, oninput: function (event) { onvalue(event.target.value); changed(false); } }, attrs || {}));
    return box;
  }

  function asNumber(text) {
    var number = Number(text);
    return text.trim() !== "" && isFinite(number) ? number : text;
  }

  function asDays(text) {
    var number = Number(text);
    return /^\d+$/.test(text.trim()) ? number : text;
  }

  function fieldParts(node, spec) {
    var parts = [select(ops(spec.operators), node.op, function (event) {
      node.op = event.target.value; node.value = defaultValue(spec, node.op);
      if (node.value === undefined) delete node.value;
      changed(true);
    }, "Operator")];
    var op = node.op;
    var suggestions = spec.choices.length ? spec.choices : ((catalogue.suggestions || {})[spec.name] || []);
    function set(value) { node.value = value; }
    if (op === "is_set" || op === "is_not_set") return parts;
    if (spec.type === "boolean") {
      parts.push(select([["true", "yes"], ["false", "no"]], String(node.value), function (event) {
        node.value = event.target.value === "true"; changed(false);
      }, "value"));
    } else if (op === "in" || op === "not_in") {
      if (suggestions.length) {
        var multi = select(suggestions, node.value, function (event) {
          node.value = Array.prototype.filter.call(event.target.options, function (o) { return o.selected; })
            .map(function (o) { return o.value; });
          changed(false);
        }, "value", true);
        multi.setAttribute("data-key", "value");
        multi.size = Math.min(5, suggestions.length);
        parts.push(multi);
      } else {
        parts.push(input("text", (node.value || []).join(", "), "value", function (text) {
          node.value = text.split(",").map(function (v) { return v.trim(); }).filter(Boolean)
            .map(spec.type === "number" || spec.type === "reference" ? asNumber : String);
        }, { placeholder: "comma, separated" }));
      }
    } else if (op === "between") {
      var kind = spec.type === "date" ? "date" : "number";
      var convert = kind === "date" ? String : asNumber;
      var pair = node.value || ["", ""];
      parts.push(input(kind, pair[0], "value[0]", function (v) { pair[0] = convert(v); set(pair); }));
      parts.push(el("span", { class: "muted small", text: "and" }));
      parts.push(input(kind, pair[1], "value[1]", function (v) { pair[1] = convert(v); set(pair); }));
    } else if (op === "within_last_days" || op === "more_than_days_ago") {
      parts.push(input("number", node.value, "value", function (v) { set(asDays(v)); }, { min: 1, class: "input-short" }));
      parts.push(el("span", { class: "muted small", text: op === "within_last_days" ? "days" : "days ago" }));
    } else if (spec.type === "date") {
      parts.push(input("date", node.value, "value", function (v) { set(v); }));
    } else if (spec.choices.length) {
      parts.push(select(spec.choices, node.value, function (event) { node.value = event.target.value; changed(false); }, "value"));
    } else if (spec.type === "number" || spec.type === "reference") {
      parts.push(input("number", node.value, "value", function (v) { set(asNumber(v)); }, { class: "input-short" }));
    } else {
      var listId = suggestions.length ? "suggest-" + spec.name.replace(/\W/g, "-") : null;
      parts.push(input("text", node.value, "value", function (v) { set(v); }, { list: listId }));
      if (listId && !document.getElementById(listId)) {
        document.body.appendChild(el("datalist", { id: listId }, suggestions.map(function (s) { return el("option", { value: s }); })));
      }
    }
    return parts;
  }

  function attributeParts(node) {
    var key = String(node.field).slice("attributes.".length);
    return [
      input("text", key, "field", function (v) { node.field = "attributes." + v.trim(); }, { placeholder: "attribute name", class: "input-short" }),
    ].concat(jsonTestParts(node, catalogue.attribute_operators));
  }

  // Custom attributes and event properties hold JSON: numbers for comparisons, text otherwise.
  function jsonTestParts(node, operators) {
    var parts = [select(ops(operators), node.op, function (event) {
      node.op = event.target.value;
      if (node.op === "is_set" || node.op === "is_not_set") delete node.value;
      else if (node.op === "between") node.value = [0, 0];
      else if (node.op === "in" || node.op === "not_in") node.value = [];
      else if (["gt", "gte", "lt", "lte"].indexOf(node.op) >= 0) node.value = 0;
      else node.value = "";
      changed(true);
    }, "Operator")];
    var op = node.op;
    if (op === "is_set" || op === "is_not_set") return parts;
    if (op === "between") {
      var pair = node.value || [0, 0];
      parts.push(input("number", pair[0], "value[0]", function (v) { pair[0] = asNumber(v); node.value = pair; }, { class: "input-short" }));
      parts.push(el("span", { class: "muted small", text: "and" }));
      parts.push(input("number", pair[1], "value[1]", function (v) { pair[1] = asNumber(v); node.value = pair; }, { class: "input-short" }));
    } else if (op === "in" || op === "not_in") {
      parts.push(input("text", (node.value || []).join(", "), "value", function (text) {
        node.value = text.split(",").map(function (v) { return v.trim(); }).filter(Boolean);
      }, { placeholder: "comma, separated" }));
    } else if (["gt", "gte", "lt", "lte"].indexOf(op) >= 0) {
      parts.push(input("number", node.value, "value", function (v) { node.value = asNumber(v); }, { class: "input-short" }));
    } else {
      parts.push(input("text", node.value, "value", function (v) { node.value = v; }));
    }
    return parts;
  }

  function eventParts(node) {
    var listId = "event-types";
    if (!document.getElementById(listId)) {
      document.body.appendChild(el("datalist", { id: listId }, catalogue.event_types.map(function (t) { return el("option", { value: t }); })));
    }
    var parts = [
      input("text", node.event, "event", function (v) { node.event = v.trim(); }, { list: listId, class: "input-event" }),
      select(ops(catalogue.event_operators), node.op || "at_least", function (event) {
        node.op = event.target.value;
        if (node.op === "never") delete node.times;
        else if (node.times === undefined) node.times = 1;
        changed(true);
      }, "How often")
    ];
    if (node.op !== "never") {
      parts.push(input("number", node.times, "times", function (v) { node.times = asDays(v); }, { min: 0, class: "input-short" }));
      parts.push(el("span", { class: "muted small", text: "times" }));
    }
    var windowKind = node.within_last_days !== undefined ? "days" : node.between !== undefined ? "dates" : "ever";
    parts.push(select([["ever", "ever"], ["days", "in the last…"], ["dates", "between dates…"]], windowKind, function (event) {
      delete node.within_last_days; delete node.between;
      if (event.target.value === "days") node.within_last_days = 30;
      if (event.target.value === "dates") node.between = ["", ""];
      changed(true);
    }, "When"));
    if (windowKind === "days") {
      parts.push(input("number", node.within_last_days, "within_last_days", function (v) { node.within_last_days = asDays(v); }, { min: 1, class: "input-short" }));
      parts.push(el("span", { class: "muted small", text: "days" }));
    } else if (windowKind === "dates") {
      parts.push(input("date", node.between[0], "between[0]", function (v) { node.between[0] = v; }));
      parts.push(input("date", node.between[1], "between[1]", function (v) { node.between[1] = v; }));
    }
    return parts;
  }

  function whereParts(node) {
    var tests = node.where || [];
    var rows = tests.map(function (test, i) {
      var row = el("div", { class: "rule-row rule-where", "data-path-suffix": "where[" + i + "]" }, [
        el("span", { class: "muted small", text: "with" }),
        input("text", test.property, "where[" + i + "].property", function (v) { test.property = v.trim(); }, { placeholder: "property, e.g. url", class: "input-short" })
      ].concat(jsonTestParts(test, catalogue.property_operators)).concat([
        el("button", { type: "button", class: "icon-button rule-remove", "aria-label": "Remove property condition", text: "×",
          onclick: function () { tests.splice(i, 1); if (!tests.length) delete node.where; changed(true); } })
      ]));
      // The shared value widgets say "value"; inside a property test it is where[i].value.
      Array.prototype.forEach.call(row.querySelectorAll("[data-key^='value']"), function (box) {
        box.setAttribute("data-key", "where[" + i + "]." + box.getAttribute("data-key"));
      });
      return row;
    });
    rows.push(el("button", { type: "button", class: "btn btn-small btn-ghost rule-add-where", text: "+ Property condition",
      onclick: function () { node.where = tests; tests.push({ property: "url", op: "contains", value: "" }); changed(true); } }));
    return el("div", { class: "rule-where-list" }, rows);
  }

  function segmentParts(node) {
    return [
      select(ops(catalogue.segment_operators), node.op || "member", function (event) { node.op = event.target.value; changed(false); }, "Membership"),
      select(catalogue.segments.map(function (s) { return [String(s.id), s.name]; }), String(node.segment), function (event) {
        node.segment = Number(event.target.value); changed(false);
      }, "Segment")
    ];
  }

  // --- State changes, preview and problems.

  function changed(redraw) {
    if (redraw) draw();
    textarea.value = JSON.stringify(doc);
    clearTimeout(timer);
    timer = setTimeout(preview, DEBOUNCE_MS);
  }

  function draw() {
    root.replaceChildren(drawGroup(doc.rule, "rule", null, 0));
  }

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["x-csrftoken"]; } catch (e) { return ""; }
  }

  function preview() {
    var mine = ++sequence;
    var status = document.getElementById("preview-status");
    status.textContent = "Counting…";
    fetch(root.getAttribute("data-preview-url"), {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json", "x-csrftoken": csrfToken() },
      body: JSON.stringify(doc),
      credentials: "same-origin"
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (answer) {
      if (mine !== sequence) return; // a newer edit is already being counted
      if (answer.ok) {
        showProblems([]);
        showCount(answer.body);
      } else {
        var problems = ((answer.body.error || {}).problems || []).map(function (p) { return { path: p.field, message: p.message }; });
        showProblems(problems);
        status.textContent = problems.length ? "Fix the marked conditions to see a count." : "Could not count: " + (answer.body.error || {}).message;
      }
    }).catch(function () {
      if (mine === sequence) status.textContent = "Could not reach the server to count.";
    });
  }

  function showCount(body) {
    var count = document.getElementById("preview-count");
    count.textContent = body.count.toLocaleString("en");
    count.setAttribute("data-count", String(body.count));
    document.getElementById("preview-unit").textContent = body.count === 1 ? "contact" : "contacts";
    document.getElementById("preview-status").textContent = body.count > body.sample.length
      ? "The first " + body.sample.length + " by id:" : (body.count ? "All of them:" : "Nobody matches yet.");
    var list = document.getElementById("preview-sample");
    list.replaceChildren.apply(list, body.sample.map(function (c) {
      return el("li", {}, [
        el("a", { href: "/contacts/" + c.id, text: c.name || c.email }),
        el("span", { class: "muted small", text: [c.title, c.company].filter(Boolean).join(" · ") })
      ]);
    }));
  }

  // Each problem goes to the deepest drawn node whose path starts its path;
  // the rest of the path (`value`, `where[0].value`) picks the input to mark.
  function showProblems(problems) {
    Array.prototype.forEach.call(root.querySelectorAll("[data-path]"), function (node) {
      node.classList.remove("has-error");
      var slot = node.querySelector(":scope > .rule-error");
      slot.hidden = true; slot.textContent = "";
    });
    Array.prototype.forEach.call(root.querySelectorAll("[aria-invalid]"), function (box) { box.removeAttribute("aria-invalid"); });
    problems.forEach(function (problem) {
      var best = null;
      Array.prototype.forEach.call(root.querySelectorAll("[data-path]"), function (node) {
        var path = node.getAttribute("data-path");
        var p = problem.path;
        if (p === path || p.indexOf(path + ".") === 0 || p.indexOf(path + "[") === 0) {
          if (!best || path.length > best.getAttribute("data-path").length) best = node;
        }
      });
      if (!best) best = root.querySelector("[data-path='rule']");
      if (!best) return;
      var rest = problem.path.slice(best.getAttribute("data-path").length).replace(/^\./, "");
      var slot = best.querySelector(":scope > .rule-error");
      best.classList.add("has-error");
      slot.hidden = false;
      slot.textContent = (slot.textContent ? slot.textContent + " · " : "") + (rest ? rest + ": " : "") + problem.message;
      var box = rest && best.querySelector("[data-key='" + rest + "']");
      if (box) box.setAttribute("aria-invalid", "true");
    });
  }

  function setupBuilder() {
    root = document.getElementById("builder");
    if (!root) return;
    catalogue = JSON.parse(document.getElementById("builder-catalogue").textContent);
    fieldsByName = {};
    catalogue.fields.forEach(function (f) { fieldsByName[f.name] = f; });
    textarea = document.getElementById("f-rule");
    try { doc = JSON.parse(textarea.value); } catch (e) { doc = null; }
    if (!doc || typeof doc !== "object" || !doc.rule) doc = { version: 1, rule: { all: [] } };
    if (!isGroup(doc.rule)) doc.rule = { all: [doc.rule] };
    draw();
    textarea.value = JSON.stringify(doc);
    // Someone editing the JSON by hand: take it as the new state when it parses.
    textarea.addEventListener("change", function () {
      try { doc = JSON.parse(textarea.value); if (!isGroup(doc.rule)) doc.rule = { all: [doc.rule] }; changed(true); } catch (e) { /* keep the last good state */ }
    });
    showProblems(JSON.parse(document.getElementById("builder-problems").textContent));
    preview();
  }

  function setupSizeChart() {
    var canvas = document.getElementById("size-chart");
    if (!canvas || !window.Chart) return;
    var data = JSON.parse(document.getElementById("size-chart-data").textContent);
    new window.Chart(canvas, {
      type: "line",
      data: { labels: data.labels, datasets: [{ label: "Members", data: data.sizes, borderColor: "#17745f",
        backgroundColor: "rgba(23, 116, 95, 0.12)", fill: true, tension: 0.25, pointRadius: 2 }] },
      options: { maintainAspectRatio: false, plugins: { legend: { display: false } },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } }, x: { ticks: { maxTicksLimit: 8 } } } }
    });
  }

  function start() {
    setupBuilder();
    setupSizeChart();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
