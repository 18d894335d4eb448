/* After a form comes back with errors, start the keyboard and the screen reader at the list of
   problems (each links to its field), instead of at the top of the page (WCAG 3.3.1, 2.4.3). */
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
});
