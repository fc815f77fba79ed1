//! Intervals of a rate `k / n`: two-sided, 95% in reports.
//!
//! A count of something that happens at most once per cycle is binomial:
//! [`clopper_pearson`], the exact interval (with no event its upper end is
//! `1 − 0.025^(1/n)`, ≈ 3.7/n). A count of events that can happen more than
//! once per cycle is Poisson in the cycles: [`poisson_interval`], the exact
//! (Garwood) interval from gamma quantiles, `χ²(0.025; 2k)/2` and
//! `χ²(0.975; 2k + 2)/2` events, divided by the cycles. [`rate_interval`]
//! picks: binomial unless the count exceeds the cycles, so an interval never
//! excludes its own estimate.

use super::special::{beta_lower_quantile, gamma_quantile, normal_quantile};

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

/// `count / cycles`, and 0 when there are no cycles (nothing observed, no
/// rate). Every stored or shown point estimate of a rate is this quotient.
pub fn rate(count: u64, cycles: u64) -> f64 {
    if cycles == 0 {
        0.0
    } else {
        count as f64 / cycles as f64
    }
}

/// Two-sided 95% interval of a rate `k / n` of something that happens at
/// most once per cycle: Clopper–Pearson ([`clopper_pearson`] at 95%; with
/// `k == 0` the upper end is `1 − 0.025^(1/n)`). A count above `n` cannot be
/// binomial: it gets the Poisson interval ([`poisson_interval`]), which
/// contains `k / n`. `n == 0` gives `[0, 1]`.
pub fn rate_interval(k: u64, n: u64) -> Interval {
    rate_interval_at(k, n, CONFIDENCE)
}

/// [`rate_interval`] at `confidence`.
pub fn rate_interval_at(k: u64, n: u64, confidence: f64) -> Interval {
    if k > n && n > 0 {
        poisson_interval(k, n, confidence)
    } else {
        clopper_pearson(k, n, confidence)
    }
}

/// Two-sided 95% interval of a rate `k / n` of events that can happen more
/// than once per cycle (errors on either side, stalls, removals): the exact
/// Poisson interval. `n == 0` gives `[0, 1]`.
pub fn event_rate_interval(k: u64, n: u64) -> Interval {
    poisson_interval(k, n, CONFIDENCE)
}

/// The 95% interval of a class count: [`rate_interval`] for something that
/// happens at most once per cycle, [`event_rate_interval`] otherwise.
pub fn class_interval(k: u64, n: u64, once_per_cycle: bool) -> Interval {
    class_interval_at(k, n, once_per_cycle, CONFIDENCE)
}

/// [`class_interval`] at `confidence`.
pub fn class_interval_at(k: u64, n: u64, once_per_cycle: bool, confidence: f64) -> Interval {
    if once_per_cycle {
        rate_interval_at(k, n, confidence)
    } else {
        poisson_interval(k, n, confidence)
    }
}

/// Exact (Garwood) two-sided interval of a Poisson rate: `k` events in an
/// exposure of `n` cycles, at `confidence`. The bounds are the `α/2`
/// quantile of Gamma(k) and the `1 − α/2` quantile of Gamma(k + 1), divided
/// by `n` (R's `poisson.test(k, n)$conf.int`). With `k == 0` the upper end is
/// `−ln(α/2) / n`. `n == 0` gives `[0, 1]` (no exposure: nothing is known;
/// kept in `[0, 1]` like the binomial case).
pub fn poisson_interval(k: u64, n: u64, confidence: f64) -> Interval {
    if n == 0 {
        return Interval::UNIT;
    }
    let tail = (1.0 - confidence) / 2.0;
    let (kf, nf) = (k as f64, n as f64);
    let low = if k == 0 {
        0.0
    } else {
        gamma_quantile(kf, tail, true) / nf
    };
    let high = if k == 0 {
        -tail.ln() / nf
    } else {
        gamma_quantile(kf + 1.0, tail, false) / nf
    };
    Interval { low, high }
}

/// Exact (Clopper–Pearson) two-sided interval of a binomial proportion `k / n`
/// at `confidence` (e.g. `0.95`): the bounds are the `α/2` quantile of
/// Beta(k, n − k + 1) and the `1 − α/2` quantile of Beta(k + 1, n − k).
/// `n == 0` gives `[0, 1]`; a count above `n` is treated as `n` (use
/// [`rate_interval`], which switches to the Poisson interval there).
pub fn clopper_pearson(k: u64, n: u64, confidence: f64) -> Interval {
    if n == 0 {
        return Interval::UNIT;
    }
    let k = k.min(n);
    success_interval(k, n - k, confidence)
}

/// The Clopper–Pearson interval of the probability of success from
/// `successes` and `failures` given apart, so that their sum may exceed
/// `u64::MAX` (the share of two runs' events). Not both zero.
pub(super) fn success_interval(successes: u64, failures: u64, confidence: f64) -> Interval {
    let tail = (1.0 - confidence) / 2.0;
    let (kf, ff) = (successes as f64, failures as f64);
    let nf = kf + ff;
    let low = if successes == 0 {
        0.0
    } else if failures == 0 {
        (tail.ln() / nf).exp()
    } else {
        beta_lower_quantile(kf, ff + 1.0, tail).0
    };
    let high = if failures == 0 {
        1.0
    } else if successes == 0 {
        -(tail.ln() / nf).exp_m1()
    } else {
        // The upper quantile of Beta(k + 1, n − k) is one minus the lower
        // quantile of Beta(n − k, k + 1); solving for the complement keeps
        // tiny bounds exact.
        beta_lower_quantile(ff, kf + 1.0, tail).1
    };
    Interval { low, high }
}

/// Wilson score interval of a binomial proportion `k / n` at `confidence`
/// (Wilson 1927, *Probable inference, the law of succession, and statistical
/// inference*, JASA 22, 209–212). Not used in reports; kept as a reference.
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
