//! Outcome classes: every class of a one-scenario report, or the pooled
//! classes and where each was seen for a grid.

use super::super::format::{RateText, format_count};
use super::super::markup::Markup;
use super::super::{Kind, class_kind};
use super::scenarios::{group_row, rate_cells, sorted_classes};
use super::{class_rate, kind_pill};
use crate::export::pooled::pooled;
use crate::report::schema::{Class, Report, ScenarioReport};

pub(super) fn classes(m: &mut Markup, r: &Report) {
    m.elem("h2", &[], "Outcome classes");
    if let [s] = r.scenarios.as_slice() {
        single_table(m, s);
    } else {
        pooled_table(m, r);
    }
    nlink_note(m, r);
    if r.scenarios.len() > 1 {
        seen_matrix(m, r);
    }
}

/// Every class of the one scenario, grouped by kind.
fn single_table(m: &mut Markup, s: &ScenarioReport) {
    {
        m.open("table", &[]);
        m.open("tr", &[]);
        for h in ["class", "count", "per cycle", "1 in", "95% interval"] {
            m.elem("th", &[], h);
        }
        m.close();
        let mut last = None;
        for (name, c) in sorted_classes(s) {
            let kind = class_kind(name, c);
            if last != Some(kind) {
                group_row(m, 5, kind);
                last = Some(kind);
            }
            m.open(
                "tr",
                if kind == Kind::Anomaly && c.count > 0 {
                    &[("class", "hit")]
                } else {
                    &[]
                },
            );
            m.open("td", &[]);
            m.elem("code", &[], name.name());
            m.close();
            rate_cells(m, &class_rate(s, c));
            m.close();
        }
        m.close();
    }
}

/// Every class of a grid, pooled over the scenarios where it has one kind.
fn pooled_table(m: &mut Markup, r: &Report) {
    m.elem(
        "p",
        &[("class", "note")],
        "All scenarios pooled: counts and cycles summed over the scenarios where the class \
         has that kind.",
    );
    m.open("table", &[]);
    m.open("tr", &[]);
    for h in [
        "class",
        "seen in",
        "count",
        "per cycle",
        "1 in",
        "95% interval",
    ] {
        m.elem("th", &[], h);
    }
    m.close();
    let mut last = None;
    for p in pooled(r) {
        if p.kind == Kind::ExpectedRace && p.count == 0 {
            continue;
        }
        if last != Some(p.kind) {
            group_row(m, 6, p.kind);
            last = Some(p.kind);
        }
        m.open(
            "tr",
            if p.kind == Kind::Anomaly && p.count > 0 {
                &[("class", "hit")]
            } else {
                &[]
            },
        );
        m.open("td", &[]);
        m.elem("code", &[], p.name.name());
        m.close();
        m.elem(
            "td",
            &[],
            &format!("{} of {} scenarios", p.seen_in, p.scenarios),
        );
        rate_cells(m, &p.rate());
        m.close();
    }
    m.close();
}

/// Rows: scenarios that saw an anomaly or an expected race; columns: the
/// classes seen anywhere, anomalies first, each kind apart.
fn seen_matrix(m: &mut Markup, r: &Report) {
    let mut columns: Vec<(Kind, Class)> = r
        .scenarios
        .iter()
        .flat_map(|s| s.classes.iter())
        .filter(|(n, c)| class_kind(**n, c) != Kind::Normal && c.count > 0)
        .map(|(n, c)| (class_kind(*n, c), *n))
        .collect();
    columns.sort();
    columns.dedup();
    let rows: Vec<&ScenarioReport> = r
        .scenarios
        .iter()
        .filter(|s| {
            s.classes
                .iter()
                .any(|(n, c)| class_kind(*n, c) != Kind::Normal && c.count > 0)
        })
        .collect();
    m.elem("h3", &[], "Where anomalies and expected races were seen");
    if rows.is_empty() {
        m.elem(
            "p",
            &[],
            "Nowhere: no scenario saw an anomaly or an expected race.",
        );
        return;
    }
    m.elem(
        "p",
        &[("class", "note")],
        "Per scenario: 1 in how many cycles, the count and the 95% interval of the rate. \
         0: none seen, bounded like every anomaly class not seen there (second column); \
         blank: the class has the other kind in that scenario.",
    );
    m.open("div", &[("class", "scroll")]);
    m.open("table", &[("class", "tight matrix")]);
    m.open("tr", &[]);
    m.elem("th", &[], "scenario");
    m.elem("th", &[], "each anomaly class not seen");
    for (kind, name) in &columns {
        m.open("th", &[]);
        m.elem("code", &[], name.name());
        m.text(" ");
        kind_pill(m, *kind);
        m.close();
    }
    m.close();
    for s in rows {
        matrix_row(m, s, &columns);
    }
    m.close();
    m.close();
}

/// One scenario's row of the matrix.
fn matrix_row(m: &mut Markup, s: &ScenarioReport, columns: &[(Kind, Class)]) {
    m.open("tr", &[]);
    m.open("td", &[]);
    m.elem("code", &[], &s.name);
    m.close();
    // Every unseen anomaly class of a scenario has about the same bound,
    // 1 - 0.025^(1/n) (recomputed: older reports stored a one-sided one).
    let unseen = s
        .classes
        .iter()
        .filter(|(n, c)| class_kind(**n, c) == Kind::Anomaly && c.count == 0)
        .map(|_| crate::stats::rate_interval(0, s.cycles).high)
        .fold(None, |acc: Option<f64>, h| {
            Some(acc.map_or(h, |a| a.max(h)))
        });
    m.elem(
        "td",
        &[("class", "muted")],
        &unseen.map_or("—".into(), |h| {
            RateText::stored(0, s.cycles, 0.0, 0.0, h).rate()
        }),
    );
    for (kind, name) in columns {
        match s.classes.get(name) {
            Some(c) if class_kind(*name, c) == *kind && c.count > 0 => {
                let rate = class_rate(s, c);
                let hot = *kind == Kind::Anomaly;
                m.open("td", &[("class", if hot { "cell hit" } else { "cell" })]);
                m.elem(
                    "span",
                    &[("class", if hot { "bad" } else { "" })],
                    &rate.one_in_short(),
                );
                m.void("br", &[]);
                m.elem(
                    "span",
                    &[("class", "note")],
                    &format!("{} seen · {}", format_count(c.count), rate.interval()),
                );
                m.close();
            }
            Some(c) if class_kind(*name, c) == *kind => {
                m.elem("td", &[("class", "muted")], "0");
            }
            _ => {
                m.elem("td", &[], "");
            }
        }
    }
    m.close();
}

fn nlink_note(m: &mut Markup, r: &Report) {
    let (zero, nonzero) = r.scenarios.iter().fold((0, 0), |(z, n), s| {
        (z + s.empty_read_nlink.zero, n + s.empty_read_nlink.nonzero)
    });
    if zero + nonzero > 0 {
        m.elem(
            "p",
            &[("class", "note")],
            &format!(
                "empty_read by link count: st_nlink == 0 (unlinked after open): {}; \
                 st_nlink ≥ 1: {}.",
                format_count(zero),
                format_count(nonzero)
            ),
        );
    }
}
