/* Confirmation of destructive and mass actions (issue 15 item 4). Each such form carries a required
   "confirm" box the server checks, so it works without JavaScript; here the box is hidden and the
   form's native <dialog> asks instead, ticking the box only when the person confirms. */
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("form.confirm-form").forEach(function (form) {
    var check = form.querySelector(".confirm-check");
    var box = check && check.querySelector("input[type=checkbox]");
    var dialog = document.getElementById(form.getAttribute("data-dialog"));
    if (!box || !dialog || typeof dialog.showModal !== "function") { return; }
    check.hidden = true;
    box.required = false;
    form.addEventListener("submit", function (event) {
      if (box.checked) { return; }
      event.preventDefault();
      dialog.returnValue = "";
      dialog.showModal();
    });
    dialog.addEventListener("close", function () {
      if (dialog.returnValue !== "ok") { return; }
      box.checked = true;
      if (typeof form.requestSubmit === "function") { form.requestSubmit(); } else { form.submit(); }
    });
  });
});
