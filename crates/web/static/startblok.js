// Startblok: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
  // GOV.UK pattern: move focus to the error summary so screen readers announce it.
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.getElementById("foutmeldingen");
    if (summary) { summary.focus(); }

    // Forms marked data-waarschuw-bij-verlaten warn before a page with unsaved changes is left,
    // so nobody has to remember "vergeet niet op te slaan".
    var forms = document.querySelectorAll("form[data-waarschuw-bij-verlaten]");
    var dirty = false;
    var submitting = false;
    forms.forEach(function (form) {
      form.addEventListener("input", function () { dirty = true; });
      form.addEventListener("change", function () { dirty = true; });
      form.addEventListener("submit", function () { submitting = true; });
    });
    // A form that came back with errors holds unsaved input from the start.
    if (summary && forms.length > 0) { dirty = true; }
    // Forms marked data-bezig="…" (uploads, imports) say that they are working once sent, and
    // cannot be sent twice. Buttons are disabled after the submit event, so their value is sent.
    document.querySelectorAll("form[data-bezig]").forEach(function (form) {
      form.addEventListener("submit", function () {
        var note = document.createElement("p");
        note.className = "utrecht-paragraph sb-busy";
        note.setAttribute("role", "status");
        note.textContent = form.getAttribute("data-bezig");
        var actions = form.querySelector(".sb-actions");
        (actions || form).appendChild(note);
        form.setAttribute("aria-busy", "true");
        window.setTimeout(function () {
          form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
        }, 0);
      });
    });
    window.addEventListener("beforeunload", function (event) {
      if (dirty && !submitting) {
        event.preventDefault();
        event.returnValue = "";
      }
    });
  });
})();
