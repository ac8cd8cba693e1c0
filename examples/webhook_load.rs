//! Bounded load generator for the webhook channel (issue 7), on loopback with the real engine and sled:
//!
//! 1. signed inbound requests per second end to end: `POST /webhook/forum` from concurrent clients, verified,
//!    stored, answered by the FAQ and the answer delivered to a local receiver that checks its signature;
//! 2. outbox deliveries per second: a backlog built while the receiver refuses is drained after a restart,
//!    once into one chat (one in-order lane) and once spread over many chats.
//!
//! `cargo run --release --example webhook_load -- [--requests N] [--concurrency C] [--backlog M]`
//! (at most 20000 requests and 20000 backlog items; every wait is bounded).

/// The allocator the `supportbot` binary runs with (this example is also the server it measures).
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[cfg(not(feature = "webhook"))]
fn main() {
    eprintln!("webhook_load needs the `webhook` feature");
}

#[cfg(feature = "webhook")]
fn main() -> anyhow::Result<()> {
    let args = load::Args::parse()?;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(load::run(args))
}

#[cfg(feature = "webhook")]
mod load {
    use std::collections::HashSet;
    use std::path::Path;
    use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use anyhow::{bail, Context};
    use axum::body::Bytes;
    use axum::extract::State;
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::post;
    use hmac::{Hmac, Mac};
    use sha2::Sha256;
    use supportbot::config::Config;
    use supportbot::engine::Engine;
    use supportbot_chat::{Inbound, InboundSink, Shutdown};

    const SECRET: &str = "load-secret-0123456789";
    const LIMIT: usize = 20_000;
    const WAIT: Duration = Duration::from_secs(300);
    const QUESTIONS: [&str; 6] = [
        "554 DT:SPM 怎么办",
        "how do I change my password",
        "附件太大发不出去",
        "IMAP 怎么设置",
        "my account was locked",
        "收不到验证码",
    ];

    /// Command line.
    pub struct Args {
        requests: usize,
        concurrency: usize,
        backlog: usize,
    }

    impl Args {
        /// Reads `--requests`, `--concurrency`, `--backlog`.
        pub fn parse() -> anyhow::Result<Args> {
            let mut args = Args {
                requests: 2000,
                concurrency: 32,
                backlog: 2000,
            };
            let mut it = std::env::args().skip(1);
            while let Some(flag) = it.next() {
                let value: usize = it
                    .next()
                    .context("a flag needs a value")?
                    .parse()
                    .context("not a number")?;
                match flag.as_str() {
                    "--requests" => args.requests = value.clamp(1, LIMIT),
                    "--concurrency" => args.concurrency = value.clamp(1, 256),
                    "--backlog" => args.backlog = value.clamp(1, LIMIT),
                    other => bail!("unknown flag {other}"),
                }
            }
            Ok(args)
        }
    }

    fn sign(ts: &str, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("any key length");
        mac.update(ts.as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    }

    fn unix_now() -> String {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
            .to_string()
    }

    /// The platform bridge: verifies each callback's signature, counts it, remembers what it answers.
    #[derive(Default)]
    struct Receiver {
        refuse: AtomicBool,
        accepted: AtomicU64,
        bad_signatures: AtomicU64,
        answered: Mutex<HashSet<String>>,
    }

    async fn receive(
        State(rx): State<Arc<Receiver>>,
        headers: HeaderMap,
        body: Bytes,
    ) -> StatusCode {
        if rx.refuse.load(Ordering::Relaxed) {
            return StatusCode::SERVICE_UNAVAILABLE;
        }
        let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("");
        if h("x-supportbot-signature") != sign(h("x-supportbot-timestamp"), &body) {
            rx.bad_signatures.fetch_add(1, Ordering::Relaxed);
            return StatusCode::UNAUTHORIZED;
        }
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body) {
            if let Some(id) = v["reply_to"].as_str() {
                rx.answered
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(id.to_string());
            }
        }
        rx.accepted.fetch_add(1, Ordering::Relaxed);
        StatusCode::OK
    }

    async fn serve(app: axum::Router, stop: Shutdown) -> anyhow::Result<String> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move { stop.cancelled().await })
                .await;
        });
        Ok(base)
    }

    fn config(data: &Path, callback: &str, retry_base_ms: u64) -> anyhow::Result<Config> {
        let text = format!(
            "[bot]\ndata_dir = {:?}\nfaq_dir = {:?}\n[hours]\nopen = \"00:00-24:00\"\npeak = []\n\
             [limits]\nmessages_per_minute = 1000000\nmessage_burst = 1000\n\
             [outbox]\nretry_base_ms = {retry_base_ms}\nretry_max_secs = 600\n\
             [[webhooks]]\nchannel = \"forum\"\nsecret = \"{SECRET}\"\ncallback_url = \"{callback}\"\n",
            data.display().to_string(),
            concat!(env!("CARGO_MANIFEST_DIR"), "/faq"),
        );
        Ok(Config::parse(&text, "load.toml")?)
    }

    struct Running {
        engine: Engine,
        shutdown: Shutdown,
        runner: tokio::task::JoinHandle<()>,
        base: Option<String>,
    }

    async fn start(config: &Config, with_router: bool) -> anyhow::Result<Running> {
        let faq = supportbot::faq::Faq::load_or_builtin(&config.bot.faq_dir)?;
        let engine = Engine::open(config, faq).await?;
        let hooks = supportbot::channels::webhook::start(config, &engine)?;
        let shutdown = Shutdown::new();
        let base = if with_router {
            Some(serve(hooks.router, shutdown.clone()).await?)
        } else {
            None
        };
        let runner = {
            let (engine, shutdown) = (engine.clone(), shutdown.clone());
            tokio::spawn(async move {
                if let Err(err) = engine.run(shutdown).await {
                    eprintln!("engine failed: {err}");
                }
            })
        };
        Ok(Running {
            engine,
            shutdown,
            runner,
            base,
        })
    }

    impl Running {
        async fn stop(self) {
            self.shutdown.cancel();
            let _ = self.runner.await;
            // Let the HTTP server drop its handle on the engine, so the data directory is released.
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn wait_for(what: &str, mut done: impl FnMut() -> bool) -> anyhow::Result<()> {
        let deadline = Instant::now() + WAIT;
        while !done() {
            if Instant::now() > deadline {
                bail!("gave up waiting for {what}");
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        Ok(())
    }

    fn percentile(sorted: &[Duration], p: f64) -> Duration {
        sorted[((sorted.len() - 1) as f64 * p).round() as usize]
    }

    fn event(chat: &str, id: &str, text: &str) -> String {
        serde_json::json!({"platform": "forum", "chat": chat, "user": chat, "name": "load", "id": id, "text": text})
            .to_string()
    }

    /// Runs both measurements and prints the figures.
    pub async fn run(args: Args) -> anyhow::Result<()> {
        let rx = Arc::new(Receiver::default());
        let app = axum::Router::new()
            .route("/cb", post(receive))
            .with_state(rx.clone());
        let rx_base = serve(app, Shutdown::new()).await?;
        let callback = format!("{rx_base}/cb");

        // 1. Inbound end to end.
        let dir = tempfile::tempdir()?;
        let bot = start(&config(dir.path(), &callback, 1000)?, true).await?;
        let url = format!("{}/webhook/forum", bot.base.clone().context("router")?);
        let bodies: Arc<Vec<String>> = Arc::new(
            (0..args.requests)
                .map(|i| {
                    event(
                        &format!("c{}", i % 256),
                        &format!("m{i}"),
                        QUESTIONS[i % QUESTIONS.len()],
                    )
                })
                .collect(),
        );
        let next = Arc::new(AtomicUsize::new(0));
        let client = reqwest::Client::new();
        let started = Instant::now();
        let mut workers = Vec::new();
        for _ in 0..args.concurrency {
            let (bodies, next, client, url) =
                (bodies.clone(), next.clone(), client.clone(), url.clone());
            workers.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(body) = bodies.get(i) else { break };
                    let ts = unix_now();
                    let t = Instant::now();
                    let resp = client
                        .post(&url)
                        .header("X-Supportbot-Timestamp", &ts)
                        .header("X-Supportbot-Signature", sign(&ts, body.as_bytes()))
                        .body(body.clone())
                        .send()
                        .await?;
                    if resp.status() != StatusCode::OK {
                        bail!("request {i} answered {}", resp.status());
                    }
                    latencies.push(t.elapsed());
                }
                Ok::<_, anyhow::Error>(latencies)
            }));
        }
        let mut latencies = Vec::new();
        for w in workers {
            latencies.extend(w.await??);
        }
        let acked = started.elapsed();
        let n = args.requests;
        wait_for("every request answered", || {
            rx.answered.lock().map(|a| a.len() >= n).unwrap_or(false)
        })
        .await?;
        let answered = started.elapsed();
        latencies.sort();
        println!(
            "inbound: {n} signed requests, {} concurrent clients, 256 chats",
            args.concurrency
        );
        println!(
            "  acknowledged (verified + durable): {:.0} req/s   ack latency p50 {:.2} ms, p99 {:.2} ms",
            n as f64 / acked.as_secs_f64(),
            percentile(&latencies, 0.5).as_secs_f64() * 1e3,
            percentile(&latencies, 0.99).as_secs_f64() * 1e3
        );
        println!(
            "  end to end (answer delivered to the callback): {:.0} req/s ({:.2} s for all)",
            n as f64 / answered.as_secs_f64(),
            answered.as_secs_f64()
        );
        bot.stop().await;

        // 2. Outbox drain after a restart.
        for chats in [1usize, 64] {
            let dir = tempfile::tempdir()?;
            // A very long backoff: nothing is retried until the restart.
            let refusing = config(dir.path(), &callback, 600_000)?;
            rx.refuse.store(true, Ordering::Relaxed);
            let bot = start(&refusing, false).await?;
            for i in 0..args.backlog {
                let msg: Inbound = serde_json::from_str(&event(
                    &format!("b{}", i % chats),
                    &format!("b{i}"),
                    QUESTIONS[i % QUESTIONS.len()],
                ))?;
                bot.engine.accept(msg).await?;
            }
            let mut last = (0, Instant::now());
            wait_for("the backlog to build", || {
                let len = bot.engine.outbox_list().len();
                if len != last.0 {
                    last = (len, Instant::now());
                }
                len >= args.backlog && last.1.elapsed() > Duration::from_millis(500)
            })
            .await?;
            let items = bot.engine.outbox_list().len();
            bot.stop().await;
            rx.refuse.store(false, Ordering::Relaxed);
            let before = rx.accepted.load(Ordering::Relaxed);
            let t = Instant::now();
            let bot = start(&refusing, false).await?;
            wait_for("the backlog to drain", || {
                bot.engine.outbox_list().is_empty()
            })
            .await?;
            let took = t.elapsed();
            let delivered = rx.accepted.load(Ordering::Relaxed) - before;
            println!(
                "outbox: {items} recovered items over {chats} chat(s) drained in {:.2} s: {:.0} deliveries/s ({delivered} accepted)",
                took.as_secs_f64(),
                items as f64 / took.as_secs_f64()
            );
            bot.stop().await;
        }
        let bad = rx.bad_signatures.load(Ordering::Relaxed);
        if bad > 0 {
            bail!("{bad} callbacks had a bad signature");
        }
        Ok(())
    }
}
