//! What the harness hands back besides counters: who saw what ([`WorkerId`]),
//! full records of anomalies, stalls and the timeline around the first
//! anomaly.
//!
//! These are the harness's own types. They cross the parent/child pipe of
//! `--workers processes` (hence serde), but they are not the report format:
//! `crate::report::build` turns them into the versioned schema.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::outcome::{Class, Op, Side};
use crate::sys::{Errno, Stat};

/// Which loop a worker runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Reader,
    Deleter,
    /// One of a create race's creators.
    Creator,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Deleter => "deleter",
            Role::Creator => "creator",
        }
    }
}

/// Identity of a worker: its role and index among workers of that role.
/// Written as `reader 0`, `deleter 2`, `creator 5`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WorkerId {
    pub role: Role,
    pub index: u32,
}

impl WorkerId {
    pub const fn reader(index: u32) -> WorkerId {
        WorkerId {
            role: Role::Reader,
            index,
        }
    }

    pub const fn deleter(index: u32) -> WorkerId {
        WorkerId {
            role: Role::Deleter,
            index,
        }
    }

    /// The worker of slot `slot` when there are `readers` readers (the
    /// inverse of [`WorkerId::slot_index`]).
    pub fn of_slot(slot: usize, readers: u32) -> WorkerId {
        match u32::try_from(slot).unwrap_or(u32::MAX) {
            s if s < readers => WorkerId::reader(s),
            s => WorkerId::deleter(s - readers),
        }
    }

    pub const fn creator(index: u32) -> WorkerId {
        WorkerId {
            role: Role::Creator,
            index,
        }
    }

    /// `"reader 0"`, `"deleter 2"`.
    pub fn label(&self) -> String {
        self.to_string()
    }

    /// Position of this worker's slot: readers first, then deleters; a
    /// create race has creators only.
    pub fn slot_index(&self, readers: u32) -> usize {
        match self.role {
            Role::Reader | Role::Creator => self.index as usize,
            Role::Deleter => (readers + self.index) as usize,
        }
    }

    /// Role and index in one number: readers as is, deleters with the top
    /// bit set, creators with the next one.
    pub fn packed(&self) -> u32 {
        match self.role {
            Role::Reader => self.index,
            Role::Deleter => self.index | 1 << 31,
            Role::Creator => self.index | 1 << 30,
        }
    }

    /// Inverse of [`WorkerId::packed`].
    pub fn unpack(v: u32) -> WorkerId {
        if v & 1 << 31 != 0 {
            WorkerId::deleter(v & !(1 << 31))
        } else if v & 1 << 30 != 0 {
            WorkerId::creator(v & !(1 << 30))
        } else {
            WorkerId::reader(v)
        }
    }
}

impl fmt::Display for WorkerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.role.name(), self.index)
    }
}

/// A worker label that is not `reader N` or `deleter N`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a worker (expected `reader N`, `deleter N` or `creator N`)")]
pub struct BadWorker(pub String);

impl FromStr for WorkerId {
    type Err = BadWorker;
    fn from_str(s: &str) -> Result<WorkerId, BadWorker> {
        let bad = || BadWorker(s.to_string());
        let (role, index) = s.split_once(' ').ok_or_else(bad)?;
        let index = index.parse().map_err(|_| bad())?;
        match role {
            "reader" => Ok(WorkerId::reader(index)),
            "deleter" => Ok(WorkerId::deleter(index)),
            "creator" => Ok(WorkerId::creator(index)),
            _ => Err(bad()),
        }
    }
}

impl Serialize for WorkerId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for WorkerId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<WorkerId, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// One anomaly, recorded in full on the rare path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnomalyRecord {
    pub class: Class,
    /// The operation that produced it.
    pub op: Op,
    /// Raw errno, `0` when the operation succeeded.
    pub errno: Errno,
    /// What `fstat` returned on the descriptor, when there was one.
    pub stat: Option<Stat>,
    pub bytes_read: u64,
    pub bytes_expected: u64,
    /// Whether the path existed right after the anomaly.
    pub exists_after: bool,
    /// Monotonic nanoseconds since the scenario started.
    pub t_ns: u64,
    pub worker: WorkerId,
    /// The worker's own cycle index.
    pub cycle: u64,
    /// `stale_content`: the generation read, and the later one of the same
    /// writer seen before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stale_generations: Option<(u64, u64)>,
}

/// How often one (class, side, operation, errno) was seen: the breakdown of
/// the classes an errno alone decides ([`Class::has_errno_breakdown`]),
/// counted on the rare path where the errno was observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrnoCount {
    pub class: Class,
    pub side: Side,
    pub op: Op,
    pub errno: Errno,
    pub count: u64,
}

/// Adds `n` observations of `(class, side, op, errno)` to `counts`.
pub fn add_errno_count(
    counts: &mut Vec<ErrnoCount>,
    (class, side, op, errno): (Class, Side, Op, Errno),
    n: u64,
) {
    match counts
        .iter_mut()
        .find(|c| (c.class, c.side, c.op, c.errno) == (class, side, op, errno))
    {
        Some(c) => c.count += n,
        None => counts.push(ErrnoCount {
            class,
            side,
            op,
            errno,
            count: n,
        }),
    }
}

/// A syscall step that took longer than the watchdog limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stall {
    pub worker: WorkerId,
    /// The step under way (`None` if the worker published no valid op).
    pub op: Option<Op>,
    /// How long it ran, to the controller's polling interval.
    pub elapsed_ns: u64,
    /// The call had still not returned when the run ended.
    pub unfinished: bool,
}

/// Kinds of timeline events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum EventKind {
    OpenBegin = 1,
    OpenEnd = 2,
    ReadEnd = 3,
    RemoveBegin = 4,
    RemoveEnd = 5,
    Recreate = 6,
    Anomaly = 7,
}

impl EventKind {
    pub fn name(self) -> &'static str {
        match self {
            EventKind::OpenBegin => "open_begin",
            EventKind::OpenEnd => "open_end",
            EventKind::ReadEnd => "read_end",
            EventKind::RemoveBegin => "remove_begin",
            EventKind::RemoveEnd => "remove_end",
            EventKind::Recreate => "recreate",
            EventKind::Anomaly => "anomaly",
        }
    }

    pub(super) fn from_u8(v: u8) -> Option<EventKind> {
        Some(match v {
            1 => EventKind::OpenBegin,
            2 => EventKind::OpenEnd,
            3 => EventKind::ReadEnd,
            4 => EventKind::RemoveBegin,
            5 => EventKind::RemoveEnd,
            6 => EventKind::Recreate,
            7 => EventKind::Anomaly,
            _ => return None,
        })
    }
}

/// One event of a worker's timeline.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TimelineEvent {
    /// Nanoseconds relative to the first anomaly (negative: before it).
    pub t_ns: i64,
    pub worker: WorkerId,
    pub kind: EventKind,
    /// Raw errno of the operation that ended, `0` on success.
    pub errno: Errno,
}

/// Events of every worker around the first anomaly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    /// Class of the first anomaly, when the worker that saw it published it.
    pub class: Option<Class>,
    /// Worker that saw it.
    pub worker: WorkerId,
    pub events: Vec<TimelineEvent>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_labels_round_trip() {
        for id in [
            WorkerId::reader(0),
            WorkerId::deleter(17),
            WorkerId::creator(255),
        ] {
            assert_eq!(id.label().parse::<WorkerId>(), Ok(id));
            assert_eq!(WorkerId::unpack(id.packed()), id);
        }
        assert_eq!(WorkerId::deleter(2).label(), "deleter 2");
        for bad in ["reader", "writer 1", "reader -1", "reader x", ""] {
            assert!(bad.parse::<WorkerId>().is_err(), "{bad}");
        }
    }
}
