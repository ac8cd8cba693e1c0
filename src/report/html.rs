//! The dashboard as one self-contained HTML page (inline CSS and SVG, no script, nothing fetched).

use std::fmt::Write;

use super::svg::{bars, columns, escape, Series};
use super::{Dashboard, FIRST_REPLY_BUCKETS, RESOLUTION_BUCKETS};

const CSS: &str = "body{margin:0;background:#f3f5f9;color:#1b2330;font:14px -apple-system,'Segoe UI','PingFang SC','Noto Sans CJK SC',Roboto,sans-serif}\
header{background:#14213d;color:#fff;padding:14px 22px;display:flex;gap:16px;align-items:baseline}\
header h1{margin:0;font-size:18px}header span{color:#b9c6dd;font-size:13px}\
main{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:16px;padding:16px}\
section{background:#fff;border-radius:12px;padding:14px 16px;box-shadow:0 2px 10px rgba(20,40,80,.06)}\
h2{margin:0 0 8px;font-size:15px}.note{color:#687385;font-size:12px;margin:4px 0 0}\
.kpis{display:flex;gap:22px;flex-wrap:wrap}.kpi b{display:block;font-size:24px}.kpi span{color:#687385;font-size:12px}\
.chart{width:100%;height:auto}.axis{font-size:10px;fill:#687385}.legend{font-size:11px;fill:#1b2330}.label{font-size:12px;fill:#1b2330}\
table{border-collapse:collapse;width:100%}td{padding:5px 6px;border-top:1px solid #eef1f5;vertical-align:top}\
td.n{text-align:right;color:#687385;width:3em}a.faq{display:inline-block;background:#e9f1ff;color:#1f4fbf;border-radius:6px;padding:2px 8px;text-decoration:none}\
details{margin-top:6px}details:target{outline:2px solid #1f6feb;border-radius:6px}summary{cursor:pointer}pre{white-space:pre-wrap;margin:6px 0;font:inherit;color:#33415c}";

fn pct(part: usize, whole: usize) -> String {
    if whole == 0 {
        "—".into()
    } else {
        format!("{:.0}%", part as f64 * 100.0 / whole as f64)
    }
}

/// The page.
pub fn render(d: &Dashboard) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{} — support dashboard</title><style>{CSS}</style></head><body>",
        escape(&d.bot)
    );
    let _ = write!(
        out,
        "<header><h1>{} · support dashboard</h1><span>figures of {}</span></header><main>",
        escape(&d.bot),
        escape(&d.taken_at)
    );
    let (conversations, deflected) = d.conversations;
    let rated: usize = d.ratings.iter().sum();
    let average = (rated > 0).then(|| {
        d.ratings
            .iter()
            .enumerate()
            .map(|(i, n)| (i + 1) * n)
            .sum::<usize>() as f64
            / rated as f64
    });
    let _ = write!(
        out,
        "<section id=\"summary\"><h2>Summary</h2><div class=\"kpis\">\
<div class=\"kpi\"><b>{conversations}</b><span>conversations</span></div>\
<div class=\"kpi\"><b>{}</b><span>answered by the bot</span></div>\
<div class=\"kpi\"><b>{}</b><span>cases</span></div>\
<div class=\"kpi\"><b>{}</b><span>average rating ({rated})</span></div></div></section>",
        pct(deflected, conversations),
        d.cases,
        average.map_or("—".into(), |a| format!("{a:.1}")),
    );
    let hours: Vec<String> = (0..24).map(|h| format!("{h:02}")).collect();
    let _ = write!(
        out,
        "<section><h2>Messages and handoffs per hour of the day</h2>{}<p class=\"note\">User messages (the stored recent lines of each conversation) and cases opened, by the hour they happened in the bot's time zone.</p></section>",
        columns(
            "by-hour",
            &hours,
            &[
                Series { name: "messages", color: "#1f6feb", values: d.messages_by_hour.iter().map(|&v| v as f64).collect() },
                Series { name: "handoffs", color: "#f59f00", values: d.handoffs_by_hour.iter().map(|&v| v as f64).collect() },
            ],
            None,
        )
    );
    let days: Vec<String> = d.days.iter().map(|x| x.date.clone()).collect();
    let rates: Vec<Option<f64>> = d
        .days
        .iter()
        .map(|x| (x.conversations > 0).then(|| x.deflected as f64 / x.conversations as f64))
        .collect();
    let _ = write!(
        out,
        "<section><h2>Deflection per day</h2>{}<p class=\"note\">Conversations by the day of their last message; the line is the share the bot answered without a handoff.</p></section>",
        columns(
            "by-day",
            &days,
            &[
                Series { name: "conversations", color: "#94a3b8", values: d.days.iter().map(|x| x.conversations as f64).collect() },
                Series { name: "answered by the bot", color: "#2b8a3e", values: d.days.iter().map(|x| x.deflected as f64).collect() },
            ],
            Some(("deflection rate", &rates)),
        )
    );
    for (id, title, buckets, values, note) in [
        (
            "first-reply",
            "Time to first reply",
            &FIRST_REPLY_BUCKETS,
            &d.first_reply,
            "Cases by the time from opening to the first operator reply.",
        ),
        (
            "resolution",
            "Time to resolution",
            &RESOLUTION_BUCKETS,
            &d.resolution,
            "Closed cases by the time from opening to closing.",
        ),
    ] {
        let labels: Vec<String> = buckets.iter().map(|(_, l)| l.to_string()).collect();
        let _ = write!(
            out,
            "<section><h2>{title}</h2>{}<p class=\"note\">{note}</p></section>",
            columns(
                id,
                &labels,
                &[Series {
                    name: "cases",
                    color: "#6741d9",
                    values: values.iter().map(|&v| v as f64).collect()
                }],
                None
            )
        );
    }
    let stars: Vec<(String, f64)> = (1..=5)
        .rev()
        .map(|s| (format!("{s} ★"), d.ratings[s - 1] as f64))
        .collect();
    let _ = write!(
        out,
        "<section><h2>Ratings</h2>{}</section>",
        bars("ratings", &stars, "#f59f00")
    );
    let teams: Vec<(String, f64)> = d
        .by_team
        .iter()
        .map(|(k, v)| (k.clone(), *v as f64))
        .collect();
    let ops: Vec<(String, f64)> = d
        .by_operator
        .iter()
        .map(|(k, v)| (k.clone(), *v as f64))
        .collect();
    let _ = write!(
        out,
        "<section><h2>Handoffs per team</h2>{}</section>",
        bars("by-team", &teams, "#1f6feb")
    );
    let _ = write!(out, "<section><h2>Handoffs per operator</h2>{}<p class=\"note\">Cases by the operator who took them.</p></section>", bars("by-operator", &ops, "#0b7285"));
    out.push_str("<section id=\"unanswered\"><h2>Top unanswered questions</h2><table>");
    if d.unanswered.is_empty() {
        out.push_str("<tr><td>—</td></tr>");
    }
    for m in &d.unanswered {
        let closest = match &m.closest {
            Some((id, title, score)) => format!(
                "<a class=\"faq\" href=\"#faq-{}\" title=\"score {score:.2}\">{}</a>",
                escape(id),
                escape(title)
            ),
            None => "—".into(),
        };
        let _ = write!(
            out,
            "<tr><td class=\"n\">{}</td><td>{}</td><td>{closest}</td></tr>",
            m.count,
            escape(&m.question)
        );
    }
    out.push_str("</table><p class=\"note\">Add the question as a variant of the closest entry, or write a new entry. The entries:</p>");
    for (id, title, answer) in &d.entries {
        let _ = write!(
            out,
            "<details id=\"faq-{}\"><summary>{} <code>{}</code></summary><pre>{}</pre></details>",
            escape(id),
            escape(title),
            escape(id),
            escape(answer)
        );
    }
    out.push_str("</section></main></body></html>\n");
    out
}
