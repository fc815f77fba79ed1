//! The terminal summary of a run: the verdict first (the answer a person
//! reads), then the per-class table with every rate's 95% interval.

use crate::outcome::Class;
use crate::report::schema::{Report, ScenarioReport};

pub use crate::export::compare_table::format_rate;
use crate::export::html::format::{format_one_in, format_si};

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
pub fn zero_bound(s: &ScenarioReport) -> f64 {
    s.classes.get(&Class::ZombieFd).map_or(1.0, |c| c.ci_high)
}

/// `no anomaly in 200000 cycles; rate < 1.50e-5 at 95%; 0 zombie_fd in 1.2 M
/// raced opens (< 2.50e-6 per raced open)` or `zombie_fd seen 12 times: 1 in
/// 8.3 K cycles [95%: 6.2e-5 .. 2.1e-4]; 12 in 40 K raced opens (3.00e-4 per
/// raced open [95%: ...])`.
pub fn verdict(s: &ScenarioReport) -> String {
    let seen = seen_anomalies(s);
    if seen.is_empty() {
        let mut out = format!(
            "no anomaly in {} cycles; rate < {} per class at 95%",
            s.cycles,
            format_rate(zero_bound(s))
        );
        if let (Some(raced), Some(z)) = (
            s.raced_opens,
            s.classes
                .get(&Class::ZombieFd)
                .and_then(|c| c.per_raced_open),
        ) {
            out += &format!(
                "; 0 zombie_fd in {} raced opens (< {} per raced open)",
                format_si(raced as f64),
                format_rate(z.ci_high)
            );
        }
        return out;
    }
    seen.iter()
        .map(|(name, c)| {
            let mut out = format!(
                "{name} seen {} time{}: {} [95%: {} .. {}]",
                c.count,
                if c.count == 1 { "" } else { "s" },
                format_one_in(c.rate),
                format_rate(c.ci_low),
                format_rate(c.ci_high)
            );
            if let (Some(raced), Some(r)) = (s.raced_opens, c.per_raced_open) {
                out += &format!(
                    "; {} in {} raced opens ({} per raced open [95%: {} .. {}])",
                    c.count,
                    format_si(raced as f64),
                    format_rate(r.rate),
                    format_rate(r.ci_low),
                    format_rate(r.ci_high)
                );
            }
            out
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Fewer raced opens than this (with removals) and the race was barely pressed.
pub const FEW_RACED_OPENS: u64 = 30;

/// A plain warning when opens did not race although files were removed
/// (`None` when they did, or the report predates the count).
pub fn pressure_warning(s: &ScenarioReport) -> Option<String> {
    let raced = s.raced_opens?;
    if s.removals == 0 {
        return None;
    }
    if raced == 0 {
        return Some(format!(
            "warning: no open raced an unlink in {} removals: this run could not have seen the \
             defect (try another --pace, more readers, or a longer run)",
            s.removals
        ));
    }
    if raced < FEW_RACED_OPENS || raced.saturating_mul(1000) < s.removals {
        return Some(format!(
            "warning: only {raced} raced opens in {} removals: the race was barely pressed \
             (try another --pace, more readers, or a longer run)",
            s.removals
        ));
    }
    None
}

/// `raced opens: 1,234 (2.8% of cycles, 580/s); pace check, chosen by auto
/// from spin 9/s, check 580/s, ...`.
fn pressure_line(s: &ScenarioReport) -> String {
    let Some(raced) = s.raced_opens else {
        return "raced opens: not counted (report from an older unlink-race)\n".into();
    };
    let share = if s.cycles == 0 {
        0.0
    } else {
        100.0 * raced as f64 / s.cycles as f64
    };
    let mut out = format!(
        "raced opens: {raced} ({share:.2}% of cycles, {}/s); pace {}",
        format_si(s.raced_opens_per_second.unwrap_or(0.0)),
        s.pace
    );
    if let Some(cal) = &s.calibration {
        let figures: Vec<String> = cal
            .candidates
            .iter()
            .map(|c| format!("{} {}/s", c.pace, format_si(c.raced_opens_per_second)))
            .collect();
        out += &format!(
            ", chosen by auto from raced opens/s in calibration: {}",
            figures.join(", ")
        );
    }
    out + "\n"
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
        out.truncate(out.len() - 1);
        out += &pressure_line(s);
        if let Some(w) = pressure_warning(s) {
            out += &w;
            out += "\n";
        }
        out += "\n";
        out += &class_table(s);
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
        "{:<26} {:>12} {:>10}  {:<24} {:<24} {}\n",
        "class", "count", "rate", "95% interval", "per raced open (95%)", ""
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
        let per_raced = match c.per_raced_open {
            None => String::new(),
            Some(r) if c.count == 0 => format!("< {}", format_rate(r.ci_high)),
            Some(r) => format!("[{} .. {}]", format_rate(r.ci_low), format_rate(r.ci_high)),
        };
        out += &format!(
            "{:<26} {:>12} {:>10}  {:<24} {:<24} {}\n",
            class.name(),
            c.count,
            format_rate(c.rate),
            interval,
            per_raced,
            kind
        );
    }
    out
}
