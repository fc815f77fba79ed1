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
///
/// Between two censorings the product telescopes to survivors over the
/// trials at risk where the stretch began, so the estimate is computed as a
/// product of such counted ratios, one per stretch: without censoring it is
/// the correctly rounded `survivors / n` (exactly 0.5 where half survive).
pub fn kaplan_meier(observations: &[(u64, bool)]) -> Vec<SurvivalPoint> {
    product_limit(observations).points
}

/// The Kaplan–Meier curve with, for each point, the counts its value is the
/// product of ([`ProductLimit::at_or_below_half`] decides exactly).
struct ProductLimit {
    points: Vec<SurvivalPoint>,
    /// For each point: how many stretches had ended before it, the trials at
    /// risk when its own stretch began, and the survivors just after it.
    counts: Vec<(usize, u64, u64)>,
    /// Each ended stretch: (trials at risk at its end after its events,
    /// trials at risk at its start).
    stretches: Vec<(u64, u64)>,
}

fn product_limit(observations: &[(u64, bool)]) -> ProductLimit {
    let mut sorted = observations.to_vec();
    sorted.sort_unstable_by_key(|&(cycles, _)| cycles);
    let mut at_risk = sorted.len() as u64;
    let mut out = ProductLimit {
        points: Vec::new(),
        counts: Vec::new(),
        stretches: Vec::new(),
    };
    // The product of the ended stretches' ratios, and where this one began.
    let mut ended = 1.0;
    let mut start = at_risk;
    let mut i = 0;
    while i < sorted.len() {
        let cycles = sorted[i].0;
        let (mut events, mut leaving) = (0u64, 0u64);
        while i < sorted.len() && sorted[i].0 == cycles {
            events += u64::from(sorted[i].1);
            leaving += 1;
            i += 1;
        }
        let survivors = at_risk - events;
        if events > 0 {
            out.points.push(SurvivalPoint {
                cycles,
                survival: ended * (survivors as f64 / start as f64),
                at_risk,
            });
            out.counts.push((out.stretches.len(), start, survivors));
        }
        at_risk -= leaving;
        if leaving > events && at_risk > 0 {
            // A censoring ends the stretch.
            ended *= survivors as f64 / start as f64;
            out.stretches.push((survivors, start));
            start = at_risk;
        }
    }
    out
}

impl ProductLimit {
    /// Whether point `i` of the curve is at most ½, decided exactly: by its
    /// floating-point value where that is further from ½ than its rounding
    /// error can reach, else from the counts, in integers.
    fn at_or_below_half(&self, i: usize) -> bool {
        let (ended, start, survivors) = self.counts[i];
        let value = self.points[i].survival;
        // Four roundings per ratio (two conversions, a division, a product).
        let error = (8 * ended + 16) as f64 * f64::EPSILON;
        if value < 0.5 * (1.0 - error) {
            return true;
        }
        if value > 0.5 * (1.0 + error) {
            return false;
        }
        let stretches = &self.stretches[..ended];
        let twice_survivors = big_product(stretches.iter().map(|s| s.0).chain([survivors, 2]));
        let at_risk = big_product(stretches.iter().map(|s| s.1).chain([start]));
        big_cmp(&twice_survivors, &at_risk) != std::cmp::Ordering::Greater
    }
}

/// The product of `factors` as little-endian 64-bit limbs.
fn big_product(factors: impl Iterator<Item = u64>) -> Vec<u64> {
    let mut limbs = vec![1u64];
    for factor in factors {
        let mut carry = 0u128;
        for limb in &mut limbs {
            let v = u128::from(*limb) * u128::from(factor) + carry;
            *limb = v as u64;
            carry = v >> 64;
        }
        if carry > 0 {
            limbs.push(carry as u64);
        }
    }
    limbs
}

/// Compares two numbers given as little-endian limbs.
fn big_cmp(a: &[u64], b: &[u64]) -> std::cmp::Ordering {
    let significant = |x: &[u64]| x.len() - x.iter().rev().take_while(|&&l| l == 0).count();
    let (la, lb) = (significant(a), significant(b));
    la.cmp(&lb)
        .then_with(|| a[..la].iter().rev().cmp(b[..lb].iter().rev()))
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
/// The median is the smallest event time at which the curve is 0.5 or below,
/// decided in integers where the curve is within rounding of 0.5 (R's
/// `quantile(survfit(...), 0.5)` agrees except where the curve sits at
/// exactly 0.5, where R takes the middle of the flat stretch). A censored
/// observation is only a lower bound for its trial's time, and the order
/// statistics can only grow when such a bound is replaced by the true time:
/// so a censored `x_(j)` still gives a valid lower end, while an upper end
/// with a censored observation at or below its rank is unknown (`high:
/// None`). When every censored trial lies beyond every event (a common cap)
/// the interval is exact.
pub fn km_median(observations: &[(u64, bool)]) -> MedianEstimate {
    let curve = product_limit(observations);
    let median = (0..curve.points.len())
        .find(|&i| curve.at_or_below_half(i))
        .map(|i| curve.points[i].cycles);
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering;

    #[test]
    fn products_of_many_limbs_compare_exactly() {
        let max = u64::MAX;
        // (2⁶⁴ − 1)² · 2, three limbs, against its neighbours.
        let a = big_product([max, max, 2].into_iter());
        let b = big_product([max, max - 1, 2].into_iter());
        assert_eq!(big_cmp(&a, &b), Ordering::Greater);
        assert_eq!(big_cmp(&b, &a), Ordering::Less);
        let c = big_product([2, max, max].into_iter());
        assert_eq!(big_cmp(&a, &c), Ordering::Equal);
        let d = big_product([max, max, 1].into_iter());
        assert_eq!(big_cmp(&a, &d), Ordering::Greater);
        // A zero factor, and leading zero limbs, compare as zero.
        assert_eq!(
            big_cmp(&big_product([max, max, 0].into_iter()), &[0]),
            Ordering::Equal
        );
        assert_eq!(big_cmp(&[5, 0, 0], &[5]), Ordering::Equal);
    }

    /// A curve at exactly ½ after 39 censorings end a stretch each: 1000 of
    /// 4000 trials fail at once (¾), 39 are censored one at a time (each a
    /// stretch of ratio 1), then 987 of the 2961 left fail (⅔): ½ exactly,
    /// decided on products of 41 factors. One failure fewer and it stays above.
    #[test]
    fn a_long_censored_curve_at_exactly_one_half() {
        let curve = |last_events: u64| {
            let mut obs = vec![(1, true); 1000];
            obs.extend((2..=40).map(|t| (t, false)));
            obs.extend(std::iter::repeat_n((50, true), last_events as usize));
            obs.extend(std::iter::repeat_n(
                (60, false),
                (2961 - last_events) as usize,
            ));
            obs
        };
        let at_half = curve(987);
        let product = product_limit(&at_half);
        assert_eq!(product.counts[1].0, 39);
        assert!(product.at_or_below_half(1));
        assert_eq!(km_median(&at_half).median, Some(50));
        assert_eq!(km_median(&curve(986)).median, None);
    }
}
