//! Statistics against reference values. Each test names where its numbers
//! come from: R's documented outputs, published tables, or an independent
//! computation (scipy 1.17 / statsmodels 0.15, or mpmath 1.3 at 40 digits with
//! the binomial sums written out, which needs no special function at all).
//! The verdict rules are in `verdicts.rs`.

use unlink_race::stats::{
    Basis, Interval, RateComparison, Trial, Verdict, binomial_test, clopper_pearson, compare_rates,
    decide, holm, kaplan_meier, km_median, rate_interval, survival, wilson,
};
use unlink_race::stats::{MedianBounds, MedianEstimate, median_cycles_at};

/// The verdict of a single comparison (a family of one test each) at
/// α = 0.05 and margin 2.
pub(crate) fn verdict(k_a: u64, n_a: u64, k_b: u64, n_b: u64) -> Verdict {
    verdict_of(&compare_rates(k_a, n_a, k_b, n_b, 2.0, 0.05), None)
}

pub(crate) fn verdict_of(c: &RateComparison, negligible: Option<f64>) -> Verdict {
    decide(c, c.p_value, c.equivalence_p, 0.05, negligible).verdict
}

#[track_caller]
pub(crate) fn assert_close(got: f64, expected: f64, rel: f64) {
    let err = if expected == 0.0 {
        got.abs()
    } else {
        (got / expected - 1.0).abs()
    };
    assert!(
        err <= rel,
        "got {got:e}, expected {expected:e} (relative error {err:e} > {rel:e})"
    );
}

#[track_caller]
pub(crate) fn assert_interval(got: Interval, low: f64, high: f64, rel: f64) {
    assert_close(got.low, low, rel);
    assert_close(got.high, high, rel);
}

#[test]
fn zero_events_give_the_two_sided_upper_end() {
    // Two-sided 95% everywhere, so with k = 0 the upper end is
    // 1 − 0.025^(1/n); mpmath (40 digits): 1 - mpf('0.025')**(1/mpf(n)).
    for (n, expected) in [
        (1u64, 0.975),
        (10, 0.308_497_107_818_760_82),
        (100, 0.036_216_692_645_176_42),
        (1_000_000, 3.688_872_650_206_489e-6),
        (1_000_000_000, 3.688_879_447_310_020_5e-9),
    ] {
        let i = rate_interval(0, n);
        assert_eq!(i.low, 0.0);
        assert_close(i.high, expected, 1e-14);
    }
    // ≈ 3.7/n for large n (−ln 0.025 = 3.6889).
    assert_close(rate_interval(0, 1_000_000_000).high, 3.688_879_454e-9, 1e-8);
    // No cycles: nothing is known.
    assert_eq!(
        rate_interval(0, 0),
        Interval {
            low: 0.0,
            high: 1.0
        }
    );
    assert_eq!(
        rate_interval(5, 0),
        Interval {
            low: 0.0,
            high: 1.0
        }
    );
}

#[test]
fn clopper_pearson_out_of_ten() {
    // R: binom.test(k, 10)$conf.int, e.g. binom.test(5, 10) gives
    // 0.1870860 0.8129140 and binom.test(1, 10) gives 0.002528579 0.445016117.
    // Digits: mpmath root of the binomial sums (scipy.stats.binomtest(k, 10)
    // .proportion_ci(method='exact') agrees to 1e-14).
    assert_interval(
        clopper_pearson(0, 10, 0.95),
        0.0,
        0.308_497_107_818_760_82,
        1e-13,
    );
    assert_interval(
        clopper_pearson(1, 10, 0.95),
        0.002_528_578_544_461_784_5,
        0.445_016_117_028_195_42,
        1e-13,
    );
    assert_interval(
        clopper_pearson(5, 10, 0.95),
        0.187_086_028_447_398_53,
        0.812_913_971_552_601_5,
        1e-13,
    );
    assert_interval(
        clopper_pearson(10, 10, 0.95),
        0.691_502_892_181_239_2,
        1.0,
        1e-13,
    );
    // rate_interval uses Clopper–Pearson whenever there is an event.
    assert_eq!(rate_interval(5, 10), clopper_pearson(5, 10, 0.95));
    assert_eq!(rate_interval(10, 10), clopper_pearson(10, 10, 0.95));
}

#[test]
fn clopper_pearson_three_in_a_thousand() {
    // R: binom.test(3, 1000)$conf.int = 0.0006190999 0.0087420232;
    // scipy.stats.binomtest(3, 1000).proportion_ci(method='exact') and mpmath agree.
    assert_interval(
        clopper_pearson(3, 1000, 0.95),
        0.000_619_099_931_649_571_3,
        0.008_742_023_238_478_303,
        1e-12,
    );
}

#[test]
fn clopper_pearson_few_events_in_billions_of_cycles() {
    // mpmath (40 digits): bisection on the binomial sums
    // P(X >= k | p) = 0.025 and P(X <= k | p) = 0.025. scipy's beta.isf for
    // the upper bound is off in the 9th digit here; R's qbeta is exact.
    assert_interval(
        clopper_pearson(3, 1_000_000_000, 0.95),
        6.186_721_233_228_958e-10,
        8.767_273_044_460_698e-9,
        1e-12,
    );
    assert_interval(
        clopper_pearson(1, 10_000_000_000, 0.95),
        2.531_780_798_425_783e-12,
        5.571_643_389_665_32e-10,
        1e-12,
    );
}

#[test]
fn clopper_pearson_half_a_billion() {
    // scipy 1.17 (Boost's ibeta_inv): beta.ppf(0.025, 5e8, 5e8 + 1) and
    // beta.isf(0.025, 5e8 + 1, 5e8).
    let i = clopper_pearson(500_000_000, 1_000_000_000, 0.95);
    assert_interval(i, 0.499_969_009_748_422_3, 0.500_030_990_251_577_7, 1e-13);
}

#[test]
fn clopper_pearson_is_symmetric() {
    // The interval of n − k is one minus the interval of k, exactly enough to
    // keep the tiny side: checked near both ends of 10⁹ cycles.
    let n = 1_000_000_000;
    for k in [3, 999, 12_345] {
        let i = clopper_pearson(k, n, 0.95);
        let j = clopper_pearson(n - k, n, 0.95);
        assert_close(1.0 - j.high, i.low, 1e-6);
        assert_close(1.0 - j.low, i.high, 1e-6);
    }
}

#[test]
fn clopper_pearson_other_confidence() {
    // R: binom.test(50, 1000, conf.level = 0.99)$conf.int; digits from mpmath.
    assert_interval(
        clopper_pearson(50, 1000, 0.99),
        0.033_926_662_710_220_278,
        0.070_504_375_201_458_12,
        1e-12,
    );
}

#[test]
fn wilson_matches_newcombe_1998() {
    // Newcombe (1998), Statistics in Medicine 17, 857–872, Table I, method 3
    // (score interval): 81/263 → 0.2553–0.3662, 15/148 → 0.0624–0.1605,
    // 0/20 → 0–0.1611, 1/29 → 0.0061–0.1718. Full digits from statsmodels:
    // proportion_confint(k, n, alpha=0.05, method='wilson').
    assert_interval(
        wilson(81, 263, 0.95),
        0.255_288_519_878_274_2,
        0.366_209_576_982_800_04,
        1e-12,
    );
    assert_interval(
        wilson(15, 148, 0.95),
        0.062_386_399_530_736_28,
        0.160_487_241_723_308_03,
        1e-12,
    );
    assert_interval(wilson(0, 20, 0.95), 0.0, 0.161_125_158_052_819_4, 1e-12);
    assert_interval(
        wilson(1, 29, 0.95),
        0.006_113_214_292_762_667,
        0.171_755_218_793_202_94,
        1e-12,
    );
    assert_eq!(
        wilson(0, 0, 0.95),
        Interval {
            low: 0.0,
            high: 1.0
        }
    );
}

#[test]
fn kaplan_meier_of_the_6mp_leukaemia_trial() {
    // Freireich et al. (1963), 6-MP arm, weeks of remission, `false` =
    // censored; the textbook Kaplan–Meier example (Kleinbaum & Klein,
    // "Survival Analysis", table of S(t): 0.857, 0.807, 0.753, 0.690, 0.627,
    // 0.538, 0.448). Exact values by hand: S(6) = 18/21, then ×16/17, ×14/15,
    // ×11/12, ×10/11, ×6/7, ×5/6.
    let events = [6, 6, 6, 7, 10, 13, 16, 22, 23];
    let censored = [6, 9, 10, 11, 17, 19, 20, 25, 32, 32, 34, 35];
    let mut observations: Vec<(u64, bool)> = censored.iter().map(|&t| (t, false)).collect();
    observations.extend(events.iter().map(|&t| (t, true)));
    let curve = kaplan_meier(&observations);
    let expected: [(u64, u64, f64); 7] = [
        (6, 21, 18.0 / 21.0),
        (7, 17, 18.0 / 21.0 * 16.0 / 17.0),
        (10, 15, 18.0 / 21.0 * 16.0 / 17.0 * 14.0 / 15.0),
        (13, 12, 0.690_196_078_431_372_5),
        (16, 11, 0.627_450_980_392_156_9),
        (22, 7, 0.537_815_126_050_420_2),
        (23, 6, 0.448_179_271_708_683_5),
    ];
    assert_eq!(curve.len(), expected.len());
    for (point, (cycles, at_risk, s)) in curve.iter().zip(expected) {
        assert_eq!(point.cycles, cycles);
        assert_eq!(point.at_risk, at_risk);
        assert_close(point.survival, s, 1e-14);
    }
    // Rounded as in the textbook.
    let rounded: Vec<f64> = curve
        .iter()
        .map(|p| (p.survival * 1000.0).round() / 1000.0)
        .collect();
    assert_eq!(rounded, [0.857, 0.807, 0.753, 0.690, 0.627, 0.538, 0.448]);
}

#[test]
fn kaplan_meier_without_events_is_empty() {
    assert!(kaplan_meier(&[(10, false), (20, false)]).is_empty());
    assert!(kaplan_meier(&[]).is_empty());
}

/// The ranks of the median's interval, from exact binomial sums (Python
/// `fractions`: the largest j with sum(comb(n, i), i < j) / 2^n <= 1/40):
/// n = 6: 1 and 6 (coverage 96.9%), n = 20: 6 and 15 (95.9%), n = 21: 6 and
/// 16 (97.3%), n = 1000: 469 and 532 (95.4%; R's qbinom(0.025, 1000, 0.5) = 469).
#[test]
fn km_median_of_uncensored_trials_uses_the_order_statistics_of_its_rank() {
    let events = |n: u64| (1..=n).map(|t| (t, true)).collect::<Vec<_>>();
    let bounds = |low, high| Some(MedianBounds { low, high });
    // S falls by 1/20 at each time and reaches 0.5 at t = 10.
    assert_eq!(
        km_median(&events(20)),
        MedianEstimate {
            median: Some(10),
            interval: bounds(6, Some(15)),
        }
    );
    assert_eq!(km_median(&events(21)).median, Some(11));
    assert_eq!(km_median(&events(21)).interval, bounds(6, Some(16)));
    assert_eq!(km_median(&events(6)).interval, bounds(1, Some(6)));
    assert_eq!(km_median(&events(1000)).interval, bounds(469, Some(532)));
    assert_eq!(km_median(&events(1000)).median, Some(500));
    // Five trials: no two order statistics cover the median at 95%.
    assert_eq!(km_median(&events(5)).interval, None);
    assert_eq!(km_median(&events(5)).median, Some(3));
    assert_eq!(
        km_median(&[]),
        MedianEstimate {
            median: None,
            interval: None,
        }
    );
    // Order does not matter.
    let mut shuffled = events(20);
    shuffled.reverse();
    shuffled.swap(3, 11);
    assert_eq!(km_median(&shuffled), km_median(&events(20)));
}

#[test]
fn km_median_with_trials_censored_at_a_cap() {
    // 12 events at 1..=12, 8 trials censored at the cap 100: the curve
    // reaches 10/20 at t = 10; the upper end (rank 15) is a censored trial.
    let mut obs: Vec<(u64, bool)> = (1..=12).map(|t| (t, true)).collect();
    obs.extend([(100, false); 8]);
    assert_eq!(
        km_median(&obs),
        MedianEstimate {
            median: Some(10),
            interval: Some(MedianBounds { low: 6, high: None }),
        }
    );
    // 9 events and 11 censored: the curve stops at 11/20 > 0.5, no median.
    let mut obs: Vec<(u64, bool)> = (1..=9).map(|t| (t, true)).collect();
    obs.extend([(100, false); 11]);
    assert_eq!(km_median(&obs).median, None);
    // Exactly 5 censored of 20 at the top: rank 15 is the last event.
    let mut obs: Vec<(u64, bool)> = (1..=15).map(|t| (t, true)).collect();
    obs.extend([(100, false); 5]);
    assert_eq!(
        km_median(&obs).interval,
        Some(MedianBounds {
            low: 6,
            high: Some(15)
        })
    );
}

#[test]
fn km_median_of_the_6mp_leukaemia_trial() {
    // The data of `kaplan_meier_of_the_6mp_leukaemia_trial`: the textbook
    // median remission of the 6-MP arm is 23 weeks (R: survfit gives 23),
    // where S falls from 0.538 to 0.448. n = 21: ranks 6 and 16; sorted with
    // events first at ties the 6th value is the censored 9; the 6 censored at
    // rank 4 lies below rank 16, so the upper end is unknown.
    let events = [6, 6, 6, 7, 10, 13, 16, 22, 23];
    let censored = [6, 9, 10, 11, 17, 19, 20, 25, 32, 32, 34, 35];
    let mut obs: Vec<(u64, bool)> = censored.iter().map(|&t| (t, false)).collect();
    obs.extend(events.iter().map(|&t| (t, true)));
    assert_eq!(
        km_median(&obs),
        MedianEstimate {
            median: Some(23),
            interval: Some(MedianBounds { low: 9, high: None }),
        }
    );
}

fn trial(cycles: u64, censored: bool) -> Trial {
    Trial { cycles, censored }
}

#[test]
fn survival_from_trials() {
    // 3 events in 10 + 20 + 30 + 40 = 100 cycles: MLE 0.03, its interval
    // binom.test(3, 100)$conf.int (scipy: binomtest(3, 100).proportion_ci(
    // method='exact') = 0.006229971538306227 0.08517605297428028), median
    // ln 0.5 / ln 0.97 = 22.756573062773429 cycles (mpmath).
    let trials = [
        trial(10, false),
        trial(20, false),
        trial(30, true),
        trial(40, false),
    ];
    let s = survival(&trials, 1000.0).unwrap();
    assert_eq!((s.trials, s.events, s.censored), (4, 3, 1));
    assert_close(s.mle_rate_per_cycle, 0.03, 1e-15);
    assert_close(s.mle_interval.low, 0.006_229_971_538_306_227, 1e-12);
    assert_close(s.mle_interval.high, 0.085_176_052_974_280_28, 1e-12);
    assert_close(s.median_cycles.unwrap(), 22.756_573_062_773_43, 1e-14);
    assert_close(s.median_seconds.unwrap(), 22.756_573_062_773_43e-6, 1e-14);
    // The median's interval from the rate's ends: ln 0.5 / ln(1 − 0.0852)
    // = 7.7861 and ln 0.5 / ln(1 − 0.00623) = 110.91 (Python math).
    assert_close(
        median_cycles_at(s.mle_interval.high),
        7.786_102_453_168_986,
        1e-6,
    );
    assert_close(
        median_cycles_at(s.mle_interval.low),
        110.913_153_261_811_16,
        1e-12,
    );
    assert_eq!(median_cycles_at(0.0), f64::INFINITY);
    assert_eq!(median_cycles_at(0.5), 1.0);
    // Kaplan–Meier: 4 at risk at 10 (S = 3/4), 3 at 20 (S = 1/2), the
    // censored trial leaves, 1 at 40 (S = 0).
    let steps: Vec<(u64, u64)> = s.curve.iter().map(|p| (p.cycles, p.at_risk)).collect();
    assert_eq!(steps, [(10, 4), (20, 3), (40, 1)]);
    assert_close(s.curve[0].survival, 0.75, 1e-15);
    assert_close(s.curve[1].survival, 0.5, 1e-15);
    assert_eq!(s.curve[2].survival, 0.0);
}

#[test]
fn survival_without_events_or_trials() {
    assert!(survival(&[], 100.0).is_none());
    let s = survival(&[trial(1_000_000, true), trial(1_000_000, true)], 100.0).unwrap();
    assert_eq!((s.events, s.censored), (0, 2));
    assert_eq!(s.mle_rate_per_cycle, 0.0);
    assert!(s.curve.is_empty());
    assert_eq!(s.median_cycles, None);
    assert_eq!(s.median_seconds, None);
    // The bound is the zero-event one over all cycles.
    assert_eq!(s.mle_interval.high, rate_interval(0, 2_000_000).high);
}

#[test]
fn binomial_test_matches_r() {
    // R's ?binom.test example (Mendel's peas): binom.test(682, 925, p = 0.75)
    // reports p-value = 0.3825; scipy.stats.binomtest(682, 925, p=0.75).pvalue
    // = 0.3824915595748517.
    assert_close(
        binomial_test(682, 925, 0.75),
        0.382_491_559_574_851_7,
        1e-11,
    );
    // Symmetric and exact: binom.test(50, 50)$p.value = 2^-49.
    assert_close(binomial_test(50, 50, 0.5), 2f64.powi(-49), 1e-13);
    assert_close(binomial_test(0, 50, 0.5), 2f64.powi(-49), 1e-13);
    // The observed value is the mean: p = 1.
    assert_eq!(binomial_test(30, 40, 0.75), 1.0);
    // No trials at all.
    assert_eq!(binomial_test(0, 0, 0.5), 1.0);
}

#[test]
fn compare_three_with_four_in_a_million() {
    // 4 of 7 events in B at π₀ = ½: central p = 2 · P(X ≥ 4) = 1 (capped).
    // Too few events for either claim.
    let c = compare_rates(3, 1_000_000, 4, 1_000_000, 2.0, 0.05);
    assert_close(c.p_value, 1.0, 1e-14);
    assert_close(c.ratio.unwrap(), 4.0 / 3.0, 1e-15);
    assert!(c.ratio_low < 1.0 && c.ratio_high.unwrap() > 1.0);
    assert_eq!(verdict(3, 1_000_000, 4, 1_000_000), Verdict::Inconclusive);
}

#[test]
fn compare_a_run_with_itself() {
    // Same counts: p = 1; same once there are enough events for the 90%
    // interval to fit in [1/2, 2]; inconclusive with none.
    for (k, n, expected) in [
        (0u64, 1_000_000u64, Verdict::Inconclusive),
        (7, 1_000_000, Verdict::Inconclusive),
        (123_456, 1_000_000_000, Verdict::Same),
    ] {
        let c = compare_rates(k, n, k, n, 2.0, 0.05);
        assert_eq!(c.p_value, 1.0, "{k} of {n}");
        assert_eq!(verdict(k, n, k, n), expected, "{k} of {n}");
    }
    let c = compare_rates(0, 1_000_000, 0, 1_000_000, 2.0, 0.05);
    assert_eq!((c.ratio, c.ratio_low, c.ratio_high), (None, 0.0, None));
    assert!(!c.ratio_is_infinite());
}

#[test]
fn compare_matches_r_poisson_test_example() {
    // R's ?poisson.test example:
    //   poisson.test(c(11, 6 + 8 + 7), c(800, 1083 + 1050 + 878))
    //   95% CI 0.8584264 4.2772659, rate ratio 1.971488.
    // Its p-value (0.07967) is the minimum-likelihood one; the central
    // p-value is 0.11201731957539931 (mpmath) and the TOST p-value at margin 2
    // 0.56571660213170183 (mpmath).
    let c = compare_rates(21, 3011, 11, 800, 2.0, 0.05);
    assert_close(c.ratio.unwrap(), 1.971_488_095_238_095, 1e-15);
    assert_close(c.ratio_low, 0.858_426_403_391_639_7, 1e-12);
    assert_close(c.ratio_high.unwrap(), 4.277_265_943_654_075, 1e-12);
    assert_close(c.p_value, 0.112_017_319_575_399_31, 1e-11);
    assert_close(c.equivalence_p, 0.565_716_602_131_701_8, 1e-11);
    assert_eq!(verdict(21, 3011, 11, 800), Verdict::Inconclusive);
}

#[test]
fn compare_different_denominators() {
    // The same rate measured over different cycle counts.
    let c = compare_rates(1000, 1_000_000, 3000, 3_000_000, 2.0, 0.05);
    assert_close(c.ratio.unwrap(), 1.0, 1e-15);
    assert_close(c.p_value, 1.0, 1e-12);
    assert_eq!(verdict(1000, 1_000_000, 3000, 3_000_000), Verdict::Same);
    // A run without cycles can say nothing.
    let c = compare_rates(0, 0, 5, 1000, 2.0, 0.05);
    assert_eq!((c.ratio, c.p_value), (None, 1.0));
    let d = decide(&c, c.p_value, c.equivalence_p, 0.05, Some(1.0));
    assert_eq!(
        (d.verdict, d.basis),
        (Verdict::Inconclusive, Basis::NoCycles)
    );
}

#[test]
fn holm_matches_r_p_adjust() {
    // R: p.adjust(c(0.01, 0.02, 0.03, 0.04, 0.05), "holm")
    //    = 0.05 0.08 0.09 0.09 0.09
    // statsmodels multipletests(p, method='holm')[1] agrees.
    let got = holm(&[0.01, 0.02, 0.03, 0.04, 0.05]);
    for (g, e) in got.iter().zip([0.05, 0.08, 0.09, 0.09, 0.09]) {
        assert_close(*g, e, 1e-15);
    }
    // Unsorted, with a cap at 1 and a monotone correction:
    // statsmodels multipletests([0.04, 0.001, 0.03, 0.005, 0.5, 0.0101],
    // method='holm')[1] = 0.09 0.006 0.09 0.025 0.5 0.0404.
    let got = holm(&[0.04, 0.001, 0.03, 0.005, 0.5, 0.0101]);
    for (g, e) in got.iter().zip([0.09, 0.006, 0.09, 0.025, 0.5, 0.0404]) {
        assert_close(*g, e, 1e-15);
    }
    assert_eq!(holm(&[0.3, 0.9]), [0.6, 0.9]);
    assert_eq!(holm(&[0.7, 0.9]), [1.0, 1.0]);
    assert!(holm(&[]).is_empty());
}

#[test]
fn verdict_names() {
    let names: Vec<&str> = [
        Verdict::Higher,
        Verdict::Lower,
        Verdict::Same,
        Verdict::Inconclusive,
    ]
    .iter()
    .map(|v| v.name())
    .collect();
    assert_eq!(names, ["higher", "lower", "same", "inconclusive"]);
    assert!(Verdict::Higher.differs() && Verdict::Lower.differs());
    assert!(!Verdict::Same.differs() && !Verdict::Inconclusive.differs());
}

#[test]
fn clopper_pearson_closed_forms() {
    // With n = 1 and n = 2 the binomial tails are polynomials solved by hand:
    // 0 of 1: P(X ≤ 0) = 1 − p = 0.025; 1 of 1: P(X ≥ 1) = p = 0.025;
    // 1 of 2: P(X ≥ 1) = 1 − (1 − p)² = 0.025 gives p = 1 − √0.975, and
    // P(X ≤ 1) = 1 − p² = 0.025 gives p = √0.975.
    assert_interval(clopper_pearson(0, 1, 0.95), 0.0, 0.975, 1e-15);
    assert_interval(clopper_pearson(1, 1, 0.95), 0.025, 1.0, 1e-15);
    assert_interval(
        clopper_pearson(1, 2, 0.95),
        1.0 - 0.975f64.sqrt(),
        0.975f64.sqrt(),
        1e-13,
    );
    // clopper_pearson caps a count above the cycles; rate_interval does not
    // (see poisson_interval_when_counts_exceed_cycles).
    assert_eq!(clopper_pearson(12, 10, 0.95), clopper_pearson(10, 10, 0.95));
}

#[test]
fn intervals_bracket_the_rate_across_sizes() {
    for n in [
        1u64,
        2,
        7,
        100,
        12_345,
        1_000_000,
        987_654_321,
        10_000_000_000,
    ] {
        let mut ks: Vec<u64> = vec![0, 1, 2, 3, 10, 999, 1000, 5000, n / 3, n / 2, n - 1, n];
        ks.retain(|&k| k <= n);
        // Counts above the cycles get the Poisson interval.
        for k in [n + 1, 2 * n, 15 * n] {
            let i = rate_interval(k, n);
            assert!(
                i.contains(k as f64 / n as f64) && i.low > 0.0,
                "{k} of {n}: {i:?}"
            );
        }
        for k in ks {
            let rate = k as f64 / n as f64;
            for i in [
                rate_interval(k, n),
                clopper_pearson(k, n, 0.95),
                wilson(k, n, 0.95),
            ] {
                assert!(
                    0.0 <= i.low && i.low <= rate && rate <= i.high && i.high <= 1.0,
                    "{k} of {n}: {i:?}"
                );
                assert!(i.low < i.high, "{k} of {n}: {i:?}");
            }
        }
    }
}
