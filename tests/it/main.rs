//! The one integration test binary; one module per area.

// The classifier: every outcome class from hand-built observations.
mod classify;

// Statistics: reference values from R and published examples.
mod stats;
