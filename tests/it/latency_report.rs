//! The report's optional `latency` section (time to the first anomaly on
//! zombiefs, written by the bench): older reports load without it, a report
//! with it round-trips, its medians are the Kaplan–Meier ones, and the page
//! leads with it.

use std::path::Path;

use unlink_race::export::html::render_report;
use unlink_race::outcome::Class;
use unlink_race::report::build::latency_medians;
use unlink_race::report::load::load_report;
use unlink_race::report::schema::{
    LatencyMedian, LatencyMethod, LatencyPoint, Pace, Report, Trial,
};

use crate::fixtures::{ReportBuilder, write_report};

/// The `i`th of 20 trials, `step_us` apart: `10 i` cycles, `i × step_us` µs.
fn trial(i: u64, step_us: u64, censored: bool) -> Trial {
    Trial {
        cycles: i * 10,
        censored,
        elapsed_ns: i * step_us * 1000,
    }
}

/// 20 trials of 1..=20 steps of 1 ms, `censored` of them, the longest, at a
/// 3 s cap instead.
fn point(probability: f64, method: LatencyMethod, censored: u64) -> LatencyPoint {
    point_stepped(probability, method, censored, 1000)
}

fn point_stepped(
    probability: f64,
    method: LatencyMethod,
    censored: u64,
    step_us: u64,
) -> LatencyPoint {
    let mut trials: Vec<Trial> = (1..=20 - censored)
        .map(|i| trial(i, step_us, false))
        .collect();
    trials.extend((0..censored).map(|_| Trial {
        cycles: 300_000,
        censored: true,
        elapsed_ns: 3_000_000_000,
    }));
    let (median_cycles, median_seconds) = latency_medians(&trials);
    LatencyPoint {
        probability,
        race: Default::default(),
        creators: None,
        readers: 1,
        deleters: 1,
        method,
        pace: Pace::Check,
        calibration: None,
        cap_ns: 3_000_000_000,
        cap_cycles: 2_000_000,
        trials,
        median_cycles,
        median_seconds,
    }
}

fn with_latency() -> Report {
    let mut report = ReportBuilder::new("lat")
        .scenario(1, 10_000, 2000.0, &[(Class::ZombieFd, 3)])
        .build();
    report.latency = vec![
        point(0.01, LatencyMethod::Harness, 0),
        point(0.01, LatencyMethod::Bare, 0),
        point(0.001, LatencyMethod::Harness, 0),
        point_stepped(0.001, LatencyMethod::Bare, 5, 800),
    ];
    report
}

#[test]
fn latency_medians_are_kaplan_meier_with_order_statistic_intervals() {
    // 1..=20 ms, no censoring: the curve reaches 0.5 at 10 ms; n = 20 gives
    // ranks 6 and 15.
    let p = point(0.001, LatencyMethod::Harness, 0);
    assert_eq!(
        p.median_seconds,
        LatencyMedian {
            median: Some(0.010),
            ci_low: Some(0.006),
            ci_high: Some(0.015),
        }
    );
    assert_eq!(
        p.median_cycles,
        LatencyMedian {
            median: Some(100.0),
            ci_low: Some(60.0),
            ci_high: Some(150.0),
        }
    );
    // 5 censored at the cap: the 15th trial is still an event.
    let p = point(0.001, LatencyMethod::Bare, 5);
    assert_eq!(p.median_seconds.ci_high, Some(0.015));
    // 6 censored: the 15th is a censored trial, the upper end is beyond the cap.
    let p = point(0.001, LatencyMethod::Bare, 6);
    assert_eq!(p.median_seconds.median, Some(0.010));
    assert_eq!(p.median_seconds.ci_high, None);
    // 11 censored: the curve stops at 11/20, no median.
    let p = point(0.001, LatencyMethod::Bare, 11);
    assert_eq!(p.median_seconds.median, None);
}

#[test]
fn a_report_without_latency_loads_and_is_written_without_it() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/report-bench-macos-anomalies.json");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        !text.contains("\"latency\""),
        "the fixture predates the section"
    );
    let report = load_report(&path).unwrap();
    assert!(report.latency.is_empty());
    assert_eq!(report.schema_version, 1);
    let json = serde_json::to_value(&report).unwrap();
    assert!(
        json.get("latency").is_none(),
        "an empty section is not written"
    );
}

#[test]
fn a_report_with_latency_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let report = with_latency();
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["latency"][0]["method"], "harness");
    assert_eq!(json["latency"][1]["method"], "bare");
    assert_eq!(json["latency"][3]["pace"], "check");
    assert_eq!(json["latency"][3]["trials"][19]["censored"], true);
    assert_eq!(json["schema_version"], 1);
    let loaded = load_report(&write_report(dir.path(), "lat.json", &report)).unwrap();
    assert_eq!(loaded.latency.len(), report.latency.len());
    // serde_json may read a float back one ulp off; everything else is exact.
    let close = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => (a / b - 1.0).abs() < 1e-15,
        (a, b) => a == b,
    };
    for (l, r) in loaded.latency.iter().zip(&report.latency) {
        assert!(close(Some(l.probability), Some(r.probability)));
        assert_eq!(
            (
                l.readers,
                l.deleters,
                l.method,
                l.pace,
                l.cap_ns,
                l.cap_cycles
            ),
            (
                r.readers,
                r.deleters,
                r.method,
                r.pace,
                r.cap_ns,
                r.cap_cycles
            )
        );
        assert_eq!(l.trials, r.trials);
        for (a, b) in [
            (l.median_seconds, r.median_seconds),
            (l.median_cycles, r.median_cycles),
        ] {
            assert!(close(a.median, b.median) && close(a.ci_low, b.ci_low));
            assert!(close(a.ci_high, b.ci_high), "{a:?} {b:?}");
        }
    }
}

#[test]
fn the_page_leads_with_the_time_to_the_first_anomaly() {
    let html = render_report(&with_latency());
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..roxmltree::ParsingOptions::default()
    };
    let doc = roxmltree::Document::parse_with_options(&html, options)
        .unwrap_or_else(|e| panic!("page is not well-formed: {e}"));
    let texts: Vec<&str> = doc.descendants().filter_map(|n| n.text()).collect();
    let lead = texts
        .iter()
        .position(|t| t.starts_with("unlink-race finds a defect that hits 1 in 1,000 racing opens"))
        .expect("the lead sentence");
    assert_eq!(
        texts[lead],
        "unlink-race finds a defect that hits 1 in 1,000 racing opens in a median of 10 ms \
         (95%: 6.0 ms to 15 ms) on this machine (bare loop, pace check: 8.0 ms (95%: 4.8 ms \
         to 12 ms)): zombiefs, 1 reader × 1 deleter, 20 trials."
    );
    let section = |class: &str| {
        doc.descendants()
            .find(|n| {
                n.has_tag_name("section")
                    && n.attribute("class").is_some_and(|c| c.starts_with(class))
            })
            .unwrap_or_else(|| panic!("a {class} section"))
            .range()
            .start
    };
    assert!(
        section("latency") < section("verdict"),
        "the sentence comes before the verdict"
    );
    // The table has a row per point, the harness's with the ratio of medians.
    let rows = doc
        .descendants()
        .filter(|n| n.has_tag_name("section") && n.attribute("class") == Some("latency"))
        .flat_map(|s| s.descendants().filter(|n| n.has_tag_name("tr")))
        .count();
    assert_eq!(rows, 1 + 4);
    assert!(texts.contains(&"1.25"), "10 ms / 8 ms at 0.001");
    // Without the section the page has no such sentence.
    let plain = render_report(
        &ReportBuilder::new("plain")
            .scenario(1, 100, 1.0, &[])
            .build(),
    );
    assert!(!plain.contains("finds a defect"));
}
