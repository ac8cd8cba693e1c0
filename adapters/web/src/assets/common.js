// Shared helpers of the chat page and the inbox. Every piece of text that came from a user or the server is
// put into the page with textContent, never as HTML.
"use strict";

var SB = (function () {
  function lang() {
    var l = (navigator.languages && navigator.languages[0]) || navigator.language || "en";
    return /^zh/i.test(l) ? "zh" : "en";
  }

  // Creates an element with a class and text (as text, never markup).
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // Fills "{name}" placeholders of a translated string.
  function fmt(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, k) {
      return values && values[k] !== undefined ? String(values[k]) : "";
    });
  }

  // Only web links may become hrefs (no javascript: or data: URLs from anyone).
  function safeUrl(url) {
    if (typeof url !== "string") return null;
    if (/^https?:\/\//i.test(url) || /^\/[^\/\\]/.test(url)) return url;
    return null;
  }

  function humanSize(n) {
    if (!n) return "";
    if (n < 1024) return n + " B";
    if (n < 1024 * 1024) return (n / 1024).toFixed(0) + " KB";
    return (n / 1024 / 1024).toFixed(1) + " MB";
  }

  function wsUrl(path) {
    return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  return { lang: lang, el: el, fmt: fmt, safeUrl: safeUrl, humanSize: humanSize, wsUrl: wsUrl, clear: clear };
})();
