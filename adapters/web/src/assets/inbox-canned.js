// The canned-reply picker of the inbox's reply box: "/" at the start lists the team's replies (loaded afresh
// each time), typing narrows them by id or title, Up/Down pick, Enter or Tab insert one (its placeholders filled
// by the caller), Esc closes. Every text is put in as text, never as HTML.
"use strict";

function InboxCanned(o) {
  var replies = [], problem = "", picks = [], pick = 0;

  function close() { picks = []; o.list.hidden = true; }

  function show() {
    var value = o.input.value;
    if (value.charAt(0) !== "/" || value.indexOf("\n") >= 0) { close(); return; }
    var q = value.slice(1).toLowerCase();
    picks = replies.filter(function (c) {
      return c.id.toLowerCase().indexOf(q) >= 0 || c.title.toLowerCase().indexOf(q) >= 0;
    }).slice(0, 8);
    pick = Math.min(pick, Math.max(0, picks.length - 1));
    SB.clear(o.list);
    if (problem) o.list.appendChild(SB.el("li", "problem", problem));
    else if (!picks.length) o.list.appendChild(SB.el("li", "problem", o.noMatch));
    picks.forEach(function (c, i) {
      var li = SB.el("li", i === pick ? "on" : "", c.title);
      li.dataset.id = c.id;
      li.appendChild(SB.el("span", "cid", "/" + c.id));
      li.addEventListener("mousedown", function (ev) { ev.preventDefault(); insert(c); });
      o.list.appendChild(li);
    });
    o.list.hidden = false;
  }

  function insert(c) {
    o.input.value = o.fill(c);
    close();
    o.input.focus();
  }

  o.input.addEventListener("input", function () {
    if (o.input.value !== "/") { show(); return; }
    pick = 0;
    o.load().then(function (list) { replies = list; problem = ""; }, function (e) { problem = String(e.message || e); })
      .then(show);
  });
  o.input.addEventListener("keydown", function (ev) {
    if (o.list.hidden) return;
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      pick = (pick + (ev.key === "ArrowDown" ? 1 : picks.length - 1)) % Math.max(1, picks.length);
      show();
    } else if ((ev.key === "Enter" || ev.key === "Tab") && picks.length) {
      insert(picks[pick]);
    } else if (ev.key === "Escape") {
      close();
    } else return;
    ev.preventDefault();
    ev.stopPropagation();
  });
  o.input.addEventListener("blur", function () { setTimeout(close, 150); });
}
