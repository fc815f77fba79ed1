//! How pace `auto` chose the deleters' pacing: each candidate's figures in
//! its calibration run, and the figure that decided.

use serde::{Deserialize, Serialize};

use crate::scenario::Pace;

/// How pace `auto` chose the deleters' pacing: each candidate's figures in
/// its short calibration run (not counted in the scenario's own figures).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// The pacing chosen: the most raced opens (or, when
    /// `chosen_by_anomalies`, anomalies) per second in the calibration.
    pub chosen: Pace,
    pub candidates: Vec<CalibrationCandidate>,
    /// `true` when anomalies per second decided: some candidate found
    /// dozens of anomalies in the calibration itself. Absent (`false`) when
    /// opens per second decided, and in older reports.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub chosen_by_anomalies: bool,
    /// The figure that decided. Absent in older reports: see [`Calibration::basis`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chosen_by: Option<CalibrationBasis>,
}

/// The figure a calibration chose the pacing by, per second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CalibrationBasis {
    /// Raced opens (where overlapped opens are not counted: worker processes).
    RacedOpens,
    /// Overlapped opens: the opens that can show the defect.
    OverlappedOpens,
    /// Anomalies: some candidate found dozens.
    Anomalies,
}

impl CalibrationBasis {
    /// The figure with its unit, as pages name it.
    pub fn unit(self) -> &'static str {
        match self {
            CalibrationBasis::RacedOpens => "raced opens/s",
            CalibrationBasis::OverlappedOpens => "overlapped opens/s",
            CalibrationBasis::Anomalies => "anomalies/s",
        }
    }
}

impl Calibration {
    /// The figure that decided; older reports (no `chosen_by`) chose by
    /// raced opens unless `chosen_by_anomalies`.
    pub fn basis(&self) -> CalibrationBasis {
        self.chosen_by.unwrap_or(if self.chosen_by_anomalies {
            CalibrationBasis::Anomalies
        } else {
            CalibrationBasis::RacedOpens
        })
    }
}

/// One candidate pacing's calibration run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationCandidate {
    pub pace: Pace,
    pub cycles: u64,
    pub raced_opens: u64,
    pub anomalies: u64,
    pub elapsed_ns: u64,
    pub raced_opens_per_second: f64,
    /// `null` where not counted (worker processes) and in older reports.
    #[serde(default)]
    pub overlapped_opens: Option<u64>,
    #[serde(default)]
    pub overlapped_opens_per_second: Option<f64>,
    /// Raced opens per second of each measured turn, in order. Empty in
    /// older reports.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rounds_raced_opens_per_second: Vec<f64>,
    /// Overlapped opens per second of each measured turn, in order. Empty
    /// where not counted and in older reports.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rounds_overlapped_opens_per_second: Vec<f64>,
    /// Anomalies per second of each measured turn, in order. Empty in older
    /// reports.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rounds_anomalies_per_second: Vec<f64>,
}

impl CalibrationCandidate {
    /// The figure `auto` chose by ([`Calibration::basis`]), per second.
    pub fn deciding_rate(&self, basis: CalibrationBasis) -> f64 {
        match basis {
            CalibrationBasis::Anomalies => {
                self.anomalies as f64 * 1e9 / self.elapsed_ns.max(1) as f64
            }
            CalibrationBasis::OverlappedOpens => self.overlapped_opens_per_second.unwrap_or(0.0),
            CalibrationBasis::RacedOpens => self.raced_opens_per_second,
        }
    }
}
