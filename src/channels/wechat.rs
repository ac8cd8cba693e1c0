//! Starts the WeChat channel for `serve`: registers the customer-service adapter with the engine and returns
//! `GET`/`POST /wechat` for the web listener.

use std::sync::Arc;

use supportbot_chat::{Adapter, InboundSink};
use supportbot_wechat::api::Api;
use supportbot_wechat::{crypto, router, Router, Settings, WeChatChannel};

use crate::config::Config;
use crate::engine::Engine;

/// The platform name of WeChat accounts (`wechat:<openid>`).
pub const PLATFORM: &str = "wechat";

/// Why the channel did not start: a setting that cannot work.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct WeChatSetupError(String);

/// Starts the channel when `[wechat]` is configured; its route for the web listener.
pub fn start(config: &Config, engine: &Engine) -> Result<Option<Router>, WeChatSetupError> {
    let Some(section) = &config.wechat else {
        return Ok(None);
    };
    if section.app_secret.trim().is_empty() {
        return Err(WeChatSetupError(
            "[wechat] needs app_secret (or WECHAT_APP_SECRET) to send messages".into(),
        ));
    }
    let aes_key = match &section.encoding_aes_key {
        Some(key) => Some(crypto::key(key).map_err(|e| WeChatSetupError(format!("[wechat] {e}")))?),
        None => None,
    };
    let settings = Settings {
        platform: PLATFORM.into(),
        app_id: section.app_id.clone(),
        token: section.token.clone(),
        aes_key,
    };
    let api = Api::new(&section.api_url, &section.app_id, &section.app_secret);
    let sink: Arc<dyn InboundSink> = Arc::new(engine.clone());
    let channel = WeChatChannel::new(settings, api, sink);
    let adapter: Arc<dyn Adapter> = Arc::new(channel.clone());
    engine.register_adapter(adapter);
    tracing::info!(app_id = %section.app_id, safe_mode = section.encoding_aes_key.is_some(), "WeChat channel ready on /wechat");
    Ok(Some(router(channel)))
}
