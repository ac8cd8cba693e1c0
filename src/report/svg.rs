//! Small server-side SVG charts: grouped columns (with an optional line of rates on a second axis) and
//! horizontal bars. Every label is escaped; each mark carries `data-` attributes with its values and a `<title>`
//! tooltip.

use std::fmt::Write;

/// Text for HTML and SVG: `& < > " '` escaped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// One series of a column chart: name, colour, one value per label.
pub struct Series<'a> {
    /// Shown in the legend and tooltips.
    pub name: &'a str,
    /// CSS colour.
    pub color: &'a str,
    /// Values, one per label.
    pub values: Vec<f64>,
}

const W: f64 = 640.0;
const H: f64 = 220.0;
const LEFT: f64 = 40.0;
const BOTTOM: f64 = 28.0;
const TOP: f64 = 22.0;

/// A round upper bound for an axis.
fn nice_max(max: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let step = 10f64.powf(max.log10().floor());
    let m = max / step;
    let nice = if m <= 1.0 {
        1.0
    } else if m <= 2.0 {
        2.0
    } else if m <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * step
}

/// Grouped columns, one group per label; `rate` draws a 0-100 % line over them (right axis).
pub fn columns(
    id: &str,
    labels: &[String],
    series: &[Series],
    rate: Option<(&str, &[Option<f64>])>,
) -> String {
    let n = labels.len().max(1) as f64;
    let max = nice_max(
        series
            .iter()
            .flat_map(|s| s.values.iter().copied())
            .fold(0.0, f64::max),
    );
    let plot_w = W - LEFT - if rate.is_some() { 40.0 } else { 10.0 };
    let plot_h = H - TOP - BOTTOM;
    let group = plot_w / n;
    let bar = (group * 0.8) / series.len().max(1) as f64;
    let y = |v: f64| TOP + plot_h - v / max * plot_h;
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg id="{id}" class="chart" viewBox="0 0 {W} {H}" role="img" xmlns="http://www.w3.org/2000/svg">"#
    );
    for frac in [0.0, 0.5, 1.0] {
        let v = max * frac;
        let _ = write!(
            out,
            r##"<line x1="{LEFT}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#e3e7ee"/><text x="{:.1}" y="{:.1}" class="axis" text-anchor="end">{}</text>"##,
            LEFT + plot_w,
            y(v),
            y(v),
            LEFT - 4.0,
            y(v) + 4.0,
            v.round()
        );
    }
    let every = (labels.len() / 12).max(1);
    for (i, label) in labels.iter().enumerate() {
        let x0 = LEFT + group * i as f64 + group * 0.1;
        for (k, s) in series.iter().enumerate() {
            let v = s.values.get(i).copied().unwrap_or(0.0);
            let top = y(v);
            let _ = write!(
                out,
                r#"<rect x="{:.1}" y="{top:.1}" width="{:.1}" height="{:.1}" fill="{}" data-series="{}" data-x="{}" data-value="{v}"><title>{} {}: {v}</title></rect>"#,
                x0 + bar * k as f64,
                (bar - 1.0).max(1.0),
                (TOP + plot_h - top).max(0.0),
                s.color,
                escape(s.name),
                escape(label),
                escape(label),
                escape(s.name),
            );
        }
        if i % every == 0 {
            let _ = write!(
                out,
                r#"<text x="{:.1}" y="{:.1}" class="axis" text-anchor="middle">{}</text>"#,
                LEFT + group * (i as f64 + 0.5),
                H - 10.0,
                escape(label)
            );
        }
    }
    if let Some((name, rates)) = rate {
        let ry = |r: f64| TOP + plot_h - r * plot_h;
        let points: Vec<String> = rates
            .iter()
            .enumerate()
            .filter_map(|(i, r)| {
                r.map(|r| format!("{:.1},{:.1}", LEFT + group * (i as f64 + 0.5), ry(r)))
            })
            .collect();
        let _ = write!(
            out,
            r##"<polyline points="{}" fill="none" stroke="#c2410c" stroke-width="2" data-series="{}"/>"##,
            points.join(" "),
            escape(name)
        );
        for (i, r) in rates.iter().enumerate() {
            if let Some(r) = r {
                let _ = write!(
                    out,
                    r##"<circle cx="{:.1}" cy="{:.1}" r="2.5" fill="#c2410c" data-x="{}" data-rate="{r:.3}"><title>{}: {:.0}%</title></circle>"##,
                    LEFT + group * (i as f64 + 0.5),
                    ry(*r),
                    escape(&labels[i]),
                    escape(name),
                    r * 100.0
                );
            }
        }
        for (frac, label) in [(0.0, "0%"), (0.5, "50%"), (1.0, "100%")] {
            let _ = write!(
                out,
                r##"<text x="{:.1}" y="{:.1}" class="axis" fill="#c2410c">{label}</text>"##,
                LEFT + plot_w + 4.0,
                ry(frac) + 4.0
            );
        }
    }
    let mut lx = LEFT;
    for s in series {
        let _ = write!(
            out,
            r#"<rect x="{lx:.1}" y="4" width="10" height="10" fill="{}"/><text x="{:.1}" y="13" class="legend">{}</text>"#,
            s.color,
            lx + 14.0,
            escape(s.name)
        );
        lx += 24.0 + 7.0 * s.name.chars().count() as f64;
    }
    if let Some((name, _)) = rate {
        let _ = write!(
            out,
            r##"<line x1="{lx:.1}" x2="{:.1}" y1="9" y2="9" stroke="#c2410c" stroke-width="2"/><text x="{:.1}" y="13" class="legend">{}</text>"##,
            lx + 12.0,
            lx + 16.0,
            escape(name)
        );
    }
    out.push_str("</svg>");
    out
}

/// Horizontal bars, one row per label.
pub fn bars(id: &str, rows: &[(String, f64)], color: &str) -> String {
    let row_h = 24.0;
    let h = (rows.len().max(1) as f64) * row_h + 8.0;
    let max = rows.iter().map(|r| r.1).fold(0.0, f64::max).max(1.0);
    let label_w = 150.0;
    let plot_w = W - label_w - 50.0;
    let mut out = format!(
        r#"<svg id="{id}" class="chart" viewBox="0 0 {W} {h}" role="img" xmlns="http://www.w3.org/2000/svg">"#
    );
    if rows.is_empty() {
        out.push_str(r#"<text x="8" y="20" class="axis">—</text>"#);
    }
    for (i, (label, v)) in rows.iter().enumerate() {
        let y0 = 4.0 + row_h * i as f64;
        let w = (v / max * plot_w).max(1.0);
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.1}" class="label" text-anchor="end">{}</text><rect x="{label_w}" y="{:.1}" width="{w:.1}" height="{:.1}" fill="{color}" data-x="{}" data-value="{v}"><title>{}: {v}</title></rect><text x="{:.1}" y="{:.1}" class="axis">{v}</text>"#,
            label_w - 6.0,
            y0 + 15.0,
            escape(label),
            y0 + 3.0,
            row_h - 6.0,
            escape(label),
            escape(label),
            label_w + w + 4.0,
            y0 + 15.0,
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped_and_values_kept() {
        let svg = bars("b", &[("<script>x</script>".into(), 3.0)], "#123");
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;script&gt;"));
        assert!(svg.contains(r#"data-value="3""#));
        let cols = columns(
            "c",
            &["10".into(), "11".into()],
            &[Series {
                name: "a\"b",
                color: "#1",
                values: vec![1.0, 4.0],
            }],
            Some(("rate", &[Some(0.5), None])),
        );
        assert!(cols.contains(r#"data-x="11" data-value="4""#));
        assert!(cols.contains("a&quot;b"));
        assert_eq!(cols.matches("<circle").count(), 1);
        assert_eq!(nice_max(7.0), 10.0);
        assert_eq!(nice_max(130.0), 200.0);
    }
}
