//! The terminal summary of a run: the verdict first (the answer a person
//! reads), then the per-class table with every rate's 95% interval.

use crate::outcome::Class;
use crate::report::schema::{Report, ScenarioReport};

pub use crate::export::compare_table::format_rate;
use crate::export::html::format::format_one_in;

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

/// The exact one-sided 95% upper bound on the rate of any one anomaly class,
/// as reported for classes with a zero count.
pub fn zero_bound(s: &ScenarioReport) -> f64 {
    s.classes.get(&Class::ZombieFd).map_or(1.0, |c| c.ci_high)
}

/// `no anomaly in 200000 cycles; rate < 1.50e-5 at 95%` or
/// `zombie_fd seen 12 times: 1 in 8.3 K cycles [95%: 6.2e-5 .. 2.1e-4]`.
pub fn verdict(s: &ScenarioReport) -> String {
    let seen = seen_anomalies(s);
    if seen.is_empty() {
        return format!(
            "no anomaly in {} cycles; rate < {} per class at 95%",
            s.cycles,
            format_rate(zero_bound(s))
        );
    }
    seen.iter()
        .map(|(name, c)| {
            format!(
                "{name} seen {} time{}: {} [95%: {} .. {}]",
                c.count,
                if c.count == 1 { "" } else { "s" },
                format_one_in(c.rate),
                format_rate(c.ci_low),
                format_rate(c.ci_high)
            )
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
        out += &format!(
            "{} cycles in {:.2} s: {:.0} cycles/s ({:.1} µs/cycle); {} removals, {} recreations{}\n\n",
            s.cycles,
            s.elapsed_ns as f64 / 1e9,
            s.cycles_per_second,
            s.ns_per_cycle / 1e3,
            s.removals,
            s.recreations,
            if report.interrupted {
                " — INTERRUPTED"
            } else {
                ""
            }
        );
        out += &class_table(s);
        out += &errno_table(s);
        if let Some(first) = s.first_anomaly_cycle {
            out += &format!("\nfirst anomaly at cycle {first}\n");
        }
        if let Some(sv) = &s.survival {
            out += &format!(
                "\ntrials: {} ({} saw an anomaly, {} censored); per-cycle rate {} [{} .. {}]",
                sv.trials,
                sv.events,
                sv.censored,
                format_rate(sv.mle_rate_per_cycle),
                format_rate(sv.mle_ci_low),
                format_rate(sv.mle_ci_high)
            );
            if let (Some(c), Some(secs)) = (sv.median_cycles, sv.median_seconds) {
                out += &format!("; median {c:.0} cycles ({secs:.2} s) to the first anomaly");
            }
            out += "\n";
        }
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
        out += &format!("\nverdict: {}\n", verdict(s));
    }
    out
}

/// Per class: count, rate, 95% interval, expected or anomaly.
fn class_table(s: &ScenarioReport) -> String {
    let mut out = format!(
        "{:<26} {:>12} {:>10}  {:<24} {}\n",
        "class", "count", "rate", "95% interval", ""
    );
    for class in crate::outcome::Class::ALL {
        let Some(c) = s.classes.get(&class) else {
            continue;
        };
        let interval = if c.count == 0 {
            format!("< {}", format_rate(c.ci_high))
        } else {
            format!("[{} .. {}]", format_rate(c.ci_low), format_rate(c.ci_high))
        };
        let kind = if class.is_normal() {
            "expected"
        } else if c.expected {
            "expected race"
        } else if c.count > 0 {
            "ANOMALY"
        } else {
            "anomaly class"
        };
        out += &format!(
            "{:<26} {:>12} {:>10}  {:<24} {}\n",
            class.name(),
            c.count,
            format_rate(c.rate),
            interval,
            kind
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
        let ci = crate::stats::rate_interval(row.count, s.cycles);
        let errno = if row.errno_name.is_empty() {
            row.errno.to_string()
        } else {
            format!("{} ({})", row.errno_name, row.errno)
        };
        out += &format!(
            "{:<26} {:<8} {:<8} {:<14} {:>8} {:>10}  [{} .. {}]\n",
            row.class.name(),
            row.side.name(),
            row.op.name(),
            errno,
            row.count,
            format_rate(row.count as f64 / s.cycles.max(1) as f64),
            format_rate(ci.low),
            format_rate(ci.high)
        );
    }
    out
}
