//! What an inconclusive comparison can and cannot exclude, in words: the
//! ratios its interval leaves open and the further cycles (or raced opens)
//! a difference of [`POWER_RATIO`] would need.

use crate::export::summary::Opens;
use crate::stats::{POWER, RateComparison, cycles_to_tell};

use crate::export::format::{format_figure, format_level, format_significant, round_significant};
use crate::export::matrix::ratio_with_interval;

/// The ratio a power statement is about ("… to tell a 2× difference").
pub const POWER_RATIO: f64 = 2.0;

/// The denominators a [`statement_in`] counts.
pub(super) const CYCLES: &str = "cycles";
const RACED_OPENS: &str = "raced opens";
pub(super) const RACING_CREATES: &str = "racing creates";
const OVERLAPPED_OPENS: &str = "overlapped opens";

/// The denominator of rates per `opens`.
pub(super) fn unit_of(opens: Opens) -> &'static str {
    match opens {
        Opens::Raced => RACED_OPENS,
        Opens::Overlapped => OVERLAPPED_OPENS,
    }
}

/// What an inconclusive comparison can and cannot exclude: `none seen in
/// either; rates < 3.7e-6 and < 0.31; no ratio is excluded; at least 1.2e7
/// more cycles would be needed to tell a 2× difference with 80% power`.
pub fn statement(r: &RateComparison, alpha: f64) -> String {
    statement_in(r, alpha, CYCLES)
}

/// [`statement`] for rates per `unit` (`cycles`, `raced opens`).
///
/// The cycles a difference would need are rounded up where they are what
/// the power needs (`about`), down where they are a lower limit (`at least`),
/// so the figure shown keeps the promise of the sentence.
pub fn statement_in(r: &RateComparison, alpha: f64, unit: &str) -> String {
    if !r.has_cycles() {
        return format!("a run has no {unit}");
    }
    let (more, _, bound) = cycles_to_tell(r, POWER_RATIO, alpha);
    let power = format_level(POWER);
    let need = if more <= 0.0 {
        format!(
            "these cycles would tell a {}× difference at this rate with {power} power",
            POWER_RATIO
        )
    } else if bound {
        format!(
            "at least {} more {unit} would be needed to tell a {}× difference with {power} power",
            format_figure(round_significant(more, 2, f64::floor)),
            POWER_RATIO
        )
    } else {
        format!(
            "about {} more {unit} would be needed to tell a {}× difference with {power} power",
            format_figure(round_significant(more, 2, f64::ceil)),
            POWER_RATIO
        )
    };
    let upper = |k: u64, n: u64| crate::stats::rate_interval_at(k, n, r.confidence()).high;
    if r.k_a == 0 && r.k_b == 0 {
        return format!(
            "none seen in either; rates < {} and < {}; no ratio is excluded; {need}",
            format_significant(upper(0, r.n_a), 2),
            format_significant(upper(0, r.n_b), 2)
        );
    }
    let widest = match r.ratio_high {
        None => f64::INFINITY,
        Some(h) if r.ratio_low > 0.0 => h.max(1.0 / r.ratio_low),
        Some(_) => f64::INFINITY,
    };
    // An interval that excludes 1 (inconclusive only after Holm's
    // adjustment, which the caller says) excludes a ratio "either way".
    let excludes_one = r.ratio_low > 1.0 || r.ratio_high.is_some_and(|h| h < 1.0);
    let excluded = if excludes_one {
        String::new()
    } else if widest.is_finite() {
        format!(
            "; a ratio up to {}× either way is not excluded",
            format_figure(widest)
        )
    } else {
        "; the ratio is unbounded on one side".to_string()
    };
    format!(
        "ratio {}{excluded}; {need}",
        ratio_with_interval(r, false).trim_start_matches('×')
    )
}
