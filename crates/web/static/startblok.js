// Startblok: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
  // GOV.UK pattern: move focus to the error summary so screen readers announce it.
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.getElementById("foutmeldingen");
    if (summary) { summary.focus(); }
  });
})();
