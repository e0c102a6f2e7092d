// Tracing forms: the line list made ready for the next person, and picking a resident found by ID
// number (see templates/tracing/_resident.html).
//
// The lookup answers with the masked resident and a "use this resident" button; choosing it puts the
// registry person's id in the form's hidden person_id, so the line is recorded for that person. Typing
// another ID number, or the form being reset for the next person, drops the choice.
(function () {
  "use strict";

  function setPicked(form, id, label) {
    var field = form.querySelector('input[name="person_id"]');
    if (!field) return;
    field.value = id || "";
    form.querySelectorAll("[data-picked]").forEach(function (node) { node.remove(); });
    if (id) {
      var note = document.createElement("span");
      note.setAttribute("data-picked", "");
      note.setAttribute("data-testid", "picked-resident");
      note.className = "ok";
      note.textContent = "✓ " + label;
      var match = form.querySelector("#resident-match");
      (match || form).appendChild(note);
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-pick-resident]");
    if (!button) return;
    var form = button.closest("form");
    if (form) setPicked(form, button.getAttribute("data-pick-resident"), button.getAttribute("data-label"));
  });

  document.addEventListener("input", function (event) {
    var field = event.target;
    if (field.name !== "id_number" || !field.form) return;
    setPicked(field.form, "", "");
  });

  // A line-list form (data-reset-after="<field>") is emptied for the next person once its line is
  // saved, and the cursor goes back to that field; a refused line keeps what was typed. (htmx's hx-on
  // would do this inline, but the page's Content-Security-Policy refuses evaluated strings.)
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (!form || form.tagName !== "FORM" || !form.hasAttribute("data-reset-after")) return;
    if (event.detail.successful && !document.querySelector("#case-contacts .errors")) form.reset();
    var first = form.querySelector('[name="' + form.getAttribute("data-reset-after") + '"]');
    if (first) first.focus();
  });

  document.addEventListener("reset", function (event) {
    var form = event.target;
    setPicked(form, "", "");
    var match = form.querySelector("#resident-match");
    if (match) match.replaceChildren();
  }, true);
})();
