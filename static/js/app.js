/* After a form comes back with errors, start the keyboard and the screen reader at the list of
   problems (each links to its field), instead of at the top of the page (WCAG 3.3.1, 2.4.3). */
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
});

/* The navbar's collapse on narrow screens is the only script behaviour the pages need, so it is
   done here instead of loading Bootstrap's JavaScript and Popper on every page. */
document.addEventListener("click", function (event) {
  var toggler = event.target.closest(".navbar-toggler");
  if (!toggler) { return; }
  var menu = document.querySelector(toggler.getAttribute("data-bs-target"));
  if (!menu) { return; }
  var open = menu.classList.toggle("show");
  toggler.setAttribute("aria-expanded", open ? "true" : "false");
  toggler.classList.toggle("collapsed", !open);
});
