// The chat widget: one WebSocket to /ws, the session token kept in localStorage so a reload continues the
// conversation, messages resent with the same id after a reconnect (the server stores them once).
"use strict";

(function () {
  // The chat page also speaks Japanese (the operator inbox, which shares SB.lang, does not).
  var nav = (navigator.languages && navigator.languages[0]) || navigator.language || "en";
  var L = /^ja/i.test(nav) ? "ja" : SB.lang();
  var T = {
    zh: {
      title: "在线客服", sub: "智能助手为您解答,也可随时转人工", placeholder: "请描述您的问题…", send: "发送",
      human: "转人工客服", attach: "上传截图或日志", online: "在线", offline: "重新连接中…",
      caseOpen: "工单 {case} · 正在排队,您前面还有 {ahead} 位", caseOpenNoPos: "工单 {case} · 等待客服接入",
      caseAssigned: "工单 {case} · 客服已接入", caseClosed: "工单 {case} · 已关闭",
      uploading: "正在上传 {name}…", tooLarge: "文件太大了(上限 {max})。", uploadFailed: "上传失败:{why}",
      you: "我", notSent: "未发送", typing: "{name} 正在输入…"
    },
    en: {
      title: "Support chat", sub: "Our assistant answers right away — a person is one click away", placeholder:
        "Describe your problem…", send: "Send", human: "Talk to a human", attach: "Upload a screenshot or log",
      online: "online", offline: "reconnecting…",
      caseOpen: "Case {case} · waiting, {ahead} ahead of you", caseOpenNoPos: "Case {case} · waiting for an operator",
      caseAssigned: "Case {case} · an operator is with you", caseClosed: "Case {case} · closed",
      uploading: "Uploading {name}…", tooLarge: "That file is too large (limit {max}).", uploadFailed: "Upload failed: {why}",
      you: "you", notSent: "not sent", typing: "{name} is typing…"
    },
    ja: {
      title: "サポートチャット", sub: "アシスタントがすぐにお答えします。担当者にもいつでも切り替えられます",
      placeholder: "お困りの内容を入力してください…", send: "送信", human: "担当者と話す",
      attach: "スクリーンショットやログをアップロード", online: "オンライン", offline: "再接続中…",
      caseOpen: "案件 {case} · 順番待ち、あと {ahead} 人", caseOpenNoPos: "案件 {case} · 担当者の対応待ち",
      caseAssigned: "案件 {case} · 担当者が対応中", caseClosed: "案件 {case} · 終了",
      uploading: "{name} をアップロード中…", tooLarge: "ファイルが大きすぎます(上限 {max})。",
      uploadFailed: "アップロードに失敗しました:{why}", you: "あなた", notSent: "未送信", typing: "{name} が入力中…"
    }
  }[L];

  var KEY = "supportbot.session";
  var $ = function (id) { return document.getElementById(id); };
  var log = $("log"), input = $("input"), notice = $("notice"), banner = $("case"), conn = $("conn");
  var ws = null, token = null, backoff = 500, noticeTimer = null, counter = 0;
  var pending = [];          // frames sent but not acknowledged, resent after a reconnect
  var limits = { max_upload_bytes: 20 * 1024 * 1024, max_text_chars: 4000 };

  try { token = localStorage.getItem(KEY); } catch (e) { token = null; }

  document.documentElement.lang = { zh: "zh-CN", ja: "ja" }[L] || "en";
  document.title = T.title;
  $("title").textContent = T.title;
  $("subtitle").textContent = T.sub;
  $("human").textContent = T.human;
  $("send").textContent = T.send;
  $("attach").title = T.attach;
  input.placeholder = T.placeholder;

  fetch("/config.json").then(function (r) { return r.json(); }).then(function (c) {
    limits = c;
    if (c.bot_name) {
      $("title").textContent = c.bot_name;
      document.title = c.bot_name;
      $("avatar").textContent = Array.from(c.bot_name)[0] || "S";
    }
    input.maxLength = c.max_text_chars;
  }).catch(function () {});

  function newId() {
    counter += 1;
    return Date.now().toString(36) + "-" + counter + "-" + Math.random().toString(36).slice(2, 8);
  }

  function scroll() { log.scrollTop = log.scrollHeight; }

  function showNotice(text) {
    notice.textContent = text;
    notice.hidden = false;
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(function () { notice.hidden = true; }, 7000);
  }

  function attachmentNode(att) {
    var box = SB.el("div", "file");
    box.appendChild(SB.el("span", null, att.kind === "image" ? "🖼" : "📎"));
    box.appendChild(SB.el("span", null, att.name + (att.size ? " (" + SB.humanSize(att.size) + ")" : "")));
    return box;
  }

  // A message bubble. `m` is a server message frame (or a local echo of the user's own message).
  function addMessage(m) {
    var mine = m.from === "user";
    var li = SB.el("li", "msg " + (mine ? "user" : "bot"));
    var bubble = SB.el("div", "bubble");
    if (m.text) bubble.appendChild(document.createTextNode(m.text));
    (m.attachments || []).forEach(function (a) { bubble.appendChild(attachmentNode(a)); });
    li.appendChild(bubble);
    if (!mine && m.buttons && m.buttons.length) {
      var row = SB.el("div", "buttons");
      m.buttons.forEach(function (label) {
        var b = SB.el("button", null, label);
        b.type = "button";
        b.addEventListener("click", function () {
          Array.prototype.forEach.call(row.children, function (x) { x.disabled = true; });
          b.classList.add("chosen");
          send({ type: "button", value: label }, label);
        });
        if (m.history) b.disabled = true;
        row.appendChild(b);
      });
      li.appendChild(row);
    }
    // History replayed after a reconnect goes above the messages still waiting for their ack.
    if (m.history && pending.length && pending[0].li.parentNode === log) log.insertBefore(li, pending[0].li);
    else log.appendChild(li);
    scroll();
    return li;
  }

  function setBanner(status) {
    if (!status) { banner.hidden = true; return; }
    banner.className = "case-banner " + status.status;
    var text;
    if (status.status === "assigned") text = SB.fmt(T.caseAssigned, status);
    else if (status.status === "closed") text = SB.fmt(T.caseClosed, status);
    else if (status.position) text = SB.fmt(T.caseOpen, { "case": status["case"], ahead: status.position - 1 });
    else text = SB.fmt(T.caseOpenNoPos, status);
    banner.textContent = text;
    banner.hidden = false;
  }

  function setOnline(up) {
    conn.textContent = up ? T.online : T.offline;
    conn.className = "conn" + (up ? "" : " down");
  }

  function send(frame, label) {
    frame.id = newId();
    var li = addMessage({ from: "user", text: label !== undefined ? label : frame.text });
    li.classList.add("pending");
    pending.push({ frame: frame, li: li });
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame));
  }

  function acknowledge(id, failed) {
    for (var i = 0; i < pending.length; i++) {
      if (pending[i].frame.id === id || (failed && i === 0)) {
        pending[i].li.classList.remove("pending");
        if (failed) {
          pending[i].li.classList.add("failed");
          pending[i].li.appendChild(SB.el("span", "tag", T.notSent));
        }
        pending.splice(i, 1);
        return;
      }
    }
  }

  // "Wang is typing…" under the log while the operator types (the inbox sends it every few seconds).
  var typingTimer = null;
  function showTyping(name) {
    var line = $("typing");
    clearTimeout(typingTimer);
    line.hidden = !name;
    if (!name) return;
    line.textContent = SB.fmt(T.typing, { name: name });
    typingTimer = setTimeout(function () { line.hidden = true; }, 6000);
  }

  function onFrame(f) {
    switch (f.type) {
      case "session":
        if (token !== f.session) {
          token = f.session;
          try { localStorage.setItem(KEY, token); } catch (e) { /* private mode: the session lasts the tab */ }
        }
        // The history that follows rebuilds the log; unacknowledged messages stay below it and are resent
        // (with their ids, so the server stores each once).
        SB.clear(log);
        pending.forEach(function (p) {
          log.appendChild(p.li);
          ws.send(JSON.stringify(p.frame));
        });
        break;
      case "typing":
        showTyping(f.name);
        break;
      case "message":
        showTyping(null);
        addMessage(f);
        if (f["case"] && banner.hidden) setBanner({ "case": f["case"], status: "open" });
        break;
      case "status":
        setBanner(f);
        break;
      case "ack":
        acknowledge(f.id, false);
        break;
      case "error":
        showNotice(f.text);
        if (pending.length && f.code !== "bad_frame") acknowledge(null, true);
        break;
    }
  }

  function connect() {
    var url = SB.wsUrl("/ws?lang=" + L + (token ? "&session=" + encodeURIComponent(token) : ""));
    ws = new WebSocket(url);
    ws.onopen = function () { backoff = 500; setOnline(true); };
    ws.onmessage = function (ev) {
      try { onFrame(JSON.parse(ev.data)); } catch (e) { /* ignore a frame we cannot read */ }
    };
    ws.onclose = function (ev) {
      setOnline(false);
      // 1013: a limit refused the socket (its error frame says why); try again much later.
      setTimeout(connect, ev.code === 1013 ? 60000 : backoff);
      backoff = Math.min(backoff * 2, 8000);
    };
  }

  $("composer").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    input.style.height = "";
    send({ type: "message", text: text });
  });
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      $("composer").requestSubmit();
    }
  });
  input.addEventListener("input", function () {
    input.style.height = "";
    input.style.height = Math.min(input.scrollHeight, 120) + "px";
  });
  $("human").addEventListener("click", function () { send({ type: "button", value: "/human" }, T.human); });
  $("attach").addEventListener("click", function () { $("file").click(); });
  $("file").addEventListener("change", function () {
    var file = this.files && this.files[0];
    this.value = "";
    if (!file) return;
    if (file.size > limits.max_upload_bytes) {
      showNotice(SB.fmt(T.tooLarge, { max: SB.humanSize(limits.max_upload_bytes) }));
      return;
    }
    if (!token) return;
    var li = addMessage({ from: "user", text: SB.fmt(T.uploading, { name: file.name }) });
    li.classList.add("pending");
    var body = new FormData();
    body.append("id", newId());
    body.append("file", file, file.name);
    fetch("/upload?lang=" + L, { method: "POST", headers: { "X-Supportbot-Session": token }, body: body })
      .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, body: j }; }); })
      .then(function (res) {
        li.classList.remove("pending");
        var bubble = li.firstChild;
        SB.clear(bubble);
        if (res.ok) {
          bubble.appendChild(attachmentNode(res.body.attachment));
        } else {
          li.classList.add("failed");
          bubble.textContent = SB.fmt(T.uploadFailed, { why: res.body.text || "" });
        }
      })
      .catch(function (e) {
        li.classList.remove("pending");
        li.classList.add("failed");
        li.firstChild.textContent = SB.fmt(T.uploadFailed, { why: String(e) });
      });
  });

  setOnline(false);
  connect();
})();
