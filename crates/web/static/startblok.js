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
    // File fields with data-max-bytes: a file that is too large is said at the field before it
    // is sent (the server says the same when it gets one; this saves sending it first).
    document.querySelectorAll("input[type=file][data-max-bytes]").forEach(function (input) {
      var form = input.form;
      if (!form) { return; }
      form.addEventListener("submit", function (event) {
        var max = parseInt(input.getAttribute("data-max-bytes"), 10);
        var file = input.files && input.files[0];
        if (!file || !(file.size > max)) { return; }
        event.preventDefault();
        var field = input.closest(".utrecht-form-field");
        var id = input.id + "-fout";
        var message = document.getElementById(id);
        if (!message) {
          message = document.createElement("div");
          message.id = id;
          message.className = "utrecht-form-field__error-message utrecht-form-field-error-message";
          var label = input.closest(".utrecht-form-field__input");
          (label || input).parentNode.insertBefore(message, label || input);
        }
        message.innerHTML = '<span class="sb-visually-hidden">Fout: </span>';
        message.appendChild(document.createTextNode(input.getAttribute("data-te-groot")));
        if (field) {
          field.classList.add("utrecht-form-field--invalid", "sb-field--invalid");
        }
        input.setAttribute("aria-invalid", "true");
        var described = (input.getAttribute("aria-describedby") || "").split(" ");
        if (described.indexOf(id) < 0) { described.push(id); }
        input.setAttribute("aria-describedby", described.join(" ").trim());
        input.focus();
      });
    });
    // Forms marked data-bezig="…" (uploads, imports) say that they are working once sent, and
    // cannot be sent twice. Buttons are disabled after the submit event, so their value is sent.
    document.querySelectorAll("form[data-bezig]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (event.defaultPrevented) { return; }
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
    // Copy buttons (data-kopieer="ID"): copy the text of element ID, and say so. Without
    // JavaScript the button stays hidden and the text can be selected by hand.
    document.querySelectorAll("button[data-kopieer]").forEach(function (button) {
      var source = document.getElementById(button.getAttribute("data-kopieer"));
      var status = document.getElementById(button.getAttribute("data-kopieer") + "-status");
      if (!source) { return; }
      button.hidden = false;
      button.addEventListener("click", function () {
        var text = source.textContent.trim();
        var done = function () {
          if (status) { status.textContent = button.getAttribute("data-gekopieerd") || "Gekopieerd"; }
        };
        var fallback = function () {
          var range = document.createRange();
          range.selectNodeContents(source);
          var selection = window.getSelection();
          selection.removeAllRanges();
          selection.addRange(range);
          try { if (document.execCommand("copy")) { done(); return; } } catch (e) { /* below */ }
          if (status) { status.textContent = "Selecteer de sleutel en kopieer hem met Ctrl+C."; }
        };
        if (navigator.clipboard && navigator.clipboard.writeText) {
          navigator.clipboard.writeText(text).then(done, fallback);
        } else {
          fallback();
        }
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
