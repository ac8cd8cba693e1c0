//! `supportbot ask`: one stateless FAQ decision for a text, or one per line of stdin.

use std::io::{BufRead, BufWriter, Write};
use std::path::PathBuf;

use super::{load_config, load_faq, CliError, CliResult};
use crate::faq::{Action, Decision};

/// Runs `ask`: with TEXT one decision, else one per stdin line; `json` prints the full decision object.
pub fn run(config: Option<PathBuf>, json: bool, explain: bool, text: Option<String>) -> CliResult {
    let faq = load_faq(&load_config(config.as_deref())?)?;
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let write_err = |e: std::io::Error| CliError::runtime(format!("cannot write the answer: {e}"));
    match text {
        Some(text) => {
            if explain {
                print_explanation(&faq, &text);
            }
            let decision = faq.decide(&text);
            if json {
                writeln!(out, "{}", to_json(&decision)?).map_err(write_err)?;
            } else {
                writeln!(out, "{}", human(&decision)).map_err(write_err)?;
            }
        }
        None => {
            for line in std::io::stdin().lock().lines() {
                let line =
                    line.map_err(|e| CliError::runtime(format!("cannot read stdin: {e}")))?;
                if explain {
                    print_explanation(&faq, &line);
                }
                let decision = faq.decide(&line);
                let printed = if json {
                    to_json(&decision)?
                } else {
                    one_line(&decision)
                };
                writeln!(out, "{printed}").map_err(write_err)?;
            }
        }
    }
    out.flush().map_err(write_err)
}

/// Lists the terms of a query on stderr: what a support person looks at when a question goes the wrong way.
fn print_explanation(faq: &crate::faq::Faq, query: &str) {
    if let Some(read_as) = faq.corrected(query) {
        eprintln!("read as {read_as:?} (typos put right)");
    }
    if let Some(product) = faq.other_product(query) {
        eprintln!("names {product:?}, another product the FAQ never mentions: no entry answers it");
    }
    if let Some(request) = faq.off_topic(query) {
        eprintln!("asks {request:?}, a request for a general assistant the FAQ never mentions: no entry answers it");
    }
    if let Some((entry, sure)) = faq.handoff_entry(query) {
        let at = format!("{} ({}:{})", entry.id, entry.file, entry.line);
        if sure {
            eprintln!(
                "closest to handoff entry {at}: the FAQ leaves this to a person of category {}",
                entry.category
            );
        } else {
            eprintln!("closest to handoff entry {at}, but not surely: no entry answers it");
        }
    }
    eprintln!("terms of {query:?} (weight, known to the FAQ):");
    for (term, weight, known) in faq.explain(query) {
        eprintln!(
            "  {term:<16} {weight:>6.2}  {}",
            if known { "known" } else { "unknown" }
        );
    }
}

fn to_json(decision: &Decision) -> Result<String, CliError> {
    serde_json::to_string(decision).map_err(CliError::runtime)
}

/// A readable decision for one question on the terminal.
fn human(d: &Decision) -> String {
    match d.action {
        Action::Answer => format!(
            "{}\n\n[answer: {} ({}), score {:.2}]",
            d.answer.as_deref().unwrap_or_default(),
            d.faq.as_deref().unwrap_or_default(),
            d.category.as_deref().unwrap_or_default(),
            d.score
        ),
        Action::Choose => {
            let mut s = String::from("[choose] Did you mean:\n");
            for c in &d.candidates {
                s.push_str(&format!("  - {} ({}, {:.2})\n", c.question, c.faq, c.score));
            }
            s.trim_end().to_string()
        }
        Action::Handoff => format!(
            "[handoff] score {:.2}: this goes to a human operator",
            d.score
        ),
        Action::Smalltalk => format!("{}\n\n[smalltalk]", d.answer.as_deref().unwrap_or_default()),
    }
}

/// One tab-separated line per query in stdin mode: action, entry, score, query.
fn one_line(d: &Decision) -> String {
    let action = match d.action {
        Action::Answer => "answer",
        Action::Choose => "choose",
        Action::Handoff => "handoff",
        Action::Smalltalk => "smalltalk",
    };
    format!(
        "{action}\t{}\t{:.3}\t{}",
        d.faq.as_deref().unwrap_or("-"),
        d.score,
        d.query.replace(['\t', '\n'], " ")
    )
}
