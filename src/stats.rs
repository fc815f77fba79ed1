//! Statistics of DESIGN §5: rate intervals, time to the first anomaly, and
//! comparisons between runs.
//!
//! Every function here is pure, allocation-free unless it returns a vector,
//! and cheap enough to call thousands of times per report. The methods:
//!
//! - **Rate intervals.** [`clopper_pearson`]: the exact binomial interval of
//!   Clopper & Pearson (1934), *The use of confidence or fiducial limits
//!   illustrated in the case of the binomial*, Biometrika 26, 404–413 (R's
//!   `binom.test(k, n)$conf.int`). [`wilson`]: the score interval of Wilson
//!   (1927), *Probable inference, the law of succession, and statistical
//!   inference*, JASA 22, 209–212. [`rate_interval`], used for every rate in a
//!   report, is Clopper–Pearson, except with no event, where the exact
//!   one-sided bound `1 − 0.05^(1/n)` (≈ 3/n, the "rule of three") is used.
//! - **Time to the first anomaly.** [`kaplan_meier`]: the product-limit
//!   estimator of Kaplan & Meier (1958), *Nonparametric estimation from
//!   incomplete observations*, JASA 53, 457–481. [`survival`] adds the
//!   maximum-likelihood per-cycle rate of a geometric time to the first
//!   anomaly with right censoring (events / total cycles).
//! - **Comparing two rates.** [`compare_rates`]: the conditional binomial test
//!   for two Poisson or binomial rates (Przyborowski & Wilenski 1940,
//!   *Homogeneity of results in testing samples from Poisson series*,
//!   Biometrika 31, 313–323; R's two-sample `poisson.test`): given the
//!   `k_a + k_b` events of both runs, equal rates make `k_b` binomial with
//!   `p = n_b / (n_a + n_b)`. The two-sided p-value is the one of R's
//!   `binom.test`; the interval of the rate ratio is the Clopper–Pearson
//!   interval of B's share of the events, mapped through `π / (1 − π) · n_a / n_b`.
//! - **Many comparisons.** [`holm`]: the step-down adjustment of Holm (1979),
//!   *A simple sequentially rejective multiple test procedure*, Scand. J.
//!   Statist. 6, 65–70 (R's `p.adjust(method = "holm")`).
//!
//! Numerics: rates here have denominators up to 10¹⁰ cycles and numerators
//! from 0 to the denominator, so nothing may lose precision to `ln Γ` of huge
//! arguments or to `1 − p` for tiny `p`. Binomial and beta densities use the
//! saddle-point form of Loader (2000), *Fast and accurate computation of
//! binomial probabilities*. The regularized incomplete beta function uses the
//! continued fraction of Abramowitz & Stegun 26.5.8 (modified Lentz
//! evaluation) when a parameter is small, the finite binomial sum when the
//! second parameter is the small one, and Gauss–Legendre quadrature of the
//! density when both are large. Beta quantiles are found by safeguarded Newton
//! iteration on the logarithm of the tail, carrying `x` and `1 − x` separately.
//! Checked against 40-digit references: about 13 significant digits for any
//! count up to 10¹⁰, a few microseconds per interval.

use statrs::function::erf::erfc_inv;

use crate::report::schema::{Survival, SurvivalPoint, Trial};

/// Confidence level of every interval in reports and comparisons.
pub const CONFIDENCE: f64 = 0.95;

/// A two-sided interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

impl Interval {
    /// The interval `[0, 1]`: nothing is known.
    pub const UNIT: Interval = Interval {
        low: 0.0,
        high: 1.0,
    };

    /// Whether `x` lies in the closed interval.
    pub fn contains(&self, x: f64) -> bool {
        self.low <= x && x <= self.high
    }
}

/// 95% interval of a rate `k / n`, the one every rate in a report carries.
///
/// `n == 0` gives `[0, 1]`. `k == 0` gives `[0, 1 − 0.05^(1/n)]`, the exact
/// one-sided 95% upper bound (≈ 3/n). Otherwise it is the two-sided
/// Clopper–Pearson interval ([`clopper_pearson`] at 95%). A count above `n`
/// (possible for classes counted per removal) is treated as `n`.
pub fn rate_interval(k: u64, n: u64) -> Interval {
    if n == 0 {
        return Interval::UNIT;
    }
    if k == 0 {
        return Interval {
            low: 0.0,
            high: -((1.0 - CONFIDENCE).ln() / n as f64).exp_m1(),
        };
    }
    clopper_pearson(k, n, CONFIDENCE)
}

/// Exact (Clopper–Pearson) two-sided interval of a binomial proportion `k / n`
/// at `confidence` (e.g. `0.95`): the bounds are the `α/2` quantile of
/// Beta(k, n − k + 1) and the `1 − α/2` quantile of Beta(k + 1, n − k).
/// `n == 0` gives `[0, 1]`; a count above `n` is treated as `n`.
pub fn clopper_pearson(k: u64, n: u64, confidence: f64) -> Interval {
    if n == 0 {
        return Interval::UNIT;
    }
    let k = k.min(n);
    let tail = (1.0 - confidence) / 2.0;
    let (kf, nf) = (k as f64, n as f64);
    let low = if k == 0 {
        0.0
    } else if k == n {
        (tail.ln() / nf).exp()
    } else {
        beta_lower_quantile(kf, nf - kf + 1.0, tail).0
    };
    let high = if k == n {
        1.0
    } else if k == 0 {
        -(tail.ln() / nf).exp_m1()
    } else {
        // The upper quantile of Beta(k + 1, n − k) is one minus the lower
        // quantile of Beta(n − k, k + 1); solving for the complement keeps
        // tiny bounds exact.
        beta_lower_quantile(nf - kf, kf + 1.0, tail).1
    };
    Interval { low, high }
}

/// Wilson score interval of a binomial proportion `k / n` at `confidence`.
/// `n == 0` gives `[0, 1]`; a count above `n` is treated as `n`.
pub fn wilson(k: u64, n: u64, confidence: f64) -> Interval {
    if n == 0 {
        return Interval::UNIT;
    }
    let k = k.min(n);
    let z = normal_quantile(1.0 - (1.0 - confidence) / 2.0);
    let (kf, nf) = (k as f64, n as f64);
    let p = kf / nf;
    let z2 = z * z;
    let denom = 1.0 + z2 / nf;
    let center = (p + z2 / (2.0 * nf)) / denom;
    let half = z / denom * (p * (1.0 - p) / nf + z2 / (4.0 * nf * nf)).sqrt();
    Interval {
        low: if k == 0 {
            0.0
        } else {
            (center - half).max(0.0)
        },
        high: if k == n {
            1.0
        } else {
            (center + half).min(1.0)
        },
    }
}

/// The standard normal quantile Φ⁻¹(p) for `0 < p < 1`.
pub fn normal_quantile(p: f64) -> f64 {
    -std::f64::consts::SQRT_2 * erfc_inv(2.0 * p)
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
    let interval = rate_interval(events, total_cycles);
    let median_cycles = (events > 0).then(|| 0.5f64.ln() / (-rate).ln_1p());
    let median_seconds = median_cycles
        .filter(|_| ns_per_cycle.is_finite() && ns_per_cycle > 0.0)
        .map(|cycles| cycles * ns_per_cycle / 1e9);
    Some(Survival {
        trials: trials.len() as u64,
        events,
        censored: trials.len() as u64 - events,
        curve: kaplan_meier(&observations),
        mle_rate_per_cycle: rate,
        mle_ci_low: interval.low,
        mle_ci_high: interval.high,
        median_cycles,
        median_seconds,
    })
}

/// Two rates compared: baseline A (`k_a` events in `n_a` cycles) and
/// candidate B (`k_b` in `n_b`).
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
    /// Two-sided p-value of the exact conditional binomial test of equal rates.
    pub p_value: f64,
}

impl RateComparison {
    /// `true` when the ratio is infinite: B has events and A none.
    pub fn ratio_is_infinite(&self) -> bool {
        self.n_a > 0 && self.n_b > 0 && self.k_a == 0 && self.k_b > 0
    }
}

/// Compares B's rate `k_b / n_b` with A's `k_a / n_a`.
///
/// Given the `k_a + k_b` events, under equal rates `k_b` is
/// Binomial(k_a + k_b, n_b / (n_a + n_b)); the p-value is the two-sided exact
/// test of that ([`binomial_test`], as R's `binom.test`) and the ratio's 95%
/// interval is the Clopper–Pearson interval of B's share `π` mapped through
/// `π / (1 − π) · n_a / n_b` (as R's `poisson.test`). No event at all gives
/// `p = 1` and the interval `[0, ∞)`; a run without cycles gives the same.
pub fn compare_rates(k_a: u64, n_a: u64, k_b: u64, n_b: u64) -> RateComparison {
    let mut out = RateComparison {
        k_a,
        n_a,
        k_b,
        n_b,
        ratio: None,
        ratio_low: 0.0,
        ratio_high: None,
        p_value: 1.0,
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
    // Bounds of B's share and of A's share: 1 − π_low(B) = π_high(A) and
    // 1 − π_high(B) = π_low(A), which keeps both ends exact near 0 and 1.
    let share_b = clopper_pearson(k_b, total, CONFIDENCE);
    let share_a = clopper_pearson(k_a, total, CONFIDENCE);
    let scale = na / nb;
    if k_b > 0 {
        out.ratio_low = share_b.low / share_a.high * scale;
    }
    if k_a > 0 {
        out.ratio_high = Some(share_b.high / share_a.low * scale);
    }
    out.p_value = binomial_test_pq(k_b, total, nb / (na + nb), na / (na + nb));
    out
}

/// Two-sided p-value of the exact binomial test of `k` successes in `n`
/// trials with success probability `p`, computed as R's `binom.test`: the
/// probability of every outcome no more likely than the observed one (with a
/// relative tolerance of `1 + 1e-7`).
pub fn binomial_test(k: u64, n: u64, p: f64) -> f64 {
    binomial_test_pq(k, n, p, 1.0 - p)
}

/// [`binomial_test`] with `q = 1 − p` passed exactly.
fn binomial_test_pq(k: u64, n: u64, p: f64, q: f64) -> f64 {
    const REL_ERR: f64 = 1.0 + 1e-7;
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
    /// Significantly higher.
    Higher,
    /// Significantly lower.
    Lower,
    /// Not significantly different, and each rate is inside the other's interval.
    Same,
    /// Not significantly different, but the data cannot tell them apart either.
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

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The one-word verdict on B's rate `k_b / n_b` against A's `k_a / n_a`.
///
/// - `higher` / `lower`: the (adjusted) p-value is below `alpha`; the word
///   says on which side B's observed rate lies.
/// - `same`: not significant, and each run's observed rate lies inside the
///   other run's [`rate_interval`]. Two runs without events, a report against
///   itself, and 3 against 4 events in 10⁶ cycles are `same`.
/// - `inconclusive`: not significant, but at least one observed rate falls
///   outside the other's interval (e.g. 0 against 3 events in 10⁶ cycles: too
///   few events to call it either way), or a run has no cycles.
pub fn verdict(k_a: u64, n_a: u64, k_b: u64, n_b: u64, p_adjusted: f64, alpha: f64) -> Verdict {
    if n_a == 0 || n_b == 0 {
        return Verdict::Inconclusive;
    }
    let b_vs_a = (u128::from(k_b) * u128::from(n_a)).cmp(&(u128::from(k_a) * u128::from(n_b)));
    if p_adjusted < alpha {
        match b_vs_a {
            std::cmp::Ordering::Greater => return Verdict::Higher,
            std::cmp::Ordering::Less => return Verdict::Lower,
            std::cmp::Ordering::Equal => {}
        }
    }
    let rate_a = k_a as f64 / n_a as f64;
    let rate_b = k_b as f64 / n_b as f64;
    if rate_interval(k_b, n_b).contains(rate_a) && rate_interval(k_a, n_a).contains(rate_b) {
        Verdict::Same
    } else {
        Verdict::Inconclusive
    }
}

// ---------------------------------------------------------------------------
// Special functions.

/// ln √(2π).
const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8;

/// Both parameters at least this large: the incomplete beta function is
/// integrated numerically instead of expanded in a continued fraction, whose
/// length grows with the square root of the parameters.
const QUADRATURE_MIN: f64 = 1000.0;

/// `stirlerr(z) = ln Γ(z + 1) − (z + ½) ln z + z − ln √(2π)`, the error of
/// Stirling's formula, without cancellation for large `z`.
fn stirlerr(z: f64) -> f64 {
    if z >= 15.0 {
        // Stirling's series: Bernoulli numbers B₂ₖ / (2k (2k − 1) z^(2k − 1)).
        let r = 1.0 / (z * z);
        (1.0 / 12.0
            - r * (1.0 / 360.0
                - r * (1.0 / 1260.0
                    - r * (1.0 / 1680.0 - r * (1.0 / 1188.0 - r * (691.0 / 360_360.0))))))
            / z
    } else {
        // stirlerr(z) − stirlerr(z + 1) = (z + ½) ln(1 + 1/z) − 1: step up to
        // where the series holds (about 15 absolute ulps at most, where
        // ln Γ would lose ten times more to cancellation).
        let mut sum = 0.0;
        let mut t = z;
        while t < 15.0 {
            sum += (t + 0.5) * (1.0 / t).ln_1p() - 1.0;
            t += 1.0;
        }
        sum + stirlerr(t)
    }
}

/// `u − ln(1 + u)` for `u ≥ −1`, accurate near 0 where the two terms cancel.
fn u_minus_ln_1p(u: f64) -> f64 {
    if u.abs() >= 0.3 {
        return u - u.ln_1p();
    }
    // With v = u / (2 + u): ln(1 + u) = 2 atanh v and u − 2v = u·v, so
    // u − ln(1 + u) = u·v − 2 (v³/3 + v⁵/5 + …).
    let v = u / (2.0 + u);
    let v2 = v * v;
    let mut power = v * v2;
    let mut sum = 0.0;
    let mut j = 3.0;
    loop {
        let next = sum + power / j;
        if next == sum {
            break;
        }
        sum = next;
        power *= v2;
        j += 2.0;
    }
    u * v - 2.0 * sum
}

/// `(a + b)·x − a`, computed from whichever of `x` and `y = 1 − x` is the
/// smaller, so that it keeps its precision when `x` or `y` is tiny.
fn excess(a: f64, b: f64, x: f64, y: f64) -> f64 {
    if x <= y {
        (a + b) * x - a
    } else {
        b - (a + b) * y
    }
}

/// `ln[Γ(a + b + 1) / (Γ(a + 1) Γ(b + 1)) · xᵃ yᵇ]` for `a, b > 0` and
/// `y = 1 − x`. For integers this is the log of the binomial probability of
/// `a` successes in `a + b` trials, in Loader's saddle-point form:
/// `stirlerr` terms minus `a·φ(δ/a) + b·φ(−δ/b)` with `δ = (a + b)x − a` and
/// `φ(u) = u − ln(1 + u)`; no `ln Γ` of large arguments, no `1 − x`.
fn ln_binomial_term(a: f64, b: f64, x: f64, y: f64) -> f64 {
    let s = a + b;
    let delta = excess(a, b, x, y);
    // φ(u) with 1 + u passed exactly (s·x/a and s·y/b), for the far tails
    // where 1 + u is tiny and u has lost its low digits.
    let phi = |u: f64, one_plus_u: f64| {
        if u.abs() < 0.3 {
            u_minus_ln_1p(u)
        } else {
            u - one_plus_u.ln()
        }
    };
    stirlerr(s) - stirlerr(a) - stirlerr(b) + 0.5 * (s / (a * b)).ln()
        - LN_SQRT_2PI
        - a * phi(delta / a, s * x / a)
        - b * phi(-delta / b, s * y / b)
}

/// `x·f(x)` where `f` is the density of Beta(a, b), with `y = 1 − x`.
fn x_times_beta_density(a: f64, b: f64, x: f64, y: f64) -> f64 {
    if x <= 0.0 || y <= 0.0 {
        return 0.0;
    }
    // xᵃ yᵇ / B(a, b) = term · ab / (a + b), and x·f(x) = that / y.
    ln_binomial_term(a, b, x, y).exp() * (a * b / (a + b)) / y
}

/// `(I_x(a, b), 1 − I_x(a, b))`, each with full relative precision, given
/// `x` and `y = 1 − x` separately.
///
/// This module only needs positive integer parameters (binomial tails), for
/// which every branch keeps about 13 significant digits up to 10¹⁰. Other
/// positive values work, but with one parameter large and the other small
/// and not an integer, the continued fraction loses digits near `x ≈ 1`.
fn beta_tails(a: f64, b: f64, x: f64, y: f64) -> (f64, f64) {
    if x <= 0.0 {
        return (0.0, 1.0);
    }
    if y <= 0.0 {
        return (1.0, 0.0);
    }
    // Compute the tail on the side of the bulk where x lies (the smaller one),
    // and the other as its complement.
    let lower_side = if a.min(b) >= QUADRATURE_MIN {
        excess(a - 1.0, b - 1.0, x, y) <= 0.0
    } else {
        x * (a + b + 2.0) < a + 1.0
    };
    let tail = |a: f64, b: f64, x: f64, y: f64| {
        let t = if a.min(b) >= QUADRATURE_MIN {
            beta_lower_tail_quadrature(a, b, x, y)
        } else if b < a && b.fract() == 0.0 && a.fract() == 0.0 {
            beta_lower_tail_sum(a, b, x, y)
        } else {
            beta_lower_tail_fraction(a, b, x, y)
        };
        t.clamp(0.0, 1.0)
    };
    if lower_side {
        let t = tail(a, b, x, y);
        (t, 1.0 - t)
    } else {
        let t = tail(b, a, y, x);
        (1.0 - t, t)
    }
}

/// `I_x(a, b)` by the continued fraction of Abramowitz & Stegun 26.5.8,
/// evaluated with the modified Lentz method; converges quickly for
/// `x < (a + 1) / (a + b + 2)`.
fn beta_lower_tail_fraction(a: f64, b: f64, x: f64, y: f64) -> f64 {
    const TINY: f64 = 1e-300;
    const MAX_TERMS: u32 = 100_000;
    let s = a + b;
    // xᵃ yᵇ / (a B(a, b)) = term · b / (a + b).
    let prefactor = ln_binomial_term(a, b, x, y).exp() * b / s;
    if prefactor == 0.0 {
        return 0.0;
    }
    let guard = |v: f64| if v.abs() < TINY { TINY } else { v };
    let mut c = 1.0;
    // d₁ = −(a + b) x / (a + 1), so 1 + d₁ = (1 − δ) / (a + 1) with δ exact.
    let mut d = 1.0 / guard((1.0 - excess(a, b, x, y)) / (a + 1.0));
    let mut value = d;
    for m in 1..=MAX_TERMS {
        let m = f64::from(m);
        // Even step: d₂ₘ = m (b − m) x / ((a + 2m − 1)(a + 2m)).
        let even = m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
        d = 1.0 / guard(1.0 + even * d);
        c = guard(1.0 + even / c);
        value *= d * c;
        // Odd step: d₂ₘ₊₁ = −(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1)).
        let odd = -(a + m) * (s + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0));
        d = 1.0 / guard(1.0 + odd * d);
        c = guard(1.0 + odd / c);
        let factor = d * c;
        value *= factor;
        if (factor - 1.0).abs() < 1e-16 {
            break;
        }
    }
    prefactor * value
}

/// `I_x(a, b)` for integers `b < a`, `b` below [`QUADRATURE_MIN`], as the
/// binomial sum P(Bin(a + b − 1, y) ≤ b − 1) = Σ_{j<b} C(a+b−1, j) yʲ x^(a+b−1−j).
///
/// Here the continued fraction would lose precision: with `a` large the
/// bulk of Beta(a, b) sits at `1 − x ≈ b/a`, where its partial denominators
/// cancel to about `√b / a` of their size. The sum has `b` positive terms,
/// taken from the largest index down by their ratio.
fn beta_lower_tail_sum(a: f64, b: f64, x: f64, y: f64) -> f64 {
    let m = a + b - 1.0;
    let top = b - 1.0;
    let mut term = binomial_pmf(top as u64, m as u64, y, x);
    let mut sum = term;
    let ratio_xy = x / y;
    let mut j = top;
    while j >= 1.0 && term > 0.0 {
        // C(m, j−1) / C(m, j) = j / (m − j + 1).
        term *= j / (m - j + 1.0) * ratio_xy;
        sum += term;
        j -= 1.0;
    }
    sum
}

/// Gauss–Legendre nodes (positive half) and weights of order 10.
const GAUSS_LEGENDRE_10: [(f64, f64); 5] = [
    (0.148_874_338_981_631_22, 0.295_524_224_714_752_87),
    (0.433_395_394_129_247_2, 0.269_266_719_309_996_35),
    (0.679_409_568_299_024_4, 0.219_086_362_515_982_04),
    (0.865_063_366_688_984_5, 0.149_451_349_150_580_6),
    (0.973_906_528_517_171_7, 0.066_671_344_308_688_14),
];

/// `I_x(a, b)` for large `a` and `b` and `x` at or below the mode, by
/// integrating the density leftwards from `x` in panels of 10-point
/// Gauss–Legendre quadrature until the rest is negligible.
///
/// The variable is `δ = (a + b − 2) t − (a − 1)`, the distance from the mode
/// in units of "events", so the integrand keeps its precision whether `x` is
/// tiny, near one half or near one. Panels are two standard deviations wide
/// near the mode and narrower in the tail, where the density falls
/// exponentially; the density is log-concave, so what lies left of a point
/// is at most the density there over its log-slope.
fn beta_lower_tail_quadrature(a: f64, b: f64, x: f64, y: f64) -> f64 {
    const MAX_PANELS: u32 = 10_000;
    let (a1, b1) = (a - 1.0, b - 1.0);
    let s1 = a1 + b1;
    let constant =
        stirlerr(s1) - stirlerr(a1) - stirlerr(b1) + 0.5 * (s1 / (a1 * b1)).ln() - LN_SQRT_2PI;
    // density(t) dt = (s1 + 1) / s1 · g(δ) dδ.
    let g = |delta: f64| {
        (constant - a1 * u_minus_ln_1p(delta / a1) - b1 * u_minus_ln_1p(-delta / b1)).exp()
    };
    let slope = |delta: f64| -delta / (a1 + delta) - delta / (b1 - delta);
    let sigma = (a1 * b1 / s1).sqrt();
    let mut hi = excess(a1, b1, x, y).min(0.0);
    let mut total = 0.0;
    for _ in 0..MAX_PANELS {
        let width = (2.0 * sigma).min(4.0 / slope(hi));
        let lo = (hi - width).max(-a1);
        let (mid, half) = ((hi + lo) / 2.0, (hi - lo) / 2.0);
        let panel: f64 = GAUSS_LEGENDRE_10
            .iter()
            .map(|&(node, weight)| weight * (g(mid - half * node) + g(mid + half * node)))
            .sum();
        total += half * panel;
        if lo <= -a1 || g(lo) / slope(lo) <= 1e-17 * total {
            break;
        }
        hi = lo;
    }
    total * (s1 + 1.0) / s1
}

/// The `x` with `I_x(a, b) = p` (`0 < p < 1`), returned as `(x, 1 − x)`.
///
/// Newton's method on `ln I_x − ln p` as a function of `w = ln x`, kept
/// inside a bracket that every step narrows (bisection when Newton leaves
/// it). Working in `w` handles quantiles of any size, and `1 − x =
/// −expm1(w)` stays exact when `x` is close to 1.
fn beta_lower_quantile(a: f64, b: f64, p: f64) -> (f64, f64) {
    const MAX_STEPS: u32 = 200;
    let target = p.ln();
    let (mut lo, mut hi) = (f64::MIN_POSITIVE.ln(), 0.0f64);
    // Start from a log-normal approximation of Beta(a, b).
    let s = a + b;
    let cv = (b / (a * (s + 1.0))).sqrt();
    let mut w = (a / s).ln() + normal_quantile(p) * cv;
    if !(w > lo && w < hi) {
        w = (a / s).ln();
        if !(w > lo && w < hi) {
            w = -1.0;
        }
    }
    for _ in 0..MAX_STEPS {
        let (x, y) = (w.exp(), -w.exp_m1());
        let tail = beta_tails(a, b, x, y).0;
        let gap = tail.ln() - target;
        if gap == 0.0 {
            break;
        }
        if gap > 0.0 {
            hi = w;
        } else {
            lo = w;
        }
        let derivative = x_times_beta_density(a, b, x, y) / tail;
        let step = gap / derivative;
        // Relative precision of both x and 1 − x, and no finer than w's ulp.
        let tolerance = (1e-14 * (y / x).min(1.0)).max(4.0 * f64::EPSILON * w.abs());
        if step.abs() <= tolerance {
            w -= step;
            break;
        }
        let next = w - step;
        w = if next > lo && next < hi {
            next
        } else {
            0.5 * (lo + hi)
        };
        if hi - lo <= tolerance {
            break;
        }
    }
    (w.exp(), -w.exp_m1())
}

/// P(X = k) for X ~ Binomial(n, p), with `q = 1 − p` given exactly.
fn binomial_pmf(k: u64, n: u64, p: f64, q: f64) -> f64 {
    if k > n {
        return 0.0;
    }
    if p <= 0.0 || q <= 0.0 {
        let certain = if p <= 0.0 { 0 } else { n };
        return if k == certain { 1.0 } else { 0.0 };
    }
    let ln = |v: f64, other: f64| if v < 0.5 { v.ln() } else { (-other).ln_1p() };
    if k == 0 {
        return (n as f64 * ln(q, p)).exp();
    }
    if k == n {
        return (n as f64 * ln(p, q)).exp();
    }
    let (a, b) = (k as f64, (n - k) as f64);
    ln_binomial_term(a, b, p, q).exp()
}

/// P(X ≤ k) for X ~ Binomial(n, p) = I_q(n − k, k + 1).
fn binomial_cdf(k: u64, n: u64, p: f64, q: f64) -> f64 {
    if k >= n {
        1.0
    } else {
        beta_tails((n - k) as f64, k as f64 + 1.0, q, p).0
    }
}

/// P(X ≥ k) for X ~ Binomial(n, p) = I_p(k, n − k + 1).
fn binomial_sf(k: u64, n: u64, p: f64, q: f64) -> f64 {
    if k == 0 {
        1.0
    } else if k > n {
        0.0
    } else {
        beta_tails(k as f64, (n - k) as f64 + 1.0, p, q).0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn u_minus_ln_1p_is_continuous_at_the_switch() {
        for u in [-0.3, 0.3] {
            let inside = u_minus_ln_1p(u * (1.0 - 1e-12));
            let outside = u_minus_ln_1p(u);
            assert!(
                (inside / outside - 1.0).abs() < 1e-10,
                "{u}: {inside} {outside}"
            );
        }
        assert_eq!(u_minus_ln_1p(0.0), 0.0);
        let u = 1e-8f64;
        let series = u * u / 2.0 - u.powi(3) / 3.0 + u.powi(4) / 4.0;
        assert!((u_minus_ln_1p(u) / series - 1.0).abs() < 1e-15);
    }

    #[test]
    fn stirlerr_matches_high_precision_values() {
        // mpmath (40 digits, rounded to f64): loggamma(z+1) - (z+0.5)*log(z) + z - log(sqrt(2*pi)).
        for (z, expected) in [
            (1.0, 0.081_061_466_795_327_26),
            (2.0, 0.041_340_695_955_409_3),
            (5.0, 0.016_644_691_189_821_193),
            (10.0, 0.008_330_563_433_362_87),
            (14.5, 0.005_746_216_513_010_115_5),
            (15.0, 0.005_554_733_551_962_801),
        ] {
            let got = stirlerr(z);
            assert!((got - expected).abs() < 4e-16, "{z}: {got} {expected}");
        }
    }

    #[test]
    fn quadrature_and_continued_fraction_agree() {
        // Both methods on the same large-parameter problem.
        for (a, b, x) in [
            (1500.0, 2500.0, 0.37),
            (2000.0, 2000.0, 0.49),
            (1200.0, 1e6, 1.1e-3),
        ] {
            let y = 1.0 - x;
            let q = beta_lower_tail_quadrature(a, b, x, y);
            let f = beta_lower_tail_fraction(a, b, x, y);
            assert!((q / f - 1.0).abs() < 1e-12, "{a} {b} {x}: {q} {f}");
        }
    }

    #[test]
    fn pmf_sums_to_one() {
        let (n, p) = (40u64, 0.3);
        let sum: f64 = (0..=n).map(|k| binomial_pmf(k, n, p, 1.0 - p)).sum();
        assert!((sum - 1.0).abs() < 1e-14);
        assert!(
            (binomial_cdf(12, n, p, 1.0 - p) + binomial_sf(13, n, p, 1.0 - p) - 1.0).abs() < 1e-14
        );
    }
}
