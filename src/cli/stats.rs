//! `supportbot stats`: support figures from the store, as one JSON object; with `--html FILE`, the stats
//! dashboard as one self-contained HTML file.

use std::path::PathBuf;

use super::{load_config, load_faq, CliError, CliResult};
use crate::cases::stats;

/// Runs the command.
pub async fn run(
    config: Option<PathBuf>,
    data: Option<PathBuf>,
    html: Option<PathBuf>,
) -> CliResult {
    let config = load_config(config.as_deref())?;
    let store = super::open_store(&config, data).await?;
    let Some(file) = html else {
        let figures = stats::compute(&store).await.map_err(CliError::runtime)?;
        let text = serde_json::to_string_pretty(&figures).map_err(CliError::runtime)?;
        println!("{text}");
        return Ok(());
    };
    let faq = load_faq(&config)?;
    let tz = config.hours.timezone.0;
    let now = chrono::Utc::now().with_timezone(&tz);
    let dashboard = crate::report::gather(&store, &faq, &config.bot.name, tz, now)
        .await
        .map_err(CliError::runtime)?;
    std::fs::write(&file, crate::report::render(&dashboard))
        .map_err(|e| CliError::runtime(format!("cannot write {}: {e}", file.display())))?;
    eprintln!("wrote the stats dashboard to {}", file.display());
    Ok(())
}
