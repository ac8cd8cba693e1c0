// Texts of the operator inbox page, Chinese and English (the page picks one by the browser's language).
"use strict";

var INBOX_TEXTS = {
  zh: {
    signinTitle: "客服工作台", signinHelp: "使用你的客服名和密码登录。",
    tokenHelp: "输入首次启动时生成的客服令牌(保存在数据目录的 operator_token 文件中)。",
    name: "客服名", password: "密码", useToken: "改用客服令牌", usePassword: "改用客服名和密码",
    badLogin: "客服名或密码错误。", limited: "失败次数过多,请稍后再试。",
    token: "客服令牌", signin: "登录", badToken: "令牌无效。",
    views: { mine: "我的", teams: "我的组", all: "全部" }, newCase: "新工单 {id}", newCaseFeed: "{team} 组有新工单 {id}:{subject}",
    keys: "快捷键:j/k 下一个/上一个 · t 接手 · r 回复 · / 搜索 · Esc 离开输入框 · 回复框中输入 / 搜索快捷回复",
    noCanned: "没有匹配的快捷回复。", dashboard: "数据看板", answered: "解决它的 FAQ",
    notMarked: "(不标记)", noEntry: "没有 FAQ 条目能回答",
    answeredHelp: "关闭时标记解决问题的 FAQ 条目:用户的问题会写入 faq/taught.toml,作为该条目的新问法。", earlier: "历史工单",
    searchPh: "搜索:工单号、用户、内容、code:554 status:closed team:mail from:2026-11-01",
    results: "{n} 个结果", clearSearch: "清除搜索", inbox: "客服工作台", queue: "工单队列",
    closed: "显示已关闭", signout: "退出", empty: "暂无工单,队列是空的。", pick: "从左侧选择一个工单。",
    codes: "错误码", suggestions: "FAQ 建议", convs: "会话", history: "处理记录", take: "接手", release: "放回队列",
    transfer: "转组", team: "组名", reply: "回复用户", note: "内部备注", close: "关闭工单", feed: "通知",
    replyPh: "输入回复…(内部备注不会发给用户)", live: "实时", offline: "已断开", none: "无",
    enterprise: "企业", status: { open: "排队中", assigned: "处理中", closed: "已关闭" },
    role: { user: "用户", operator: "客服", bot: "机器人", note: "备注" },
    meta: { team: "组", lang: "语言", channel: "渠道", user: "用户", assignee: "处理人", opened: "创建于" },
    ago: { s: "{n} 秒", m: "{n} 分钟", h: "{n} 小时", d: "{n} 天" }
  },
  en: {
    signinTitle: "Operator inbox",
    signinHelp: "Sign in with your operator name and password.",
    tokenHelp: "Enter the operator token created at first start (kept in the operator_token file of the data directory).",
    name: "Name", password: "Password", useToken: "Use the operator token instead",
    usePassword: "Use a name and password instead", badLogin: "Wrong name or password.",
    limited: "Too many failed sign-ins; try again later.",
    views: { mine: "Mine", teams: "My teams", all: "All" }, newCase: "New case {id}", newCaseFeed: "New case {id} for team {team}: {subject}",
    keys: "Keys: j/k next/previous case · t take · r reply · / search · Esc leave the text box · / in the reply box: canned replies",
    noCanned: "No canned reply matches.", dashboard: "Dashboard", answered: "Answered by",
    notMarked: "(not marked)", noEntry: "no FAQ entry",
    answeredHelp: "Mark the FAQ entry that answered the case when closing: the user's question is written to faq/taught.toml as a new question of that entry.", earlier: "Earlier cases",
    searchPh: "Search: number, user, text, code:554 status:closed team:mail from:2026-11-01",
    results: "{n} results", clearSearch: "clear search",
    token: "Operator token", signin: "Sign in", badToken: "That token is not valid.", inbox: "Inbox", queue: "Queue",
    closed: "show closed", signout: "Sign out", empty: "No cases — the queue is empty.", pick: "Pick a case on the left.",
    codes: "Error codes", suggestions: "FAQ suggestions", convs: "Conversations", history: "History", take: "Take",
    release: "Release", transfer: "Transfer", team: "team", reply: "Reply to user", note: "Internal note",
    close: "Close case", feed: "Notifications", replyPh: "Type a reply… (internal notes are not sent to the user)",
    live: "live", offline: "offline", none: "none", enterprise: "enterprise",
    status: { open: "waiting", assigned: "assigned", closed: "closed" },
    role: { user: "user", operator: "operator", bot: "bot", note: "note" },
    meta: { team: "team", lang: "language", channel: "channel", user: "user", assignee: "assignee", opened: "opened" },
    ago: { s: "{n}s", m: "{n} min", h: "{n} h", d: "{n} d" }
  }
};
