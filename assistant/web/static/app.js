// Followup web app: progressive enhancement only (every action is a plain form).
// Queue keyboard shortcuts, follow-up shortcuts, and the template editor's live preview.
(function () {
  "use strict";
  function typing(e) {
    var t = e.target;
    return t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
  }
  function csrf() {
    var f = document.querySelector("input[name=csrf_token]");
    return f ? f.value : "";
  }
  var page = document.body.getAttribute("data-page");

  if (page === "queue") {
    var items = Array.prototype.slice.call(document.querySelectorAll(".qitem"));
    var at = items.length ? 0 : -1;
    function show() {
      items.forEach(function (el, i) { el.classList.toggle("selected", i === at); });
      if (at >= 0) { items[at].scrollIntoView({block: "nearest"}); }
    }
    show();
    document.addEventListener("keydown", function (e) {
      if (typing(e) || e.metaKey || e.ctrlKey || e.altKey || at < 0) { return; }
      if (e.key === "j") { at = Math.min(items.length - 1, at + 1); show(); }
      else if (e.key === "k") { at = Math.max(0, at - 1); show(); }
      else if (e.key === "o" || e.key === "Enter") { window.location = items[at].getAttribute("data-href"); }
    });
  }

  if (page === "followup") {
    document.addEventListener("keydown", function (e) {
      if (typing(e) || e.metaKey || e.ctrlKey || e.altKey) { return; }
      var el = null;
      if (e.key === "a") { el = document.getElementById("approve"); if (el) { el.click(); } }
      else if (e.key === "s") { el = document.getElementById("skip-reason"); }
      else if (e.key === "e") { el = document.getElementById("body"); }
      else if (e.key === "c") { el = document.getElementById("touch-note"); }
      if (el && e.key !== "a") { e.preventDefault(); el.focus(); }
    });
  }

  if (page === "template") {
    var form = document.getElementById("template-form");
    var text = document.getElementById("template-text");
    var thread = document.getElementById("preview-thread");
    var timer = null;
    var seq = 0;
    function render(data) {
      var err = document.getElementById("preview-error");
      document.getElementById("preview-thread-name").textContent = data.thread || "—";
      if (data.error) {
        err.hidden = false;
        err.textContent = (data.line ? "L" + data.line + ": " : "") + data.error;
      } else {
        err.hidden = true;
        err.textContent = "";
        document.getElementById("preview-subject").textContent = data.subject || "";
        document.getElementById("preview-body").textContent = data.body || "";
      }
    }
    function refresh() {
      var mine = ++seq;
      var body = new URLSearchParams();
      body.set("text", text.value);
      body.set("thread", thread ? thread.value : "");
      body.set("csrf_token", csrf());
      fetch(form.getAttribute("data-preview"), {
        method: "POST", body: body, credentials: "same-origin",
        headers: {"X-CSRF-Token": csrf()}
      }).then(function (r) { return r.json(); }).then(function (data) {
        if (mine === seq) { render(data); }
      }).catch(function () {});
    }
    function later() { clearTimeout(timer); timer = setTimeout(refresh, 250); }
    text.addEventListener("input", later);
    if (thread) { thread.addEventListener("change", refresh); }
    var line = parseInt(text.getAttribute("data-error-line"), 10);
    if (line > 0) {
      var lines = text.value.split("\n");
      var start = 0;
      for (var i = 0; i < line - 1 && i < lines.length; i++) { start += lines[i].length + 1; }
      text.focus();
      text.setSelectionRange(start, start + (lines[line - 1] || "").length);
    }
  }
})();
