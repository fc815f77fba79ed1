//! The gamma and Poisson side: the regularized incomplete gamma functions
//! (series and continued fraction, or quadrature for a large parameter),
//! their quantiles, and the Poisson probability.

use super::{log_concave_left_tail, normal_quantile, phi, stirlerr, u_minus_ln_1p};

/// The incomplete gamma function's parameter at least this large: it is
/// integrated numerically instead of summed, for the same reason (the series
/// and the continued fraction take about `9 √a` terms near the mode).
const GAMMA_QUADRATURE_MIN: f64 = 1e7;

/// P(X = k) for X ~ Poisson(mean), `mean > 0`.
pub(in crate::stats) fn poisson_pmf(k: u64, mean: f64) -> f64 {
    if k == 0 {
        (-mean).exp()
    } else {
        gamma_prefactor(k as f64, mean)
    }
}

/// `xᵃ e⁻ˣ / Γ(a + 1)` for `a > 0`, `x ≥ 0`, in Loader's form
/// `exp(−stirlerr(a) − a·φ(x/a − 1)) / √(2πa)` with `φ(u) = u − ln(1 + u)`:
/// no `ln Γ` of a large argument.
fn gamma_prefactor(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    let u = (x - a) / a;
    let phi = if u.abs() < 0.3 {
        u_minus_ln_1p(u)
    } else {
        u - (x / a).ln()
    };
    (-stirlerr(a) - a * phi - 0.5 * (2.0 * std::f64::consts::PI * a).ln()).exp()
}

/// `(P(a, x), Q(a, x))`, the regularized lower and upper incomplete gamma
/// functions, each with full relative precision: the one on the side of the
/// bulk where `x` lies is computed, the other is its complement.
///
/// For a Poisson count `X` with mean `μ`: `P(X ≥ k) = P(k, μ)` and
/// `P(X ≤ k) = Q(k + 1, μ)`.
pub(in crate::stats) fn gamma_tails(a: f64, x: f64) -> (f64, f64) {
    if a.is_nan() || x.is_nan() {
        return (f64::NAN, f64::NAN);
    }
    if x <= 0.0 {
        return (0.0, 1.0);
    }
    if a >= GAMMA_QUADRATURE_MIN {
        gamma_tails_quadrature(a, x)
    } else {
        gamma_tails_expansion(a, x)
    }
}

/// [`gamma_tails`] by the power series below the mode and the continued
/// fraction above it, for `x > 0`.
pub(super) fn gamma_tails_expansion(a: f64, x: f64) -> (f64, f64) {
    // Below GAMMA_QUADRATURE_MIN both expansions need fewer than 30,000 terms.
    const MAX_TERMS: u32 = 100_000;
    let prefactor = gamma_prefactor(a, x);
    if x < a + 1.0 {
        // Series: P = xᵃe⁻ˣ/Γ(a+1) · Σ xⁿ / ((a+1)…(a+n)).
        let (mut term, mut sum, mut n) = (1.0f64, 1.0f64, 0.0);
        for _ in 0..MAX_TERMS {
            n += 1.0;
            term *= x / (a + n);
            sum += term;
            if term < sum * 1e-17 {
                break;
            }
        }
        let p = (prefactor * sum).clamp(0.0, 1.0);
        (p, 1.0 - p)
    } else {
        // Continued fraction (modified Lentz):
        // Q = xᵃe⁻ˣ/Γ(a) · 1/(x + 1 − a − 1·(1 − a)/(x + 3 − a − 2·(2 − a)/(x + 5 − a − …))).
        const TINY: f64 = 1e-300;
        let guard = |v: f64| if v.abs() < TINY { TINY } else { v };
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / TINY;
        let mut d = 1.0 / guard(b);
        let mut h = d;
        for i in 1..=MAX_TERMS {
            let i = f64::from(i);
            let an = -i * (i - a);
            b += 2.0;
            d = 1.0 / guard(an * d + b);
            c = guard(b + an / c);
            let delta = d * c;
            h *= delta;
            if (delta - 1.0).abs() < 1e-16 {
                break;
            }
        }
        let q = (prefactor * a * h).clamp(0.0, 1.0);
        (1.0 - q, q)
    }
}

/// `(P(a, x), Q(a, x))` for large `a`, by integrating the density of
/// Gamma(a, 1) away from the mode ([`log_concave_left_tail`]), on the side
/// of `x` where the smaller tail lies.
///
/// The variable is `δ = t − (a − 1)`, the distance from the mode, and the
/// density is written as for the binomial, in Loader's form:
/// `exp(−stirlerr(a − 1) − (a − 1)·φ(δ / (a − 1))) / √(2π (a − 1))`.
pub(super) fn gamma_tails_quadrature(a: f64, x: f64) -> (f64, f64) {
    let a1 = a - 1.0;
    let constant = -stirlerr(a1) - 0.5 * (2.0 * std::f64::consts::PI * a1).ln();
    let g = |delta: f64| (constant - a1 * phi(delta / a1, (a1 + delta) / a1)).exp();
    let slope = |delta: f64| -delta / (a1 + delta);
    let sigma = a1.sqrt();
    // x − a is exact near the mode (Sterbenz), where x − a1 would not be
    // once a − 1 rounds (a above 2⁵³).
    let start = (x - a) + 1.0;
    if start <= 0.0 {
        let p = log_concave_left_tail(g, slope, start, -a1, sigma).clamp(0.0, 1.0);
        (p, 1.0 - p)
    } else {
        // The upper tail, mirrored: u = −δ.
        let q = log_concave_left_tail(
            |u: f64| g(-u),
            |u: f64| -slope(-u),
            -start,
            f64::NEG_INFINITY,
            sigma,
        )
        .clamp(0.0, 1.0);
        (1.0 - q, q)
    }
}

/// The `x` with `P(a, x) = p` (`lower`) or `Q(a, x) = p` (not `lower`), for
/// `a > 0` and `0 < p < 1`: the quantiles of the Gamma(a, 1) distribution.
///
/// Newton's method on the logarithm of the tail as a function of `w = ln x`,
/// inside a bracket every step narrows (bisection when Newton leaves it),
/// started from the Wilson–Hilferty approximation.
pub(in crate::stats) fn gamma_quantile(a: f64, p: f64, lower: bool) -> f64 {
    const MAX_STEPS: u32 = 300;
    let target = p.ln();
    let (mut lo, mut hi) = (f64::MIN_POSITIVE.ln(), (a + 50.0 * a.sqrt() + 800.0).ln());
    let z = normal_quantile(if lower { p } else { 1.0 - p });
    let cube = 1.0 - 1.0 / (9.0 * a) + z / (3.0 * a.sqrt());
    let mut w = if cube > 0.0 {
        (a * cube.powi(3)).ln()
    } else {
        a.ln()
    };
    if !(w > lo && w < hi) {
        w = 0.5 * (lo + hi);
    }
    // The sign that makes the gap increase with w.
    let sign = if lower { 1.0 } else { -1.0 };
    for _ in 0..MAX_STEPS {
        let x = w.exp();
        let (pl, qu) = gamma_tails(a, x);
        let tail = if lower { pl } else { qu };
        let gap = tail.ln() - target;
        if gap == 0.0 {
            break;
        }
        if sign * gap > 0.0 {
            hi = w;
        } else {
            lo = w;
        }
        // d ln(tail) / dw = ± x·density / tail = ± a·xᵃe⁻ˣ/Γ(a+1) / tail.
        let derivative = sign * a * gamma_prefactor(a, x) / tail;
        let step = gap / derivative;
        let tolerance = 4.0 * f64::EPSILON * w.abs().max(1.0);
        if step.is_finite() && step.abs() <= tolerance {
            w -= step;
            break;
        }
        let next = w - step;
        w = if next.is_finite() && next > lo && next < hi {
            next
        } else {
            0.5 * (lo + hi)
        };
        if hi - lo <= tolerance {
            break;
        }
    }
    w.exp()
}
