// The WeCom pull's progress on the case page: poll the run's JSON every 2 s, show the
// figures, reload the page when it has finished (the evidence panel then shows the flags).
(function () {
  "use strict";
  var panel = document.getElementById("wecom");
  if (!panel || !panel.dataset.progressUrl) { return; }
  var url = panel.dataset.progressUrl;
  function set(cls, value) {
    var el = panel.querySelector("." + cls);
    if (el) { el.textContent = value; }
  }
  function poll() {
    var xhr = new XMLHttpRequest();
    xhr.open("GET", url);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.addEventListener("load", function () {
      if (xhr.status !== 200) { return; }
      var run = JSON.parse(xhr.responseText);
      set("wecom-state", run.state_label);
      set("wecom-pages", run.pages_fetched);
      set("wecom-records", run.records);
      set("wecom-retries", run.retries);
      if (run.finished) { window.location.reload(); } else { window.setTimeout(poll, 2000); }
    });
    xhr.send();
  }
  window.setTimeout(poll, 1000);
})();
