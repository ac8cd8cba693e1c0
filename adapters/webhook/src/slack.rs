//! Slack-compatible incoming-webhook payloads (`{"text": ...}`) for case events, with `&`, `<` and `>`
//! escaped as Slack requires so nothing a user typed becomes a mention, a link or markup.

use serde::Serialize;
use supportbot_chat::{CaseEvent, CaseEventKind};

/// Longest event text carried into one Slack message, in characters.
const MAX_TEXT_CHARS: usize = 3000;

/// The body POSTed to a Slack incoming webhook.
#[derive(Debug, Serialize)]
pub struct SlackMessage {
    /// The message text, Slack mrkdwn with user content escaped.
    pub text: String,
}

/// Escapes the three characters Slack's message format reserves.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// One readable line (plus the event's text and attachments) describing a case event.
pub fn message_for(event: &CaseEvent) -> SlackMessage {
    let who = escape(if event.actor_name.trim().is_empty() {
        &event.actor
    } else {
        &event.actor_name
    });
    let case = escape(&event.case);
    let head = match event.kind {
        CaseEventKind::Opened => format!("*{case}* opened by {who}"),
        CaseEventKind::Message => format!("*{case}* message from {who}"),
        CaseEventKind::Assigned => format!("*{case}* taken by {who}"),
        CaseEventKind::Released => format!("*{case}* released to the queue by {who}"),
        CaseEventKind::Transferred => format!("*{case}* transferred by {who}"),
        CaseEventKind::Note => format!("*{case}* internal note by {who}"),
        CaseEventKind::Closed => format!("*{case}* closed by {who}"),
        CaseEventKind::Rated => format!("*{case}* rated by {who}"),
        CaseEventKind::DeliveryFailed => format!("*{case}* a delivery failed"),
    };
    let mut text = head;
    let body = event.text.trim();
    if !body.is_empty() {
        let mut clipped: String = body.chars().take(MAX_TEXT_CHARS).collect();
        if clipped.len() < body.len() {
            clipped.push('…');
        }
        text.push('\n');
        // Quote every line so multi-line user text stays visibly inside the quote.
        for (i, line) in clipped.lines().enumerate() {
            if i > 0 {
                text.push('\n');
            }
            text.push_str("&gt; ");
            text.push_str(&escape(line));
        }
    }
    for file in &event.attachments {
        let name = if file.name.is_empty() {
            "attachment"
        } else {
            &file.name
        };
        text.push_str(&format!(
            "\n[{}] {} {}",
            kind_label(file.kind),
            escape(name),
            escape(&file.url)
        ));
    }
    SlackMessage { text }
}

fn kind_label(kind: supportbot_chat::AttachmentKind) -> &'static str {
    match kind {
        supportbot_chat::AttachmentKind::Image => "image",
        supportbot_chat::AttachmentKind::File => "file",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use supportbot_chat::{Attachment, AttachmentKind};

    fn event(kind: CaseEventKind, text: &str) -> CaseEvent {
        CaseEvent {
            case: "C-1001".into(),
            kind,
            at: chrono::DateTime::parse_from_rfc3339("2026-11-25T10:00:00+08:00").unwrap(),
            actor: "webhook:u1".into(),
            actor_name: "Li <Lei>".into(),
            text: text.into(),
            attachments: vec![],
        }
    }

    #[test]
    fn escapes_reserved_characters() {
        assert_eq!(
            escape("a & b <!channel> <http://x|y>"),
            "a &amp; b &lt;!channel&gt; &lt;http://x|y&gt;"
        );
        assert_eq!(escape("纯文本"), "纯文本");
    }

    #[test]
    fn user_text_and_names_cannot_inject_markup() {
        let msg = message_for(&event(
            CaseEventKind::Opened,
            "<!here> 554 & <b>x</b>\nline two",
        ));
        assert!(
            !msg.text.contains('<') && !msg.text.contains('>'),
            "{}",
            msg.text
        );
        assert!(
            msg.text.starts_with("*C-1001* opened by Li &lt;Lei&gt;\n"),
            "{}",
            msg.text
        );
        assert!(
            msg.text
                .contains("&gt; &lt;!here&gt; 554 &amp; &lt;b&gt;x&lt;/b&gt;\n&gt; line two"),
            "{}",
            msg.text
        );
    }

    #[test]
    fn every_kind_reads_differently_and_attachments_are_listed() {
        use CaseEventKind::*;
        let kinds = [
            Opened,
            Message,
            Assigned,
            Released,
            Transferred,
            Note,
            Closed,
            Rated,
            DeliveryFailed,
        ];
        let texts: std::collections::HashSet<String> = kinds
            .iter()
            .map(|k| message_for(&event(*k, "")).text)
            .collect();
        assert_eq!(texts.len(), kinds.len());
        let mut e = event(Message, "see log");
        e.actor_name.clear();
        e.attachments.push(Attachment {
            kind: AttachmentKind::File,
            name: "smtp>.log".into(),
            url: "https://f.example/a?x=1&y=2".into(),
            size: 10,
        });
        let text = message_for(&e).text;
        assert!(
            text.starts_with("*C-1001* message from webhook:u1"),
            "{text}"
        );
        assert!(
            text.ends_with("[file] smtp&gt;.log https://f.example/a?x=1&amp;y=2"),
            "{text}"
        );
    }

    #[test]
    fn long_text_is_clipped() {
        let long = "长".repeat(MAX_TEXT_CHARS + 10);
        let text = message_for(&event(CaseEventKind::Message, &long)).text;
        assert!(text.ends_with('…'));
        assert!(text.chars().count() < MAX_TEXT_CHARS + 100);
    }
}
