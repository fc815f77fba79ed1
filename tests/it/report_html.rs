//! HTML pages: rendered from the stored reports in `tests/fixtures/`, parsed
//! back as XML, and checked for what a reader must find on them.
//!
//! Fixtures: `report-bench-linux-clean.json` (a small bench grid with no
//! anomaly, a hostile hostname and label), `report-bench-macos-anomalies.json`
//! (the full bench grid, interrupted, with zombie_fd, write_einval and stall
//! anomalies, expected races, trials, timelines, examples and stalls) and
//! `report-run-single.json` (one CLI scenario run as trials).

use std::path::Path;

use unlink_race::export::html::format::{
    RateText, format_count, format_duration_ns, format_one_in, format_plain, format_rate,
    format_rate_sig, format_si, format_unix_time,
};
use unlink_race::export::html::markup::{Markup, escape, is_relative_link};
use unlink_race::export::html::svg::{PALETTE, Scale, StepCurve, power_of_ten};
use unlink_race::export::html::{
    Cell, IndexColumn, IndexRow, index_rows, render_index, render_index_with, render_report,
};
use unlink_race::outcome::Class;
use unlink_race::report::schema::Report;

const CLEAN: &str = "report-bench-linux-clean.json";
const MACOS: &str = "report-bench-macos-anomalies.json";
const SINGLE: &str = "report-run-single.json";
const ALL: [&str; 3] = [CLEAN, MACOS, SINGLE];

fn fixture(name: &str) -> Report {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

/// Parses a page as XML; `<!DOCTYPE html>` is the only DTD it may carry.
fn parse(html: &str) -> roxmltree::Document<'_> {
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..roxmltree::ParsingOptions::default()
    };
    roxmltree::Document::parse_with_options(html, options)
        .unwrap_or_else(|e| panic!("page is not well-formed: {e}"))
}

/// Every text node of the page but the stylesheet, separated by newlines.
fn text_of(doc: &roxmltree::Document<'_>) -> String {
    let mut out = String::new();
    let styled = |n: &roxmltree::Node<'_, '_>| n.parent().is_some_and(|p| p.has_tag_name("style"));
    for node in doc.descendants().filter(|n| n.is_text() && !styled(n)) {
        out.push_str(node.text().unwrap_or(""));
        out.push('\n');
    }
    out
}

/// The text of an element, its descendants included.
fn inner_text(node: roxmltree::Node<'_, '_>) -> String {
    node.descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect()
}

/// For every table row whose first cell reads `first`, the texts of its other cells.
fn rows_starting(doc: &roxmltree::Document<'_>, first: &str) -> Vec<Vec<String>> {
    doc.descendants()
        .filter(|n| n.has_tag_name("tr"))
        .filter_map(|tr| {
            let mut cells = tr.children().filter(|c| c.is_element()).map(inner_text);
            (cells.next()? == first).then(|| cells.collect())
        })
        .collect()
}

fn rendered(name: &str) -> (Report, String) {
    let report = fixture(name);
    let html = render_report(&report);
    (report, html)
}

#[test]
fn every_page_is_well_formed_xml() {
    for name in ALL {
        let (_, html) = rendered(name);
        assert!(html.starts_with("<!DOCTYPE html>"), "{name}");
        let doc = parse(&html);
        assert_eq!(doc.root_element().tag_name().name(), "html", "{name}");
        let svgs = doc.descendants().filter(|n| n.has_tag_name("svg")).count();
        assert!(svgs > 0, "{name}: no chart");
    }
}

#[test]
fn every_svg_block_parses_on_its_own() {
    for name in ALL {
        let (_, html) = rendered(name);
        let mut rest = html.as_str();
        let mut blocks = 0;
        while let Some(start) = rest.find("<svg") {
            let end = rest[start..]
                .find("</svg>")
                .unwrap_or_else(|| panic!("{name}: unterminated <svg>"))
                + start
                + "</svg>".len();
            let block = &rest[start..end];
            roxmltree::Document::parse(block)
                .unwrap_or_else(|e| panic!("{name}: svg block {blocks} does not parse: {e}"));
            blocks += 1;
            rest = &rest[end..];
        }
        assert!(blocks > 0, "{name}");
    }
}

#[test]
fn pages_are_self_contained() {
    let reports: Vec<(String, Report)> = ALL.iter().map(|n| (n.to_string(), fixture(n))).collect();
    let mut pages: Vec<String> = reports.iter().map(|(_, r)| render_report(r)).collect();
    pages.push(render_index(&reports));
    for html in &pages {
        let doc = parse(html);
        assert!(!html.contains("http://") && !html.contains("https://"));
        for node in doc.descendants().filter(|n| n.is_element()) {
            assert!(!node.has_tag_name("script"), "a script element");
            assert!(!node.has_tag_name("link"), "an external stylesheet");
            assert!(!node.has_tag_name("img"), "an external image");
            assert!(node.attribute("src").is_none(), "a src attribute");
            for a in node.attributes() {
                assert!(
                    !a.name().starts_with("on"),
                    "an event handler: {}",
                    a.name()
                );
            }
            if let Some(href) = node.attribute("href") {
                assert!(is_relative_link(href), "non-relative link {href}");
            }
        }
    }
}

#[test]
fn verdict_comes_first_and_answers() {
    // No anomaly: the bound over every cycle.
    let (clean, html) = rendered(CLEAN);
    let doc = parse(&html);
    let verdict = doc
        .descendants()
        .find(|n| n.has_tag_name("section"))
        .expect("verdict section");
    assert!(verdict.attribute("class").unwrap().contains("pass"));
    let cycles: u64 = clean.scenarios.iter().map(|s| s.cycles).sum();
    let text = inner_text(verdict);
    assert!(
        text.contains(&format!(
            "No anomaly in {} cycles",
            format_si(cycles as f64)
        )),
        "{text}"
    );
    let bound = RateText::from_count(0, cycles);
    assert!(
        text.contains(&format!("{} per cycle at 95%", bound.rate())),
        "{text}"
    );
    assert!(bound.rate().starts_with("< "));

    // Anomalies: each class with its count and its "1 in" rate.
    for name in [MACOS, SINGLE] {
        let (report, html) = rendered(name);
        let doc = parse(&html);
        let verdict = doc
            .descendants()
            .find(|n| n.has_tag_name("section"))
            .expect("verdict section");
        assert!(verdict.attribute("class").unwrap().contains("fail"));
        let text = inner_text(verdict);
        for class in [Class::ZombieFd, Class::WriteEinval] {
            let (count, cycles) = report
                .scenarios
                .iter()
                .filter_map(|s| s.classes.get(&class).map(|c| (c.count, s.cycles)))
                .fold((0, 0), |(k, n), (c, s)| (k + c, n + s));
            assert!(
                text.contains(&format!("{class} seen {count} times")),
                "{name}: {text}"
            );
            let rate = RateText::from_count(count, cycles);
            assert!(text.contains(&rate.one_in()), "{name}: {text}");
            assert!(text.contains(&rate.interval()), "{name}: {text}");
        }
    }
}

#[test]
fn every_scenario_is_named() {
    for name in ALL {
        let (report, html) = rendered(name);
        let text = text_of(&parse(&html));
        for s in &report.scenarios {
            assert!(text.contains(&s.name), "{name}: {} missing", s.name);
            assert!(
                text.contains(&s.command),
                "{name}: command of {} missing",
                s.name
            );
        }
    }
}

#[test]
fn every_anomaly_class_shows_its_interval() {
    for name in ALL {
        let (report, html) = rendered(name);
        let text = text_of(&parse(&html));
        for s in &report.scenarios {
            for (class, c) in &s.classes {
                if c.expected {
                    continue;
                }
                if c.count > 0 {
                    let rate = RateText::stored(c.count, s.cycles, c.rate, c.ci_low, c.ci_high);
                    let interval =
                        format!("{} – {}", format_rate(c.ci_low), format_rate(c.ci_high));
                    assert_eq!(rate.interval(), interval, "two-digit form of {class}");
                    assert!(
                        text.contains(&interval),
                        "{name}: {} {class}: {interval} missing",
                        s.name
                    );
                } else {
                    // Nothing seen: the scenario's bound stands for the
                    // class, two-sided 95% by today's rule (older fixtures
                    // stored a one-sided bound).
                    let high = unlink_race::stats::rate_interval(0, s.cycles).high;
                    let bound = format!("< {}", format_rate(high));
                    assert!(
                        text.contains(&bound),
                        "{name}: {} {class}: {bound} missing",
                        s.name
                    );
                }
            }
        }
    }
}

#[test]
fn zero_counts_are_bounds_never_zero_percent() {
    for name in ALL {
        let (report, html) = rendered(name);
        let text = text_of(&parse(&html));
        assert!(!text.contains("0%"), "{name} writes 0%");
        assert!(!text.to_lowercase().contains("never"), "{name} says never");
        for s in report.scenarios.iter().filter(|s| s.anomalies == 0) {
            let bound = RateText::from_count(0, s.cycles);
            assert!(text.contains(&bound.rate()), "{name}: {}", s.name);
            assert!(text.contains(&bound.one_in_short()), "{name}: {}", s.name);
        }
    }
}

#[test]
fn expected_races_stay_out_of_the_anomaly_rate() {
    let (report, html) = rendered(MACOS);
    let doc = parse(&html);
    let verdict = doc
        .descendants()
        .find(|n| n.has_tag_name("section"))
        .unwrap();
    let headline = inner_text(
        verdict
            .descendants()
            .find(|n| n.attribute("class") == Some("headline"))
            .unwrap(),
    );
    assert!(!headline.contains("empty_read") && !headline.contains("short_read"));
    assert!(inner_text(verdict).contains("Expected races, not counted as anomalies"));
    // The scenarios table counts anomalies only.
    for s in &report.scenarios {
        // The scenarios table comes first.
        let cells = rows_starting(&doc, &s.name)
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no row for {}", s.name));
        // cycles, raced opens, overlapped opens, time per cycle, anomalies, per cycle
        assert_eq!(cells[4], format_count(s.anomalies), "{}", s.name);
        let rate = RateText::from_count(s.anomalies, s.cycles);
        assert_eq!(cells[5], rate.rate(), "{}", s.name);
    }
    let races = report
        .scenarios
        .iter()
        .filter(|s| s.classes[&Class::EmptyRead].expected && s.classes[&Class::EmptyRead].count > 0)
        .count();
    assert!(races > 0, "the fixture must hold expected races");
}

#[test]
fn examples_show_every_fstat_field() {
    for name in [MACOS, SINGLE] {
        let (report, html) = rendered(name);
        let doc = parse(&html);
        let zombie = report
            .scenarios
            .iter()
            .flat_map(|s| &s.examples)
            .find(|e| e.class == Class::ZombieFd)
            .expect("a zombie_fd example");
        let st = zombie.stat.expect("zombie example has fstat");
        let expected: [(&str, String); 13] = [
            ("st_dev", st.dev.to_string()),
            ("st_ino", st.ino.to_string()),
            ("st_mode", format!("0o{:o}", st.mode)),
            ("st_nlink", st.nlink.to_string()),
            ("st_uid", st.uid.to_string()),
            ("st_gid", st.gid.to_string()),
            ("st_rdev", st.rdev.to_string()),
            ("st_size", st.size.to_string()),
            ("st_blksize", st.blksize.to_string()),
            ("st_blocks", st.blocks.to_string()),
            ("st_atime", format!("{}.{:09}", st.atime_s, st.atime_ns)),
            ("st_mtime", format!("{}.{:09}", st.mtime_s, st.mtime_ns)),
            ("st_ctime", format!("{}.{:09}", st.ctime_s, st.ctime_ns)),
        ];
        for (field, value) in expected {
            let rows = rows_starting(&doc, field);
            assert!(!rows.is_empty(), "{name}: no {field} row");
            // The first table is zombie_fd's (report order), its first column the first example.
            assert_eq!(rows[0][0], value, "{name}: {field}");
        }
        assert_eq!(rows_starting(&doc, "st_ino")[0][0], "0");
        assert_eq!(rows_starting(&doc, "st_mode")[0][0], "0o100000");
        let errno = rows_starting(&doc, "errno");
        assert!(errno.iter().flatten().any(|c| c == "22 EINVAL"), "{name}");
    }
}

#[test]
fn trials_timeline_stalls_and_interruption_are_shown() {
    let (report, html) = rendered(MACOS);
    let doc = parse(&html);
    let text = text_of(&doc);
    assert!(report.interrupted);
    assert!(text.contains("Interrupted: the run was stopped"));
    let labels: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("svg"))
        .filter_map(|n| n.attribute("aria-label"))
        .collect();
    assert!(labels.contains(&"Probability of no anomaly yet"));
    for s in report.scenarios.iter().filter(|s| s.timeline.is_some()) {
        let t = s.timeline.as_ref().unwrap();
        let label = format!("{}: {} seen by {}", s.name, t.class, t.worker);
        assert!(labels.contains(&label.as_str()), "timeline of {}", s.name);
    }
    for s in &report.scenarios {
        if let Some(sv) = &s.survival {
            let median = format_duration_ns(sv.median_seconds.unwrap() * 1e9);
            assert!(text.contains(&median), "median time of {}", s.name);
            let (low, high) = sv.median_cycles_interval().unwrap();
            assert!(low <= sv.median_cycles.unwrap() && sv.median_cycles.unwrap() <= high);
            let cycles = format!(
                "{} cycles [95%: {} – {}]",
                format_si(sv.median_cycles.unwrap()),
                format_si(low),
                format_si(high)
            );
            assert!(text.contains(&cycles), "{cycles} of {}", s.name);
        }
        for stall in &s.stalls {
            assert!(text.contains(&stall.worker.to_string()));
            assert!(text.contains(&format_duration_ns(stall.elapsed_ns as f64)));
        }
    }
    assert!(text.contains("still blocked when the run ended"));

    let (single, html) = rendered(SINGLE);
    let text = text_of(&parse(&html));
    assert!(!single.interrupted);
    assert!(!text.contains("Interrupted"));
    assert!(text.contains("Cycles to the first anomaly"));
    assert!(text.contains("Timeline around the first anomaly"));
    assert!(!text.contains("Stalls"));
}

/// A timeline errno is shown by the name the observing machine gave it
/// (errno 11 from a Mac is `EDEADLK`, where Linux would say `EAGAIN`); an
/// event without a name, as in reports written before names were stored,
/// shows its number.
#[test]
fn timeline_errnos_are_named_where_they_were_observed() {
    let mut report = fixture(SINGLE);
    let t = report
        .scenarios
        .iter_mut()
        .find_map(|s| s.timeline.as_mut())
        .expect("a timeline");
    assert!(
        t.events
            .iter()
            .any(|e| e.errno != 0 && e.errno_name.is_empty()),
        "the stored report predates errno names"
    );
    let lo = t.events.iter().map(|e| e.t_ns).min().unwrap();
    let hi = t.events.iter().map(|e| e.t_ns).max().unwrap();
    let first = t.events.first_mut().unwrap();
    (first.t_ns, first.errno, first.errno_name) = (lo - 1, 11, "EDEADLK".into());
    let last = t.events.last_mut().unwrap();
    (last.t_ns, last.errno, last.errno_name) = (hi + 1, 11, String::new());
    let html = render_report(&report);
    let doc = parse(&html);
    let errno_cell = |t_ns: i64| {
        let rows = rows_starting(&doc, &t_ns.to_string());
        assert_eq!(rows.len(), 1, "one event at {t_ns}: {rows:?}");
        rows[0].last().cloned().unwrap()
    };
    assert_eq!(errno_cell(lo - 1), "EDEADLK");
    assert_eq!(errno_cell(hi + 1), "errno 11");
    assert!(!text_of(&doc).contains("EAGAIN"));
}

#[test]
fn grids_get_charts_and_a_single_scenario_gets_every_class() {
    let (_, html) = rendered(MACOS);
    let text = text_of(&parse(&html));
    assert!(text.contains("Anomaly rate by thread count"));
    assert!(text.contains("Time per cycle by thread count"));
    for panel in ["7B files", "4K files", "1M files"] {
        assert!(text.contains(panel), "{panel}");
    }

    let (single, html) = rendered(SINGLE);
    let doc = parse(&html);
    let text = text_of(&doc);
    assert!(!text.contains("by thread count"));
    let s = &single.scenarios[0];
    for (class, c) in &s.classes {
        let rows = rows_starting(&doc, class.name());
        assert_eq!(rows.len(), 1, "one row for {class}");
        assert_eq!(rows[0][0], format_count(c.count), "{class}");
    }
}

#[test]
fn criterion_pages_are_linked() {
    let (report, html) = rendered(CLEAN);
    let doc = parse(&html);
    let hrefs: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("a"))
        .filter_map(|n| n.attribute("href"))
        .collect();
    for s in &report.scenarios {
        let page = s
            .criterion_page
            .as_deref()
            .expect("bench fixture has pages");
        assert!(hrefs.contains(&page), "{page}");
    }
}

#[test]
fn report_text_is_escaped() {
    let (report, html) = rendered(CLEAN);
    assert!(report.machine.hostname.contains("<script>"));
    assert!(report.label.contains('&'));
    assert!(!html.to_lowercase().contains("<script"));
    let text = text_of(&parse(&html));
    assert!(text.contains(&report.machine.hostname));
    assert!(text.contains(&report.label));
    assert_eq!(
        escape("a<b>&\"c'\u{1}"),
        "a&lt;b&gt;&amp;&quot;c&#39;\u{fffd}"
    );
}

#[test]
fn index_puts_reports_side_by_side() {
    let reports: Vec<(String, Report)> = ALL.iter().map(|n| (n.to_string(), fixture(n))).collect();
    let html = render_index(&reports);
    assert!(!html.to_lowercase().contains("<script"));
    let doc = parse(&html);
    let text = text_of(&doc);
    let hrefs: Vec<&str> = doc
        .descendants()
        .filter_map(|n| n.attribute("href"))
        .collect();
    for (file, r) in &reports {
        let page = file.replace(".json", ".html");
        assert!(hrefs.contains(&page.as_str()), "{page}");
        for field in [
            &r.label,
            &r.machine.os_name,
            &r.machine.kernel,
            &r.machine.fs_type,
            &r.machine.hostname,
        ] {
            assert!(text.contains(field.as_str()), "{field}");
        }
        let os = format!("{} {}", r.machine.os, r.machine.os_version);
        assert!(text.contains(&os), "{os}");
    }
    assert!(text.contains("interrupted"));

    // One row per distinct config, each cell the scenario of that report.
    let rows = index_rows(&reports);
    let mut configs: Vec<_> = reports
        .iter()
        .flat_map(|(_, r)| r.scenarios.iter().map(|s| &s.config))
        .collect();
    configs.sort();
    configs.dedup();
    assert_eq!(rows.len(), configs.len());
    for row in &rows {
        assert_eq!(row.cells.len(), reports.len());
        for (cell, (_, report)) in row.cells.iter().zip(&reports) {
            let present = report.scenarios.iter().any(|s| s.config == *row.config);
            assert_eq!(cell.is_some(), present, "{}", row.name);
            if let Some(s) = cell {
                assert_eq!(s.config, *row.config);
            }
        }
        assert_eq!(rows_starting(&doc, row.name).len(), 1, "{}", row.name);
    }
    for (_, r) in &reports {
        for s in &r.scenarios {
            let rate = RateText::from_count(s.anomalies, s.cycles);
            assert!(text.contains(&rate.rate()), "{}", s.name);
            if s.anomalies > 0 {
                assert!(text.contains(&rate.interval()), "{}", s.name);
            }
        }
    }
}

/// A stand-in for the comparison verdict column.
struct Seen;

impl IndexColumn for Seen {
    fn header(&self) -> String {
        "reports with anomalies".into()
    }
    fn cell(&self, row: &IndexRow<'_>) -> Cell {
        let n = row
            .cells
            .iter()
            .flatten()
            .filter(|s| s.anomalies > 0)
            .count();
        Cell {
            text: format!("{n} <of> {}", row.cells.len()),
            class: if n > 0 { "bad" } else { "" },
        }
    }
}

#[test]
fn index_takes_extra_columns() {
    let reports: Vec<(String, Report)> = [CLEAN, MACOS]
        .iter()
        .map(|n| (n.to_string(), fixture(n)))
        .collect();
    let html = render_index_with(&reports, &[&Seen]);
    let doc = parse(&html);
    let text = text_of(&doc);
    assert!(text.contains("reports with anomalies"));
    assert!(text.contains("1 <of> 2"), "cells are escaped text");
    assert!(text.contains("0 <of> 2"));
    let header = doc
        .descendants()
        .find(|n| n.has_tag_name("tr"))
        .expect("header row");
    let cells = header.children().filter(|c| c.is_element()).count();
    assert_eq!(cells, 1 + reports.len() + 1);
}

#[test]
fn markup_closes_what_it_opens() {
    let mut m = Markup::new();
    m.open("p", &[("title", "a\"b")]).text("x < y").close();
    assert_eq!(m.depth(), 0);
    assert_eq!(m.into_string(), "<p title=\"a&quot;b\">x &lt; y</p>");
    let result = std::panic::catch_unwind(|| {
        let mut m = Markup::new();
        m.open("div", &[]);
        m.into_string()
    });
    assert!(result.is_err(), "an unclosed element must not reach a page");
    assert!(is_relative_link("../target/criterion/x/report/index.html"));
    assert!(is_relative_link("mbp.html#r1"));
    assert!(!is_relative_link("https://example.org/"));
    assert!(!is_relative_link("javascript:alert(1)"));
    assert!(!is_relative_link("/etc/passwd"));
    assert!(!is_relative_link("//host/x"));
}

#[test]
fn rates_have_two_significant_digits() {
    assert_eq!(format_rate(3.14e-7), "3.1e-7");
    assert_eq!(format_rate(0.25), "0.25");
    assert_eq!(format_rate(0.0312), "0.031");
    assert_eq!(format_rate(1.0), "1.0");
    assert_eq!(format_rate(0.00996), "1.0e-2");
    assert_eq!(format_rate_sig(0.70729, 4), "0.7073");
    assert_eq!(format_rate_sig(3.14159e-7, 3), "3.14e-7");
}

#[test]
fn magnitudes_get_suffixes() {
    assert_eq!(format_si(3_210_000.0), "3.2 M");
    assert_eq!(format_si(850_400.0), "850 K");
    assert_eq!(format_si(999_960.0), "1.0 M");
    assert_eq!(format_si(10f64.powf(6.0)), "1.0 M");
    assert_eq!(format_si(999_999.999_999_9), "1.0 M");
    assert_eq!(format_si(12.0), "12");
    assert_eq!(format_si(1.5), "1.5");
    assert_eq!(format_si(0.0), "0");
    assert_eq!(format_one_in(1.0 / 3.2e6), "1 in 3.2 M cycles");
    // remove_enoent counts each deleter's attempt: more than once per cycle.
    assert_eq!(format_one_in(2.5), "2.5 per cycle");
    let many = unlink_race::export::format::RateText::from_count(25, 10);
    assert_eq!(many.one_in_short(), "2.5 per cycle");
    assert!(!many.one_in_interval().contains("1 in 0."));
}

#[test]
fn counts_durations_dates() {
    assert_eq!(format_count(12_345_678), "12,345,678");
    assert_eq!(format_count(999), "999");
    assert_eq!(format_plain(0.6000000000000001), "0.6");
    assert_eq!(format_plain(-0.0001), "0");
    assert_eq!(format_plain(-20.0), "-20");
    assert_eq!(format_duration_ns(850.0), "850 ns");
    assert_eq!(format_duration_ns(1_234.0), "1.2 µs");
    assert_eq!(format_duration_ns(90e9), "1.5 min");
    assert_eq!(format_unix_time(0), "1970-01-01 00:00 UTC");
    assert_eq!(format_unix_time(1_709_251_200), "2024-03-01 00:00 UTC");
}

#[test]
fn rate_text_bounds_and_intervals() {
    let none = RateText::from_count(0, 1_000_000);
    // The two-sided 95% upper end, 1 − 0.025^(1/10⁶) = 3.69e-6.
    assert_eq!(none.rate(), "< 3.7e-6");
    assert_eq!(none.one_in(), "fewer than 1 in 270 K cycles");
    assert_eq!(none.one_in_short(), "< 1 in 270 K");
    assert_eq!(none.interval(), "< 3.7e-6 (upper bound)");
    let seen = RateText::from_count(3, 1_000_000);
    assert_eq!(seen.rate(), "3.0e-6");
    assert_eq!(seen.one_in(), "1 in 330 K cycles");
    assert_eq!(seen.one_in_short(), "1 in 330 K");
    // Narrow intervals get the digits that tell their ends apart.
    let narrow = RateText::stored(707, 1000, 0.707, 0.70730, 0.70815);
    assert_eq!(narrow.interval(), "0.707 – 0.708");
    let narrower = RateText::stored(712, 1000, 0.712, 0.71210, 0.71240);
    assert_eq!(narrower.interval(), "0.7121 – 0.7124");
}

#[test]
fn scales_and_ticks() {
    assert_eq!(
        Scale::log_covering([3e-7, 2e-4], 1),
        Scale::Log {
            min: 1e-7,
            max: 1e-3
        }
    );
    let Scale::Log { min, max } = Scale::log_covering([3e-7, 4e-7], 3) else {
        panic!("log scale expected")
    };
    assert!((max / min - 1e3).abs() < 1e-6);
    assert!(min <= 3e-7 && max >= 4e-7);
    let linear = Scale::linear_covering([0.3, 9.2], true);
    assert_eq!(
        linear,
        Scale::Linear {
            min: 0.0,
            max: 10.0
        }
    );
    assert_eq!(linear.ticks(), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
    assert!(Scale::auto(&[1.0, 1000.0], 20.0).is_log());
    assert!(!Scale::auto(&[1.0, 10.0], 20.0).is_log());
    assert_eq!(power_of_ten(1e-6), "10⁻⁶");
    assert_eq!(power_of_ten(1.0), "1");
    assert_eq!(power_of_ten(2e-3), "2×10⁻³");
    assert_eq!(power_of_ten(1e-5 * 0.999_999_999), "10⁻⁵");
    assert_eq!(power_of_ten(3.3e-3), "3.3e-3");
}

#[test]
fn step_curve_value() {
    let c = StepCurve {
        color: PALETTE[0],
        start: 0.0,
        steps: vec![(10.0, 0.8), (20.0, 0.5)],
        end: 30.0,
        censored: vec![],
        model: vec![],
    };
    assert_eq!(c.at(5.0), 1.0);
    assert_eq!(c.at(10.0), 0.8);
    assert_eq!(c.at(25.0), 0.5);
}

#[test]
fn odd_reports_still_render() {
    // No scenario at all.
    let mut empty = fixture(SINGLE);
    empty.scenarios.clear();
    parse(&render_report(&empty));
    render_index(&[("empty.json".into(), empty)]);

    // A scenario that ran no cycle, an absolute link that must not become
    // one, an empty timeline.
    let mut odd = fixture(MACOS);
    let s = &mut odd.scenarios[0];
    s.criterion_page = Some("https://example.org/report".into());
    s.timeline.as_mut().unwrap().events.clear();
    let idle = &mut odd.scenarios[1];
    idle.cycles = 0;
    idle.anomalies = 0;
    for c in idle.classes.values_mut() {
        c.count = 0;
    }
    let html = render_report(&odd);
    parse(&html);
    assert!(!html.contains("https://example.org"), "only relative links");
}

/// The single-scenario fixture as a report since the raced-open count: 1.2 M
/// raced opens, a pace chosen by `auto`, every anomaly class per raced open.
fn single_with_raced_opens(raced: u64) -> Report {
    let mut r = fixture(SINGLE);
    let s = &mut r.scenarios[0];
    crate::fixtures::count_raced_opens(s, raced);
    s.pace = unlink_race::scenario::Pace::Check;
    s.calibration = Some(unlink_race::report::schema::Calibration {
        chosen: unlink_race::scenario::Pace::Check,
        chosen_by_anomalies: false,
        chosen_by: None,
        candidates: [
            (unlink_race::scenario::Pace::Spin, 9.0),
            (unlink_race::scenario::Pace::Check, 580.0),
        ]
        .into_iter()
        .map(
            |(pace, per_second)| unlink_race::report::schema::CalibrationCandidate {
                pace,
                cycles: 1000,
                raced_opens: 10,
                anomalies: 0,
                elapsed_ns: 250_000_000,
                raced_opens_per_second: per_second,
                overlapped_opens: None,
                overlapped_opens_per_second: None,
                rounds_raced_opens_per_second: Vec::new(),
                rounds_overlapped_opens_per_second: Vec::new(),
                rounds_anomalies_per_second: Vec::new(),
            },
        )
        .collect(),
    });
    r
}

/// The page's row of a class in the outcome-classes table (the table with
/// the per-raced-open columns), without its first cell.
fn class_row(doc: &roxmltree::Document<'_>, class: &str) -> Vec<String> {
    let table = doc
        .descendants()
        .find(|n| {
            n.has_tag_name("table")
                && n.descendants().any(|th| {
                    th.has_tag_name("th") && inner_text(th) == "95% interval (per raced open)"
                })
        })
        .expect("a class table with rates per raced open");
    table
        .descendants()
        .filter(|n| n.has_tag_name("tr"))
        .find_map(|tr| {
            let mut cells = tr.children().filter(|c| c.is_element()).map(inner_text);
            (cells.next()? == class).then(|| cells.collect())
        })
        .unwrap_or_else(|| panic!("no class row for {class}"))
}

#[test]
fn a_page_shows_raced_opens_and_rates_per_raced_open() {
    // Raced opens next to cycles, the pace and its calibration, and
    // every anomaly class per raced open with its interval.
    let mut r = single_with_raced_opens(1_200_000);
    let s = &mut r.scenarios[0];
    // A clean run: no anomaly, so the clean sentence applies.
    for c in s.classes.values_mut().filter(|c| !c.expected) {
        c.count = 0;
    }
    s.anomalies = 0;
    crate::fixtures::count_raced_opens(s, 1_200_000);
    let s = r.scenarios[0].clone();
    let html = render_report(&r);
    let doc = parse(&html);
    let text = text_of(&doc);

    let row = rows_starting(&doc, &s.name).remove(0);
    assert_eq!(row[0], format_count(s.cycles));
    let share = 100.0 * 1.2e6 / s.cycles as f64;
    assert_eq!(
        row[1],
        format!(
            "1,200,000{share:.2}% · {}/s",
            format_si(s.raced_opens_per_second.unwrap())
        )
    );

    // 0 in 1.2 M raced opens: the 95% upper bound 1 − 0.025^(1/1.2e6) = 3.07e-6.
    assert!(
        text.contains("0 zombie_fd in 1.2 M raced opens (< 3.1e-6 per raced open)"),
        "{text}"
    );
    assert!(text.contains("check (chosen by auto)"), "{text}");
    assert!(text.contains("spin 9.0/s, check 580/s"), "{text}");
    assert!(!text.contains("warning:"), "a pressed race has no warning");
    let zombie = class_row(&doc, "zombie_fd");
    assert_eq!(zombie[4..], ["< 3.1e-6", "95% upper bound"]);
    // Normal outcomes have no rate per raced open.
    assert_eq!(class_row(&doc, "ok")[4], "—");

    // With anomalies: their rate per raced open and its interval, in the
    // class table and in the pressure table, as the terminal summary says.
    let r = single_with_raced_opens(1_000);
    let s = &r.scenarios[0];
    let html = render_report(&r);
    let doc = parse(&html);
    let text = text_of(&doc);
    let z = s.classes[&Class::ZombieFd].per_raced_open.unwrap();
    assert_eq!(z.rate, 11.0 / 1000.0);
    let zombie = class_row(&doc, "zombie_fd");
    assert_eq!(zombie[4], "0.011");
    assert_eq!(
        zombie[5],
        format!(
            "{} – {}",
            format_rate_sig(z.ci_low, 2),
            format_rate_sig(z.ci_high, 2)
        )
    );
    let summary = unlink_race::export::summary::verdict(s);
    assert!(
        summary.contains("11 in 1.0 K raced opens (0.011 per raced open"),
        "{summary}"
    );
    assert!(
        text.contains("zombie_fd: 11 in 1.0 K raced opens (0.011 per raced open [95%:"),
        "{text}"
    );
}

/// Each pressure-table row says what decided its own calibration: raced
/// opens/s, anomalies/s, or nothing at all (then `sleep` was kept).
#[test]
fn each_calibration_row_names_what_decided_it() {
    let mut r = single_with_raced_opens(1_000);
    let base = r.scenarios[0].clone();
    let mut by_anomalies = base.clone();
    by_anomalies.name = "by-anomalies".into();
    by_anomalies
        .calibration
        .as_mut()
        .unwrap()
        .chosen_by_anomalies = true;
    let mut nothing = base.clone();
    nothing.name = "nothing-raced".into();
    nothing.pace = unlink_race::scenario::Pace::Sleep;
    for c in &mut nothing.calibration.as_mut().unwrap().candidates {
        c.raced_opens = 0;
        c.anomalies = 0;
    }
    r.scenarios = vec![by_anomalies, base.clone(), nothing];
    let doc_html = render_report(&r);
    let doc = parse(&doc_html);
    let decided = |name: &str| -> String {
        rows_starting(&doc, name)
            .into_iter()
            .find(|row| row.iter().any(|c| c.contains("(chosen by auto)")))
            .unwrap_or_else(|| panic!("no pressure row for {name}"))
            .last()
            .unwrap()
            .clone()
    };
    assert!(
        decided("by-anomalies").starts_with("anomalies/s in calibration: spin "),
        "{}",
        decided("by-anomalies")
    );
    assert!(
        decided(&base.name).starts_with("raced opens/s in calibration: spin 9.0/s, check 580/s"),
        "{}",
        decided(&base.name)
    );
    assert_eq!(
        decided("nothing-raced"),
        "no candidate raced an open or found an anomaly in calibration: sleep kept"
    );
    // The terminal says the same.
    let summary = unlink_race::export::summary::summary(&Report {
        scenarios: vec![r.scenarios[2].clone()],
        ..r.clone()
    });
    assert!(
        summary
            .contains("pace sleep, kept by auto: no candidate raced an open or found an anomaly"),
        "{summary}"
    );
}

#[test]
fn a_barely_pressed_race_gets_the_summary_warning() {
    let r = single_with_raced_opens(3);
    let s = &r.scenarios[0];
    let warning = unlink_race::export::summary::pressure_warning(s).expect("3 raced opens warn");
    assert!(
        warning.contains("only 3 raced opens in 1,334,533 removals"),
        "{warning}"
    );
    let one = single_with_raced_opens(1);
    let single = unlink_race::export::summary::pressure_warning(&one.scenarios[0]).unwrap();
    assert!(single.contains("only 1 raced open in "), "{single}");
    let html = render_report(&r);
    let text = text_of(&parse(&html));
    assert!(text.contains(&warning), "{text}");
    // None at all: the other warning.
    let r = single_with_raced_opens(0);
    let warning = unlink_race::export::summary::pressure_warning(&r.scenarios[0]).unwrap();
    assert!(warning.contains("no open raced an unlink"), "{warning}");
    assert!(text_of(&parse(&render_report(&r))).contains(&warning));
}

#[test]
fn an_older_report_says_raced_opens_were_not_counted() {
    let r = fixture(SINGLE);
    assert!(
        r.scenarios[0].raced_opens.is_none(),
        "the fixture predates the count"
    );
    let html = render_report(&r);
    let doc = parse(&html);
    let row = rows_starting(&doc, &r.scenarios[0].name).remove(0);
    assert_eq!(row[1], "not counted (older report)");
    assert_eq!(
        class_row(&doc, "zombie_fd")[4],
        "not counted (older report)"
    );
    let text = text_of(&doc);
    assert!(
        text.contains("Raced opens: not counted (older report)."),
        "{text}"
    );
    assert!(!text.contains("warning:"));
    assert!(
        !text.contains(" raced opens ("),
        "no rate per raced open is made up"
    );

    // A grid pools each class per raced open where it was counted.
    let mut grid = fixture(CLEAN);
    let html = render_report(&grid);
    assert!(text_of(&parse(&html)).contains("not counted (older report)"));
    for s in &mut grid.scenarios {
        crate::fixtures::count_raced_opens(s, 1000);
    }
    let raced = 1000 * grid.scenarios.len() as u64;
    let doc_html = render_report(&grid);
    let doc = parse(&doc_html);
    let zombie = class_row(&doc, "zombie_fd");
    let bound = unlink_race::stats::rate_interval(0, raced).high;
    assert_eq!(zombie[5], format!("< {}", format_rate(bound)));
}

#[test]
fn the_index_shows_each_reports_raced_opens() {
    let old = fixture(SINGLE);
    let new = single_with_raced_opens(1_200_000);
    let reports = vec![("old.json".to_string(), old), ("new.json".to_string(), new)];
    let html = render_index(&reports);
    let doc = parse(&html);
    let row = rows_starting(&doc, "raced opens").remove(0);
    let share = 100.0 * 1.2e6 / reports[1].1.scenarios[0].cycles as f64;
    assert_eq!(
        row,
        [
            "not counted (older report)".to_string(),
            format!("1.2 M ({share:.2}% of cycles)")
        ]
    );
    assert!(text_of(&doc).contains("1,200,000 raced opens"));
    let md = unlink_race::export::index::render_index_markdown(&reports);
    assert!(
        md.contains(&format!(
            "| raced opens | not counted (older report) | 1.2 M ({share:.2}% of cycles) |"
        )),
        "{md}"
    );
}

/// A clean report that counted raced opens says so in its verdict, pooled
/// per raced open, on the page and in the bench's terminal verdict; one that
/// predates the count, or saw `zombie_fd`, does not.
#[test]
fn a_clean_verdict_gives_zombie_fd_per_raced_open() {
    use unlink_race::export::summary::{pooled_clean_per_raced_open, report_verdict};
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/reference/linux-12-ext4-vm.json");
    let report = unlink_race::report::load::load_report(&path).unwrap();
    let raced: u64 = report
        .scenarios
        .iter()
        .map(|s| s.raced_opens.unwrap())
        .sum();
    let bound = unlink_race::stats::rate_interval(0, raced).high;
    let line = pooled_clean_per_raced_open(&report).expect("counted and clean");
    assert!(line.starts_with("0 zombie_fd in "), "{line}");
    assert!(
        line.contains(&unlink_race::export::format::format_rate(bound)),
        "{line} (bound {bound})"
    );
    let text = text_of(&parse(&render_report(&report)));
    assert!(
        text.contains(&format!("{line}, all 48 scenarios pooled.")),
        "{text}"
    );
    assert!(report_verdict(&report).contains(&line));

    let mut older = report.clone();
    older.scenarios[3].raced_opens = None;
    assert_eq!(pooled_clean_per_raced_open(&older), None);
    let mut seen = report;
    seen.scenarios[0]
        .classes
        .get_mut(&Class::ZombieFd)
        .unwrap()
        .count = 1;
    assert_eq!(pooled_clean_per_raced_open(&seen), None);
}

/// Where no open raced, no clause offers a bound per raced open (it would be
/// `< 1`, which says nothing); small counts are written as integers.
#[test]
fn no_raced_open_gives_no_rate_per_raced_open() {
    use unlink_race::export::summary::{
        NO_RACED_OPEN, clean_per_raced_open, pooled_clean_per_raced_open, verdict,
    };
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/reference/linux-12-ext4-vm.json");
    let mut report = unlink_race::report::load::load_report(&path).unwrap();
    for s in &mut report.scenarios {
        s.raced_opens = Some(0);
    }
    let s = &report.scenarios[0];
    assert_eq!(clean_per_raced_open(s).as_deref(), Some(NO_RACED_OPEN));
    assert!(verdict(s).ends_with(NO_RACED_OPEN), "{}", verdict(s));
    assert_eq!(
        pooled_clean_per_raced_open(&report).as_deref(),
        Some(NO_RACED_OPEN)
    );
    let text = text_of(&parse(&render_report(&report)));
    assert!(!text.contains("< 1.0"), "{text}");
    assert!(text.contains("no raced open"), "{text}");

    report.scenarios[0].raced_opens = Some(3);
    let line = clean_per_raced_open(&report.scenarios[0]).unwrap();
    assert!(line.starts_with("0 zombie_fd in 3 raced opens ("), "{line}");
    assert_eq!(unlink_race::export::format::format_count_si(999), "999");
    assert_eq!(unlink_race::export::format::format_count_si(1_240), "1.2 K");
    use unlink_race::export::format::raced_opens_phrase;
    assert_eq!(raced_opens_phrase(1), "1 raced open");
    assert_eq!(raced_opens_phrase(1_234), "1,234 raced opens");
}

/// Overlapped opens stand beside raced opens on the page: in the scenarios
/// table, the race-pressure table and the class table (with rates per
/// overlapped open); a scenario of worker processes says they were not
/// counted, and the index page totals them.
#[test]
fn a_page_shows_overlapped_opens_beside_raced_opens() {
    use crate::fixtures::ReportBuilder;
    use unlink_race::scenario::{Scenario, Workers};
    let threads = ReportBuilder::new("ov")
        .scenario(1, 100_000, 2000.0, &[(Class::ZombieFd, 12)])
        .raced_opens(4_000)
        .overlapped_opens(1_000)
        .build();
    let html = render_report(&threads);
    let doc = parse(&html);
    let text = text_of(&doc);
    for shown in [
        "overlapped opens",
        "per overlapped open",
        "95% interval (per overlapped open)",
        "anomalies per overlapped open",
        "1,000 (25% of raced opens, ",
        "12 in 1.0 K overlapped opens (0.012 per overlapped open [95%:",
    ] {
        assert!(text.contains(shown), "{shown:?} missing:\n{text}");
    }
    let processes = Scenario {
        workers: Workers::Processes,
        ..Scenario::default()
    };
    let report = ReportBuilder::new("pr")
        .scenario_of(&processes, 100_000, 2000.0, &[])
        .raced_opens(4_000)
        .build();
    let page = render_report(&report);
    let text = text_of(&parse(&page));
    assert!(text.contains("not counted (worker processes)"), "{text}");
    assert!(
        !text.contains("95% interval (per overlapped open)"),
        "no such class column without the count"
    );
    let index = render_index(&[("ov.json".to_string(), threads)]);
    assert!(index.contains("overlapped opens"), "{index}");
    assert!(index.contains("1.0 K (25% of raced opens)"), "{index}");
}
