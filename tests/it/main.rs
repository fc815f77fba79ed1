//! The one integration test binary; one module per area.

// Fixtures: reports built in code, written to temp dirs.
mod fixtures;

// The classifier: every outcome class from hand-built observations.
mod classify;

// Statistics: reference values from R and published examples.
mod stats;

// Comparing reports: matching, verdicts, load errors, terminal and Markdown.
mod compare;
