// A select marked data-autosubmit sends its form as soon as another option is chosen (the header's
// jurisdiction picker, the protocol comparison). A static script rather than onchange="...": the
// Content-Security-Policy refuses inline event handlers (see src/fangkong/web/security.py).
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field && field.hasAttribute && field.hasAttribute("data-autosubmit") && field.form) {
      field.form.submit();
    }
  });
})();
