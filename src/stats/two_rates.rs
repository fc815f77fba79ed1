//! Comparing two rates (docs/methods.md#comparing-two-runs): baseline A (`k_a` events in `n_a`
//! cycles) against candidate B (`k_b` in `n_b`).
//!
//! Given the `T = k_a + k_b` events of both runs, B's share of them is
//! Binomial(T, π) with `π = ρ n_b / (n_a + ρ n_b)`, where `ρ` is the ratio of
//! B's rate to A's (exact for Poisson counts, and for binomial ones at the
//! small rates anomalies have). Everything here is a statement about that
//! share, mapped back to `ρ`:
//!
//! - the ratio's interval at level `1 − α` is the Clopper–Pearson interval of
//!   the share, mapped through `π / (1 − π) · n_a / n_b` (R's `poisson.test`);
//! - the **difference** test of `ρ = 1` has the central p-value
//!   `min(1, 2 · min(P(X ≤ k_b), P(X ≥ k_b)))` under `π₀ = n_b / (n_a + n_b)`.
//!   It is the dual of that interval: `p < α` exactly when the `1 − α`
//!   interval of the ratio excludes 1;
//! - the **equivalence** test of `1/m < ρ < m` is two one-sided exact tests
//!   (TOST): `H₀: ρ ≥ m` rejected when `P(X ≤ k_b | π(m))` is small, `H₀:
//!   ρ ≤ 1/m` when `P(X ≥ k_b | π(1/m))` is; its p-value is the larger of the
//!   two. `p < α` exactly when the `1 − 2α` interval of the ratio (90% at
//!   α = 0.05) lies inside `[1/m, m]`. With a zero count one end of that
//!   interval is 0 or ∞, so equivalence is never shown.
//!
//! Both tests are exact conditional tests: under their null hypotheses they
//! reject with probability at most `α`, whatever the counts. The intervals a
//! [`RateComparison`] carries are at the `α` it was computed at, so they say
//! what the tests decide.
//!
//! The counts' sum is never formed as a `u64`: the share's interval and tail
//! probabilities take each run's count apart, so any two counts work.

use std::sync::Mutex;

use super::interval::{Interval, rate_interval_at, success_interval};
use super::special::{
    binomial_cdf, binomial_cdf_of, binomial_pmf, binomial_sf, binomial_sf_of, normal_quantile,
    poisson_pmf,
};

/// Equivalence margin when none is given (`--margin`): `same` means the
/// ratio is shown to lie within a factor of 2.
pub const DEFAULT_MARGIN: f64 = 2.0;

/// Significance level when none is given (`--alpha`).
pub const DEFAULT_ALPHA: f64 = 0.05;

/// The power at which [`cycles_to_tell`] says a difference could be told.
pub const POWER: f64 = 0.8;

/// Two rates compared.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateComparison {
    pub k_a: u64,
    pub n_a: u64,
    pub k_b: u64,
    pub n_b: u64,
    /// B's rate over A's. `None` when there is no finite ratio: A has no event
    /// (infinite when B has some, undefined when neither has) or a run has no
    /// cycles.
    pub ratio: Option<f64>,
    /// Lower end of the ratio's `1 − α` interval (95% at α = 0.05); `0`
    /// when B has no event.
    pub ratio_low: f64,
    /// Upper end of the ratio's `1 − α` interval; `None` when unbounded (A
    /// has no event).
    pub ratio_high: Option<f64>,
    /// Central two-sided p-value of the exact conditional test of `ρ = 1`.
    pub p_value: f64,
    /// The equivalence margin `m`.
    pub margin: f64,
    /// The ratio's `1 − 2α` interval (90% at α = 0.05), the one TOST checks
    /// against `[1/m, m]`.
    pub equivalence_low: f64,
    pub equivalence_high: Option<f64>,
    /// p-value of the equivalence test (TOST) of `1/m < ρ < m`.
    pub equivalence_p: f64,
    /// The significance level `α` the intervals are at.
    pub alpha: f64,
}

impl RateComparison {
    /// `true` when the ratio is infinite: B has events and A none.
    pub fn ratio_is_infinite(&self) -> bool {
        self.n_a > 0 && self.n_b > 0 && self.k_a == 0 && self.k_b > 0
    }

    /// `true` when both runs have cycles.
    pub fn has_cycles(&self) -> bool {
        self.n_a > 0 && self.n_b > 0
    }

    /// `true` when the difference test can reject at some level: both runs
    /// have cycles and there is an event.
    pub fn difference_testable(&self) -> bool {
        self.has_cycles() && (self.k_a > 0 || self.k_b > 0)
    }

    /// Events in both runs together (saturating at `u64::MAX`).
    pub fn events(&self) -> u64 {
        self.k_a.saturating_add(self.k_b)
    }

    /// The confidence of the ratio's interval, `1 − α`.
    pub fn confidence(&self) -> f64 {
        1.0 - self.alpha
    }

    /// The confidence of the equivalence interval, `1 − 2α`.
    pub fn equivalence_confidence(&self) -> f64 {
        1.0 - 2.0 * self.alpha
    }

    /// `true` when the equivalence test can reject at some level: both runs
    /// have cycles and events.
    pub fn equivalence_testable(&self) -> bool {
        self.has_cycles() && self.k_a > 0 && self.k_b > 0
    }

    /// Whether B's rate is above A's (exact integer comparison of
    /// `k_b / n_b` with `k_a / n_a`).
    fn b_vs_a(&self) -> std::cmp::Ordering {
        (u128::from(self.k_b) * u128::from(self.n_a))
            .cmp(&(u128::from(self.k_a) * u128::from(self.n_b)))
    }
}

/// B's share of the events at ratio `rho`, as `(π, 1 − π)` computed without
/// cancellation.
fn share(rho: f64, n_a: f64, n_b: f64) -> (f64, f64) {
    let d = n_a + rho * n_b;
    (rho * n_b / d, n_a / d)
}

/// The interval of the ratio B/A at `confidence`: `(low, high)`, `high`
/// `None` when unbounded (A has no event). No event at all or a run without
/// cycles gives `(0, None)`.
pub fn ratio_interval(
    k_a: u64,
    n_a: u64,
    k_b: u64,
    n_b: u64,
    confidence: f64,
) -> (f64, Option<f64>) {
    if n_a == 0 || n_b == 0 || (k_a == 0 && k_b == 0) {
        return (0.0, None);
    }
    // 1 − π_low(B) = π_high(A) and 1 − π_high(B) = π_low(A): both ends stay
    // exact near 0 and 1.
    let share_b: Interval = success_interval(k_b, k_a, confidence);
    let share_a: Interval = success_interval(k_a, k_b, confidence);
    let scale = n_a as f64 / n_b as f64;
    let low = if k_b > 0 {
        share_b.low / share_a.high * scale
    } else {
        0.0
    };
    let high = (k_a > 0).then(|| share_b.high / share_a.low * scale);
    (low, high)
}

/// Compares B's rate `k_b / n_b` with A's `k_a / n_a` at equivalence margin
/// `margin` (> 1) and significance level `alpha` (`0 < α < ½`): the ratio's
/// interval at `1 − α`, the equivalence interval at `1 − 2α`. No event at
/// all, or a run without cycles, gives both p-values 1 and the ratio
/// interval `[0, ∞)`.
pub fn compare_rates(
    k_a: u64,
    n_a: u64,
    k_b: u64,
    n_b: u64,
    margin: f64,
    alpha: f64,
) -> RateComparison {
    let (low, high) = ratio_interval(k_a, n_a, k_b, n_b, 1.0 - alpha);
    let (eq_low, eq_high) = ratio_interval(k_a, n_a, k_b, n_b, 1.0 - 2.0 * alpha);
    let mut out = RateComparison {
        k_a,
        n_a,
        k_b,
        n_b,
        ratio: None,
        ratio_low: low,
        ratio_high: high,
        p_value: 1.0,
        margin,
        equivalence_low: eq_low,
        equivalence_high: eq_high,
        equivalence_p: 1.0,
        alpha,
    };
    if n_a == 0 || n_b == 0 {
        return out;
    }
    let (na, nb) = (n_a as f64, n_b as f64);
    if k_a > 0 {
        out.ratio = Some((k_b as f64 * na) / (k_a as f64 * nb));
    }
    if k_a == 0 && k_b == 0 {
        return out;
    }
    // B's share of the k_a + k_b events: P(X ≤ k_b) and P(X ≥ k_b).
    let (p0, q0) = share(1.0, na, nb);
    let below = binomial_cdf_of(k_b, k_a, p0, q0);
    let above = binomial_sf_of(k_b, k_a, p0, q0);
    out.p_value = (2.0 * below.min(above)).min(1.0);
    if k_a > 0 && k_b > 0 {
        let (pm, qm) = share(margin, na, nb);
        let (pi, qi) = share(1.0 / margin, na, nb);
        let not_above_margin = binomial_cdf_of(k_b, k_a, pm, qm);
        let not_below_inverse = binomial_sf_of(k_b, k_a, pi, qi);
        out.equivalence_p = not_above_margin.max(not_below_inverse).min(1.0);
    }
    out
}

/// Two-sided p-value of the exact binomial test of `k` successes in `n`
/// trials with success probability `p`, computed as R's `binom.test`: the
/// probability of every outcome no more likely than the observed one (with a
/// relative tolerance of `1 + 1e-7`). Not used for verdicts (its acceptance
/// region does not invert the Clopper–Pearson interval); kept as a reference.
pub fn binomial_test(k: u64, n: u64, p: f64) -> f64 {
    const REL_ERR: f64 = 1.0 + 1e-7;
    let q = 1.0 - p;
    let k = k.min(n);
    let d = binomial_pmf(k, n, p, q) * REL_ERR;
    let m = n as f64 * p;
    let kf = k as f64;
    let pvalue = if kf == m {
        1.0
    } else if kf < m {
        // The pmf does not increase on [ceil(m), n]: find where it first drops
        // to the observed one.
        let first = first_index(m.ceil() as u64, n, |i| binomial_pmf(i, n, p, q) <= d);
        binomial_cdf(k, n, p, q) + binomial_sf(first, n, p, q)
    } else {
        // The pmf does not decrease on [0, floor(m)]: find where it first
        // exceeds the observed one.
        let first = first_index(0, m.floor() as u64, |i| binomial_pmf(i, n, p, q) > d);
        let below = if first == 0 {
            0.0
        } else {
            binomial_cdf(first - 1, n, p, q)
        };
        below + binomial_sf(k, n, p, q)
    };
    pvalue.min(1.0)
}

/// The first `i` in `lo..=hi` with `pred(i)`, for a predicate that is false
/// then true; `hi + 1` (at most `u64::MAX`) when it is never true.
fn first_index(lo: u64, hi: u64, pred: impl Fn(u64) -> bool) -> u64 {
    let (mut lo, mut hi) = (lo, hi.saturating_add(1));
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

/// Holm-adjusted p-values, in the order given (R's `p.adjust(p, "holm")`):
/// the `i`-th smallest of `m` is multiplied by `m − i + 1`, then made
/// non-decreasing in that order and capped at 1.
pub fn holm(p_values: &[f64]) -> Vec<f64> {
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&i, &j| p_values[i].total_cmp(&p_values[j]));
    let mut adjusted = vec![0.0; m];
    let mut running = 0.0f64;
    for (rank, &i) in order.iter().enumerate() {
        running = running.max(((m - rank) as f64 * p_values[i]).min(1.0));
        adjusted[i] = running;
    }
    adjusted
}

/// How candidate B's rate relates to baseline A's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Verdict {
    /// The difference test rejects `ρ = 1`, B above A.
    Higher,
    /// The difference test rejects `ρ = 1`, B below A.
    Lower,
    /// The equivalence test puts the ratio inside `[1/m, m]`, or both rates
    /// are shown to be below the declared negligible rate.
    Same,
    /// Neither: the data can tell neither a difference nor a sameness.
    Inconclusive,
}

impl Verdict {
    /// The word used in outputs.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Higher => "higher",
            Verdict::Lower => "lower",
            Verdict::Same => "same",
            Verdict::Inconclusive => "inconclusive",
        }
    }

    /// `true` for `higher` and `lower`.
    pub fn differs(self) -> bool {
        matches!(self, Verdict::Higher | Verdict::Lower)
    }
}

/// Why a verdict was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Basis {
    /// The difference test rejected.
    Difference,
    /// The equivalence test rejected.
    Equivalence,
    /// Both rates' upper bounds (of their `1 − α` intervals) are below the
    /// negligible rate.
    Negligible,
    /// A run has no cycles.
    NoCycles,
    /// No test rejected.
    Undecided,
}

/// A verdict and its basis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Decision {
    pub verdict: Verdict,
    pub basis: Basis,
}

/// The verdict on `c`, given the (adjusted) p-values of its difference and
/// equivalence tests, the significance level and the negligible rate, in this
/// order: no cycles → `inconclusive`; the difference test rejects →
/// `higher`/`lower`; the equivalence test rejects → `same`; both rates'
/// upper bounds at `1 − α` (95% at α = 0.05) below `negligible` → `same`;
/// otherwise `inconclusive`.
pub fn decide(
    c: &RateComparison,
    p_difference: f64,
    p_equivalence: f64,
    alpha: f64,
    negligible: Option<f64>,
) -> Decision {
    let decision = |verdict, basis| Decision { verdict, basis };
    if !c.has_cycles() {
        return decision(Verdict::Inconclusive, Basis::NoCycles);
    }
    if p_difference < alpha {
        match c.b_vs_a() {
            std::cmp::Ordering::Greater => return decision(Verdict::Higher, Basis::Difference),
            std::cmp::Ordering::Less => return decision(Verdict::Lower, Basis::Difference),
            std::cmp::Ordering::Equal => {}
        }
    }
    if p_equivalence < alpha {
        return decision(Verdict::Same, Basis::Equivalence);
    }
    if let Some(limit) = negligible {
        let below = |k, n| rate_interval_at(k, n, 1.0 - alpha).high < limit;
        if below(c.k_a, c.n_a) && below(c.k_b, c.n_b) {
            return decision(Verdict::Same, Basis::Negligible);
        }
    }
    decision(Verdict::Inconclusive, Basis::Undecided)
}

/// How many more cycles (both runs together) would be needed to tell a
/// `ratio`-fold difference at level `alpha` with [`POWER`] (80%), if the rate
/// is what the runs suggest: their pooled rate, or, with no event, the pooled
/// upper bound at `1 − α` (then the answer is a lower limit). Each run would
/// need `n` cycles, A at the rate and B at `ratio` times it, with `n` the
/// fewest for which the difference test (unadjusted) rejects with
/// probability at least 80% ([`events_to_tell`]). Returns `(more cycles, the
/// pooled rate used, whether it was an upper bound)`.
pub fn cycles_to_tell(c: &RateComparison, ratio: f64, alpha: f64) -> (f64, f64, bool) {
    let pooled_n = c.n_a.saturating_add(c.n_b);
    let (rate, bound) = if c.events() > 0 {
        ((c.k_a as f64 + c.k_b as f64) / pooled_n as f64, false)
    } else {
        (rate_interval_at(0, pooled_n, 1.0 - alpha).high, true)
    };
    let per_run = (events_to_tell(ratio, alpha) / (rate * (1.0 + ratio))).ceil();
    let more = (per_run - c.n_a as f64).max(0.0) + (per_run - c.n_b as f64).max(0.0);
    (more, rate, bound)
}

/// Above this many expected events the power is not summed exactly: the
/// normal approximation, raised by `1/√μ`, is used instead.
const EXACT_POWER_EVENTS: f64 = 1e5;

/// The expected number of events, both runs together with equal cycles, at
/// which the difference test at level `alpha` rejects with probability
/// [`POWER`] when B's rate is `ratio` times A's (`ratio > 0`, not 1;
/// `0 < α < ½`): the smallest such `μ` to 0.01%, found by bisection on
/// [`difference_power`], so that the power at the returned value is at least
/// 80%.
///
/// Beyond 10⁵ events the exact sum would take long; there the normal
/// approximation of the binomial test is raised by a factor `1 + 1/√μ`. The
/// exact power needs `1 + 0.72/√μ` times the approximation from 10³ to 10⁴
/// events (scipy), so the raised figure errs on the side of more cycles.
pub fn events_to_tell(ratio: f64, alpha: f64) -> f64 {
    // A comparison asks this for every inconclusive class, always with the
    // same ratio and level: the last few answers are kept.
    static KNOWN: Mutex<Vec<((u64, u64), f64)>> = Mutex::new(Vec::new());
    const KEEP: usize = 8;
    let key = (ratio.to_bits(), alpha.to_bits());
    let known = |k: &Vec<((u64, u64), f64)>| k.iter().find(|e| e.0 == key).map(|e| e.1);
    if let Some(events) = KNOWN.lock().ok().as_deref().and_then(known) {
        return events;
    }
    let events = search_events_to_tell(ratio, alpha);
    if let Ok(mut k) = KNOWN.lock() {
        if k.len() >= KEEP {
            k.remove(0);
        }
        k.push((key, events));
    }
    events
}

/// [`events_to_tell`], computed.
fn search_events_to_tell(ratio: f64, alpha: f64) -> f64 {
    let (p0, p1): (f64, f64) = (0.5, ratio / (1.0 + ratio));
    let z_alpha = normal_quantile(1.0 - alpha / 2.0);
    let z_power = normal_quantile(POWER);
    let approximation = ((z_alpha * (p0 * (1.0 - p0)).sqrt() + z_power * (p1 * (1.0 - p1)).sqrt())
        / (p1 - p0))
        .powi(2);
    if !approximation.is_finite() || approximation > EXACT_POWER_EVENTS {
        return approximation * (1.0 + 1.0 / approximation.sqrt());
    }
    // The exact figure lies within a factor of two of the approximation
    // (1.09 at a ratio of 2); the bracket is widened if not.
    let enough = |mu: f64| difference_power(mu, ratio, alpha) >= POWER;
    let (mut lo, mut hi) = (approximation / 2.0, approximation * 2.0 + 10.0);
    for _ in 0..20 {
        if enough(hi) {
            break;
        }
        (lo, hi) = (hi, hi * 2.0);
    }
    for _ in 0..10 {
        if !enough(lo) {
            break;
        }
        (lo, hi) = (lo / 2.0, lo);
    }
    // At most 40 halvings: the bracket starts below 2¹⁸ events wide.
    for _ in 0..40 {
        if hi - lo <= 1e-4 * hi {
            break;
        }
        let mid = 0.5 * (lo + hi);
        if enough(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

/// The probability that the difference test rejects `ρ = 1` at level
/// `alpha` when two runs of equal cycles expect `events` events together and
/// B's rate is `ratio` times A's. Exact: the total `T` is Poisson with mean
/// `events`; given `T`, B's share is Binomial(T, ρ / (1 + ρ)), and the test
/// rejects where the central p-value of that share against ½ is below
/// `alpha`, i.e. at `k ≥ c(T)` and `k ≤ T − c(T)` with `c(T)` the smallest
/// `k` with `P(X ≥ k) < α/2` under Binomial(T, ½). The sum runs over
/// `T = μ ± (12√μ + 20)`, beyond which the Poisson mass is below 10⁻³⁰.
pub fn difference_power(events: f64, ratio: f64, alpha: f64) -> f64 {
    if !(events > 0.0 && events.is_finite() && ratio > 0.0 && alpha > 0.0) {
        return 0.0;
    }
    let (pi, pi_rest) = share(ratio, 1.0, 1.0);
    let spread = 12.0 * events.sqrt() + 20.0;
    let first = (events - spread).max(0.0).floor() as u64;
    let last = (events + spread).ceil() as u64;
    let rejects_above = |k: u64, t: u64| binomial_sf(k, t, 0.5, 0.5) < alpha / 2.0;
    // c(T) grows with T, by at most one per step.
    let mut c = first_index(first / 2, first, |k| rejects_above(k, first));
    let mut power = 0.0;
    for t in first..=last {
        while c <= t && !rejects_above(c, t) {
            c += 1;
        }
        if c > t {
            continue;
        }
        let reject = binomial_sf(c, t, pi, pi_rest) + binomial_cdf(t - c, t, pi, pi_rest);
        power += poisson_pmf(t, events) * reject;
    }
    power.min(1.0)
}
