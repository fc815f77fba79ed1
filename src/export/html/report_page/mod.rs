//! The page of one report: the answer first, then the evidence.
//!
//! Section order: header, interrupted banner, time to the first anomaly
//! (bench reports with a `latency` section only), verdict, machine, rate and
//! time charts (grids only), scenarios table, race pressure, outcome classes
//! (per cycle and per raced open), examples, survival
//! curves, timelines, stalls, commands. Anomalies and expected races are kept
//! apart everywhere; every rate is written through [`RateText`] with its 95%
//! interval. A section with nothing to show says so in one line rather than
//! vanishing.
//!
//! One file per section; what a section computes before it writes markup
//! (pooled totals in [`crate::export::pooled`], chart layout in [`chart_layout`], the timeline's
//! call spans in [`timeline`]) is a pure function with its own tests.

mod chart_layout;
mod charts;
mod classes;
mod errnos;
mod examples;
mod latency;
mod pressure;
mod scenarios;
mod stalls;
mod survival_chart;
mod timeline;
mod verdict;

#[cfg(test)]
mod tests;

use super::Kind;
use super::format::{RateText, format_count, format_unix_time};
use super::markup::{Markup, is_relative_link, page};
use crate::report::schema::{ClassStats, Machine, Report, ScenarioReport, Source};

/// Width of the content column, in CSS pixels.
const CONTENT_WIDTH: f64 = 1184.0;

/// Renders one report as a self-contained HTML page.
pub fn render_report(report: &Report) -> String {
    let mut m = Markup::new();
    header(&mut m, report);
    if report.interrupted {
        m.elem(
            "p",
            &[("class", "banner")],
            "Interrupted: the run was stopped by a signal before it finished. \
             Every count below covers only the cycles that ran.",
        );
    }
    if let Some(cause) = &report.environment_error {
        m.elem(
            "p",
            &[("class", "banner")],
            &format!(
                "Stopped by an environment error, not the race: {cause}. \
                 Every count below covers only the cycles before it."
            ),
        );
    }
    let dropped = report.scenarios.iter().fold((0, 0, 0), |(e, t, s), sc| {
        (
            e + sc.dropped.examples,
            t + sc.dropped.timeline_events,
            s + sc.dropped.stalls,
        )
    });
    let left_out: Vec<String> = [
        (dropped.0, "example"),
        (dropped.1, "timeline event"),
        (dropped.2, "stall record"),
    ]
    .into_iter()
    .filter(|&(n, _)| n > 0)
    .map(|(n, what)| {
        format!(
            "{} {what}{}",
            format_count(n),
            if n == 1 { "" } else { "s" }
        )
    })
    .collect();
    if !left_out.is_empty() {
        m.elem(
            "p",
            &[("class", "note")],
            &format!(
                "Capped: to bound its size the report leaves out {} (those farthest from \
                 each first anomaly, and the latest); every count and rate covers everything.",
                join_and(&left_out)
            ),
        );
    }
    latency::latency(&mut m, report);
    verdict::verdict(&mut m, report);
    machine(&mut m, &report.machine);
    charts::charts(&mut m, report);
    scenarios::scenarios_table(&mut m, report);
    pressure::pressure(&mut m, report);
    classes::classes(&mut m, report);
    errnos::errno_breakdown(&mut m, report);
    examples::examples(&mut m, report);
    survival_chart::survival(&mut m, report);
    timeline::timelines(&mut m, report);
    stalls::stalls(&mut m, report);
    commands(&mut m, report);
    m.elem(
        "p",
        &[("class", "note")],
        &format!(
            "unlink-race {} · report schema version {} · source: {}",
            report.machine.crate_version, report.schema_version, report.source
        ),
    );
    page(&format!("unlink-race report: {}", report.label), m)
}

fn header(m: &mut Markup, r: &Report) {
    m.elem("h1", &[], &format!("unlink-race: {}", r.label));
    let how = match r.source {
        Source::Bench => "cargo bench".to_string(),
        Source::Run => "unlink-race run".to_string(),
    };
    let mc = &r.machine;
    m.elem(
        "p",
        &[("class", "sub")],
        &format!(
            "{} · {} on {}{} · {} × {} · host {} · {} · {}",
            mc.os_name,
            mc.fs_type,
            mc.mount_point,
            match &mc.other_side {
                Some(o) => format!(", deleters through {} on {}", o.fs_type, o.mount_point),
                None => String::new(),
            },
            mc.cpu_model,
            mc.cpus,
            mc.hostname,
            format_unix_time(r.created_unix_s),
            how
        ),
    );
}

/// Anomalies of a scenario per cycle, with the interval.
pub(super) fn scenario_rate(s: &ScenarioReport) -> RateText {
    RateText::from_count(s.anomalies, s.cycles)
}

/// A class of a scenario as stored in the report.
pub(super) fn class_rate(s: &ScenarioReport, c: &ClassStats) -> RateText {
    RateText::stored(c.count, s.cycles, c.rate, c.ci_low, c.ci_high)
}

pub(super) fn times(n: u64) -> &'static str {
    if n == 1 { "time" } else { "times" }
}

fn machine(m: &mut Markup, mc: &Machine) {
    m.elem("h2", &[], "Machine");
    let mut rows: Vec<(&str, String)> = vec![
        ("OS", mc.os_name.clone()),
        ("OS version", format!("{} {}", mc.os, mc.os_version)),
        ("kernel", mc.kernel.clone()),
        ("architecture", mc.arch.clone()),
        ("CPU", mc.cpu_model.clone()),
        ("CPUs", mc.cpus.to_string()),
        ("filesystem", mc.fs_type.clone()),
        ("mount point", mc.mount_point.clone()),
        ("target directory", mc.target_dir.clone()),
        ("hostname", mc.hostname.clone()),
        ("crate version", mc.crate_version.clone()),
    ];
    if let Some(o) = &mc.other_side {
        rows.extend([
            ("other side (deleters)", o.target_dir.clone()),
            ("its filesystem", o.fs_type.clone()),
            ("its mount point", o.mount_point.clone()),
        ]);
    }
    while rows.len() % 3 != 0 {
        rows.push(("", String::new()));
    }
    m.open("table", &[("class", "machine")]);
    for pair in rows.chunks(3) {
        m.open("tr", &[]);
        for (k, v) in pair {
            m.elem("th", &[], k);
            m.elem("td", &[], v);
        }
        m.close();
    }
    m.close();
}

pub(super) fn link_or_text(m: &mut Markup, href: Option<&str>, text: &str) {
    match href {
        Some(h) if is_relative_link(h) => {
            m.elem("a", &[("href", h)], text);
        }
        _ => {
            m.text(text);
        }
    }
}
pub(super) fn kind_pill(m: &mut Markup, kind: Kind) {
    let (class, text) = match kind {
        Kind::Anomaly => ("pill anomaly", "anomaly"),
        Kind::ExpectedRace => ("pill race", "expected race"),
        Kind::Normal => ("pill normal", "normal"),
    };
    m.elem("span", &[("class", class)], text);
}
fn commands(m: &mut Markup, r: &Report) {
    m.elem("h2", &[], "Rerun");
    if let [s] = r.scenarios.as_slice() {
        m.open("pre", &[]);
        m.elem("code", &[], &s.command);
        m.close();
        return;
    }
    m.open("details", &[]);
    m.elem(
        "summary",
        &[],
        &format!(
            "The command that reruns each of the {} scenarios",
            r.scenarios.len()
        ),
    );
    m.open("table", &[]);
    for s in &r.scenarios {
        m.open("tr", &[]);
        m.open("td", &[]);
        m.elem("code", &[], &s.name);
        m.close();
        m.open("td", &[("class", "cmd")]);
        m.elem("code", &[], &s.command);
        m.close();
        m.close();
    }
    m.close();
    m.close();
}

/// `a`, `a and b`, `a, b and c`.
fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}
