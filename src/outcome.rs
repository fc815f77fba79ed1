//! Outcome classes (docs/methods.md#outcome-classes) and the pure classifier.
//!
//! [`classify`] turns one [`Observation`] — the operation a step ended in, its
//! errno, what `fstat` said, what was read — into a [`Class`]. It allocates
//! nothing and looks at nothing but its argument, so it runs on the hot path
//! and is tested without a filesystem. Whether a class is an anomaly depends on
//! the scenario: [`is_expected`] says which races a scenario makes normal.

use crate::content::ContentCheck;
use crate::scenario::{Delete, Race, Recreate, Scenario, Views};
use crate::sys::Stat;
use crate::sys::{DELETE_PENDING, EEXIST, EINVAL, EIO, ENOENT, ESTALE, Errno, SHARING_VIOLATION};

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
    /// The reader's `open` failed with `EINVAL` or `ESTALE` while `stat`
    /// of the same name through the same path still finds it.
    OpenErrorVisible,
    /// The reader's `open` failed with `ENOENT` while `stat` of the same
    /// name through the same path still finds it (looked for with two
    /// views only: there the reader's view may cache a name the other side
    /// removed).
    OpenEnoentVisible,
    /// Valid content of a generation already replaced: the reader had seen
    /// (or written) a later generation of the same writer.
    StaleContent,
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
    /// Windows: an open, create, look-up or delete of a name whose file is
    /// being deleted failed (`ERROR_ACCESS_DENIED` with
    /// `STATUS_DELETE_PENDING`): the name stays until the last handle closes.
    DeletePending,
    /// Windows: an open or delete refused by the share modes of a handle
    /// already open (`ERROR_SHARING_VIOLATION`, `STATUS_SHARING_VIOLATION`).
    SharingViolation,
}

/// Number of classes.
pub const CLASS_COUNT: usize = 24;

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
        Class::OpenErrorVisible,
        Class::OpenEnoentVisible,
        Class::StaleContent,
        Class::Stale,
        Class::IoError,
        Class::UnexpectedErrno,
        Class::Stall,
        Class::Created,
        Class::CreateEexist,
        Class::EexistWithoutExcl,
        Class::ExclExtraWinner,
        Class::DeletePending,
        Class::SharingViolation,
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
            Class::OpenErrorVisible => "open_error_visible",
            Class::OpenEnoentVisible => "open_enoent_visible",
            Class::StaleContent => "stale_content",
            Class::Stale => "stale",
            Class::IoError => "io_error",
            Class::UnexpectedErrno => "unexpected_errno",
            Class::Stall => "stall",
            Class::Created => "created",
            Class::CreateEexist => "create_eexist",
            Class::EexistWithoutExcl => "eexist_without_excl",
            Class::ExclExtraWinner => "excl_extra_winner",
            Class::DeletePending => "delete_pending",
            Class::SharingViolation => "sharing_violation",
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
                | Class::OpenErrorVisible
                | Class::OpenEnoentVisible
                | Class::StaleContent
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

    /// `true` for the classes only a creator's round produces (the create
    /// race, `--race create`): an open/unlink race never has them.
    pub fn creators_only(self) -> bool {
        matches!(
            self,
            Class::Created | Class::CreateEexist | Class::ExclExtraWinner
        )
    }

    /// `true` for the classes only readers and deleters produce (the
    /// open/unlink race): a create race, which has neither, never has them.
    pub fn open_race_only(self) -> bool {
        matches!(
            self,
            Class::EnoentOnOpen
                | Class::Recreated
                | Class::Removed
                | Class::RemoveEnoent
                | Class::OpenErrorVisible
                | Class::OpenEnoentVisible
        )
    }

    /// `true` for the classes of errors only Windows reports (they have no
    /// POSIX errno).
    pub fn windows_only(self) -> bool {
        matches!(self, Class::DeletePending | Class::SharingViolation)
    }

    /// `false` for classes added after schema_version 1 was first written: a
    /// report from then may lack them (`fd_enoent` was counted as
    /// `unexpected_errno` before it had a class of its own; an open that
    /// failed while its name stayed visible as `stale`, `unexpected_errno`
    /// or `enoent_on_open`; stale content as `ok`; the create race's
    /// classes came with it, Windows' with the Windows backend).
    pub fn in_every_report(self) -> bool {
        !matches!(
            self,
            Class::FdEnoent
                | Class::OpenErrorVisible
                | Class::OpenEnoentVisible
                | Class::StaleContent
                | Class::Created
                | Class::CreateEexist
                | Class::EexistWithoutExcl
                | Class::ExclExtraWinner
                | Class::DeletePending
                | Class::SharingViolation
        )
    }

    /// `true` for the classes that reports break down by (side, operation,
    /// errno): the ones an errno alone produces, whichever operation failed.
    pub fn has_errno_breakdown(self) -> bool {
        matches!(
            self,
            Class::IoError
                | Class::Stale
                | Class::UnexpectedErrno
                | Class::FdEnoent
                | Class::OpenErrorVisible
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
    fn is_on_descriptor(self) -> bool {
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
    /// Whether `stat` of the name, through the same path, found it right
    /// after a failed reader `open` (only consulted for that `open`; the
    /// harness looks after `EINVAL` and `ESTALE`, and with two views after
    /// `ENOENT` too).
    pub name_visible: bool,
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
            name_visible: false,
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
        if obs.side == Side::Reader && obs.op == Op::Open && obs.name_visible {
            match obs.errno {
                EINVAL | ESTALE => return Class::OpenErrorVisible,
                ENOENT => return Class::OpenEnoentVisible,
                _ => {}
            }
        }
        return match (obs.errno, obs.op) {
            (ESTALE, _) => Class::Stale,
            (DELETE_PENDING, _) => Class::DeletePending,
            (SHARING_VIOLATION, _) => Class::SharingViolation,
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
        (Side::Reader, Some(ContentCheck::Stale)) => Class::StaleContent,
        (Side::Reader, None) => Class::Recreated,
        (Side::Deleter, _) => Class::Removed,
        // A creator's check of its round's content.
        (Side::Creator, Some(ContentCheck::Correct)) => Class::Ok,
        (Side::Creator, Some(ContentCheck::Empty)) => Class::EmptyRead,
        (Side::Creator, Some(ContentCheck::Short | ContentCheck::Wrong)) => Class::ShortRead,
        (Side::Creator, Some(ContentCheck::Stale)) => Class::StaleContent,
        (Side::Creator, None) => Class::Created,
    }
}

/// [`Class::once_per_cycle`] under `scenario`: with two views whose
/// deleters write the file (`--deleters-recreate`, `--delete replace`), a
/// deleter's failed create or write counts in `spurious_enoent_on_create` or
/// `write_einval` too, which can then outnumber the reader cycles.
pub fn once_per_cycle_in(class: Class, scenario: &Scenario) -> bool {
    let deleters_write_elsewhere = scenario.views.is_split()
        && (scenario.views.deleters_recreate()
            || scenario.delete == crate::scenario::Delete::Replace);
    class.once_per_cycle()
        && !(deleters_write_elsewhere
            && matches!(class, Class::SpuriousEnoentOnCreate | Class::WriteEinval))
}

/// Whether `class` is expected (not an anomaly) under `scenario`.
///
/// `empty_read` and `short_read` are expected races under `inplace` when
/// some other worker writes the file in place: two or more readers, or
/// deleters that recreate it. One reader can open the file another worker
/// has just created (or truncated) and not yet finished writing. Under
/// `atomic`, or with one writer, they are anomalies.
///
/// `open_enoent_visible` is expected with two views: the reader's view may
/// keep a name the other side removed for as long as it caches names
/// (docs/methods.md#two-views).
///
/// On Windows `delete_pending` is expected but under delete `posix`, and
/// `sharing_violation` under `--no-share-delete`.
pub fn is_expected(class: Class, scenario: &Scenario) -> bool {
    match class {
        c if c.is_normal() => true,
        Class::EmptyRead | Class::ShortRead => {
            scenario.race == Race::OpenUnlink
                && scenario.recreate == Recreate::Inplace
                && (scenario.readers >= 2 || scenario.views == Views::SplitRecreating)
        }
        Class::OpenEnoentVisible => scenario.views.is_split(),
        // Windows by design: a file deleted while open keeps its name until
        // the last handle closes. A POSIX-semantics delete removes the name
        // at once, so there it is an anomaly.
        Class::DeletePending => scenario.delete != Delete::Posix,
        // Opens without `FILE_SHARE_DELETE` refuse the deleter by design.
        Class::SharingViolation => !scenario.share_delete,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::{DELETE_PENDING, EACCES, SHARING_VIOLATION};

    #[test]
    fn windows_failures_have_their_own_classes_on_every_operation() {
        for (side, op) in [
            (Side::Reader, Op::Open),
            (Side::Reader, Op::Create),
            (Side::Deleter, Op::Unlink),
            (Side::Deleter, Op::Access),
            (Side::Deleter, Op::Rename),
        ] {
            let pending = Observation::failure(side, op, DELETE_PENDING);
            assert_eq!(classify(&pending), Class::DeletePending, "{side:?} {op:?}");
            let refused = Observation::failure(side, op, SHARING_VIOLATION);
            assert_eq!(
                classify(&refused),
                Class::SharingViolation,
                "{side:?} {op:?}"
            );
        }
        // A plain access denied is not delete-pending.
        let denied = Observation::failure(Side::Reader, Op::Open, EACCES);
        assert_eq!(classify(&denied), Class::UnexpectedErrno);
    }

    #[test]
    fn delete_pending_is_expected_but_under_posix_delete_and_sharing_violations_without_share_delete()
     {
        let mut s = Scenario::default();
        assert!(is_expected(Class::DeletePending, &s));
        assert!(!is_expected(Class::SharingViolation, &s));
        s.delete = Delete::Posix;
        assert!(!is_expected(Class::DeletePending, &s));
        s.share_delete = false;
        assert!(is_expected(Class::SharingViolation, &s));
        for c in [Class::DeletePending, Class::SharingViolation] {
            assert!(!c.once_per_cycle() && !c.in_every_report() && !c.is_normal());
            assert_eq!(Class::from_name(c.name()), Some(c));
        }
    }
}
