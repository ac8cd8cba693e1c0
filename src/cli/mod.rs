//! The command line: argument parsing (clap) and dispatch to one module per command.

mod ask;
mod cases_cmd;
mod faq_cmd;
mod operator_cmd;
mod outbox_cmd;
mod replay;
mod serve;
mod stats;
mod store_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit code for success.
pub const EXIT_OK: u8 = 0;
/// Exit code for a failure while running.
pub const EXIT_RUNTIME: u8 = 1;
/// Exit code for bad usage, a bad config file or a bad FAQ.
pub const EXIT_USAGE: u8 = 2;

/// A command's failure: its exit code and one clear sentence for the user.
#[derive(Debug)]
pub struct CliError {
    /// Process exit code (1 runtime, 2 usage / config / FAQ).
    pub code: u8,
    /// The message printed to stderr.
    pub message: String,
}

impl CliError {
    /// A bad-usage, config or FAQ error (exit code 2).
    pub fn usage(message: impl std::fmt::Display) -> CliError {
        CliError {
            code: EXIT_USAGE,
            message: message.to_string(),
        }
    }

    /// A runtime failure (exit code 1).
    pub fn runtime(message: impl std::fmt::Display) -> CliError {
        CliError {
            code: EXIT_RUNTIME,
            message: message.to_string(),
        }
    }
}

/// Result of one command.
pub type CliResult = Result<(), CliError>;

#[derive(Parser, Debug)]
#[command(
    name = "supportbot",
    version,
    about = "Customer-support chatbot: answers from an FAQ, hands the rest to human operators"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run every configured channel (web chat and operator inbox by default).
    Serve {
        /// Config file (TOML); every key is optional.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// One FAQ decision for TEXT, or one per line of stdin; no state is kept.
    Ask {
        /// Config file (for `[bot] faq_dir`).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Print one JSON object per query, with the candidates and their scores.
        #[arg(long)]
        json: bool,
        /// Also print the query's search terms, their weights and whether the FAQ knows them (to stderr).
        #[arg(long)]
        explain: bool,
        /// The question; without it, queries are read from stdin, one a line.
        text: Option<String>,
    },
    /// Feed JSON Lines events from stdin through the engine and print every outbound message as JSON.
    Replay {
        /// Config file (TOML).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Data directory (overrides `[bot] data_dir`); state is kept between runs.
        #[arg(long)]
        data: Option<PathBuf>,
    },
    /// Check or export FAQ files.
    Faq {
        #[command(subcommand)]
        action: FaqAction,
    },
    /// Read cases from the store.
    Cases {
        #[command(subcommand)]
        action: CasesAction,
    },
    /// Inspect the outbox: list the backlog, retry now, or drop a message.
    Outbox {
        #[command(subcommand)]
        action: OutboxAction,
    },
    /// Operator accounts: `passwd` hashes an inbox password read from stdin.
    Operator {
        #[command(subcommand)]
        action: OperatorAction,
    },
    /// Create or update the PostgreSQL schema of `[store] url` (or DATABASE_URL) and print its version.
    Migrate {
        /// Config file with `[store] backend = "postgres"`.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Move state between stores: `store copy` copies a sled data directory into an empty PostgreSQL database.
    Store {
        #[command(subcommand)]
        action: StoreAction,
    },
    /// Support figures: deflection, handoffs by team, reply times, ratings, unanswered questions.
    Stats {
        /// Config file (TOML).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Data directory (overrides `[bot] data_dir`).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Write the stats dashboard (charts) to this file as one self-contained HTML page instead.
        #[arg(long)]
        html: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
enum StoreAction {
    /// Copy a sled data directory (serve stopped) into an empty PostgreSQL database, verified by counts.
    Copy {
        /// The sled data directory.
        #[arg(long)]
        from: PathBuf,
        /// The PostgreSQL URL (`postgres://user:password@host:port/database`); else the config's `[store] url`.
        #[arg(long)]
        to: Option<String>,
        /// Config file with `[store] backend = "postgres"` (used without `--to`).
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
enum FaqAction {
    /// Validate FAQ files; errors are printed as `file:line: problem`.
    Check {
        /// FAQ directory (default `faq`).
        dir: Option<PathBuf>,
    },
    /// Warnings for support staff: confusable entries (with scores), entries with too few or too similar
    /// question variants, and the bars the matcher calibrated for this FAQ. Always exits 0 on a valid FAQ.
    Lint {
        /// FAQ directory (default `faq`).
        dir: Option<PathBuf>,
        /// Also check the questions users asked that the bot could not answer, from this data directory.
        #[arg(long)]
        data: Option<PathBuf>,
        /// Config file whose `[bot] data_dir` holds those questions (with `--data` unset).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Print the whole knowledge base as one JSON array.
    Export {
        /// FAQ directory (default `faq`, or the built-in FAQ when it is missing).
        dir: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
enum OperatorAction {
    /// Read a password from stdin and print its hash, for `[[operators]] web_password`.
    Passwd {
        /// The operator's name (only for the hint printed to stderr).
        name: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
enum OutboxAction {
    /// List undelivered messages per destination (JSON Lines).
    List {
        /// Data directory.
        #[arg(long)]
        data: Option<PathBuf>,
        /// Config file (for `[bot] data_dir`).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Make every waiting message (or one) due now.
    Retry {
        /// One message id; all when left out.
        id: Option<String>,
        /// Data directory.
        #[arg(long)]
        data: Option<PathBuf>,
        /// Config file (for `[bot] data_dir`).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Drop one undelivered message.
    Drop {
        /// The message id.
        id: String,
        /// Data directory.
        #[arg(long)]
        data: Option<PathBuf>,
        /// Config file (for `[bot] data_dir`).
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
enum CasesAction {
    /// List cases (JSON Lines).
    List {
        /// Data directory.
        #[arg(long)]
        data: Option<PathBuf>,
        /// Config file (for `[bot] data_dir`).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Show one case with its transcript and history (JSON).
    Show {
        /// The case number (`C-1001` or `1001`).
        id: String,
        /// Data directory.
        #[arg(long)]
        data: Option<PathBuf>,
        /// Config file (for `[bot] data_dir`).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Export every case with its transcript (one JSON array).
    Export {
        /// Data directory.
        #[arg(long)]
        data: Option<PathBuf>,
        /// Config file (for `[bot] data_dir`).
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

/// Parses the command line, runs the command and turns its outcome into an exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() {
                EXIT_USAGE
            } else {
                EXIT_OK
            });
        }
    };
    let result = match cli.command {
        Command::Serve { config } => serve::run(config),
        Command::Ask {
            config,
            json,
            explain,
            text,
        } => ask::run(config, json, explain, text),
        Command::Replay { config, data } => replay::run(config, data),
        Command::Faq {
            action: FaqAction::Check { dir },
        } => faq_cmd::check(dir),
        Command::Faq {
            action: FaqAction::Lint { dir, data, config },
        } => block_on(faq_cmd::lint(dir, data, config)),
        Command::Faq {
            action: FaqAction::Export { dir },
        } => faq_cmd::export(dir),
        Command::Cases { action } => match action {
            CasesAction::List { data, config } => block_on(cases_cmd::list(config, data)),
            CasesAction::Show { id, data, config } => block_on(cases_cmd::show(config, data, &id)),
            CasesAction::Export { data, config } => block_on(cases_cmd::export(config, data)),
        },
        Command::Stats { config, data, html } => block_on(stats::run(config, data, html)),
        Command::Migrate { config } => block_on(store_cmd::migrate(config)),
        Command::Store {
            action: StoreAction::Copy { from, to, config },
        } => block_on(store_cmd::copy(from, to, config)),
        Command::Operator {
            action: OperatorAction::Passwd { name },
        } => operator_cmd::passwd(name),
        Command::Outbox { action } => match action {
            OutboxAction::List { data, config } => block_on(outbox_cmd::list(config, data)),
            OutboxAction::Retry { id, data, config } => {
                block_on(outbox_cmd::retry(config, data, id))
            }
            OutboxAction::Drop { id, data, config } => {
                block_on(outbox_cmd::drop(config, data, &id))
            }
        },
    };
    match result {
        Ok(()) => ExitCode::from(EXIT_OK),
        Err(err) => {
            eprintln!("{}", err.message);
            ExitCode::from(err.code)
        }
    }
}

/// Runs a command that reads the store (its interface is async) to completion.
fn block_on(command: impl std::future::Future<Output = CliResult>) -> CliResult {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CliError::runtime)?
        .block_on(command)
}

/// The config file (defaults when none is given); a bad file is a usage error (exit 2).
pub(crate) fn load_config(
    config: Option<&std::path::Path>,
) -> Result<crate::config::Config, CliError> {
    crate::config::Config::load(config).map_err(CliError::usage)
}

/// The PostgreSQL store when `[store] backend = "postgres"` (connected, its schema brought up to date); `None`
/// for the sled store, which the caller opens from its data directory. Failing to connect is a runtime error
/// (exit 1) naming the database and the problem.
pub(crate) async fn connect_configured(
    config: &crate::config::Config,
) -> Result<Option<crate::store::Store>, CliError> {
    use crate::config::StoreBackend;
    match (config.store.backend, &config.store.url) {
        (StoreBackend::Postgres, Some(url)) => crate::store::Store::connect(url)
            .await
            .map(Some)
            .map_err(CliError::runtime),
        (StoreBackend::Postgres, None) => Err(CliError::usage(
            "[store] backend = \"postgres\" needs `url` (or DATABASE_URL)",
        )),
        (StoreBackend::Sled, _) => Ok(None),
    }
}

/// The store a reading command uses: the configured PostgreSQL database, else the sled store of an existing data
/// directory (`--data`, else `[bot] data_dir`).
pub(crate) async fn open_store(
    config: &crate::config::Config,
    data: Option<PathBuf>,
) -> Result<crate::store::Store, CliError> {
    if let Some(store) = connect_configured(config).await? {
        if data.is_some() {
            return Err(CliError::usage(
                "--data names a sled data directory, but [store] backend is \"postgres\"",
            ));
        }
        return Ok(store);
    }
    let dir = existing_data_dir(config, data)?;
    crate::store::Store::open(&dir, config.store.cache_mb).map_err(CliError::runtime)
}

/// The knowledge base for commands that answer: `[bot] faq_dir` (default `faq`), or the FAQ built into the
/// binary when that directory does not exist.
pub(crate) fn load_faq(config: &crate::config::Config) -> Result<crate::faq::Faq, CliError> {
    crate::faq::Faq::load_or_builtin(&config.bot.faq_dir).map_err(CliError::usage)
}

/// An existing data directory: `--data`, else `[bot] data_dir`.
pub(crate) fn existing_data_dir(
    config: &crate::config::Config,
    data: Option<PathBuf>,
) -> Result<PathBuf, CliError> {
    let dir = data.unwrap_or_else(|| config.bot.data_dir.clone());
    if !dir.is_dir() {
        return Err(CliError::runtime(format!(
            "the data directory {} does not exist",
            dir.display()
        )));
    }
    Ok(dir)
}
