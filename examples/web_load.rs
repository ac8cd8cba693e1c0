//! Load generator for the web channel (bounded; stops by itself).
//!
//! It starts itself again as the server (the real engine on a sled store in a temporary directory, the real web
//! channel on 127.0.0.1:0), so the server's memory is measured apart from the clients'. Then:
//! 1. paced: `--sessions` (1,000) chat sessions at once, each asking `--questions` (20) FAQ questions, one every
//!    `--interval-ms` (2,000; sessions spread evenly over the interval): the round trip, send to answer
//!    (p50 / p99 / max), at that offered load;
//! 2. saturated: the same sessions asking as fast as they can (the next question when the answer to the last
//!    arrived): the most messages per second, and the round trip when everyone waits in line;
//! 3. `--idle` (10,000) more sessions opened and held: the server's resident memory (RSS) with them open.
//!
//! `cargo run --release --example web_load [-- --sessions N --questions K --interval-ms T --idle M]`
//! (`--sessions 0` measures only the idle sessions, on a freshly started server.)
//! With `--echo` the server's core is a stub that answers "echo: <text>" at once, which measures the web
//! channel alone (sockets, sessions, history files, the adapter) without the engine.
//! The per-session rate limit is raised for the run (a real visitor sends a few messages a minute).

/// The allocator the `supportbot` binary runs with (this example is also the server it measures).
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[cfg(not(feature = "web"))]
fn main() {
    eprintln!("web_load needs the `web` feature (on by default)");
}

#[cfg(feature = "web")]
fn main() {
    load::main();
}

#[cfg(feature = "web")]
mod load {
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Command, Stdio};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use futures_util::{SinkExt, StreamExt};
    use serde_json::{json, Value};
    use supportbot_chat::Shutdown;
    use tokio::sync::Semaphore;
    use tokio_tungstenite::tungstenite::Message;

    const QUESTIONS: [&str; 8] = [
        "my mail bounced with 554 DT:SPM",
        "发送邮件被退回 554 DT:SPM 怎么办",
        "How do I contact QQ Mail customer service?",
        "账号被盗了无法登录怎么办",
        "I can't set up mail filter rules",
        "附件最大可以多大",
        "which smtp server should I use",
        "企业邮箱有专属客服吗",
    ];
    /// No phase may run longer than this.
    const PHASE_LIMIT: Duration = Duration::from_secs(180);

    type Ws = tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >;

    fn arg(args: &[String], name: &str, default: usize) -> usize {
        args.windows(2)
            .find(|w| w[0] == name)
            .and_then(|w| w[1].parse().ok())
            .unwrap_or(default)
    }

    pub fn main() {
        let args: Vec<String> = std::env::args().collect();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("runtime");
        if args.iter().any(|a| a == "--server") {
            runtime.block_on(server());
        } else if args.iter().any(|a| a == "--echo-server") {
            runtime.block_on(echo::server());
        } else {
            let load = Load {
                sessions: arg(&args, "--sessions", 1000),
                questions: arg(&args, "--questions", 20),
                interval: Duration::from_millis(arg(&args, "--interval-ms", 2000) as u64),
                idle: arg(&args, "--idle", 10_000),
                echo: args.iter().any(|a| a == "--echo"),
            };
            runtime.block_on(driver(load));
        }
    }

    /// Server mode: engine + web channel until stdin closes.
    async fn server() {
        let dir = tempfile::tempdir().expect("temp dir");
        // Every session writes faster than a person would: the engine's per-account rate is lifted like the web
        // channel's own limits.
        let toml = "[hours]\nopen = \"00:00-23:59\"\npeak = []\n[limits]\nmessages_per_minute = 1000000\nmessage_burst = 1000\n[web]\nlisten = \"127.0.0.1:0\"\n\
                    token = \"load-test-operator-token-0123456789\"\nmessages_per_minute = 1000000\nburst = 1000\n\
                    new_sessions_per_ip_per_hour = 1000000\nnew_sessions_per_minute = 1000000\nmax_connections = 100000\nmax_connections_per_ip = 100000\n";
        let mut config = supportbot::config::Config::parse(toml, "load.toml").expect("config");
        config.bot.data_dir = dir.path().join("data");
        let engine = supportbot::engine::Engine::open(&config, supportbot::faq::Faq::builtin())
            .await
            .expect("engine");
        let shutdown = Shutdown::new();
        let router = supportbot::channels::web::Router::new();
        let web = supportbot::channels::web::start(&config, &engine, router, shutdown.clone())
            .await
            .expect("web channel");
        let runner = {
            let (engine, shutdown) = (engine.clone(), shutdown.clone());
            tokio::spawn(async move { engine.run(shutdown).await })
        };
        println!("LISTEN {}", web.addr);
        let _ = std::io::stdout().flush();
        let _ = tokio::task::spawn_blocking(|| {
            let mut sink = String::new();
            while std::io::stdin()
                .read_line(&mut sink)
                .map(|n| n > 0)
                .unwrap_or(false)
            {}
        })
        .await;
        shutdown.cancel();
        let _ = runner.await;
        let _ = web.task.await;
    }

    fn rss_kib(pid: u32) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }

    async fn open_session(url: &str) -> Option<Ws> {
        let (mut ws, _) = tokio_tungstenite::connect_async_with_config(url, None, true)
            .await
            .ok()?;
        loop {
            match tokio::time::timeout(Duration::from_secs(30), ws.next())
                .await
                .ok()??
            {
                Ok(Message::Text(t)) if t.as_str().contains("\"session\"") => return Some(ws),
                Ok(_) => continue,
                Err(_) => return None,
            }
        }
    }

    /// What to run.
    struct Load {
        sessions: usize,
        questions: usize,
        interval: Duration,
        idle: usize,
        echo: bool,
    }

    /// One active session: asks `questions` questions, one every `interval` from `offset` on (or back to back
    /// when `interval` is zero); returns the round trips.
    async fn active(
        url: String,
        index: usize,
        questions: usize,
        offset: Duration,
        interval: Duration,
    ) -> Result<Vec<Duration>, String> {
        let mut ws = open_session(&url).await.ok_or("session did not open")?;
        let mut rtts = Vec::with_capacity(questions);
        let start = tokio::time::Instant::now() + offset;
        for q in 0..questions {
            if !interval.is_zero() {
                tokio::time::sleep_until(start + interval * q as u32).await;
            }
            let id = format!("q{q}");
            let text = QUESTIONS[(index + q) % QUESTIONS.len()];
            let started = Instant::now();
            let frame = json!({"type": "message", "text": text, "id": id}).to_string();
            ws.send(Message::Text(frame.into()))
                .await
                .map_err(|e| e.to_string())?;
            loop {
                let msg = tokio::time::timeout(Duration::from_secs(30), ws.next())
                    .await
                    .map_err(|_| "no answer within 30 s".to_string())?
                    .ok_or("socket closed")?
                    .map_err(|e| e.to_string())?;
                let Message::Text(t) = msg else { continue };
                let v: Value = serde_json::from_str(t.as_str()).map_err(|e| e.to_string())?;
                match v["type"].as_str() {
                    Some("message") if v["reply_to"] == id.as_str() => break,
                    Some("error") => return Err(format!("error frame: {v}")),
                    _ => {}
                }
            }
            rtts.push(started.elapsed());
        }
        let _ = ws.close(None).await;
        Ok(rtts)
    }

    fn percentile(sorted: &[Duration], p: f64) -> Duration {
        if sorted.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
        sorted[rank.clamp(1, sorted.len()) - 1]
    }

    async fn run_active(url: &str, load: &Load, name: &str, interval: Duration) {
        let (sessions, questions) = (load.sessions, load.questions);
        let started = Instant::now();
        let tasks: Vec<_> = (0..sessions)
            .map(|i| {
                let offset = interval * i as u32 / sessions.max(1) as u32;
                tokio::spawn(active(url.to_string(), i, questions, offset, interval))
            })
            .collect();
        let mut rtts = Vec::with_capacity(sessions * questions);
        let mut failures = 0;
        let collect = async {
            for task in tasks {
                match task.await {
                    Ok(Ok(r)) => rtts.extend(r),
                    Ok(Err(e)) => {
                        failures += 1;
                        if failures <= 3 {
                            eprintln!("session failed: {e}");
                        }
                    }
                    Err(e) => eprintln!("task failed: {e}"),
                }
            }
        };
        if tokio::time::timeout(PHASE_LIMIT, collect).await.is_err() {
            eprintln!("the {name} phase hit its time limit");
        }
        let elapsed = started.elapsed();
        rtts.sort();
        let pace = if interval.is_zero() {
            "back to back".to_string()
        } else {
            format!("one every {} ms", interval.as_millis())
        };
        println!(
            "{name}: {sessions} sessions x {questions} questions ({pace}): {} answered in {:.2} s = {:.0} msgs/s; round trip p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {failures} sessions failed",
            rtts.len(),
            elapsed.as_secs_f64(),
            rtts.len() as f64 / elapsed.as_secs_f64(),
            percentile(&rtts, 50.0).as_secs_f64() * 1e3,
            percentile(&rtts, 99.0).as_secs_f64() * 1e3,
            rtts.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
        );
    }

    async fn driver(load: Load) {
        let idle = load.idle;
        let exe = std::env::current_exe().expect("own path");
        let mut child = Command::new(exe)
            .arg(if load.echo {
                "--echo-server"
            } else {
                "--server"
            })
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("server");
        let pid = child.id();
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let addr = loop {
            let line = lines
                .next()
                .expect("server started")
                .expect("server output");
            if let Some(addr) = line.strip_prefix("LISTEN ") {
                break addr.to_string();
            }
        };
        let url = format!("ws://{addr}/ws?lang=en");
        println!(
            "server pid {pid} on {addr}; RSS at start {} KiB",
            rss_kib(pid).unwrap_or(0)
        );

        let phases = [("paced", load.interval), ("saturated", Duration::ZERO)];
        // `--sessions 0` skips the active phases: idle sessions on a freshly started server.
        for (name, interval) in phases.into_iter().filter(|_| load.sessions > 0) {
            run_active(&url, &load, name, interval).await;
            println!(
                "server RSS after the {name} phase: {} KiB",
                rss_kib(pid).unwrap_or(0)
            );
        }

        // Phase 2: idle sessions held open.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let before = rss_kib(pid).unwrap_or(0);
        let gate = Arc::new(Semaphore::new(256));
        let started = Instant::now();
        let opening: Vec<_> = (0..idle)
            .map(|_| {
                let (url, gate) = (url.clone(), gate.clone());
                tokio::spawn(async move {
                    let _permit = gate.acquire_owned().await.ok()?;
                    open_session(&url).await
                })
            })
            .collect();
        let mut held = Vec::with_capacity(idle);
        let open_all = async {
            for task in opening {
                if let Ok(Some(ws)) = task.await {
                    held.push(ws);
                }
            }
        };
        if tokio::time::timeout(PHASE_LIMIT, open_all).await.is_err() {
            eprintln!("phase 2 hit its time limit");
        }
        tokio::time::sleep(Duration::from_secs(3)).await;
        let with_idle = rss_kib(pid).unwrap_or(0);
        println!(
            "idle: {} of {idle} sessions open after {:.1} s; server RSS {} KiB ({:.1} MiB), {} KiB before them, {:.1} KiB per idle session",
            held.len(),
            started.elapsed().as_secs_f64(),
            with_idle,
            with_idle as f64 / 1024.0,
            before,
            (with_idle.saturating_sub(before)) as f64 / held.len().max(1) as f64,
        );
        drop(held);
        drop(child.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(20);
        while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// A core that answers every message at once, to measure the web channel without the engine.
    mod echo {
        use std::sync::{Arc, OnceLock};

        use async_trait::async_trait;
        use supportbot_chat::{
            Accepted, Adapter, AnswerBook, CaseDetail, CaseDirectory, CaseEvent, CaseSummary,
            Delivery, Envelope, Inbound, InboundSink, MetricsSource, Outbound, Shutdown, SinkError,
            StatsPage, SuggestedAnswer,
        };
        use supportbot_web::{Core, WebAdapter, WebChannel, WebSettings};

        struct Echo {
            adapter: OnceLock<Arc<WebAdapter>>,
            events: tokio::sync::broadcast::Sender<CaseEvent>,
        }

        #[async_trait]
        impl InboundSink for Echo {
            async fn accept(&self, m: Inbound) -> Result<Accepted, SinkError> {
                let adapter = self.adapter.get().cloned().ok_or(SinkError::ShuttingDown)?;
                tokio::spawn(async move {
                    let out = Outbound {
                        platform: "web".into(),
                        chat: m.chat.clone(),
                        text: format!("echo: {}", m.text),
                        buttons: vec![],
                        reply_to: Some(m.id.clone()),
                        case: None,
                    };
                    let envelope = Envelope {
                        id: m.id,
                        destination: "web".into(),
                        order_key: m.chat,
                        delivery: Delivery::Message(out),
                    };
                    let _ = adapter.deliver(&envelope).await;
                });
                Ok(Accepted::New)
            }
        }

        #[async_trait]
        impl CaseDirectory for Echo {
            async fn list(&self, _: bool) -> Vec<CaseSummary> {
                Vec::new()
            }
            async fn get(&self, _: &str) -> Option<CaseDetail> {
                None
            }
            fn subscribe(&self) -> tokio::sync::broadcast::Receiver<CaseEvent> {
                self.events.subscribe()
            }
        }

        #[async_trait::async_trait]
        impl MetricsSource for Echo {
            async fn prometheus(&self) -> String {
                String::new()
            }
        }

        impl StatsPage for Echo {
            fn dashboard_html(&self) -> Result<String, String> {
                Err("no dashboard in the load test".into())
            }
        }

        impl AnswerBook for Echo {
            fn answer(&self, _: &str, _: &str) -> Option<SuggestedAnswer> {
                None
            }
            fn teach(&self, _: &str, _: &str, _: &str) -> Result<String, String> {
                Err("no FAQ in the load test".into())
            }
        }

        pub async fn server() {
            let dir = tempfile::tempdir().expect("temp dir");
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("listener");
            let addr = listener.local_addr().expect("address");
            let mut settings = WebSettings::new(
                dir.path(),
                format!("http://{addr}"),
                "load-test-operator-token-0123456789",
            );
            settings.messages_per_minute = 1_000_000;
            settings.burst = 1000;
            settings.limits.new_sessions_per_ip_per_hour = 1_000_000;
            settings.limits.new_sessions_per_minute = 1_000_000;
            settings.limits.max_connections = 100_000;
            settings.limits.max_connections_per_ip = 100_000;
            let echo = Arc::new(Echo {
                adapter: OnceLock::new(),
                events: tokio::sync::broadcast::channel(16).0,
            });
            let shutdown = Shutdown::new();
            let core = Core {
                sink: echo.clone(),
                cases: echo.clone(),
                metrics: echo.clone(),
                answers: echo.clone(),
                stats: echo.clone(),
            };
            let channel = WebChannel::open(settings, core, shutdown.clone()).expect("channel");
            let _ = echo.adapter.set(channel.adapter());
            let task = tokio::spawn(channel.serve(listener, supportbot_web::Router::new()));
            println!("LISTEN {addr}");
            let _ = std::io::Write::flush(&mut std::io::stdout());
            let _ = tokio::task::spawn_blocking(|| {
                let mut sink = String::new();
                while std::io::stdin()
                    .read_line(&mut sink)
                    .map(|n| n > 0)
                    .unwrap_or(false)
                {}
            })
            .await;
            shutdown.cancel();
            let _ = task.await;
        }
    }
}
