//! Answer quality, scored as tests/eval/README.md says, with the real binary's `ask --json` in stdin mode:
//! the development set over the FAQ shipped in `faq/`, and each knowledge base of another product in
//! `tests/eval/<name>/` (its `faq.toml` beside the project's general `faq/lexicon.toml`, copied unchanged, as a
//! team adopting the bot would do).

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn ask_batch(config: Option<&Path>, queries: &[String]) -> Vec<Value> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_supportbot"));
    cmd.arg("ask").arg("--json");
    if let Some(config) = config {
        cmd.arg("--config").arg(config);
    }
    let mut child = cmd
        .current_dir(ROOT)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
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

/// The language a text is written in: Japanese when it has kana, Chinese when it has Chinese characters,
/// English otherwise.
fn language(text: &str) -> &'static str {
    if text
        .chars()
        .any(|c| ('\u{3041}'..='\u{30fa}').contains(&c) || c == 'ー')
    {
        "ja"
    } else if text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)) {
        "zh"
    } else {
        "en"
    }
}

/// Whether `answer` is in the language of `query`. An English answer may name something by its Chinese name (a
/// team's app, "the 星辰服务 App"): up to three Chinese characters, or one in twenty, as the scoring rules allow.
fn in_language_of(answer: &str, query: &str) -> bool {
    match language(query) {
        "en" => {
            let chinese = answer
                .chars()
                .filter(|c| ('\u{3400}'..='\u{9fff}').contains(c))
                .count();
            chinese <= 3.max(answer.chars().count() / 20)
        }
        lang => language(answer) == lang,
    }
}

/// (overall, answerable, handoff) of a query set against the FAQ that `config` names (the default one when
/// `None`).
fn score(config: Option<&Path>, queries: &str, topics: &str, held_out: bool) -> (f64, f64, f64) {
    let topics: HashMap<String, Value> =
        serde_json::from_str(&std::fs::read_to_string(topics).unwrap()).unwrap();
    let rows: Vec<Value> = std::fs::read_to_string(queries)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();

    // 1. Each topic's entry is named by the topic (`faq_id`) or is what `ask` answers for its canonical
    //    question, which must then be answered.
    let names: Vec<String> = topics.keys().cloned().collect();
    let canon: Vec<String> = names
        .iter()
        .map(|t| topics[t]["canonical"].as_str().unwrap().to_string())
        .collect();
    let canon_results = ask_batch(config, &canon);
    let mut entry_of: HashMap<String, String> = HashMap::new();
    for (topic, r) in names.iter().zip(&canon_results) {
        let entry = match topics[topic]["faq_id"].as_str() {
            Some(id) => id.to_string(),
            None => {
                assert_eq!(
                    r["action"], "answer",
                    "canonical question of {topic} is not answered: {r}"
                );
                r["faq"].as_str().unwrap().to_string()
            }
        };
        entry_of.insert(topic.clone(), entry);
    }

    // 2./3. Score every query.
    let queries: Vec<String> = rows
        .iter()
        .map(|r| r["q"].as_str().unwrap().to_string())
        .collect();
    let results = ask_batch(config, &queries);
    let (mut ans_ok, mut ans_n, mut ho_ok, mut ho_n) = (0, 0, 0, 0);
    let mut misses = Vec::new();
    for (row, r) in rows.iter().zip(&results) {
        let q = row["q"].as_str().unwrap();
        let right = if row.get("expect").and_then(Value::as_str) == Some("handoff") {
            ho_n += 1;
            // No FAQ entry offered: a handoff, or a small-talk reply.
            let ok = r["action"] == "handoff" || r["action"] == "smalltalk";
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
                && in_language_of(answer, q);
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
    // The held-out set shows its totals only, so that nobody tunes the matcher on its lines.
    if !held_out {
        println!("misses:\n{}", misses.join("\n"));
    }
    (overall, answerable, handoff)
}

/// Scores `tests/eval/<name>/` over its own FAQ plus the project's general lexicon.
fn score_foreign(name: &str, held_out: bool) -> (f64, f64, f64) {
    let dir = tempfile::tempdir().unwrap();
    let faq = dir.path().join("faq");
    std::fs::create_dir(&faq).unwrap();
    let set = format!("{ROOT}/tests/eval/{name}");
    std::fs::copy(format!("{set}/faq.toml"), faq.join("faq.toml")).unwrap();
    std::fs::copy(format!("{ROOT}/faq/lexicon.toml"), faq.join("lexicon.toml")).unwrap();
    let config = dir.path().join("supportbot.toml");
    std::fs::write(
        &config,
        format!("[bot]\nfaq_dir = {:?}\n", faq.display().to_string()),
    )
    .unwrap();
    score(
        Some(&config),
        &format!("{set}/queries.jsonl"),
        &format!("{set}/topics.json"),
        held_out,
    )
}

/// A test scoring a query set (`tests/eval/<queries>`, with `tests/eval/<topics>`) over the built-in FAQ against
/// its bars (overall, answerable, handoff); a held-out set prints its totals only.
macro_rules! builtin_set {
    ($(#[$doc:meta])* $name:ident, $queries:literal, $topics:literal, $held_out:literal, $bars:ident) => {
        $(#[$doc])*
        #[test]
        fn $name() {
            let (overall, answerable, handoff) = score(
                None,
                &format!("{ROOT}/tests/eval/{}", $queries),
                &format!("{ROOT}/tests/eval/{}", $topics),
                $held_out,
            );
            assert!(
                overall >= $bars.0 && answerable >= $bars.1 && handoff >= $bars.2,
                "below the quality bar"
            );
        }
    };
}

builtin_set!(
    dev_set_quality_meets_the_bar,
    "queries_dev.jsonl",
    "topics.json",
    false,
    DEV
);
builtin_set!(
    /// The built-in FAQ on queries written after the matcher was tuned, by someone who had not read the
    /// development set (totals only).
    fresh_set_quality_meets_the_bar,
    "fresh/queries.jsonl",
    "topics.json",
    true,
    FRESH
);
builtin_set!(
    /// A second fresh set for the built-in FAQ, written the same way by another writer (totals only).
    second_fresh_set_quality_meets_the_bar,
    "fresh2/queries.jsonl",
    "topics.json",
    true,
    FRESH2
);
builtin_set!(
    /// A third fresh set for the built-in FAQ, written the same way by a writer who had read neither of the
    /// others (totals only).
    third_fresh_set_quality_meets_the_bar,
    "fresh3/queries.jsonl",
    "topics.json",
    true,
    FRESH3
);
builtin_set!(
    /// A fourth fresh set for the built-in FAQ, written the same way by a writer who had read none of the
    /// others (totals only).
    fourth_fresh_set_quality_meets_the_bar,
    "fresh4/queries.jsonl",
    "topics.json",
    true,
    FRESH4
);
builtin_set!(
    /// A fifth fresh set for the built-in FAQ, written the same way by a writer who had read none of the
    /// others (totals only).
    fifth_fresh_set_quality_meets_the_bar,
    "fresh5/queries.jsonl",
    "topics.json",
    true,
    FRESH5
);
builtin_set!(
    /// A sixth fresh set for the built-in FAQ, written the same way by a writer who had read none of the
    /// others (totals only).
    sixth_fresh_set_quality_meets_the_bar,
    "fresh6/queries.jsonl",
    "topics.json",
    true,
    FRESH6
);
builtin_set!(
    /// A seventh fresh set for the built-in FAQ, written the same way by a writer who had read none of the
    /// others (totals only).
    seventh_fresh_set_quality_meets_the_bar,
    "fresh7/queries.jsonl",
    "topics.json",
    true,
    FRESH7
);
builtin_set!(
    /// An eighth fresh set for the built-in FAQ, written the same way after its handoff entries by a writer who
    /// had read none of the others (totals only).
    eighth_fresh_set_quality_meets_the_bar,
    "fresh8/queries.jsonl",
    "topics.json",
    true,
    FRESH8
);
builtin_set!(
    /// A ninth fresh set for the built-in FAQ, written the same way by a writer who had read none of the others
    /// (totals only).
    ninth_fresh_set_quality_meets_the_bar,
    "fresh9/queries.jsonl",
    "topics.json",
    true,
    FRESH9
);
builtin_set!(
    /// A tenth fresh set for the built-in FAQ, written the same way by a writer who had read none of the others
    /// (totals only).
    tenth_fresh_set_quality_meets_the_bar,
    "fresh10/queries.jsonl",
    "topics.json",
    true,
    FRESH10
);
builtin_set!(
    japanese_set_quality_meets_the_bar,
    "ja/queries.jsonl",
    "ja/topics.json",
    false,
    JA
);
builtin_set!(
    /// A second Japanese set, written the same way after the FAQ had its Japanese questions by a writer who had
    /// read none of the others (totals only).
    second_japanese_set_quality_meets_the_bar,
    "ja2/queries.jsonl",
    "ja/topics.json",
    true,
    JA2
);
builtin_set!(
    /// A third Japanese set, written like the second by another writer; its misses are read.
    third_japanese_set_quality_meets_the_bar,
    "ja3/queries.jsonl",
    "ja/topics.json",
    false,
    JA3
);

/// A test scoring a foreign knowledge base (`tests/eval/<set>/`) against its bars (overall, handoff); a held-out
/// set prints its totals only.
macro_rules! foreign_set {
    ($name:ident, $set:literal, $held_out:literal, $bars:ident) => {
        #[test]
        fn $name() {
            let (overall, _, handoff) = score_foreign($set, $held_out);
            assert!(
                overall >= $bars.0 && handoff >= $bars.1,
                "below the quality bar"
            );
        }
    };
}

foreign_set!(
    bank_card_knowledge_base_meets_the_bar,
    "bankcard",
    false,
    BANKCARD
);
foreign_set!(saas_knowledge_base_meets_the_bar, "saas", false, SAAS);
foreign_set!(game_knowledge_base_meets_the_bar, "game", true, GAME);
foreign_set!(
    government_service_knowledge_base_meets_the_bar,
    "govservice",
    true,
    GOVSERVICE
);
foreign_set!(
    parcel_delivery_knowledge_base_meets_the_bar,
    "parcel",
    true,
    PARCEL
);
foreign_set!(
    mobile_carrier_knowledge_base_meets_the_bar,
    "telecom",
    true,
    TELECOM
);
foreign_set!(
    food_delivery_knowledge_base_meets_the_bar,
    "fooddelivery",
    true,
    FOODDELIVERY
);
foreign_set!(
    travel_agency_knowledge_base_meets_the_bar,
    "travel",
    true,
    TRAVEL
);
foreign_set!(
    appliance_service_knowledge_base_meets_the_bar,
    "appliance",
    true,
    APPLIANCE
);
foreign_set!(
    online_course_knowledge_base_meets_the_bar,
    "courses",
    true,
    COURSES
);
foreign_set!(
    ride_hailing_knowledge_base_meets_the_bar,
    "ride",
    true,
    RIDE
);
foreign_set!(
    insurance_knowledge_base_meets_the_bar,
    "insurance",
    true,
    INSURANCE
);
foreign_set!(
    video_streaming_knowledge_base_meets_the_bar,
    "streaming",
    true,
    STREAMING
);
foreign_set!(
    cloud_drive_knowledge_base_meets_the_bar,
    "clouddrive",
    true,
    CLOUDDRIVE
);
foreign_set!(
    utility_knowledge_base_meets_the_bar,
    "utility",
    true,
    UTILITY
);
foreign_set!(
    brokerage_knowledge_base_meets_the_bar,
    "brokerage",
    true,
    BROKERAGE
);
foreign_set!(
    ev_charging_knowledge_base_meets_the_bar,
    "evcharging",
    true,
    EVCHARGING
);
foreign_set!(
    property_management_knowledge_base_meets_the_bar,
    "property",
    true,
    PROPERTY
);
foreign_set!(
    hospital_appointments_knowledge_base_meets_the_bar,
    "hospital",
    true,
    HOSPITAL
);
foreign_set!(recruitment_knowledge_base_meets_the_bar, "jobs", true, JOBS);
foreign_set!(
    airline_knowledge_base_meets_the_bar,
    "airline",
    true,
    AIRLINE
);
foreign_set!(
    ticketing_knowledge_base_meets_the_bar,
    "tickets",
    true,
    TICKETS
);
foreign_set!(
    gym_chain_knowledge_base_meets_the_bar,
    "fitness",
    false,
    FITNESS
);
foreign_set!(
    shopping_mall_knowledge_base_meets_the_bar,
    "shop",
    true,
    SHOP
);
foreign_set!(
    bike_sharing_knowledge_base_meets_the_bar,
    "bikeshare",
    true,
    BIKESHARE
);
foreign_set!(
    second_hand_trading_knowledge_base_meets_the_bar,
    "secondhand",
    true,
    SECONDHAND
);
foreign_set!(
    car_rental_knowledge_base_meets_the_bar,
    "carrental",
    true,
    CARRENTAL
);
foreign_set!(
    campus_it_desk_knowledge_base_meets_the_bar,
    "campus",
    true,
    CAMPUS
);
foreign_set!(
    home_services_knowledge_base_meets_the_bar,
    "homeservice",
    true,
    HOMESERVICE
);
foreign_set!(
    phone_service_knowledge_base_meets_the_bar,
    "phonecare",
    true,
    PHONECARE
);
foreign_set!(
    pet_care_knowledge_base_meets_the_bar,
    "petcare",
    true,
    PETCARE
);
foreign_set!(
    language_app_knowledge_base_meets_the_bar,
    "langapp",
    true,
    LANGAPP
);
foreign_set!(
    coffee_chain_knowledge_base_meets_the_bar,
    "coffee",
    true,
    COFFEE
);
foreign_set!(
    online_pharmacy_knowledge_base_meets_the_bar,
    "pharmacy",
    true,
    PHARMACY
);
foreign_set!(
    hotel_chain_knowledge_base_meets_the_bar,
    "hotel",
    true,
    HOTEL
);
foreign_set!(
    electric_scooter_knowledge_base_meets_the_bar,
    "scooter",
    true,
    SCOOTER
);
foreign_set!(
    dental_clinic_knowledge_base_meets_the_bar,
    "dental",
    true,
    DENTAL
);
foreign_set!(
    photo_printing_knowledge_base_meets_the_bar,
    "printing",
    true,
    PRINTING
);

/// Bars (overall, answerable, handoff) of the development set.
const DEV: (f64, f64, f64) = (0.95, 0.95, 0.95);
/// Bars (overall, answerable, handoff) of the fresh QQ Mail set, a little below the measured figures in
/// docs/benchmarks.md.
const FRESH: (f64, f64, f64) = (0.95, 0.95, 0.95);
const FRESH2: (f64, f64, f64) = (0.96, 0.95, 0.96);
const FRESH3: (f64, f64, f64) = (0.95, 0.94, 0.93);
const FRESH4: (f64, f64, f64) = (0.96, 0.95, 0.96);
const FRESH5: (f64, f64, f64) = (0.94, 0.94, 0.94);
const FRESH6: (f64, f64, f64) = (0.95, 0.94, 0.95);
const FRESH7: (f64, f64, f64) = (0.94, 0.93, 0.97);
const FRESH8: (f64, f64, f64) = (0.95, 0.94, 0.97);
const FRESH9: (f64, f64, f64) = (0.96, 0.95, 0.96);
const FRESH10: (f64, f64, f64) = (0.95, 0.93, 0.98);
/// Bars (overall, answerable, handoff) of the Japanese set, a little below the measured figures in
/// docs/benchmarks.md.
const JA: (f64, f64, f64) = (0.93, 0.9, 0.95);
const JA2: (f64, f64, f64) = (0.87, 0.88, 0.85);
const JA3: (f64, f64, f64) = (0.88, 0.85, 0.93);
/// Bars (overall, handoff) a little below the measured figures in docs/benchmarks.md.
const BANKCARD: (f64, f64) = (0.79, 0.67);
const SAAS: (f64, f64) = (0.85, 0.8);
const GAME: (f64, f64) = (0.85, 0.69);
const GOVSERVICE: (f64, f64) = (0.8, 0.72);
const PARCEL: (f64, f64) = (0.8, 0.85);
const TELECOM: (f64, f64) = (0.82, 0.85);
const FOODDELIVERY: (f64, f64) = (0.82, 0.68);
const TRAVEL: (f64, f64) = (0.85, 0.87);
const APPLIANCE: (f64, f64) = (0.76, 0.74);
const COURSES: (f64, f64) = (0.79, 0.8);
const RIDE: (f64, f64) = (0.9, 0.94);
const INSURANCE: (f64, f64) = (0.81, 0.83);
const STREAMING: (f64, f64) = (0.82, 0.85);
const CLOUDDRIVE: (f64, f64) = (0.86, 0.83);
const UTILITY: (f64, f64) = (0.87, 0.83);
const BROKERAGE: (f64, f64) = (0.84, 0.76);
const EVCHARGING: (f64, f64) = (0.84, 0.73);
const PROPERTY: (f64, f64) = (0.85, 0.68);
const HOSPITAL: (f64, f64) = (0.83, 0.85);
const JOBS: (f64, f64) = (0.87, 0.8);
const AIRLINE: (f64, f64) = (0.83, 0.85);
const TICKETS: (f64, f64) = (0.87, 0.9);
const FITNESS: (f64, f64) = (0.75, 0.7);
const SHOP: (f64, f64) = (0.76, 0.86);
const BIKESHARE: (f64, f64) = (0.75, 0.79);
const SECONDHAND: (f64, f64) = (0.8, 0.83);
const CARRENTAL: (f64, f64) = (0.76, 0.89);
const CAMPUS: (f64, f64) = (0.77, 0.7);
const HOMESERVICE: (f64, f64) = (0.69, 0.79);
const PHONECARE: (f64, f64) = (0.8, 0.85);
const PETCARE: (f64, f64) = (0.74, 0.84);
const LANGAPP: (f64, f64) = (0.74, 0.74);
const COFFEE: (f64, f64) = (0.73, 0.72);
const PHARMACY: (f64, f64) = (0.69, 0.75);
const HOTEL: (f64, f64) = (0.68, 0.7);
const SCOOTER: (f64, f64) = (0.65, 0.74);
const DENTAL: (f64, f64) = (0.64, 0.79);
const PRINTING: (f64, f64) = (0.65, 0.79);
