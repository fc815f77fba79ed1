//! Statistics over every kind of input: no call hangs or returns
//! a NaN, whatever the counts; the figures shown agree with the verdicts at
//! any `α`; the median is exact where the curve is exactly ½; the power
//! sentence keeps its promise.
//!
//! Time bounds here are hang guards, not speed checks: each call runs on a
//! worker thread; one that has not returned after [`HANG_LIMIT`] fails the
//! test with its input, and so does one whose thread spent more than
//! [`CALL_LIMIT`] of CPU time on it (a release build takes well under a
//! millisecond per call, a debug build a few). CPU time, unlike the clock
//! on the wall, does not grow when a loaded machine deschedules the thread.

use std::sync::mpsc;
use std::time::Duration;

use unlink_race::stats::{
    RateComparison, Verdict, binomial_test, class_interval_at, compare_rates, cycles_to_tell,
    decide, difference_power, events_to_tell, kaplan_meier, km_median, rate_interval_at,
    ratio_interval,
};
use unlink_race::sys::thread_cpu_ns;

/// Most CPU time a single call may take.
const CALL_LIMIT: Duration = Duration::from_millis(100);

/// Longest a single call may take on the wall clock before it counts as a
/// hang (a loaded machine may leave the worker waiting for a while).
const HANG_LIMIT: Duration = Duration::from_secs(20);

/// A small deterministic generator (Knuth's MMIX linear congruential
/// constants), so that every run tries the same inputs.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 11
    }

    /// Uniform in `0..n` (`n > 0`; the bias is negligible here).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A count spread over every order of magnitude up to `max`: `10^u`
    /// with `u` uniform, sometimes exactly 0, 1 or `max`.
    fn count(&mut self, max: u64) -> u64 {
        match self.below(16) {
            0 => 0,
            1 => 1,
            2 => max,
            _ => {
                let exponent =
                    (self.below(1 << 20) as f64 / (1 << 20) as f64) * (max as f64).log10();
                (10f64.powf(exponent) as u64).min(max)
            }
        }
    }
}

/// Every figure of a comparison: finite where it must be, in range.
#[track_caller]
fn assert_sane(c: &RateComparison, what: &str) {
    let finite_or_none = |x: Option<f64>| x.is_none_or(|x| x.is_finite() && x >= 0.0);
    assert!(
        (0.0..=1.0).contains(&c.p_value) && (0.0..=1.0).contains(&c.equivalence_p),
        "{what}: p-values {c:?}"
    );
    assert!(
        c.ratio_low.is_finite() && c.ratio_low >= 0.0 && finite_or_none(c.ratio_high),
        "{what}: ratio interval {c:?}"
    );
    assert!(
        c.equivalence_low.is_finite()
            && c.equivalence_low >= 0.0
            && finite_or_none(c.equivalence_high),
        "{what}: equivalence interval {c:?}"
    );
    assert!(finite_or_none(c.ratio), "{what}: ratio {c:?}");
    if let Some(high) = c.ratio_high {
        assert!(c.ratio_low <= high, "{what}: interval reversed {c:?}");
    }
}

/// Runs `check` on every case on a worker thread, one after the other, and
/// fails when one has not returned within [`HANG_LIMIT`] or took more than
/// [`CALL_LIMIT`] of CPU time (naming it), or panicked. Returns the most CPU
/// time a case took.
fn each_returns<T>(cases: Vec<T>, check: fn(&T)) -> Duration
where
    T: std::fmt::Debug + Send + 'static,
{
    let shown: Vec<String> = cases.iter().map(|c| format!("{c:?}")).collect();
    let (started, starts) = mpsc::channel::<usize>();
    let (finished, ends) = mpsc::channel::<Duration>();
    let worker = std::thread::spawn(move || {
        for (i, case) in cases.iter().enumerate() {
            let _ = started.send(i);
            let cpu = thread_cpu_ns();
            check(case);
            let _ = finished.send(Duration::from_nanos(thread_cpu_ns() - cpu));
        }
    });
    let mut longest = Duration::ZERO;
    while let Ok(i) = starts.recv() {
        match ends.recv_timeout(HANG_LIMIT) {
            Ok(took) => {
                longest = longest.max(took);
                assert!(took < CALL_LIMIT, "{} took {took:?} of CPU time", shown[i]);
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                panic!("{} did not return within {HANG_LIMIT:?}", shown[i])
            }
            // The check panicked: join says how.
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    if let Err(e) = worker.join() {
        std::panic::resume_unwind(e);
    }
    longest
}

/// `compare` of k against k ± 1 events in equal cycles, for k on a dense
/// grid up to 10⁷: k = 1000 and up hung in the quadrature of the share's
/// tail, exactly at the mode (k = (T − 1)/2 with T = 2k + 1 events).
#[test]
fn k_against_k_plus_or_minus_one_in_equal_cycles_returns() {
    let mut ks: Vec<u64> = (990..=1100).collect();
    let mut k = 1100f64;
    while k < 1e7 {
        k *= 1.013;
        ks.push(k as u64);
    }
    ks.extend([4095, 4096, 65_535, 65_536, 1 << 20, 9_999_999, 10_000_000]);
    let mut cases = Vec::new();
    for &k in &ks {
        for n in [k + 1, 10 * k, 1_000_000_000_000] {
            cases.push((k, n, k + 1));
            cases.push((k, n, k - 1));
            cases.push((k, n, k));
        }
    }
    let longest = each_returns(cases, |&(k_a, n, k_b)| {
        let c = compare_rates(k_a, n, k_b, n, 2.0, 0.05);
        assert_sane(&c, &format!("{k_a} vs {k_b} in {n}"));
        // Neighbouring counts never differ, and the ratio's interval holds 1.
        assert!(c.p_value > 0.9, "{k_a} vs {k_b} in {n}: {c:?}");
        assert!(c.ratio_low < 1.0 && c.ratio_high.is_some_and(|h| h > 1.0));
    });
    eprintln!("k vs k ± 1 in equal cycles: at most {longest:?} of CPU time per call");
}

/// The share's tail exactly at its mode for other shares than ½: with
/// cycles in the ratio i : j, B's share is p = j / (i + j) (exact in binary
/// here) and P(X ≤ k) of T events sits at the mode where k = (T − 1)p,
/// P(X ≥ k) where k = (T − 1)p + 1. Also through the binomial test.
#[test]
fn share_tails_exactly_at_the_mode_return() {
    let mut cases = Vec::new();
    for (i, j) in [
        (1u64, 1u64),
        (1, 3),
        (3, 1),
        (1, 7),
        (5, 3),
        (1, 1023),
        (1023, 1),
    ] {
        for m in [1000u64, 1001, 4096, 77_777, 1_000_000, 9_999_991] {
            let (n_a, n_b) = (i * 1_000_000_007, j * 1_000_000_007);
            // T = (i + j)m + 1 events: k_b = jm at the lower tail's mode,
            // k_b = jm + 1 with T = (i + j)m + 1 at the upper tail's.
            cases.push((i * m + 1, n_a, j * m, n_b));
            cases.push((i * m, n_a, j * m + 1, n_b));
        }
    }
    each_returns(cases, |&(k_a, n_a, k_b, n_b)| {
        let c = compare_rates(k_a, n_a, k_b, n_b, 2.0, 0.05);
        assert_sane(&c, &format!("{k_a}/{n_a} vs {k_b}/{n_b}"));
        assert!(c.p_value > 0.9, "{c:?}");
    });
    let tests = vec![
        (1000u64, 1999u64, 0.5f64),
        (999, 1999, 0.5),
        (1000, 4001, 0.25),
        (3000, 4001, 0.75),
    ];
    each_returns(tests, |&(k, n, p)| {
        let p_value = binomial_test(k, n, p);
        assert!(
            p_value > 0.9 && p_value <= 1.0,
            "binomial_test({k}, {n}, {p}) = {p_value}"
        );
    });
}

/// Inputs at the edges: no event, every cycle an event, one cycle, counts
/// and cycles near `u64::MAX` (whose sum does not fit in a `u64`), equal
/// counts, one side zero, counts far above the cycles (events that happen
/// more than once per cycle), at levels from 0.001 to 0.49.
#[test]
fn degenerate_inputs_return_finite_values() {
    let max = u64::MAX;
    let half = max / 2;
    let mut cases: Vec<(u64, u64, u64, u64, f64)> = Vec::new();
    let pairs = [
        (0, 0, 0, 0),
        (0, 1, 0, 1),
        (1, 1, 1, 1),
        (1, 1, 0, 1),
        (0, 1, 1, 1),
        (0, 1_000_000, 0, 10),
        (0, 0, 5, 1000),
        (5, 1000, 0, 0),
        (0, 1_000_000, 1_000_000, 1_000_000),
        (1_000_000, 1_000_000, 0, 1_000_000),
        (1_000_000, 1_000_000, 1_000_000, 1_000_000),
        (max, max, max, max),
        (max, max, 0, max),
        (0, max, max, max),
        (half, max, half + 1, max),
        (max - 1, max, max, max),
        (1, max, 1, max),
        (5, max, 0, 1),
        (max, 1, max, 1),
        (max, 1, 1, 1),
        (max, 1, 0, max),
        (1 << 53, 1 << 53, (1 << 53) + 1, 1 << 53),
        (10_000_000_000, 1_000, 10_000_000_001, 1_000),
    ];
    for (k_a, n_a, k_b, n_b) in pairs {
        for alpha in [0.001, 0.05, 0.2, 0.49] {
            cases.push((k_a, n_a, k_b, n_b, alpha));
        }
    }
    each_returns(cases, |&(k_a, n_a, k_b, n_b, alpha)| {
        let what = format!("{k_a}/{n_a} vs {k_b}/{n_b} at α = {alpha}");
        let c = compare_rates(k_a, n_a, k_b, n_b, 2.0, alpha);
        assert_sane(&c, &what);
        let _ = decide(&c, c.p_value, c.equivalence_p, alpha, Some(1e-6));
        let (more, rate, _) = cycles_to_tell(&c, 2.0, alpha);
        assert!(
            more.is_finite() && more >= 0.0 && rate.is_finite(),
            "{what}: {more} more cycles at {rate}"
        );
        for (k, n) in [(k_a, n_a), (k_b, n_b)] {
            for once in [true, false] {
                let i = class_interval_at(k, n, once, 1.0 - alpha);
                let rate = if n == 0 { 0.0 } else { k as f64 / n as f64 };
                assert!(
                    i.low.is_finite() && i.high.is_finite() && i.low <= i.high,
                    "{what}: interval of {k}/{n}: {i:?}"
                );
                // An interval never excludes its own estimate (to rounding).
                assert!(
                    n == 0 || (i.low <= rate * (1.0 + 1e-12) && rate <= i.high * (1.0 + 1e-12)),
                    "{what}: {k}/{n} outside {i:?}"
                );
            }
        }
    });
    let tests = vec![
        (0u64, 0u64, 0.5f64),
        (0, 1, 0.5),
        (1, 1, 0.5),
        (3, 10, 0.0),
        (3, 10, 1.0),
        (max, max, 0.5),
        (half, max, 0.5),
        (1, max, 1e-19),
    ];
    each_returns(tests, |&(k, n, p)| {
        let p_value = binomial_test(k, n, p);
        assert!(
            (0.0..=1.0).contains(&p_value),
            "binomial_test({k}, {n}, {p}) = {p_value}"
        );
    });
}

/// Random counts over every order of magnitude (deterministic seed): every
/// figure is finite and in range, and at every level the shown intervals
/// say what the tests decided: p < α exactly when the 1 − α interval of
/// the ratio excludes 1, and the equivalence p < α exactly when the 1 − 2α
/// interval lies inside [1/m, m] (up to rounding at the boundary).
#[test]
fn random_counts_agree_with_their_intervals_at_any_level() {
    let mut rng = Lcg(29);
    let mut cases = Vec::new();
    for _ in 0..3000 {
        let n_a = rng.count(u64::MAX).max(1);
        let n_b = rng.count(u64::MAX).max(1);
        // Mostly counts up to the cycles; sometimes up to any size.
        let k_max = |n: u64, rng: &mut Lcg| if rng.below(8) == 0 { u64::MAX } else { n };
        let max_a = k_max(n_a, &mut rng);
        let k_a = rng.count(max_a);
        let max_b = k_max(n_b, &mut rng);
        let k_b = rng.count(max_b);
        let alpha = [0.001, 0.01, 0.05, 0.1, 0.2, 0.3][rng.below(6) as usize];
        let margin = [1.1, 2.0, 10.0][rng.below(3) as usize];
        cases.push((k_a, n_a, k_b, n_b, alpha, margin));
    }
    let longest = each_returns(cases, |&(k_a, n_a, k_b, n_b, alpha, margin)| {
        let what = format!("{k_a}/{n_a} vs {k_b}/{n_b} at α = {alpha}, m = {margin}");
        let c = compare_rates(k_a, n_a, k_b, n_b, margin, alpha);
        assert_sane(&c, &what);
        let near = |x: f64, y: f64| (x / y - 1.0).abs() < 1e-9;
        let high = c.ratio_high.unwrap_or(f64::INFINITY);
        if !(near(c.p_value, alpha) || near(c.ratio_low, 1.0) || near(high, 1.0)) {
            let excludes_one = c.ratio_low > 1.0 || high < 1.0;
            assert_eq!(c.p_value < alpha, excludes_one, "{what}: {c:?}");
        }
        let eq_high = c.equivalence_high.unwrap_or(f64::INFINITY);
        let edges = [c.equivalence_low * margin, eq_high / margin];
        if !(near(c.equivalence_p, alpha) || edges.iter().any(|&e| near(e, 1.0))) {
            let inside = c.equivalence_low > 1.0 / margin && eq_high < margin;
            assert_eq!(c.equivalence_p < alpha, inside, "{what}: {c:?}");
        }
        let (more, _, _) = cycles_to_tell(&c, 2.0, alpha);
        assert!(more.is_finite() && more >= 0.0, "{what}: {more}");
        for once in [true, false] {
            let i = class_interval_at(k_a, n_a, once, 1.0 - alpha);
            assert!(
                i.low.is_finite() && i.high.is_finite() && i.low <= i.high,
                "{what}: {i:?}"
            );
        }
    });
    eprintln!("random counts: at most {longest:?} of CPU time per call");
}

/// The reproducers of `--alpha`: at α = 0.1, 14 against 14 events
/// is `same`, and its shown equivalence interval (80% now, 90% before) lies
/// inside [½, 2]; at α = 0.01, 20 against 38 is `inconclusive`, and its
/// shown interval (99%) holds 1, where the 95% one did not.
#[test]
fn intervals_follow_alpha() {
    let verdict =
        |c: &RateComparison, alpha| decide(c, c.p_value, c.equivalence_p, alpha, None).verdict;
    let c = compare_rates(14, 1_000_000, 14, 1_000_000, 2.0, 0.1);
    assert_eq!(verdict(&c, 0.1), Verdict::Same);
    assert!(
        c.equivalence_low > 0.5 && c.equivalence_high.unwrap() < 2.0,
        "{c:?}"
    );
    assert_eq!(c.equivalence_confidence(), 0.8);
    let c = compare_rates(20, 1_000_000, 38, 1_000_000, 2.0, 0.01);
    assert_eq!(verdict(&c, 0.01), Verdict::Inconclusive);
    assert!(c.ratio_low < 1.0 && c.ratio_high.unwrap() > 1.0, "{c:?}");
    let c = compare_rates(20, 1_000_000, 38, 1_000_000, 2.0, 0.05);
    assert_eq!(verdict(&c, 0.05), Verdict::Higher);
    assert!(c.ratio_low > 1.0, "{c:?}");
    // scipy: the Clopper–Pearson interval of B's share, beta.ppf(0.005, 38,
    // 21) and beta.ppf(0.995, 39, 20), as odds: [0.91671, 4.15255].
    let (low, high) = ratio_interval(20, 1_000_000, 38, 1_000_000, 0.99);
    assert!((low / 0.916_706_066_900_371_8 - 1.0).abs() < 1e-10, "{low}");
    assert!(
        (high.unwrap() / 4.152_547_503_297_633 - 1.0).abs() < 1e-10,
        "{high:?}"
    );
    // The negligible rule uses the same 1 − α upper bounds.
    let bound = |alpha: f64| rate_interval_at(0, 1_000_000, 1.0 - alpha).high;
    assert!(bound(0.01) > bound(0.05) && bound(0.05) > bound(0.2));
    let c = compare_rates(0, 1_000_000, 0, 1_000_000, 2.0, 0.01);
    let limit = 0.5 * (bound(0.01) + bound(0.05));
    assert_eq!(
        decide(&c, 1.0, 1.0, 0.05, Some(limit)).verdict,
        Verdict::Same
    );
    assert_eq!(
        decide(&c, 1.0, 1.0, 0.01, Some(limit)).verdict,
        Verdict::Inconclusive
    );
}

/// The Kaplan–Meier median is the smallest event time at which the curve is
/// ½ or below: where it is exactly ½, that time. The running product used
/// to round ½ to 0.5000000000000001 (times 1..24 gave 13, not 12; 49 of 100
/// even n were wrong).
#[test]
fn km_median_where_the_curve_is_exactly_one_half() {
    for n in 1..=200u64 {
        let obs: Vec<(u64, bool)> = (1..=n).map(|t| (t, true)).collect();
        assert_eq!(km_median(&obs).median, Some(n.div_ceil(2)), "1..={n}");
        // Half survive the event at n/2: the curve there is exactly ½.
        if n % 2 == 0 {
            assert_eq!(
                kaplan_meier(&obs)[n as usize / 2 - 1].survival,
                0.5,
                "1..={n}"
            );
        }
    }
    // 8 trials: two events at 1 (S = 3/4), three censored at 2, one event
    // at 3: S = 3/4 · 2/3 = ½ exactly.
    let obs = [
        (1, true),
        (1, true),
        (2, false),
        (2, false),
        (2, false),
        (3, true),
        (4, true),
        (5, true),
    ];
    assert_eq!(km_median(&obs).median, Some(3));
}

/// Random censored sets (deterministic seed) against the curve in exact
/// fractions: the median is where `2 · survivors ≤ at risk` in the
/// telescoped product, and the curve's values are that fraction, rounded.
#[test]
fn km_median_of_random_censored_sets_is_exact() {
    let mut rng = Lcg(1029);
    let mut ties = 0;
    for _ in 0..1000 {
        let n = 2 + rng.below(14);
        let obs: Vec<(u64, bool)> = (0..n)
            .map(|_| (1 + rng.below(8), rng.below(3) != 0))
            .collect();
        // S as a fraction, step by step: Π (at risk − events) / at risk.
        let mut sorted = obs.clone();
        sorted.sort_unstable();
        let (mut num, mut den) = (1u128, 1u128);
        let mut at_risk = n as u128;
        let mut want = None;
        let mut exact = Vec::new();
        for t in 1..=8 {
            let events = sorted.iter().filter(|o| o.0 == t && o.1).count() as u128;
            let leaving = sorted.iter().filter(|o| o.0 == t).count() as u128;
            if events > 0 {
                num *= at_risk - events;
                den *= at_risk;
                exact.push(num as f64 / den as f64);
                if 2 * num == den {
                    ties += 1;
                }
                if want.is_none() && 2 * num <= den {
                    want = Some(t);
                }
            }
            at_risk -= leaving;
        }
        assert_eq!(km_median(&obs).median, want, "{obs:?}");
        let curve: Vec<f64> = kaplan_meier(&obs).iter().map(|p| p.survival).collect();
        assert_eq!(curve.len(), exact.len());
        for (got, want) in curve.iter().zip(&exact) {
            assert!(
                (got - want).abs() <= 4.0 * f64::EPSILON,
                "{obs:?}: {curve:?} vs {exact:?}"
            );
        }
    }
    // The sets were meant to hit ½ exactly, often.
    assert!(ties > 50, "only {ties} curves were exactly ½ somewhere");
}

/// P(X = k) for X ~ Poisson(mean), by the recurrence from e^−mean (means
/// below 700 here).
fn poisson_pmfs(mean: f64, up_to: usize) -> Vec<f64> {
    let mut pmf = vec![(-mean).exp()];
    for k in 1..=up_to {
        pmf.push(pmf[k - 1] * mean / k as f64);
    }
    pmf
}

/// The power sentence keeps its promise. The case: A at 1e-5 per
/// cycle, B at twice that; the normal approximation suggested 2.27e6
/// cycles per run, where the exact power is 76.0%; 80% needs 2.49e6.
///
/// Reference values from scipy 1.17 (binom, poisson; brentq to 1e-9): the
/// power of the central conditional test, summed over the Poisson total and
/// its binomial split, is 0.8 at 74.68781465 expected events (ratio 2,
/// α = 0.05), 108.4158438 (α = 0.01), and 0.76048785007 at 68.1 events
/// (2.27e6 cycles per run at 3e-5 events per cycle together).
#[test]
fn the_power_sentence_achieves_its_power() {
    let close = |got: f64, want: f64, rel: f64| (got / want - 1.0).abs() < rel;
    assert!(close(
        difference_power(68.1, 2.0, 0.05),
        0.760_487_850_066_05,
        1e-9
    ));
    assert!(close(
        difference_power(74.687_814_653_077_5, 2.0, 0.05),
        0.8,
        1e-9
    ));
    for (alpha, exact) in [(0.05, 74.687_814_653_077_5), (0.01, 108.415_843_804_162)] {
        let events = events_to_tell(2.0, alpha);
        // At or just above the smallest sufficient figure, never below.
        assert!(
            events >= exact && events < exact * 1.0002,
            "α = {alpha}: {events}"
        );
    }
    // The sentence's cycles, checked with the test that gives the verdicts:
    // the probability that compare_rates rejects at the suggested cycles,
    // summed over both runs' Poisson counts.
    for alpha in [0.05, 0.01] {
        let c = compare_rates(10, 1_000_000, 10, 1_000_000, 2.0, alpha);
        let (more, rate, bound) = cycles_to_tell(&c, 2.0, alpha);
        assert!(!bound && rate == 1e-5);
        let per_run = (1_000_000.0 + more / 2.0) as u64;
        let (mean_a, mean_b) = (per_run as f64 * 1e-5, per_run as f64 * 2e-5);
        let (pa, pb) = (poisson_pmfs(mean_a, 150), poisson_pmfs(mean_b, 250));
        let mut power = 0.0;
        for (k_a, wa) in pa.iter().enumerate() {
            for (k_b, wb) in pb.iter().enumerate() {
                if wa * wb < 1e-18 {
                    continue;
                }
                let r = compare_rates(k_a as u64, per_run, k_b as u64, per_run, 2.0, alpha);
                if r.p_value < alpha {
                    power += wa * wb;
                }
            }
        }
        assert!(
            (0.8..0.81).contains(&power),
            "α = {alpha}: {per_run} cycles per run give {power}"
        );
        if alpha == 0.05 {
            // scipy: 74.68781465 / 3e-5 = 2,489,594 cycles per run at
            // least; the search stops within 0.01% above.
            assert!((2_489_594..2_489_594 + 249).contains(&per_run), "{per_run}");
        }
    }
}
