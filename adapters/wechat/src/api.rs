//! WeChat's server API as the bot uses it: an `access_token` fetched with the app id and secret, cached and
//! fetched again five minutes before it expires (or when the API says it expired), and customer-service text
//! messages, whose error codes decide between done, retry and give up.

use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::json;
use supportbot_chat::SendError;
use tokio::sync::Mutex;

/// A token is fetched again this long before WeChat says it expires.
const REFRESH_EARLY: Duration = Duration::from_secs(300);
/// How long to wait after a rate-limit error code.
const RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);
/// Error codes of an invalid or expired access token.
const TOKEN_ERRORS: [i64; 3] = [40001, 40014, 42001];
/// "Response out of time limit": the user has not written within 48 hours.
const OUTSIDE_WINDOW: i64 = 45015;

/// The API client.
pub struct Api {
    client: reqwest::Client,
    base: String,
    app_id: String,
    app_secret: String,
    token: Mutex<Option<(String, Instant)>>,
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
    access_token: Option<String>,
    expires_in: Option<u64>,
}

impl Api {
    /// A client for the API at `base` (`https://api.weixin.qq.com`, or a local fake).
    pub fn new(base: &str, app_id: &str, app_secret: &str) -> Api {
        Api {
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("an HTTP client with rustls"),
            base: base.trim_end_matches('/').to_string(),
            app_id: app_id.to_string(),
            app_secret: app_secret.to_string(),
            token: Mutex::new(None),
        }
    }

    async fn call(&self, request: reqwest::RequestBuilder) -> Result<Answer, SendError> {
        let response = request.send().await.map_err(|e| {
            SendError::Transient(format!("WeChat API unreachable: {}", e.without_url()))
        })?;
        let status = response.status();
        if !status.is_success() {
            return Err(SendError::Transient(format!(
                "WeChat API answered HTTP {status}"
            )));
        }
        response.json::<Answer>().await.map_err(|e| {
            SendError::Transient(format!("WeChat API answer unreadable: {}", e.without_url()))
        })
    }

    /// The cached access token, fetched first when there is none, it is about to expire, or `fresh` is asked.
    pub async fn token(&self, fresh: bool) -> Result<String, SendError> {
        let mut cached = self.token.lock().await;
        if let (false, Some((token, until))) = (fresh, cached.as_ref()) {
            if Instant::now() < *until {
                return Ok(token.clone());
            }
        }
        let url = format!("{}/cgi-bin/token", self.base);
        let query = [
            ("grant_type", "client_credential"),
            ("appid", self.app_id.as_str()),
            ("secret", self.app_secret.as_str()),
        ];
        let answer = self.call(self.client.get(url).query(&query)).await?;
        let Some(token) = answer.access_token.filter(|t| !t.is_empty()) else {
            return Err(SendError::Transient(format!(
                "no WeChat access_token (errcode {}: {})",
                answer.errcode, answer.errmsg
            )));
        };
        let lifetime = Duration::from_secs(answer.expires_in.unwrap_or(7200));
        let until = Instant::now() + lifetime.saturating_sub(REFRESH_EARLY);
        *cached = Some((token.clone(), until));
        tracing::debug!(
            expires_in = lifetime.as_secs(),
            "WeChat access token fetched"
        );
        Ok(token)
    }

    /// Sends a customer-service text message to `openid`.
    pub async fn send_text(&self, openid: &str, text: &str) -> Result<(), SendError> {
        let body = json!({"touser": openid, "msgtype": "text", "text": {"content": text}});
        let mut fresh = false;
        loop {
            let token = self.token(fresh).await?;
            let url = format!("{}/cgi-bin/message/custom/send", self.base);
            let request = self
                .client
                .post(url)
                .query(&[("access_token", token)])
                .json(&body);
            let answer = self.call(request).await?;
            match answer.errcode {
                0 => return Ok(()),
                code if TOKEN_ERRORS.contains(&code) && !fresh => {
                    tracing::info!(errcode = code, "WeChat access token expired; fetching a new one");
                    fresh = true;
                }
                OUTSIDE_WINDOW => {
                    return Err(SendError::Permanent(
                        "the user last wrote more than 48 hours ago: WeChat accepts no customer-service message \
                         until they write again"
                            .into(),
                    ))
                }
                45009 | 45011 | 45047 => return Err(SendError::RetryAfter(RATE_LIMIT_WAIT)),
                40003 => return Err(SendError::Permanent(format!("WeChat does not know openid {openid}"))),
                code => {
                    return Err(SendError::Transient(format!(
                        "WeChat errcode {code}: {}",
                        answer.errmsg
                    )))
                }
            }
        }
    }
}
