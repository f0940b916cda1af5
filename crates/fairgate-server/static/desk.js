// Fairgate's desk script (served at /static/desk.js). Enhancements only: every
// page works without it. No inline script anywhere (the Content-Security-Policy
// allows scripts from this origin only).
(function () {
  "use strict";

  // Print buttons: hidden without a script, shown and wired with one.
  document.querySelectorAll("[data-print]").forEach(function (b) {
    b.hidden = false;
    b.addEventListener("click", function () { window.print(); });
  });

  // MRZ scanner input: scanners type like a keyboard. Keep the zone in capitals,
  // and once 2 lines of 44 or 3 lines of 30 are in, move to the submit button so
  // the scanner's final Enter sends the form.
  document.querySelectorAll("textarea[data-mrz]").forEach(function (t) {
    t.addEventListener("input", function () {
      var up = t.value.toUpperCase();
      if (up !== t.value) { t.value = up; }
      var lines = t.value.split(/\r?\n/).filter(function (l) { return l.trim() !== ""; });
      var done = (lines.length === 2 && lines.every(function (l) { return l.trim().length === 44; })) ||
                 (lines.length === 3 && lines.every(function (l) { return l.trim().length === 30; }));
      if (done && t.form) {
        var submit = t.form.querySelector("button[type=submit]");
        if (submit) { submit.focus(); }
      }
    });
  });

  // Live search: a filter over a table already on the page (nothing more is
  // fetched, so nothing more is read or logged). Hidden without a script.
  document.querySelectorAll("[data-filter]").forEach(function (box) {
    var input = box.querySelector("input");
    var table = document.getElementById(box.getAttribute("data-filter"));
    if (!input || !table) { return; }
    box.hidden = false;
    var status = box.querySelector("[role=status]");
    input.addEventListener("input", function () {
      var q = input.value.trim().toLowerCase();
      var shown = 0;
      table.querySelectorAll("tbody tr").forEach(function (tr) {
        var hit = q === "" || tr.textContent.toLowerCase().indexOf(q) !== -1;
        tr.hidden = !hit;
        if (hit) { shown += 1; }
      });
      if (status) { status.textContent = shown + " shown"; }
    });
  });

  // Camera capture: where the browser offers a camera, add a live view and a
  // button that puts the frame into the photograph's file field, so the form
  // sends it exactly as an uploaded file.
  if (!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia && window.DataTransfer)) { return; }
  document.querySelectorAll("fieldset[data-camera]").forEach(function (fs) {
    var input = fs.querySelector("input[type=file]");
    if (!input) { return; }
    var start = document.createElement("button");
    start.type = "button";
    start.className = "usa-button usa-button--outline margin-top-1";
    start.textContent = "Use the camera";
    fs.appendChild(start);
    start.addEventListener("click", function () {
      navigator.mediaDevices.getUserMedia({ video: true, audio: false }).then(function (stream) {
        var video = document.createElement("video");
        video.setAttribute("aria-label", "Camera view");
        video.autoplay = true;
        video.playsInline = true;
        video.srcObject = stream;
        video.className = "fairgate-camera";
        var take = document.createElement("button");
        take.type = "button";
        take.className = "usa-button margin-top-1";
        take.textContent = "Take the photograph";
        var status = document.createElement("p");
        status.setAttribute("role", "status");
        fs.replaceChild(video, start);
        fs.appendChild(take);
        fs.appendChild(status);
        take.addEventListener("click", function () {
          var c = document.createElement("canvas");
          c.width = video.videoWidth;
          c.height = video.videoHeight;
          c.getContext("2d").drawImage(video, 0, 0);
          c.toBlob(function (blob) {
            var dt = new DataTransfer();
            dt.items.add(new File([blob], "camera.jpg", { type: "image/jpeg" }));
            input.files = dt.files;
            input.dispatchEvent(new Event("change", { bubbles: true }));
            status.textContent = "Photograph taken (" + c.width + " by " + c.height + "). It is sent with the form.";
          }, "image/jpeg", 0.92);
        });
      }, function () {
        start.textContent = "No camera: upload a file instead";
        start.disabled = true;
      });
    });
  });
})();
