//! Statistics of DESIGN §5: rate intervals, cycles-to-first-anomaly, comparisons.

use crate::report::schema::{Survival, Trial};

/// A two-sided interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

/// 95% interval of a rate `k / n`. With `k == 0` the upper bound is the exact
/// one-sided `1 - 0.05^(1/n)`; with `n == 0` the interval is `[0, 1]`.
pub fn rate_interval(k: u64, n: u64) -> Interval {
    if n == 0 {
        return Interval {
            low: 0.0,
            high: 1.0,
        };
    }
    if k == 0 {
        return Interval {
            low: 0.0,
            high: 1.0 - 0.05f64.powf(1.0 / n as f64),
        };
    }
    // Placeholder (Wilson), replaced by Clopper-Pearson.
    let (k, n, z) = (k as f64, n as f64, 1.959_963_984_540_054);
    let p = k / n;
    let d = 1.0 + z * z / n;
    let c = (p + z * z / (2.0 * n)) / d;
    let h = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / d;
    Interval {
        low: (c - h).max(0.0),
        high: (c + h).min(1.0),
    }
}

/// Kaplan–Meier curve and per-cycle MLE from trials; `None` without trials.
pub fn survival(trials: &[Trial], ns_per_cycle: f64) -> Option<Survival> {
    let _ = (trials, ns_per_cycle);
    None
}
