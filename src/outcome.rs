//! Outcome classes (docs/methods.md#outcome-classes) and the pure classifier.
//!
//! [`classify`] turns one [`Observation`] — the operation a step ended in, its
//! errno, what `fstat` said, what was read — into a [`Class`]. It allocates
//! nothing and looks at nothing but its argument, so it runs on the hot path
//! and is tested without a filesystem. Whether a class is an anomaly depends on
//! the scenario: [`is_expected`] says which races a scenario makes normal.

use crate::content::ContentCheck;
use crate::scenario::{Race, Recreate, Scenario};
use crate::sys::Stat;
use crate::sys::{EEXIST, EINVAL, EIO, ENOENT, ESTALE, Errno};

/// What one cycle or one removal produced. On disk (reports, the worker
/// protocol) a class is its [`Class::name`].
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// Full, correct content.
    Ok,
    /// `open` failed with `ENOENT` (the deleter won).
    EnoentOnOpen,
    /// The reader recreated the file.
    Recreated,
    /// A deleter removed the file.
    Removed,
    /// A deleter found it already gone.
    RemoveEnoent,
    /// `open` succeeded and `fstat` gave `st_ino == 0`: a dead vnode.
    ZombieFd,
    /// A create succeeded and the following `write` failed with `EINVAL`.
    WriteEinval,
    /// `open` succeeded, valid inode, 0 bytes read.
    EmptyRead,
    /// Valid inode, fewer bytes than written or bytes that match no generation.
    ShortRead,
    /// `open(O_CREAT)` returned `ENOENT` while the directory exists.
    SpuriousEnoentOnCreate,
    /// An operation on an open descriptor (`fstat`, `read`, `write`, `close`)
    /// failed with `ENOENT`: the file is gone, but the descriptor must still work.
    FdEnoent,
    /// `ESTALE` on any operation.
    Stale,
    /// `EIO` on any operation.
    IoError,
    /// Any other errno on any operation.
    UnexpectedErrno,
    /// One syscall exceeded the watchdog limit.
    Stall,
    /// A creator's `open(O_CREAT…)` succeeded: it made the name, or (without
    /// `O_EXCL`) opened the one another creator had just made.
    Created,
    /// `open(O_CREAT|O_EXCL)` failed with `EEXIST` in a round another creator
    /// won: the control's expected loss.
    CreateEexist,
    /// `open(O_CREAT)` without `O_EXCL` failed with `EEXIST`: POSIX opens the
    /// existing file instead.
    EexistWithoutExcl,
    /// `open(O_CREAT|O_EXCL)` succeeded in a round another creator had won
    /// too: counted once for every winner after the first.
    ExclExtraWinner,
}

/// Number of classes.
pub const CLASS_COUNT: usize = 19;

impl Class {
    /// Every class, in report order.
    pub const ALL: [Class; CLASS_COUNT] = [
        Class::Ok,
        Class::EnoentOnOpen,
        Class::Recreated,
        Class::Removed,
        Class::RemoveEnoent,
        Class::ZombieFd,
        Class::WriteEinval,
        Class::EmptyRead,
        Class::ShortRead,
        Class::SpuriousEnoentOnCreate,
        Class::FdEnoent,
        Class::Stale,
        Class::IoError,
        Class::UnexpectedErrno,
        Class::Stall,
        Class::Created,
        Class::CreateEexist,
        Class::EexistWithoutExcl,
        Class::ExclExtraWinner,
    ];

    /// The name used in reports (`zombie_fd`).
    pub fn name(self) -> &'static str {
        match self {
            Class::Ok => "ok",
            Class::EnoentOnOpen => "enoent_on_open",
            Class::Recreated => "recreated",
            Class::Removed => "removed",
            Class::RemoveEnoent => "remove_enoent",
            Class::ZombieFd => "zombie_fd",
            Class::WriteEinval => "write_einval",
            Class::EmptyRead => "empty_read",
            Class::ShortRead => "short_read",
            Class::SpuriousEnoentOnCreate => "spurious_enoent_on_create",
            Class::FdEnoent => "fd_enoent",
            Class::Stale => "stale",
            Class::IoError => "io_error",
            Class::UnexpectedErrno => "unexpected_errno",
            Class::Stall => "stall",
            Class::Created => "created",
            Class::CreateEexist => "create_eexist",
            Class::EexistWithoutExcl => "eexist_without_excl",
            Class::ExclExtraWinner => "excl_extra_winner",
        }
    }

    /// The class of a report name.
    pub fn from_name(name: &str) -> Option<Class> {
        Class::ALL.into_iter().find(|c| c.name() == name)
    }

    /// Index into per-class counter arrays.
    #[inline]
    pub fn index(self) -> usize {
        self as usize
    }

    /// `true` for the outcomes a reader cycle has at most once (its open's
    /// outcome and its recreate's), so that their count never exceeds the
    /// cycles and their rate is a binomial proportion. Errors (either side),
    /// stalls and removals can happen several times per cycle: their rate is
    /// a Poisson rate per cycle.
    pub fn once_per_cycle(self) -> bool {
        matches!(
            self,
            Class::Ok
                | Class::EnoentOnOpen
                | Class::Recreated
                | Class::ZombieFd
                | Class::WriteEinval
                | Class::EmptyRead
                | Class::ShortRead
                | Class::SpuriousEnoentOnCreate
                | Class::Created
                | Class::CreateEexist
                | Class::EexistWithoutExcl
                | Class::ExclExtraWinner
        )
    }

    /// `true` for the classes whose race is a create racing another create:
    /// their second rate is per racing create (see the report's
    /// `racing_creates`), not per raced open.
    pub fn per_racing_create(self) -> bool {
        matches!(
            self,
            Class::SpuriousEnoentOnCreate | Class::EexistWithoutExcl | Class::ExclExtraWinner
        )
    }

    /// `false` for classes added after schema_version 1 was first written: a
    /// report from then may lack them (`fd_enoent` was counted as
    /// `unexpected_errno` before it had a class of its own; the create
    /// race's classes came with it).
    pub fn in_every_report(self) -> bool {
        !matches!(
            self,
            Class::FdEnoent
                | Class::Created
                | Class::CreateEexist
                | Class::EexistWithoutExcl
                | Class::ExclExtraWinner
        )
    }

    /// `true` for the classes that reports break down by (side, operation,
    /// errno): the ones an errno alone produces, whichever operation failed.
    pub fn has_errno_breakdown(self) -> bool {
        matches!(
            self,
            Class::IoError | Class::Stale | Class::UnexpectedErrno | Class::FdEnoent
        )
    }

    /// `true` for the outcomes that are never anomalies
    /// (docs/methods.md#outcome-classes).
    pub fn is_normal(self) -> bool {
        matches!(
            self,
            Class::Ok
                | Class::EnoentOnOpen
                | Class::Recreated
                | Class::Removed
                | Class::RemoveEnoent
                | Class::Created
                | Class::CreateEexist
        )
    }
}

impl std::fmt::Display for Class {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The operation a step ended in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// The reader's `open(O_RDONLY)`.
    Open,
    Fstat,
    Read,
    Close,
    /// `open(O_WRONLY|O_CREAT|O_TRUNC)` of the target or of a temporary name.
    Create,
    Write,
    /// A `rename` (atomic recreate, `trash` or `replace` delete).
    Rename,
    /// An `unlink` (deleter).
    Unlink,
    /// `faccessat` (deleter's existence check).
    Access,
}

impl Op {
    pub fn name(self) -> &'static str {
        match self {
            Op::Open => "open",
            Op::Fstat => "fstat",
            Op::Read => "read",
            Op::Close => "close",
            Op::Create => "create",
            Op::Write => "write",
            Op::Rename => "rename",
            Op::Unlink => "unlink",
            Op::Access => "access",
        }
    }

    /// Whether this op removes the target (deleter side).
    fn is_removal(self) -> bool {
        matches!(self, Op::Unlink | Op::Rename)
    }

    /// Whether this op works on an open descriptor, not on a name: its
    /// `ENOENT` can only mean the filesystem lost a file that is still open.
    pub fn is_on_descriptor(self) -> bool {
        matches!(self, Op::Fstat | Op::Read | Op::Write | Op::Close)
    }
}

impl std::fmt::Display for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Which side of the race made the observation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// A reader's cycle (open → fstat → read → verify → close) or its recreate.
    Reader,
    /// A deleter's removal.
    Deleter,
    /// A creator's create (create race), or its round's content check and
    /// removal.
    Creator,
}

impl Side {
    pub fn name(self) -> &'static str {
        match self {
            Side::Reader => "reader",
            Side::Deleter => "deleter",
            Side::Creator => "creator",
        }
    }
}

/// What a creator knows of its round once every creator has called
/// (create race only).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CreateRound {
    /// The creates carried `O_EXCL`.
    pub exclusive: bool,
    /// Creators whose create succeeded in the round.
    pub winners: u32,
    /// Of those, the ones before this creator (by index).
    pub winners_before: u32,
}

/// Everything [`classify`] looks at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observation {
    pub side: Side,
    /// The operation the step ended in.
    pub op: Op,
    /// Its errno, `0` on success.
    pub errno: Errno,
    /// What `fstat` returned on the descriptor, when it ran and succeeded.
    pub stat: Option<Stat>,
    /// The content check, when the read ran to EOF.
    pub content: Option<ContentCheck>,
    /// Whether the scratch directory still exists (only consulted for a create's `ENOENT`).
    pub dir_exists: bool,
    /// A creator's round, for its create (`None` elsewhere: a create
    /// without `O_EXCL` and no round).
    pub create_round: Option<CreateRound>,
}

impl Observation {
    /// A step that succeeded at `op`.
    pub fn success(side: Side, op: Op) -> Observation {
        Observation {
            side,
            op,
            errno: 0,
            stat: None,
            content: None,
            dir_exists: true,
            create_round: None,
        }
    }

    /// A step that failed at `op` with `errno`.
    pub fn failure(side: Side, op: Op, errno: Errno) -> Observation {
        Observation {
            errno,
            ..Observation::success(side, op)
        }
    }
}

/// The class of one observation.
pub fn classify(obs: &Observation) -> Class {
    let round = obs.create_round.filter(|_| obs.op == Op::Create);
    let exclusive = round.is_some_and(|r| r.exclusive);
    if obs.errno != 0 {
        return match (obs.errno, obs.op) {
            (ESTALE, _) => Class::Stale,
            (EIO, _) => Class::IoError,
            (EEXIST, Op::Create) if !exclusive => Class::EexistWithoutExcl,
            // The control's loser: someone else won the round.
            (EEXIST, Op::Create) if round.is_some_and(|r| r.winners > 0) => Class::CreateEexist,
            (ENOENT, Op::Open) if obs.side == Side::Reader => Class::EnoentOnOpen,
            (ENOENT, Op::Create) if obs.dir_exists => Class::SpuriousEnoentOnCreate,
            (ENOENT, op) if op.is_on_descriptor() => Class::FdEnoent,
            (ENOENT, op) if obs.side == Side::Deleter && op.is_removal() => Class::RemoveEnoent,
            (EINVAL, Op::Write) => Class::WriteEinval,
            _ => Class::UnexpectedErrno,
        };
    }
    if let Some(st) = obs.stat {
        if st.ino == 0 {
            return Class::ZombieFd;
        }
    }
    if let Some(r) = round {
        return if r.exclusive && r.winners_before > 0 {
            Class::ExclExtraWinner
        } else {
            Class::Created
        };
    }
    match (obs.side, obs.content) {
        (Side::Reader, Some(ContentCheck::Correct)) => Class::Ok,
        (Side::Reader, Some(ContentCheck::Empty)) => Class::EmptyRead,
        (Side::Reader, Some(ContentCheck::Short | ContentCheck::Wrong)) => Class::ShortRead,
        (Side::Reader, None) => Class::Recreated,
        (Side::Deleter, _) => Class::Removed,
        // A creator's check of its round's content.
        (Side::Creator, Some(ContentCheck::Correct)) => Class::Ok,
        (Side::Creator, Some(ContentCheck::Empty)) => Class::EmptyRead,
        (Side::Creator, Some(ContentCheck::Short | ContentCheck::Wrong)) => Class::ShortRead,
        (Side::Creator, None) => Class::Created,
    }
}

/// Whether `class` is expected (not an anomaly) under `scenario`.
///
/// `empty_read` and `short_read` are expected races under `inplace` with two or
/// more readers: one reader can open the file another has just created (or
/// truncated) and not yet finished writing. Under `atomic`, or with one
/// reader, they are anomalies.
pub fn is_expected(class: Class, scenario: &Scenario) -> bool {
    match class {
        c if c.is_normal() => true,
        Class::EmptyRead | Class::ShortRead => {
            scenario.race == Race::OpenUnlink
                && scenario.recreate == Recreate::Inplace
                && scenario.readers >= 2
        }
        _ => false,
    }
}
