//! Scenarios (docs/usage.md#unlink-race-run): what one run races, and how long it runs.
//!
//! A [`Scenario`] is the configuration of the workers, validated here once so
//! the harness can trust it; every parse error names the value that is wrong.
//! When a run ends is the harness's `BatchLimit`.

use std::fmt;
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

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

/// What a scenario races.
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
pub enum Race {
    /// Readers open (and recreate) one file while deleters remove it: the
    /// zombie descriptor of macOS 10.14–10.15.
    #[default]
    OpenUnlink,
    /// Creators, released together each round, all `openat(O_CREAT…)` one
    /// fresh name: the spurious `ENOENT` that current macOS returns to some
    /// of them without `O_EXCL`.
    Create,
}

/// The flags a creator's `openat` carries besides `O_WRONLY` (and
/// `O_NOFOLLOW`, `O_CLOEXEC`).
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
pub enum CreateFlags {
    /// `O_CREAT`: the reported defect.
    #[default]
    Creat,
    /// `O_CREAT|O_TRUNC`: what a reader's inplace recreate does.
    CreatTrunc,
    /// `O_CREAT|O_EXCL`: the control; exactly one creator wins a round, the
    /// others get `EEXIST`.
    CreatExcl,
}

impl Race {
    /// Both races, in display order.
    pub const ALL: &'static [Race] = &[Race::OpenUnlink, Race::Create];

    /// The name on the command line and in settings (`open-unlink`).
    pub fn name(self) -> &'static str {
        match self {
            Race::OpenUnlink => "open-unlink",
            Race::Create => "create",
        }
    }

    /// The name in reports and scenario names (`open_unlink`).
    pub fn report_name(self) -> &'static str {
        match self {
            Race::OpenUnlink => "open_unlink",
            Race::Create => "create",
        }
    }

    /// `true` for the open/unlink race (what every older report holds).
    pub fn is_open_unlink(&self) -> bool {
        *self == Race::OpenUnlink
    }
}

impl CreateFlags {
    /// Every value, in display order.
    pub const ALL: &'static [CreateFlags] = &[
        CreateFlags::Creat,
        CreateFlags::CreatTrunc,
        CreateFlags::CreatExcl,
    ];

    /// The name on the command line and in settings (`creat-excl`).
    pub fn name(self) -> &'static str {
        match self {
            CreateFlags::Creat => "creat",
            CreateFlags::CreatTrunc => "creat-trunc",
            CreateFlags::CreatExcl => "creat-excl",
        }
    }

    /// The name in reports and scenario names (`creat_excl`).
    pub fn report_name(self) -> &'static str {
        match self {
            CreateFlags::Creat => "creat",
            CreateFlags::CreatTrunc => "creat_trunc",
            CreateFlags::CreatExcl => "creat_excl",
        }
    }

    /// The flags as C spells them: `O_CREAT|O_EXCL`.
    pub fn c_flags(self) -> &'static str {
        match self {
            CreateFlags::Creat => "O_CREAT",
            CreateFlags::CreatTrunc => "O_CREAT|O_TRUNC",
            CreateFlags::CreatExcl => "O_CREAT|O_EXCL",
        }
    }

    /// The `open` flags themselves (without `O_WRONLY`).
    pub fn open_flags(self) -> i32 {
        use crate::sys::flags::{O_CREAT, O_EXCL, O_TRUNC};
        match self {
            CreateFlags::Creat => O_CREAT,
            CreateFlags::CreatTrunc => O_CREAT | O_TRUNC,
            CreateFlags::CreatExcl => O_CREAT | O_EXCL,
        }
    }

    /// Whether only one creator may win a round (`O_EXCL`).
    pub fn exclusive(self) -> bool {
        self == CreateFlags::CreatExcl
    }
}

/// The names of a two-spelling enum (`creat-excl` on the command line,
/// `creat_excl` in reports): `Display` and `FromStr` use the first, and
/// `FromStr` takes either.
macro_rules! two_spellings {
    ($ty:ident, $what:literal) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }

        impl FromStr for $ty {
            type Err = UnknownName;
            fn from_str(s: &str) -> Result<Self, UnknownName> {
                let t = s.trim();
                $ty::ALL
                    .iter()
                    .copied()
                    .find(|v| v.name() == t || v.report_name() == t)
                    .ok_or_else(|| UnknownName {
                        what: $what,
                        value: t.to_string(),
                        expected: $ty::EXPECTED,
                    })
            }
        }
    };
}

impl Race {
    const EXPECTED: &'static str = "open-unlink create";
}

impl CreateFlags {
    const EXPECTED: &'static str = "creat creat-trunc creat-excl";
}

two_spellings!(Race, "race");
two_spellings!(CreateFlags, "create flags");

named_enum!(Recreate, "recreate strategy", Inplace => "inplace", Atomic => "atomic");
named_enum!(Delete, "delete strategy", Unlink => "unlink", Trash => "trash", Replace => "replace");
named_enum!(Workers, "worker kind", Threads => "threads", Processes => "processes");
named_enum!(Pace, "pace", Spin => "spin", Check => "check", Yield => "yield", Sleep => "sleep", Aimed => "aimed", Auto => "auto");

/// The fresh name of the create race's round `round`: `c` and 16 hex digits, NUL-terminated, spelled
/// without allocating ([`name_of`] reads it).
#[inline]
pub fn round_name(round: u64) -> [u8; 18] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut buf = [0u8; 18];
    buf[0] = b'c';
    for (i, b) in buf[1..17].iter_mut().enumerate() {
        *b = HEX[((round >> (60 - 4 * i)) & 0xf) as usize];
    }
    buf
}

/// A name spelled by [`round_name`], as the `&CStr` syscalls take.
#[inline]
pub fn name_of(buf: &[u8; 18]) -> &std::ffi::CStr {
    std::ffi::CStr::from_bytes_with_nul(buf).expect("one NUL, at the end")
}

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
    pub workers: Workers,
    /// How deleters pace themselves. `auto` is resolved (calibrated) when the
    /// harness starts; a running harness's scenario never holds `auto`.
    pub pace: Pace,
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
            workers: Workers::Threads,
            pace: Pace::Sleep,
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
            }
        }
        if !FILE_SIZE_BYTES.contains(&self.file_size_bytes) {
            return Err(ScenarioError::FileSize(self.file_size_bytes));
        }
        if self.pace == Pace::Aimed && self.workers != Workers::Threads {
            return Err(ScenarioError::AimedNeedsThreads);
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
            "r{}-d{}-{}-{}-{}-{}",
            self.readers,
            self.deleters,
            format_size(self.file_size_bytes),
            self.recreate,
            self.delete,
            self.workers,
        )
    }

    /// The `unlink-race run` flags that select this scenario.
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
            "--readers {} --deleters {} --size {} --recreate {} --delete {} --workers {} --pace {}",
            self.readers,
            self.deleters,
            format_size(self.file_size_bytes),
            self.recreate,
            self.delete,
            self.workers,
            self.pace
        )
    }
}

/// Where the scratch directory goes.
pub fn default_target_dir() -> PathBuf {
    std::env::temp_dir()
}

/// A size that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid size '{0}': expected bytes with an optional K or M suffix (e.g. 7, 4K, 1M)")]
pub struct SizeError(pub String);

/// Parses `7`, `4K`, `4KiB`, `1M`, `1MiB` (binary units).
pub fn parse_size(s: &str) -> Result<u64, SizeError> {
    let t = s.trim();
    let err = || SizeError(s.to_string());
    let upper = t.to_ascii_uppercase();
    let (digits, mult) = if let Some(d) = upper
        .strip_suffix("KIB")
        .or_else(|| upper.strip_suffix("KB"))
        .or_else(|| upper.strip_suffix('K'))
    {
        (d, 1u64 << 10)
    } else if let Some(d) = upper
        .strip_suffix("MIB")
        .or_else(|| upper.strip_suffix("MB"))
        .or_else(|| upper.strip_suffix('M'))
    {
        (d, 1u64 << 20)
    } else if let Some(d) = upper.strip_suffix('B') {
        (d, 1)
    } else {
        (upper.as_str(), 1)
    };
    let n: u64 = digits.trim().parse().map_err(|_| err())?;
    n.checked_mul(mult).ok_or_else(err)
}

/// `7B`, `4K`, `1M`, `1536B`: the shortest exact form.
pub fn format_size(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes % (1 << 20) == 0 {
        format!("{}M", bytes >> 20)
    } else if bytes >= 1 << 10 && bytes % (1 << 10) == 0 {
        format!("{}K", bytes >> 10)
    } else {
        format!("{bytes}B")
    }
}

/// A duration that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration '{0}': expected seconds, or a number with s, m or h (e.g. 60, 90s, 10m)")]
pub struct DurationError(pub String);

/// Parses `60`, `1.5`, `90s`, `10m`, `1h`.
pub fn parse_duration(s: &str) -> Result<Duration, DurationError> {
    let t = s.trim();
    let err = || DurationError(s.to_string());
    let (num, mult) = match t.chars().last() {
        Some('s') => (&t[..t.len() - 1], 1.0),
        Some('m') => (&t[..t.len() - 1], 60.0),
        Some('h') => (&t[..t.len() - 1], 3600.0),
        _ => (t, 1.0),
    };
    let v: f64 = num.trim().parse().map_err(|_| err())?;
    let secs = v * mult;
    if !secs.is_finite() || secs <= 0.0 || secs > 1e9 {
        return Err(err());
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

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
            "unknown delete strategy 'rm' (expected one of: unlink trash replace)"
        );
        let s = Scenario::default();
        assert_eq!(s.name(), "r1-d1-7B-inplace-unlink-threads");
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
}
