//! Per-class totals over the scenarios of a report, each class split by the
//! kind it has there (anomaly, expected race, normal): the numbers behind the
//! verdict of every output (the report page, the terminal after `cargo
//! bench`).

use std::collections::BTreeMap;

use super::format::RateText;
use crate::outcome::Class;
use crate::report::schema::{ClassStats, Report, ScenarioReport};

/// How a report treats an outcome class in one scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Kind {
    /// Not allowed by POSIX: counted in the anomaly rate.
    Anomaly,
    /// A race the scenario makes normal (docs/methods.md#expected-races); shown apart.
    ExpectedRace,
    /// `ok`, `enoent_on_open`, `recreated`, `removed`, `remove_enoent`.
    Normal,
}

pub(crate) fn class_kind(class: Class, stats: &ClassStats) -> Kind {
    if class.is_normal() {
        Kind::Normal
    } else if stats.expected {
        Kind::ExpectedRace
    } else {
        Kind::Anomaly
    }
}

/// Per-class totals over the scenarios where the class has one kind.
#[derive(Debug)]
pub(crate) struct Pooled<'a> {
    pub(crate) name: Class,
    pub(crate) kind: Kind,
    pub(crate) count: u64,
    pub(crate) cycles: u64,
    /// Scenarios where the class has this kind.
    pub(crate) scenarios: usize,
    /// Of those, scenarios where it was seen.
    pub(crate) seen_in: usize,
    /// The scenario with the highest rate, when seen.
    pub(crate) worst: Option<(&'a ScenarioReport, &'a ClassStats)>,
}

impl Pooled<'_> {
    pub(crate) fn rate(&self) -> RateText {
        RateText::from_count(self.count, self.cycles)
    }
}

/// Every (kind, class) of a report with its totals, anomalies first, then
/// expected races, then normal outcomes; classes in schema order within each.
pub(crate) fn pooled(report: &Report) -> Vec<Pooled<'_>> {
    let mut by: BTreeMap<(Kind, Class), Pooled<'_>> = BTreeMap::new();
    for s in &report.scenarios {
        for (&name, c) in &s.classes {
            let kind = class_kind(name, c);
            let p = by.entry((kind, name)).or_insert_with(|| Pooled {
                name,
                kind,
                count: 0,
                cycles: 0,
                scenarios: 0,
                seen_in: 0,
                worst: None,
            });
            p.count += c.count;
            p.cycles += s.cycles;
            p.scenarios += 1;
            if c.count > 0 {
                p.seen_in += 1;
                if p.worst.is_none_or(|(_, w)| c.rate > w.rate) {
                    p.worst = Some((s, c));
                }
            }
        }
    }
    by.into_values().collect()
}
