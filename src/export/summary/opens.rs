//! The opens a rate can be per (raced, or the overlapped ones among them)
//! and how hard the race was pressed: their counts and clauses, the
//! warning when opens barely raced, and what pace `auto`'s calibration
//! decided by.

use crate::outcome::Class;
use crate::report::schema::{Rate, Report, ScenarioReport, Workers};

use crate::export::format::{RateText, format_count, format_count_si, format_rate, format_si};

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
pub(super) fn pressure_line(s: &ScenarioReport) -> String {
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
