// A form that came back with errors: move focus to its summary, so a keyboard or screen
// reader user lands on what to fix instead of the top of the page.
(function () {
  "use strict";
  var summary = document.querySelector("[data-error-summary]");
  if (summary) { summary.focus(); }
})();
