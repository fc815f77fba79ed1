//! What a scenario races: the open/unlink race or the create race, the
//! flags a creator's `openat` carries, and the fresh name of each round.

use std::fmt;
use std::str::FromStr;

use super::UnknownName;

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
