// The block editor: drag from the palette and within the list (SortableJS), Move up /
// Move down / Delete by keyboard (announced in a live region), adding a block's form from
// the server, image uploads, and the preview width. The block order is one hidden field,
// `blocks_order`, rewritten after every change; the server writes it in page order, so
// the form saves right even before this file has run.
(function () {
  "use strict";

  var form, list, announcer;

  function blocks() {
    return Array.prototype.filter.call(list.children, function (el) { return el.hasAttribute("data-block"); });
  }

  function label(block) {
    var title = block.querySelector(".block-title");
    return title ? title.textContent.trim() : "Block";
  }

  function say(text) {
    // Emptied first, so the same words twice in a row are still read out.
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = text; }, 30);
  }

  function changed(quiet) {
    var all = blocks();
    document.getElementById("blocks-order").value = all.map(function (b) { return b.getAttribute("data-key"); }).join(" ");
    all.forEach(function (b, index) {
      // The pre-save check links to "#block-N", the N-th block as the page now shows it.
      b.id = "block-" + index;
      var up = b.querySelector('[data-move="up"]'), down = b.querySelector('[data-move="down"]');
      if (up) up.setAttribute("aria-disabled", index === 0 ? "true" : "false");
      if (down) down.setAttribute("aria-disabled", index === all.length - 1 ? "true" : "false");
    });
    list.classList.toggle("block-list-empty", all.length === 0);
    if (!quiet && window.htmx) window.htmx.trigger(form, "refresh-preview");
  }

  function position(block) {
    var all = blocks();
    return (all.indexOf(block) + 1) + " of " + all.length;
  }

  function fetchBlock(kind, extra) {
    var url = "/content/blocks/new?kind=" + encodeURIComponent(kind) + "&locale=" + encodeURIComponent(form.getAttribute("data-locale")) + (extra || "");
    return fetch(url, { credentials: "same-origin", headers: { "HX-Request": "true" } }).then(function (response) {
      if (!response.ok) throw new Error("block " + kind + ": " + response.status);
      return response.text();
    }).then(function (html) {
      var holder = document.createElement("template");
      holder.innerHTML = html.trim();
      return holder.content.firstElementChild;
    });
  }

  // Put a new block's form where `placeholder` is (a palette item dropped in the list), or
  // at the end of the list when there is none.
  function addBlock(kind, placeholder) {
    return fetchBlock(kind).then(function (block) {
      if (placeholder && placeholder.parentNode === list) list.replaceChild(block, placeholder);
      else list.appendChild(block);
      if (window.htmx) window.htmx.process(block);
      changed();
      say(label(block) + " added at position " + position(block) + ".");
      return block;
    }).catch(function () {
      if (placeholder && placeholder.parentNode) placeholder.parentNode.removeChild(placeholder);
      say("The block could not be added. Try again.");
    });
  }

  // A card picked from the content library: the server fills the block, same key.
  function pickCard(select) {
    var block = select.closest("[data-block]");
    if (!select.value) return;
    var extra = "&ref=" + encodeURIComponent(select.value) + "&key=" + encodeURIComponent(block.getAttribute("data-key"));
    fetchBlock(block.getAttribute("data-kind"), extra).then(function (filled) {
      list.replaceChild(filled, block);
      if (window.htmx) window.htmx.process(filled);
      changed();
      var again = filled.querySelector("[data-card-ref]");
      if (again) again.focus();
      say(label(filled) + " filled from the content library.");
    }).catch(function () { say("The card could not be filled. Try again."); });
  }

  function move(block, step) {
    var all = blocks(), index = all.indexOf(block), to = index + step;
    if (to < 0 || to >= all.length) {
      say(label(block) + " is already " + (step < 0 ? "first." : "last."));
      return;
    }
    if (step < 0) list.insertBefore(block, all[to]);
    else list.insertBefore(block, all[to].nextSibling);
    changed();
    say(label(block) + " moved to position " + position(block) + ".");
  }

  function remove(block) {
    var all = blocks(), index = all.indexOf(block), name = label(block);
    list.removeChild(block);
    changed();
    var rest = blocks();
    var next = rest[Math.min(index, rest.length - 1)];
    if (next) next.querySelector(".block-title").focus();
    else document.getElementById("blocks-title").focus();
    say(name + " deleted.");
  }

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["x-csrftoken"] || ""; }
    catch (e) { return ""; }
  }

  function upload(button) {
    var block = button.closest("[data-block]");
    var box = button.closest(".block-field");
    var file = box.querySelector("[data-image-file]").files[0];
    var status = box.querySelector("[data-upload-status]");
    if (!file) { status.textContent = "Choose an image file first."; return; }
    var width = block.querySelector("[data-block-width]");
    var data = new FormData();
    data.append("file", file);
    data.append("width", width && /^\d+$/.test(width.value) ? width.value : "600");
    status.textContent = "Uploading…";
    fetch("/content/images", {
      method: "POST", body: data, credentials: "same-origin", headers: { "x-csrftoken": csrfToken() }
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; },
        function () { return { ok: false, body: {} }; });
    }).then(function (answer) {
      if (answer.ok && answer.body.url) {
        var input = box.querySelector("[data-image-url]");
        input.value = answer.body.url;
        input.dispatchEvent(new Event("input", { bubbles: true }));
        status.textContent = "Uploaded (" + answer.body.width + " × " + answer.body.height + " px).";
      } else {
        status.textContent = "Not uploaded: " + problem(answer.body);
      }
    }, function () { status.textContent = "Not uploaded: the server could not be reached."; });
  }

  function problem(body) {
    var found = body && body.error && body.error.problems;
    if (Array.isArray(found) && found.length) {
      return found.map(function (p) { return p.message || p.detail || String(p); }).join("; ");
    }
    return (body && body.error && body.error.message) || "the file was refused.";
  }

  function setupSortable() {
    if (!window.Sortable) return;
    var palette = document.getElementById("block-palette");
    // The mouse/touch fallback instead of native drag and drop: the same behaviour in every
    // browser, and the dragged item stays under the pointer.
    var common = { animation: 120, forceFallback: true, fallbackOnBody: true, fallbackTolerance: 3 };
    if (palette) {
      window.Sortable.create(palette, Object.assign({}, common, {
        group: { name: "blocks", pull: "clone", put: false },
        sort: false,
      }));
    }
    window.Sortable.create(list, Object.assign({}, common, {
      group: { name: "blocks", pull: false, put: true },
      handle: ".block-head",
      filter: "button, input, select, textarea",
      preventOnFilter: false,
      onAdd: function (event) {
        var kind = event.item.getAttribute("data-kind");
        event.item.classList.add("block-loading");
        addBlock(kind, event.item);
      },
      onUpdate: function (event) {
        changed();
        say(label(event.item) + " moved to position " + position(event.item) + ".");
      },
    }));
  }

  function setupWidths() {
    var stage = document.getElementById("preview-stage");
    document.querySelectorAll("[data-preview-width]").forEach(function (button) {
      button.addEventListener("click", function () {
        stage.setAttribute("data-width", button.getAttribute("data-preview-width"));
        document.querySelectorAll("[data-preview-width]").forEach(function (other) {
          other.setAttribute("aria-pressed", other === button ? "true" : "false");
        });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    form = document.getElementById("block-form");
    list = document.getElementById("block-list");
    announcer = document.getElementById("block-announce");
    if (!form || !list) return;
    form.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (!button || !form.contains(button)) return;
      var block = button.closest("[data-block]");
      if (button.hasAttribute("data-add-kind")) {
        addBlock(button.getAttribute("data-add-kind"), null).then(function (added) {
          if (added) added.querySelector(".block-title").focus();
        });
      } else if (block && button.hasAttribute("data-move")) {
        move(block, button.getAttribute("data-move") === "up" ? -1 : 1);
        button.focus();
      } else if (block && button.hasAttribute("data-delete")) {
        remove(block);
      } else if (block && button.hasAttribute("data-upload")) {
        upload(button);
      }
    });
    form.addEventListener("change", function (event) {
      if (event.target.hasAttribute && event.target.hasAttribute("data-card-ref")) pickCard(event.target);
    });
    // The check's links to a block: bring it into view and put focus on its title.
    document.addEventListener("click", function (event) {
      var link = event.target.closest && event.target.closest('a[href^="#block-"]');
      var block = link && document.getElementById(link.getAttribute("href").slice(1));
      if (!block) return;
      event.preventDefault();
      block.scrollIntoView({ block: "start" });
      block.querySelector(".block-title").focus();
    });
    setupSortable();
    setupWidths();
    changed(true);
  });
})();
