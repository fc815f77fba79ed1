//! HTML pages: the report of one run ([`render_report`]) and the comparison
//! page of several ([`render_index`], `reports/index.html`).
//!
//! Pages are self-contained: inline CSS and SVG, no scripts, no external
//! resources; the only links are relative ones (to Criterion's pages and
//! between reports). They are XHTML-compatible, so they parse as XML too.
//!
//! ```
//! use unlink_race::export::html::markup::escape;
//! assert_eq!(escape("<script>"), "&lt;script&gt;");
//! ```

pub mod markup;
/// The shared number formatting, under its old path.
pub use crate::export::format;
pub mod svg;

mod compare_page;
mod index_page;
mod report_page;

pub use compare_page::{VerdictColumn, render_comparison};
pub use index_page::{Cell, IndexColumn, IndexRow, index_rows, render_index, render_index_with};
pub use report_page::render_report;

pub(crate) use super::pooled::{Kind, class_kind};
use crate::outcome::Class;
use crate::report::schema::Report;

/// The verdict of a report in a few words: `"no anomaly in 12 M cycles"` or
/// `"zombie_fd ×57 · write_einval ×12"`, and whether an anomaly was seen.
pub(crate) fn short_verdict(r: &Report) -> (bool, String) {
    let mut counts: Vec<(Class, u64)> = Vec::new();
    for s in &r.scenarios {
        for (&class, c) in &s.classes {
            if class_kind(class, c) == Kind::Anomaly && c.count > 0 {
                match counts.iter_mut().find(|(k, _)| *k == class) {
                    Some((_, n)) => *n += c.count,
                    None => counts.push((class, c.count)),
                }
            }
        }
    }
    if counts.is_empty() {
        let cycles: u64 = r.scenarios.iter().map(|s| s.cycles).sum();
        return (
            false,
            format!("no anomaly in {} cycles", format::format_count_si(cycles)),
        );
    }
    counts.sort();
    let parts: Vec<String> = counts
        .iter()
        .map(|(class, n)| format!("{class} ×{}", format::format_count(*n)))
        .collect();
    (true, parts.join(" · "))
}

/// A report's overlapped opens over all its open/unlink scenarios: `600 K
/// (50% of raced opens)`, or why they were not counted.
pub(crate) fn overlapped_total(r: &Report) -> String {
    let opens: Vec<&crate::report::schema::ScenarioReport> = r
        .scenarios
        .iter()
        .filter(|s| !crate::export::create::is_create(s))
        .collect();
    if opens.is_empty() && !r.scenarios.is_empty() {
        return "— (create race only)".into();
    }
    let counted: Vec<(u64, u64)> = opens
        .iter()
        .filter_map(|s| s.overlapped_opens.map(|n| (n, s.raced_opens.unwrap_or(0))))
        .collect();
    if counted.is_empty() {
        return match opens.first() {
            Some(s) => crate::export::summary::overlapped_not_counted(s).into(),
            None => crate::export::summary::RACED_NOT_COUNTED.into(),
        };
    }
    let overlapped: u64 = counted.iter().map(|(n, _)| n).sum();
    let raced: u64 = counted.iter().map(|(_, c)| c).sum();
    let mut notes = Vec::new();
    if raced > 0 {
        let share = 100.0 * overlapped as f64 / raced as f64;
        notes.push(format!("{share:.0}% of raced opens"));
    }
    if counted.len() < opens.len() {
        notes.push(format!(
            "in {} of {} scenarios, the others not counted",
            counted.len(),
            opens.len()
        ));
    }
    let total = format::format_count_si(overlapped);
    if notes.is_empty() {
        total
    } else {
        format!("{total} ({})", notes.join("; "))
    }
}

/// A report's raced opens over all its open/unlink scenarios: `1.2 M (2.8%
/// of cycles)`, or `not counted (older report)`.
pub(crate) fn raced_total(r: &Report) -> String {
    let opens = r
        .scenarios
        .iter()
        .filter(|s| !crate::export::create::is_create(s))
        .count();
    if opens == 0 && !r.scenarios.is_empty() {
        return "— (create race only)".into();
    }
    let counted: Vec<(u64, u64)> = r
        .scenarios
        .iter()
        .filter(|s| !crate::export::create::is_create(s))
        .filter_map(|s| s.raced_opens.map(|n| (n, s.cycles)))
        .collect();
    if counted.is_empty() {
        return crate::export::summary::RACED_NOT_COUNTED.into();
    }
    let raced: u64 = counted.iter().map(|(n, _)| n).sum();
    let cycles: u64 = counted.iter().map(|(_, c)| c).sum();
    let share = crate::export::summary::raced_share_percent(raced, cycles);
    let partial = if counted.len() < opens {
        format!(
            "; in {} of {} scenarios, the others not counted",
            counted.len(),
            opens
        )
    } else {
        String::new()
    };
    format!(
        "{} ({share:.2}% of cycles{partial})",
        format::format_count_si(raced)
    )
}
