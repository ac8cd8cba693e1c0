//! `supportbot outbox list|retry [ID]|drop ID`: the undelivered messages of a data directory. With the bot
//! stopped the store is read and changed directly; while `serve` holds the directory the request goes to the
//! running bot (see [`control`]). `ID` is an envelope id or an outbox sequence number, as `list` prints them.

pub(super) mod control;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use self::control::{names, Request, Response};
use super::{existing_data_dir, load_config, CliError, CliResult};
use crate::outbox::ItemInfo;
use crate::store::records::OutboxRecord;
use crate::store::{Store, StoreError};

/// How long to wait for a running bot's answer.
const ANSWER_WAIT: Duration = Duration::from_secs(10);

/// The data directory, opened directly or, when a running bot holds it, its path for a control request.
enum Target {
    Offline(Store),
    Running(PathBuf),
}

/// The store: a PostgreSQL database is read and changed directly (several processes share it), a sled data
/// directory directly when no bot holds it.
async fn open(config: Option<PathBuf>, data: Option<PathBuf>) -> Result<Target, CliError> {
    let config = load_config(config.as_deref())?;
    if let Some(store) = super::connect_configured(&config).await? {
        if data.is_some() {
            return Err(CliError::usage(
                "--data names a sled data directory, but [store] backend is \"postgres\"",
            ));
        }
        return Ok(Target::Offline(store));
    }
    let dir = existing_data_dir(&config, data)?;
    match Store::open(&dir, config.store.cache_mb) {
        Ok(store) => Ok(Target::Offline(store)),
        Err(StoreError::Locked(_)) => Ok(Target::Running(dir)),
        Err(err) => Err(CliError::runtime(err)),
    }
}

fn ask_running(dir: &std::path::Path, request: Request) -> Result<Response, CliError> {
    let response = control::request(dir, &request, ANSWER_WAIT).map_err(CliError::runtime)?;
    if response.ok {
        Ok(response)
    } else {
        Err(CliError::runtime(response.message))
    }
}

/// One stored undelivered message.
async fn stored_record(store: &Store, seq: u64) -> Result<Option<OutboxRecord>, CliError> {
    let all = store.outbox().await.map_err(CliError::runtime)?;
    Ok(all.into_iter().find(|r| r.seq == seq))
}

/// The stored undelivered messages of a stopped bot, in sequence order.
async fn stored_items(store: &Store) -> Result<Vec<ItemInfo>, CliError> {
    let mut items = Vec::new();
    for rec in store.outbox().await.map_err(CliError::runtime)? {
        items.push(ItemInfo {
            seq: rec.seq,
            id: rec.envelope.id,
            destination: rec.envelope.destination,
            order_key: rec.envelope.order_key,
            created_ms: rec.created_ms,
            attempts: 0,
            last_error: None,
        });
    }
    items.sort_by_key(|i| i.seq);
    Ok(items)
}

/// `outbox list`: one JSON object a line (seq, id, destination, order_key, created_ms, attempts, last_error),
/// then the backlog per destination on stderr.
pub async fn list(config: Option<PathBuf>, data: Option<PathBuf>) -> CliResult {
    let rows: Vec<serde_json::Value> = match open(config, data).await? {
        Target::Offline(store) => stored_items(&store)
            .await?
            .iter()
            .map(|i| serde_json::to_value(i).map_err(CliError::runtime))
            .collect::<Result<_, _>>()?,
        Target::Running(dir) => ask_running(&dir, Request::List)?.items,
    };
    let mut backlog: BTreeMap<String, usize> = BTreeMap::new();
    for row in &rows {
        println!("{row}");
        let destination = row
            .get("destination")
            .and_then(|d| d.as_str())
            .unwrap_or("?");
        *backlog.entry(destination.to_string()).or_default() += 1;
    }
    if backlog.is_empty() {
        eprintln!("the outbox is empty");
    } else {
        let parts: Vec<String> = backlog.iter().map(|(d, n)| format!("{d}: {n}")).collect();
        eprintln!("{} undelivered ({})", rows.len(), parts.join(", "));
    }
    Ok(())
}

/// `outbox retry [ID]`: with the bot running, every waiting message is tried again now. With the bot
/// stopped, the messages (or the one named) get a fresh give-up time; they are sent as soon as `serve` starts.
pub async fn retry(
    config: Option<PathBuf>,
    data: Option<PathBuf>,
    id: Option<String>,
) -> CliResult {
    match open(config, data).await? {
        Target::Running(dir) => {
            println!("{}", ask_running(&dir, Request::Retry { id })?.message);
            Ok(())
        }
        Target::Offline(store) => {
            let now = chrono::Utc::now().timestamp_millis();
            let mut count = 0;
            for item in stored_items(&store).await? {
                if id.as_deref().is_some_and(|id| !names(&item, id)) {
                    continue;
                }
                let Some(mut rec) = stored_record(&store, item.seq).await? else {
                    continue;
                };
                rec.created_ms = now;
                store.update_outbox(&rec).await.map_err(CliError::runtime)?;
                count += 1;
            }
            if let (Some(id), 0) = (&id, count) {
                return Err(CliError::runtime(format!(
                    "there is no undelivered message {id}"
                )));
            }
            store.flush().await.map_err(CliError::runtime)?;
            println!(
                "{count} undelivered message(s) get a fresh give-up time and are sent when supportbot serve starts"
            );
            Ok(())
        }
    }
}

/// `outbox drop ID`: the message is removed for good and never sent.
pub async fn drop(config: Option<PathBuf>, data: Option<PathBuf>, id: &str) -> CliResult {
    match open(config, data).await? {
        Target::Running(dir) => {
            println!(
                "{}",
                ask_running(&dir, Request::Drop { id: id.to_string() })?.message
            );
            Ok(())
        }
        Target::Offline(store) => {
            let item = stored_items(&store)
                .await?
                .into_iter()
                .find(|i| names(i, id))
                .ok_or_else(|| {
                    CliError::runtime(format!("there is no undelivered message {id}"))
                })?;
            store
                .complete_outbox(item.seq)
                .await
                .map_err(CliError::runtime)?;
            store.flush().await.map_err(CliError::runtime)?;
            println!("dropped {} (to {})", item.id, item.destination);
            Ok(())
        }
    }
}
