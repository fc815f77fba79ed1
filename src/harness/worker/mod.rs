//! The reader, deleter and creator loops (docs/methods.md#what-a-cycle-is) — the hot
//! path.
//!
//! A cycle does its syscalls, one [`classify`] call, a few relaxed stores into
//! the worker's own [`WorkerSlot`] and three clock reads for the timeline. It
//! allocates nothing, formats nothing and takes no lock; the rare anomaly path
//! (examples, the shared anomaly count, the first-anomaly mark) is kept out of
//! line in `Worker::on_anomaly`.
//!
//! A creator's cycle is one create call of a create race's round: the
//! creators wait at the board's line, call `openat(O_CREAT…)` on the round's
//! fresh name together, write the round's content, wait at the line again,
//! and then each classifies its own call knowing the whole round (who won,
//! whose call overlapped whose). Creator 0 then reads the name back and
//! removes it.
//!
//! The loops live one file per role: `reader.rs`, `deleter.rs` (with the
//! pacings) and `creator.rs`; `write.rs` writes the file for all three, and
//! `control.rs` holds what the workers share with the controller. Here are
//! the worker itself and what every loop calls: the timeline, the
//! classification and the rare anomaly path.

mod control;
mod creator;
mod deleter;
mod reader;
mod write;

use std::ffi::{CStr, CString};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use crate::content::{self, Content};
use crate::outcome::{CLASS_COUNT, Class, Observation, Op, Side, classify, is_expected};
use crate::scenario::{Delete, Pace, Recreate, Scenario};
use crate::sys::{self, BorrowedFd, Errno, OwnedFd, flags::*};

use super::board::Board;
use super::overlap::RemovalMark;
use super::records::{AnomalyRecord, EventKind, Role, WorkerId};
use super::slot::{WorkerSlot, bump, op_code};

pub use control::Control;

/// The name readers open and deleters remove, inside the scratch directory.
pub const TARGET: &CStr = c"DEST.txt";
/// The trash directory of the `trash` delete strategy.
pub const TRASH_DIR: &CStr = c"trash";

/// Events a worker still records after the first anomaly, so the ring keeps
/// what happened around it.
const EVENTS_AFTER_FIRST_ANOMALY: u64 = 64;

/// "No value" in atomics that hold a cycle count or a time.
pub const NONE: u64 = u64::MAX;

/// The scratch directory as each side reaches it: one descriptor for both
/// with one view; with two, deleters hold the other side's.
pub struct SideDirs {
    pub reader: Arc<OwnedFd>,
    pub deleter: Arc<OwnedFd>,
}

impl SideDirs {
    /// The descriptor a worker of `role` works through.
    pub fn of(&self, role: Role) -> &Arc<OwnedFd> {
        match role {
            Role::Reader | Role::Creator => &self.reader,
            Role::Deleter => &self.deleter,
        }
    }
}

/// A worker's own names in the scratch directory: its temporary file and, for
/// a deleter, its name in the trash directory (`""` for a reader).
pub fn private_names(id: WorkerId) -> [String; 2] {
    match id.role {
        Role::Reader => [format!("tmp-r{}", id.index), String::new()],
        Role::Deleter => [format!("tmp-d{}", id.index), format!("trash/d{}", id.index)],
        Role::Creator => [format!("tmp-c{}", id.index), String::new()],
    }
}

/// One worker: its buffers, names and precomputed tables.
pub struct Worker<'a> {
    id: WorkerId,
    dir: BorrowedFd<'a>,
    control: &'a Control,
    slot: &'a WorkerSlot,
    /// A deleter's removal mark (`None` for a reader, and where nobody reads it).
    mark: Option<&'a RemovalMark>,
    recreate: Recreate,
    delete: Delete,
    /// The deleter's pacing (never `auto`: the harness resolved it).
    pace: Pace,
    /// Whether this reader announces its opens (pace `aimed`).
    announce: bool,
    content: Content,
    /// What writes write (stamped with a generation each time).
    write_buf: Vec<u8>,
    /// Where reads land: one byte longer than the content, to see overlong files.
    read_buf: Vec<u8>,
    generation: u64,
    /// Private temporary name (atomic recreate, replace delete). Shared
    /// pointers so a call can hold the name while borrowing `self` mutably;
    /// cloning one allocates nothing.
    tmp_name: Arc<CStr>,
    /// Private name in the trash directory (trash delete).
    trash_name: Arc<CStr>,
    /// `anomaly[class]`: whether the class is an anomaly under the scenario.
    anomaly: [bool; CLASS_COUNT],
    /// Events recorded since the first anomaly ([`NONE`]: not yet seen).
    events_since_first: u64,
    /// Two views: an `open` that fails with `ENOENT` is followed by a `stat`
    /// of the name (`open_enoent_visible`).
    split: bool,
    /// A deleter that recreates the file after each removal.
    recreates_after_removal: bool,
    /// This worker's slot: the writer its generations name.
    own_slot: usize,
    /// The last generation seen (read or written) of each writer, by slot:
    /// an older one read later is stale content.
    last_generation: Vec<u64>,
    /// The last stale read: the generation read and the later one seen before.
    stale_generations: (u64, u64),
    /// What creates share: the create race's line and every worker's last
    /// create call.
    board: Board<'a>,
    /// This worker's lane on the board (its slot index in the whole pool).
    lane: usize,
    /// Lanes that create the race's names: creators, or the readers (whose
    /// inplace recreates race each other's).
    creating_lanes: u32,
    /// A creator's `openat` flags beyond `O_WRONLY|O_NOFOLLOW`.
    create_flags: i32,
    /// Flags every `openat` of the race's files carries: the share mode
    /// (`O_NO_SHARE_DELETE` on Windows without `FILE_SHARE_DELETE`).
    share: i32,
    /// The create race's flags carry `O_EXCL`.
    exclusive: bool,
    /// Where a round's name is spelled.
    round_name: [u8; 18],
    /// Whether the round's name existed right after this creator's create
    /// failed (looked at then, before the name is removed).
    exists_after_create: Option<bool>,
    /// How long this creator spins at the line before it yields.
    spins: u32,
}

/// What a worker reads into and writes from, allocated before it starts so
/// that a memory limit is an error the run reports, not an abort.
pub struct Buffers {
    content: Content,
    write: Vec<u8>,
    /// Readers and creators (creator 0 reads each round's name back): one
    /// byte longer than the content, to see overlong files.
    read: Vec<u8>,
}

impl Buffers {
    /// The buffers of a worker in `role` for `content`; `Err` holds the
    /// bytes that could not be allocated.
    pub fn allocate(role: Role, content: &Content) -> Result<Buffers, u64> {
        let size = content.len();
        let write = content.try_buffer().map_err(|_| size as u64)?;
        let read = match role {
            Role::Reader | Role::Creator => {
                crate::content::zeroed(size + 1).map_err(|_| size as u64 + 1)?
            }
            Role::Deleter => Vec::new(),
        };
        Ok(Buffers {
            content: content.clone(),
            write,
            read,
        })
    }
}

impl<'a> Worker<'a> {
    /// A worker publishing into `control.slots[slot_index]`, sharing `board`
    /// with the others (its lane is its place among all the workers), with
    /// its buffers allocated beforehand ([`Buffers::allocate`]).
    pub fn with_buffers(
        id: WorkerId,
        scenario: &Scenario,
        dir: BorrowedFd<'a>,
        control: &'a Control,
        slot_index: usize,
        board: Board<'a>,
        buffers: Buffers,
    ) -> Worker<'a> {
        let [tmp, trash] = private_names(id);
        let slot = &control.slots[slot_index];
        let mark = match id.role {
            Role::Reader | Role::Creator => None,
            Role::Deleter => control.removal_marks.get(id.index as usize),
        };
        Worker {
            id,
            dir,
            control,
            slot,
            mark,
            recreate: scenario.recreate,
            delete: scenario.delete,
            pace: scenario.pace,
            announce: id.role == Role::Reader && scenario.pace == Pace::Aimed,
            write_buf: buffers.write,
            read_buf: buffers.read,
            content: buffers.content,
            generation: content::first_generation(id.slot_index(scenario.readers)),
            tmp_name: CString::new(tmp).expect("no NUL in worker names").into(),
            trash_name: CString::new(trash).expect("no NUL in worker names").into(),
            anomaly: Class::ALL.map(|c| !is_expected(c, scenario)),
            events_since_first: NONE,
            split: scenario.views.is_split(),
            recreates_after_removal: id.role == Role::Deleter && scenario.views.deleters_recreate(),
            own_slot: id.slot_index(scenario.readers),
            last_generation: (0..scenario.workers_count())
                .map(|slot| content::first_generation(slot as usize))
                .collect(),
            stale_generations: (0, 0),
            board,
            lane: id.slot_index(scenario.readers),
            creating_lanes: scenario.racers(),
            create_flags: scenario.create_flags.open_flags(),
            share: if scenario.share_delete {
                0
            } else {
                O_NO_SHARE_DELETE
            },
            exclusive: scenario.create_flags.exclusive(),
            round_name: [0; 18],
            exists_after_create: None,
            spins: super::board::spins_for(
                scenario.racers(),
                sys::platform::served_in_user_space(dir),
            ),
        }
    }

    /// Runs this worker's loop until the batch ends.
    pub fn run_batch(&mut self) {
        match self.id.role {
            Role::Reader => self.reader_batch(),
            Role::Deleter => self.deleter_batch(),
            Role::Creator => self.creator_batch(),
        }
        self.slot.busy_since_ns.store(0, Relaxed);
        self.slot.finished_ns.store(sys::monotonic_ns(), Relaxed);
    }

    /// Records a timeline event, and marks the step as busy for the watchdog.
    #[inline]
    fn event(&mut self, kind: EventKind, errno: Errno) -> u64 {
        let t = sys::monotonic_ns();
        if self.events_since_first == NONE && self.control.first_anomaly_ns.load(Relaxed) != NONE {
            self.events_since_first = 0;
        }
        if self.events_since_first == NONE || self.events_since_first < EVENTS_AFTER_FIRST_ANOMALY {
            self.slot.push_event(t, kind, errno);
            if self.events_since_first != NONE {
                self.events_since_first += 1;
            }
        }
        t
    }

    #[inline]
    fn busy(&self, op: Op) {
        self.slot.busy_op.store(op_code(op), Relaxed);
    }

    /// Close after a failure: its own errno would only hide the first one.
    fn close_quietly(&self, fd: OwnedFd) {
        let _ = sys::close(fd);
    }

    /// Whether the name this worker races on exists now.
    #[cold]
    fn name_exists(&self) -> bool {
        sys::exists_at(self.dir, self.target_name()).unwrap_or(false)
    }

    /// The name this worker races on: the target, or a creator's round name.
    fn target_name(&self) -> &CStr {
        match self.id.role {
            Role::Creator => CStr::from_bytes_until_nul(&self.round_name).unwrap_or(TARGET),
            _ => TARGET,
        }
    }

    fn side(&self) -> Side {
        match self.id.role {
            Role::Reader => Side::Reader,
            Role::Deleter => Side::Deleter,
            Role::Creator => Side::Creator,
        }
    }

    /// Counts a class that needs no classification.
    #[inline]
    fn count(&self, class: Class) {
        bump(&self.slot.counts[class.index()]);
    }

    /// Classifies and counts one observation.
    #[inline]
    fn record(&mut self, obs: &Observation, bytes_read: u64) {
        if sys::is_environment_errno(obs.errno) {
            self.on_environment_error(obs);
            return;
        }
        let class = classify(obs);
        // A failing scratch directory is the environment, not the race.
        if obs.errno != 0 && self.anomaly[class.index()] {
            if let Some(errno) = sys::dir_failure(self.dir) {
                self.on_environment_error(&Observation { errno, ..*obs });
                return;
            }
        }
        self.count(class);
        if class == Class::EmptyRead {
            match obs.stat {
                Some(st) if st.nlink == 0 => bump(&self.slot.empty_nlink_zero),
                _ => bump(&self.slot.empty_nlink_nonzero),
            }
        }
        if self.anomaly[class.index()] {
            self.on_anomaly(class, obs, bytes_read);
        }
    }

    /// The environment failed: stop the run and say why; nothing is counted.
    #[cold]
    #[inline(never)]
    fn on_environment_error(&self, obs: &Observation) {
        let c = self.control;
        if c.environment_errno
            .compare_exchange(0, obs.errno, Relaxed, Relaxed)
            .is_ok()
        {
            c.environment_op.store(op_code(obs.op), Relaxed);
        }
        c.stop.store(true, Relaxed);
    }

    /// The rare path: count it run-wide, mark the first, keep an example.
    #[cold]
    #[inline(never)]
    fn on_anomaly(&mut self, class: Class, obs: &Observation, bytes_read: u64) {
        let c = self.control;
        let t = self.event(EventKind::Anomaly, obs.errno);
        bump(&self.slot.anomalies);
        let seen = c.batch_anomalies.fetch_add(1, Relaxed) + 1;
        if seen >= c.until_anomalies.load(Relaxed) {
            c.stop.store(true, Relaxed);
        }
        c.mark_first_anomaly();
        if c.first_anomaly_ns
            .compare_exchange(NONE, t, Relaxed, Relaxed)
            .is_ok()
        {
            c.first_anomaly_worker.store(self.id.packed(), Relaxed);
            c.first_anomaly_class.store(class.index() as u32, Relaxed);
        }
        if class.has_errno_breakdown() {
            self.slot.count_errno((class, obs.side, obs.op, obs.errno));
        }
        if c.examples_kept[class.index()].fetch_add(1, Relaxed) < c.examples_per_class {
            let example = AnomalyRecord {
                class,
                op: obs.op,
                errno: obs.errno,
                stat: obs.stat,
                bytes_read,
                bytes_expected: self.content.len() as u64,
                exists_after: match (obs.op, self.exists_after_create) {
                    (Op::Create, Some(exists)) => exists,
                    _ => self.name_exists(),
                },
                t_ns: t.saturating_sub(c.t0_ns),
                worker: self.id,
                cycle: self.slot.cycles.load(Relaxed),
                stale_generations: (class == Class::StaleContent).then_some(self.stale_generations),
            };
            if let Ok(mut examples) = self.slot.examples.lock() {
                examples.push(example);
            }
        }
    }
}
