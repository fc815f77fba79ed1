//! The live progress line of a run, against what it stops at.

use crate::export::format::{RateText, format_count, format_duration_ns, format_si};

/// What a run stops at, for the progress line: each is a limit, the first
/// reached ends the run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Goal {
    pub cycles: Option<u64>,
    pub duration: Option<std::time::Duration>,
    pub anomalies: Option<u64>,
}

/// The live progress line: elapsed time, cycles and anomalies (with thousands
/// separators) against the goal, the anomaly rate (a bound while none was
/// seen), throughput and the time left until the nearest limit.
///
/// ```
/// use std::time::Duration;
/// use unlink_race::export::summary::{Goal, progress_line};
/// let goal = Goal { cycles: Some(1_000_000), ..Goal::default() };
/// let line = progress_line(Duration::from_secs(10), 250_000, 0, &goal);
/// assert!(line.contains("250,000 of 1,000,000 cycles"), "{line}");
/// assert!(line.contains("30 s left"), "{line}");
/// ```
pub fn progress_line(
    elapsed: std::time::Duration,
    cycles: u64,
    anomalies: u64,
    goal: &Goal,
) -> String {
    let secs = elapsed.as_secs_f64();
    let per_second = if secs > 0.0 {
        cycles as f64 / secs
    } else {
        0.0
    };
    let rate = RateText::from_count(anomalies, cycles);
    let of =
        |limit: Option<u64>| limit.map_or(String::new(), |n| format!(" of {}", format_count(n)));
    let mut left: Vec<f64> = Vec::new();
    if let Some(d) = goal.duration {
        left.push((d.as_secs_f64() - secs).max(0.0));
    }
    if let Some(n) = goal.cycles.filter(|_| per_second > 0.0) {
        left.push(n.saturating_sub(cycles) as f64 / per_second);
    }
    let left = left
        .into_iter()
        .reduce(f64::min)
        .map_or(String::new(), |l| {
            format!(" · {} left", format_duration_ns((l * 1e9).round()))
        });
    format!(
        "{:>8} · {}{} cycles · {}{} anomalies (rate {}) · {} cycles/s{left}",
        format_duration_ns(secs * 1e9),
        format_count(cycles),
        of(goal.cycles),
        format_count(anomalies),
        of(goal.anomalies),
        if cycles == 0 {
            "–".to_string()
        } else {
            rate.rate()
        },
        format_si(per_second),
    )
}
