//! Tests of the pure parts of the report page: pooled totals, chart layout,
//! axis units, the verdict's trial lines, the timeline's spans.

use super::chart_layout::{Grid, XAxis};
use super::charts::{rate_scale, time_scale, time_unit};
use super::survival_chart::absent_note;
use super::timeline::{TimeAxis, lanes};
use super::verdict::{TRIAL_LINES, trial_lines};
use crate::export::pooled::{Kind, pooled};
use crate::report::schema::{Class, EventKind, Report, Survival, Timeline, TimelineEvent};

fn load(path: &str) -> Report {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

fn zombiefs() -> Report {
    load("reports/reference/linux-12-fuse.zombiefs-vm.json")
}

fn survival(trials: u64, events: u64) -> Survival {
    Survival {
        trials,
        events,
        censored: trials - events,
        curve: Vec::new(),
        mle_rate_per_cycle: 0.0,
        mle_ci_low: 0.0,
        mle_ci_high: 1.0,
        median_cycles: None,
        median_seconds: None,
    }
}

#[test]
fn pooled_totals_sum_counts_and_cycles_where_the_class_has_its_kind() {
    let r = zombiefs();
    let p = pooled(&r);
    let zombie = p
        .iter()
        .find(|p| p.name == Class::ZombieFd && p.kind == Kind::Anomaly)
        .expect("zombie_fd is an anomaly class");
    let count: u64 = r
        .scenarios
        .iter()
        .map(|s| s.classes[&Class::ZombieFd].count)
        .sum();
    let cycles: u64 = r.scenarios.iter().map(|s| s.cycles).sum();
    assert_eq!(
        (zombie.count, zombie.cycles, zombie.scenarios),
        (count, cycles, 48)
    );
    let seen = r
        .scenarios
        .iter()
        .filter(|s| s.classes[&Class::ZombieFd].count > 0)
        .count();
    assert_eq!(zombie.seen_in, seen);
    let (worst, _) = zombie.worst.expect("seen, so a worst scenario");
    assert!(
        r.scenarios
            .iter()
            .all(|s| s.classes[&Class::ZombieFd].rate <= worst.classes[&Class::ZombieFd].rate)
    );
    // Anomalies first, then expected races, then normal outcomes.
    let kinds: Vec<Kind> = p.iter().map(|p| p.kind).collect();
    let mut sorted = kinds.clone();
    sorted.sort();
    assert_eq!(kinds, sorted);
}

#[test]
fn grid_layout_puts_thread_counts_on_x_and_sizes_in_panels() {
    let r = zombiefs();
    let g = Grid::new(&r).expect("a grid report");
    assert_eq!(g.x, XAxis::Threads);
    assert_eq!(g.labels, ["1×1", "2×2", "4×4", "8×8"]);
    let titles: Vec<&str> = g.panels.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(titles, ["7B files", "4K files", "1M files"]);
    assert_eq!(g.panels.iter().map(|(_, m)| m.len()).sum::<usize>(), 48);
    assert_eq!(g.series.len(), 6, "{:?}", g.series);
    assert!(g.panel_width() * 3.0 <= super::CONTENT_WIDTH);
    // One scenario has no grid to draw.
    let mut one = r.clone();
    one.scenarios.truncate(1);
    assert!(Grid::new(&one).is_none());
}

#[test]
fn rate_axis_covers_every_interval_in_decades() {
    let r = zombiefs();
    let y = rate_scale(&r.scenarios);
    let super::super::svg::Scale::Log { min, max } = y else {
        panic!("rates are on a log axis: {y:?}");
    };
    for s in &r.scenarios {
        let t = super::scenario_rate(s);
        assert!(
            t.interval.high <= max && t.interval.high > min,
            "{}",
            s.name
        );
    }
    assert_eq!(min.log10().fract(), 0.0);
}

#[test]
fn time_axes_are_log_with_one_unit() {
    assert_eq!(time_unit(900.0), ("ns", 1.0));
    assert_eq!(time_unit(1_500.0), ("µs", 1e3));
    assert_eq!(time_unit(152_241.0), ("µs", 1e3));
    assert_eq!(time_unit(1.2e6), ("ms", 1e6));
    assert_eq!(time_unit(3e9), ("s", 1e9));
    for path in [
        "reports/reference/linux-12-ext4-vm.json",
        "reports/reference/linux-12-tmpfs-vm.json",
        "reports/reference/linux-12-fuse.zombiefs-vm.json",
    ] {
        let r = load(path);
        let (y, _, _) = time_scale(&r.scenarios);
        assert!(y.is_log(), "{path}: the time axis is log in every report");
    }
}

#[test]
fn trial_lines_name_three_then_count_the_rest() {
    let mut r = zombiefs();
    let lines = trial_lines(&r);
    let seen = r
        .scenarios
        .iter()
        .filter(|s| s.survival.as_ref().is_some_and(|sv| sv.events > 0))
        .count();
    assert!(seen > TRIAL_LINES);
    assert_eq!(lines.len(), TRIAL_LINES + 2, "{lines:#?}");
    let first = &r.scenarios[0];
    let sv = first.survival.as_ref().unwrap();
    let head = format!("Trials of {}: {} of {}", first.name, sv.events, sv.trials);
    assert!(head.starts_with("Trials of r1-d1-7B-inplace-unlink-threads: "));
    assert!(lines[0].starts_with(&head), "{lines:#?}");
    assert!(lines[TRIAL_LINES].starts_with(&format!("…and {} more", seen - TRIAL_LINES)));
    let clean = r.scenarios.len() - seen;
    assert!(lines[TRIAL_LINES + 1].starts_with(&format!("Trials of the other {clean} scenarios")));

    // Two scenarios with anomalies in their trials: both named, no "more".
    r.scenarios.truncate(3);
    r.scenarios[2].survival = Some(survival(5, 0));
    let lines = trial_lines(&r);
    assert_eq!(lines.len(), 3, "{lines:#?}");
    assert_eq!(
        lines[2],
        "Trials of the other scenario: none of their 5 trials saw an anomaly."
    );
}

#[test]
fn a_missing_survival_section_says_why() {
    let mut r = zombiefs();
    for s in &mut r.scenarios {
        s.survival = Some(survival(3, 0));
    }
    let note = absent_note(&r);
    assert!(note.contains("none of the 144 trials"), "{note}");
    for s in &mut r.scenarios {
        s.survival = None;
    }
    assert!(absent_note(&r).starts_with("Not measured"));
}

/// An event as a report stores it, its errno named where it was observed.
fn event(worker: &str, t_ns: i64, kind: EventKind, errno: i32) -> TimelineEvent {
    let text = format!(
        r#"{{"t_ns": {t_ns}, "worker": "{worker}", "kind": "{}", "errno": {errno}, "errno_name": "{}"}}"#,
        kind.name(),
        crate::sys::errno_name(errno)
    );
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[test]
fn timeline_events_become_call_spans() {
    use EventKind::*;
    let events = vec![
        event("reader 0", -3_000, OpenEnd, 0), // began before the window
        event("reader 0", -2_000, ReadEnd, 0),
        event("reader 0", -1_500, OpenBegin, 0),
        event("reader 0", -1_000, OpenEnd, 0),
        event("reader 0", 0, Anomaly, 0),
        event("deleter 0", -2_500, RemoveBegin, 0),
        event("deleter 0", -1_200, RemoveEnd, 0),
        event("deleter 0", 500, RemoveBegin, 0), // still running at the end
        event("reader 0", 800, OpenEnd, 2),
    ];
    let text = serde_json::json!({
        "worker": "reader 0",
        "class": "zombie_fd",
        "events": serde_json::to_value(&events).unwrap(),
    });
    let t: Timeline = serde_json::from_value(text).expect("a timeline");
    let axis = TimeAxis::of(&t);
    assert_eq!(axis.unit, "µs");
    let lanes = lanes(&t, &axis);
    let labels: Vec<&str> = lanes.iter().map(|l| l.label.as_str()).collect();
    assert_eq!(labels, ["reader 0", "deleter 0"]);
    let reader = &lanes[0];
    let spans: Vec<(f64, f64)> = reader.spans.iter().map(|s| (s.start, s.end)).collect();
    // open from the window's start, read, open, then a failed open from the anomaly on.
    assert_eq!(spans[1..], [(-3.0, -2.0), (-1.5, -1.0), (0.0, 0.8)]);
    assert!(
        reader.spans[3].tooltip.ends_with("ENOENT"),
        "{}",
        reader.spans[3].tooltip
    );
    assert_eq!(reader.marks.len(), 1);
    let deleter = &lanes[1];
    assert_eq!(deleter.spans[0].start, -2.5);
    assert!(deleter.spans[1].tooltip.contains("still running"));
}
