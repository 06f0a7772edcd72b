// The sequence flow builder, and the funnel chart and contact picker on a sequence's page.
//
// The definition (JSON) is the state. Every change edits that object, then the
// flow is drawn again from it and serialised into the form's textarea, which the
// form posts. Typing in a box only updates the object (so focus stays). The
// server validates; its problems carry paths like `steps[2].then[0].template_id`,
// and every drawn card knows its path, so each message lands on its step.
(function () {
  "use strict";

  var catalogue, doc, flowRoot, settingsRoot, panelBody, textarea;
  var selectedPath = null;
  var problems = [];
  var lists = {};      // list path -> the array it draws (for drag and drop)
  var stepsByPath = {}; // step path -> the step object
  var dragging = null;

  var SUMMARY_TYPES = {}; // step types that send an e-mail from a template (from the catalogue)

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (key === "text") node.textContent = value;
      else if (key.slice(0, 2) === "on") node.addEventListener(key.slice(2), value);
      else if (value !== null && value !== undefined && value !== false) node.setAttribute(key, value);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function select(options, value, onchange, label, key) {
    var box = el("select", { "aria-label": label, "data-key": key || null, onchange: function (event) { onchange(event.target.value); } });
    options.forEach(function (option) {
      var pair = Array.isArray(option) ? option : [option, option];
      box.appendChild(el("option", { value: pair[0], selected: String(pair[0]) === String(value) ? "selected" : null, text: pair[1] }));
    });
    return box;
  }

  function input(type, value, label, oninput, attrs) {
    return el("input", Object.assign({
      type: type, value: value === undefined || value === null ? "" : value, "aria-label": label,
      oninput: function (event) { oninput(event.target.value); changed(false); }
    }, attrs || {}));
  }

  function field(label, control, hint) {
    var id = "p-" + Math.random().toString(36).slice(2, 9);
    control.id = id;
    control.removeAttribute("aria-label");
    return el("div", { class: "field" }, [el("label", { for: id, text: label }), control, hint ? el("p", { class: "hint", text: hint }) : null]);
  }

  function whole(text) {
    return /^\d+$/.test(String(text).trim()) ? Number(text) : text;
  }

  function typeLabel(type) {
    var found = catalogue.step_types.filter(function (t) { return t.type === type; })[0];
    return found ? found.label : type;
  }

  function templateName(id) {
    var found = catalogue.templates.filter(function (t) { return t.id === id; })[0];
    return found ? found.name : id ? "template " + id : "no template chosen";
  }

  function byValue(list, value) {
    return list.filter(function (item) { return item.value === value; })[0];
  }

  // "a", "a or b", "a, b or c"
  function either(items) {
    if (items.length < 2) return items.join("") || "?";
    return items.slice(0, -1).join(", ") + " or " + items[items.length - 1];
  }

  function eventWords(type) {
    return catalogue.event_labels[type] || (type ? "had a " + type + " event" : "?");
  }

  // The template made from the starter library for a review e-mail's ask, if it is loaded.
  function starterTemplate(ask) {
    var wanted = byValue(catalogue.review_asks, ask);
    var found = wanted && catalogue.templates.filter(function (t) { return t.starter === wanted.starter; })[0];
    return found ? found.id : null;
  }

  function isNpsCondition(c) {
    return c.event === "nps.answered" && !c.step && c.where && typeof c.where === "object" &&
      Object.keys(c.where).length === 1 && (Array.isArray(c.where.category) || typeof c.where.category === "string");
  }

  function duration(d) {
    if (!d || typeof d !== "object") return "?";
    var parts = Object.keys(d).filter(function (k) { return d[k]; }).map(function (k) { return d[k] + " " + (d[k] === 1 ? k.slice(0, -1) : k); });
    return parts.join(" ") || "0 minutes";
  }

  // What a branch asks about an e-mail step: its template's name, as the funnel says it.
  function mailWords(key) {
    var step = allSteps().filter(function (s) { return s.key === key && SUMMARY_TYPES[s.type]; })[0];
    return step && step.template_id ? "“" + templateName(step.template_id) + "”" : "the e-mail of step “" + (key || "?") + "”";
  }

  // An e-mail step as a branch lists it: its key and, once chosen, its template.
  function mailLabel(key) {
    var step = allSteps().filter(function (s) { return s.key === key; })[0];
    return step && step.template_id ? key + " · " + templateName(step.template_id) : key;
  }

  var MAIL_VERBS = { "email.opened": "opened", "email.clicked": "clicked" };

  function isMailTest(c) {
    return c && typeof c === "object" && MAIL_VERBS[c.event] && c.step && Object.keys(c).length === 2;
  }

  // "a", "a or b", "a, b and c"
  function joined(items, joint) {
    if (items.length < 2) return items.join("") || "?";
    return items.slice(0, -1).join(", ") + " " + joint + " " + items[items.length - 1];
  }

  function conditionWords(c) {
    if (!c || typeof c !== "object") return "?";
    var group = Array.isArray(c.any) ? "any" : Array.isArray(c.all) ? "all" : null;
    if (group) {
      var tests = c[group];
      var joint = group === "any" ? "or" : "and";
      var sameMail = tests.length && tests.every(isMailTest) && tests.every(function (t) { return t.step === tests[0].step; });
      if (sameMail && group === "any") return joined(tests.map(function (t) { return MAIL_VERBS[t.event]; }), joint) + " " + mailWords(tests[0].step);
      return joined(tests.map(conditionWords), joint);
    }
    if (c.segment_id !== undefined) {
      var seg = catalogue.segments.filter(function (s) { return s.id === c.segment_id; })[0];
      return "in segment " + (seg ? "“" + seg.name + "”" : c.segment_id);
    }
    if (c.task_outcome) return "the task “" + c.step + "” ended " + either([].concat(c.task_outcome).map(function (o) { return String(o).replace(/_/g, " "); }));
    if (isNpsCondition(c)) return "answered the NPS survey as " + either([].concat(c.where.category));
    var said = c.step ? (MAIL_VERBS[c.event] ? MAIL_VERBS[c.event] + " " + mailWords(c.step) : eventWords(c.event) + " after " + mailWords(c.step)) : eventWords(c.event) + " since enrolment";
    if (c.where && typeof c.where === "object") {
      said += Object.keys(c.where).map(function (k) { return ", " + k + " is " + either([].concat(c.where[k]).map(String)); }).join("");
    }
    return said;
  }

  function summary(step) {
    if (step.type === "review_email") {
      var ask = byValue(catalogue.review_asks, step.ask);
      return "Asks for " + (ask ? ask.phrase : "“" + (step.ask || "?") + "”") + " · " + templateName(step.template_id);
    }
    if (SUMMARY_TYPES[step.type]) return templateName(step.template_id);
    if (step.type === "task") {
      var kind = byValue(catalogue.task_kinds, step.kind);
      var parts = [kind ? kind.label : step.kind || "?"];
      if (step.assign_to === "account_manager") parts.push("for the account manager");
      if (step.due_in_working_days !== undefined) parts.push("due in " + step.due_in_working_days + " working day" + (step.due_in_working_days === 1 ? "" : "s"));
      else if (step.due_in_hours !== undefined) parts.push("due in " + step.due_in_hours + " h");
      if (step.escalate === true) parts.push("team lead alerted when overdue");
      return parts.join(", ");
    }
    if (step.type === "wait") {
      if (step.duration) return duration(step.duration);
      if (step.until) return "until " + (step.until.weekday || "?") + " " + (step.until.time || "");
      if (step.event) return "until the contact " + eventWords(step.event) + (step.since === "enrolment" ? ", counting from enrolment" : "") + "; at most " + duration(step.timeout);
      return "?";
    }
    if (step.type === "branch") return conditionWords(step.condition || {});
    if (step.type === "split") return (step.paths || []).map(function (p) { return p.percent + "%"; }).join(" / ");
    if (step.type === "goal") return "completes the sequence";
    if (step.type === "exit") return "leaves the sequence";
    return "";
  }

  // --- New steps ----------------------------------------------------------

  function usedKeys() {
    var keys = {};
    (function walk(steps) {
      (steps || []).forEach(function (s) {
        keys[s.key] = true;
        walk(s.then); walk(s["else"]);
        (s.paths || []).forEach(function (p) { walk(p.steps); });
      });
    })(doc.steps);
    return keys;
  }

  function freshKey(type) {
    var keys = usedKeys();
    var base = type.replace(/_/g, "-");
    for (var n = 1; ; n++) if (!keys[base + "-" + n]) return base + "-" + n;
  }

  function firstMailKey() {
    var found = null;
    (function walk(steps) {
      (steps || []).forEach(function (s) {
        if (!found && SUMMARY_TYPES[s.type]) found = s.key;
        walk(s.then); walk(s["else"]);
        (s.paths || []).forEach(function (p) { walk(p.steps); });
      });
    })(doc.steps);
    return found;
  }

  function newStep(type) {
    var step = { key: freshKey(type), type: type };
    // A mail step starts without a template: the panel asks for one (no silent first pick);
    // only the starter made for a review e-mail's ask is proposed.
    if (type === "review_email") {
      step.ask = catalogue.review_asks[0].value;
      var starter = starterTemplate(step.ask);
      if (starter !== null) step.template_id = starter;
    }
    if (type === "task") { step.kind = "linkedin_connect"; step.instructions = ""; step.due_in_hours = 48; }
    if (type === "wait") step.duration = { days: 3 };
    if (type === "branch") {
      var mail = firstMailKey();
      step.condition = mail ? { event: "email.clicked", step: mail } : { event: "email.clicked" };
      step.then = []; step["else"] = [];
    }
    if (type === "split") step.paths = [{ percent: 50, steps: [] }, { percent: 50, steps: [] }];
    return step;
  }

  // --- Drawing the flow ---------------------------------------------------

  function drawList(steps, path, label) {
    lists[path] = steps;
    var box = el("div", { class: "seq-list", "data-list-path": path });
    if (label) box.appendChild(el("div", { class: "seq-arm-label", text: label }));
    steps.forEach(function (step, index) { box.appendChild(drawCard(step, path + "[" + index + "]", path, index)); });
    if (!steps.length) box.appendChild(el("p", { class: "muted small seq-empty", text: "No steps here yet." }));
    box.appendChild(addControl(steps, path));
    return el("div", { class: "seq-list-wrap", "data-path": path }, [box, el("p", { class: "field-error seq-error", hidden: "hidden" })]);
  }

  function addControl(steps, path) {
    var options = [["", "+ Add step…"]].concat(catalogue.step_types.map(function (t) { return [t.type, t.label]; }));
    var box = select(options, "", function (type) {
      if (!type) return;
      var step = newStep(type);
      steps.push(step);
      selectedPath = path + "[" + (steps.length - 1) + "]";
      changed(true);
    }, "Add step to " + (path === "steps" ? "the sequence" : path), "add");
    box.className = "seq-add";
    return box;
  }

  function drawCard(step, path, listPath, index) {
    stepsByPath[path] = step;
    var handle = el("span", { class: "seq-handle", title: "Drag to reorder", "aria-hidden": "true", text: "⋮⋮" });
    var head = el("div", { class: "seq-card-head" }, [
      handle,
      // The card holds other controls (remove, nested steps), so the card itself cannot
      // be a button: its type label is the control that selects it from the keyboard.
      el("button", { type: "button", class: "seq-card-type", "aria-label": typeLabel(step.type) + " step " + step.key,
        "aria-pressed": path === selectedPath ? "true" : "false", text: typeLabel(step.type) }),
      el("code", { class: "seq-card-key", text: step.key }),
      el("button", { type: "button", class: "icon-button seq-remove", title: "Remove step", "aria-label": "Remove step " + step.key, text: "×",
        onclick: function (event) { event.stopPropagation(); removeStep(listPath, index); } })
    ]);
    var card = el("div", {
      class: "seq-card seq-type-" + step.type + (path === selectedPath ? " is-selected" : ""),
      "data-path": path, "data-key": step.key, "data-list": listPath, "data-index": String(index),
      draggable: "true", role: "group", "aria-label": typeLabel(step.type) + " step " + step.key,
      onclick: function (event) { event.stopPropagation(); selectStep(path); }
    }, [head, el("div", { class: "seq-card-summary", text: summary(step) }), el("p", { class: "field-error seq-error", hidden: "hidden" })]);
    dragAndDrop(card, listPath, index);
    if (step.type === "branch") {
      step.then = step.then || []; step["else"] = step["else"] || [];
      card.appendChild(el("div", { class: "seq-arms" }, [
        drawList(step.then, path + ".then", "Yes"),
        drawList(step["else"], path + ".else", "No")
      ]));
    } else if (step.type === "split") {
      step.paths = step.paths || [];
      card.appendChild(el("div", { class: "seq-arms" }, step.paths.map(function (p, i) {
        p.steps = p.steps || [];
        return el("div", { class: "seq-split-path", "data-path": path + ".paths[" + i + "]" }, [
          drawList(p.steps, path + ".paths[" + i + "].steps", "Path " + String.fromCharCode(65 + i) + " · " + p.percent + "%")
        ]);
      })));
    }
    return card;
  }

  function dragAndDrop(card, listPath, index) {
    card.addEventListener("dragstart", function (event) {
      event.stopPropagation();
      dragging = { list: listPath, index: index };
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", listPath + "#" + index);
      card.classList.add("is-dragging");
    });
    card.addEventListener("dragend", function () { card.classList.remove("is-dragging"); dragging = null; });
    card.addEventListener("dragover", function (event) {
      if (!dragging || dragging.list !== listPath) return; // reorder only within one list
      event.preventDefault();
      event.stopPropagation();
      card.classList.add("is-drop-target");
    });
    card.addEventListener("dragleave", function () { card.classList.remove("is-drop-target"); });
    card.addEventListener("drop", function (event) {
      if (!dragging || dragging.list !== listPath) return;
      event.preventDefault();
      event.stopPropagation();
      moveStep(listPath, dragging.index, index);
      dragging = null;
    });
  }

  function moveStep(listPath, from, to) {
    var steps = lists[listPath];
    if (!steps || from === to || to < 0 || to >= steps.length) return;
    var moved = steps.splice(from, 1)[0];
    steps.splice(to, 0, moved);
    selectedPath = listPath + "[" + to + "]";
    changed(true);
  }

  function removeStep(listPath, index) {
    lists[listPath].splice(index, 1);
    selectedPath = null;
    changed(true);
  }

  function selectStep(path) {
    selectedPath = path;
    Array.prototype.forEach.call(flowRoot.querySelectorAll(".seq-card"), function (card) {
      card.classList.toggle("is-selected", card.getAttribute("data-path") === path);
      var chosen = card.querySelector(":scope > .seq-card-head > .seq-card-type");
      if (chosen) chosen.setAttribute("aria-pressed", card.getAttribute("data-path") === path ? "true" : "false");
    });
    drawPanel();
    showProblems();
  }

  // --- The side panel: the selected step's settings -----------------------

  function drawPanel() {
    var step = selectedPath && stepsByPath[selectedPath];
    if (!step) {
      panelBody.replaceChildren(el("p", { class: "muted small", text: "Select a step to configure it, or add one with “+ Add step…”." }));
      return;
    }
    var listPath = selectedPath.replace(/\[\d+\]$/, "");
    var index = Number(selectedPath.match(/\[(\d+)\]$/)[1]);
    var parts = [
      el("p", { class: "seq-panel-type", text: typeLabel(step.type) }),
      field("Key", input("text", step.key, "Key", function (v) { step.key = v.trim(); }, { "data-key": "key", maxlength: 40 }),
        "Stable across versions; branches refer to steps by key.")
    ];
    var builder = PANELS[step.type];
    if (builder) parts = parts.concat(builder(step));
    parts.push(el("div", { class: "seq-panel-actions" }, [
      el("button", { type: "button", class: "btn btn-small", text: "Move up", disabled: index === 0 ? "disabled" : null,
        onclick: function () { moveStep(listPath, index, index - 1); } }),
      el("button", { type: "button", class: "btn btn-small", text: "Move down", disabled: index >= lists[listPath].length - 1 ? "disabled" : null,
        onclick: function () { moveStep(listPath, index, index + 1); } }),
      el("button", { type: "button", class: "btn btn-small btn-danger-ghost", text: "Remove step", onclick: function () { removeStep(listPath, index); } })
    ]));
    panelBody.replaceChildren.apply(panelBody, parts.concat([el("p", { class: "field-error seq-panel-error", hidden: "hidden" })]));
  }

  function templateParts(step) {
    var options = catalogue.templates.map(function (t) { return [t.id, t.name]; });
    var known = catalogue.templates.some(function (t) { return t.id === step.template_id; });
    // A step without a template says so, rather than showing the first one as if chosen.
    if (!catalogue.templates.length) options = [["", "No templates yet: create one under Content"]];
    else if (!known) options.unshift(["", step.template_id ? "Template " + step.template_id + " (not available)" : "Choose a template…"]);
    var box = select(options, known ? step.template_id : "", function (v) {
      if (v === "") delete step.template_id; else step.template_id = Number(v);
      changed(true);
    }, "Template", "template_id");
    var parts = [field("Template", box)];
    if (catalogue.contacts.length) {
      var who = select(catalogue.contacts.map(function (c) { return [c.id, c.label]; }), catalogue.contacts[0].id, function () {}, "Preview as");
      var result = el("div", { class: "seq-preview-slot" });
      parts.push(field("Preview as", who));
      parts.push(el("button", { type: "button", class: "btn btn-small", text: "Preview e-mail", onclick: function () {
        result.textContent = "Rendering…";
        fetch("/sequences/preview?template_id=" + encodeURIComponent(step.template_id) + "&contact_id=" + encodeURIComponent(who.value), { credentials: "same-origin", headers: { accept: "text/html" } })
          .then(function (r) { return r.text(); })
          .then(function (html) { result.innerHTML = html; })
          .catch(function () { result.textContent = "Could not reach the server to render the preview."; });
      } }));
      parts.push(result);
    }
    return parts;
  }

  function topicsPart(step, hint) {
    return field("Topics (optional)", input("text", (step.topics || []).join(", "), "Topics", function (v) {
      var topics = v.split(",").map(function (t) { return t.trim(); }).filter(Boolean);
      if (topics.length) step.topics = topics; else delete step.topics;
    }, { "data-key": "topics", placeholder: "compliance, data protection" }), hint);
  }

  function defaultTest() {
    var mail = firstMailKey();
    return mail ? { event: "email.clicked", step: mail } : { event: "webinar.attended" };
  }

  // One test of a branch condition; `replace` swaps the test for another kind, `key`
  // prefixes the boxes' data-key so a problem's path marks the right one.
  function testParts(c, replace, key, label) {
    var mode = c.segment_id !== undefined ? "segment" : c.task_outcome ? "task" :
      c.event === "email.opened" && c.step ? "opened" : c.event === "email.clicked" && c.step ? "clicked" :
      isNpsCondition(c) ? "nps" : "event";
    var parts = [field(label, select([
      ["opened", "opened an e-mail step"], ["clicked", "clicked in an e-mail step"], ["event", "had an event since enrolment"],
      ["nps", "answered the NPS survey as"], ["task", "has a task outcome"], ["segment", "is in a segment"]
    ], mode, function (v) {
      var mail = firstMailKey();
      if (v === "opened" || v === "clicked") replace({ event: "email." + v, step: mail || "" });
      if (v === "event") replace({ event: "webinar.attended" });
      if (v === "nps") replace({ event: "nps.answered", where: { category: ["promoter"] } });
      if (v === "task") replace({ task_outcome: ["meeting_booked"], step: taskKeys()[0] || "" });
      if (v === "segment") replace({ segment_id: catalogue.segments.length ? catalogue.segments[0].id : 0 });
      changed(true);
    }, label, key))];
    if (mode === "opened" || mode === "clicked") {
      parts.push(field("E-mail step", select(mailKeys().map(function (k) { return [k, mailLabel(k)]; }), c.step, function (v) { c.step = v; changed(true); }, "E-mail step", key + ".step")));
    } else if (mode === "event") {
      parts.push(field("Event", input("text", c.event, "Event", function (v) { c.event = v.trim(); }, { list: eventList(), "data-key": key + ".event" })));
    } else if (mode === "nps") {
      c.where.category = [].concat(c.where.category); // one value or a list: the boxes keep a list
      parts.push(el("fieldset", { class: "seq-checks", "data-key": key + ".where.category" }, [el("legend", { text: "Their latest answer is" })].concat(catalogue.nps_categories.map(function (category) {
        var box = el("input", { type: "checkbox", value: category.value, checked: c.where.category.indexOf(category.value) >= 0 ? "checked" : null, onchange: function (e) {
          // Kept in the catalogue's order, so the stored definition reads the same each time.
          c.where.category = catalogue.nps_categories.map(function (x) { return x.value; }).filter(function (x) {
            return x === category.value ? e.target.checked : c.where.category.indexOf(x) >= 0;
          });
          changed(true);
        } });
        return el("label", { class: "seq-check" }, [box, document.createTextNode(" " + category.label)]);
      }))));
      parts.push(el("p", { class: "hint", text: "Answers can change; the latest answer since the contact entered counts." }));
    } else if (mode === "task") {
      parts.push(field("Task step", select(taskKeys().map(function (k) { return [k, k]; }), c.step, function (v) { c.step = v; changed(true); }, "Task step", key + ".step")));
      parts.push(el("fieldset", { class: "seq-checks", "data-key": key + ".task_outcome" }, [el("legend", { text: "Outcome is one of" })].concat(catalogue.outcomes.map(function (o) {
        var box = el("input", { type: "checkbox", value: o, checked: c.task_outcome.indexOf(o) >= 0 ? "checked" : null, onchange: function (e) {
          var chosen = c.task_outcome.filter(function (x) { return x !== o; });
          if (e.target.checked) chosen.push(o);
          c.task_outcome = chosen; changed(true);
        } });
        return el("label", { class: "seq-check" }, [box, document.createTextNode(" " + o.replace(/_/g, " "))]);
      }))));
    } else {
      var segs = catalogue.segments.map(function (s) { return [s.id, s.name]; });
      if (!segs.length) segs = [["0", "No segments yet"]];
      parts.push(field("Segment", select(segs, c.segment_id, function (v) { c.segment_id = Number(v); changed(true); }, "Segment", key + ".segment_id")));
    }
    return parts;
  }

  var PANELS = {
    email: templateParts,
    case_study: function (step) {
      var services = [["", "Any service"]].concat(catalogue.services.map(function (s) { return [s.slug, s.name]; }));
      return templateParts(step).concat([
        field("Service", select(services, step.service || "", function (v) { if (v) step.service = v; else delete step.service; changed(true); }, "Service", "service"),
          "The best case study for the contact's industry and interests, never one sent before."),
        topicsPart(step, "Prefer case studies on these topics.")
      ]);
    },
    webinar_invite: function (step) {
      return templateParts(step).concat([topicsPart(step, "The next upcoming webinar on these topics.")]);
    },
    review_email: function (step) {
      var asks = catalogue.review_asks.map(function (a) { return [a.value, a.label]; });
      if (!byValue(catalogue.review_asks, step.ask)) asks.unshift(["", "Choose what to ask for…"]);
      return [
        field("Asks for", select(asks, step.ask || "", function (v) {
          // The template follows the ask while it is the starter made for the old ask (or none).
          var following = step.template_id === undefined || step.template_id === starterTemplate(step.ask);
          if (v) step.ask = v; else delete step.ask;
          var starter = starterTemplate(step.ask);
          if (following) { if (starter !== null) step.template_id = starter; else delete step.template_id; }
          changed(true);
        }, "Asks for", "ask"), "The starter template made for the ask is proposed when it is loaded.")
      ].concat(templateParts(step));
    },
    task: function (step) {
      var inDays = step.due_in_working_days !== undefined;
      var dueUnit = select([["hours", "hours"], ["working_days", "working days"]], inDays ? "working_days" : "hours", function (v) {
        if (v === "working_days") { delete step.due_in_hours; step.due_in_working_days = 1; }
        else { delete step.due_in_working_days; step.due_in_hours = 48; }
        changed(true);
      }, "Due in unit", "due_unit");
      var dueAmount = inDays
        ? input("number", step.due_in_working_days, "Due in working days", function (v) { step.due_in_working_days = whole(v); }, { min: 1, max: 30, "data-key": "due_in_working_days", class: "input-short" })
        : input("number", step.due_in_hours === undefined ? 48 : step.due_in_hours, "Due in hours", function (v) { step.due_in_hours = whole(v); }, { min: 0, max: 2160, "data-key": "due_in_hours", class: "input-short" });
      return [
        field("Kind", select(catalogue.task_kinds.map(function (k) { return [k.value, k.label]; }), step.kind, function (v) { step.kind = v; changed(true); }, "Kind", "kind")),
        field("Instructions", (function () {
          var box = el("textarea", { rows: 4, "data-key": "instructions", oninput: function (e) { step.instructions = e.target.value; changed(false); } });
          box.value = step.instructions || "";
          return box;
        })(), "Jinja like e-mails: {{ contact.first_name }}, {{ contact.company.name }}."),
        field("Assign to", select(catalogue.assignees.map(function (a) { return [a.value, a.label]; }), step.assign_to || "owner", function (v) {
          if (v === "owner") delete step.assign_to; else step.assign_to = v;
          changed(true);
        }, "Assign to", "assign_to"), step.assign_to === "account_manager" ? "The account manager of the contact's latest project; when there is none, the contact's owner." : null),
        el("div", { class: "field" }, [
          el("span", { class: "seq-field-label", text: "Due in" }), el("div", { class: "seq-inline" }, [dueAmount, dueUnit]),
          inDays ? el("p", { class: "hint", text: "Monday to Friday, in the assignee's time zone." }) : null
        ]),
        el("label", { class: "seq-check", "data-key": "escalate" }, [
          el("input", { type: "checkbox", checked: step.escalate === true ? "checked" : null, onchange: function (e) {
            if (e.target.checked) step.escalate = true; else delete step.escalate;
            changed(false);
          } }),
          document.createTextNode(" Alert the team lead when overdue")
        ])
      ];
    },
    wait: function (step) {
      var mode = step.until ? "until" : step.event !== undefined ? "event" : "duration";
      var parts = [field("Wait", select([["duration", "for a while"], ["until", "until a weekday and time"], ["event", "for an event, or a timeout"]], mode, function (v) {
        delete step.duration; delete step.until; delete step.event; delete step.timeout;
        if (v === "duration") step.duration = { days: 3 };
        if (v === "until") step.until = { weekday: "tuesday", time: "10:00" };
        if (v === "event") { step.event = "email.clicked"; step.timeout = { days: 7 }; }
        changed(true);
      }, "Wait", "mode"))];
      if (mode === "duration") parts.push(durationField("Duration", step, "duration"));
      if (mode === "until") {
        parts.push(field("Weekday", select(catalogue.weekdays, step.until.weekday, function (v) { step.until.weekday = v; changed(true); }, "Weekday", "until.weekday")));
        parts.push(field("Time", input("time", step.until.time, "Time", function (v) { step.until.time = v; }, { "data-key": "until.time" }), "In the contact's own time zone."));
      }
      if (mode === "event") {
        parts.push(field("Event", input("text", step.event, "Event", function (v) { step.event = v.trim(); }, { list: eventList(), "data-key": "event" })));
        parts.push(el("label", { class: "seq-check", "data-key": "since" }, [
          el("input", { type: "checkbox", checked: step.since === "enrolment" ? "checked" : null, onchange: function (e) {
            if (e.target.checked) step.since = "enrolment"; else delete step.since;
            changed(false);
          } }),
          document.createTextNode(" Count events since the contact entered the sequence")
        ]));
        parts.push(el("p", { class: "hint", text: "Otherwise only events after the wait began count. Counting from entry lets a reminder's wait pass at once when the answer is already in." }));
        parts.push(durationField("Timeout", step, "timeout"));
      }
      return parts;
    },
    branch: function (step) {
      var c = step.condition = step.condition || {};
      var group = Array.isArray(c.any) ? "any" : Array.isArray(c.all) ? "all" : "one";
      var parts = [field("Ask whether", select([
        ["one", "one test holds"], ["any", "any of these tests holds (or)"], ["all", "all of these tests hold (and)"]
      ], group, function (v) {
        var tests = group === "one" ? [c] : c[group].slice();
        if (v === "one") step.condition = tests[0] || defaultTest();
        else {
          // "Opened" becomes "opened or clicked" the same e-mail: the usual reason to group.
          if (tests.length < 2) tests.push(isMailTest(tests[0]) ? { event: tests[0].event === "email.opened" ? "email.clicked" : "email.opened", step: tests[0].step } : defaultTest());
          step.condition = {};
          step.condition[v] = tests;
        }
        changed(true);
      }, "Ask whether", "condition.group"))];
      if (group === "one") {
        parts = parts.concat(testParts(c, function (t) { step.condition = t; }, "condition", "If the contact…"));
      } else {
        var tests = c[group];
        tests.forEach(function (test, i) {
          var key = "condition." + group + "[" + i + "]";
          var label = "Test " + (i + 1) + ": the contact…";
          var inner = Array.isArray(test.any) || Array.isArray(test.all)
            ? [el("p", { class: "muted small", text: conditionWords(test) + " (a group inside a group: edit it in the definition below)" })]
            : testParts(test, function (t) { tests[i] = t; }, key, label);
          parts.push(el("fieldset", { class: "seq-test", "data-key": key }, [el("legend", { text: (i ? (group === "any" ? "or " : "and ") : "") + "Test " + (i + 1) })].concat(inner).concat([
            tests.length > 1 ? el("button", { type: "button", class: "btn btn-small btn-ghost", text: "Remove test " + (i + 1), onclick: function () { tests.splice(i, 1); changed(true); } }) : null
          ])));
        });
        if (tests.length < 10) parts.push(el("button", { type: "button", class: "btn btn-small", text: "+ Test", onclick: function () { tests.push(defaultTest()); changed(true); } }));
      }
      parts.push(el("p", { class: "hint", text: "Yes runs the left column, No the right; both continue after the branch." }));
      return parts;
    },
    split: function (step) {
      var parts = step.paths.map(function (p, i) {
        return field("Path " + String.fromCharCode(65 + i) + " (%)", input("number", p.percent, "Percent", function (v) { p.percent = whole(v); }, { min: 1, max: 99, class: "input-short", "data-key": "paths[" + i + "].percent" }));
      });
      parts.push(el("div", { class: "seq-panel-actions" }, [
        el("button", { type: "button", class: "btn btn-small", text: "+ Path", onclick: function () { step.paths.push({ percent: 10, steps: [] }); changed(true); } }),
        step.paths.length > 2 ? el("button", { type: "button", class: "btn btn-small btn-ghost", text: "Remove last path", onclick: function () { step.paths.pop(); changed(true); } }) : null
      ]));
      parts.push(el("p", { class: "hint", text: "Each contact takes one path at random; percentages add up to 100." }));
      return parts;
    },
    goal: function () { return [el("p", { class: "muted small", text: "Reaching this step completes the sequence and counts as a conversion." })]; },
    exit: function () { return [el("p", { class: "muted small", text: "Reaching this step ends the sequence early, without the goal." })]; }
  };

  function durationField(label, step, name) {
    var value = step[name] = step[name] || { days: 1 };
    var units = ["days", "hours", "minutes"];
    var row = el("div", { class: "seq-inline", "data-key": name }, []);
    units.forEach(function (unit) {
      row.appendChild(input("number", value[unit] || "", label + " " + unit, function (v) {
        if (String(v).trim() === "" || Number(v) === 0) delete value[unit]; else value[unit] = whole(v);
      }, { min: 0, class: "input-short", placeholder: "0" }));
      row.appendChild(el("span", { class: "muted small", text: unit }));
    });
    return el("div", { class: "field" }, [el("span", { class: "seq-field-label", text: label }), row]);
  }

  function allSteps() {
    var found = [];
    (function walk(steps) {
      (steps || []).forEach(function (s) {
        found.push(s);
        walk(s.then); walk(s["else"]);
        (s.paths || []).forEach(function (p) { walk(p.steps); });
      });
    })(doc.steps);
    return found;
  }
  function mailKeys() { return allSteps().filter(function (s) { return SUMMARY_TYPES[s.type]; }).map(function (s) { return s.key; }); }
  function taskKeys() { return allSteps().filter(function (s) { return s.type === "task"; }).map(function (s) { return s.key; }); }

  function eventList() {
    if (!document.getElementById("seq-event-types")) {
      document.body.appendChild(el("datalist", { id: "seq-event-types" }, catalogue.event_types.map(function (t) { return el("option", { value: t, label: catalogue.event_labels[t] || null }); })));
    }
    return "seq-event-types";
  }

  // --- Settings: triggers, goals, send window, quiet hours, re-enrolment ---

  function drawSettings() {
    doc.triggers = doc.triggers || [];
    doc.goals = doc.goals || [];
    var triggers = doc.triggers.map(function (t, i) {
      var isSegment = t.segment_id !== undefined;
      var row = [select([["segment", "Enters segment"], ["event", "Has an event"]], isSegment ? "segment" : "event", function (v) {
        doc.triggers[i] = v === "segment" ? { event: "segment.entered", segment_id: catalogue.segments.length ? catalogue.segments[0].id : 0 } : { event: "form.submitted" };
        changed(true);
      }, "Trigger kind")];
      if (isSegment) {
        var segs = catalogue.segments.map(function (s) { return [s.id, s.name]; });
        row.push(select(segs.length ? segs : [["0", "No segments yet"]], t.segment_id, function (v) { t.segment_id = Number(v); changed(true); }, "Segment", "segment_id"));
      } else {
        row.push(input("text", t.event, "Event type", function (v) { t.event = v.trim(); }, { list: eventList(), "data-key": "event" }));
      }
      row.push(removeButton("Remove trigger", function () { doc.triggers.splice(i, 1); }));
      return settingRow("triggers[" + i + "]", row, triggerNote(t));
    });
    var goals = doc.goals.map(function (g, i) {
      var isStage = g.lifecycle !== undefined;
      var row = [select([["event", "An event happens"], ["lifecycle", "Lifecycle stage becomes"]], isStage ? "lifecycle" : "event", function (v) {
        doc.goals[i] = v === "lifecycle" ? { lifecycle: ["sql"] } : { event: "meeting.booked" };
        changed(true);
      }, "Goal kind")];
      if (isStage) {
        row.push(input("text", (g.lifecycle || []).join(", "), "Lifecycle stages", function (v) {
          g.lifecycle = v.split(",").map(function (s) { return s.trim(); }).filter(Boolean);
        }, { "data-key": "lifecycle", placeholder: "sql, opportunity, customer" }));
      } else {
        row.push(input("text", g.event, "Goal event", function (v) { g.event = v.trim(); }, { list: eventList(), "data-key": "event" }));
      }
      row.push(removeButton("Remove goal", function () { doc.goals.splice(i, 1); }));
      return settingRow("goals[" + i + "]", row);
    });
    settingsRoot.replaceChildren(
      settingGroup("Triggers", "triggers", "Who enters on their own. Manual enrolment always works.", triggers, "+ Trigger", function () {
        doc.triggers.push(catalogue.segments.length ? { event: "segment.entered", segment_id: catalogue.segments[0].id } : { event: "form.submitted" });
      }),
      settingGroup("Exit goals", "goals", "Checked before every step: reaching one completes the sequence.", goals, "+ Goal", function () {
        doc.goals.push({ event: "meeting.booked" });
      }),
      windowGroup("Send window", "send_window", true, "E-mail goes out only in these hours and days, in each contact's time zone."),
      windowGroup("Quiet hours", "quiet_hours", false, "No e-mail in these hours (may cross midnight)."),
      el("div", { class: "seq-setting-group", "data-path": "reenrol" }, [
        el("h3", { text: "Entry rules" }),
        select(catalogue.reenrol.map(function (r) { return [r, r === "never" ? "Never: once in, never again" : "After finishing: may join again"]; }), doc.reenrol || "never",
          function (v) { doc.reenrol = v; changed(false); }, "Re-enrolment", "reenrol"),
        field("Goal group (optional)", input("text", doc.goal_group || "", "Goal group", function (v) {
          if (v.trim()) doc.goal_group = v.trim(); else delete doc.goal_group;
        }, { "data-key": "goal_group", placeholder: "legal-compliance" }), "A contact is in at most one live sequence per goal group."),
        el("label", { class: "seq-check", "data-path": "exclude_customers" }, [
          el("input", { type: "checkbox", checked: doc.exclude_customers === false ? null : "checked", onchange: function (e) { doc.exclude_customers = e.target.checked; changed(false); } }),
          document.createTextNode(" Leave out customers")
        ]),
        el("p", { class: "field-error seq-error", hidden: "hidden" })
      ])
    );
  }

  function removeButton(label, action) {
    return el("button", { type: "button", class: "icon-button seq-remove", "aria-label": label, title: label, text: "×", onclick: function () { action(); changed(true); } });
  }

  function settingRow(path, parts, note) {
    return el("div", { class: "seq-setting-row", "data-path": path }, [
      el("div", { class: "seq-inline" }, parts),
      note ? el("p", { class: "hint seq-trigger-note", text: note }) : null,
      el("p", { class: "field-error seq-error", hidden: "hidden" })
    ]);
  }

  // Whether people who already qualify enter: a trigger reacts to what happens from
  // activation on (campaigns.sequences.enrol.enrol_from_events), never to the past.
  function triggerNote(t) {
    if (t.segment_id !== undefined) {
      var seg = catalogue.segments.filter(function (s) { return s.id === t.segment_id; })[0];
      var name = seg ? "“" + seg.name + "”" : "the segment";
      return "People already in " + name + " when the sequence is activated do not enter: only those who join it afterwards. To add the current members, enrol the segment by hand on the sequence page.";
    }
    return "Only events recorded after the sequence is activated enrol people; earlier ones do not.";
  }

  function settingGroup(title, path, hint, rows, addLabel, add) {
    return el("div", { class: "seq-setting-group", "data-path": path }, [
      el("h3", { text: title }), el("p", { class: "hint", text: hint })
    ].concat(rows).concat([
      el("button", { type: "button", class: "btn btn-small btn-ghost", text: addLabel, onclick: function () { add(); changed(true); } }),
      el("p", { class: "field-error seq-error", hidden: "hidden" })
    ]));
  }

  function windowGroup(title, name, withDays, hint) {
    var value = doc[name];
    var on = el("input", { type: "checkbox", checked: value ? "checked" : null, onchange: function (e) {
      if (e.target.checked) doc[name] = withDays ? { start: "09:00", end: "17:00", days: ["monday", "tuesday", "wednesday", "thursday", "friday"] } : { start: "20:00", end: "07:00" };
      else delete doc[name];
      changed(true);
    } });
    var parts = [el("h3", { text: title }), el("label", { class: "seq-check" }, [on, document.createTextNode(" " + hint)])];
    if (value) {
      parts.push(el("div", { class: "seq-inline" }, [
        el("span", { class: "muted small", text: "from" }),
        input("time", value.start, title + " start", function (v) { value.start = v; }, { "data-key": "start" }),
        el("span", { class: "muted small", text: "to" }),
        input("time", value.end, title + " end", function (v) { value.end = v; }, { "data-key": "end" })
      ]));
      if (withDays) {
        value.days = value.days || catalogue.weekdays.slice();
        parts.push(el("div", { class: "seq-inline", "data-key": "days" }, catalogue.weekdays.map(function (day) {
          return el("label", { class: "seq-check" }, [el("input", { type: "checkbox", checked: value.days.indexOf(day) >= 0 ? "checked" : null, onchange: function (e) {
            value.days = catalogue.weekdays.filter(function (d) { return d === day ? e.target.checked : value.days.indexOf(d) >= 0; });
            changed(false);
          } }), document.createTextNode(" " + day.slice(0, 3))]);
        })));
      }
    }
    parts.push(el("p", { class: "field-error seq-error", hidden: "hidden" }));
    return el("div", { class: "seq-setting-group", "data-path": name }, parts);
  }

  // --- State changes and problems -----------------------------------------

  function changed(redraw) {
    if (selectedPath) {
      var editing = selectedPath;
      // What the marketer is fixing stops being marked; the server checks again on save.
      problems = problems.filter(function (p) { return p.path !== editing && p.path.indexOf(editing + ".") !== 0; });
    }
    if (redraw) draw();
    else refreshSelectedCard();
    textarea.value = JSON.stringify(doc, null, 1);
  }

  // Typing does not redraw (focus stays in the box), but the card shows the new values.
  function refreshSelectedCard() {
    var step = selectedPath && stepsByPath[selectedPath];
    var card = step && flowRoot.querySelector('.seq-card[data-path="' + selectedPath + '"]');
    if (!card) return;
    card.querySelector(":scope > .seq-card-summary").textContent = summary(step);
    card.querySelector(":scope > .seq-card-head > .seq-card-key").textContent = step.key;
    card.setAttribute("data-key", step.key);
  }

  function draw() {
    lists = {}; stepsByPath = {};
    doc.steps = Array.isArray(doc.steps) ? doc.steps : [];
    flowRoot.replaceChildren(drawList(doc.steps, "steps", null));
    if (selectedPath && !stepsByPath[selectedPath]) selectedPath = null;
    drawPanel();
    drawSettings();
    showProblems();
  }

  // The server's sentence ("Step 2 (branch): the 'yes' path has no steps"); the path is
  // only for placing it.
  function words(problem, rest) {
    return problem.text || (rest ? rest + ": " : "") + problem.message;
  }

  // Each problem goes to the deepest drawn node whose path starts its path; the rest
  // of the path (`template_id`, `condition.step`) marks the matching box in the panel.
  function showProblems() {
    var nodes = Array.prototype.slice.call(document.querySelectorAll("#flow [data-path], #settings [data-path]"));
    nodes.forEach(function (node) {
      node.classList.remove("has-error");
      var slot = node.querySelector(":scope > .seq-error");
      if (slot) { slot.hidden = true; slot.textContent = ""; }
    });
    var panelSlot = panelBody.querySelector(".seq-panel-error");
    if (panelSlot) { panelSlot.hidden = true; panelSlot.textContent = ""; }
    Array.prototype.forEach.call(panelBody.querySelectorAll("[aria-invalid]"), function (box) { box.removeAttribute("aria-invalid"); });
    problems.forEach(function (problem) {
      var best = null;
      nodes.forEach(function (node) {
        var path = node.getAttribute("data-path");
        if (!path || !node.querySelector(":scope > .seq-error")) return;
        var p = problem.path;
        if (p === path || p.indexOf(path + ".") === 0 || p.indexOf(path + "[") === 0) {
          if (!best || path.length >= best.getAttribute("data-path").length) best = node;
        }
      });
      if (!best) return; // top-level problems are listed above the form
      var rest = problem.path.slice(best.getAttribute("data-path").length).replace(/^\./, "");
      var slot = best.querySelector(":scope > .seq-error");
      best.classList.add("has-error");
      slot.hidden = false;
      slot.textContent = (slot.textContent ? slot.textContent + " · " : "") + words(problem, rest);
      if (best.getAttribute("data-path") === selectedPath && panelSlot) {
        panelSlot.hidden = false;
        panelSlot.textContent = (panelSlot.textContent ? panelSlot.textContent + " · " : "") + words(problem, rest);
        var box = rest && panelBody.querySelector("[data-key='" + rest + "']");
        if (box) box.setAttribute("aria-invalid", "true");
      }
    });
  }

  function setupBuilder() {
    flowRoot = document.getElementById("flow");
    if (!flowRoot) return;
    settingsRoot = document.getElementById("settings");
    panelBody = document.getElementById("panel-body");
    textarea = document.getElementById("f-definition");
    catalogue = JSON.parse(document.getElementById("builder-catalogue").textContent);
    catalogue.mail_steps.forEach(function (type) { SUMMARY_TYPES[type] = true; });
    problems = JSON.parse(document.getElementById("builder-problems").textContent);
    try { doc = JSON.parse(textarea.value); } catch (e) { doc = null; }
    if (!doc || typeof doc !== "object" || Array.isArray(doc)) doc = { steps: [], goals: [], triggers: [] };
    draw();
    textarea.value = JSON.stringify(doc, null, 1);
    // Someone editing the JSON by hand: take it as the new state when it parses.
    textarea.addEventListener("change", function () {
      try { var parsed = JSON.parse(textarea.value); if (parsed && typeof parsed === "object") { doc = parsed; selectedPath = null; draw(); } } catch (e) { /* keep the last good state */ }
    });
  }

  // --- The sequence page: funnel chart and the contact picker ---------------

  function setupFunnelChart() {
    var canvas = document.getElementById("funnel-chart");
    if (!canvas || !window.Chart) return;
    var data = JSON.parse(document.getElementById("funnel-chart-data").textContent);
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [
          { label: "Reached", data: data.reached, backgroundColor: "rgba(23, 116, 95, 0.75)" },
          { label: "Here now", data: data.waiting, backgroundColor: "rgba(44, 92, 197, 0.65)" },
          { label: "Then reached a goal", data: data.converted, backgroundColor: "rgba(164, 102, 10, 0.65)" }
        ]
      },
      options: {
        maintainAspectRatio: false,
        indexAxis: data.labels.length > 6 ? "y" : "x",
        scales: { x: { ticks: { precision: 0 } }, y: { beginAtZero: true, ticks: { precision: 0 } } },
        plugins: { legend: { position: "bottom" } }
      }
    });
  }

  function setupPicker() {
    var emails = document.getElementById("enrol-emails");
    if (!emails) return;
    document.addEventListener("click", function (event) {
      var button = event.target.closest("[data-pick-email]");
      if (!button) return;
      var address = button.getAttribute("data-pick-email");
      var present = emails.value.split(/[\s,;]+/).filter(Boolean);
      if (present.indexOf(address) < 0) emails.value = present.concat([address]).join("\n");
      button.disabled = true;
    });
  }

  function start() {
    setupBuilder();
    setupFunnelChart();
    setupPicker();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
