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
