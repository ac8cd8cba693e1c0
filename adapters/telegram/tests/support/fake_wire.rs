//! Wire details of the fake Bot API: message entities, percent-decoding, multipart bodies.

use serde_json::{json, Value};

/// `mention` entities for `@words` and a `bot_command` entity for a leading `/word`, in UTF-16 offsets.
pub fn entities_of(text: &str) -> Vec<Value> {
    let mut entities = Vec::new();
    let mut offset = 0usize;
    for (index, word) in text.split(' ').enumerate() {
        let units = word.encode_utf16().count();
        if word.len() > 1 && word.starts_with('@') {
            entities.push(json!({"type": "mention", "offset": offset, "length": units}));
        } else if index == 0 && word.len() > 1 && word.starts_with('/') {
            entities.push(json!({"type": "bot_command", "offset": offset, "length": units}));
        }
        offset += units + 1;
    }
    entities
}

/// Decodes `%XX` escapes (teloxide sends a file path as one segment, its slashes as `%2F`).
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The fields of a `multipart/form-data` body (values that are JSON are parsed, others kept as strings).
pub fn multipart_fields(content_type: &str, body: &[u8]) -> Value {
    let Some(boundary) = content_type.split("boundary=").nth(1) else {
        return json!({});
    };
    let text = String::from_utf8_lossy(body);
    let mut fields = serde_json::Map::new();
    for part in text.split(&format!("--{}", boundary.trim_matches('"'))) {
        let Some((head, value)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        let Some(name) = head
            .split("name=\"")
            .nth(1)
            .and_then(|n| n.split('"').next())
        else {
            continue;
        };
        let value = value.trim_end_matches("\r\n");
        let parsed = match serde_json::from_str::<Value>(value) {
            Ok(v) if v.is_array() || v.is_object() || v.is_boolean() || v.is_number() => v,
            _ => json!(value),
        };
        fields.insert(name.to_string(), parsed);
    }
    Value::Object(fields)
}
