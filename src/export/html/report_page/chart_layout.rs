//! Chart layout of a grid report: which axis the scenarios vary along, the
//! panels, and one series per strategy.

use super::super::svg::{self, Point, Series};
use super::CONTENT_WIDTH;
use crate::report::schema::{Delete, Recreate, Report, ScenarioConfig, ScenarioReport, Workers};
use crate::scenario::format_size;

/// What the x axis of the grid charts shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum XAxis {
    /// readers × deleters; one panel per file size.
    Threads,
    /// File size, one panel (every scenario has the same thread counts).
    Size,
}

/// The scenarios of a report arranged for small-multiple charts.
pub(super) struct Grid<'a> {
    pub(super) x: XAxis,
    pub(super) categories: Vec<(u64, u64)>,
    pub(super) labels: Vec<String>,
    /// (panel title, scenarios).
    pub(super) panels: Vec<(String, Vec<&'a ScenarioReport>)>,
    /// Series keys in legend order, each with its color.
    pub(super) series: Vec<(String, &'static str)>,
    /// Whether threads and processes both occur (then series tell them apart).
    pub(super) multi_workers: bool,
}

impl<'a> Grid<'a> {
    pub(super) fn new(r: &'a Report) -> Option<Grid<'a>> {
        let threads = |c: &ScenarioConfig| (u64::from(c.readers), u64::from(c.deleters));
        let mut thread_keys: Vec<(u64, u64)> =
            r.scenarios.iter().map(|s| threads(&s.config)).collect();
        thread_keys.sort_by_key(|&(a, b)| (a + b, a));
        thread_keys.dedup();
        let mut sizes: Vec<u64> = r
            .scenarios
            .iter()
            .map(|s| s.config.file_size_bytes)
            .collect();
        sizes.sort_unstable();
        sizes.dedup();
        let x = if thread_keys.len() >= 2 {
            XAxis::Threads
        } else if sizes.len() >= 2 {
            XAxis::Size
        } else {
            return None;
        };
        let mut workers: Vec<Workers> = r.scenarios.iter().map(|s| s.config.workers).collect();
        workers.sort_unstable();
        workers.dedup();
        let multi_workers = workers.len() > 1;
        let series = strategy_series(r, multi_workers);
        let (categories, labels, panels) = match x {
            XAxis::Threads => {
                let labels = thread_keys
                    .iter()
                    .map(|(a, b)| format!("{a}×{b}"))
                    .collect();
                let panels = sizes
                    .iter()
                    .map(|&size| {
                        let members = r
                            .scenarios
                            .iter()
                            .filter(|s| s.config.file_size_bytes == size)
                            .collect();
                        (format!("{} files", format_size(size)), members)
                    })
                    .collect();
                (thread_keys, labels, panels)
            }
            XAxis::Size => {
                let (a, b) = thread_keys[0];
                let labels = sizes.iter().map(|&s| format_size(s)).collect();
                let cats = sizes.iter().map(|&s| (s, 0)).collect();
                let panels = vec![(
                    format!("{a} readers × {b} deleters"),
                    r.scenarios.iter().collect(),
                )];
                (cats, labels, panels)
            }
        };
        Some(Grid {
            x,
            categories,
            labels,
            panels,
            series,
            multi_workers,
        })
    }

    pub(super) fn category(&self, c: &ScenarioConfig) -> usize {
        let key = match self.x {
            XAxis::Threads => (u64::from(c.readers), u64::from(c.deleters)),
            XAxis::Size => (c.file_size_bytes, 0),
        };
        self.categories.iter().position(|&k| k == key).unwrap_or(0)
    }

    pub(super) fn x_label(&self) -> &'static str {
        match self.x {
            XAxis::Threads => "readers × deleters",
            XAxis::Size => "file size",
        }
    }

    pub(super) fn panel_width(&self) -> f64 {
        let k = self.panels.len().clamp(1, 3) as f64;
        ((CONTENT_WIDTH - 14.0 * (k - 1.0)) / k).min(560.0)
    }

    /// One series per strategy in a panel, built by `point`.
    pub(super) fn series_for(
        &self,
        members: &[&ScenarioReport],
        point: &dyn Fn(&ScenarioReport, usize) -> Point,
    ) -> Vec<Series> {
        self.series
            .iter()
            .filter_map(|(label, color)| {
                let points: Vec<Point> = members
                    .iter()
                    .filter(|s| &series_label(&s.config, self.multi_workers) == label)
                    .map(|s| point(s, self.category(&s.config)))
                    .collect();
                (!points.is_empty()).then(|| Series {
                    label: label.clone(),
                    color,
                    points,
                })
            })
            .collect()
    }
}

/// One series per strategy (recreate · delete, and workers when both kinds
/// occur), in strategy order, each with its palette color.
fn strategy_series(r: &Report, multi_workers: bool) -> Vec<(String, &'static str)> {
    let mut keys: Vec<(Recreate, Delete, Workers, String)> = r
        .scenarios
        .iter()
        .map(|s| {
            let c = &s.config;
            (
                c.recreate,
                c.delete,
                c.workers,
                series_label(c, multi_workers),
            )
        })
        .collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .enumerate()
        .map(|(i, k)| (k.3, svg::PALETTE[i % svg::PALETTE.len()]))
        .collect()
}

fn series_label(c: &ScenarioConfig, with_workers: bool) -> String {
    if with_workers {
        format!("{} · {} · {}", c.recreate, c.delete, c.workers)
    } else {
        format!("{} · {}", c.recreate, c.delete)
    }
}
