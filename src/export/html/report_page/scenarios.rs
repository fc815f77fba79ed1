//! The scenarios table: one row per scenario with its raced and overlapped
//! opens (a create race: its racing creates) next to its cycles, its rate and
//! interval.

use super::super::format::{RateText, format_count, format_duration_ns, format_rate, format_si};
use super::super::markup::Markup;
use super::super::{Kind, class_kind};
use super::{class_rate, link_or_text, scenario_rate};
use crate::export::summary::{
    RACED_NOT_COUNTED, overlapped_not_counted, pressure_warning, raced_share_percent,
};
use crate::report::schema::{Class, ClassStats, Report, ScenarioReport};

pub(super) fn scenarios_table(m: &mut Markup, r: &Report) {
    m.elem("h2", &[], "Scenarios");
    let any_criterion = r.scenarios.iter().any(|s| s.criterion_page.is_some());
    m.open("table", &[("class", "tight")]);
    m.open("tr", &[]);
    m.elem("th", &[], "scenario");
    for h in [
        "cycles",
        "raced opens",
        "overlapped opens",
        "time per cycle",
        "anomalies",
        "per cycle",
    ] {
        m.elem("th", &[("class", "num")], h);
    }
    for h in ["1 in", "95% interval", "expected races (not anomalies)"] {
        m.elem("th", &[], h);
    }
    m.close();
    for s in &r.scenarios {
        let rate = scenario_rate(s);
        let hit = s.anomalies > 0;
        m.open("tr", if hit { &[("class", "hit")] } else { &[] });
        m.open("td", &[]);
        m.elem("code", &[], &s.name);
        m.close();
        m.elem("td", &[("class", "num")], &format_count(s.cycles));
        raced_cell(m, s);
        overlapped_cell(m, s);
        m.open("td", &[("class", "num")]);
        link_or_text(
            m,
            s.criterion_page.as_deref(),
            &format_duration_ns(s.ns_per_cycle),
        );
        m.close();
        m.elem(
            "td",
            &[("class", if hit { "num bad" } else { "num" })],
            &format_count(s.anomalies),
        );
        m.elem(
            "td",
            &[("class", if hit { "num bad" } else { "num bound" })],
            &rate.rate(),
        );
        m.elem(
            "td",
            &[("class", if hit { "bad" } else { "bound" })],
            &rate.one_in_short(),
        );
        m.elem(
            "td",
            &[("class", if hit { "" } else { "muted" })],
            &rate.interval_short(),
        );
        let races: Vec<String> = sorted_classes(s)
            .into_iter()
            .filter(|(n, c)| class_kind(*n, c) == Kind::ExpectedRace && c.count > 0)
            .map(|(n, c)| format!("{n} {}", class_rate(s, c).one_in_short()))
            .collect();
        m.elem(
            "td",
            &[("class", "muted wrap")],
            &if races.is_empty() {
                "—".to_string()
            } else {
                races.join(" · ")
            },
        );
        m.close();
    }
    m.close();
    if any_criterion {
        m.elem(
            "p",
            &[("class", "note")],
            "Each time per cycle links to the benchmark's Criterion page (under target/criterion).",
        );
    }
}

/// Raced opens, their share of the cycles and their rate per second, or
/// [`RACED_NOT_COUNTED`] in a report from before the count.
fn raced_cell(m: &mut Markup, s: &ScenarioReport) {
    if crate::export::create::is_create(s) {
        let racing = s.racing_creates.unwrap_or(0);
        m.open("td", &[("class", "num cell")]);
        m.elem(
            "span",
            &[("class", if racing == 0 { "warn" } else { "" })],
            &format!("{} racing creates", format_count(racing)),
        );
        m.void("br", &[]);
        m.elem(
            "span",
            &[("class", "note")],
            &format!(
                "{:.2}% · {}/s",
                raced_share_percent(racing, s.cycles),
                format_si(s.racing_creates_per_second.unwrap_or(0.0))
            ),
        );
        m.close();
        return;
    }
    let Some(raced) = s.raced_opens else {
        m.elem("td", &[("class", "num muted")], RACED_NOT_COUNTED);
        return;
    };
    let share = raced_share_percent(raced, s.cycles);
    let warn = pressure_warning(s).is_some();
    m.open("td", &[("class", "num cell")]);
    m.elem(
        "span",
        &[("class", if warn { "warn" } else { "" })],
        &format_count(raced),
    );
    m.void("br", &[]);
    m.elem(
        "span",
        &[("class", "note")],
        &format!(
            "{share:.2}% · {}/s",
            format_si(s.raced_opens_per_second.unwrap_or(0.0))
        ),
    );
    m.close();
}

/// Overlapped opens, their share of the raced opens and their rate per
/// second, or why they were not counted.
fn overlapped_cell(m: &mut Markup, s: &ScenarioReport) {
    let Some(overlapped) = s.overlapped_opens else {
        m.elem("td", &[("class", "num muted")], overlapped_not_counted(s));
        return;
    };
    let share = match s.raced_opens {
        Some(raced) if raced > 0 => format!(
            "{:.0}% of raced · ",
            100.0 * overlapped as f64 / raced as f64
        ),
        _ => String::new(),
    };
    m.open("td", &[("class", "num cell")]);
    m.elem("span", &[], &format_count(overlapped));
    m.void("br", &[]);
    m.elem(
        "span",
        &[("class", "note")],
        &format!(
            "{share}{}/s",
            format_si(s.overlapped_opens_per_second.unwrap_or(0.0))
        ),
    );
    m.close();
}

pub(super) fn sorted_classes(s: &ScenarioReport) -> Vec<(Class, &ClassStats)> {
    let mut v: Vec<(Class, &ClassStats)> = s.classes.iter().map(|(&n, c)| (n, c)).collect();
    v.sort_by_key(|&(n, c)| (class_kind(n, c), n));
    v
}

pub(super) fn group_row(m: &mut Markup, columns: usize, kind: Kind) {
    let text = match kind {
        Kind::Anomaly => "Anomalies (POSIX allows none of these)",
        Kind::ExpectedRace => "Expected races under these scenarios (not anomalies)",
        Kind::Normal => "Normal outcomes",
    };
    m.open("tr", &[("class", "group")]);
    m.elem("th", &[("colspan", &columns.to_string())], text);
    m.close();
}

pub(super) fn rate_cells(m: &mut Markup, rate: &RateText) {
    m.elem("td", &[("class", "num")], &format_count(rate.count));
    m.elem(
        "td",
        &[("class", "num")],
        &if rate.is_bound() {
            rate.rate()
        } else {
            format_rate(rate.rate)
        },
    );
    m.elem("td", &[], &rate.one_in_short());
    m.elem(
        "td",
        &[("class", if rate.is_bound() { "muted" } else { "" })],
        &rate.interval_short(),
    );
}
