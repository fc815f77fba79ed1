//! Per-class totals over the scenarios of a report: the numbers behind the
//! verdict and the pooled classes table.

use std::collections::BTreeMap;

use super::super::format::RateText;
use super::super::{Kind, class_kind};
use crate::report::schema::{Class, ClassStats, Report, ScenarioReport};

/// Per-class totals over the scenarios where the class has one kind.
#[derive(Debug)]
pub(super) struct Pooled<'a> {
    pub(super) name: Class,
    pub(super) kind: Kind,
    pub(super) count: u64,
    pub(super) cycles: u64,
    /// Scenarios where the class has this kind.
    pub(super) scenarios: usize,
    /// Of those, scenarios where it was seen.
    pub(super) seen_in: usize,
    /// The scenario with the highest rate, when seen.
    pub(super) worst: Option<(&'a ScenarioReport, &'a ClassStats)>,
}

impl Pooled<'_> {
    pub(super) fn rate(&self) -> RateText {
        RateText::from_count(self.count, self.cycles)
    }
}

/// Every (kind, class) of a report with its totals, anomalies first, then
/// expected races, then normal outcomes; classes in schema order within each.
pub(super) fn pooled(report: &Report) -> Vec<Pooled<'_>> {
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
