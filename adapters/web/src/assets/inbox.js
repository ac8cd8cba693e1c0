// The operator inbox: personal sign-in (name and password; an HttpOnly cookie plus the session's CSRF token, which
// goes with every state change) or the shared operator token (kept in sessionStorage for this tab); the queue and
// case events live over /inbox/ws, case details from /api/cases/{id}. Actions go to the server as inbox frames,
// which it turns into the same operator commands a Telegram or Discord operator types, from the operator's own
// account. Views: mine / my teams / all; a title badge and a desktop notification for a new case in my teams;
// keyboard shortcuts j/k (next/previous case), t (take), r (reply box), / (search), Esc (leave the reply box).
// The notifications column (inbox-feed.js) shows the server's notices, written for this page, and new cases.
// Search (/api/search) replaces the queue list until cleared; a case shows its user's earlier cases.
"use strict";

(function () {
  var nav = (navigator.languages && navigator.languages[0]) || navigator.language || "";
  var L = /^ja/i.test(nav) ? "ja" : SB.lang();
  var T = INBOX_TEXTS[L];

  var KEY = "supportbot.operator";
  var $ = function (id) { return document.getElementById(id); };
  var token = null, csrf = null, me = null, ws = null, current = null, cases = [], backoff = 500, showClosed = false;
  var view = "all", known = null, unseen = 0, tokenMode = false, detail = null, results = null;
  try { token = sessionStorage.getItem(KEY); } catch (e) { token = null; }

  function text(id, value) { $(id).textContent = value; }
  document.documentElement.lang = { zh: "zh-CN", ja: "ja" }[L] || "en";
  document.title = T.inbox;
  text("t-signin-title", T.signinTitle); text("t-signin-help", T.signinHelp); text("t-token", T.token);
  text("signin-btn", T.signin); text("t-inbox", T.inbox); text("t-queue", T.queue); text("t-closed", T.closed);
  text("signout", T.signout); text("t-codes", T.codes); text("t-suggestions", T.suggestions); text("t-convs", T.convs);
  text("t-history", T.history); text("take", T.take); text("release", T.release); text("transfer", T.transfer);
  text("send-reply", T.reply); text("send-note", T.note); text("close", T.close); text("t-feed", T.feed);
  text("case-empty", T.pick); text("empty", T.empty);
  text("stats-link", T.dashboard);
  text("t-answered", T.answered);
  $("answered-by").title = T.answeredHelp;
  text("t-earlier", T.earlier); text("search-clear", T.clearSearch);
  $("search").placeholder = T.searchPh;
  text("t-name", T.name); text("t-password", T.password); text("use-token", T.useToken);
  text("view-mine", T.views.mine); text("view-teams", T.views.teams); text("view-all", T.views.all);
  $("reply-form").appendChild(SB.el("p", "keys", T.keys));
  $("team").placeholder = T.team;
  $("reply").placeholder = T.replyPh;

  function api(path) {
    var headers = token ? { Authorization: "Bearer " + token } : {};
    return fetch(path, { headers: headers, credentials: "same-origin" }).then(function (r) {
      if (r.status === 401) { signOut(T.badToken); throw new Error("unauthorized"); }
      if (!r.ok) {
        return r.json().catch(function () { return {}; }).then(function (body) {
          throw new Error(body.message || "HTTP " + r.status);
        });
      }
      return r.json();
    });
  }

  function age(iso) {
    var secs = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
    if (secs < 60) return SB.fmt(T.ago.s, { n: secs });
    if (secs < 3600) return SB.fmt(T.ago.m, { n: Math.floor(secs / 60) });
    if (secs < 86400) return SB.fmt(T.ago.h, { n: Math.floor(secs / 3600) });
    return SB.fmt(T.ago.d, { n: Math.floor(secs / 86400) });
  }

  function statusName(s) { return T.status[s] || s; }

  function inMyTeams(c) {
    return !me || !me.teams || !me.teams.length || me.teams.indexOf(c.team) >= 0;
  }

  function visible() {
    return cases.filter(function (c) {
      if (view === "mine") return me && c.assignee === me.operator;
      if (view === "teams") return inMyTeams(c);
      return true;
    });
  }

  // A case that was not in the queue before, waiting, in my teams: title badge and a desktop notification.
  function noticeNew(list) {
    var ids = {};
    list.forEach(function (c) { ids[c.id] = true; });
    if (known) {
      list.forEach(function (c) {
        if (known[c.id] || c.status !== "open" || !inMyTeams(c)) return;
        unseen += 1;
        notices.newCase(c);
        if (window.Notification && Notification.permission === "granted" && document.hidden) {
          try { new Notification(SB.fmt(T.newCase, { id: c.id }), { body: c.subject || "", tag: c.id }); } catch (e) { /* none */ }
        }
      });
    }
    known = ids;
    document.title = (unseen ? "(" + unseen + ") " : "") + T.inbox;
  }

  function renderQueue() {
    var list = $("cases");
    SB.clear(list);
    var shown = results || visible();
    $("search-info").hidden = results === null;
    if (results) text("search-count", SB.fmt(T.results, { n: results.length }));
    $("empty").hidden = shown.length > 0;
    shown.forEach(function (c) {
      var li = SB.el("li");
      li.dataset.case = c.id;
      if (current === c.id) li.className = "selected";
      var l1 = SB.el("div", "line1");
      l1.appendChild(SB.el("span", "id", c.id));
      l1.appendChild(SB.el("span", "badge " + c.status, statusName(c.status)));
      l1.appendChild(SB.el("span", "age", age(c.opened_at)));
      li.appendChild(l1);
      li.appendChild(SB.el("div", "subject", c.subject || "—"));
      var tags = SB.el("div", "tags");
      if (c.priority === 0) tags.appendChild(SB.el("span", "tag vip", T.enterprise));
      [c.team, c.lang, c.channel, c.user_name, c.assignee].forEach(function (t) {
        if (t) tags.appendChild(SB.el("span", "tag", t));
      });
      li.appendChild(tags);
      li.addEventListener("click", function () { openCase(c.id); });
      list.appendChild(li);
    });
  }

  function refreshQueue(fromSocket) {
    if (fromSocket) noticeNew(fromSocket);
    if (!showClosed && fromSocket) { cases = fromSocket; renderQueue(); return; }
    api("/api/cases" + (showClosed ? "?closed=1" : "")).then(function (list) { cases = list; renderQueue(); })
      .catch(function () {});
  }

  function chips(id, values, cls) {
    var box = $(id);
    SB.clear(box);
    if (!values || !values.length) { box.appendChild(SB.el("span", "tag", T.none)); return; }
    values.forEach(function (v) { box.appendChild(SB.el("span", "chip " + (cls || ""), v)); });
  }

  function attachmentLink(a) {
    var url = SB.safeUrl(a.url);
    var label = (a.kind === "image" ? "🖼 " : "📎 ") + (a.name || "file") + (a.size ? " (" + SB.humanSize(a.size) + ")" : "");
    var node = SB.el(url ? "a" : "span", "att", label);
    if (url) { node.href = url; node.target = "_blank"; node.rel = "noopener noreferrer"; }
    return node;
  }

  function renderCase(d) {
    detail = d;
    $("case-empty").hidden = true;
    $("case-body").hidden = false;
    text("case-id", d.id);
    text("case-subject", d.subject || "");
    var badge = $("case-status");
    badge.className = "badge " + d.status;
    badge.textContent = statusName(d.status);
    var meta = $("case-meta");
    SB.clear(meta);
    [["team", d.team], ["lang", d.lang], ["channel", d.channel], ["user", d.user_name],
     ["assignee", d.assignee || "—"], ["opened", new Date(d.opened_at).toLocaleString()]].forEach(function (kv) {
      var row = SB.el("div");
      row.appendChild(SB.el("dt", null, T.meta[kv[0]]));
      row.appendChild(SB.el("dd", null, kv[1]));
      meta.appendChild(row);
    });
    if (d.priority === 0) {
      var vip = SB.el("div");
      vip.appendChild(SB.el("span", "tag vip", T.enterprise));
      meta.appendChild(vip);
    }
    chips("codes", d.error_codes, "code");
    fillAnswered(d);
    var box = $("suggestions");
    SB.clear(box);
    var answers = d.suggested_answers || [];
    if (!answers.length) box.appendChild(SB.el("span", "tag", T.none));
    // One click puts the entry's answer, in the user's language, into the reply box.
    answers.forEach(function (a) {
      var b = SB.el("button", "answer", a.question);
      b.type = "button";
      b.title = a.faq;
      b.dataset.faq = a.faq;
      b.addEventListener("click", function () { $("reply").value = a.answer; $("reply").focus(); });
      box.appendChild(b);
    });
    chips("convs", d.conversations);
    var earlier = $("earlier");
    SB.clear(earlier);
    if (!(d.earlier_cases || []).length) earlier.appendChild(SB.el("span", "tag", T.none));
    (d.earlier_cases || []).forEach(function (c) {
      var b = SB.el("button", "case-link", c.id + " · " + statusName(c.status) + " · " + (c.subject || "—"));
      b.type = "button";
      b.dataset.case = c.id;
      b.addEventListener("click", function () { openCase(c.id); });
      earlier.appendChild(b);
    });
    var tr = $("transcript");
    SB.clear(tr);
    (d.transcript || []).forEach(function (e) {
      var li = SB.el("li", "entry " + e.role);
      li.appendChild(SB.el("span", "who", (T.role[e.role] || e.role) + " · " + (e.name || "") + " · " +
        new Date(e.at).toLocaleTimeString()));
      if (e.text) li.appendChild(SB.el("span", "text", e.text));
      (e.attachments || []).forEach(function (a) { li.appendChild(attachmentLink(a)); });
      tr.appendChild(li);
    });
    var hist = $("history");
    SB.clear(hist);
    (d.history || []).forEach(function (ev) {
      var line = new Date(ev.at).toLocaleString() + " · " + ev.kind + " · " + (ev.actor_name || ev.actor) +
        (ev.text ? " · " + ev.text : "");
      hist.appendChild(SB.el("li", null, line));
    });
    var closed = d.status === "closed";
    $("take").disabled = closed || d.status === "assigned";
    $("release").disabled = d.status !== "assigned";
    $("transfer").disabled = closed;
    $("close").disabled = closed;
    tr.scrollTop = tr.scrollHeight;
  }

  // Canned replies with their placeholders filled from the open case and the operator.
  function fill(reply) {
    var lang = detail && (detail.lang === "zh" || detail.lang === "ja") ? detail.lang : "en";
    // A Japanese user gets the English text where a reply has no Japanese one.
    var body = reply[lang] || (lang === "ja" ? reply.en : "") || reply[lang === "zh" ? "en" : "zh"] || "";
    var values = {
      user: detail ? detail.user_name : "", "case": detail ? detail.id : "",
      operator: me ? me.name : "", team: detail ? detail.team : ""
    };
    return body.replace(/\{(user|case|operator|team)\}/g, function (_, k) { return values[k] || ""; });
  }
  InboxCanned({
    input: $("reply"), list: $("canned"), fill: fill, noMatch: T.noCanned,
    load: function () { return api("/api/canned").then(function (r) { return r.replies || []; }); }
  });

  function runSearch() {
    var q = $("search").value.trim();
    if (!q) { results = null; renderQueue(); return; }
    api("/api/search?q=" + encodeURIComponent(q)).then(function (r) { results = r.cases || []; renderQueue(); })
      .catch(function (e) { showError(String(e.message || e)); });
  }
  $("search-form").addEventListener("submit", function (ev) { ev.preventDefault(); runSearch(); });
  $("search-clear").addEventListener("click", function () { $("search").value = ""; results = null; renderQueue(); });

  function openCase(id) {
    current = id;
    renderQueue();
    api("/api/cases/" + encodeURIComponent(id)).then(function (d) { if (current === id) renderCase(d); })
      .catch(function (e) { showError(String(e.message || e)); });
  }

  function showError(msg) {
    var box = $("error");
    box.textContent = msg;
    box.hidden = !msg;
  }

  function action(name, textValue, faq, id) {
    var target = id || current;
    if (!target || !ws || ws.readyState !== WebSocket.OPEN) return;
    var frame = { type: "action", action: name, "case": target, text: textValue || "" };
    if (faq) frame.faq = faq;
    ws.send(JSON.stringify(frame));
  }

  // While I type a reply in a case I hold, the user's web chat shows that I am typing (at most every 3 s).
  var typedAt = 0;
  $("reply").addEventListener("input", function () {
    var v = $("reply").value;
    if (!detail || !me || detail.assignee !== me.operator || detail.status !== "assigned") return;
    if (!v || v.charAt(0) === "/" || Date.now() - typedAt < 3000) return;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    typedAt = Date.now();
    ws.send(JSON.stringify({ type: "typing", "case": detail.id }));
  });

  var notices = InboxFeed({
    list: $("feed"), T: T, openCase: openCase,
    take: function (id) { openCase(id); action("take", "", null, id); }
  });

  // The close box's "answered by" choice: the case's suggestions, or none of them.
  function fillAnswered(d) {
    var select = $("answered-by");
    SB.clear(select);
    var options = [["", T.notMarked]];
    (d.suggested_answers || []).forEach(function (a) { options.push([a.faq, a.question + " (" + a.faq + ")"]); });
    options.push(["none", T.noEntry]);
    options.forEach(function (o) {
      var opt = SB.el("option", null, o[1]);
      opt.value = o[0];
      select.appendChild(opt);
    });
    select.disabled = d.status === "closed";
  }

  function onFrame(f) {
    switch (f.type) {
      case "ready":
        me = { operator: f.operator, name: f.name, teams: f.teams || [] };
        text("who", f.name && f.operator !== "web:admin" ? f.name + " (" + f.operator + ")" : f.operator);
        showError("");
        break;
      case "queue":
        refreshQueue(f.cases);
        break;
      case "event":
        if (f.event && f.event["case"] === current) openCase(current);
        break;
      case "message":
        notices.message(f);
        break;
      case "error":
        showError(f.text);
        break;
    }
  }

  function setLive(up) {
    text("live", up ? T.live : T.offline);
    $("live").className = "live" + (up ? "" : " down");
  }

  function connect() {
    if (!token && !csrf) return;
    ws = new WebSocket(SB.wsUrl("/inbox/ws"), ["supportbot.inbox", token ? "bearer." + token : "csrf." + csrf]);
    var socket = ws;
    ws.onopen = function () { backoff = 500; setLive(true); };
    ws.onmessage = function (ev) {
      try { onFrame(JSON.parse(ev.data)); } catch (e) { /* ignore a frame we cannot read */ }
    };
    ws.onclose = function () {
      if (socket !== ws) return;
      setLive(false);
      if (!token && !csrf) return;
      // A refused upgrade looks like a close: check the sign-in before trying again.
      (token ? api("/api/cases") : fetch("/inbox/me", { credentials: "same-origin" }).then(function (r) {
        if (!r.ok) { signOut(""); throw new Error("signed out"); }
        return r.json().then(function (m) { csrf = m.csrf; });
      })).then(function () {
        setTimeout(connect, backoff);
        backoff = Math.min(backoff * 2, 8000);
      }).catch(function () { setTimeout(connect, 8000); });
    };
  }

  function enter() {
    $("signin").hidden = true;
    $("app").hidden = false;
    if (document.activeElement && document.activeElement.blur) document.activeElement.blur();
    if (window.Notification && Notification.permission === "default") {
      try { Notification.requestPermission(); } catch (e) { /* not offered */ }
    }
    return api("/api/cases").then(function (list) { cases = list; renderQueue(); connect(); });
  }

  function signIn(candidate) {
    return fetch("/api/cases", { headers: { Authorization: "Bearer " + candidate } }).then(function (r) {
      if (!r.ok) throw new Error(T.badToken);
      token = candidate;
      try { sessionStorage.setItem(KEY, token); } catch (e) { /* the token lasts the page */ }
      return enter();
    });
  }

  function signInPersonal(name, password) {
    return fetch("/inbox/login", {
      method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name: name, password: password })
    }).then(function (r) {
      if (r.status === 429) throw new Error(T.limited);
      if (!r.ok) throw new Error(T.badLogin);
      return r.json().then(function (m) { csrf = m.csrf; $("password").value = ""; return enter(); });
    });
  }

  function signOut(message) {
    if (csrf) {
      fetch("/inbox/logout", { method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrf } })
        .catch(function () {});
    }
    token = null; csrf = null; me = null; known = null; unseen = 0;
    document.title = T.inbox;
    try { sessionStorage.removeItem(KEY); } catch (e) { /* nothing kept */ }
    if (ws) { var old = ws; ws = null; old.close(); }
    $("app").hidden = true;
    $("signin").hidden = false;
    var err = $("signin-error");
    err.textContent = message || "";
    err.hidden = !message;
  }

  function setMode(useToken) {
    tokenMode = useToken;
    $("personal").hidden = useToken;
    $("with-token").hidden = !useToken;
    text("t-signin-help", useToken ? T.tokenHelp : T.signinHelp);
    text("use-token", useToken ? T.usePassword : T.useToken);
  }
  $("use-token").addEventListener("click", function () { setMode(!tokenMode); });
  setMode(false);

  $("signin-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var attempt;
    if (tokenMode) {
      var candidate = $("token").value.trim();
      if (!candidate) return;
      attempt = signIn(candidate);
    } else {
      var name = $("name").value.trim(), password = $("password").value;
      if (!name || !password) return;
      attempt = signInPersonal(name, password);
    }
    attempt.catch(function (e) {
      var err = $("signin-error");
      err.textContent = e.message;
      err.hidden = false;
    });
  });
  $("signout").addEventListener("click", function () { signOut(""); });
  $("show-closed").addEventListener("change", function () { showClosed = this.checked; refreshQueue(null); });
  $("take").addEventListener("click", function () { action("take"); });
  $("release").addEventListener("click", function () { action("release"); });
  $("transfer").addEventListener("click", function () {
    var team = $("team").value.trim();
    if (team) action("transfer", team);
  });
  $("reply-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var body = $("reply").value.trim();
    if (!body) return;
    action("reply", body);
    $("reply").value = "";
  });
  $("send-note").addEventListener("click", function () {
    var body = $("reply").value.trim();
    if (!body) return;
    action("note", body);
    $("reply").value = "";
  });
  $("close").addEventListener("click", function () {
    action("close", $("reply").value.trim(), $("answered-by").value);
    $("reply").value = "";
  });
  setInterval(function () { if (cases.length) renderQueue(); }, 30000);

  Array.prototype.forEach.call(document.querySelectorAll("#views button"), function (b) {
    b.addEventListener("click", function () {
      view = b.dataset.view;
      Array.prototype.forEach.call(document.querySelectorAll("#views button"), function (o) {
        o.className = o === b ? "on" : "";
      });
      renderQueue();
    });
  });

  function step(by) {
    var shown = visible();
    if (!shown.length) return;
    var at = -1;
    shown.forEach(function (c, i) { if (c.id === current) at = i; });
    var next = shown[Math.max(0, Math.min(shown.length - 1, at < 0 ? 0 : at + by))];
    if (next) openCase(next.id);
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) { unseen = 0; document.title = T.inbox; }
  });
  document.addEventListener("keydown", function (ev) {
    if ($("app").hidden || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    var typing = /^(INPUT|TEXTAREA|SELECT)$/.test(ev.target.tagName);
    if (ev.key === "Escape" && typing) { ev.target.blur(); return; }
    if (typing) return;
    unseen = 0; document.title = T.inbox;
    if (ev.key === "j") step(1);
    else if (ev.key === "k") step(-1);
    else if (ev.key === "t" && !$("take").disabled) action("take");
    else if (ev.key === "r") { ev.preventDefault(); $("reply").focus(); }
    else if (ev.key === "/") { ev.preventDefault(); $("search").focus(); }
    else return;
    ev.preventDefault();
  });

  if (token) {
    signIn(token).catch(function () { signOut(""); });
  } else {
    fetch("/inbox/me", { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) return;
      return r.json().then(function (m) { csrf = m.csrf; return enter(); });
    }).catch(function () {});
  }
})();
