//! The beta and binomial side: the regularized incomplete beta function
//! `I_x(a, b)` (continued fraction, finite sum or quadrature, whichever keeps
//! its precision), its quantile, and the binomial probabilities and tails
//! written through it.

use super::{
    LN_SQRT_2PI, excess, ln_binomial_term, log_concave_left_tail, normal_quantile, stirlerr,
    u_minus_ln_1p,
};

/// Both parameters at least this large: the incomplete beta function is
/// integrated numerically instead of expanded in a continued fraction, whose
/// length grows with the square root of the parameters.
pub(super) const QUADRATURE_MIN: f64 = 1000.0;

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
pub(super) fn beta_tails(a: f64, b: f64, x: f64, y: f64) -> (f64, f64) {
    if [a, b, x, y].iter().any(|v| v.is_nan()) {
        return (f64::NAN, f64::NAN);
    }
    if x <= 0.0 {
        return (0.0, 1.0);
    }
    if y <= 0.0 {
        return (1.0, 0.0);
    }
    // Compute the tail on the side of the bulk where x lies (the smaller one),
    // and the other as its complement.
    // Both tests through `excess`, which reads the smaller of x and y: x
    // may have rounded to 1 where y = 1 − x still holds every digit.
    let lower_side = if a.min(b) >= QUADRATURE_MIN {
        excess(a - 1.0, b - 1.0, x, y) <= 0.0
    } else {
        // x (a + b + 2) < a + 1.
        excess(a + 1.0, b + 1.0, x, y) < 0.0
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
pub(super) fn beta_lower_tail_fraction(a: f64, b: f64, x: f64, y: f64) -> f64 {
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

/// `I_x(a, b)` for large `a` and `b` and `x` at or below the mode, by
/// integrating the density leftwards from `x` ([`log_concave_left_tail`]).
///
/// The variable is `δ = (a + b − 2) t − (a − 1)`, the distance from the mode
/// in units of "events", so the integrand keeps its precision whether `x` is
/// tiny, near one half or near one.
pub(super) fn beta_lower_tail_quadrature(a: f64, b: f64, x: f64, y: f64) -> f64 {
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
    let start = excess(a1, b1, x, y).min(0.0);
    log_concave_left_tail(g, slope, start, -a1, sigma) * (s1 + 1.0) / s1
}

/// The `x` with `I_x(a, b) = p` (`0 < p < 1`), returned as `(x, 1 − x)`.
///
/// Newton's method on `ln I_x − ln p` as a function of `w = ln x`, kept
/// inside a bracket that every step narrows (bisection when Newton leaves
/// it). Working in `w` handles quantiles of any size, and `1 − x =
/// −expm1(w)` stays exact when `x` is close to 1.
pub(in crate::stats) fn beta_lower_quantile(a: f64, b: f64, p: f64) -> (f64, f64) {
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
pub(in crate::stats) fn binomial_pmf(k: u64, n: u64, p: f64, q: f64) -> f64 {
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
pub(in crate::stats) fn binomial_cdf(k: u64, n: u64, p: f64, q: f64) -> f64 {
    if k >= n {
        1.0
    } else {
        binomial_cdf_of(k, n - k, p, q)
    }
}

/// P(X ≥ k) for X ~ Binomial(n, p) = I_p(k, n − k + 1).
pub(in crate::stats) fn binomial_sf(k: u64, n: u64, p: f64, q: f64) -> f64 {
    if k > n {
        0.0
    } else {
        binomial_sf_of(k, n - k, p, q)
    }
}

/// P(X ≤ k) for X ~ Binomial(k + rest, p), with the trials given as `k`
/// and the `rest` so that their sum may exceed `u64::MAX`.
pub(in crate::stats) fn binomial_cdf_of(k: u64, rest: u64, p: f64, q: f64) -> f64 {
    if rest == 0 {
        1.0
    } else {
        beta_tails(rest as f64, k as f64 + 1.0, q, p).0
    }
}

/// P(X ≥ k) for X ~ Binomial(k + rest, p), as [`binomial_cdf_of`].
pub(in crate::stats) fn binomial_sf_of(k: u64, rest: u64, p: f64, q: f64) -> f64 {
    if k == 0 {
        1.0
    } else {
        beta_tails(k as f64, rest as f64 + 1.0, p, q).0
    }
}
