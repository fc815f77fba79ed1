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
        rate: None,
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

/// Racing opens per second over turns: the rate over all turns, and an
/// interval at least as wide as the Poisson one, wider when the turns vary
/// more than counting makes them (the machine's spells).
#[test]
fn a_rate_over_turns_has_the_wider_of_two_intervals() {
    use unlink_race::report::build::turns_rate;
    use unlink_race::stats::{CONFIDENCE, poisson_interval};
    let s = 1_000_000_000;
    // Ten steady turns of 1 s with 1,000 events each.
    let steady = turns_rate(&[(1000, s); 10]);
    assert_eq!(steady.rate, 1000.0);
    let poisson = poisson_interval(10_000, 10 * s, CONFIDENCE);
    assert!(
        (steady.ci_low - poisson.low * 1e9).abs() < 1e-6,
        "{steady:?}"
    );
    assert!(
        (steady.ci_high - poisson.high * 1e9).abs() < 1e-6,
        "{steady:?}"
    );
    // The same events in spells: 5,000 in two turns, none in the others.
    let mut spells = vec![(0, s); 8];
    spells.extend([(5000, s), (5000, s)]);
    let spelled = turns_rate(&spells);
    assert_eq!(spelled.rate, 1000.0);
    assert!(spelled.ci_low < 0.5 * steady.ci_low, "{spelled:?}");
    assert!(spelled.ci_high > 1.5 * steady.ci_high, "{spelled:?}");
    assert!(spelled.ci_low >= 0.0);
    // One turn: Poisson alone. No time: nothing known.
    assert_eq!(turns_rate(&[(1000, s)]).rate, 1000.0);
    assert_eq!(turns_rate(&[]).ci_high, f64::INFINITY);
}

/// Harness over bare from paired turns: the ratio of the rates, and an
/// interval that contains it and narrows with more pairs.
#[test]
fn a_ratio_of_paired_turns_has_its_interval() {
    use unlink_race::report::build::turns_ratio;
    let t = 250_000_000;
    let wobble = |i: u64, base: u64| (base + (i % 5) * base / 10, t);
    let a: Vec<(u64, u64)> = (0..20).map(|i| wobble(i, 110)).collect();
    let b: Vec<(u64, u64)> = (0..20).map(|i| wobble(i + 2, 100)).collect();
    let r = turns_ratio(&a, &b);
    let sum = |v: &[(u64, u64)]| v.iter().map(|x| x.0).sum::<u64>() as f64;
    assert!((r.rate - sum(&a) / sum(&b)).abs() < 1e-12, "{r:?}");
    assert!(r.ci_low < r.rate && r.rate < r.ci_high, "{r:?}");
    let more: Vec<(u64, u64)> = a.iter().cycle().take(200).copied().collect();
    let more_b: Vec<(u64, u64)> = b.iter().cycle().take(200).copied().collect();
    let narrow = turns_ratio(&more, &more_b);
    assert!(
        narrow.ci_high - narrow.ci_low < 0.5 * (r.ci_high - r.ci_low),
        "{narrow:?} against {r:?}"
    );
    // Nothing on the bare side: no ratio to speak of.
    assert_eq!(turns_ratio(&a, &[(0, t)]).rate, f64::INFINITY);
    // Steady turns: nothing beyond counting, so the exact interval of two
    // Poisson rates (conditional binomial), about 1.1 × e^(±1.96 × 0.0138).
    let s = 1_000_000_000;
    let steady = turns_ratio(&[(1100, s); 10], &[(1000, s); 10]);
    let (low, high) = unlink_race::stats::ratio_interval(10_000, 10 * s, 11_000, 10 * s, 0.95);
    assert!((steady.rate - 1.1).abs() < 1e-12, "{steady:?}");
    assert!((steady.ci_low - low).abs() < 1e-12, "{steady:?}");
    assert!((steady.ci_high - high.unwrap()).abs() < 1e-12, "{steady:?}");
    assert!(1.06 < low && low < 1.08 && 1.12 < high.unwrap(), "{low}");
    // Two rounds, 100 and 300 against 100 and 100 per second: ratio 2, and
    // Student's t over the rounds (delta method), by hand: residuals
    // 100 − 2·100 and 300 − 2·100, se = √(20000 / 2) / 100 = 1, t(0.975, 1)
    // = 12.7062047, so [2 − 12.7, 2 + 12.7] cut at 0: the spells decide.
    let two = turns_ratio(&[(100, s), (300, s)], &[(100, s), (100, s)]);
    assert_eq!(two.rate, 2.0);
    assert_eq!(two.ci_low, 0.0);
    assert!(
        (two.ci_high - 14.706_204_736_174_707).abs() < 1e-6,
        "{two:?}"
    );
}

/// At probability p a rate r implies a median of ln 2 / (p r): the high end
/// of the rate gives the low end of the median.
#[test]
fn a_rate_implies_a_median_time() {
    use unlink_race::report::build::implied_median_seconds;
    use unlink_race::report::schema::Rate;
    let rate = Rate {
        rate: 500.0,
        ci_low: 400.0,
        ci_high: 625.0,
    };
    let m = implied_median_seconds(&rate, 0.001);
    let ln2 = std::f64::consts::LN_2;
    assert!((m.median.unwrap() - ln2 / 0.5).abs() < 1e-12);
    assert!((m.ci_low.unwrap() - ln2 / 0.625).abs() < 1e-12);
    assert!((m.ci_high.unwrap() - ln2 / 0.4).abs() < 1e-12);
    let zero_low = Rate {
        ci_low: 0.0,
        ..rate
    };
    assert_eq!(implied_median_seconds(&zero_low, 0.001).ci_high, None);
    let none = Rate {
        rate: 0.0,
        ci_low: 0.0,
        ci_high: 3.0,
    };
    assert_eq!(implied_median_seconds(&none, 0.001).median, None);
}

/// A report whose latency points have rates leads with the median they
/// imply, the rate and harness / bare, then the trials; the section round
/// trips; the table shows the rate columns.
#[test]
fn the_page_leads_with_the_rate_where_it_was_measured() {
    use unlink_race::report::build::{implied_median_seconds, turns_rate, turns_ratio};
    use unlink_race::report::schema::{LatencyRate, PaceRate};
    let s = 250_000_000;
    let h = vec![(120u64, s); 40];
    let b = vec![(125u64, s); 40];
    let mut report = with_latency();
    for p in &mut report.latency {
        let bare = p.method == LatencyMethod::Bare;
        let turns = if bare { &b } else { &h };
        let rate = turns_rate(turns);
        p.rate = Some(LatencyRate {
            racing_opens: turns.iter().map(|t| t.0).sum(),
            elapsed_ns: turns.iter().map(|t| t.1).sum(),
            turns: turns.len() as u32,
            implied_median_seconds: implied_median_seconds(&rate, p.probability),
            racing_opens_per_second: rate,
            ratio_to_bare: (!bare).then(|| turns_ratio(&h, &b)),
            paces: if bare {
                vec![PaceRate {
                    pace: Pace::Check,
                    racing_opens: 5000,
                    elapsed_ns: 10 * s,
                    racing_opens_per_second: turns_rate(&b),
                }]
            } else {
                Vec::new()
            },
        });
    }
    let dir = tempfile::tempdir().unwrap();
    let loaded = load_report(&write_report(dir.path(), "rated.json", &report)).unwrap();
    let rate = loaded.latency[2]
        .rate
        .as_ref()
        .expect("the rate round trips");
    assert_eq!(rate.racing_opens, 4800);
    assert!(rate.ratio_to_bare.is_some() && rate.paces.is_empty());
    assert_eq!(loaded.latency[3].rate.as_ref().unwrap().paces.len(), 1);
    let html = render_report(&loaded);
    // 480 racing opens per second at 1 in 1,000: ln 2 / 0.48 = 1.44 s.
    assert!(
        html.contains(
            "unlink-race finds a defect that hits 1 in 1,000 racing opens in a median of 1.4 s"
        ),
        "{html}"
    );
    assert!(html.contains("it races 480 (95%:"), "{html}");
    assert!(html.contains("times the best bare loop"), "{html}");
    assert!(html.contains("racing opens/s"), "{html}");
    assert!(html.contains("implied median time"), "{html}");
}
