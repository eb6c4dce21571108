/* The submission portal's only script: drag and drop and progress for uploads (once the workbook
   is checked, the page with its report is loaded: the form stays below the report), and a run's
   progress. Nothing from the server is ever inserted as HTML. Every text it shows comes from the
   page, in the page's language: the data-say-* attributes of the form or panel ("{percent}",
   "{done}", "{total}" filled in here). */
(function () {
  "use strict";

  function said(element, name, values) {
    var text = element.getAttribute("data-say-" + name) || "";
    Object.keys(values || {}).forEach(function (key) { text = text.split("{" + key + "}").join(String(values[key])); });
    return text;
  }

  function bindUpload() {
    var form = document.getElementById("upload-form");
    if (!form) { return; }
    var input = form.querySelector("input[type=file]");
    var drop = form.querySelector(".drop");
    var chosen = form.querySelector(".chosen");
    var progress = form.querySelector(".progress");
    var bar = progress.querySelector(".bar span");
    var text = progress.querySelector(".progress-text");
    var maxBytes = Number(form.getAttribute("data-max-mb")) * 1048576;

    function say(name, values) { progress.hidden = false; text.textContent = said(form, name, values); }
    function showName() { chosen.textContent = input.files.length ? input.files[0].name : ""; }

    ["dragenter", "dragover"].forEach(function (name) {
      drop.addEventListener(name, function (event) { event.preventDefault(); drop.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (name) {
      drop.addEventListener(name, function () { drop.classList.remove("over"); });
    });
    drop.addEventListener("drop", function (event) {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        showName();
        send();
      }
    });
    input.addEventListener("change", showName);
    form.addEventListener("submit", function (event) { event.preventDefault(); send(); });

    function send() {
      var file = input.files[0];
      if (!file) { say("choose"); return; }
      if (file.size > maxBytes) { say("too-large"); return; }
      var request = new XMLHttpRequest();
      request.open("POST", form.action);
      request.setRequestHeader("X-Portal-Fragment", "1");
      request.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) {
          var share = Math.round((event.loaded / event.total) * 100);
          bar.style.width = share + "%";
          say("share", { percent: share });
        }
      });
      request.upload.addEventListener("load", function () { bar.style.width = "100%"; say("checking"); });
      request.addEventListener("load", function () {
        var button = form.querySelector("button[type=submit]");
        if (request.status === 413) { say("too-large"); button.disabled = false; return; }
        var answer = null;
        try { answer = JSON.parse(request.responseText); } catch (ignored) { answer = null; }
        if (!answer || !answer.page) {
          say("unchecked");
          button.disabled = false;
          return;
        }
        var target = new URL(answer.page, window.location.href);
        if (target.pathname === window.location.pathname && target.search === window.location.search) {
          window.location.hash = target.hash;  // the same page: load it again, at the report
          window.location.reload();
        } else {
          window.location.assign(target.href);
        }
      });
      request.addEventListener("error", function () {
        say("failed");
        form.querySelector("button[type=submit]").disabled = false;  // to send it again
      });
      form.querySelector("button[type=submit]").disabled = true;
      say("uploading");
      request.send(new FormData(form));
    }
  }

  function followRun() {
    var panel = document.getElementById("run");
    var url = panel && panel.getAttribute("data-running");
    if (!url) { return; }
    var bar = panel.querySelector(".bar span");
    var text = panel.querySelector(".progress-text");
    var stage = panel.querySelector(".stage");
    function poll() {
      var request = new XMLHttpRequest();
      request.open("GET", url);
      request.addEventListener("load", function () {
        if (request.status !== 200) { return; }
        var job = JSON.parse(request.responseText);
        if (stage) { stage.textContent = panel.getAttribute("data-stage-" + job.stage) || job.stage; }
        if (job.total) {
          bar.style.width = Math.round((job.done / job.total) * 100) + "%";
          text.textContent = said(panel, "progress", { done: job.done, total: job.total });
        }
        if (job.state === "running") { window.setTimeout(poll, 1000); } else { window.location.reload(); }
      });
      request.send();
    }
    poll();
  }

  // The page a form or an upload came back to says its outcome at the top (an upload's verdict, a
  // refusal): focus goes there, so that a screen reader reads it out, without moving the view
  // (an upload's page opens at its report).
  function readOutcome() {
    var outcome = document.querySelector("ul.messages");
    if (outcome) { outcome.focus({ preventScroll: true }); }
  }

  // An extract of a sheet wider than the screen (a phone) scrolls sideways inside its box: it opens
  // with its marked cell in view, not at column A with the cell off to the right.
  function showMarkedCells() {
    var tables = document.querySelectorAll("table.excerpt");
    for (var i = 0; i < tables.length; i++) {
      var table = tables[i];
      var hit = table.querySelector("td.hit");
      if (hit && hit.offsetLeft + hit.offsetWidth > table.clientWidth) {
        table.scrollLeft = Math.max(0, hit.offsetLeft - (table.clientWidth - hit.offsetWidth) / 2);
      }
    }
  }

  bindUpload();
  followRun();
  readOutcome();
  showMarkedCells();
})();
