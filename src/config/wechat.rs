//! The `[wechat]` section: a WeChat Official Account. Its secrets are never printed by `Debug`.

use std::fmt;

use serde::Deserialize;

/// `[wechat]`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WeChatConfig {
    /// The official account's app id (`wx…`).
    pub app_id: String,
    /// Its app secret (also `WECHAT_APP_SECRET`), for the `access_token`.
    pub app_secret: String,
    /// The server-configuration token that signs pushes.
    pub token: String,
    /// The safe mode's EncodingAESKey (43 characters); plain mode without it.
    pub encoding_aes_key: Option<String>,
    /// The API base (tests and proxies point it elsewhere).
    pub api_url: String,
}

impl Default for WeChatConfig {
    fn default() -> Self {
        WeChatConfig {
            app_id: String::new(),
            app_secret: String::new(),
            token: String::new(),
            encoding_aes_key: None,
            api_url: "https://api.weixin.qq.com".into(),
        }
    }
}

impl WeChatConfig {
    /// What is wrong with the section, as `(key to point at, message)`.
    pub fn problem(&self) -> Option<(&'static str, String)> {
        if self.app_id.trim().is_empty() {
            return Some(("[wechat]", "[wechat] needs app_id".into()));
        }
        if self.token.trim().is_empty() {
            return Some((
                "[wechat]",
                "[wechat] needs token (the server-configuration token)".into(),
            ));
        }
        if let Some(key) = &self.encoding_aes_key {
            if key.len() != 43 {
                return Some((
                    "encoding_aes_key",
                    "[wechat] encoding_aes_key must be the 43 characters WeChat shows".into(),
                ));
            }
        }
        if !self.api_url.starts_with("http://") && !self.api_url.starts_with("https://") {
            return Some((
                "api_url",
                "[wechat] api_url must start with http:// or https://".into(),
            ));
        }
        None
    }
}

impl fmt::Debug for WeChatConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeChatConfig")
            .field("app_id", &self.app_id)
            .field("app_secret", &"<redacted>")
            .field("token", &"<redacted>")
            .field(
                "encoding_aes_key",
                &self.encoding_aes_key.as_ref().map(|_| "<redacted>"),
            )
            .field("api_url", &self.api_url)
            .finish()
    }
}
