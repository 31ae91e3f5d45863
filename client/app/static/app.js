// Trellis local app: live updates, quick exit, a keep-alive while someone types, and a
// lock that keeps unsent text. Every form works without this file.
//
// The lock (docs/THREAT_MODEL.md §27): typing sends a keep-alive at most every
// data-alive-ms (30 s, less for a short idle lock), so writing a long entry is use of
// the app. When the lock comes anyway (a real absence), a page with unsent text does
// not leave for the unlock page: everything of the page leaves the document, what was
// typed is kept in this script's memory only (never localStorage or sessionStorage),
// and a lock card asks for the passphrase; unlocking fetches the page again and puts
// the text back in its form. Quick exit drops it.
"use strict";
(function () {
  function csrf() { return document.body.getAttribute("data-csrf") || ""; }
  var leaving = false;
  var source = null;
  var locked = false;
  var kept = null;
  var channel = window.BroadcastChannel ? new BroadcastChannel("trellis-" + location.port) : null;

  function post(url, fields, keepalive) {
    var form = new URLSearchParams();
    form.set("csrf", csrf());
    Object.keys(fields).forEach(function (k) { form.set(k, fields[k]); });
    return fetch(url, { method: "POST", body: form, credentials: "same-origin", keepalive: !!keepalive });
  }

  // Quick exit: lock at once, then replace this page (and its history entry) with
  // the neutral one, so Back does not bring it back. Every other tab of the app
  // leaves too (this channel here, the live stream's "exit" for the rest).
  function leave() {
    leaving = true;
    kept = null;
    if (source) { source.close(); }
    window.location.replace("/bye");
  }
  function quickExit() {
    if (leaving) { return; }
    leaving = true;
    kept = null;
    if (source) { source.close(); }  // its "locked" must not send this page elsewhere
    if (channel) { channel.postMessage("exit"); }
    var done = function () { window.location.replace("/bye"); };
    var form = new URLSearchParams();
    form.set("csrf", csrf());
    fetch("/exit", { method: "POST", body: form, credentials: "same-origin", redirect: "manual", keepalive: true })
      .then(done, done);
    document.documentElement.classList.add("leaving");
  }
  if (channel) { channel.onmessage = function (e) { if (e.data === "exit" && !leaving) { leave(); } }; }
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (form.id === "quick-exit") { e.preventDefault(); quickExit(); }
    if (form.id === "lock-card") { e.preventDefault(); unlockHere(form); }
    // Lock pressed while something is unsent: lock, and keep it under the lock card.
    if (form.getAttribute("action") === "/lock" && unsent().length) {
      e.preventDefault();
      post("/lock", {}, false).then(onLocked, onLocked);
    }
  });
  var lastEsc = 0;
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") { return; }
    var now = Date.now();
    if (now - lastEsc < 1500) { quickExit(); }
    lastEsc = now;
  });
  // At phone width the screens scroll sideways in one row: show where this page is.
  var here = document.querySelector("nav [aria-current=page]");
  if (here && here.scrollIntoView) { here.scrollIntoView({ block: "nearest", inline: "center" }); }
  // A page restored from the back/forward cache is fetched again (the server decides).
  window.addEventListener("pageshow", function (e) { if (e.persisted) { window.location.reload(); } });

  // Typing is use of the app: a keep-alive, at most one per data-alive-ms.
  var aliveEvery = Number(document.body.getAttribute("data-alive-ms")) || 30000;
  var lastAlive = 0;
  document.addEventListener("input", function () {
    if (leaving || locked || !document.body.hasAttribute("data-live")) { return; }
    var now = Date.now();
    if (now - lastAlive < aliveEvery) { return; }
    lastAlive = now;
    post("/alive", {}, false).then(function (r) { if (r.status === 423) { onLocked(); } }, function () {});
  });

  // The fields a person changed, form by form (not tokens, not passphrases).
  function fieldsOf(form) {
    return Array.prototype.filter.call(form.elements, function (f) {
      return f.name && ["hidden", "password", "submit", "button", "reset", "file"].indexOf(f.type) < 0;
    });
  }
  function changed(f) {
    if (f.type === "checkbox" || f.type === "radio") { return f.checked !== f.defaultChecked; }
    if (f.tagName === "SELECT") {
      // With no option marked selected, a single choice starts on the first one.
      var marked = Array.prototype.some.call(f.options, function (o) { return o.defaultSelected; });
      return Array.prototype.some.call(f.options, function (o, i) {
        return o.selected !== (marked ? o.defaultSelected : (i === 0 && !f.multiple));
      });
    }
    return f.value !== f.defaultValue;
  }
  function unsent() {
    var out = [];
    document.querySelectorAll("main form").forEach(function (form, index) {
      var fields = fieldsOf(form);
      if (!fields.some(changed)) { return; }
      var seen = {};
      out.push({
        action: form.getAttribute("action"), index: index,
        fields: fields.map(function (f) {
          seen[f.name] = (seen[f.name] || 0) + 1;
          return { name: f.name, nth: seen[f.name] - 1, value: f.value, checked: f.checked };
        })
      });
    });
    return out;
  }
  function restore(saved) {
    var forms = document.querySelectorAll("main form");
    var first = null;
    saved.forEach(function (s) {
      var form = forms[s.index];
      if (!form || form.getAttribute("action") !== s.action) {
        form = Array.prototype.find.call(forms, function (f) { return f.getAttribute("action") === s.action; });
      }
      if (!form) { return; }
      s.fields.forEach(function (k) {
        var same = Array.prototype.filter.call(form.elements, function (f) { return f.name === k.name; });
        var f = same[k.nth];
        if (!f) { return; }
        if (f.type === "checkbox" || f.type === "radio") { f.checked = k.checked; }
        else { f.value = k.value; if (!first && k.value) { first = f; } }
      });
    });
    if (first) { first.focus(); }
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) { node.textContent = text; }
    return node;
  }
  // The lock came: a page with nothing unsent goes to the unlock page; otherwise the
  // page's content leaves the document and the lock card takes its place.
  function onLocked() {
    if (locked || leaving) { return; }
    if (source) { source.close(); source = null; }
    var saved = unsent();
    if (!saved.length) { window.location.replace("/unlock"); return; }
    kept = saved;
    locked = true;
    document.title = "Locked · Trellis";
    var body = document.body;
    while (body.firstChild) { body.removeChild(body.firstChild); }
    body.removeAttribute("data-live");
    var exit = el("form", { id: "quick-exit", method: "post", action: "/exit", "class": "top" });
    exit.appendChild(el("span", { "class": "brand" }, "Trellis"));
    exit.appendChild(el("button", { type: "submit", "class": "exit" }, "Quick exit"));
    body.appendChild(exit);
    var main = el("main", { id: "main", "class": "lock-card" });
    main.appendChild(el("h1", {}, "Trellis is locked"));
    main.appendChild(el("p", {}, "What you were writing is kept in this page, not saved anywhere. " +
      "Unlock to go on; then send it when you are ready. Quick exit drops it."));
    var form = el("form", { id: "lock-card", "class": "card" });
    form.appendChild(el("label", { "for": "lock-passphrase" }, "Passphrase"));
    form.appendChild(el("input", { id: "lock-passphrase", type: "password", required: "", autocomplete: "current-password" }));
    form.appendChild(el("p", { id: "lock-problem", "class": "flash problem", role: "alert", hidden: "" }));
    form.appendChild(el("button", { type: "submit", "class": "primary" }, "Unlock"));
    main.appendChild(form);
    body.appendChild(main);
    document.getElementById("lock-passphrase").focus();
  }
  function unlockHere(form) {
    var problem = form.querySelector("#lock-problem");
    var say = function (text) { problem.textContent = text; problem.hidden = false; };
    var field = form.querySelector("#lock-passphrase");
    post("/unlock", { passphrase: field.value }, false)
      .then(function (r) {
        field.value = "";
        // The app answers with its start page when it opened, or the unlock page
        // (with why not) when it did not.
        if (new URL(r.url).pathname === "/unlock") {
          return r.text().then(function (html) {
            var doc = new DOMParser().parseFromString(html, "text/html");
            var why = doc.querySelector(".flash.problem");
            say(why ? why.textContent : "That did not open it. Try again.");
          });
        }
        return reopen();
      })
      .catch(function () { say("The app could not be reached. Is it still running?"); });
  }
  function reopen() {
    return fetch(window.location.href, { credentials: "same-origin" })
      .then(function (r) {
        if (r.redirected || !r.ok) { window.location.replace(r.url || "/"); return null; }
        return r.text();
      })
      .then(function (html) {
        if (html === null) { return; }
        var doc = new DOMParser().parseFromString(html, "text/html");
        document.documentElement.replaceChild(document.adoptNode(doc.body), document.body);
        document.title = doc.title;
        var saved = kept;
        kept = null;
        locked = false;
        restore(saved);
        var main = document.getElementById("main");
        var note = el("p", { "class": "flash", role: "status" },
          "Unlocked. What you were writing is back in its form; send it when you are ready.");
        if (main) { main.insertBefore(note, main.firstChild); }
        listen();
      });
  }

  // Live updates: the stream says only that something changed; the page fetches itself
  // and swaps the regions marked data-live (forms being typed in are left alone).
  var refreshing = false;
  // A region where someone is typing (a reply, a note) waits for the next change.
  function typing(region) {
    return Array.prototype.some.call(region.querySelectorAll("textarea, input"), function (f) {
      return f === document.activeElement || f.value !== f.defaultValue;
    });
  }
  function refresh() {
    if (refreshing || leaving || locked) { return; }
    refreshing = true;
    fetch(window.location.href, { credentials: "same-origin", headers: { "X-Trellis-Live": "1" } })
      .then(function (r) {
        if (leaving || locked) { return null; }
        if (r.redirected && new URL(r.url).pathname === "/unlock") { onLocked(); return null; }
        if (r.redirected || !r.ok) { window.location.replace(r.url || "/"); return null; }
        return r.text();
      })
      .then(function (html) {
        if (html === null || html === undefined) { return; }
        var doc = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live][id]").forEach(function (region) {
          var fresh = doc.getElementById(region.id);
          if (fresh && !typing(region)) { region.innerHTML = fresh.innerHTML; }
        });
      })
      .finally(function () { refreshing = false; });
  }
  function listen() {
    var liveUrl = document.body.getAttribute("data-live");
    if (!liveUrl || !window.EventSource) { return; }
    source = new EventSource(liveUrl);
    source.addEventListener("change", refresh);
    source.addEventListener("signal", refresh);
    source.addEventListener("locked", onLocked);
    source.addEventListener("exit", function () { if (!leaving) { leave(); } });
  }
  listen();
})();
