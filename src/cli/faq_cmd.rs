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

/// `faq lint [DIR]`: warnings about entries users will confuse, one a line; exit 0 whatever it finds.
pub fn lint(dir: Option<PathBuf>) -> CliResult {
    let dir = dir.unwrap_or_else(|| PathBuf::from(DEFAULT_DIR));
    let faq = Faq::load_dir(&dir).map_err(CliError::usage)?;
    let report = faq.lint();
    for warning in &report.warnings {
        println!("{warning}");
    }
    println!("{}", report.summary);
    Ok(())
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
