//! Known answers and agreement between the methods of the special functions,
//! and a bound on the time each takes whatever its input.

use super::beta::{
    QUADRATURE_MIN, beta_lower_tail_fraction, beta_lower_tail_quadrature, beta_tails,
};
use super::gamma::{gamma_tails, gamma_tails_expansion, gamma_tails_quadrature};
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
    assert!((binomial_cdf(12, n, p, 1.0 - p) + binomial_sf(13, n, p, 1.0 - p) - 1.0).abs() < 1e-14);
}
