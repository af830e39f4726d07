// batch web: the few things a page does by itself. The pages work without it.
(function () {
  "use strict";
  // A form that plans or applies says it is working and is not sent twice.
  document.querySelectorAll("form.upload, form.apply").forEach(function (form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("button[type=submit]");
      if (button) { button.disabled = true; if (form.dataset.busy) button.textContent = form.dataset.busy; }
    });
  });
  // The run page polls its progress until the apply ends, then reloads for the results.
  var run = document.getElementById("run");
  if (!run) return;
  var status = run.dataset.status;
  if (status !== "queued" && status !== "applying") return;
  function text(id, value) { var el = document.getElementById(id); if (el) el.textContent = value; }
  function poll() {
    fetch("/runs/" + run.dataset.run + "/progress", { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        text("status", data.status);
        var p = data.progress;
        if (p) {
          var bar = document.getElementById("bar");
          bar.max = p.total || 1; bar.value = p.done;
          text("done", p.done); text("total", p.total); text("phase", p.phase);
          text("rate", p.rate); text("eta", p.eta_s === null ? "-" : p.eta_s + " s");
        }
        if (data.status === "queued" || data.status === "applying") {
          setTimeout(poll, 700);
        } else {
          window.location.reload();
        }
      })
      .catch(function () { setTimeout(poll, 2000); });
  }
  setTimeout(poll, 300);
})();
