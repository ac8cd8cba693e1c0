//! Makes plain text show as typed in Discord: markdown and mention syntax are escaped, `@everyone`/`@here`
//! are broken with a zero-width space, and bare links stay clickable.

/// Characters Discord's markdown reacts to anywhere in a line.
const INLINE: &[char] = &['\\', '*', '_', '~', '`', '|', '[', ']', '<'];

/// Escapes `text` so Discord renders it literally.
///
/// Discord drops a backslash in front of any ASCII punctuation, so escaping more than needed costs nothing
/// visible; `<` is escaped so mention, timestamp and emoji syntax cannot form, and links (`http://`,
/// `https://` up to the next space) are kept as they are so they still work.
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        escape_line(line, &mut out);
    }
    out
}

/// Escapes a line-start marker (`#`, `>`, `-`, `+`, `1.`) at the start of `part`, for a piece of an already
/// escaped text that now starts a message of its own.
pub fn escape_line_start(part: &str) -> String {
    let mut out = String::with_capacity(part.len() + 1);
    let body = part.trim_start_matches([' ', '\t']);
    out.push_str(&part[..part.len() - body.len()]);
    out.push_str(&escape_leading_marker(body));
    out
}

fn escape_line(line: &str, out: &mut String) {
    let body = line.trim_start_matches([' ', '\t']);
    out.push_str(&line[..line.len() - body.len()]);
    let (marker, rest) = split_leading_marker(body);
    out.push_str(&marker);
    escape_inline(rest, out);
}

/// The escaped form of a leading block marker and the rest of the line after it.
fn split_leading_marker(body: &str) -> (String, &str) {
    let first = match body.chars().next() {
        Some(c) => c,
        None => return (String::new(), body),
    };
    if matches!(first, '#' | '>' | '-' | '+') {
        return (format!("\\{first}"), &body[first.len_utf8()..]);
    }
    let digits = body.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 && matches!(body.as_bytes().get(digits), Some(b'.') | Some(b')')) {
        let mark = body.as_bytes()[digits] as char;
        return (format!("{}\\{mark}", &body[..digits]), &body[digits + 1..]);
    }
    (String::new(), body)
}

fn escape_leading_marker(body: &str) -> String {
    let (marker, rest) = split_leading_marker(body);
    format!("{marker}{rest}")
}

fn escape_inline(mut rest: &str, out: &mut String) {
    while !rest.is_empty() {
        if let Some(len) = link_len(rest) {
            out.push_str(&rest[..len]);
            rest = &rest[len..];
            continue;
        }
        let c = match rest.chars().next() {
            Some(c) => c,
            None => break,
        };
        if c == '@' {
            if let Some(word) = ["everyone", "here"]
                .iter()
                .find(|w| rest[1..].starts_with(**w))
            {
                out.push('@');
                out.push('\u{200B}');
                out.push_str(word);
                rest = &rest[1 + word.len()..];
                continue;
            }
        }
        if INLINE.contains(&c) {
            out.push('\\');
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
}

/// The byte length of a bare link at the start of `s`, without trailing punctuation.
fn link_len(s: &str) -> Option<usize> {
    let lower = s.get(..8).map(str::to_ascii_lowercase).unwrap_or_default();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        return None;
    }
    let end = s
        .find(|c: char| c.is_whitespace() || c == '<')
        .unwrap_or(s.len());
    let link = s[..end].trim_end_matches(['.', ',', ':', ';', '"', '\'', ')', ']', '!', '?']);
    let scheme = if lower.starts_with("https://") { 8 } else { 7 };
    (link.len() > scheme).then_some(link.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_markdown_is_escaped() {
        assert_eq!(
            escape_markdown("**bold** _it_ `code` ||spoil||"),
            r"\*\*bold\*\* \_it\_ \`code\` \|\|spoil\|\|"
        );
        assert_eq!(escape_markdown("[x](http://evil)"), r"\[x\](http://evil)");
        assert_eq!(escape_markdown(r"a\b"), r"a\\b");
    }

    #[test]
    fn mentions_cannot_form() {
        assert_eq!(
            escape_markdown("@everyone hi @here"),
            "@\u{200B}everyone hi @\u{200B}here"
        );
        assert_eq!(
            escape_markdown("<@123> <@&9> <#5>"),
            r"\<@123> \<@&9> \<#5>"
        );
        assert_eq!(escape_markdown("<t:1700000000:R>"), r"\<t:1700000000:R>");
    }

    #[test]
    fn line_start_markers_are_escaped() {
        assert_eq!(
            escape_markdown("# title\n> quote\n- item\n  1. one\n-# small"),
            "\\# title\n\\> quote\n\\- item\n  1\\. one\n\\-# small"
        );
        assert_eq!(escape_markdown("3) x"), r"3\) x");
        assert_eq!(escape_markdown("mid # not a header"), "mid # not a header");
    }

    #[test]
    fn links_stay_clickable() {
        assert_eq!(
            escape_markdown("see https://mail.qq.com/a_b?c=d."),
            "see https://mail.qq.com/a_b?c=d."
        );
        assert_eq!(escape_markdown("(https://x.cn/p_q)"), "(https://x.cn/p_q)");
        assert_eq!(escape_markdown("http:// alone"), "http:// alone");
    }

    #[test]
    fn plain_chinese_is_unchanged() {
        let t = "收不到邮件怎么办?错误码 554 DT:SPM";
        assert_eq!(escape_markdown(t), t);
    }

    #[test]
    fn a_split_piece_gets_its_start_escaped() {
        assert_eq!(escape_line_start("# x"), r"\# x");
        assert_eq!(escape_line_start("  12. x"), r"  12\. x");
        assert_eq!(escape_line_start(r"\# x"), r"\# x");
    }
}
