// The template editor: locale tabs, preview width, and a small syntax highlighter for
// MJML + Jinja drawn under a transparent textarea. Without this file the form still
// saves (every locale's fields are in it); the preview needs htmx.
(function () {
  "use strict";

  var TOKEN = /(\{#[\s\S]*?(?:#\}|$))|(\{\{[\s\S]*?(?:\}\}|$)|\{%[\s\S]*?(?:%\}|$))|(<!--[\s\S]*?(?:-->|$))|(<\/?[A-Za-z][^<>]*>?)/g;
  var TAG_PART = /(^<\/?)([\w:-]+)|([\w:-]+)(?=\s*=)|("[^"]*"?|'[^']*'?)/g;

  function escape(text) {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  function span(kind, text) {
    return '<span class="tok-' + kind + '">' + text + "</span>";
  }

  function highlightTag(tag) {
    var out = "", last = 0, match;
    TAG_PART.lastIndex = 0;
    while ((match = TAG_PART.exec(tag)) !== null) {
      out += escape(tag.slice(last, match.index));
      if (match[2]) {
        var kind = /^mj-/.test(match[2]) ? "mjml" : "tag";
        out += escape(match[1]) + span(kind, escape(match[2]));
      } else if (match[3]) {
        out += span("attr", escape(match[3]));
      } else {
        out += span("string", highlightJinja(match[4]));
      }
      last = TAG_PART.lastIndex;
    }
    return out + escape(tag.slice(last));
  }

  function highlightJinja(text) {
    return escape(text).replace(/(\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\})/g, function (found) {
      return span("jinja", found);
    });
  }

  function highlight(source) {
    var out = "", last = 0, match;
    TOKEN.lastIndex = 0;
    while ((match = TOKEN.exec(source)) !== null) {
      if (match[0] === "") { TOKEN.lastIndex++; continue; }
      out += escape(source.slice(last, match.index));
      if (match[1]) out += span("comment", escape(match[1]));
      else if (match[2]) out += span("jinja", escape(match[2]));
      else if (match[3]) out += span("comment", escape(match[3]));
      else out += highlightTag(match[4]);
      last = TOKEN.lastIndex;
    }
    // A trailing newline needs a character after it, or the last line has no height.
    return out + escape(source.slice(last)) + "\n ";
  }

  function setupCode(textarea) {
    var code = textarea.parentElement.querySelector(".code-highlight code");
    var pre = code.parentElement;
    function paint() { code.innerHTML = highlight(textarea.value); }
    function sync() { pre.scrollTop = textarea.scrollTop; pre.scrollLeft = textarea.scrollLeft; }
    textarea.addEventListener("input", paint);
    textarea.addEventListener("scroll", sync);
    textarea.addEventListener("keydown", function (event) {
      if (event.key === "Tab" && !event.shiftKey && !textarea.readOnly) {
        event.preventDefault();
        var start = textarea.selectionStart, end = textarea.selectionEnd;
        textarea.setRangeText("  ", start, end, "end");
        paint();
      }
    });
    textarea.parentElement.classList.add("code-ready");
    paint();
  }

  function activeLocale() {
    var input = document.getElementById("active-locale");
    return input ? input.value : "en";
  }

  function setupTabs() {
    var tabs = document.querySelectorAll("[data-locale-tab]");
    tabs.forEach(function (tab) {
      tab.addEventListener("click", function () {
        var locale = tab.getAttribute("data-locale-tab");
        tabs.forEach(function (other) {
          other.setAttribute("aria-selected", other === tab ? "true" : "false");
        });
        document.querySelectorAll("[data-locale-panel]").forEach(function (panel) {
          panel.hidden = panel.getAttribute("data-locale-panel") !== locale;
        });
        document.getElementById("active-locale").value = locale;
        var form = document.getElementById("editor-form");
        if (window.htmx && form) window.htmx.trigger(form, "refresh-preview");
      });
    });
    // Open the first language that holds an error, so it is seen.
    var error = document.querySelector("[data-error-for]");
    if (error) {
      var locale = error.getAttribute("data-error-for").split("__")[1];
      var tab = locale && document.querySelector('[data-locale-tab="' + locale + '"]');
      if (tab) tab.click();
    }
  }

  function setupWidths() {
    var stage = document.getElementById("preview-stage");
    if (!stage) return;
    document.querySelectorAll("[data-preview-width]").forEach(function (button) {
      button.addEventListener("click", function () {
        stage.setAttribute("data-width", button.getAttribute("data-preview-width"));
        document.querySelectorAll("[data-preview-width]").forEach(function (other) {
          other.setAttribute("aria-pressed", other === button ? "true" : "false");
        });
      });
    });
  }

  function setupLineLinks() {
    document.addEventListener("click", function (event) {
      var link = event.target.closest("[data-goto-line]");
      if (!link) return;
      var part = link.getAttribute("data-goto-part");
      var field = document.getElementById(part + "__" + activeLocale());
      if (!field) return;
      var line = parseInt(link.getAttribute("data-goto-line"), 10);
      var lines = field.value.split("\n");
      var start = lines.slice(0, line - 1).join("\n").length + (line > 1 ? 1 : 0);
      field.focus();
      field.setSelectionRange(start, start + (lines[line - 1] || "").length);
      var lineHeight = parseFloat(getComputedStyle(field).lineHeight) || 20;
      field.scrollTop = Math.max(0, (line - 3) * lineHeight);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("textarea[data-code]").forEach(setupCode);
    setupTabs();
    setupWidths();
    setupLineLinks();
  });

  window.nurtureHighlight = highlight;
})();
