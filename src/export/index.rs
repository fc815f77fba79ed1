//! The side-by-side view of many reports: `reports/index.html` (written by
//! `cargo bench`) and `unlink-race index`. One column per report, one row per
//! scenario (matched by its `config`), each cell the scenario's anomaly rate
//! with its 95% interval, and a verdict column from the comparison of every
//! report with the first one ([`crate::compare::compare`], Holm-adjusted exact
//! tests). HTML through [`html::render_index_with`]; the same matrix as
//! GitHub-flavoured Markdown for a job summary or an issue.

use std::path::PathBuf;

use crate::compare::{Comparison, Rules, compare};
use crate::export::format::format_count;
use crate::export::html::format::{RateText, format_unix_time};
use crate::export::html::{
    self, IndexColumn, VerdictColumn, index_rows, overlapped_total, raced_total, short_verdict,
};
use crate::export::markdown as md;
use crate::report::schema::{Report, ScenarioReport};

/// The comparison behind the verdict column: every report against the first.
/// `None` with fewer than two reports (nothing to compare).
fn index_comparison(reports: &[(String, Report)]) -> Option<Comparison> {
    (reports.len() >= 2).then(|| {
        let loaded = reports
            .iter()
            .map(|(name, r)| (PathBuf::from(name), r.clone()))
            .collect();
        compare(loaded, 0, Rules::default())
    })
}

/// The index page of `(file name, report)` pairs. A file name relative to
/// the page links the report's column to the HTML report beside the JSON.
pub fn render_index_html(reports: &[(String, Report)]) -> String {
    match index_comparison(reports) {
        Some(comparison) => html::render_index_with(
            reports,
            &[&VerdictColumn {
                comparison: &comparison,
            }],
        ),
        None => html::render_index(reports),
    }
}

/// The machines of the reports (OS, version, kernel, filesystem, CPU, host,
/// time written), then the scenario matrix with the verdict column, as
/// GitHub pipe tables. Ends with a newline.
pub fn render_index_markdown(reports: &[(String, Report)]) -> String {
    let comparison = index_comparison(reports);
    let verdict = comparison.as_ref().map(|c| VerdictColumn { comparison: c });
    let extra: Vec<&dyn IndexColumn> = verdict.iter().map(|v| v as &dyn IndexColumn).collect();
    let rows = index_rows(reports);

    let intro = format!(
        "{} report{} · {} scenario{}{}. Each cell: how often an \
         anomaly was seen (rate per cycle, 95% interval, counts, raced opens where counted); “<” is the 95% upper \
         bound where none was seen; — where a report did not run the scenario.",
        reports.len(),
        if reports.len() == 1 { "" } else { "s" },
        rows.len(),
        if rows.len() == 1 { "" } else { "s" },
        match reports.first() {
            Some((_, first)) if reports.len() >= 2 => {
                format!(" · verdicts against {}", first.label)
            }
            _ => String::new(),
        }
    );
    let mut out = format!(
        "{}: {}\n\n",
        md::strong("unlink-race index"),
        md::text(&intro)
    );

    let mut header = vec![String::new()];
    header.extend(reports.iter().map(|(_, r)| md::text(&column_title(r))));
    let mut machine = Vec::new();
    machine.push(
        std::iter::once(md::text("verdict"))
            .chain(reports.iter().map(|(_, r)| {
                let (bad, text) = short_verdict(r);
                if bad {
                    md::strong(&text)
                } else {
                    md::text(&text)
                }
            }))
            .collect(),
    );
    type Field = (&'static str, fn(&Report) -> String);
    let fields: [Field; 9] = [
        ("raced opens", raced_total),
        ("overlapped opens", overlapped_total),
        ("OS", |r| r.machine.os_name.clone()),
        ("OS version", |r| {
            format!("{} {}", r.machine.os, r.machine.os_version)
        }),
        ("kernel", |r| r.machine.kernel.clone()),
        ("filesystem", |r| match &r.machine.other_side {
            Some(o) => format!("{}, deleters on {}", r.machine.fs_type, o.fs_type),
            None => r.machine.fs_type.clone(),
        }),
        ("CPU", |r| {
            format!("{} × {}", r.machine.cpu_model, r.machine.cpus)
        }),
        ("host", |r| r.machine.hostname.clone()),
        ("written", |r| format_unix_time(r.created_unix_s)),
    ];
    for (name, field) in fields {
        machine.push(
            std::iter::once(md::text(name))
                .chain(reports.iter().map(|(_, r)| md::text(&field(r))))
                .collect(),
        );
    }
    md::table(&mut out, &header, &[], &machine);
    out.push('\n');

    let mut header = vec![md::text("scenario")];
    header.extend(reports.iter().map(|(_, r)| md::text(&column_title(r))));
    header.extend(extra.iter().map(|c| md::text(&c.header())));
    let mut numeric = vec![false];
    numeric.extend(reports.iter().map(|_| true));
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            let mut cells = vec![md::code(row.name)];
            cells.extend(row.cells.iter().map(|c| rate_cell(*c)));
            cells.extend(extra.iter().map(|c| md::text(&c.cell(row).text)));
            cells
        })
        .collect();
    md::table(&mut out, &header, &numeric, &body);
    out
}

fn column_title(r: &Report) -> String {
    if r.interrupted {
        format!("{} (interrupted)", r.label)
    } else {
        r.label.clone()
    }
}

/// `**1 in 2.1 K** (4.8e-4, 95%: 4.1e-4 – 5.6e-4; 57 / 118 K)` or
/// `< 1 in 330 K (< 3.0e-6 at 95%; 0 / 1.0 M)`; `—` where the report lacks
/// the scenario. Markdown, escaped.
fn rate_cell(s: Option<&ScenarioReport>) -> String {
    let Some(s) = s else {
        return "—".into();
    };
    let rate = RateText::from_count(s.anomalies, s.cycles);
    let counts = format!(
        "{} / {}{}",
        format_count(s.anomalies),
        format_count(s.cycles),
        match crate::export::create::index_detail(s) {
            Some(detail) => format!(" {detail}"),
            None => {
                s.raced_opens.map_or(String::new(), |n| {
                    format!(" cycles, {}", crate::export::format::raced_opens_phrase(n))
                }) + &s.overlapped_opens.map_or(String::new(), |n| {
                    format!(", {}", crate::export::format::overlapped_opens_phrase(n))
                })
            }
        }
    );
    if rate.is_bound() {
        md::text(&format!(
            "{} ({} at 95%; {counts})",
            rate.one_in_short(),
            rate.rate()
        ))
    } else {
        format!(
            "{} {}",
            md::strong(&rate.one_in_short()),
            md::text(&format!(
                "({}, 95%: {}; {counts})",
                rate.rate(),
                rate.interval()
            ))
        )
    }
}
