//! The one integration test binary; one module per area.

// The classifier: every outcome class from hand-built observations.
mod classify;

// zombiefs: the emulated macOS defect on a real FUSE mount (needs root and /dev/fuse).
#[cfg(feature = "zombiefs")]
mod zombiefs;
