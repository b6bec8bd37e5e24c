//! Server-rendered SVG charts. The DLE chart: a pupil's DLE per result over time against the norm
//! band of the toetsdoel across the fases (ondergrens–streef, hatched and dashed), the points
//! shaped by judgement (never colour alone), with a `<title>` and a generated `<desc>`. The page
//! shows the results as a table beside it as the accessible alternative. Readable when printed:
//! no colour is needed to tell anything apart.
//!
//! Written by hand rather than with a plotting crate: the chart is small, must meet our
//! accessibility rules (title, desc, patterns, shapes) and must be byte-stable for a snapshot test.

use std::fmt::Write;

use startblok_domain::format_date;
use startblok_domain::norms::{Dle, Judgement};
use time::Date;

/// One result on the chart.
#[derive(Debug, Clone)]
pub struct Point {
    pub date: Date,
    pub dle: Dle,
    pub judgement: Option<Judgement>,
}

/// The norm band of one fase, for the dates the pupil was in it.
#[derive(Debug, Clone)]
pub struct Band {
    pub fase: u8,
    pub from: Date,
    pub to: Date,
    pub ondergrens: Dle,
    pub streef: Dle,
}

#[derive(Debug, Clone)]
pub struct DleChart {
    /// The chart's id in the page (for `aria-labelledby`), e.g. `grafiek-rekenen`.
    pub id: String,
    /// E.g. "Rekenen-Wiskunde: DLE van Fatima García".
    pub title: String,
    pub points: Vec<Point>,
    pub bands: Vec<Band>,
    /// The top of the DLE axis when several charts share one scale (a page with a chart per
    /// vak); `None`: what this chart needs.
    pub y_top: Option<f64>,
}

/// The top of the DLE axis for a chart: the next multiple of 10 above everything shown (10–60).
pub fn axis_top(c: &DleChart) -> f64 {
    let top_value = c
        .points
        .iter()
        .map(|p| p.dle.as_months())
        .chain(c.bands.iter().map(|b| b.streef.as_months()))
        .fold(10.0_f64, f64::max);
    ((top_value / 10.0).ceil() * 10.0).clamp(10.0, 60.0)
}

const W: f64 = 640.0;
const H: f64 = 320.0;
const LEFT: f64 = 52.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 24.0;
const BOTTOM: f64 = 64.0;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The marker for a judgement, centred on (x, y): a shape per judgement.
fn marker(out: &mut String, j: Option<Judgement>, x: f64, y: f64) {
    let class = match j {
        Some(Judgement::OnderNorm) => "sb-chart__onder",
        Some(Judgement::OpNorm) => "sb-chart__op",
        Some(Judgement::OpStreefniveau) => "sb-chart__streef",
        None => "sb-chart__geen",
    };
    match j {
        Some(Judgement::OnderNorm) => {
            let _ = write!(
                out,
                r#"<path class="{class}" d="M{:.1} {:.1} L{:.1} {:.1} L{:.1} {:.1} Z"/>"#,
                x - 6.0,
                y - 5.0,
                x + 6.0,
                y - 5.0,
                x,
                y + 6.0
            );
        }
        Some(Judgement::OpNorm) => {
            let _ = write!(
                out,
                r#"<circle class="{class}" cx="{x:.1}" cy="{y:.1}" r="5.5"/>"#
            );
        }
        Some(Judgement::OpStreefniveau) => {
            let _ = write!(
                out,
                r#"<rect class="{class}" x="{:.1}" y="{:.1}" width="11" height="11"/>"#,
                x - 5.5,
                y - 5.5
            );
        }
        None => {
            let _ = write!(
                out,
                r#"<path class="{class}" d="M{:.1} {:.1} L{:.1} {:.1} M{:.1} {:.1} L{:.1} {:.1}"/>"#,
                x - 5.0,
                y - 5.0,
                x + 5.0,
                y + 5.0,
                x - 5.0,
                y + 5.0,
                x + 5.0,
                y - 5.0
            );
        }
    }
}

/// The generated description: what a sighted reader takes from the chart, in words.
pub fn describe(c: &DleChart) -> String {
    let mut d = String::new();
    match (c.points.first(), c.points.last()) {
        (Some(first), Some(last)) => {
            let n = c.points.len();
            let _ = write!(
                d,
                "{n} {} van {} tot {}. ",
                if n == 1 { "resultaat" } else { "resultaten" },
                format_date(first.date),
                format_date(last.date)
            );
            let _ = write!(d, "Laatste DLE {}", last.dle);
            if let Some(j) = last.judgement {
                let _ = write!(d, " ({})", j.label());
            }
            d.push('.');
            if n > 1 {
                let change = last.dle.as_months() - first.dle.as_months();
                let _ = write!(
                    d,
                    " Van de eerste tot de laatste toets {} de DLE {} maanden.",
                    if change >= 0.0 { "steeg" } else { "daalde" },
                    format_months(change.abs())
                );
            }
        }
        _ => d.push_str("Nog geen resultaten."),
    }
    for b in &c.bands {
        let _ = write!(
            d,
            " Fase {} ({} tot {}): norm {} tot {}.",
            b.fase,
            format_date(b.from),
            format_date(b.to),
            b.ondergrens,
            b.streef
        );
    }
    d
}

fn format_months(m: f64) -> String {
    let tenths = (m * 10.0).round() as i64;
    if tenths % 10 == 0 {
        format!("{}", tenths / 10)
    } else {
        format!("{},{}", tenths / 10, tenths % 10)
    }
}

/// The chart as an SVG element (to be placed inside a `<figure>` with the table beside it).
pub fn dle_chart(c: &DleChart) -> String {
    let dates: Vec<Date> = c
        .points
        .iter()
        .map(|p| p.date)
        .chain(c.bands.iter().flat_map(|b| [b.from, b.to]))
        .collect();
    let (Some(start), Some(end)) = (dates.iter().min().copied(), dates.iter().max().copied())
    else {
        return format!(
            r#"<p class="utrecht-paragraph sb-muted" id="{}">{}: nog geen resultaten.</p>"#,
            esc(&c.id),
            esc(&c.title)
        );
    };
    let span = ((end - start).whole_days().max(1)) as f64;
    let x = |d: Date| LEFT + (d - start).whole_days() as f64 / span * (W - LEFT - RIGHT);
    // DLE axis: 0 to the next multiple of 10 above everything shown (at most 60).
    let top_value = c
        .points
        .iter()
        .map(|p| p.dle.as_months())
        .chain(c.bands.iter().map(|b| b.streef.as_months()))
        .fold(10.0_f64, f64::max);
    let y_max = c
        .y_top
        .unwrap_or_else(|| ((top_value / 10.0).ceil() * 10.0).clamp(10.0, 60.0));
    // Gridlines every 5 months on a low axis, every 10 on a high one.
    let step = if y_max <= 30.0 { 5.0 } else { 10.0 };
    let y = |m: f64| TOP + (1.0 - m.min(y_max) / y_max) * (H - TOP - BOTTOM);

    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="sb-chart" id="{id}" viewBox="0 0 {W} {H}" role="img" aria-labelledby="{id}-titel {id}-uitleg" xmlns="http://www.w3.org/2000/svg">"#,
        id = esc(&c.id)
    );
    let _ = write!(
        s,
        r#"<title id="{}-titel">{}</title><desc id="{}-uitleg">{}</desc>"#,
        esc(&c.id),
        esc(&c.title),
        esc(&c.id),
        esc(&describe(c))
    );
    let _ = write!(
        s,
        r#"<defs><pattern id="{}-arcering" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" class="sb-chart__arcering"/></pattern></defs>"#,
        esc(&c.id)
    );
    // Grid and DLE axis.
    let mut m = 0.0;
    while m <= y_max {
        let _ = write!(
            s,
            r#"<line class="sb-chart__raster" x1="{LEFT}" x2="{:.1}" y1="{:.1}" y2="{:.1}"/><text class="sb-chart__as" x="{:.1}" y="{:.1}" text-anchor="end">{m}</text>"#,
            W - RIGHT,
            y(m),
            y(m),
            LEFT - 8.0,
            y(m) + 4.0
        );
        m += step;
    }
    let _ = write!(
        s,
        r#"<text class="sb-chart__as" x="12" y="{:.1}" transform="rotate(-90 12 {:.1})" text-anchor="middle">DLE (maanden)</text>"#,
        (TOP + H - BOTTOM) / 2.0,
        (TOP + H - BOTTOM) / 2.0
    );
    // Norm bands, hatched with a dashed edge, labelled with their fase.
    for b in &c.bands {
        let (x1, x2) = (x(b.from), x(b.to));
        let (y1, y2) = (y(b.streef.as_months()), y(b.ondergrens.as_months()));
        let _ = write!(
            s,
            r#"<rect class="sb-chart__band" x="{x1:.1}" y="{y1:.1}" width="{:.1}" height="{:.1}" fill="url(#{}-arcering)"/><text class="sb-chart__fase" x="{:.1}" y="{:.1}" text-anchor="middle">fase {}</text>"#,
            (x2 - x1).max(1.0),
            (y2 - y1).max(1.0),
            esc(&c.id),
            (x1 + x2) / 2.0,
            H - BOTTOM + 16.0,
            b.fase
        );
    }
    // Date axis: the first and last date.
    let _ = write!(
        s,
        r#"<text class="sb-chart__as" x="{LEFT}" y="{:.1}">{}</text><text class="sb-chart__as" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
        H - BOTTOM + 32.0,
        format_date(start),
        W - RIGHT,
        H - BOTTOM + 32.0,
        format_date(end)
    );
    // The pupil's line and points.
    if c.points.len() > 1 {
        let path: Vec<String> = c
            .points
            .iter()
            .map(|p| format!("{:.1},{:.1}", x(p.date), y(p.dle.as_months())))
            .collect();
        let _ = write!(
            s,
            r#"<polyline class="sb-chart__lijn" points="{}"/>"#,
            path.join(" ")
        );
    }
    for p in &c.points {
        let _ = write!(
            s,
            r#"<g class="sb-chart__punt"><title>{}: DLE {}"#,
            format_date(p.date),
            p.dle
        );
        if let Some(j) = p.judgement {
            let _ = write!(s, " ({})", j.label());
        }
        s.push_str("</title>");
        marker(&mut s, p.judgement, x(p.date), y(p.dle.as_months()));
        s.push_str("</g>");
    }
    // Legend: shape and words for each judgement, and the band.
    let ly = H - 12.0;
    let mut lx = LEFT;
    let _ = write!(
        s,
        r#"<rect class="sb-chart__band" x="{lx:.1}" y="{:.1}" width="18" height="10" fill="url(#{}-arcering)"/><text class="sb-chart__legenda" x="{:.1}" y="{ly:.1}">norm</text>"#,
        ly - 9.0,
        esc(&c.id),
        lx + 24.0
    );
    lx += 78.0;
    for j in [
        Judgement::OnderNorm,
        Judgement::OpNorm,
        Judgement::OpStreefniveau,
    ] {
        marker(&mut s, Some(j), lx + 6.0, ly - 4.0);
        let _ = write!(
            s,
            r#"<text class="sb-chart__legenda" x="{:.1}" y="{ly:.1}">{}</text>"#,
            lx + 16.0,
            j.label()
        );
        lx += 16.0 + 8.0 * j.label().len() as f64 + 18.0;
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn dle(s: &str) -> Dle {
        Dle::parse(s).unwrap()
    }

    fn example() -> DleChart {
        DleChart {
            id: "grafiek-rw".into(),
            title: "Rekenen-Wiskunde: DLE van Fatima García".into(),
            points: vec![
                Point {
                    date: date!(2026 - 01 - 20),
                    dle: dle("3"),
                    judgement: Some(Judgement::OnderNorm),
                },
                Point {
                    date: date!(2026 - 06 - 10),
                    dle: dle("11"),
                    judgement: Some(Judgement::OpNorm),
                },
                Point {
                    date: date!(2026 - 11 - 10),
                    dle: dle("17,5"),
                    judgement: Some(Judgement::OpStreefniveau),
                },
            ],
            y_top: None,
            bands: vec![
                Band {
                    fase: 1,
                    from: date!(2025 - 12 - 01),
                    to: date!(2026 - 06 - 01),
                    ondergrens: dle("4"),
                    streef: dle("9"),
                },
                Band {
                    fase: 2,
                    from: date!(2026 - 06 - 01),
                    to: date!(2026 - 12 - 01),
                    ondergrens: dle("10"),
                    streef: dle("15"),
                },
            ],
        }
    }

    #[test]
    fn the_chart_of_a_fixed_series_is_pinned() {
        insta::assert_snapshot!(dle_chart(&example()));
    }

    #[test]
    fn meaning_is_never_colour_alone_and_is_said_in_words() {
        let svg = dle_chart(&example());
        // A different shape per judgement, each also named in a legend and in the point's title.
        assert!(svg.contains("<path class=\"sb-chart__onder\""));
        assert!(svg.contains("<circle class=\"sb-chart__op\""));
        assert!(svg.contains("<rect class=\"sb-chart__streef\""));
        assert!(svg.contains("<title>10-06-2026: DLE 11 (op norm)</title>"));
        assert!(
            svg.contains("fill=\"url(#grafiek-rw-arcering)\""),
            "the band is hatched"
        );
        assert!(svg.contains("role=\"img\"") && svg.contains("<desc id=\"grafiek-rw-uitleg\">"));
        let desc = describe(&example());
        assert!(
            desc.starts_with(
                "3 resultaten van 20-01-2026 tot 10-11-2026. Laatste DLE 17,5 (op streefniveau)."
            ),
            "{desc}"
        );
        assert!(desc.contains("steeg de DLE 14,5 maanden"), "{desc}");
        assert!(desc.contains("Fase 2 (01-06-2026 tot 01-12-2026): norm 10 tot 15."));
    }

    #[test]
    fn names_are_escaped_and_an_empty_chart_says_so() {
        let mut c = example();
        c.title = "<script>&".into();
        assert!(
            dle_chart(&c).contains("<title id=\"grafiek-rw-titel\">&lt;script&gt;&amp;</title>")
        );
        c.points.clear();
        c.bands.clear();
        assert!(dle_chart(&c).contains("nog geen resultaten"));
    }
}
