//! Benchmark families of `cargo bench`, one file each.

pub mod grid;
pub mod report;

use criterion::Criterion;
use unlink_race::grid::GridConfig;

/// Criterion configured from the grid's timing, then from the command line.
pub fn criterion(config: &GridConfig) -> Criterion {
    Criterion::default()
        .warm_up_time(config.timing.warm_up)
        .measurement_time(config.timing.measurement)
        .sample_size(config.timing.sample_size)
        .configure_from_args()
}
