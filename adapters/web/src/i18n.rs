//! The few sentences the web channel itself says (refusals), in Chinese, English or Japanese.

/// Interface language of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// 中文.
    Zh,
    /// English.
    En,
    /// 日本語.
    Ja,
}

impl Lang {
    /// From `?lang=` when given, else the browser's `Accept-Language`; English when neither says Chinese or
    /// Japanese.
    pub fn pick(query: Option<&str>, accept_language: Option<&str>) -> Lang {
        let first = query
            .filter(|q| !q.is_empty())
            .or_else(|| accept_language.and_then(|h| h.split(',').next()))
            .unwrap_or("en");
        let first = first.trim().to_ascii_lowercase();
        if first.starts_with("zh") {
            Lang::Zh
        } else if first.starts_with("ja") {
            Lang::Ja
        } else {
            Lang::En
        }
    }

    /// The language code the core understands as a locale hint.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
            Lang::Ja => "ja",
        }
    }
}

/// A refusal the page shows as a notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// Too many messages in a short time.
    RateLimited,
    /// Text over the length limit.
    TooLong,
    /// A frame that is not one of the protocol's.
    BadFrame,
    /// A message with nothing in it.
    Empty,
    /// The core refused the message.
    Rejected,
    /// The core could not store the message.
    Unavailable,
    /// The bot is shutting down.
    ShuttingDown,
    /// An upload over the size limit.
    UploadTooLarge,
    /// An upload request without a file.
    UploadMissing,
    /// An upload with an unknown or missing session.
    BadSession,
    /// Too many new chat sessions from one address (or from everybody).
    TooManySessions,
    /// Too many uploads from one address (or from everybody).
    TooManyUploads,
    /// Too many cases opened from one address (or from everybody).
    TooManyCases,
    /// The session's upload quota is used up.
    UploadQuota,
    /// The uploads of everybody together reached their limit.
    UploadsFull,
}

impl Notice {
    /// The stable code sent in error frames.
    pub fn code(self) -> &'static str {
        match self {
            Notice::RateLimited => "rate_limited",
            Notice::TooLong => "too_long",
            Notice::BadFrame => "bad_frame",
            Notice::Empty => "empty",
            Notice::Rejected => "rejected",
            Notice::Unavailable => "unavailable",
            Notice::ShuttingDown => "shutting_down",
            Notice::UploadTooLarge => "too_large",
            Notice::UploadMissing => "no_file",
            Notice::BadSession => "bad_session",
            Notice::TooManySessions | Notice::TooManyUploads | Notice::TooManyCases => {
                "rate_limited"
            }
            Notice::UploadQuota => "upload_quota",
            Notice::UploadsFull => "uploads_full",
        }
    }

    /// The sentence for people.
    pub fn text(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Notice::RateLimited, Lang::Zh) => "您发送得有点快,请稍等片刻再发。",
            (Notice::RateLimited, Lang::En) => {
                "You're sending messages a little fast — please wait a moment and try again."
            }
            (Notice::TooLong, Lang::Zh) => "消息太长了,请缩短后再发送。",
            (Notice::TooLong, Lang::En) => {
                "That message is too long; please shorten it and send it again."
            }
            (Notice::BadFrame, Lang::Zh) => "无法读取这条消息。",
            (Notice::BadFrame, Lang::En) => "That message could not be read.",
            (Notice::Empty, Lang::Zh) => "消息是空的。",
            (Notice::Empty, Lang::En) => "The message is empty.",
            (Notice::Rejected, Lang::Zh) => "这条消息未被接受。",
            (Notice::Rejected, Lang::En) => "That message was not accepted.",
            (Notice::Unavailable, Lang::Zh) => "暂时无法保存您的消息,请稍后重试。",
            (Notice::Unavailable, Lang::En) => {
                "Your message could not be saved just now; please try again shortly."
            }
            (Notice::ShuttingDown, Lang::Zh) => "客服系统正在重启,请稍后重试。",
            (Notice::ShuttingDown, Lang::En) => {
                "The support service is restarting; please try again in a moment."
            }
            (Notice::UploadTooLarge, Lang::Zh) => "文件太大了(上限 20 MB)。",
            (Notice::UploadTooLarge, Lang::En) => "That file is too large (the limit is 20 MB).",
            (Notice::UploadMissing, Lang::Zh) => "没有收到文件。",
            (Notice::UploadMissing, Lang::En) => "No file was received.",
            (Notice::BadSession, Lang::Zh) => "会话已失效,请刷新页面。",
            (Notice::BadSession, Lang::En) => {
                "Your chat session is not valid any more; please reload the page."
            }
            (Notice::TooManySessions, Lang::Zh) => "来自您网络的新会话过多。",
            (Notice::TooManySessions, Lang::En) => {
                "Too many new chats were started from your network."
            }
            (Notice::TooManyUploads, Lang::Zh) => "来自您网络的上传过多。",
            (Notice::TooManyUploads, Lang::En) => "Too many files were sent from your network.",
            (Notice::TooManyCases, Lang::Zh) => "来自您网络的人工工单过多。",
            (Notice::TooManyCases, Lang::En) => {
                "Too many cases for a person were opened from your network."
            }
            (Notice::UploadQuota, Lang::Zh) => "本次会话可上传的文件已达上限。",
            (Notice::UploadQuota, Lang::En) => {
                "This chat has reached its limit of files; no more can be sent."
            }
            (Notice::UploadsFull, Lang::Zh) => "暂时无法接收更多文件,请稍后再试。",
            (Notice::UploadsFull, Lang::En) => {
                "No more files can be received just now; please try again later."
            }
            (Notice::RateLimited, Lang::Ja) => {
                "送信のペースが少し速すぎます。しばらく待ってからもう一度お試しください。"
            }
            (Notice::TooLong, Lang::Ja) => "メッセージが長すぎます。短くして送り直してください。",
            (Notice::BadFrame, Lang::Ja) => "このメッセージを読み取れませんでした。",
            (Notice::Empty, Lang::Ja) => "メッセージが空です。",
            (Notice::Rejected, Lang::Ja) => "このメッセージは受け付けられませんでした。",
            (Notice::Unavailable, Lang::Ja) => {
                "現在メッセージを保存できません。しばらくしてからもう一度お試しください。"
            }
            (Notice::ShuttingDown, Lang::Ja) => {
                "サポートシステムを再起動しています。しばらくしてからもう一度お試しください。"
            }
            (Notice::UploadTooLarge, Lang::Ja) => "ファイルが大きすぎます(上限 20 MB)。",
            (Notice::UploadMissing, Lang::Ja) => "ファイルを受け取れませんでした。",
            (Notice::BadSession, Lang::Ja) => {
                "チャットのセッションが無効になりました。ページを再読み込みしてください。"
            }
            (Notice::TooManySessions, Lang::Ja) => {
                "お使いのネットワークから開始された新しいチャットが多すぎます。"
            }
            (Notice::TooManyUploads, Lang::Ja) => {
                "お使いのネットワークから送信されたファイルが多すぎます。"
            }
            (Notice::TooManyCases, Lang::Ja) => {
                "お使いのネットワークから作成された担当者対応の案件が多すぎます。"
            }
            (Notice::UploadQuota, Lang::Ja) => {
                "このチャットで送信できるファイルの上限に達しました。"
            }
            (Notice::UploadsFull, Lang::Ja) => {
                "現在これ以上ファイルを受け取れません。しばらくしてからもう一度お試しください。"
            }
        }
    }

    /// "Please try again in N minutes."
    pub fn retry_in(minutes: u64, lang: Lang) -> String {
        match lang {
            Lang::Zh => format!("请 {minutes} 分钟后再试。"),
            Lang::En if minutes == 1 => "Please try again in a minute.".to_string(),
            Lang::En => format!("Please try again in {minutes} minutes."),
            Lang::Ja => format!("{minutes} 分後にもう一度お試しください。"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_language() {
        assert_eq!(Lang::pick(Some("zh-CN"), None), Lang::Zh);
        assert_eq!(Lang::pick(None, Some("zh-TW,zh;q=0.9,en;q=0.8")), Lang::Zh);
        assert_eq!(Lang::pick(None, Some("en-US,zh;q=0.5")), Lang::En);
        assert_eq!(Lang::pick(Some("en"), Some("zh-CN")), Lang::En);
        assert_eq!(Lang::pick(None, None), Lang::En);
        assert_eq!(Lang::pick(None, Some("ja-JP,ja;q=0.9,en;q=0.8")), Lang::Ja);
        assert_eq!(Lang::pick(Some("ja"), Some("en-US")), Lang::Ja);
        assert_eq!(Lang::pick(Some("ja"), None).code(), "ja");
    }
}
