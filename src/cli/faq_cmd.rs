//! `supportbot faq check|lint|export`: validating FAQ files, warning about confusable entries, and printing
//! the knowledge base as JSON.

use std::path::PathBuf;

use super::{CliError, CliResult};
use crate::faq::Faq;

const DEFAULT_DIR: &str = "faq";

/// `faq check [DIR]`: loads and indexes every file; errors come out as `file:line: problem` (exit 2).
pub fn check(dir: Option<PathBuf>) -> CliResult {
    let dir = dir.unwrap_or_else(|| PathBuf::from(DEFAULT_DIR));
    let faq = Faq::load_dir(&dir).map_err(CliError::usage)?;
    let conflicts = faq.conflicts();
    if !conflicts.is_empty() {
        let lines: Vec<String> = conflicts
            .iter()
            .map(|(e, phrase)| {
                format!(
                    "{}:{}: entry {} can never be answered: its questions contain the always-human phrase {phrase}",
                    e.file, e.line, e.id
                )
            })
            .collect();
        return Err(CliError::usage(lines.join("\n")));
    }
    let entries = faq.entries();
    let mut categories: Vec<&str> = entries.iter().map(|e| e.category.as_str()).collect();
    categories.sort_unstable();
    categories.dedup();
    println!(
        "{}: ok, {} entries in {} categories ({})",
        dir.display(),
        entries.len(),
        categories.len(),
        categories.join(", ")
    );
    Ok(())
}

/// `faq lint [DIR] [--data DIR | --config FILE]`: warnings about entries users will confuse, one a line, and, with
/// a data directory, the unanswered questions close to an entry (the variants to add); exit 0 whatever it finds.
pub async fn lint(
    dir: Option<PathBuf>,
    data: Option<PathBuf>,
    config: Option<PathBuf>,
) -> CliResult {
    let dir = dir.unwrap_or_else(|| PathBuf::from(DEFAULT_DIR));
    let faq = Faq::load_dir(&dir).map_err(CliError::usage)?;
    let report = faq.lint();
    for warning in &report.warnings {
        println!("{warning}");
    }
    if data.is_some() || config.is_some() {
        let store = super::cases_cmd::open_store(config, data).await?;
        let asked = crate::cases::stats::unanswered(&store)
            .await
            .map_err(CliError::runtime)?;
        for line in close_to_an_entry(&faq, &asked) {
            println!("{line}");
        }
    }
    println!("{}", report.summary);
    Ok(())
}

/// Share of the answer bar an unanswered question's best entry must reach to be reported as close to it.
const CLOSE_SHARE: f32 = 0.6;

/// Unanswered questions whose best entry comes near the answer bar: each one may be a question variant that entry
/// is missing (support staff decide; an off-topic question can come near too).
fn close_to_an_entry(faq: &Faq, asked: &[crate::cases::stats::Unanswered]) -> Vec<String> {
    let (bars, _) = faq.calibration();
    let mut lines = Vec::new();
    for question in asked {
        let decision = faq.decide(&question.question);
        let Some(best) = decision.candidates.first() else {
            continue;
        };
        if decision.confidence < bars.answer * CLOSE_SHARE {
            continue;
        }
        if let Some(entry) = faq.entry(&best.faq) {
            lines.push(format!(
                "{}:{}: unanswered question asked {} time(s) is close to entry {} (confidence {:.2}, answer bar {:.2}): \
                 add it to its questions if it means the same: {:?}",
                entry.file, entry.line, question.count, entry.id, decision.confidence, bars.answer, question.question
            ));
        }
    }
    lines
}

/// `faq export [DIR]`: the whole knowledge base as one JSON array (the built-in FAQ when DIR is missing).
pub fn export(dir: Option<PathBuf>) -> CliResult {
    let faq = match dir {
        Some(dir) => Faq::load_dir(&dir),
        None => Faq::load_or_builtin(std::path::Path::new(DEFAULT_DIR)),
    }
    .map_err(CliError::usage)?;
    let json = serde_json::to_string_pretty(faq.entries()).map_err(CliError::runtime)?;
    println!("{json}");
    Ok(())
}
