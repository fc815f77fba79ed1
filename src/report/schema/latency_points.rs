//! The `latency` benchmarks' points: time to the first anomaly of a
//! planted defect, and the rates that come with it.

use serde::{Deserialize, Serialize};

use crate::scenario::{Pace, Race};

use super::Rate;
use super::calibration::Calibration;
use super::evidence::Trial;

/// What raced in a latency point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LatencyMethod {
    /// The tool's harness, as `unlink-race run` races.
    Harness,
    /// A bare loop of the same syscalls, without bookkeeping.
    Bare,
}

impl LatencyMethod {
    pub fn name(self) -> &'static str {
        match self {
            LatencyMethod::Harness => "harness",
            LatencyMethod::Bare => "bare",
        }
    }
}

impl std::fmt::Display for LatencyMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Time to the first anomaly at one point of the `latency` benchmarks: a
/// defect planted on zombiefs with a known probability per racing open, and
/// repeated trials that race until it shows (or a cap).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencyPoint {
    /// zombiefs's `--open-probability`: the fraction of racing opens that
    /// get a dead descriptor; in a create race its
    /// `--create-race-probability`: the fraction of creates racing a create
    /// that get a spurious `ENOENT`.
    pub probability: f64,
    /// `"create"` for the create race's points (absent otherwise).
    #[serde(default, skip_serializing_if = "Race::is_open_unlink")]
    pub race: Race,
    /// 0 in a create race.
    pub readers: u32,
    /// 0 in a create race.
    pub deleters: u32,
    /// A create race's creators (with `O_CREAT`); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creators: Option<u32>,
    pub method: LatencyMethod,
    /// The deleters' pacing, resolved by a calibration (never `auto`).
    pub pace: Pace,
    /// How the pacing was chosen: each candidate's raced opens per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<Calibration>,
    /// A trial still without an anomaly after this long is censored.
    pub cap_ns: u64,
    /// ... or after this many reader cycles.
    pub cap_cycles: u64,
    /// One per trial, in the order they ran.
    pub trials: Vec<Trial>,
    /// Kaplan–Meier median of the trials' cycles to the first anomaly.
    pub median_cycles: LatencyMedian,
    /// Kaplan–Meier median of the trials' seconds to the first anomaly.
    pub median_seconds: LatencyMedian,
    /// zombiefs's racing opens per second of this side, measured apart
    /// from the trials (absent in older reports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<LatencyRate>,
}

/// How fast one side of a latency point made the racing opens a defect
/// needs: zombiefs's own count while the side raced, in turns interleaved
/// with the other side's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencyRate {
    /// zombiefs's racing opens during this side's turns.
    pub racing_opens: u64,
    /// Wall time of those turns.
    pub elapsed_ns: u64,
    pub turns: u32,
    /// `racing_opens` per second, with its 95% interval.
    pub racing_opens_per_second: Rate,
    /// `ln 2 / (probability × rate)`: the median time to the first anomaly
    /// that the rate implies, with the interval from the rate's.
    pub implied_median_seconds: LatencyMedian,
    /// Harness points: this rate over the bare side's, with its 95% interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ratio_to_bare: Option<Rate>,
    /// Bare points: every fixed pacing, each measured; the point's pace is
    /// the best of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paces: Vec<PaceRate>,
}

/// One bare pacing's racing opens in the turns of a latency point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaceRate {
    pub pace: Pace,
    pub racing_opens: u64,
    pub elapsed_ns: u64,
    pub racing_opens_per_second: Rate,
}

/// A Kaplan–Meier median with its 95% distribution-free interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LatencyMedian {
    /// `null` when over half the trials were censored (beyond the cap).
    pub median: Option<f64>,
    /// `null` (with `ci_high`) with fewer than 6 trials.
    pub ci_low: Option<f64>,
    /// `null` with fewer than 6 trials, or when the upper end lies beyond a
    /// censored trial (beyond the cap).
    pub ci_high: Option<f64>,
}
