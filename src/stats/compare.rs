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
//! reject with probability at most `α`, whatever the counts.

use super::interval::{CONFIDENCE, clopper_pearson, rate_interval};
use super::special::{binomial_cdf, binomial_pmf, binomial_sf, normal_quantile};

/// Equivalence margin when none is given (`--margin`): `same` means the
/// ratio is shown to lie within a factor of 2.
pub const DEFAULT_MARGIN: f64 = 2.0;

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
    /// Lower end of the 95% interval of the ratio; `0` when B has no event.
    pub ratio_low: f64,
    /// Upper end of the 95% interval of the ratio; `None` when unbounded (A
    /// has no event).
    pub ratio_high: Option<f64>,
    /// Central two-sided p-value of the exact conditional test of `ρ = 1`.
    pub p_value: f64,
    /// The equivalence margin `m`.
    pub margin: f64,
    /// The ratio's 90% interval (`1 − 2α` at α = 0.05), the one TOST checks
    /// against `[1/m, m]`.
    pub equivalence_low: f64,
    pub equivalence_high: Option<f64>,
    /// p-value of the equivalence test (TOST) of `1/m < ρ < m`.
    pub equivalence_p: f64,
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
        self.has_cycles() && self.k_a + self.k_b > 0
    }

    /// `true` when the equivalence test can reject at some level: both runs
    /// have cycles and events.
    pub fn equivalence_testable(&self) -> bool {
        self.has_cycles() && self.k_a > 0 && self.k_b > 0
    }

    /// Whether B's rate is above A's (exact integer comparison of
    /// `k_b / n_b` with `k_a / n_a`).
    pub fn b_vs_a(&self) -> std::cmp::Ordering {
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
    let total = k_a + k_b;
    if n_a == 0 || n_b == 0 || total == 0 {
        return (0.0, None);
    }
    // 1 − π_low(B) = π_high(A) and 1 − π_high(B) = π_low(A): both ends stay
    // exact near 0 and 1.
    let share_b = clopper_pearson(k_b, total, confidence);
    let share_a = clopper_pearson(k_a, total, confidence);
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
/// `margin` (> 1). No event at all, or a run without cycles, gives both
/// p-values 1 and the ratio interval `[0, ∞)`.
pub fn compare_rates(k_a: u64, n_a: u64, k_b: u64, n_b: u64, margin: f64) -> RateComparison {
    let (low, high) = ratio_interval(k_a, n_a, k_b, n_b, CONFIDENCE);
    let (eq_low, eq_high) = ratio_interval(k_a, n_a, k_b, n_b, 1.0 - 2.0 * (1.0 - CONFIDENCE));
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
    };
    if n_a == 0 || n_b == 0 {
        return out;
    }
    let (na, nb) = (n_a as f64, n_b as f64);
    if k_a > 0 {
        out.ratio = Some((k_b as f64 * na) / (k_a as f64 * nb));
    }
    let total = k_a + k_b;
    if total == 0 {
        return out;
    }
    let (p0, q0) = share(1.0, na, nb);
    let below = binomial_cdf(k_b, total, p0, q0);
    let above = binomial_sf(k_b, total, p0, q0);
    out.p_value = (2.0 * below.min(above)).min(1.0);
    if k_a > 0 && k_b > 0 {
        let (pm, qm) = share(margin, na, nb);
        let (pi, qi) = share(1.0 / margin, na, nb);
        let not_above_margin = binomial_cdf(k_b, total, pm, qm);
        let not_below_inverse = binomial_sf(k_b, total, pi, qi);
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
/// then true; `hi + 1` when it is never true.
fn first_index(lo: u64, hi: u64, pred: impl Fn(u64) -> bool) -> u64 {
    let (mut lo, mut hi) = (lo, hi + 1);
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
    /// Both 95% upper bounds are below the negligible rate.
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
/// `higher`/`lower`; the equivalence test rejects → `same`; both rates' 95%
/// upper bounds below `negligible` → `same`; otherwise `inconclusive`.
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
        let below = |k, n| rate_interval(k, n).high < limit;
        if below(c.k_a, c.n_a) && below(c.k_b, c.n_b) {
            return decision(Verdict::Same, Basis::Negligible);
        }
    }
    decision(Verdict::Inconclusive, Basis::Undecided)
}

/// How many more cycles (both runs together) would be needed to tell a
/// `ratio`-fold difference at level `alpha` with 80% power, if the rate is
/// what the runs suggest: their pooled rate, or, with no event, the pooled
/// 95% upper bound (then the answer is a lower limit). Each run would need
/// `n` cycles with `n · rate · (1 + ratio)` events in total, the number the
/// conditional test needs (normal approximation of the binomial test of the
/// share `ratio / (1 + ratio)` against `1/2`). Returns `(more cycles, the
/// pooled rate used, whether it was an upper bound)`.
pub fn cycles_to_tell(c: &RateComparison, ratio: f64, alpha: f64) -> (f64, f64, bool) {
    const POWER: f64 = 0.8;
    let pooled_n = c.n_a.saturating_add(c.n_b);
    let events = c.k_a + c.k_b;
    let (rate, bound) = if events > 0 {
        (events as f64 / pooled_n as f64, false)
    } else {
        (rate_interval(0, pooled_n).high, true)
    };
    let (p0, p1): (f64, f64) = (0.5, ratio / (1.0 + ratio));
    let z_alpha = normal_quantile(1.0 - alpha / 2.0);
    let z_power = normal_quantile(POWER);
    let needed_events = ((z_alpha * (p0 * (1.0 - p0)).sqrt() + z_power * (p1 * (1.0 - p1)).sqrt())
        / (p1 - p0))
        .powi(2);
    let per_run = needed_events / (rate * (1.0 + ratio));
    let more = (per_run - c.n_a as f64).max(0.0) + (per_run - c.n_b as f64).max(0.0);
    (more, rate, bound)
}
