//! Cycles to the first anomaly (docs/methods.md#trials-cycles-to-the-first-anomaly):
//! Kaplan–Meier and the per-cycle maximum-likelihood rate from trials that may be censored, and the
//! Kaplan–Meier median with a distribution-free 95% interval.

use super::interval::{Interval, rate_interval};

/// One cycles-to-first-anomaly observation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trial {
    /// Cycles run until the first anomaly, or until the cap.
    pub cycles: u64,
    /// `true` when the cap was reached without an anomaly.
    pub censored: bool,
}

/// One step of the Kaplan–Meier curve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SurvivalPoint {
    pub cycles: u64,
    /// Estimated probability of no anomaly within `cycles` cycles.
    pub survival: f64,
    /// Trials at risk just before `cycles`.
    pub at_risk: u64,
}

/// What the trials say about the time to the first anomaly.
#[derive(Debug, Clone, PartialEq)]
pub struct Survival {
    pub trials: u64,
    pub events: u64,
    pub censored: u64,
    /// Kaplan–Meier estimate, one point per distinct event time.
    pub curve: Vec<SurvivalPoint>,
    /// Maximum-likelihood per-cycle probability of an anomaly.
    pub mle_rate_per_cycle: f64,
    /// Its 95% interval ([`rate_interval`] of events over total cycles).
    pub mle_interval: Interval,
    /// Median cycles to the first anomaly the MLE implies (`None` without an event).
    pub median_cycles: Option<f64>,
    /// `median_cycles` at the measured time per cycle, in seconds.
    pub median_seconds: Option<f64>,
}

/// Kaplan–Meier estimate of the probability of no anomaly within a number of
/// cycles, from `(cycles, event_observed)` pairs (`false`: censored at
/// `cycles`). One point per distinct event time, in increasing order, with the
/// survival just after it and the number of trials at risk just before it.
/// Trials censored at an event time count as at risk at that time.
pub fn kaplan_meier(observations: &[(u64, bool)]) -> Vec<SurvivalPoint> {
    let mut sorted = observations.to_vec();
    sorted.sort_unstable_by_key(|&(cycles, _)| cycles);
    let mut at_risk = sorted.len() as u64;
    let mut survival = 1.0;
    let mut curve = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let cycles = sorted[i].0;
        let (mut events, mut leaving) = (0u64, 0u64);
        while i < sorted.len() && sorted[i].0 == cycles {
            events += u64::from(sorted[i].1);
            leaving += 1;
            i += 1;
        }
        if events > 0 {
            survival *= 1.0 - events as f64 / at_risk as f64;
            curve.push(SurvivalPoint {
                cycles,
                survival,
                at_risk,
            });
        }
        at_risk -= leaving;
    }
    curve
}

/// What the trials say about the time to the first anomaly; `None` without
/// trials.
///
/// The per-cycle rate is the maximum-likelihood estimate for a geometric
/// number of cycles to the first anomaly with right censoring: events divided
/// by the cycles of all trials (the likelihood is that of a binomial count, so
/// its interval is [`rate_interval`]). The median is the one the estimate
/// implies, `ln 0.5 / ln(1 − p)` cycles, and that many cycles at
/// `ns_per_cycle` in seconds (`None` without an event, or when
/// `ns_per_cycle` is not a positive number).
pub fn survival(trials: &[Trial], ns_per_cycle: f64) -> Option<Survival> {
    if trials.is_empty() {
        return None;
    }
    let observations: Vec<(u64, bool)> = trials.iter().map(|t| (t.cycles, !t.censored)).collect();
    let events = observations.iter().filter(|o| o.1).count() as u64;
    let total_cycles = trials
        .iter()
        .fold(0u64, |sum, t| sum.saturating_add(t.cycles));
    let rate = if total_cycles == 0 {
        if events > 0 { 1.0 } else { 0.0 }
    } else {
        (events as f64 / total_cycles as f64).min(1.0)
    };
    let median_cycles = (events > 0).then(|| median_cycles_at(rate));
    let median_seconds = median_cycles
        .filter(|_| ns_per_cycle.is_finite() && ns_per_cycle > 0.0)
        .map(|cycles| cycles * ns_per_cycle / 1e9);
    Some(Survival {
        trials: trials.len() as u64,
        events,
        censored: trials.len() as u64 - events,
        curve: kaplan_meier(&observations),
        mle_rate_per_cycle: rate,
        mle_interval: rate_interval(events, total_cycles),
        median_cycles,
        median_seconds,
    })
}

/// The median number of cycles to the first anomaly when each cycle has
/// one with probability `rate` (geometric): `ln 0.5 / ln(1 − rate)`; `∞` at
/// rate 0. Applied to the ends of a rate's interval it gives the median's.
pub fn median_cycles_at(rate: f64) -> f64 {
    if rate <= 0.0 {
        return f64::INFINITY;
    }
    0.5f64.ln() / (-rate.min(1.0)).ln_1p()
}

/// The Kaplan–Meier median of observations that may be censored, with a
/// 95% interval ([`km_median`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MedianEstimate {
    /// The smallest observed time at which the Kaplan–Meier estimate is 0.5
    /// or below; `None` when it never gets there (too many trials censored).
    pub median: Option<u64>,
    /// `None` with fewer than 6 observations: no pair of order statistics
    /// covers the median with 95% confidence.
    pub interval: Option<MedianBounds>,
}

/// The ends of a median's 95% interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MedianBounds {
    pub low: u64,
    /// `None`: the upper end lies beyond a censored observation (in the
    /// benchmarks, beyond the trial cap), so only the lower end is known.
    pub high: Option<u64>,
}

/// Median of `(time, event_observed)` observations by Kaplan–Meier, with the
/// distribution-free 95% interval of order statistics (Conover, *Practical
/// Nonparametric Statistics*, 3rd ed., 1999, §3.2): `[x_(j), x_(n+1−j)]` with
/// the largest `j` such that `P(B < j) ≤ 0.025` for `B ~ Binomial(n, 1/2)`,
/// whose coverage is at least 95% (n = 20: ranks 6 and 15, 95.9%).
///
/// The median is the smallest event time at which the curve is 0.5 or below
/// (R's `quantile(survfit(...), 0.5)` agrees except where the curve sits at
/// exactly 0.5, where R takes the middle of the flat stretch). A censored
/// observation is only a lower bound for its trial's time, and the order
/// statistics can only grow when such a bound is replaced by the true time:
/// so a censored `x_(j)` still gives a valid lower end, while an upper end
/// with a censored observation at or below its rank is unknown (`high:
/// None`). When every censored trial lies beyond every event (a common cap)
/// the interval is exact.
pub fn km_median(observations: &[(u64, bool)]) -> MedianEstimate {
    let curve = kaplan_meier(observations);
    let median = curve.iter().find(|p| p.survival <= 0.5).map(|p| p.cycles);
    let n = observations.len();
    let mut sorted = observations.to_vec();
    // At a tie an event comes first: the censored trial lasted at least as long.
    sorted.sort_unstable_by_key(|&(t, event)| (t, !event));
    // P(B <= i) for B ~ Binomial(n, 1/2), summed in logs (n may be large).
    let ln_half_n = n as f64 * 0.5f64.ln();
    let mut ln_choose = 0.0f64;
    let mut cdf = Vec::with_capacity(n + 1);
    let mut acc = 0.0;
    for i in 0..=n {
        if i > 0 {
            ln_choose += ((n - i + 1) as f64).ln() - (i as f64).ln();
        }
        acc += (ln_choose + ln_half_n).exp();
        cdf.push(acc);
    }
    // The largest rank j <= ceil(n/2) with P(B < j) = cdf[j - 1] <= 0.025.
    let interval = (1..=n.div_ceil(2))
        .rev()
        .find(|&j| cdf[j - 1] <= 0.025)
        .map(|j| {
            let upper = n - j;
            let censored_below = sorted[..=upper].iter().any(|&(_, event)| !event);
            MedianBounds {
                low: sorted[j - 1].0,
                high: (!censored_below).then_some(sorted[upper].0),
            }
        });
    MedianEstimate { median, interval }
}
