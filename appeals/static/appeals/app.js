// Behaviour every page shares. Static file only: the pages carry no inline script or handler,
// so a strict Content-Security-Policy (script-src 'self') holds.
(function () {
  "use strict";
  // The language switcher submits as soon as a language is chosen (its <noscript> button
  // does the same without JavaScript).
  document.querySelectorAll("form.lang select[name=language]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
})();
