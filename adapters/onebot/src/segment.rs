//! OneBot v11 message segments: read from the array form or the CQ-code string form, written as arrays only, so a
//! user's text is always a `text` segment and can never become a CQ code.

use serde_json::{json, Value};

/// One segment of a received message, as far as the bot cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Plain text.
    Text(String),
    /// An @-mention of a QQ number (`all` for everyone).
    At(String),
    /// A reply to a message id.
    Reply(String),
    /// A picture: its file name and URL.
    Image { name: String, url: String },
    /// A file: its name, URL and size.
    File {
        name: String,
        url: String,
        size: u64,
    },
    /// Anything else (faces, records, forwards...): ignored.
    Other,
}

/// The segments of a message field, which is either an array of `{type, data}` or a CQ-code string.
pub fn parse(message: &Value) -> Vec<Segment> {
    match message {
        Value::Array(items) => items.iter().map(from_object).collect(),
        Value::String(text) => parse_cq(text),
        _ => Vec::new(),
    }
}

fn data_str(data: &Value, key: &str) -> String {
    match data.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn from_object(item: &Value) -> Segment {
    let data = item.get("data").cloned().unwrap_or(Value::Null);
    let kind = item.get("type").and_then(Value::as_str).unwrap_or("");
    from_parts(kind, &|key| data_str(&data, key))
}

fn from_parts(kind: &str, get: &dyn Fn(&str) -> String) -> Segment {
    match kind {
        "text" => Segment::Text(get("text")),
        "at" => Segment::At(get("qq")),
        "reply" => Segment::Reply(get("id")),
        "image" => {
            let file = get("file");
            let url = get("url");
            Segment::Image {
                name: if file.is_empty() {
                    "image".into()
                } else {
                    file
                },
                url,
            }
        }
        "file" => Segment::File {
            name: {
                let name = get("name");
                if name.is_empty() {
                    get("file")
                } else {
                    name
                }
            },
            url: get("url"),
            size: get("file_size")
                .parse()
                .or_else(|_| get("size").parse())
                .unwrap_or(0),
        },
        _ => Segment::Other,
    }
}

/// Undoes the CQ-code escapes of text (`&amp;` `&#91;` `&#93;`) and, inside codes, of `,` (`&#44;`).
fn unescape(text: &str) -> String {
    text.replace("&#91;", "[")
        .replace("&#93;", "]")
        .replace("&#44;", ",")
        .replace("&amp;", "&")
}

/// Parses the CQ-code string form: text with `[CQ:type,key=value,...]` codes.
pub fn parse_cq(text: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("[CQ:") {
        if start > 0 {
            out.push(Segment::Text(unescape(&rest[..start])));
        }
        let Some(len) = rest[start..].find(']') else {
            // An unterminated code is text.
            out.push(Segment::Text(unescape(&rest[start..])));
            return out;
        };
        let code = &rest[start + 4..start + len];
        let mut parts = code.split(',');
        let kind = parts.next().unwrap_or("").to_string();
        let pairs: Vec<(String, String)> = parts
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (k.to_string(), unescape(v)))
            .collect();
        let get = |key: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        out.push(from_parts(&kind, &get));
        rest = &rest[start + len + 1..];
    }
    if !rest.is_empty() {
        out.push(Segment::Text(unescape(rest)));
    }
    out
}

/// The segments of an outgoing message: a reply to `reply_to`, an @ of `at`, then the text.
pub fn outgoing(reply_to: Option<&str>, at: Option<&str>, text: &str) -> Value {
    let mut segments = Vec::new();
    if let Some(id) = reply_to {
        segments.push(json!({"type": "reply", "data": {"id": id}}));
    }
    if let Some(qq) = at {
        segments.push(json!({"type": "at", "data": {"qq": qq}}));
        segments.push(json!({"type": "text", "data": {"text": " "}}));
    }
    segments.push(json!({"type": "text", "data": {"text": text}}));
    Value::Array(segments)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cq_strings_and_arrays_read_the_same() {
        let cq = parse(&json!("[CQ:reply,id=77][CQ:at,qq=10001] 退信 554 &#91;急&#93;[CQ:image,file=a.png,url=http://x/a.png]"));
        let array = parse(&json!([
            {"type": "reply", "data": {"id": "77"}},
            {"type": "at", "data": {"qq": 10001}},
            {"type": "text", "data": {"text": " 退信 554 [急]"}},
            {"type": "image", "data": {"file": "a.png", "url": "http://x/a.png"}}
        ]));
        assert_eq!(cq, array);
        assert_eq!(cq[0], Segment::Reply("77".into()));
    }

    #[test]
    fn outgoing_text_is_one_text_segment_whatever_it_holds() {
        let v = outgoing(None, None, "[CQ:at,qq=all] hi");
        assert_eq!(
            v,
            json!([{"type": "text", "data": {"text": "[CQ:at,qq=all] hi"}}])
        );
        let v = outgoing(Some("5"), Some("42"), "ok");
        assert_eq!(v.as_array().unwrap().len(), 4);
    }

    #[test]
    fn an_unterminated_code_is_text() {
        assert_eq!(
            parse_cq("a [CQ:at"),
            vec![Segment::Text("a ".into()), Segment::Text("[CQ:at".into())]
        );
    }
}
