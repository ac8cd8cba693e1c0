//! Checks of a channel's or forwarder's configuration before anything is served or sent.

/// Platform names of the built-in adapters; a webhook channel may not take one.
const RESERVED: [&str; 3] = ["telegram", "discord", "web"];

/// Why a webhook channel or forwarder cannot be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetupError {
    /// The channel or forwarder name is unusable.
    #[error("webhook name `{name}` {reason}")]
    BadName {
        /// The name.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Two entries share a name.
    #[error("webhook name `{0}` is configured twice")]
    Duplicate(String),
    /// A channel has no secret in the file nor in the environment.
    #[error(
        "webhook channel `{channel}` has no secret: set `secret` or the {env} environment variable"
    )]
    NoSecret {
        /// The channel.
        channel: String,
        /// The environment variable that would provide it.
        env: String,
    },
    /// A URL is missing or not http(s).
    #[error("{what} `{url}` is not an http:// or https:// URL")]
    BadUrl {
        /// Which setting (`callback_url of forum`).
        what: String,
        /// The value.
        url: String,
    },
    /// The HTTP client could not be built.
    #[error("{0}")]
    Client(String),
}

/// A channel name must be a URL path segment and a platform name: ASCII letters, digits, `-` and `_`, not one
/// of the built-in platforms.
pub fn check_channel_name(name: &str) -> Result<(), SetupError> {
    check_forward_name(name)?;
    if RESERVED.contains(&name) {
        return Err(SetupError::BadName {
            name: name.to_string(),
            reason: "is a built-in platform",
        });
    }
    Ok(())
}

/// A forwarder name: ASCII letters, digits, `-` and `_` (it becomes the destination `forward:<name>`).
pub fn check_forward_name(name: &str) -> Result<(), SetupError> {
    let bad = |reason| {
        Err(SetupError::BadName {
            name: name.to_string(),
            reason,
        })
    };
    if name.is_empty() || name.len() > 64 {
        return bad("must have 1 to 64 characters");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return bad("may only use ASCII letters, digits, `-` and `_`");
    }
    Ok(())
}

/// `url` must parse and use http or https.
pub fn check_url(what: &str, url: &str) -> Result<(), SetupError> {
    match reqwest::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
        _ => Err(SetupError::BadUrl {
            what: what.to_string(),
            url: url.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(check_channel_name("forum").is_ok());
        assert!(check_channel_name("wechat_oa-2").is_ok());
        for bad in ["", "a/b", "论坛", "telegram", "web", "a b", &"x".repeat(65)] {
            assert!(check_channel_name(bad).is_err(), "{bad}");
        }
        assert!(check_forward_name("web").is_ok());
        assert!(check_forward_name("a:b").is_err());
    }

    #[test]
    fn urls() {
        assert!(check_url("u", "https://forum.example.com/supportbot").is_ok());
        assert!(check_url("u", "http://127.0.0.1:9000/hook").is_ok());
        for bad in ["", "forum.example.com", "ftp://x/y", "file:///etc/passwd"] {
            assert!(check_url("u", bad).is_err(), "{bad}");
        }
    }
}
