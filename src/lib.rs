//! # unlink-race
//!
//! Hunts a filesystem race and measures how often it bites. On macOS (APFS,
//! seen on 10.14 and 10.15), opening a file while another process unlinks it can
//! return a descriptor to a dead vnode: `fstat` gives `st_ino == 0` and `read`
//! gives 0 bytes; a create right after `ENOENT` can hand out a descriptor whose
//! `write` fails with `EINVAL`. POSIX allows only `ENOENT` or the full content.
//!
//! The crate races readers against deleters ([`scenario`]), classifies every
//! outcome ([`outcome`]), measures rates with confidence intervals ([`stats`])
//! and writes versioned reports ([`report`]) that can be compared between
//! machines. The pipeline reads in that order:
//! scenario → harness → outcome → stats → report → export / compare.
//!
//! ```
//! use unlink_race::outcome::{classify, Class, Observation, Op, Side};
//! use unlink_race::sys::Stat;
//!
//! // The signature the original reproducer printed on macOS 10.15.
//! let zombie = Stat { mode: 0o100000, ino: 0, nlink: 1, ..Default::default() };
//! let obs = Observation { stat: Some(zombie), ..Observation::success(Side::Reader, Op::Read) };
//! assert_eq!(classify(&obs), Class::ZombieFd);
//! ```
#![deny(unsafe_code)]
#![warn(clippy::undocumented_unsafe_blocks)]

pub mod compare;
pub mod content;
#[cfg(all(feature = "zombiefs", target_os = "linux"))]
pub mod emulate;
pub mod export;
pub mod grid;
pub mod harness;
pub mod outcome;
pub mod report;
pub mod scenario;
pub mod signals;
pub mod stats;
#[cfg_attr(windows, path = "sys/windows/mod.rs")]
pub mod sys;
#[cfg(all(feature = "zombiefs", target_os = "linux"))]
pub mod zombiefs;
