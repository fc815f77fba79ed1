//! The committed reports (`reports/*.json`), rendered with the current code,
//! answer at a glance: the verdict, every scenario's trials (named, or counted
//! in "…and N more", or in the line for trials that saw nothing), a note where
//! a section has nothing to show, and chart axes that keep to one unit.

use std::path::{Path, PathBuf};

use unlink_race::export::html::render_report;
use unlink_race::export::summary::{report_verdict, summary};
use unlink_race::report::schema::Report;

fn committed() -> Vec<(PathBuf, Report)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/reference");
    let mut out: Vec<(PathBuf, Report)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let r = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{p:?}: {e}"));
            (p, r)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(out.len() >= 3, "the committed reports are in reports/");
    out
}

fn parse(html: &str) -> roxmltree::Document<'_> {
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..roxmltree::ParsingOptions::default()
    };
    roxmltree::Document::parse_with_options(html, options).expect("well-formed page")
}

fn text(node: roxmltree::Node<'_, '_>) -> String {
    node.descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect()
}

/// The lines of the verdict block.
fn verdict_lines(doc: &roxmltree::Document<'_>) -> Vec<String> {
    let section = doc
        .descendants()
        .find(|n| {
            n.has_tag_name("section")
                && n.attribute("class")
                    .is_some_and(|c| c.starts_with("verdict"))
        })
        .expect("a verdict section");
    section
        .descendants()
        .filter(|n| n.has_tag_name("p") || n.has_tag_name("li"))
        .map(text)
        .collect()
}

#[test]
fn the_verdict_names_or_counts_every_scenario_with_trials() {
    for (path, r) in committed() {
        let html = render_report(&r);
        let doc = parse(&html);
        let lines = verdict_lines(&doc);
        let anomalies: u64 = r.scenarios.iter().map(|s| s.anomalies).sum();
        let headline = &lines[0];
        if anomalies == 0 {
            assert!(
                headline.starts_with("No anomaly in"),
                "{path:?}: {headline}"
            );
        } else {
            assert!(headline.contains(" seen "), "{path:?}: {headline}");
        }
        let with_events: Vec<&str> = r
            .scenarios
            .iter()
            .filter(|s| s.survival.as_ref().is_some_and(|sv| sv.events > 0))
            .map(|s| s.name.as_str())
            .collect();
        let without = r
            .scenarios
            .iter()
            .filter(|s| s.survival.as_ref().is_some_and(|sv| sv.events == 0))
            .count();
        let named = with_events
            .iter()
            .filter(|name| {
                lines
                    .iter()
                    .any(|l| l.starts_with(&format!("Trials of {name}:")))
            })
            .count();
        let rest = with_events.len() - named;
        if rest > 0 {
            let more = format!("…and {rest} more scenario");
            assert!(
                lines.iter().any(|l| l.starts_with(&more)),
                "{path:?}: no '{more}' in {lines:#?}"
            );
        }
        if without > 0 {
            let total: u64 = r
                .scenarios
                .iter()
                .filter_map(|s| s.survival.as_ref())
                .filter(|sv| sv.events == 0)
                .map(|sv| sv.trials)
                .sum();
            let needle = format!(
                "none of their {} trials saw an anomaly",
                unlink_race::export::format::format_count(total)
            );
            assert!(
                lines.iter().any(|l| l.contains(&needle)),
                "{path:?}: {without} scenarios' clean trials not accounted for: {lines:#?}"
            );
        }
    }
}

/// The paragraphs between the `<h2>` titled `title` and the next `<h2>`.
fn section_text(doc: &roxmltree::Document<'_>, title: &str) -> Option<String> {
    let h2 = doc
        .descendants()
        .find(|n| n.has_tag_name("h2") && text(*n) == title)?;
    let mut out = String::new();
    // `next_siblings` starts with the node itself.
    for n in h2.next_siblings().skip(1).filter(|n| n.is_element()) {
        if n.has_tag_name("h2") {
            break;
        }
        out += &text(n);
        out.push('\n');
    }
    Some(out)
}

#[test]
fn sections_with_nothing_to_show_say_so() {
    for (path, r) in committed() {
        let html = render_report(&r);
        let doc = parse(&html);
        let curves = r
            .scenarios
            .iter()
            .any(|s| s.survival.as_ref().is_some_and(|sv| sv.events > 0));
        let survival = section_text(&doc, "Cycles to the first anomaly")
            .unwrap_or_else(|| panic!("{path:?}: the survival section is always there"));
        if curves {
            assert!(survival.contains("Two rates, two questions"), "{path:?}");
        } else {
            assert!(
                survival.starts_with("No curve") || survival.starts_with("Not measured"),
                "{path:?}: {survival}"
            );
        }
        let timelines = r.scenarios.iter().any(|s| s.timeline.is_some());
        let timeline = section_text(&doc, "Timeline around the first anomaly")
            .unwrap_or_else(|| panic!("{path:?}: the timeline section is always there"));
        if !timelines {
            assert!(
                timeline.starts_with("None: no anomaly") || timeline.starts_with("Not recorded"),
                "{path:?}: {timeline}"
            );
        }
    }
}

const UNITS: [&str; 7] = ["ns", "µs", "ms", "s", "min", "h", "days"];

/// The unit a tick label ends with, if any (`"20 µs"` → `µs`).
fn unit_of(label: &str) -> Option<&str> {
    let (_, last) = label.rsplit_once(' ')?;
    UNITS.contains(&last).then_some(last)
}

#[test]
fn every_chart_axis_keeps_to_one_unit() {
    for (path, r) in committed() {
        let html = render_report(&r);
        let doc = parse(&html);
        let charts: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("svg") && n.attribute("class") != Some("icon"))
            .collect();
        assert!(!charts.is_empty(), "{path:?}: a grid report has charts");
        for svg in charts {
            let labels: Vec<String> = svg
                .children()
                .filter(|n| n.has_tag_name("text"))
                .map(text)
                .collect();
            let mut units: Vec<&str> = labels.iter().filter_map(|l| unit_of(l)).collect();
            units.dedup();
            assert!(
                units.len() <= 1,
                "{path:?}: mixed units {units:?} in {labels:?}"
            );
            assert!(!labels.iter().any(|l| l == "0 ns"), "{path:?}: {labels:?}");
            let title = svg.attribute("aria-label").unwrap_or("");
            let time_axis = labels.iter().find(|l| l.starts_with("time per cycle"));
            if let Some(axis) = time_axis {
                let unit = axis
                    .trim_start_matches("time per cycle (")
                    .trim_end_matches(')');
                assert!(UNITS.contains(&unit), "{path:?} {title}: axis label {axis}");
                // Log decades: every tick is 1, 2 or 5 times a power of ten.
                let ticks: Vec<f64> = labels.iter().filter_map(|l| l.parse().ok()).collect();
                assert!(ticks.len() >= 2, "{path:?} {title}: {labels:?}");
                for t in ticks {
                    let m = t / 10f64.powf(t.log10().floor());
                    assert!(
                        [1.0, 2.0, 5.0].iter().any(|k| (m - k).abs() < 1e-6),
                        "{path:?} {title}: tick {t} is not on a log axis"
                    );
                }
            }
        }
    }
}

#[test]
fn the_terminal_verdict_matches_the_page() {
    for (path, r) in committed() {
        let text = report_verdict(&r);
        assert!(
            text.starts_with(&format!("verdict on {}", r.machine.fs_type)),
            "{text}"
        );
        let anomalies: u64 = r.scenarios.iter().map(|s| s.anomalies).sum();
        if anomalies == 0 {
            assert!(text.contains("no anomaly: <"), "{path:?}: {text}");
        } else {
            // Every anomaly class seen is named with its pooled count.
            let mut seen: std::collections::BTreeMap<_, u64> = Default::default();
            for s in &r.scenarios {
                for (class, c) in &s.classes {
                    if !c.expected && c.count > 0 {
                        *seen.entry(*class).or_default() += c.count;
                    }
                }
            }
            for (class, count) in seen {
                let times = format!(
                    "{} time{}",
                    unlink_race::export::format::format_count(count),
                    if count == 1 { "" } else { "s" }
                );
                assert!(
                    text.contains(&format!("{class} seen {times}")),
                    "{path:?}: {class} {count}: {text}"
                );
            }
        }
    }
}

/// A zero count has a bound, never the rate `0` beside it.
#[test]
fn terminal_zero_counts_show_only_their_bound() {
    for (path, r) in committed() {
        let mut one = r.clone();
        one.scenarios.truncate(1);
        let text = summary(&one);
        for line in text.lines().filter(|l| l.contains("< ")) {
            let cells: Vec<&str> = line.split_whitespace().collect();
            // class, count, then the rate: a bound for a zero count.
            if cells.get(1) == Some(&"0") {
                assert_eq!(cells.get(2), Some(&"<"), "{path:?}: {line}");
            }
        }
        assert!(text.contains("95% upper bound"), "{path:?}: {text}");
    }
}

/// Every scenario's raced opens stand next to its cycles; the
/// committed reports predate the count and say so instead of a number.
#[test]
fn every_scenario_shows_its_raced_opens_or_that_they_were_not_counted() {
    for (path, r) in committed() {
        let html = render_report(&r);
        let doc = parse(&html);
        for s in &r.scenarios {
            let row = doc
                .descendants()
                .filter(|n| n.has_tag_name("tr"))
                .map(|tr| {
                    tr.children()
                        .filter(|c| c.is_element())
                        .map(text)
                        .collect::<Vec<_>>()
                })
                .find(|cells| cells.first() == Some(&s.name))
                .unwrap_or_else(|| panic!("{path:?}: no row for {}", s.name));
            let expected = match s.raced_opens {
                None => "not counted (older report)".to_string(),
                Some(n) => unlink_race::export::format::format_count(n),
            };
            assert!(
                row[2].starts_with(&expected),
                "{path:?} {}: {:?}",
                s.name,
                row
            );
        }
        if r.scenarios.iter().all(|s| s.raced_opens.is_none()) {
            assert!(
                html.contains("Raced opens: not counted (older report)."),
                "{path:?}"
            );
        }
    }
}

/// The committed pages are what the code renders from the committed JSON:
/// a change to the pages re-renders them (`cargo run --example
/// render_reports`) in the same commit, and a change meant to leave them
/// alone is seen to.
#[test]
fn the_committed_pages_are_what_the_code_renders() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/reference");
    let mut stale = Vec::new();
    for (path, _) in committed() {
        let report = unlink_race::report::load::load_report(&path).unwrap();
        let page = path.with_extension("html");
        let on_disk = std::fs::read_to_string(&page).unwrap_or_default();
        // The writer ends every file with a newline.
        if format!("{}\n", render_report(&report)) != on_disk {
            stale.push(page);
        }
    }
    let reports = unlink_race::export::files::load_reports_in(&dir).unwrap();
    let index = unlink_race::export::index::render_index_html(&reports);
    if std::fs::read_to_string(dir.join("index.html")).unwrap_or_default() != format!("{index}\n") {
        stale.push(dir.join("index.html"));
    }
    assert!(
        stale.is_empty(),
        "these pages differ from what the code renders; run `cargo run --example render_reports` \
         and check the difference is meant: {stale:?}"
    );
}
