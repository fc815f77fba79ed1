//! The terminal summary of a run: the verdict first (the answer a person
//! reads), then the per-class table with every rate's 95% interval.
//!
//! Here: the summary and the verdict of one scenario; `opens.rs` the opens a
//! rate can be per and how hard the race was pressed, `progress.rs` the live
//! progress line, `bench_verdict.rs` the verdict of a whole report.

mod bench_verdict;
mod opens;
mod progress;

use crate::export::create;
use crate::outcome::Class;
use crate::report::schema::{Rate, Report, ScenarioReport};

pub use crate::export::format::format_rate;
use crate::export::format::{RateText, format_count, format_duration_ns, format_si};

pub use bench_verdict::report_verdict;
use opens::pressure_line;
pub use opens::{
    FEW_RACED_OPENS, NO_RACED_OPEN, OVERLAPPED_NOT_COUNTED_PROCESSES, Opens, RACED_NOT_COUNTED,
    calibration_basis, calibration_decision, calibration_found_nothing, calibration_text,
    clean_per_open, clean_per_raced_open, overlapped_not_counted, overlapped_opens_text,
    pooled_clean_per_raced_open, pressure_warning, raced_opens_text, raced_share_percent,
    seen_per_open, seen_per_raced_open,
};
pub use progress::{Goal, progress_line};

/// The anomaly classes of a scenario with a non-zero count, most frequent first.
pub fn seen_anomalies(s: &ScenarioReport) -> Vec<(Class, &crate::report::schema::ClassStats)> {
    let mut seen: Vec<_> = s
        .classes
        .iter()
        .filter(|(_, c)| !c.expected && c.count > 0)
        .map(|(&class, c)| (class, c))
        .collect();
    seen.sort_by(|a, b| b.1.count.cmp(&a.1.count).then(a.0.cmp(&b.0)));
    seen
}

/// The upper end of the 95% interval of the rate of any one anomaly class,
/// as reported for classes with a zero count.
fn zero_bound(s: &ScenarioReport) -> f64 {
    s.classes.get(&Class::ZombieFd).map_or(1.0, |c| c.ci_high)
}

/// A class's stored count and rate as [`RateText`].
fn class_rate(s: &ScenarioReport, c: &crate::report::schema::ClassStats) -> RateText {
    RateText::stored(c.count, s.cycles, c.rate, c.ci_low, c.ci_high)
}

/// `no anomaly in 200,000 cycles; rate < 1.8e-5 per class at 95%; 0
/// zombie_fd in 1.2 M raced opens (< 2.5e-6 per raced open)` or `zombie_fd
/// seen 12 times: 1 in 8.3 K cycles [95%: 6.2e-5 – 2.1e-4]; 12 in 40 K raced
/// opens (3.0e-4 per raced open [95%: …])`.
///
/// A create race names its defect per racing create first, with the
/// creator count: `spurious ENOENT in 1 of 14 racing creates with 8
/// creators (…); spurious_enoent_on_create seen 291 times: 1 in 14 cycles
/// […]`.
pub fn verdict(s: &ScenarioReport) -> String {
    let seen = seen_anomalies(s);
    if seen.is_empty() {
        let mut out = format!(
            "no anomaly in {} {}; rate < {} per class at 95%",
            format_count(s.cycles),
            if create::is_create(s) {
                "create calls"
            } else {
                "cycles"
            },
            format_rate(zero_bound(s))
        );
        let clauses: Vec<String> = if create::is_create(s) {
            create::create_verdict(s).into_iter().collect()
        } else {
            [Opens::Raced, Opens::Overlapped]
                .into_iter()
                .filter_map(|opens| clean_per_open(opens, s))
                .collect()
        };
        for clause in clauses {
            out += "; ";
            out += &clause;
        }
        return out;
    }
    seen.iter()
        .map(|(name, c)| {
            let rate = class_rate(s, c);
            let mut out = format!(
                "{name} seen {} time{}: {} [95%: {}]",
                format_count(c.count),
                if c.count == 1 { "" } else { "s" },
                rate.one_in(),
                rate.interval()
            );
            if let Some(clause) = create::per_racing_create(s, *name, c) {
                out = format!("{clause}; {out}");
            } else {
                for opens in [Opens::Raced, Opens::Overlapped] {
                    if let Some(clause) = seen_per_open(opens, s, c) {
                        out += "; ";
                        out += &clause;
                    }
                }
            }
            out
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The terminal summary of a one-scenario report.
pub fn summary(report: &Report) -> String {
    let m = &report.machine;
    let mut out = String::new();
    for s in &report.scenarios {
        out += &format!(
            "{} on {} ({}) — {} {}, kernel {}, {}\n",
            s.name, m.fs_type, m.mount_point, m.os, m.os_version, m.kernel, m.cpu_model
        );
        if let Some(o) = &m.other_side {
            out += &format!(
                "two views: readers through {}, deleters through {} on {} ({})\n",
                m.target_dir, o.target_dir, o.fs_type, o.mount_point
            );
        }
        out += &format!(
            "{} cycles in {}: {} cycles/s ({} per cycle); {} removals, {} recreations{}\n",
            format_count(s.cycles),
            format_duration_ns(s.elapsed_ns as f64),
            format_si(s.cycles_per_second),
            format_duration_ns(s.ns_per_cycle),
            format_count(s.removals),
            format_count(s.recreations),
            if report.interrupted {
                " — INTERRUPTED"
            } else {
                ""
            }
        );
        if create::is_create(s) {
            out += &format!(
                "racing creates: {}; {} rounds of {} creators, {}\n",
                create::racing_creates_text(s).unwrap_or_else(|| "not counted".into()),
                format_count(create::rounds(s)),
                s.config.creators.unwrap_or(0),
                s.config.create_flags.map_or("", |f| f.c_flags())
            );
            if let Some(w) = create::racing_warning(s) {
                out += &w;
                out += "\n";
            }
        } else {
            out += &pressure_line(s);
            if let Some(w) = pressure_warning(s) {
                out += &w;
                out += "\n";
            }
        }
        out += "\n";
        out += &class_table(s, m.os == "windows");
        out += &errno_table(s);
        if let Some(first) = s.first_anomaly_cycle {
            out += &format!("\nfirst anomaly at cycle {}\n", format_count(first));
        }
        if let Some(sv) = &s.survival {
            out += &trials_line(sv);
        }
        out += &stall_lines(s);
        out += &format!("\nverdict: {}\n", verdict(s));
        if let Some(control) = create::control_line(report, s) {
            out += &format!("{control}\n");
        }
    }
    out
}

/// `16 cycles [95%: 12 – 21]`: the trials' median cycles to the first
/// anomaly with its interval; `None` without an event.
pub fn median_cycles_text(sv: &crate::report::schema::Survival) -> Option<String> {
    let median = sv.median_cycles?;
    let (low, high) = sv.median_cycles_interval()?;
    Some(format!(
        "{} cycles [95%: {} – {}]",
        format_si(median),
        format_si(low),
        format_si(high)
    ))
}

/// `trials: 32 (29 saw an anomaly, 3 censored); first anomalies per cycle …`.
fn trials_line(sv: &crate::report::schema::Survival) -> String {
    let mut out = String::new();
    let first = RateText::stored(
        sv.events,
        0,
        sv.mle_rate_per_cycle,
        sv.mle_ci_low,
        sv.mle_ci_high,
    );
    out += &format!(
        "\ntrials: {} ({} saw an anomaly, {} censored); first anomalies per cycle \
         before them {} [95%: {}]",
        format_count(sv.trials),
        format_count(sv.events),
        format_count(sv.censored),
        first.rate(),
        first.interval_short()
    );
    if let (Some(cycles), Some(secs)) = (median_cycles_text(sv), sv.median_seconds) {
        out += &format!(
            "; the rate implies a median of {cycles} ({}) to the first anomaly",
            format_duration_ns(secs * 1e9)
        );
    }
    out += "\n";
    out
}

/// The stalls of a scenario, stuck ones first, at most a few.
fn stall_lines(s: &ScenarioReport) -> String {
    let mut out = String::new();
    const STALLS_SHOWN: usize = 8;
    // Workers still stuck at the end first: they say where the run hung.
    let (stuck, returned): (Vec<_>, Vec<_>) = s.stalls.iter().partition(|st| st.unfinished);
    for st in stuck.into_iter().chain(returned).take(STALLS_SHOWN) {
        out += &format!(
            "stall: {} in {} for {:.1} s{}\n",
            st.worker,
            st.op.map_or("an unknown step", |op| op.name()),
            st.elapsed_ns as f64 / 1e9,
            if st.unfinished {
                " (still stuck at the end)"
            } else {
                ""
            }
        );
    }
    if s.stalls.len() > STALLS_SHOWN {
        out += &format!(
            "... and {} more stalls (every one is in the JSON report)\n",
            s.stalls.len() - STALLS_SHOWN
        );
    }
    out
}

/// Per class: count, rate, 95% interval, expected or anomaly. Classes this
/// scenario cannot produce (a creator's in an open/unlink race, a reader's
/// or deleter's in a create race, Windows's elsewhere) are left out when
/// nothing counted them, and named after the table; the JSON report keeps
/// them all.
fn class_table(s: &ScenarioReport, on_windows: bool) -> String {
    let create = create::is_create(s);
    let per = if create {
        "per racing create (95%)"
    } else {
        "per raced open (95%)"
    };
    let overlapped = s.overlapped_opens.is_some();
    let mut out = format!(
        "{:<26} {:>12} {:>10}  {:<24} {:<24} {}{}\n",
        "class",
        "count",
        "rate",
        "95% interval",
        per,
        if overlapped {
            format!("{:<28} ", "per overlapped open (95%)")
        } else {
            String::new()
        },
        ""
    );
    let cannot = |class: Class| {
        (class.creators_only() && !create)
            || (class.open_race_only() && create)
            || (class.windows_only() && !on_windows)
    };
    let mut left_out = Vec::new();
    for class in Class::ALL {
        let Some(c) = s.classes.get(&class) else {
            continue;
        };
        if c.count == 0 && cannot(class) {
            left_out.push(class.name());
            continue;
        }
        // A zero count has no point estimate, only its bound: never `0`
        // beside `< 2.5e-6`.
        let rate = class_rate(s, c);
        let kind = if class.is_normal() {
            "expected"
        } else if c.expected {
            "expected race"
        } else if c.count > 0 {
            "ANOMALY"
        } else {
            "anomaly class"
        };
        // Per racing create where the class has that rate; in an
        // open/unlink race the column is per raced open, so it says so.
        let (second, unit) = match (c.per_racing_create, create) {
            (Some(r), true) => (Some(r), ""),
            (Some(r), false) => (Some(r), " /racing create"),
            (None, _) => (c.per_raced_open, ""),
        };
        // Without a racing create (raced open, overlapped open) there is no
        // rate per one: its bound would be 1.
        let per_open = |r: Option<Rate>, unit: &str, of: Option<u64>, what: &str| match r {
            None => String::new(),
            Some(_) if of == Some(0) => format!("no {what}"),
            Some(r) if c.count == 0 => format!("< {}{unit}", format_rate(r.ci_high)),
            Some(r) => format!(
                "[{} – {}]{unit}",
                format_rate(r.ci_low),
                format_rate(r.ci_high)
            ),
        };
        let second = if c.per_racing_create.is_some() {
            per_open(second, unit, s.racing_creates, "racing create")
        } else {
            per_open(second, unit, s.raced_opens, "raced open")
        };
        let per_overlapped = if overlapped {
            let r = c.per_overlapped_open;
            format!(
                "{:<28} ",
                per_open(r, "", s.overlapped_opens, "overlapped open")
            )
        } else {
            String::new()
        };
        out += &format!(
            "{:<26} {:>12} {:>10}  {:<24} {:<24} {}{}\n",
            class.name(),
            format_count(c.count),
            rate.rate(),
            rate.interval_short(),
            second,
            per_overlapped,
            kind
        );
    }
    if !left_out.is_empty() {
        out += &format!(
            "(not listed: {}, which this scenario cannot produce here)\n",
            left_out.join(", ")
        );
    }
    out
}

/// The errno breakdown of `io_error`, `stale`, `unexpected_errno` and
/// `fd_enoent`: one line per (class, side, operation, errno), with its rate
/// per cycle and 95% interval; nothing when none was seen.
fn errno_table(s: &ScenarioReport) -> String {
    if s.errno_breakdown.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "\n{:<26} {:<8} {:<8} {:<14} {:>8} {:>10}  {}\n",
        "by errno", "side", "op", "errno", "count", "rate", "95% interval"
    );
    for row in &s.errno_breakdown {
        let ci = crate::stats::class_interval(row.count, s.cycles, row.class.once_per_cycle());
        let errno = if row.errno_name.is_empty() {
            row.errno.to_string()
        } else {
            format!("{} ({})", row.errno_name, row.errno)
        };
        out += &format!(
            "{:<26} {:<8} {:<8} {:<14} {:>8} {:>10}  [{} – {}]\n",
            row.class.name(),
            row.side.name(),
            row.op.name(),
            errno,
            format_count(row.count),
            format_rate(crate::stats::rate(row.count, s.cycles)),
            format_rate(ci.low),
            format_rate(ci.high)
        );
    }
    out
}
