// Trellis local app: live updates and quick exit. Every form works without this file.
"use strict";
(function () {
  var body = document.body;
  var csrf = body.getAttribute("data-csrf") || "";

  // Quick exit: lock at once, then replace this page (and its history entry) with
  // the neutral one, so Back does not bring it back.
  var leaving = false;
  var source = null;
  function quickExit() {
    if (leaving) { return; }
    leaving = true;
    if (source) { source.close(); }  // its "locked" must not send this page elsewhere
    var form = new URLSearchParams();
    form.set("csrf", csrf);
    var done = function () { window.location.replace("/bye"); };
    fetch("/exit", { method: "POST", body: form, credentials: "same-origin", redirect: "manual", keepalive: true })
      .then(done, done);
    document.documentElement.classList.add("leaving");
  }
  var exitForm = document.getElementById("quick-exit");
  if (exitForm) {
    exitForm.addEventListener("submit", function (e) { e.preventDefault(); quickExit(); });
  }
  var lastEsc = 0;
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") { return; }
    var now = Date.now();
    if (now - lastEsc < 1500) { quickExit(); }
    lastEsc = now;
  });
  // A page restored from the back/forward cache is fetched again (the server decides).
  window.addEventListener("pageshow", function (e) { if (e.persisted) { window.location.reload(); } });

  // Live updates: the stream says only that something changed; the page fetches itself
  // and swaps the regions marked data-live (forms being typed in are left alone).
  var liveUrl = body.getAttribute("data-live");
  if (!liveUrl || !window.EventSource) { return; }
  var refreshing = false;
  // A region where someone is typing (a reply, a note) waits for the next change.
  function typing(el) {
    return Array.prototype.some.call(el.querySelectorAll("textarea, input"), function (f) {
      return f === document.activeElement || f.value !== f.defaultValue;
    });
  }
  function refresh() {
    if (refreshing || leaving) { return; }
    refreshing = true;
    fetch(window.location.href, { credentials: "same-origin", headers: { "X-Trellis-Live": "1" } })
      .then(function (r) {
        if (leaving) { return null; }
        if (r.redirected || !r.ok) { window.location.replace(r.url || "/"); return null; }
        return r.text();
      })
      .then(function (html) {
        if (html === null || html === undefined) { return; }
        var doc = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live][id]").forEach(function (el) {
          var fresh = doc.getElementById(el.id);
          if (fresh && !typing(el)) { el.innerHTML = fresh.innerHTML; }
        });
      })
      .finally(function () { refreshing = false; });
  }
  source = new EventSource(liveUrl);
  source.addEventListener("change", refresh);
  source.addEventListener("signal", refresh);
  source.addEventListener("locked", function () {
    source.close();
    if (!leaving) { window.location.replace("/unlock"); }
  });
})();
