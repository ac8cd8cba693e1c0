// The inbox's notifications column: the bot's notices to this operator (written for the page by the server),
// and a line for each new case in the operator's teams. Case numbers in a notice are links that open the case;
// a notice's `/take C-…` button is a Take button; notices the server sends again after a reconnect are not
// repeated. Every text is put in as text, never as HTML.
"use strict";

function InboxFeed(o) {
  var CASE = /C-\d{1,12}/g;
  // Notices already shown: after a reconnect the server sends its recent ones again (marked `history`).
  var shown = {};

  function button(label, cls, onClick) {
    var b = SB.el("button", cls, label);
    b.type = "button";
    b.addEventListener("click", onClick);
    return b;
  }

  function caseLink(id) {
    var b = button(id, "case-link", function () { o.openCase(id); });
    b.dataset.case = id;
    return b;
  }

  // The text with each case number as a link.
  function linked(into, line) {
    var at = 0;
    line.replace(CASE, function (id, offset) {
      if (offset > at) into.appendChild(document.createTextNode(line.slice(at, offset)));
      into.appendChild(caseLink(id));
      at = offset + id.length;
      return id;
    });
    if (at < line.length) into.appendChild(document.createTextNode(line.slice(at)));
  }

  function takeButton(id) {
    var b = button(o.T.take + " " + id, "take-case", function () { o.take(id); });
    b.dataset.case = id;
    return b;
  }

  function add(li) {
    var list = o.list;
    list.appendChild(li);
    while (list.children.length > 200) list.removeChild(list.firstChild);
  }

  function entry(cls) {
    var li = SB.el("li", cls);
    li.appendChild(SB.el("span", "when", new Date().toLocaleTimeString()));
    return li;
  }

  return {
    // A message frame from the server.
    message: function (f) {
      var key = (f["case"] || "") + "\n" + (f.text || "");
      if (f.history && shown[key]) return;
      shown[key] = true;
      var li = entry("notice");
      var body = SB.el("span", "text");
      var text = f.text || "";
      if (f["case"] && text.indexOf(f["case"]) < 0) text = f["case"] + ": " + text;
      linked(body, text);
      li.appendChild(body);
      (f.buttons || []).forEach(function (value) {
        var take = /^\/take (C-\d{1,12})$/.exec(value);
        if (take) li.appendChild(takeButton(take[1]));
      });
      add(li);
    },
    // A waiting case that just appeared in one of my teams.
    newCase: function (c) {
      var li = entry("notice new-case");
      var body = SB.el("span", "text");
      linked(body, SB.fmt(o.T.newCaseFeed, { id: c.id, team: c.team || "—", subject: c.subject || "—" }));
      li.appendChild(body);
      li.appendChild(takeButton(c.id));
      add(li);
    },
    // A plain line (the page's own messages).
    line: function (text) {
      var li = entry();
      li.appendChild(document.createTextNode(text));
      add(li);
    }
  };
}
