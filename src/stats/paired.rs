//! Ratios of paired measurements: two contenders measured in the same
//! rounds (the pressure benchmarks' raced opens per second), compared by the
//! geometric mean of their per-round ratios with a Student's t interval on
//! the logarithms.
//!
//! The point and its interval are of one quantity. The ratio of the two
//! contenders' sums is another (a mean weighted by each round's size): with
//! rates that come in spells it can lie far outside the interval of the
//! geometric mean, so it is not offered here.

use super::interval::Interval;
use super::special::student_t_quantile;

/// The geometric mean of per-round ratios and its interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairedRatio {
    /// `exp(log_mean)`.
    pub geometric_mean: f64,
    /// The interval of the geometric mean; `None` with fewer than two
    /// rounds.
    pub interval: Option<Interval>,
    /// The mean of the logarithms of the per-round ratios, for pooling.
    pub log_mean: f64,
}

/// The geometric mean of `a[i] / b[i]` over the rounds both have, with its
/// two-sided interval at `confidence` (Student's t on the logarithms, `n − 1`
/// degrees of freedom). A value below `floor` counts as `floor` (a round
/// where one side measured nothing still has a finite ratio). Without
/// rounds the mean is 1 and there is no interval.
pub fn paired_ratio(a: &[f64], b: &[f64], floor: f64, confidence: f64) -> PairedRatio {
    let logs: Vec<f64> = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x.max(floor) / y.max(floor)).ln())
        .collect();
    geometric_mean(&logs, confidence)
}

/// The geometric mean of values given by their logarithms, with its
/// interval at `confidence` (Student's t); no interval with fewer than two
/// values, a mean of 1 with none.
pub fn geometric_mean(logs: &[f64], confidence: f64) -> PairedRatio {
    let n = logs.len();
    let log_mean = if n == 0 {
        0.0
    } else {
        logs.iter().sum::<f64>() / n as f64
    };
    let interval = (n >= 2).then(|| {
        let var = logs.iter().map(|l| (l - log_mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let t = student_t_quantile(1.0 - (1.0 - confidence) / 2.0, (n - 1) as f64);
        let half_width = t * (var / n as f64).sqrt();
        Interval {
            low: (log_mean - half_width).exp(),
            high: (log_mean + half_width).exp(),
        }
    });
    PairedRatio {
        geometric_mean: log_mean.exp(),
        interval,
        log_mean,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pressure bench's ratio: one quantity, its point inside its interval.
    /// The case, 12 rounds, harness 11 × 300/s and once 10,000/s, bare
    /// 12 × 400/s, printed 2.77 (the ratio of the sums) beside [0.53, 1.91]
    /// (the interval of the geometric mean of the per-round ratios). scipy:
    /// exp(mean(log(a / b))) = 1.0045413665, t.ppf(0.975, 11) on the logs gives
    /// [0.5280175596, 1.9111170427].
    #[test]
    fn the_geometric_mean_with_its_interval() {
        let harness: Vec<f64> = [300.0; 11].into_iter().chain([10_000.0]).collect();
        let bare = [400.0; 12];
        let r = paired_ratio(&harness, &bare, 0.5 / 0.3, 0.95);
        let i = r.interval.unwrap();
        let close = |got: f64, want: f64| (got / want - 1.0).abs() < 1e-9;
        assert!(close(r.geometric_mean, 1.004_541_366_548_839), "{r:?}");
        assert!(
            close(i.low, 0.528_017_559_645_034) && close(i.high, 1.911_117_042_747_954_5),
            "{r:?}"
        );
        assert!(i.contains(r.geometric_mean));
        // Rounds where a side raced nothing count at the floor; one round, no
        // interval; none, a ratio of 1.
        let r = paired_ratio(&[0.0, 10.0], &[5.0, 0.0], 1.0, 0.95);
        assert!(close(r.geometric_mean, (0.2f64 * 10.0).sqrt()));
        assert_eq!(paired_ratio(&[3.0], &[1.0], 1.0, 0.95).interval, None);
        assert_eq!(paired_ratio(&[], &[], 1.0, 0.95).geometric_mean, 1.0);
    }
}
