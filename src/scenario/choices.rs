//! The closed sets a scenario chooses from: how a reader recreates the
//! file, how a deleter removes it and paces itself, how workers run, and
//! which views of the directory they use, each with the one name the
//! command line and reports give it.

use std::fmt;
use std::str::FromStr;

/// How a reader recreates the file after `ENOENT`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Recreate {
    /// `open(O_WRONLY|O_CREAT|O_TRUNC)` + `write` on the target (the seed).
    Inplace,
    /// Write a private temporary name, then `rename` it over the target.
    Atomic,
}

/// How a deleter removes the file.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Delete {
    /// `unlink` (the seed).
    Unlink,
    /// `rename` into a trash directory, then `unlink` there (the seed's variant).
    Trash,
    /// `rename` a fresh file over the target (disk-objectstore's workaround).
    Replace,
    /// Windows only: delete with POSIX semantics (`FileDispositionInfoEx`
    /// with `FILE_DISPOSITION_FLAG_POSIX_SEMANTICS`): the name goes at once,
    /// open handles keep the file. `unlink` is `DeleteFileW` there.
    Posix,
}

impl Delete {
    /// Whether this system has the strategy (`posix` is Windows's).
    pub fn is_available(self) -> bool {
        self != Delete::Posix || cfg!(windows)
    }
}

/// How workers run.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Workers {
    Threads,
    /// Child processes of the same binary (the seed ran two processes).
    Processes,
}

/// How a deleter paces itself (docs/methods.md#pacing): what it does between
/// removals. Pacing changes how often an `open` races an `unlink` by orders
/// of magnitude, and no one pacing wins on every filesystem and thread count.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Pace {
    /// Remove blindly in a tight loop; a failed removal (`ENOENT`) is retried at once.
    Spin,
    /// Look (`faccessat`), remove when present, look again at once when absent.
    Check,
    /// Look, remove when present, `sched_yield` when absent.
    Yield,
    /// Look, remove when present, sleep the shortest `nanosleep` when absent.
    Sleep,
    /// Spin on a flag in memory (no syscall) until a reader announces it is
    /// about to `open`, then remove at that moment. Threads only: the flag
    /// lives in the process's memory.
    Aimed,
    /// Calibrate before timing starts: run each of the others briefly, in
    /// turns, and keep the one that raced the most opens per second (or
    /// found the most anomalies per second, when it found dozens; `sleep`
    /// when none of them raced an open or found an anomaly).
    Auto,
}

impl Pace {
    /// The pacings `auto` chooses from for a scenario run with `workers`.
    pub fn candidates(workers: Workers) -> &'static [Pace] {
        match workers {
            Workers::Threads => &[
                Pace::Spin,
                Pace::Check,
                Pace::Yield,
                Pace::Sleep,
                Pace::Aimed,
            ],
            Workers::Processes => &[Pace::Spin, Pace::Check, Pace::Yield, Pace::Sleep],
        }
    }
}

/// A value that is not one of a fixed set of names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} '{value}' (expected one of: {expected})")]
pub struct UnknownName {
    pub what: &'static str,
    pub value: String,
    pub expected: &'static str,
}

macro_rules! named_enum {
    ($ty:ident, $what:literal, $($variant:ident => $name:literal),+) => {
        impl $ty {
            /// Every value, in display order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The name used on the command line and in reports.
            pub fn name(self) -> &'static str {
                match self { $($ty::$variant => $name),+ }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }

        impl FromStr for $ty {
            type Err = UnknownName;
            fn from_str(s: &str) -> Result<Self, UnknownName> {
                match s.trim() {
                    $($name => Ok($ty::$variant),)+
                    other => Err(UnknownName {
                        what: $what,
                        value: other.to_string(),
                        expected: concat!($($name, " "),+).trim_ascii_end(),
                    }),
                }
            }
        }
    };
}

named_enum!(Recreate, "recreate strategy", Inplace => "inplace", Atomic => "atomic");
named_enum!(Delete, "delete strategy", Unlink => "unlink", Trash => "trash", Replace => "replace", Posix => "posix");
named_enum!(Workers, "worker kind", Threads => "threads", Processes => "processes");
named_enum!(Pace, "pace", Spin => "spin", Check => "check", Yield => "yield", Sleep => "sleep", Aimed => "aimed", Auto => "auto");

/// Which views of the directory the two sides work through
/// (docs/two-views.md). With two views readers open and recreate through the
/// target directory, and deleters remove through another path to the same
/// directory (a FUSE mount and its backing directory, two network clients, a
/// container and its host).
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Views {
    /// One path for every worker.
    #[default]
    One,
    /// Readers through the target directory, deleters through the other side.
    Split,
    /// As `split`, and each deleter recreates the file through its side
    /// after each removal (with the scenario's recreate strategy).
    SplitRecreating,
}

named_enum!(Views, "views", One => "one", Split => "split", SplitRecreating => "split_recreating");

impl Views {
    /// Whether readers and deleters work through different paths.
    pub fn is_split(self) -> bool {
        self != Views::One
    }

    /// Whether deleters write the file too.
    pub fn deleters_recreate(self) -> bool {
        self == Views::SplitRecreating
    }

    /// `true` for [`Views::One`] (a report leaves the field out then).
    pub fn is_one(&self) -> bool {
        *self == Views::One
    }

    /// What the scenario name ends in: nothing with one view, so that the
    /// names of single-view scenarios never change.
    pub fn name_suffix(self) -> &'static str {
        match self {
            Views::One => "",
            Views::Split => "-split",
            Views::SplitRecreating => "-split-recreating",
        }
    }
}
