// Evidence upload on the case page: drag and drop or choose files, one XHR per file with
// upload progress. No framework, no CDN. The server checks everything; this only reports.
(function () {
  "use strict";
  var panel = document.getElementById("evidence");
  if (!panel) { return; }
  var form = panel.querySelector("form.evidence-upload");
  if (!form) { return; }
  var zone = form.querySelector(".dropzone");
  var input = form.querySelector("input[type=file]");
  var statusList = form.querySelector(".upload-status");
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var pending = 0;
  var succeeded = 0;

  function uploadOne(file) {
    var li = document.createElement("li");
    var label = document.createElement("span");
    label.textContent = file.name + " ";
    var bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    var note = document.createElement("span");
    note.className = "note";
    li.appendChild(label);
    li.appendChild(bar);
    li.appendChild(note);
    statusList.appendChild(li);

    var data = new FormData();
    data.append("kind", form.querySelector("select[name=kind]").value);
    data.append("file", file);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("X-CSRFToken", csrf);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) { bar.value = Math.round((e.loaded / e.total) * 100); }
    });
    xhr.addEventListener("load", function () {
      var body = {};
      try { body = JSON.parse(xhr.responseText); } catch (err) { body = {}; }
      if (xhr.status === 201) {
        bar.value = 100;
        li.className = "ok";
        note.textContent = " ✔ " + (body.kind_label || "") + " · SHA-256 " + (body.sha256 || "").slice(0, 12) + "…";
        succeeded += 1;
      } else {
        li.className = "error";
        var reasons = body.fields && body.fields.file ? body.fields.file.join(" ")
          : (body.detail || form.dataset.uploadFailed + " (HTTP " + xhr.status + ")");
        note.textContent = " ✘ " + reasons;
      }
      done();
    });
    xhr.addEventListener("error", function () {
      li.className = "error";
      note.textContent = " ✘ " + form.dataset.networkError;
      done();
    });
    pending += 1;
    xhr.send(data);
  }

  function done() {
    pending -= 1;
    if (pending === 0 && succeeded > 0) {
      // Show the new files, thumbnails and checklist as the server now sees them.
      setTimeout(function () { window.location.reload(); }, 800);
    }
  }

  function uploadAll(files) {
    for (var i = 0; i < files.length; i++) { uploadOne(files[i]); }
  }

  input.addEventListener("change", function () { uploadAll(input.files); input.value = ""; });
  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (e) { e.preventDefault(); zone.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (name) {
    zone.addEventListener(name, function (e) { e.preventDefault(); zone.classList.remove("over"); });
  });
  zone.addEventListener("drop", function (e) {
    if (e.dataTransfer && e.dataTransfer.files.length) { uploadAll(e.dataTransfer.files); }
  });
})();
