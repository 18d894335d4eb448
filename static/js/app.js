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

/* Navigation menus: disclosure buttons (aria-expanded) rather than ARIA menus, so links stay links
   and Tab walks through them. Enter/Space open (native buttons), Escape closes and returns focus to
   the button, a click elsewhere or focus leaving the menu closes it. Without this script the
   stylesheet opens a menu while focus is inside it (html:not(.js)). */
document.documentElement.classList.add("js");
(function () {
  function setOpen(button, open) {
    var menu = document.getElementById(button.getAttribute("aria-controls"));
    if (!menu) { return; }
    button.setAttribute("aria-expanded", open ? "true" : "false");
    menu.classList.toggle("show", open);
  }
  function closeAll(except) {
    document.querySelectorAll("[data-disclosure][aria-expanded='true']").forEach(function (button) {
      if (button !== except) { setOpen(button, false); }
    });
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-disclosure]");
    if (button) {
      closeAll(button);
      setOpen(button, button.getAttribute("aria-expanded") !== "true");
      return;
    }
    if (!event.target.closest(".nav-group")) { closeAll(null); }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    var group = document.activeElement && document.activeElement.closest(".nav-group");
    var open = group && group.querySelector("[data-disclosure][aria-expanded='true']");
    closeAll(null);
    if (open) { open.focus(); }
  });
  document.addEventListener("focusout", function (event) {
    var group = event.target.closest && event.target.closest(".nav-group");
    if (!group || (event.relatedTarget && group.contains(event.relatedTarget))) { return; }
    var button = group.querySelector("[data-disclosure]");
    // Only when focus moves elsewhere on the page: a click on the button itself toggles it.
    if (button && event.relatedTarget) { setOpen(button, false); }
  });
})();

/* Searchable picker over a long <select multiple> (the ~250 countries): a search box filters a list
   of checkboxes that mirror the select's options, and the select itself (hidden) is still what the
   form submits. Without this script the plain select works as before. Only native controls are
   used, so Tab, Space and typing work as everywhere else. */
document.addEventListener("DOMContentLoaded", function () {
  var strings = document.body.dataset;
  document.querySelectorAll("select[multiple]").forEach(function (select) {
    if (select.options.length < 20 || !select.id) { return; }
    var label = document.querySelector("label[for='" + select.id + "']");
    var wrap = document.createElement("div");
    wrap.className = "picker";
    var search = document.createElement("input");
    search.type = "search";
    search.className = "form-control form-control-sm picker-search";
    search.id = select.id + "-search";
    search.setAttribute("autocomplete", "off");
    search.setAttribute("aria-controls", select.id + "-options");
    var described = select.getAttribute("aria-describedby");
    if (described) { search.setAttribute("aria-describedby", described); }
    var chosen = document.createElement("p");
    chosen.className = "small mb-1 picker-chosen";
    chosen.id = select.id + "-chosen";
    chosen.setAttribute("aria-live", "polite");
    var list = document.createElement("div");
    list.className = "picker-options border rounded";
    list.id = select.id + "-options";
    list.setAttribute("role", "group");
    if (label) {
      label.id = label.id || select.id + "-label";
      label.setAttribute("for", search.id);
      list.setAttribute("aria-labelledby", label.id);
    }
    var boxes = [];
    Array.prototype.forEach.call(select.options, function (option, n) {
      var row = document.createElement("div");
      row.className = "form-check";
      var box = document.createElement("input");
      box.type = "checkbox";
      box.className = "form-check-input";
      box.id = select.id + "-opt-" + n;
      box.checked = option.selected;
      var text = document.createElement("label");
      text.className = "form-check-label";
      text.htmlFor = box.id;
      text.textContent = option.textContent;
      row.appendChild(box);
      row.appendChild(text);
      list.appendChild(row);
      box.addEventListener("change", function () { option.selected = box.checked; update(); });
      boxes.push({ row: row, box: box, option: option, key: (option.textContent + " " + option.value).toLowerCase() });
    });
    function update() {
      var names = boxes.filter(function (b) { return b.option.selected; }).map(function (b) { return b.option.textContent; });
      chosen.textContent = (strings.pickerChosen || "Chosen:") + " " + (names.length ? names.join(", ") : (strings.pickerNone || "none"));
    }
    search.addEventListener("input", function () {
      var q = search.value.trim().toLowerCase();
      boxes.forEach(function (b) { b.row.hidden = q !== "" && b.key.indexOf(q) === -1; });
    });
    // Enter in the search box ticks the only match instead of submitting the form.
    search.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") { return; }
      event.preventDefault();
      var shown = boxes.filter(function (b) { return !b.row.hidden; });
      if (shown.length === 1) { shown[0].box.checked = !shown[0].box.checked; shown[0].box.dispatchEvent(new Event("change")); }
    });
    var help = document.getElementById(select.id + "-help");
    if (help && strings.pickerHelp) { help.textContent = strings.pickerHelp; }
    wrap.appendChild(search);
    wrap.appendChild(chosen);
    wrap.appendChild(list);
    // A hidden required control cannot take focus, so the browser would block the submit silently;
    // the server checks the field and reports it with the others.
    select.required = false;
    select.hidden = true;
    select.setAttribute("aria-hidden", "true");
    select.tabIndex = -1;
    select.parentNode.insertBefore(wrap, select.nextSibling);
    update();
  });
});

/* A table wider than its box (Korean kept whole by word-break: keep-all makes more of them on a
   phone) scrolls inside .table-responsive; keyboard users need a tab stop to scroll it (WCAG 2.1.1),
   named after the table's caption. */
(function () {
  function mark() {
    document.querySelectorAll(".table-responsive").forEach(function (box) {
      var scrolls = box.scrollWidth > box.clientWidth + 1;
      if (scrolls && !box.hasAttribute("tabindex")) {
        box.setAttribute("tabindex", "0");
        var caption = box.querySelector("caption");
        if (caption && caption.textContent.trim()) {
          box.setAttribute("role", "region");
          box.setAttribute("aria-label", caption.textContent.trim());
        }
        box.dataset.scrollStop = "1";
      } else if (!scrolls && box.dataset.scrollStop) {
        box.removeAttribute("tabindex");
        box.removeAttribute("role");
        box.removeAttribute("aria-label");
        delete box.dataset.scrollStop;
      }
    });
  }
  document.addEventListener("DOMContentLoaded", mark);
  var timer = null;
  window.addEventListener("resize", function () { clearTimeout(timer); timer = setTimeout(mark, 150); });
})();
