//! Special functions behind the intervals and tests: binomial and beta
//! tails and quantiles, the regularized incomplete gamma function and its
//! quantiles (for Poisson intervals), and the normal quantile.
//!
//! Rates here have denominators up to 10¹⁰ cycles and numerators from 0 to
//! the denominator, so nothing may lose precision to `ln Γ` of huge
//! arguments or to `1 − p` for tiny `p`. Binomial, beta and gamma densities
//! use the saddle-point form of Loader (2000), *Fast and accurate computation
//! of binomial probabilities*. The regularized incomplete beta function uses
//! the continued fraction of Abramowitz & Stegun 26.5.8 (modified Lentz
//! evaluation) when a parameter is small, the finite binomial sum when the
//! second parameter is the small one, and Gauss–Legendre quadrature of the
//! density when both are large. The incomplete gamma function uses its power
//! series below the mode and the Legendre continued fraction above it
//! (A&S 6.5.29 and 6.5.31), and the same quadrature of the density when its
//! parameter is large. Quantiles are found by safeguarded Newton iteration
//! on the logarithm of the tail.
//!
//! Every loop here has a cap on its iterations, and no loop can be kept
//! going by a NaN: whatever the input, each function returns in bounded time
//! (a few milliseconds at most).

use statrs::function::erf::erfc_inv;

/// The standard normal quantile Φ⁻¹(p) for `0 < p < 1`.
pub fn normal_quantile(p: f64) -> f64 {
    -std::f64::consts::SQRT_2 * erfc_inv(2.0 * p)
}

/// The quantile of Student's t distribution with `df` degrees of freedom,
/// for `0 < p < 1` and `df > 0`.
pub fn student_t_quantile(p: f64, df: f64) -> f64 {
    use statrs::distribution::{ContinuousCDF, StudentsT};
    StudentsT::new(0.0, 1.0, df).expect("df > 0").inverse_cdf(p)
}

/// ln √(2π).
const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8;

/// Both parameters at least this large: the incomplete beta function is
/// integrated numerically instead of expanded in a continued fraction, whose
/// length grows with the square root of the parameters.
const QUADRATURE_MIN: f64 = 1000.0;

/// The incomplete gamma function's parameter at least this large: it is
/// integrated numerically instead of summed, for the same reason (the series
/// and the continued fraction take about `9 √a` terms near the mode).
const GAMMA_QUADRATURE_MIN: f64 = 1e7;

/// `stirlerr(z) = ln Γ(z + 1) − (z + ½) ln z + z − ln √(2π)`, the error of
/// Stirling's formula, without cancellation for large `z`.
fn stirlerr(z: f64) -> f64 {
    if z.is_nan() || z < 0.0 {
        return f64::NAN;
    }
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
        // At most 15 steps, since 0 <= z < 15.
        let mut sum = 0.0;
        let mut t = z;
        for _ in 0..16 {
            if t >= 15.0 {
                break;
            }
            sum += (t + 0.5) * (1.0 / t).ln_1p() - 1.0;
            t += 1.0;
        }
        sum + stirlerr(t)
    }
}

/// `u − ln(1 + u)` for `u ≥ −1`, accurate near 0 where the two terms cancel.
/// NaN for NaN.
fn u_minus_ln_1p(u: f64) -> f64 {
    // |v| < 0.18 below, so each term is at most 0.03 of the one before: 12
    // terms reach the last bit. The cap only matters for a NaN, which the
    // `next == sum` test never stops.
    const MAX_TERMS: u32 = 40;
    if u.is_nan() {
        return u;
    }
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
    for _ in 0..MAX_TERMS {
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
    stirlerr(s) - stirlerr(a) - stirlerr(b) + 0.5 * (s / (a * b)).ln()
        - LN_SQRT_2PI
        - a * phi(delta / a, s * x / a)
        - b * phi(-delta / b, s * y / b)
}

/// `φ(u) = u − ln(1 + u)` with `1 + u` also given exactly, for the far
/// tails where `1 + u` is tiny and `u` has lost its low digits.
fn phi(u: f64, one_plus_u: f64) -> f64 {
    if u.abs() < 0.3 {
        u_minus_ln_1p(u)
    } else {
        u - one_plus_u.ln()
    }
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
/// integrating the density leftwards from `x` ([`log_concave_left_tail`]).
///
/// The variable is `δ = (a + b − 2) t − (a − 1)`, the distance from the mode
/// in units of "events", so the integrand keeps its precision whether `x` is
/// tiny, near one half or near one.
fn beta_lower_tail_quadrature(a: f64, b: f64, x: f64, y: f64) -> f64 {
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

/// `∫ g(δ) dδ` from `limit` to `start`, for a log-concave density `g` that
/// increases on that range (`start` at or left of its mode), with `slope` the
/// derivative of `ln g` and `sigma` about its standard deviation: panels of
/// 10-point Gauss–Legendre quadrature leftwards from `start` until the rest
/// is negligible.
///
/// Panels are two standard deviations wide near the mode and narrower in
/// the tail, where the density falls exponentially; since `g` is
/// log-concave, what lies left of a point is at most `g` there over its
/// log-slope. At the mode the slope is zero (or −0.0, whose reciprocal is
/// −∞), so only the standard deviation sets the width there. At most
/// `MAX_PANELS` panels, and a NaN ends the sum.
fn log_concave_left_tail(
    g: impl Fn(f64) -> f64,
    slope: impl Fn(f64) -> f64,
    start: f64,
    limit: f64,
    sigma: f64,
) -> f64 {
    const MAX_PANELS: u32 = 10_000;
    let mut hi = start;
    let mut total = 0.0;
    for _ in 0..MAX_PANELS {
        let s = slope(hi);
        let width = if s > 0.0 {
            (2.0 * sigma).min(4.0 / s)
        } else {
            2.0 * sigma
        };
        let lo = (hi - width).max(limit);
        // No progress (a NaN, or a width lost to rounding): stop.
        if lo.partial_cmp(&hi) != Some(std::cmp::Ordering::Less) {
            break;
        }
        let (mid, half) = ((hi + lo) / 2.0, (hi - lo) / 2.0);
        let panel: f64 = GAUSS_LEGENDRE_10
            .iter()
            .map(|&(node, weight)| weight * (g(mid - half * node) + g(mid + half * node)))
            .sum();
        total += half * panel;
        // Written so that a NaN anywhere stops the sum.
        if !(total.is_finite() && lo > limit && g(lo) / slope(lo) > 1e-17 * total) {
            break;
        }
        hi = lo;
    }
    total
}

/// The `x` with `I_x(a, b) = p` (`0 < p < 1`), returned as `(x, 1 − x)`.
///
/// Newton's method on `ln I_x − ln p` as a function of `w = ln x`, kept
/// inside a bracket that every step narrows (bisection when Newton leaves
/// it). Working in `w` handles quantiles of any size, and `1 − x =
/// −expm1(w)` stays exact when `x` is close to 1.
pub(super) fn beta_lower_quantile(a: f64, b: f64, p: f64) -> (f64, f64) {
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
pub(super) fn binomial_pmf(k: u64, n: u64, p: f64, q: f64) -> f64 {
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
pub(super) fn binomial_cdf(k: u64, n: u64, p: f64, q: f64) -> f64 {
    if k >= n {
        1.0
    } else {
        binomial_cdf_of(k, n - k, p, q)
    }
}

/// P(X ≥ k) for X ~ Binomial(n, p) = I_p(k, n − k + 1).
pub(super) fn binomial_sf(k: u64, n: u64, p: f64, q: f64) -> f64 {
    if k > n {
        0.0
    } else {
        binomial_sf_of(k, n - k, p, q)
    }
}

/// P(X ≤ k) for X ~ Binomial(k + rest, p), with the trials given as `k`
/// and the `rest` so that their sum may exceed `u64::MAX`.
pub(super) fn binomial_cdf_of(k: u64, rest: u64, p: f64, q: f64) -> f64 {
    if rest == 0 {
        1.0
    } else {
        beta_tails(rest as f64, k as f64 + 1.0, q, p).0
    }
}

/// P(X ≥ k) for X ~ Binomial(k + rest, p), as [`binomial_cdf_of`].
pub(super) fn binomial_sf_of(k: u64, rest: u64, p: f64, q: f64) -> f64 {
    if k == 0 {
        1.0
    } else {
        beta_tails(k as f64, rest as f64 + 1.0, p, q).0
    }
}

/// P(X = k) for X ~ Poisson(mean), `mean > 0`.
pub(super) fn poisson_pmf(k: u64, mean: f64) -> f64 {
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
pub(super) fn gamma_tails(a: f64, x: f64) -> (f64, f64) {
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
fn gamma_tails_expansion(a: f64, x: f64) -> (f64, f64) {
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
fn gamma_tails_quadrature(a: f64, x: f64) -> (f64, f64) {
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
pub(super) fn gamma_quantile(a: f64, p: f64, lower: bool) -> f64 {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Known answers from scipy.stats.t.ppf (and any printed t table).
    #[test]
    fn student_t_quantiles() {
        for (p, df, want) in [
            (0.975, 1.0, 12.706_204_736_174_7),
            (0.975, 4.0, 2.776_445_105_197_793),
            (0.975, 9.0, 2.262_157_162_740_992),
            (0.025, 29.0, -2.045_229_642_132_703),
            (0.95, 100.0, 1.660_234_326_050_98),
        ] {
            let got = student_t_quantile(p, df);
            assert!(
                (got / want - 1.0).abs() < 1e-6,
                "t({p}, {df}) = {got}, want {want}"
            );
        }
    }

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

    /// Runs `f` on a thread and fails if it has not returned within
    /// `seconds`: a hang guard, far above any real running time.
    fn returns_within<T: Send + 'static>(
        seconds: u64,
        what: &str,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> T {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(f());
        });
        rx.recv_timeout(std::time::Duration::from_secs(seconds))
            .unwrap_or_else(|_| panic!("{what} did not return within {seconds} s"))
    }

    /// With both beta parameters at least `QUADRATURE_MIN` and `x`
    /// exactly at the mode, the log-slope there is −0.0 and the first panel's
    /// width became −∞; the NaN nodes then kept `u_minus_ln_1p` looping. For
    /// the binomial that is P(X ≤ k) at k = (n − 1)p and P(X ≥ k) at
    /// k = (n − 1)p + 1, with p exact in binary.
    #[test]
    fn binomial_tails_at_the_mode_of_large_parameters() {
        // P(X ≤ k) for n = 2k + 1 and p = ½ is ½ by symmetry.
        for k in [999u64, 1000, 4095, 1_000_000, 10_000_000] {
            let n = 2 * k + 1;
            let (cdf, sf) = returns_within(10, "binomial tails at p = 1/2", move || {
                (
                    binomial_cdf(k, n, 0.5, 0.5),
                    binomial_sf(k + 1, n, 0.5, 0.5),
                )
            });
            assert!(
                (cdf - 0.5).abs() < 1e-13,
                "P(X <= {k}) of Bin({n}, 1/2) = {cdf}"
            );
            assert!(
                (sf - 0.5).abs() < 1e-13,
                "P(X >= {}) of Bin({n}, 1/2) = {sf}",
                k + 1
            );
        }
        // mpmath (40 digits): betainc(3001, 1001, 0, 3/4, regularized=True),
        // that is P(X <= 1000) for X ~ Bin(4001, 1/4).
        let cdf = returns_within(10, "Bin(4001, 1/4)", || {
            binomial_cdf(1000, 4001, 0.25, 0.75)
        });
        assert!((cdf / 0.504_855_017_789_253 - 1.0).abs() < 1e-12, "{cdf}");
        let sf = returns_within(10, "Bin(4001, 3/4)", || binomial_sf(3001, 4001, 0.75, 0.25));
        assert!((sf / 0.504_855_017_789_253 - 1.0).abs() < 1e-12, "{sf}");
        // Other exact p and sizes: the two tails at the mode add up to one.
        for (num, den) in [(1u64, 8u64), (5, 8), (1, 1024), (1023, 1024), (3, 16)] {
            for m in [1000u64, 12_345, 1_000_003] {
                let n = den * m + 1;
                let k = num * m;
                let (p, q) = (num as f64 / den as f64, (den - num) as f64 / den as f64);
                if (k as f64) < QUADRATURE_MIN || ((n - k) as f64) < QUADRATURE_MIN {
                    continue;
                }
                let (cdf, sf) = returns_within(10, "binomial tails at the mode", move || {
                    (binomial_cdf(k, n, p, q), binomial_sf(k + 1, n, p, q))
                });
                assert!(
                    cdf > 0.0 && sf > 0.0 && (cdf + sf - 1.0).abs() < 1e-12,
                    "Bin({n}, {p}) at {k}: {cdf} + {sf}"
                );
            }
        }
    }

    /// No loop here can be kept going by a NaN.
    #[test]
    fn nan_ends_every_loop() {
        let results = returns_within(10, "NaN inputs", || {
            vec![
                u_minus_ln_1p(f64::NAN),
                stirlerr(f64::NAN),
                stirlerr(f64::NEG_INFINITY),
                stirlerr(-1e300),
                beta_tails(f64::NAN, 2000.0, 0.5, 0.5).0,
                beta_tails(2000.0, 2000.0, f64::NAN, f64::NAN).0,
                gamma_tails(f64::NAN, 3.0).0,
                gamma_tails(3.0, f64::NAN).0,
                log_concave_left_tail(|_| f64::NAN, |_| f64::NAN, 0.0, -1e6, 10.0),
            ]
        });
        assert!(results.iter().all(|v| v.is_nan()), "{results:?}");
        // No panel at all from a NaN start: nothing summed.
        let empty = returns_within(10, "NaN start", || {
            log_concave_left_tail(|_| 1.0, |_| f64::NAN, f64::NAN, -1e6, 10.0)
        });
        assert_eq!(empty, 0.0);
        // A NaN probability in a quantile search: bounded by its step cap.
        let (x, _) = returns_within(10, "beta quantile of NaN", || {
            beta_lower_quantile(2000.0, 3000.0, f64::NAN)
        });
        assert!(x.is_nan() || (0.0..=1.0).contains(&x), "{x}");
        let g = returns_within(10, "gamma quantile of NaN", || {
            gamma_quantile(5.0, f64::NAN, true)
        });
        assert!(g.is_nan() || g >= 0.0, "{g}");
    }

    /// The quadrature of the gamma density agrees with the series and the
    /// continued fraction where both work, and with high-precision values
    /// beyond, where the expansions would need millions of terms.
    #[test]
    fn gamma_quadrature_agrees() {
        for a in [2e4f64, 1e6, 9.9e6] {
            for z in [-9.0, -3.0, -0.5, 0.0, 0.7, 4.0, 9.0] {
                let x = (a + z * a.sqrt()).floor();
                let (p, q) = gamma_tails_expansion(a, x);
                let (pq, qq) = gamma_tails_quadrature(a, x);
                let (want, got) = if z <= 0.0 { (p, pq) } else { (q, qq) };
                assert!(
                    (got / want - 1.0).abs() < 1e-11,
                    "a {a} x {x}: {got} vs {want}"
                );
            }
        }
        // mpmath (60 digits), tails as mp.quad of exp(-loggamma(a) + (a-1)
        // log t - t) over pieces one standard deviation wide (scipy's
        // gammainc agrees to 1e-15 except at a = 1e15, where it gives 3.2e-19).
        for (a, x, lower, want) in [
            (1e7, 9_990_513.0, true, 0.001_345_929_596_342_334_2),
            (1e7, 1e7, true, 0.500_042_052_208_723_7),
            (1e8, 100_020_000.0, false, 0.022_755_530_774_855_203),
            (1e12, 999_999_000_000.0, true, 0.158_655_253_931_416_72),
            (1e12, 1_000_005_000_000.0, false, 2.866_634_658_372_596e-7),
            (1e15, 999_999_747_017_787.0, true, 6.220_926_725_308_536e-16),
            (
                1e18,
                1_000_000_000_500_000_000.0,
                false,
                0.308_537_538_637_970_56,
            ),
        ] {
            let (p, q) = gamma_tails(a, x);
            let got = if lower { p } else { q };
            assert!(
                (got / want - 1.0).abs() < 1e-11,
                "a {a} x {x}: {got} vs {want}"
            );
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
