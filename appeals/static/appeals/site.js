// Small behaviours of every page, kept out of the HTML (the Content-Security-Policy allows no
// inline script or event handler). No framework, no CDN.
(function () {
  "use strict";

  // <select data-autosubmit>: choosing a value submits its form (the language switcher).
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  // Verification panel: a resend button waits out its cooldown, counting down its label.
  document.querySelectorAll("#verification [data-cooldown]").forEach(function (button) {
    var left = parseInt(button.dataset.cooldown, 10);
    var label = button.parentNode.querySelector(".cooldown");
    var timer = setInterval(function () {
      left -= 1;
      if (label) { label.textContent = label.textContent.replace(/\d+/, Math.max(left, 0)); }
      if (left <= 0) { clearInterval(timer); button.disabled = false; if (label) { label.remove(); } }
    }, 1000);
  });
}());
