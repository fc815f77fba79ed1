//! The terminal summary of a run: the verdict first (the answer a person
//! reads), then the per-class table with every rate's 95% interval.

use crate::export::create;
use crate::outcome::Class;
use crate::report::schema::{Rate, Report, ScenarioReport, Workers};

pub use crate::export::format::format_rate;
use crate::export::format::{
    RateText, format_count, format_count_si, format_duration_ns, format_si,
};

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

/// What stands for a raced-open figure in a report from before the count.
pub const RACED_NOT_COUNTED: &str = "not counted (older report)";

/// Where no open raced: a bound per raced open would be `< 1`, which says
/// nothing, so the clause says why there is none ([`Opens::none_text`]).
pub const NO_RACED_OPEN: &str = "0 raced opens, so no rate per raced open";

/// The opens a rate can be per: raced opens, or the overlapped ones among them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opens {
    Raced,
    Overlapped,
}

impl Opens {
    /// `raced open`, `overlapped open`.
    pub fn noun(self) -> &'static str {
        match self {
            Opens::Raced => "raced open",
            Opens::Overlapped => "overlapped open",
        }
    }

    /// How many the scenario counted (`None`: not counted).
    pub fn count(self, s: &ScenarioReport) -> Option<u64> {
        match self {
            Opens::Raced => s.raced_opens,
            Opens::Overlapped => s.overlapped_opens,
        }
    }

    /// A class's rate per such open, with its interval.
    pub fn rate(self, c: &crate::report::schema::ClassStats) -> Option<Rate> {
        match self {
            Opens::Raced => c.per_raced_open,
            Opens::Overlapped => c.per_overlapped_open,
        }
    }

    /// Where none of these opens happened: a bound per open would be `< 1`,
    /// which says nothing, so the clause says why there is none.
    pub fn none_text(self) -> String {
        format!("0 {n}s, so no rate per {n}", n = self.noun())
    }
}

/// `0 zombie_fd in 1.2 M raced opens (< 2.5e-6 per raced open)`: a clean
/// scenario per raced open (`None` when the report predates the count).
pub fn clean_per_raced_open(s: &ScenarioReport) -> Option<String> {
    clean_per_open(Opens::Raced, s)
}

/// [`clean_per_raced_open`] for raced or overlapped opens.
pub fn clean_per_open(opens: Opens, s: &ScenarioReport) -> Option<String> {
    let n = opens.count(s)?;
    let z = opens.rate(s.classes.get(&Class::ZombieFd)?)?;
    if n == 0 {
        return Some(opens.none_text());
    }
    Some(format!(
        "0 zombie_fd in {} {}s (< {} per {})",
        format_count_si(n),
        opens.noun(),
        format_rate(z.ci_high),
        opens.noun()
    ))
}

/// `12 in 40 K raced opens (3.0e-4 per raced open [95%: 2.0e-4 – 5.0e-4])`:
/// one class per raced open (`None` when the report predates the count or
/// gives the class no such rate).
pub fn seen_per_raced_open(
    s: &ScenarioReport,
    c: &crate::report::schema::ClassStats,
) -> Option<String> {
    seen_per_open(Opens::Raced, s, c)
}

/// [`seen_per_raced_open`] for raced or overlapped opens.
pub fn seen_per_open(
    opens: Opens,
    s: &ScenarioReport,
    c: &crate::report::schema::ClassStats,
) -> Option<String> {
    let (n, r) = (opens.count(s)?, opens.rate(c)?);
    if n == 0 {
        return Some(opens.none_text());
    }
    let noun = opens.noun();
    if c.count == 0 {
        return Some(format!(
            "0 in {} {noun}s (< {} per {noun})",
            format_count_si(n),
            format_rate(r.ci_high)
        ));
    }
    Some(format!(
        "{} in {} {noun}s ({} per {noun} [95%: {} – {}])",
        format_count(c.count),
        format_count_si(n),
        format_rate(r.rate),
        format_rate(r.ci_low),
        format_rate(r.ci_high)
    ))
}

/// `0 zombie_fd in 460 K raced opens (< 8.0e-6 per raced open at 95%)`:
/// a clean report's scenarios pooled per raced open; `None` when a scenario
/// predates the count or `zombie_fd` was seen.
pub fn pooled_clean_per_raced_open(r: &Report) -> Option<String> {
    let mut raced = 0u64;
    for s in &r.scenarios {
        raced += s.raced_opens?;
        if s.classes.get(&Class::ZombieFd).is_some_and(|c| c.count > 0) {
            return None;
        }
    }
    if raced == 0 {
        return (!r.scenarios.is_empty()).then(|| NO_RACED_OPEN.into());
    }
    (!r.scenarios.is_empty()).then(|| {
        format!(
            "0 zombie_fd in {} raced opens ({} per raced open at 95%)",
            format_count_si(raced),
            RateText::from_count(0, raced).rate()
        )
    })
}

/// Raced opens as a percentage of the cycles (0 without cycles).
pub fn raced_share_percent(raced: u64, cycles: u64) -> f64 {
    if cycles == 0 {
        0.0
    } else {
        100.0 * raced as f64 / cycles as f64
    }
}

/// `1,234 (2.80% of cycles, 580/s)`: how hard the race was pressed (`None`
/// when the report predates the count).
pub fn raced_opens_text(s: &ScenarioReport) -> Option<String> {
    let raced = s.raced_opens?;
    let share = raced_share_percent(raced, s.cycles);
    Some(format!(
        "{} ({share:.2}% of cycles, {}/s)",
        format_count(raced),
        format_si(s.raced_opens_per_second.unwrap_or(0.0))
    ))
}

/// `640 (52% of raced opens, 300/s)`: the raced opens whose removal landed
/// inside the `open`; `None` where they were not counted.
pub fn overlapped_opens_text(s: &ScenarioReport) -> Option<String> {
    let overlapped = s.overlapped_opens?;
    let share = match s.raced_opens {
        Some(raced) if raced > 0 => format!(
            "{:.0}% of raced opens, ",
            100.0 * overlapped as f64 / raced as f64
        ),
        _ => String::new(),
    };
    Some(format!(
        "{} ({share}{}/s)",
        format_count(overlapped),
        format_si(s.overlapped_opens_per_second.unwrap_or(0.0))
    ))
}

/// Why a scenario has no overlapped-open count: worker processes do not
/// count them; reports older than the count lack them.
pub fn overlapped_not_counted(s: &ScenarioReport) -> &'static str {
    if s.config.workers == Workers::Processes {
        OVERLAPPED_NOT_COUNTED_PROCESSES
    } else {
        RACED_NOT_COUNTED
    }
}

/// What stands for the overlapped-open figure with worker processes: a
/// reader cannot see when another process's removal returned.
pub const OVERLAPPED_NOT_COUNTED_PROCESSES: &str = "not counted (worker processes)";

/// `spin 9.0/s, check 580/s, …`: every candidate's overlapped opens per
/// second in the calibration that chose the pace (raced opens where those
/// were not counted, anomalies when those decided). `None` when the pace
/// was given.
pub fn calibration_text(s: &ScenarioReport) -> Option<String> {
    let cal = s.calibration.as_ref()?;
    let figures: Vec<String> = cal
        .candidates
        .iter()
        .map(|c| format!("{} {}/s", c.pace, format_si(c.deciding_rate(cal.basis()))))
        .collect();
    Some(figures.join(", "))
}

/// What [`calibration_text`]'s figures are: overlapped opens/s, raced
/// opens/s, or anomalies/s when the calibration found enough of them to
/// decide by.
pub fn calibration_basis(s: &ScenarioReport) -> String {
    let unit = s.calibration.as_ref().map_or(
        crate::report::schema::CalibrationBasis::RacedOpens.unit(),
        |c| c.basis().unit(),
    );
    format!("{unit} in calibration")
}

/// Why `auto` kept `sleep` when [`calibration_found_nothing`].
const NOTHING_RACED: &str = "no candidate raced an open or found an anomaly in calibration";

/// Whether `auto` had nothing to choose by: no candidate raced an open or
/// found an anomaly in the calibration, so it kept `sleep`.
pub fn calibration_found_nothing(s: &ScenarioReport) -> bool {
    s.calibration.as_ref().is_some_and(|c| {
        !c.candidates.is_empty()
            && c.candidates
                .iter()
                .all(|k| k.raced_opens == 0 && k.anomalies == 0)
    })
}

/// What decided `auto`'s choice, for one scenario: `raced opens/s in
/// calibration: spin 9.0/s, check 580/s, …`, the same with anomalies/s, or
/// that nothing raced and `sleep` was kept. `None` when the pace was given.
pub fn calibration_decision(s: &ScenarioReport) -> Option<String> {
    let figures = calibration_text(s)?;
    Some(if calibration_found_nothing(s) {
        format!("{NOTHING_RACED}: sleep kept")
    } else {
        format!("{}: {figures}", calibration_basis(s))
    })
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
            format_count(s.removals)
        ));
    }
    if raced < FEW_RACED_OPENS || raced.saturating_mul(1000) < s.removals {
        return Some(format!(
            "warning: only {} in {} removals: the race was barely pressed \
             (try another --pace, more readers, or a longer run)",
            crate::export::format::raced_opens_phrase(raced),
            format_count(s.removals)
        ));
    }
    None
}

/// `raced opens: 1,234 (2.8% of cycles, 580/s); pace check, chosen by auto
/// from spin 9/s, check 580/s, ...`.
fn pressure_line(s: &ScenarioReport) -> String {
    let Some(raced) = raced_opens_text(s) else {
        return "raced opens: not counted (report from an older unlink-race)\n".into();
    };
    let overlapped =
        overlapped_opens_text(s).unwrap_or_else(|| overlapped_not_counted(s).to_string());
    let mut out = format!(
        "raced opens: {raced}; overlapped opens: {overlapped}; pace {}",
        s.pace
    );
    if calibration_found_nothing(s) {
        out += &format!(", kept by auto: {NOTHING_RACED}");
    } else if let Some(figures) = calibration_text(s) {
        out += &format!(", chosen by auto from {}: {figures}", calibration_basis(s));
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
        out += &class_table(s);
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

/// Per class: count, rate, 95% interval, expected or anomaly.
fn class_table(s: &ScenarioReport) -> String {
    let per = if create::is_create(s) {
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
    for class in crate::outcome::Class::ALL {
        let Some(c) = s.classes.get(&class) else {
            continue;
        };
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
        let (second, unit) = match (c.per_racing_create, create::is_create(s)) {
            (Some(r), true) => (Some(r), ""),
            (Some(r), false) => (Some(r), " /racing create"),
            (None, _) => (c.per_raced_open, ""),
        };
        let per_open = |r: Option<Rate>, unit: &str| match r {
            None => String::new(),
            Some(r) if c.count == 0 => format!("< {}{unit}", format_rate(r.ci_high)),
            Some(r) => format!(
                "[{} – {}]{unit}",
                format_rate(r.ci_low),
                format_rate(r.ci_high)
            ),
        };
        let per_overlapped = if overlapped {
            format!("{:<28} ", per_open(c.per_overlapped_open, ""))
        } else {
            String::new()
        };
        out += &format!(
            "{:<26} {:>12} {:>10}  {:<24} {:<24} {}{}\n",
            class.name(),
            format_count(c.count),
            rate.rate(),
            rate.interval_short(),
            per_open(second, unit),
            per_overlapped,
            kind
        );
    }
    out
}

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

/// The verdict of a whole report in a few lines, for the terminal after
/// `cargo bench` (one block per filesystem): the same answer as the top of
/// the report page.
///
/// ```text
/// verdict on ext4 (48 scenarios, 15,008,528 cycles):
///   no anomaly: < 2.5e-7 per cycle at 95%, all scenarios pooled; in every
///   scenario < 2.5e-4 (the least-sampled ran 14,672 cycles)
///   0 zombie_fd in 460 K raced opens (< 8.0e-6 per raced open at 95%), all scenarios pooled
/// ```
pub fn report_verdict(r: &Report) -> String {
    use crate::export::pooled::{Kind, pooled};
    let cycles: u64 = r.scenarios.iter().map(|s| s.cycles).sum();
    let mut out = format!(
        "verdict on {} ({} {}, {} cycles{}):\n",
        r.machine.fs_type,
        r.scenarios.len(),
        if r.scenarios.len() == 1 {
            "scenario"
        } else {
            "scenarios"
        },
        format_count(cycles),
        if r.interrupted { ", interrupted" } else { "" }
    );
    let pooled = pooled(r);
    let seen: Vec<_> = pooled
        .iter()
        .filter(|p| p.kind == Kind::Anomaly && p.count > 0)
        .collect();
    if seen.is_empty() {
        let least = r
            .scenarios
            .iter()
            .min_by_key(|s| s.cycles)
            .map_or(String::new(), |s| {
                let bound = RateText::from_count(0, s.cycles);
                format!(
                    "; in every scenario {} (the least-sampled ran {} cycle{})",
                    bound.rate(),
                    format_count(s.cycles),
                    if s.cycles == 1 { "" } else { "s" }
                )
            });
        out += &format!(
            "  no anomaly: {} per cycle at 95%, all scenarios pooled{least}\n",
            RateText::from_count(0, cycles).rate()
        );
        if let Some(raced) = pooled_clean_per_raced_open(r) {
            out += &format!("  {raced}, all scenarios pooled\n");
        }
    }
    for p in seen {
        let rate = p.rate();
        out += &format!(
            "  {} seen {} time{} in {} of {} scenarios: {} pooled [95%: {}]",
            p.name,
            format_count(p.count),
            if p.count == 1 { "" } else { "s" },
            p.seen_in,
            p.scenarios,
            rate.one_in(),
            rate.interval()
        );
        if let Some((s, c)) = p.worst.filter(|_| r.scenarios.len() > 1) {
            out += &format!(
                "; highest in {}: {}",
                s.name,
                class_rate(s, c).one_in_short()
            );
        }
        out += "\n";
    }
    // The create race: the defect per racing create, the control beside it.
    for s in r.scenarios.iter().filter(|s| {
        create::is_create(s)
            && s.config.create_flags != Some(crate::scenario::CreateFlags::CreatExcl)
    }) {
        if let Some(v) = create::create_verdict(s) {
            out += &format!("  {}: {v}\n", s.name);
            if let Some(c) = create::control_line(r, s) {
                out += &format!("    {c}\n");
            }
        }
    }
    let stalls: usize = r.scenarios.iter().map(|s| s.stalls.len()).sum();
    if stalls > 0 {
        out += &format!("  {stalls} syscalls blocked longer than the watchdog limit\n");
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
