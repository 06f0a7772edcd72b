// The personalisation picker: remembers the text field last focused and puts the chosen
// field's Jinja (asked from the server, which quotes the fallback) at its cursor.
(function () {
  "use strict";

  var target = null;

  function isText(el) {
    return el && !el.readOnly && (el.tagName === "TEXTAREA" ||
      (el.tagName === "INPUT" && (el.type === "text" || el.type === "url")));
  }

  document.addEventListener("focusin", function (event) {
    var el = event.target;
    if (isText(el) && !el.closest("[data-merge-picker]") && !el.hasAttribute("data-image-url")) {
      target = el;
    }
  });

  document.addEventListener("change", function (event) {
    var select = event.target.closest && event.target.closest("[data-merge-field]");
    if (!select) return;
    var picker = select.closest("[data-merge-picker]");
    var option = select.options[select.selectedIndex];
    picker.querySelector("[data-merge-fallback]").value = option ? option.getAttribute("data-fallback") || "" : "";
  });

  function say(picker, text) {
    picker.querySelector("[data-merge-status]").textContent = text;
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-merge-insert]");
    if (!button) return;
    var picker = button.closest("[data-merge-picker]");
    if (!target || !document.body.contains(target)) {
      say(picker, "Click in a text field first, where the field should go.");
      return;
    }
    var field = target;
    var path = picker.querySelector("[data-merge-field]").value;
    var fallback = picker.querySelector("[data-merge-fallback]").value;
    var url = "/content/merge-tag?path=" + encodeURIComponent(path) + "&fallback=" + encodeURIComponent(fallback);
    fetch(url, { credentials: "same-origin" }).then(function (response) {
      return response.text().then(function (text) { return { ok: response.ok, text: text }; });
    }).then(function (answer) {
      if (!answer.ok) { say(picker, "Not inserted: the fallback is too long."); return; }
      var start = field.selectionStart, end = field.selectionEnd;
      if (start === null || start === undefined) { start = end = field.value.length; }
      field.setRangeText(answer.text, start, end, "end");
      field.dispatchEvent(new Event("input", { bubbles: true }));
      field.focus();
      var label = field.labels && field.labels[0] ? field.labels[0].textContent.trim() : "the field";
      say(picker, "Inserted into " + label + ".");
    });
  });
})();
