//! `reports/index.html`: every report side by side.
//!
//! One column per report (one machine, usually), one row per scenario,
//! scenarios matched by their `config`. Each cell is that scenario's anomaly
//! rate with its 95% interval. The table is built from [`IndexRow`]s, and
//! [`IndexColumn`] adds columns computed from a whole row (a comparison
//! verdict, for example) without touching the rendering.

use std::path::Path;

use super::format::{RateText, format_count, format_unix_time};
use super::markup::{Markup, is_relative_link, page};
use super::{overlapped_total, raced_total, short_verdict};
use crate::report::schema::{Report, ScenarioConfig, ScenarioReport};

/// One scenario across every report.
#[derive(Debug, Clone)]
pub struct IndexRow<'a> {
    pub config: &'a ScenarioConfig,
    /// The scenario's name in the first report that has it.
    pub name: &'a str,
    /// One entry per report, in the order given: the scenario, when that report has it.
    pub cells: Vec<Option<&'a ScenarioReport>>,
}

/// The text of one table cell and its CSS class (`""` for none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub text: String,
    pub class: &'static str,
}

/// An extra column of the index table, computed from a whole row.
pub trait IndexColumn {
    fn header(&self) -> String;
    fn cell(&self, row: &IndexRow<'_>) -> Cell;
}

/// The rows of the index, sorted by file size, strategies, worker kind and
/// thread counts.
pub fn index_rows(reports: &[(String, Report)]) -> Vec<IndexRow<'_>> {
    let mut rows: Vec<IndexRow<'_>> = Vec::new();
    for (i, (_, report)) in reports.iter().enumerate() {
        for s in &report.scenarios {
            let row = match rows.iter_mut().position(|r| *r.config == s.config) {
                Some(p) => &mut rows[p],
                None => {
                    rows.push(IndexRow {
                        config: &s.config,
                        name: &s.name,
                        cells: vec![None; reports.len()],
                    });
                    rows.last_mut().expect("just pushed")
                }
            };
            // A report with the same scenario twice keeps its first.
            row.cells[i].get_or_insert(s);
        }
    }
    rows.sort_by_cached_key(|r| config_order(r.config));
    rows
}

/// The create race first (by flags, then creators), then size, then
/// strategies in their declaration order, then thread counts.
fn config_order(c: &ScenarioConfig) -> impl Ord + use<> {
    (
        c.race.is_open_unlink(),
        c.create_flags,
        c.creators,
        c.file_size_bytes,
        c.recreate,
        c.delete,
        c.workers,
        c.readers,
        c.deleters,
    )
}

/// The HTML file next to a JSON report: same path, `.html`.
fn html_name(file_name: &str) -> String {
    Path::new(file_name)
        .with_extension("html")
        .to_string_lossy()
        .into_owned()
}

/// Renders `reports/index.html` from `(file name, report)` pairs.
pub fn render_index(reports: &[(String, Report)]) -> String {
    render_index_with(reports, &[])
}

/// [`render_index`] with extra columns after the per-report ones.
pub fn render_index_with(reports: &[(String, Report)], extra: &[&dyn IndexColumn]) -> String {
    let rows = index_rows(reports);
    let mut m = Markup::new();
    m.elem("h1", &[], "unlink-race reports");
    m.elem(
        "p",
        &[("class", "sub")],
        &format!(
            "{} report{} · {} scenario{}. Each cell: how often an anomaly was seen, its rate per \
             cycle with the 95% interval, and the counts (with the raced opens, where the \
             report counted them); “<” is the 95% upper bound where none was seen; — where a \
             report did not run the scenario.",
            reports.len(),
            if reports.len() == 1 { "" } else { "s" },
            rows.len(),
            if rows.len() == 1 { "" } else { "s" },
        ),
    );
    m.open("table", &[("class", "index tight")]);
    header_rows(&mut m, reports, extra);
    for row in &rows {
        m.open("tr", &[]);
        m.open("td", &[]);
        m.elem("code", &[], row.name);
        m.close();
        for cell in &row.cells {
            rate_cell(&mut m, *cell);
        }
        for column in extra {
            let c = column.cell(row);
            m.elem("td", &[("class", c.class)], &c.text);
        }
        m.close();
    }
    m.close();
    page("unlink-race reports", m)
}

fn header_rows(m: &mut Markup, reports: &[(String, Report)], extra: &[&dyn IndexColumn]) {
    type Field = (&'static str, fn(&Report) -> String);
    // Filesystem first: a survey of one machine differs only there.
    let fields: [Field; 7] = [
        ("filesystem", |r| {
            format!("{} ({})", r.machine.fs_type, r.machine.mount_point)
        }),
        ("OS", |r| r.machine.os_name.clone()),
        ("OS version", |r| {
            format!("{} {}", r.machine.os, r.machine.os_version)
        }),
        ("kernel", |r| r.machine.kernel.clone()),
        ("CPU", |r| {
            format!("{} × {}", r.machine.cpu_model, r.machine.cpus)
        }),
        ("host", |r| r.machine.hostname.clone()),
        ("written", |r| format_unix_time(r.created_unix_s)),
    ];
    let span = extra.len();
    m.open("tr", &[]);
    m.elem("th", &[], "report");
    for (file, r) in reports {
        m.open("th", &[]);
        let href = html_name(file);
        if is_relative_link(&href) {
            m.elem("a", &[("href", &href)], &r.label);
        } else {
            m.text(&r.label);
        }
        if r.interrupted {
            m.text(" ");
            m.elem("span", &[("class", "pill race")], "interrupted");
        }
        m.close();
    }
    for column in extra {
        m.elem("th", &[], &column.header());
    }
    m.close();
    m.open("tr", &[]);
    m.elem("th", &[], "verdict");
    for (_, r) in reports {
        let (bad, text) = short_verdict(r);
        m.elem("th", &[("class", if bad { "bad" } else { "good" })], &text);
    }
    empty_cells(m, span);
    m.close();
    m.open("tr", &[("class", "machine")]);
    m.elem("th", &[], "raced opens");
    for (_, r) in reports {
        m.elem("td", &[], &raced_total(r));
    }
    empty_cells(m, span);
    m.close();
    m.open("tr", &[("class", "machine")]);
    m.elem("th", &[], "overlapped opens");
    for (_, r) in reports {
        m.elem("td", &[], &overlapped_total(r));
    }
    empty_cells(m, span);
    m.close();
    for (label, field) in fields {
        m.open("tr", &[("class", "machine")]);
        m.elem("th", &[], label);
        for (_, r) in reports {
            m.elem("td", &[], &field(r));
        }
        empty_cells(m, span);
        m.close();
    }
}

fn empty_cells(m: &mut Markup, n: usize) {
    for _ in 0..n {
        m.elem("td", &[], "");
    }
}

fn rate_cell(m: &mut Markup, s: Option<&ScenarioReport>) {
    let Some(s) = s else {
        m.elem("td", &[("class", "muted")], "—");
        return;
    };
    let rate = RateText::from_count(s.anomalies, s.cycles);
    let seen = !rate.is_bound();
    m.open(
        "td",
        if seen {
            &[("class", "cell hit")]
        } else {
            &[("class", "cell")]
        },
    );
    m.elem(
        "span",
        &[("class", if seen { "bad" } else { "bound" })],
        &rate.one_in_short(),
    );
    m.void("br", &[]);
    if seen {
        // Which anomalies: on a survey of filesystems they differ by column.
        let classes: Vec<&str> = crate::export::summary::seen_anomalies(s)
            .iter()
            .map(|(class, _)| class.name())
            .collect();
        m.elem("code", &[], &classes.join(", "));
        m.void("br", &[]);
    }
    let detail = if seen {
        format!("{} (95%: {})", rate.rate(), rate.interval())
    } else {
        format!("{} at 95%", rate.rate())
    };
    m.elem(
        "span",
        &[("class", "note")],
        &format!(
            "{detail} · {} / {} {}",
            format_count(s.anomalies),
            format_count(s.cycles),
            crate::export::create::index_detail(s).unwrap_or_else(|| format!(
                "cycles{}{}",
                s.raced_opens.map_or(String::new(), |n| format!(
                    " · {}",
                    super::format::raced_opens_phrase(n)
                )),
                s.overlapped_opens.map_or(String::new(), |n| format!(
                    " · {}",
                    super::format::overlapped_opens_phrase(n)
                ))
            ))
        ),
    );
    m.close();
}
