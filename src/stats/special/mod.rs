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
//!
//! The beta and binomial functions are in `beta.rs`, the gamma and Poisson
//! ones in `gamma.rs`; what both use (Stirling's error, `u − ln(1 + u)`, the
//! quadrature of a log-concave tail) and the normal and t quantiles are here.

mod beta;
mod gamma;
#[cfg(test)]
mod tests;

use statrs::function::erf::erfc_inv;

pub(super) use beta::{
    beta_lower_quantile, binomial_cdf, binomial_cdf_of, binomial_pmf, binomial_sf, binomial_sf_of,
};
pub(super) use gamma::{gamma_quantile, poisson_pmf};

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

/// Gauss–Legendre nodes (positive half) and weights of order 10.
const GAUSS_LEGENDRE_10: [(f64, f64); 5] = [
    (0.148_874_338_981_631_22, 0.295_524_224_714_752_87),
    (0.433_395_394_129_247_2, 0.269_266_719_309_996_35),
    (0.679_409_568_299_024_4, 0.219_086_362_515_982_04),
    (0.865_063_366_688_984_5, 0.149_451_349_150_580_6),
    (0.973_906_528_517_171_7, 0.066_671_344_308_688_14),
];

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
