//! Answer quality on the development set (tests/eval), scored as tests/eval/README.md says, with the real
//! binary's `ask --json` in stdin mode over the FAQ shipped in `faq/`.

use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

fn ask_batch(queries: &[String]) -> Vec<Value> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_supportbot"))
        .args(["ask", "--json"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start supportbot ask");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = queries.join("\n") + "\n";
    let writer =
        std::thread::spawn(move || stdin.write_all(input.as_bytes()).expect("write queries"));
    let output = child.wait_with_output().expect("ask output");
    writer.join().expect("writer");
    assert!(
        output.status.success(),
        "ask failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<Value> = String::from_utf8(output.stdout)
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
        .collect();
    assert_eq!(lines.len(), queries.len(), "one result per query");
    lines
}

fn has_chinese(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

#[test]
fn dev_set_quality_meets_the_bar() {
    let root = env!("CARGO_MANIFEST_DIR");
    let topics: HashMap<String, Value> = serde_json::from_str(
        &std::fs::read_to_string(format!("{root}/tests/eval/topics.json")).unwrap(),
    )
    .unwrap();
    let rows: Vec<Value> = std::fs::read_to_string(format!("{root}/tests/eval/queries_dev.jsonl"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();

    // 1. Each topic's entry is what `ask` answers for its canonical question.
    let names: Vec<String> = topics.keys().cloned().collect();
    let canon: Vec<String> = names
        .iter()
        .map(|t| topics[t]["canonical"].as_str().unwrap().to_string())
        .collect();
    let canon_results = ask_batch(&canon);
    let mut entry_of: HashMap<String, String> = HashMap::new();
    for (topic, r) in names.iter().zip(&canon_results) {
        assert_eq!(
            r["action"], "answer",
            "canonical question of {topic} is not answered: {r}"
        );
        entry_of.insert(topic.clone(), r["faq"].as_str().unwrap().to_string());
    }

    // 2./3. Score every query.
    let queries: Vec<String> = rows
        .iter()
        .map(|r| r["q"].as_str().unwrap().to_string())
        .collect();
    let results = ask_batch(&queries);
    let (mut ans_ok, mut ans_n, mut ho_ok, mut ho_n) = (0, 0, 0, 0);
    let mut misses = Vec::new();
    for (row, r) in rows.iter().zip(&results) {
        let q = row["q"].as_str().unwrap();
        let right = if row.get("expect").and_then(Value::as_str) == Some("handoff") {
            ho_n += 1;
            let ok = r["action"] == "handoff";
            ho_ok += ok as usize;
            ok
        } else {
            ans_n += 1;
            let topic = row["topic"].as_str().unwrap();
            let answer = r["answer"].as_str().unwrap_or_default();
            let facts = topics[topic]["facts"].as_array().unwrap();
            let ok = r["action"] == "answer"
                && r["faq"].as_str() == Some(entry_of[topic].as_str())
                && facts.iter().any(|f| answer.contains(f.as_str().unwrap()))
                && has_chinese(answer) == has_chinese(q);
            ans_ok += ok as usize;
            ok
        };
        if !right {
            misses.push(format!(
                "  {q} -> {} {} {}",
                r["action"], r["faq"], r["score"]
            ));
        }
    }
    let overall = (ans_ok + ho_ok) as f64 / (ans_n + ho_n) as f64;
    let answerable = ans_ok as f64 / ans_n as f64;
    let handoff = ho_ok as f64 / ho_n as f64;
    println!("overall {overall:.3}  answerable {answerable:.3} ({ans_ok}/{ans_n})  handoff {handoff:.3} ({ho_ok}/{ho_n})");
    println!("misses:\n{}", misses.join("\n"));
    assert!(
        overall >= 0.92 && answerable >= 0.92 && handoff >= 0.90,
        "below the quality bar"
    );
}
