//! Starts the webhook channels and the inbox forwarders for `serve`: one callback adapter per `[[webhooks]]`
//! channel and one forwarder per `[[forward]]` entry are registered with the engine, and the router serving
//! `POST /webhook/{channel}` is returned for the web channel's listener to merge.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use supportbot_chat::Adapter;
use supportbot_webhook::{
    check_channel_name, check_forward_name, check_url, CallbackAdapter, ForwardFormat,
    ForwardTarget, Forwarder, InboundChannel, Router, Secret, SetupError,
};

use crate::config::{self, Config};
use crate::engine::Engine;

/// What [`start`] set up.
pub struct WebhookChannels {
    /// `POST /webhook/{channel}` for every configured channel (bodies up to 64 KiB); merge it into the web
    /// channel's router after that router's own state is applied: `web_router.merge(channels.router)`.
    pub router: Router,
    /// The adapters registered with the engine: the channels' callback adapters, then the forwarders.
    pub adapters: Vec<Arc<dyn Adapter>>,
}

/// Checks the `[[webhooks]]` and `[[forward]]` sections, registers their adapters with `engine` and returns
/// the inbound router. Nothing runs in the background: the outbox drives the adapters and the web channel's
/// listener serves the router.
pub fn start(config: &Config, engine: &Engine) -> Result<WebhookChannels, SetupError> {
    let (inbound, callbacks) = channels(config)?;
    let forwarders = forwarders(config)?;
    let mut adapters: Vec<Arc<dyn Adapter>> = Vec::new();
    for adapter in callbacks {
        let adapter: Arc<dyn Adapter> = Arc::new(adapter);
        engine.register_adapter(adapter.clone());
        adapters.push(adapter);
    }
    for forwarder in forwarders {
        let forwarder: Arc<dyn Adapter> = Arc::new(forwarder);
        engine.register_forwarder(forwarder.clone());
        adapters.push(forwarder);
    }
    if !inbound.is_empty() || !adapters.is_empty() {
        let names: Vec<&str> = adapters.iter().map(|a| a.name()).collect();
        tracing::info!(channels = inbound.len(), adapters = ?names, "webhook channels ready");
    }
    let sink: Arc<dyn supportbot_chat::InboundSink> = Arc::new(engine.clone());
    Ok(WebhookChannels {
        router: supportbot_webhook::router(inbound, sink),
        adapters,
    })
}

/// The receiving and sending halves of every `[[webhooks]]` channel, checked.
fn channels(config: &Config) -> Result<(Vec<InboundChannel>, Vec<CallbackAdapter>), SetupError> {
    let mut seen = HashSet::new();
    let mut inbound = Vec::new();
    let mut callbacks = Vec::new();
    for hook in &config.webhooks {
        check_channel_name(&hook.channel)?;
        if !seen.insert(hook.channel.as_str()) {
            return Err(SetupError::Duplicate(hook.channel.clone()));
        }
        if hook.secret.is_empty() {
            return Err(SetupError::NoSecret {
                channel: hook.channel.clone(),
                env: format!(
                    "SUPPORTBOT_WEBHOOK_SECRET_{}",
                    hook.channel.to_uppercase().replace('-', "_")
                ),
            });
        }
        check_url(
            &format!("callback_url of webhook channel {}", hook.channel),
            &hook.callback_url,
        )?;
        let secret = Secret::new(hook.secret.as_bytes());
        let timeout = Duration::from_secs(hook.timeout_secs.max(1));
        let adapter =
            CallbackAdapter::new(&hook.channel, &hook.callback_url, secret.clone(), timeout)
                .map_err(|e| SetupError::Client(e.to_string()))?;
        inbound.push(InboundChannel {
            name: hook.channel.clone(),
            secret,
        });
        callbacks.push(adapter);
    }
    Ok((inbound, callbacks))
}

/// One forwarder per `[[forward]]` entry, checked.
fn forwarders(config: &Config) -> Result<Vec<Forwarder>, SetupError> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for target in &config.forward {
        check_forward_name(&target.name)?;
        if !seen.insert(target.name.as_str()) {
            return Err(SetupError::Duplicate(target.name.clone()));
        }
        check_url(&format!("url of forward {}", target.name), &target.url)?;
        let format = match target.format {
            config::ForwardFormat::Json => ForwardFormat::Json,
            config::ForwardFormat::Slack => ForwardFormat::Slack,
        };
        let spec = ForwardTarget {
            name: target.name.clone(),
            url: target.url.clone(),
            secret: (!target.secret.is_empty()).then(|| Secret::new(target.secret.as_bytes())),
            format,
            events: target.events.clone(),
        };
        let timeout = Duration::from_secs(target.timeout_secs.max(1));
        out.push(Forwarder::new(spec, timeout).map_err(|e| SetupError::Client(e.to_string()))?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Config {
        Config::parse(text, "t.toml").unwrap()
    }

    #[test]
    fn checks_channels_and_forwarders() {
        let ok = parse(
            "[[webhooks]]\nchannel = \"forum\"\nsecret = \"0123456789abcdef\"\ncallback_url = \"http://127.0.0.1:1/cb\"\n\
             [[forward]]\nname = \"desk\"\nurl = \"https://desk.example/hook\"\nformat = \"slack\"\nevents = [\"opened\"]\n",
        );
        let (inbound, callbacks) = channels(&ok).unwrap();
        assert_eq!((inbound.len(), callbacks[0].name()), (1, "forum"));
        assert_eq!(forwarders(&ok).unwrap()[0].name(), "forward:desk");

        let no_secret =
            parse("[[webhooks]]\nchannel = \"my-app\"\ncallback_url = \"http://x/cb\"\n");
        let err = channels(&no_secret).err().unwrap().to_string();
        assert!(err.contains("SUPPORTBOT_WEBHOOK_SECRET_MY_APP"), "{err}");
        let bad_url = parse(
            "[[webhooks]]\nchannel = \"forum\"\nsecret = \"0123456789abcdef\"\ncallback_url = \"forum.example\"\n",
        );
        assert!(matches!(channels(&bad_url), Err(SetupError::BadUrl { .. })));
        let twice = parse(
            "[[webhooks]]\nchannel = \"f\"\nsecret = \"0123456789abcdef\"\ncallback_url = \"http://x/\"\n\
             [[webhooks]]\nchannel = \"f\"\nsecret = \"0123456789abcdef\"\ncallback_url = \"http://x/\"\n",
        );
        assert!(matches!(channels(&twice), Err(SetupError::Duplicate(_))));
        let reserved = parse(
            "[[webhooks]]\nchannel = \"telegram\"\nsecret = \"0123456789abcdef\"\ncallback_url = \"http://x/\"\n",
        );
        assert!(matches!(
            channels(&reserved),
            Err(SetupError::BadName { .. })
        ));
        assert!(Config::parse(
            "[[forward]]\nname = \"d\"\nurl = \"http://x/\"\nformat = \"xml\"\n",
            "t.toml"
        )
        .is_err());
    }

    #[test]
    fn secrets_come_from_the_environment() {
        let mut c = parse(
            "[[webhooks]]\nchannel = \"my-app\"\ncallback_url = \"http://x/cb\"\n\
             [[forward]]\nname = \"team-slack\"\nurl = \"http://x/s\"\n",
        );
        c.apply_env(|k| match k {
            "SUPPORTBOT_WEBHOOK_SECRET_MY_APP" => Some("hook-secret-0123456789".into()),
            "SUPPORTBOT_FORWARD_SECRET_TEAM_SLACK" => Some("fwd-secret-0123456789".into()),
            _ => None,
        });
        assert!(channels(&c).is_ok());
        assert_eq!(c.forward[0].secret, "fwd-secret-0123456789");
        let debug = format!("{c:?}");
        assert!(
            !debug.contains("hook-secret") && !debug.contains("fwd-secret"),
            "{debug}"
        );
    }
}
