//! Scenarios (docs/usage.md#unlink-race-run): what one run races, and how long it runs.
//!
//! A [`Scenario`] is the configuration of the workers, validated here once so
//! the harness can trust it; every parse error names the value that is wrong.
//! When a run ends is the harness's `BatchLimit`.
//!
//! The closed sets a scenario chooses from are in `choices.rs`, the races
//! and the create race's flags and round names in `race.rs`, and sizes and
//! durations as the command line spells them in `units.rs`.

mod choices;
mod race;
mod units;

use std::ops::RangeInclusive;
use std::path::PathBuf;

pub use choices::{Delete, Pace, Recreate, UnknownName, Views, Workers};
pub use race::{CreateFlags, Race, name_of, round_name};
pub use units::{DurationError, SizeError, format_size, parse_duration, parse_size};

/// Readers a scenario may have. With [`DELETERS`] and [`FILE_SIZE_BYTES`],
/// the one table of limits that the command line, the bench's settings and
/// [`Scenario::validate`] all check against.
pub const READERS: RangeInclusive<u32> = 1..=256;
/// Deleters a scenario may have (0: readers only).
pub const DELETERS: RangeInclusive<u32> = 0..=256;
/// Creators a create race may have: two at least, or nothing races.
pub const CREATORS: RangeInclusive<u32> = 2..=256;
/// File sizes accepted: 1 byte to 64 MiB.
pub const FILE_SIZE_BYTES: RangeInclusive<u64> = 1..=64 << 20;
/// The seed's content and size.
pub const SEED_CONTENT: &[u8] = b"CONTENT";

/// One configuration of the race.
///
/// A [`Race::OpenUnlink`] scenario has readers and deleters (`creators` is
/// 0); a [`Race::Create`] scenario has creators and `create_flags` (readers
/// and deleters are 0, and the recreate and delete strategies and the pace
/// are not used). `file_size_bytes` is what every successful create writes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scenario {
    pub race: Race,
    pub readers: u32,
    pub deleters: u32,
    /// Creators of a create race (0 in an open/unlink race).
    pub creators: u32,
    /// What the creators' `openat` carries (create race only).
    pub create_flags: CreateFlags,
    pub file_size_bytes: u64,
    pub recreate: Recreate,
    pub delete: Delete,
    /// Windows: whether every open shares delete access
    /// (`FILE_SHARE_DELETE`, the default). Without it a file cannot be
    /// deleted or renamed while a reader has it open. Always `true` elsewhere.
    pub share_delete: bool,
    pub workers: Workers,
    /// How deleters pace themselves. `auto` is resolved (calibrated) when the
    /// harness starts; a running harness's scenario never holds `auto`.
    pub pace: Pace,
    /// One view of the directory, or two (the other side's path is the
    /// harness's `HarnessOptions::other_side`).
    pub views: Views,
}

impl Default for Scenario {
    /// The seed's scenario: 1 reader, 1 deleter, 7 bytes, inplace, unlink,
    /// threads, paced by `sleep` (deterministic and needs no calibration;
    /// `unlink-race run` and `cargo bench` default to `auto`).
    fn default() -> Self {
        Scenario {
            race: Race::OpenUnlink,
            readers: 1,
            deleters: 1,
            creators: 0,
            create_flags: CreateFlags::Creat,
            file_size_bytes: SEED_CONTENT.len() as u64,
            recreate: Recreate::Inplace,
            delete: Delete::Unlink,
            share_delete: true,
            workers: Workers::Threads,
            pace: Pace::Sleep,
            views: Views::One,
        }
    }
}

/// A scenario parameter out of range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScenarioError {
    #[error("readers must be between {lo} and {hi}, got {0}", lo = READERS.start(), hi = READERS.end())]
    Readers(u32),
    #[error("deleters must be between {lo} and {hi}, got {0}", lo = DELETERS.start(), hi = DELETERS.end())]
    Deleters(u32),
    #[error(
        "file size must be between 1 byte and {hi}, got {got}",
        hi = format_size(*FILE_SIZE_BYTES.end()),
        got = format_size(*.0)
    )]
    FileSize(u64),
    #[error("--pace aimed needs --workers threads (its flag lives in the process's memory)")]
    AimedNeedsThreads,
    #[error(
        "deleters that recreate the file need --delete unlink or trash (replace already writes a fresh file)"
    )]
    RecreatingReplace,
    #[error(
        "a create race needs between {lo} and {hi} creators, got {0}",
        lo = CREATORS.start(), hi = CREATORS.end()
    )]
    Creators(u32),
    #[error(
        "a create race has creators, not readers or deleters (got {readers} readers, {deleters} deleters)"
    )]
    CreateWithReaders { readers: u32, deleters: u32 },
    #[error("creators race only in a create race (--race create), got {0} with --race open-unlink")]
    CreatorsWithoutCreateRace(u32),
    #[error(
        "a create race runs in one view of the directory (--other-side, --role and --deleters-recreate are for the open-unlink race)"
    )]
    CreateWithTwoViews,
    #[error("{0} is a Windows setting: this system has no share modes or POSIX-semantics delete")]
    WindowsOnly(&'static str),
}

/// `n` if it is an allowed number of readers.
pub fn check_readers(n: u32) -> Result<u32, ScenarioError> {
    READERS
        .contains(&n)
        .then_some(n)
        .ok_or(ScenarioError::Readers(n))
}

/// `n` if it is an allowed number of creators.
pub fn check_creators(n: u32) -> Result<u32, ScenarioError> {
    CREATORS
        .contains(&n)
        .then_some(n)
        .ok_or(ScenarioError::Creators(n))
}

/// `n` if it is an allowed number of deleters.
pub fn check_deleters(n: u32) -> Result<u32, ScenarioError> {
    DELETERS
        .contains(&n)
        .then_some(n)
        .ok_or(ScenarioError::Deleters(n))
}

/// Parses a file size (`7`, `4K`, `1M`) and checks it against [`FILE_SIZE_BYTES`].
pub fn parse_file_size(s: &str) -> Result<u64, String> {
    let n = parse_size(s).map_err(|e| e.to_string())?;
    if FILE_SIZE_BYTES.contains(&n) {
        Ok(n)
    } else {
        Err(ScenarioError::FileSize(n).to_string())
    }
}

impl Scenario {
    /// Checks every parameter against [`READERS`], [`DELETERS`] and
    /// [`FILE_SIZE_BYTES`], and that `aimed` runs on threads.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        match self.race {
            Race::OpenUnlink => {
                check_readers(self.readers)?;
                check_deleters(self.deleters)?;
                if self.creators != 0 {
                    return Err(ScenarioError::CreatorsWithoutCreateRace(self.creators));
                }
            }
            Race::Create => {
                check_creators(self.creators)?;
                if self.readers != 0 || self.deleters != 0 {
                    return Err(ScenarioError::CreateWithReaders {
                        readers: self.readers,
                        deleters: self.deleters,
                    });
                }
                if self.views.is_split() {
                    return Err(ScenarioError::CreateWithTwoViews);
                }
            }
        }
        if !FILE_SIZE_BYTES.contains(&self.file_size_bytes) {
            return Err(ScenarioError::FileSize(self.file_size_bytes));
        }
        if self.pace == Pace::Aimed && self.workers != Workers::Threads {
            return Err(ScenarioError::AimedNeedsThreads);
        }
        if self.views.deleters_recreate() && self.delete == Delete::Replace {
            return Err(ScenarioError::RecreatingReplace);
        }
        if !self.delete.is_available() {
            return Err(ScenarioError::WindowsOnly("delete 'posix'"));
        }
        if !self.share_delete && !cfg!(windows) {
            return Err(ScenarioError::WindowsOnly("--no-share-delete"));
        }
        Ok(())
    }

    /// A create race of `creators` with `flags`, 7-byte files, threads.
    pub fn create(creators: u32, flags: CreateFlags) -> Scenario {
        Scenario {
            race: Race::Create,
            readers: 0,
            deleters: 0,
            creators,
            create_flags: flags,
            ..Scenario::default()
        }
    }

    /// Workers that run cycles: readers, or creators in a create race.
    pub fn racers(&self) -> u32 {
        match self.race {
            Race::OpenUnlink => self.readers,
            Race::Create => self.creators,
        }
    }

    /// Every worker: readers and deleters, or creators.
    pub fn workers_count(&self) -> u32 {
        match self.race {
            Race::OpenUnlink => self.readers + self.deleters,
            Race::Create => self.creators,
        }
    }

    /// Stable short name of what is raced, e.g.
    /// `r1-d1-7B-inplace-unlink-threads`, or for a create race
    /// `create-c8-creat_excl-7B-threads`. The pace is not in it: it says how
    /// hard the race was pressed, not what was raced, so the same scenario
    /// keeps its name (and matches in `compare`) whichever pace ran it.
    /// Two views add `-split` (`-split-recreating` when deleters recreate).
    pub fn name(&self) -> String {
        if self.race == Race::Create {
            return format!(
                "create-c{}-{}-{}-{}",
                self.creators,
                self.create_flags.report_name(),
                format_size(self.file_size_bytes),
                self.workers
            );
        }
        format!(
            "r{}-d{}-{}-{}-{}-{}{}",
            self.readers,
            self.deleters,
            format_size(self.file_size_bytes),
            self.recreate,
            self.delete,
            self.workers,
            self.views.name_suffix(),
        )
    }

    /// The `unlink-race run` flags that select this scenario (the other
    /// side's path, a directory like `--dir`, is not among them).
    pub fn run_flags(&self) -> String {
        if self.race == Race::Create {
            return format!(
                "--race create --creators {} --create-flags {} --size {} --workers {}",
                self.creators,
                self.create_flags,
                format_size(self.file_size_bytes),
                self.workers
            );
        }
        format!(
            "--readers {} --deleters {} --size {} --recreate {} --delete {} --workers {} --pace {}{}",
            self.readers,
            self.deleters,
            format_size(self.file_size_bytes),
            self.recreate,
            self.delete,
            self.workers,
            self.pace,
            if self.views.deleters_recreate() {
                " --deleters-recreate"
            } else {
                ""
            }
        )
    }
}

/// Where the scratch directory goes.
pub fn default_target_dir() -> PathBuf {
    std::env::temp_dir()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("7"), Ok(7));
        assert_eq!(parse_size("4K"), Ok(4096));
        assert_eq!(parse_size("4k"), Ok(4096));
        assert_eq!(parse_size("4KiB"), Ok(4096));
        assert_eq!(parse_size("1M"), Ok(1 << 20));
        assert_eq!(parse_size("64M"), Ok(*FILE_SIZE_BYTES.end()));
        assert_eq!(parse_file_size("64M"), Ok(64 << 20));
        assert!(parse_file_size("0").is_err());
        assert!(parse_file_size("65M").is_err());
        assert!(parse_size("four").is_err());
        assert!(parse_size("-1").is_err());
        assert!(parse_size("").is_err());
        assert_eq!(format_size(7), "7B");
        assert_eq!(format_size(4096), "4K");
        assert_eq!(format_size(1 << 20), "1M");
        assert_eq!(format_size(1536), "1536B");
    }

    #[test]
    fn names_round_trip() {
        for r in Recreate::ALL {
            assert_eq!(r.name().parse::<Recreate>(), Ok(*r));
        }
        for d in Delete::ALL {
            assert_eq!(d.name().parse::<Delete>(), Ok(*d));
        }
        let e = "rm".parse::<Delete>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown delete strategy 'rm' (expected one of: unlink trash replace posix)"
        );
        let s = Scenario::default();
        assert_eq!(s.name(), "r1-d1-7B-inplace-unlink-threads");
        // Two views say so in the name; one view keeps the names it always had.
        let split = Scenario {
            views: Views::Split,
            ..s.clone()
        };
        assert_eq!(split.name(), "r1-d1-7B-inplace-unlink-threads-split");
        let recreating = Scenario {
            views: Views::SplitRecreating,
            ..s.clone()
        };
        assert_eq!(
            recreating.name(),
            "r1-d1-7B-inplace-unlink-threads-split-recreating"
        );
        assert!(recreating.run_flags().ends_with(" --deleters-recreate"));
        assert!(!split.run_flags().contains("--deleters-recreate"));
        assert!(
            Scenario {
                delete: Delete::Replace,
                ..recreating
            }
            .validate()
            .is_err()
        );
        for p in Pace::ALL {
            assert_eq!(p.name().parse::<Pace>(), Ok(*p));
        }
    }

    #[test]
    fn validation() {
        let ok = Scenario::default();
        assert!(ok.validate().is_ok());
        assert!(
            Scenario {
                readers: 0,
                ..ok.clone()
            }
            .validate()
            .is_err()
        );
        assert!(
            Scenario {
                readers: 257,
                ..ok.clone()
            }
            .validate()
            .is_err()
        );
        assert!(
            Scenario {
                deleters: 0,
                ..ok.clone()
            }
            .validate()
            .is_ok()
        );
        assert!(
            Scenario {
                file_size_bytes: 0,
                ..ok.clone()
            }
            .validate()
            .is_err()
        );
        assert!(
            Scenario {
                file_size_bytes: FILE_SIZE_BYTES.end() + 1,
                ..ok
            }
            .validate()
            .is_err()
        );
    }

    #[test]
    fn create_races() {
        let s = Scenario::create(8, CreateFlags::CreatExcl);
        assert!(s.validate().is_ok());
        assert_eq!(s.name(), "create-c8-creat_excl-7B-threads");
        assert_eq!(
            s.run_flags(),
            "--race create --creators 8 --create-flags creat-excl --size 7B --workers threads"
        );
        assert_eq!((s.racers(), s.workers_count()), (8, 8));
        assert_eq!(
            Scenario::create(1, CreateFlags::Creat).validate(),
            Err(ScenarioError::Creators(1))
        );
        assert!(
            Scenario::create(257, CreateFlags::Creat)
                .validate()
                .is_err()
        );
        let with_readers = Scenario {
            readers: 1,
            ..Scenario::create(2, CreateFlags::Creat)
        };
        assert!(with_readers.validate().is_err());
        let creators_in_open_unlink = Scenario {
            creators: 2,
            ..Scenario::default()
        };
        assert!(creators_in_open_unlink.validate().is_err());
        // Both spellings parse; the command line's is shown.
        for f in CreateFlags::ALL {
            assert_eq!(f.name().parse::<CreateFlags>(), Ok(*f));
            assert_eq!(f.report_name().parse::<CreateFlags>(), Ok(*f));
        }
        assert_eq!("open_unlink".parse::<Race>(), Ok(Race::OpenUnlink));
        assert_eq!("open-unlink".parse::<Race>(), Ok(Race::OpenUnlink));
        assert_eq!(
            "unlink".parse::<Race>().unwrap_err().to_string(),
            "unknown race 'unlink' (expected one of: open-unlink create)"
        );
        assert_eq!(
            serde_json::to_string(&CreateFlags::CreatExcl).unwrap(),
            "\"creat_excl\""
        );
        assert_eq!(CreateFlags::CreatTrunc.c_flags(), "O_CREAT|O_TRUNC");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("60"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("0.5"), Ok(Duration::from_millis(500)));
        assert!(parse_duration("0").is_err());
        assert!(parse_duration("-3").is_err());
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn the_windows_settings_are_refused_elsewhere() {
        let posix = Scenario {
            delete: Delete::Posix,
            ..Scenario::default()
        };
        let unshared = Scenario {
            share_delete: false,
            ..Scenario::default()
        };
        if cfg!(windows) {
            assert_eq!(posix.validate(), Ok(()));
            assert_eq!(unshared.validate(), Ok(()));
        } else {
            let e = posix.validate().unwrap_err().to_string();
            assert!(e.starts_with("delete 'posix' is a Windows setting"), "{e}");
            let e = unshared.validate().unwrap_err().to_string();
            assert!(
                e.starts_with("--no-share-delete is a Windows setting"),
                "{e}"
            );
        }
    }
}
