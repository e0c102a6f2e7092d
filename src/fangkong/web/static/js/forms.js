// Inline form errors (see src/fangkong/web/errors.py).
//
// Every page form is an htmx form. When one fails, the server answers the fragment _form_errors.html
// (a summary, one <li data-field data-message> per error). This script puts the summary at the top of
// the form that was sent and each message beside its field, marks the field invalid and swaps nothing
// else, so everything typed stays. A field with no input in the form keeps its message in the summary.
// A failed answer that is a whole page (a view that draws its own page with the errors) replaces the
// page, navigation included, never a bare fragment.
(function () {
  "use strict";

  function formOf(elt) {
    if (!elt || !elt.closest) return null;
    return elt.tagName === "FORM" ? elt : elt.closest("form");
  }

  function clearErrors(form) {
    form.querySelectorAll("[data-form-errors]").forEach(function (node) { node.remove(); });
    form.querySelectorAll(".field-error[data-error-for]").forEach(function (node) {
      if (node.hasAttribute("data-auto")) node.remove();
      else { node.textContent = ""; node.hidden = true; }
    });
    form.querySelectorAll("[aria-invalid]").forEach(function (node) {
      node.removeAttribute("aria-invalid");
    });
  }

  function fieldOf(form, name) {
    if (!name) return null;
    var fields = Array.prototype.filter.call(form.elements, function (el) {
      return el.name === name && el.type !== "hidden";
    });
    return fields.length ? fields[fields.length - 1] : null;
  }

  // The words the user reads for a field: its <label> (without the controls inside it), else its
  // aria-label or placeholder.
  function labelOf(field) {
    var label = field.labels && field.labels.length ? field.labels[0] : null;
    if (label) {
      var copy = label.cloneNode(true);
      copy.querySelectorAll("input, select, textarea, button, .field-error, small").forEach(function (n) {
        n.remove();
      });
      var text = copy.textContent.replace(/\s+/g, " ").trim().replace(/[:：*]+$/, "").trim();
      if (text) return text;
    }
    return (field.getAttribute("aria-label") || field.getAttribute("placeholder") || "").trim();
  }

  function slotFor(form, name, field) {
    var slot = form.querySelector('.field-error[data-error-for="' + CSS.escape(name) + '"]');
    if (slot) return slot;
    slot = document.createElement("span");
    slot.className = "field-error";
    slot.setAttribute("data-error-for", name);
    slot.setAttribute("data-auto", "");
    slot.setAttribute("role", "alert");
    field.insertAdjacentElement("afterend", slot);
    return slot;
  }

  function placeErrors(form, summary) {
    clearErrors(form);
    var copy = document.importNode(summary, true);
    var upload = form.querySelector('input[type="file"]');
    if (summary.hasAttribute("data-file") && upload) {
      // Rows and columns of the uploaded file: the list goes beside the file it is about.
      upload.insertAdjacentElement("afterend", copy);
      upload.setAttribute("aria-invalid", "true");
      return;
    }
    var first = null;
    copy.querySelectorAll("li[data-field]").forEach(function (item) {
      var name = item.getAttribute("data-field");
      var field = fieldOf(form, name);
      if (!field) return;
      var label = labelOf(field);
      var shown = item.querySelector("[data-label]");
      if (label && shown) shown.textContent = label + (summary.getAttribute("data-colon") || ": ");
      var slot = slotFor(form, name, field);
      slot.textContent = item.getAttribute("data-message");
      slot.hidden = false;
      slot.id = slot.id || "err-" + name + "-" + Math.random().toString(36).slice(2, 8);
      field.setAttribute("aria-invalid", "true");
      field.setAttribute("aria-describedby", slot.id);
      if (!first) first = field;
    });
    form.insertBefore(copy, form.firstChild);
    if (first) first.focus();
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = formOf(event.detail.elt);
    if (form) clearErrors(form);
  });

  // An answer's own <style> and <script> blocks carry that answer's nonce, which the page on screen
  // (rendered under another) refuses, and reports as a policy violation, even when it only parses them.
  // A whole page shown in place keeps the page's own styles (its template's), so they are left out.
  function withoutBlocks(html) {
    return html.replace(/<(style|script)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, "");
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if (xhr.status < 400) return;
    var text = withoutBlocks(xhr.responseText);
    var doc = new DOMParser().parseFromString(text, "text/html");
    var form = formOf(event.detail.requestConfig && event.detail.requestConfig.elt);
    var summary = doc.querySelector("[data-form-errors]");
    if (summary && form) {
      placeErrors(form, summary);
      event.detail.shouldSwap = false;
      return;
    }
    if (doc.querySelector("header.top")) {
      // A whole page: show it whole, with its navigation.
      event.detail.serverResponse = text;
      event.detail.shouldSwap = true;
      event.detail.isError = false;
      event.detail.target = document.body;
      event.detail.swapOverride = "innerHTML";
      return;
    }
    if (summary) {
      // Not from a form (a button, a panel that loads itself): the errors go where its answer would.
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
