//! The one integration test binary; one module per area.

// The classifier: every outcome class from hand-built observations.
mod classify;

// The HTML report and the index page, rendered from stored JSON reports.
mod report_html;
