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

pub mod format;
pub mod markup;
pub mod svg;

mod report;

pub use report::render_report;

use crate::outcome::Class;
use crate::report::schema::ClassStats;

/// How a page treats an outcome class in one scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Kind {
    /// Not allowed by POSIX: counted in the anomaly rate.
    Anomaly,
    /// A race the scenario makes normal (DESIGN §4); shown apart.
    ExpectedRace,
    /// `ok`, `enoent_on_open`, `recreated`, `removed`, `remove_enoent`.
    Normal,
}

pub(crate) fn class_kind(name: &str, stats: &ClassStats) -> Kind {
    match Class::from_name(name) {
        Some(c) if c.is_normal() => Kind::Normal,
        _ if stats.expected => Kind::ExpectedRace,
        _ => Kind::Anomaly,
    }
}

/// Report order of a class name: known classes first, in [`Class::ALL`] order.
pub(crate) fn class_order(name: &str) -> (usize, &str) {
    (
        Class::from_name(name).map_or(usize::MAX, Class::index),
        name,
    )
}
