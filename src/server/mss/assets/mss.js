// MSS pages: the little script they use. Every page works without it; it adds
//  - drafts: a half-written form is kept in this browser's localStorage until it is sent,
//    so a dropped mobile connection or an expired login loses nothing (the form's one-time
//    id is kept too, so sending the same draft twice still makes one ticket); pictures the
//    server already holds come back with the draft, others are named to be added again;
//  - help suggestions while the problem is described, opening in place, and a record of
//    whether the submitter then gave up the submission (a deflection).
// Untrusted text is only ever set through textContent.
(function () {
  "use strict";
  var PENDING = "opsdesk.mss.pending";

  function store() {
    try { return window.localStorage; } catch (e) { return null; }
  }

  function draftFields(form) {
    return Array.prototype.slice.call(form.querySelectorAll("[data-draft]"));
  }

  // Pictures cannot be kept in a draft, only named: those the server already holds (ticked
  // "已上传" boxes of a refused form, sent again by name) are restored; those only chosen on
  // the phone are named in a note asking to add them again.
  function pictures(form) {
    var staged = [];
    Array.prototype.forEach.call(form.querySelectorAll("input[name=staged]:checked"), function (el) {
      staged.push(el.value);
    });
    var chosen = [];
    Array.prototype.forEach.call(form.querySelectorAll("input[type=file]"), function (el) {
      Array.prototype.forEach.call(el.files || [], function (f) { chosen.push(f.name); });
    });
    return { staged: staged, chosen: chosen };
  }

  function saveDraft(form) {
    var ls = store();
    if (!ls) return;
    var data = {};
    var any = false;
    draftFields(form).forEach(function (el) {
      data[el.name] = el.value;
      if (el.type !== "hidden" && el.value.trim() !== "") any = true;
    });
    var p = pictures(form);
    data["__staged"] = p.staged;
    data["__chosen"] = p.chosen;
    if (p.staged.length || p.chosen.length) any = true;
    if (any) ls.setItem(form.dataset.draftKey, JSON.stringify(data));
    else ls.removeItem(form.dataset.draftKey);
  }

  function restorePictures(form, data) {
    var input = form.querySelector("input[type=file]");
    if (!input) return "";
    var present = {};
    Array.prototype.forEach.call(form.querySelectorAll("input[name=staged]"), function (el) {
      present[el.value] = true;
    });
    (Array.isArray(data["__staged"]) ? data["__staged"] : []).forEach(function (v) {
      if (typeof v !== "string" || present[v]) return;
      var label = document.createElement("label");
      label.className = "staged";
      var box = document.createElement("input");
      box.type = "checkbox";
      box.name = "staged";
      box.value = v;
      box.checked = true;
      label.appendChild(box);
      label.appendChild(document.createTextNode(" 已上传：" + v.slice(v.indexOf(":") + 1)));
      input.parentNode.insertBefore(label, input);
    });
    var chosen = (Array.isArray(data["__chosen"]) ? data["__chosen"] : []).filter(function (n) {
      return typeof n === "string";
    });
    if (!chosen.length) return "";
    var note = document.createElement("p");
    note.className = "field-error";
    note.setAttribute("role", "alert");
    note.textContent = "上次选的图片没有随草稿保存，请重新添加：" + chosen.join("、");
    input.parentNode.insertBefore(note, input.nextSibling);
    return "图片需要重新添加。";
  }

  function restoreDraft(form) {
    var ls = store();
    if (!ls) return;
    var fields = draftFields(form);
    // A form the server filled (shown again after a refusal, with the pictures it kept) is
    // newer than any draft, and becomes the draft at once.
    var filled = fields.some(function (el) { return el.type !== "hidden" && el.value.trim() !== ""; });
    if (filled) { saveDraft(form); return; }
    var raw = ls.getItem(form.dataset.draftKey);
    if (!raw) return;
    var data;
    try { data = JSON.parse(raw); } catch (e) { ls.removeItem(form.dataset.draftKey); return; }
    fields.forEach(function (el) {
      if (typeof data[el.name] === "string" && data[el.name] !== "") el.value = data[el.name];
    });
    var more = restorePictures(form, data);
    var note = document.createElement("p");
    note.className = "notice";
    note.textContent = "已恢复上次未提交的内容。" + more;
    form.parentNode.insertBefore(note, form);
  }

  function clearSentDraft() {
    var ls = store();
    var key = null;
    try { key = window.sessionStorage.getItem(PENDING); } catch (e) { /* private mode */ }
    if (ls && key && document.querySelector("[data-clear-draft]")) {
      ls.removeItem(key);
      try { window.sessionStorage.removeItem(PENDING); } catch (e) { /* ignore */ }
    }
  }

  function csrf(form) {
    var el = form.querySelector("input[name=csrf_token]");
    return el ? el.value : "";
  }

  function postOutcome(form, id, outcome, beacon) {
    var body = new URLSearchParams();
    body.set("csrf_token", csrf(form));
    body.set("outcome", outcome);
    var url = "/mss/help/" + encodeURIComponent(id) + "/outcome";
    if (beacon && navigator.sendBeacon) {
      navigator.sendBeacon(url, body);
    } else {
      fetch(url, { method: "POST", body: body, credentials: "same-origin", keepalive: true })
        .catch(function () { /* a lost record must not disturb the form */ });
    }
  }

  function suggestions(form) {
    var box = document.getElementById("suggestions");
    var description = form.querySelector("[data-suggest]");
    var title = form.querySelector("input[name=title]");
    var viewedInput = form.querySelector("input[name=viewed_articles]");
    if (!box || !description) return;
    var viewed = {};
    (viewedInput.value || "").split(",").forEach(function (v) { if (v) viewed[v] = true; });
    var submitting = false;
    var answered = false;
    var timer = null;
    var last = "";

    var shown = "";

    function render(list) {
      // The same articles again (typing went on) keep their place and what is open: the
      // page must not jump under the submitter's finger.
      var ids = list.map(function (a) { return a.id; }).join(",");
      if (ids === shown) return;
      shown = ids;
      var open = {};
      Array.prototype.forEach.call(box.querySelectorAll("details[open]"), function (d) {
        open[d.dataset.article] = true;
      });
      box.textContent = "";
      if (!list.length) { box.hidden = true; return; }
      var p = document.createElement("p");
      p.textContent = "这些帮助文章也许能直接解决问题：";
      box.appendChild(p);
      list.forEach(function (a) {
        var d = document.createElement("details");
        d.dataset.article = String(a.id);
        d.open = !!open[String(a.id)];
        var s = document.createElement("summary");
        s.textContent = a.title;
        var body = document.createElement("div");
        body.className = "article-body";
        body.textContent = a.body;
        var done = document.createElement("button");
        done.type = "button";
        done.className = "answered";
        done.textContent = "这解决了我的问题";
        done.addEventListener("click", function () {
          answered = true;
          postOutcome(form, a.id, "deflected", false);
          var ls = store();
          if (ls) ls.removeItem(form.dataset.draftKey);
          window.location.href = "/mss/";
        });
        d.addEventListener("toggle", function () {
          if (d.open && !viewed[a.id]) {
            viewed[a.id] = true;
            viewedInput.value = Object.keys(viewed).join(",");
            saveDraft(form);
            postOutcome(form, a.id, "viewed", false);
          }
        });
        d.appendChild(s);
        d.appendChild(body);
        d.appendChild(done);
        box.appendChild(d);
      });
      box.hidden = false;
    }

    function lookup() {
      var q = ((title ? title.value : "") + " " + description.value).trim();
      if (q === last) return;
      last = q;
      if (q.length < 4) { render([]); return; }
      fetch("/mss/help/suggest?q=" + encodeURIComponent(q), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(render)
        .catch(function () { /* offline: no suggestions */ });
    }

    [description, title].forEach(function (el) {
      if (!el) return;
      el.addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(lookup, 400);
      });
    });
    form.addEventListener("submit", function () { submitting = true; });
    // Leaving the form after reading an article, without submitting: the article answered.
    window.addEventListener("pagehide", function () {
      if (submitting || answered) return;
      Object.keys(viewed).forEach(function (id) { postOutcome(form, id, "deflected", true); });
    });
    if (description.value.trim()) lookup();
  }

  // A field the server refused stops looking refused once it is being corrected.
  function clearRefusal(e) {
    var el = e.target;
    if (el.getAttribute && el.getAttribute("aria-invalid") === "true") {
      el.setAttribute("aria-invalid", "false");
      var next = el.nextElementSibling;
      if (next && next.classList.contains("field-error")) next.hidden = true;
    }
  }

  // Chosen pictures are shown before sending, and too many are said at once, not after a
  // slow upload.
  function previews(input) {
    var max = parseInt(input.dataset.max || "5", 10);
    var box = document.createElement("div");
    box.className = "thumbs";
    input.parentNode.insertBefore(box, input.nextSibling);
    input.addEventListener("change", function () {
      box.textContent = "";
      var kept = input.form.querySelectorAll("input[name=staged]:checked").length;
      Array.prototype.forEach.call(input.files, function (f) {
        if (!/^image\//.test(f.type)) return;
        var img = document.createElement("img");
        img.alt = f.name;
        img.src = URL.createObjectURL(f);
        img.onload = function () { URL.revokeObjectURL(img.src); };
        box.appendChild(img);
      });
      if (input.files.length + kept > max) {
        var warn = document.createElement("p");
        warn.className = "field-error";
        warn.textContent = "最多上传 " + max + " 张截图，请重新选择。";
        box.appendChild(warn);
      }
    });
  }

  // An open ticket page notices a handler's answer (polling while the page is in view) and
  // offers a refresh; it never reloads under the submitter's typing.
  function watch(banner) {
    var known = banner.dataset.state;
    var seen = known;
    var dismiss = banner.querySelector(".dismiss");
    if (dismiss) {
      dismiss.addEventListener("click", function () {
        banner.hidden = true;
        known = seen; // shown again at the next change, not at the next poll
      });
    }
    function check() {
      if (document.hidden || !banner.hidden) return;
      fetch(banner.dataset.watch, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (s) {
          if (s && s.state !== known) { seen = s.state; banner.hidden = false; }
        })
        .catch(function () { /* offline: try again later */ });
    }
    setInterval(check, 15000);
    document.addEventListener("visibilitychange", check);
  }

  document.addEventListener("DOMContentLoaded", function () {
    clearSentDraft();
    var banner = document.getElementById("changed");
    if (banner) watch(banner);
    document.addEventListener("input", clearRefusal);
    Array.prototype.forEach.call(document.querySelectorAll("input[type=file][name=screenshots]"), previews);
    Array.prototype.forEach.call(document.querySelectorAll("form[data-draft-key]"), function (form) {
      restoreDraft(form);
      form.addEventListener("input", function () { saveDraft(form); });
      form.addEventListener("change", function () { saveDraft(form); });
      form.addEventListener("submit", function () {
        saveDraft(form);
        try { window.sessionStorage.setItem(PENDING, form.dataset.draftKey); } catch (e) { /* ignore */ }
      });
      if (form.id === "new-ticket") suggestions(form);
    });
  });
})();
