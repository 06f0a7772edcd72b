// The broadcast form shows only the inputs that matter for what is chosen: the send time
// for "at a set time", the day and local time for "at a local time", the test phase's
// inputs once it is ticked. Without script every input shows and the server ignores the
// ones that do not apply.
(function () {
  "use strict";
  var form = document.getElementById("broadcast-form");
  if (!form) return;

  function chosen(name) {
    var input = form.querySelector('input[name="' + name + '"]:checked');
    return input ? input.value : "";
  }

  function sync() {
    var when = chosen("when") || "now";
    var audience = chosen("audience") || "segment";
    var testing = form.querySelector("#f-test").checked;
    form.querySelectorAll("[data-when]").forEach(function (el) {
      el.hidden = el.getAttribute("data-when").split(" ").indexOf(when) < 0;
    });
    form.querySelectorAll("[data-audience]").forEach(function (el) {
      el.hidden = el.getAttribute("data-audience") !== audience;
    });
    form.querySelectorAll("[data-test-only]").forEach(function (el) {
      el.hidden = !testing;
    });
  }

  form.addEventListener("change", sync);
  sync();
})();
