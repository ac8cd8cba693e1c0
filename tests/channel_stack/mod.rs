//! The bot as `serve` wires it for one channel's end-to-end tests: the real engine on sled in a temporary
//! directory, the channel under test, the Telegram channel when the config has one (against the fake Bot API),
//! and the real web listener serving their routes.
#![allow(dead_code)]

use std::time::Duration;

use supportbot::channels::{telegram, web};
use supportbot::config::Config;
use supportbot::engine::Engine;
use supportbot::faq::Faq;
use supportbot_chat::Shutdown;
use tokio::task::JoinHandle;

/// What a channel's `start` gives the stack: its routes for the web listener and its tasks.
pub type Started = (web::Router, Vec<JoinHandle<()>>);

/// A running bot.
pub struct Stack {
    pub engine: Engine,
    pub shutdown: Shutdown,
    tasks: Vec<JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Stack {
    /// Parses `config_text`, opens the engine in a fresh data directory, starts the channel under test with
    /// `channel`, Telegram when `[telegram]` is configured, the web listener, and the engine.
    pub async fn start(
        config_text: &str,
        channel: impl FnOnce(&Config, &Engine, Shutdown) -> Started,
    ) -> Stack {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::parse(config_text, "e2e.toml").unwrap();
        config.bot.data_dir = dir.path().join("data");
        let engine = Engine::open(&config, Faq::builtin()).await.unwrap();
        let shutdown = Shutdown::new();
        let (mut routes, mut tasks) = channel(&config, &engine, shutdown.clone());
        if config.telegram.is_some() {
            let tg = telegram::start(&config, &engine, shutdown.clone())
                .await
                .expect("telegram starts");
            routes = routes.merge(tg.router);
            tasks.extend(tg.tasks);
        }
        let web = web::start(&config, &engine, routes, shutdown.clone())
            .await
            .expect("web starts");
        tasks.push(tokio::spawn(async move {
            let _ = web.task.await;
        }));
        let runner = {
            let (engine, shutdown) = (engine.clone(), shutdown.clone());
            tokio::spawn(async move { engine.run(shutdown).await.unwrap() })
        };
        tasks.push(runner);
        Stack {
            engine,
            shutdown,
            tasks,
            _dir: dir,
        }
    }

    /// Stops everything and waits (at most `wait` per task).
    pub async fn stop(self, wait: Duration) {
        self.shutdown.cancel();
        for t in self.tasks {
            let _ = tokio::time::timeout(wait, t).await;
        }
    }
}
