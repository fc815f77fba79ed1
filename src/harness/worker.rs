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

use std::ffi::{CStr, CString};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU8, AtomicU32, AtomicU64, Ordering::Relaxed};

use crate::content::{self, Content, ContentCheck};
use crate::outcome::{
    CLASS_COUNT, Class, CreateRound, Observation, Op, Side, classify, is_expected,
};
use crate::scenario::{Delete, Pace, Recreate, Scenario, name_of, round_name};
use crate::sys::{self, AsFd, BorrowedFd, EINVAL, ENOENT, ESTALE, Errno, OwnedFd, flags::*};

use super::board::{Board, Call};
use super::overlap::{RemovalMark, any_landed_in};
use super::records::{AnomalyRecord, EventKind, Role, WorkerId};
use super::slot::{WorkerSlot, bump, op_code};

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

/// A value on its own cache lines, so writes to it do not slow down reads of
/// its neighbours.
#[repr(align(128))]
#[derive(Default)]
pub struct Padded<T>(pub T);

/// State every worker of a run shares with the controller.
pub struct Control {
    /// Readers' announcements that they are about to `open` (pace `aimed`):
    /// each reader stores its cycle's start time; aimed deleters spin until
    /// the value changes.
    pub aim: Padded<AtomicU64>,
    /// Ends the current batch.
    pub stop: AtomicBool,
    /// Reader cycles each reader runs in the current batch ([`NONE`]: no cap).
    pub quota_per_reader: AtomicU64,
    /// Readers still inside the current batch; the last one out sets `stop`.
    pub readers_running: AtomicU32,
    /// Anomalies seen in the current batch.
    pub batch_anomalies: AtomicU64,
    /// The batch stops when `batch_anomalies` reaches this ([`NONE`]: never).
    pub until_anomalies: AtomicU64,
    /// Total cycles of the batch when its first anomaly was seen ([`NONE`]: none yet).
    pub batch_first_anomaly_cycle: AtomicU64,
    /// Total raced opens when the batch's first anomaly was seen ([`NONE`]: none yet).
    pub batch_first_anomaly_raced: AtomicU64,
    /// Total cycles and raced opens when every worker of the batch was in
    /// its loop ([`NONE`]: not yet, or not known: worker processes).
    pub batch_racing_cycles: AtomicU64,
    pub batch_racing_raced: AtomicU64,
    /// Time of the first anomaly of the whole run ([`NONE`]: none yet).
    pub first_anomaly_ns: AtomicU64,
    /// Examples kept so far per class.
    pub examples_kept: [AtomicU32; CLASS_COUNT],
    /// Examples to keep per class.
    pub examples_per_class: u32,
    /// Every worker slot, to sum cycles when the first anomaly is seen.
    pub slots: Vec<WorkerSlot>,
    /// One per deleter: its removals, for readers to tell overlapped opens
    /// (empty where readers cannot see the deleters' memory: processes).
    pub removal_marks: Vec<RemovalMark>,
    /// [`WorkerId::packed`] of the worker that saw the first anomaly.
    pub first_anomaly_worker: AtomicU32,
    /// An errno that means the environment failed (full disk, read-only
    /// filesystem, descriptor limit): the run stops; it is not an anomaly.
    pub environment_errno: AtomicI32,
    /// The op that got `environment_errno`.
    pub environment_op: AtomicU8,
    /// Class of the first anomaly.
    pub first_anomaly_class: AtomicU32,
    /// Monotonic time the run started, origin of example timestamps.
    pub t0_ns: u64,
    /// The board of a thread pool's workers (see `board.rs`; worker
    /// processes share a mapped one instead).
    pub board: Box<[AtomicU64]>,
}

impl Control {
    pub fn new(workers: usize, examples_per_class: u32) -> Control {
        Control {
            aim: Padded(AtomicU64::new(0)),
            stop: AtomicBool::new(false),
            quota_per_reader: AtomicU64::new(NONE),
            readers_running: AtomicU32::new(0),
            batch_anomalies: AtomicU64::new(0),
            until_anomalies: AtomicU64::new(NONE),
            batch_first_anomaly_cycle: AtomicU64::new(NONE),
            batch_first_anomaly_raced: AtomicU64::new(NONE),
            batch_racing_cycles: AtomicU64::new(NONE),
            batch_racing_raced: AtomicU64::new(NONE),
            first_anomaly_ns: AtomicU64::new(NONE),
            examples_kept: Default::default(),
            examples_per_class,
            slots: (0..workers).map(|_| WorkerSlot::default()).collect(),
            removal_marks: Vec::new(),
            first_anomaly_worker: AtomicU32::new(u32::MAX),
            first_anomaly_class: AtomicU32::new(u32::MAX),
            environment_errno: AtomicI32::new(0),
            environment_op: AtomicU8::new(0),
            t0_ns: sys::monotonic_ns(),
            board: super::board::heap_words(workers),
        }
    }

    /// With a removal mark for each of `deleters` deleters, so that readers
    /// count overlapped opens (workers that share this memory: threads).
    pub fn with_removal_marks(mut self, deleters: usize) -> Control {
        self.removal_marks = (0..deleters).map(|_| RemovalMark::default()).collect();
        self
    }

    /// Sum of anomalies over every slot (stalls are the controller's).
    pub fn total_anomalies(&self) -> u64 {
        self.slots.iter().map(|s| s.anomalies.load(Relaxed)).sum()
    }

    /// Sum of reader cycles over every slot.
    pub fn total_cycles(&self) -> u64 {
        self.slots.iter().map(|s| s.cycles.load(Relaxed)).sum()
    }

    /// Marks the moment every worker of the batch is in its loop.
    pub fn mark_racing(&self) {
        self.batch_racing_raced
            .store(self.total_raced_opens(), Relaxed);
        self.batch_racing_cycles.store(self.total_cycles(), Relaxed);
    }

    /// Marks the batch's first anomaly (the first caller wins).
    pub fn mark_first_anomaly(&self) {
        if self.batch_first_anomaly_cycle.load(Relaxed) == NONE
            && self
                .batch_first_anomaly_cycle
                .compare_exchange(NONE, self.total_cycles(), Relaxed, Relaxed)
                .is_ok()
        {
            self.batch_first_anomaly_raced
                .store(self.total_raced_opens(), Relaxed);
        }
    }

    /// Sum of raced opens over every slot.
    pub fn total_raced_opens(&self) -> u64 {
        self.slots.iter().map(|s| s.raced_opens.load(Relaxed)).sum()
    }

    /// Sum of racing creates over every slot.
    pub fn total_racing_creates(&self) -> u64 {
        self.slots
            .iter()
            .map(|s| s.racing_creates.load(Relaxed))
            .sum()
    }

    /// Sum of overlapped opens over every slot.
    pub fn total_overlapped_opens(&self) -> u64 {
        self.slots
            .iter()
            .map(|s| s.overlapped_opens.load(Relaxed))
            .sum()
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
            spins: super::board::spins_for(scenario.racers()),
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

    fn reader_batch(&mut self) {
        let quota = self.control.quota_per_reader.load(Relaxed);
        let mut done = 0u64;
        while done < quota && !self.control.stop.load(Relaxed) {
            self.reader_cycle();
            done += 1;
        }
        if self.control.readers_running.fetch_sub(1, Relaxed) == 1 {
            self.control.stop.store(true, Relaxed);
        }
    }

    /// Create rounds until the line says stop: the last creator to arrive
    /// decides for all (the quota of rounds, or the stop flag), so that no
    /// creator is left waiting for the others.
    fn creator_batch(&mut self) {
        let control = self.control;
        let quota = control.quota_per_reader.load(Relaxed);
        let mut done = 0u64;
        while let Some((round, go)) = self.board.arrive(self.creating_lanes, self.spins, || {
            u64::from(done < quota && !control.stop.load(Relaxed))
        }) {
            if go == 0 || !self.create_round(round) {
                break;
            }
            done += 1;
        }
        if control.readers_running.fetch_sub(1, Relaxed) == 1 {
            control.stop.store(true, Relaxed);
        }
    }

    /// One round of the create race on the fresh name of `round`; `false`
    /// when the controller abandoned the batch at the round's second line.
    fn create_round(&mut self, round: u64) -> bool {
        let name_buf = round_name(round);
        self.round_name = name_buf;
        let name = name_of(&name_buf);
        self.busy(Op::Create);
        let begin_ns = self.event(EventKind::OpenBegin, 0);
        self.slot.busy_since_ns.store(begin_ns, Relaxed);
        let opened = sys::openat(
            self.dir,
            name,
            O_WRONLY | self.create_flags | O_NOFOLLOW | self.share,
            0o600,
        );
        let errno = opened.as_ref().err().copied().unwrap_or(0);
        let end_ns = self.event(EventKind::OpenEnd, errno);
        let mine = Call {
            begin_ns,
            end_ns,
            errno,
        };
        self.board.publish(self.lane, mine);
        // Whether the name is there right after a failed create (the round's
        // names go only after its second line): what the example keeps.
        self.exists_after_create = (errno != 0).then(|| self.name_exists());
        if let Ok(fd) = opened {
            // Every winner writes the round's content; they all write the
            // same bytes, so the name ends up with it whoever wrote last.
            self.generation = round;
            let _ = self.write_content(fd, Side::Creator);
        }
        self.slot.busy_since_ns.store(0, Relaxed);
        if self
            .board
            .arrive(self.creating_lanes, self.spins, || 1)
            .is_none()
        {
            return false;
        }
        let view = self.board.round(self.lane, self.creating_lanes, mine);
        bump(&self.slot.cycles);
        if view.raced {
            bump(&self.slot.racing_creates);
        }
        let dir_exists = errno != ENOENT || sys::fstat(self.dir).is_ok_and(|st| st.nlink > 0);
        self.record(
            &Observation {
                dir_exists,
                create_round: Some(CreateRound {
                    exclusive: self.exclusive,
                    winners: view.winners,
                    winners_before: view.winners_before,
                }),
                ..Observation::failure(Side::Creator, Op::Create, errno)
            },
            0,
        );
        if self.lane == 0 {
            self.end_round(name, view.winners > 0);
        }
        true
    }

    /// Creator 0 after a round: reads the name back when the round had a
    /// winner (it must hold the round's content), and removes it (it must
    /// be there when someone made it).
    fn end_round(&mut self, name: &CStr, made: bool) {
        if made {
            self.check_round(name);
        }
        let t = self.event(EventKind::RemoveBegin, 0);
        self.slot.busy_since_ns.store(t, Relaxed);
        self.busy(Op::Unlink);
        let removed = sys::unlinkat(self.dir, name);
        self.event(EventKind::RemoveEnd, removed.err().unwrap_or(0));
        match removed {
            Ok(()) => {}
            Err(ENOENT) if !made => {}
            Err(e) => self.record(&Observation::failure(Side::Creator, Op::Unlink, e), 0),
        }
        self.slot.busy_since_ns.store(0, Relaxed);
    }

    /// Reads a round's name back: it must hold the round's content.
    fn check_round(&mut self, name: &CStr) {
        self.busy(Op::Open);
        self.slot.busy_since_ns.store(sys::monotonic_ns(), Relaxed);
        match sys::openat(self.dir, name, O_RDONLY | O_NOFOLLOW | self.share, 0) {
            Ok(fd) => {
                self.busy(Op::Read);
                let mut got = 0usize;
                let mut failed = None;
                while got < self.read_buf.len() {
                    match sys::read(fd.as_fd(), &mut self.read_buf[got..]) {
                        Ok(0) => break,
                        Ok(n) => got += n,
                        Err(e) => {
                            failed = Some(e);
                            break;
                        }
                    }
                }
                self.close_quietly(fd);
                match failed {
                    Some(e) => self.record(
                        &Observation::failure(Side::Creator, Op::Read, e),
                        got as u64,
                    ),
                    None => {
                        let check = self.content.check(&self.read_buf[..got]);
                        if check != crate::content::ContentCheck::Correct {
                            let obs = Observation {
                                content: Some(check),
                                ..Observation::success(Side::Creator, Op::Read)
                            };
                            self.record(&obs, got as u64);
                        }
                    }
                }
            }
            Err(e) => self.record(&Observation::failure(Side::Creator, Op::Open, e), 0),
        }
    }

    fn deleter_batch(&mut self) {
        match self.pace {
            Pace::Aimed => self.aimed_batch(),
            pace => {
                // `replace` never creates the target, so it always looks first.
                let look = pace != Pace::Spin || self.delete == Delete::Replace;
                while !self.control.stop.load(Relaxed) {
                    self.deleter_step(look);
                }
            }
        }
    }

    /// Pace `aimed`: spin on the readers' announcement (a load, no syscall)
    /// and remove the moment one announces an `open`.
    fn aimed_batch(&mut self) {
        let control = self.control;
        let mut seen = control.aim.0.load(Relaxed);
        loop {
            let now = control.aim.0.load(Relaxed);
            if now != seen {
                seen = now;
                self.deleter_step(self.delete == Delete::Replace);
            } else if control.stop.load(Relaxed) {
                break;
            } else {
                std::hint::spin_loop();
            }
        }
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

    /// One reader cycle: open → fstat → read to EOF → verify → close, or
    /// `ENOENT` → recreate.
    fn reader_cycle(&mut self) {
        self.busy(Op::Open);
        let t = self.event(EventKind::OpenBegin, 0);
        self.slot.busy_since_ns.store(t, Relaxed);
        if self.announce {
            self.control.aim.0.store(t, Relaxed);
        }
        let opened = sys::openat(self.dir, TARGET, O_RDONLY | O_NOFOLLOW | self.share, 0);
        match opened {
            Err(e) => {
                self.event(EventKind::OpenEnd, e);
                bump(&self.slot.cycles);
                // Is the name still there for `stat`? Asked where an open
                // must not fail while it is: `EINVAL` and `ESTALE` (rare),
                // and with two views `ENOENT` (the reader's view may cache
                // a name the other side removed).
                let look = matches!(e, EINVAL | ESTALE) || (e == ENOENT && self.split);
                let obs = Observation {
                    name_visible: look && sys::fstatat(self.dir, TARGET).is_ok(),
                    ..Observation::failure(Side::Reader, Op::Open, e)
                };
                self.record(&obs, 0);
                if e == ENOENT {
                    self.recreate();
                }
            }
            Ok(fd) => {
                let ended = self.event(EventKind::OpenEnd, 0);
                bump(&self.slot.cycles);
                self.read_and_verify(fd, (t, ended));
            }
        }
        self.slot.busy_since_ns.store(0, Relaxed);
    }

    /// `open`: when the `open` began and returned.
    fn read_and_verify(&mut self, fd: OwnedFd, open: (u64, u64)) {
        self.busy(Op::Fstat);
        let stat = match sys::fstat(fd.as_fd()) {
            Ok(st) => {
                // A raced open: the last link went before this `fstat`
                // (or the descriptor is the macOS zombie, `st_ino == 0`).
                if st.nlink == 0 || st.ino == 0 {
                    self.raced(open);
                }
                st
            }
            Err(e) => {
                // The same window where `fstat` goes by the path (sshfs):
                // the name went before this `fstat`.
                if e == ENOENT {
                    self.raced(open);
                }
                self.close_quietly(fd);
                self.record(&Observation::failure(Side::Reader, Op::Fstat, e), 0);
                return;
            }
        };
        self.busy(Op::Read);
        let mut got = 0usize;
        while got < self.read_buf.len() {
            match sys::read(fd.as_fd(), &mut self.read_buf[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) => {
                    self.event(EventKind::ReadEnd, e);
                    self.close_quietly(fd);
                    let obs = Observation {
                        stat: Some(stat),
                        ..Observation::failure(Side::Reader, Op::Read, e)
                    };
                    self.record(&obs, got as u64);
                    return;
                }
            }
        }
        self.event(EventKind::ReadEnd, 0);
        self.busy(Op::Close);
        if let Err(e) = sys::close(fd) {
            self.record(
                &Observation::failure(Side::Reader, Op::Close, e),
                got as u64,
            );
            return;
        }
        let check = match self.content.check(&self.read_buf[..got]) {
            ContentCheck::Correct => self.check_generation(got),
            other => other,
        };
        let obs = Observation {
            stat: Some(stat),
            content: Some(check),
            ..Observation::success(Side::Reader, Op::Read)
        };
        self.record(&obs, got as u64);
    }

    /// Counts a raced open, and whether the removal that took its file
    /// ended while its `open` was running (an overlapped open).
    #[inline]
    fn raced(&self, (began, ended): (u64, u64)) {
        bump(&self.slot.raced_opens);
        if any_landed_in(&self.control.removal_marks, began, ended) {
            bump(&self.slot.overlapped_opens);
        }
    }

    /// Correct content is stale when its writer is known to have written a
    /// later generation since: a file holding a generation is replaced
    /// (removed, renamed over or truncated) before its writer writes the
    /// next one, so no later `open` may find it. Content without a header
    /// (under 16 bytes) cannot tell.
    #[inline]
    fn check_generation(&mut self, got: usize) -> ContentCheck {
        let Some(generation) = self.content.generation(&self.read_buf[..got]) else {
            return ContentCheck::Correct;
        };
        match self.last_generation.get_mut(content::writer_of(generation)) {
            Some(last) if generation < *last => {
                self.stale_generations = (generation, *last);
                ContentCheck::Stale
            }
            Some(last) => {
                *last = generation;
                ContentCheck::Correct
            }
            // No such writer: bytes that only look right.
            None => ContentCheck::Wrong,
        }
    }

    /// Close after a failure: its own errno would only hide the first one.
    fn close_quietly(&self, fd: OwnedFd) {
        let _ = sys::close(fd);
    }

    /// Recreates the target: a reader after `ENOENT`; with two views and
    /// deleters recreating, a deleter after each removal, through its side
    /// (counted in `recreations`, not as the reader's class `recreated`).
    fn recreate(&mut self) {
        let side = self.side();
        let written = match self.recreate {
            Recreate::Inplace => self.write_file(TARGET),
            Recreate::Atomic => {
                let tmp = Arc::clone(&self.tmp_name);
                self.write_file(&tmp)
                    .and_then(|()| self.rename_over(&tmp, side))
            }
        };
        if written.is_ok() {
            self.event(EventKind::Recreate, 0);
            bump(&self.slot.recreations);
            if side == Side::Reader {
                self.count(Class::Recreated);
            }
        }
    }

    /// `open(O_WRONLY|O_CREAT|O_TRUNC)` + `write` of a fresh generation + `close`.
    /// A step that failed is recorded, and its errno returned. A reader's
    /// create of the target publishes its call on the board and counts as a
    /// racing create when it overlapped another reader's.
    fn write_file(&mut self, name: &CStr) -> Result<(), Errno> {
        let side = self.side();
        self.busy(Op::Create);
        let shared_name = side == Side::Reader && name == TARGET;
        let begin_ns = if shared_name {
            let t = sys::monotonic_ns();
            self.board.begin_live(self.lane, t);
            t
        } else {
            0
        };
        let opened = sys::openat(
            self.dir,
            name,
            O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | self.share,
            0o600,
        );
        if shared_name {
            let end_ns = sys::monotonic_ns();
            self.board.end_live(self.lane, end_ns);
            let mine = Call {
                begin_ns,
                end_ns,
                errno: 0,
            };
            if self.board.raced_live(self.lane, self.creating_lanes, mine) {
                bump(&self.slot.racing_creates);
            }
        }
        let fd = match opened {
            Ok(fd) => fd,
            Err(e) => {
                let dir_exists = e != ENOENT || sys::fstat(self.dir).is_ok_and(|st| st.nlink > 0);
                self.record(
                    &Observation {
                        dir_exists,
                        ..Observation::failure(side, Op::Create, e)
                    },
                    0,
                );
                return Err(e);
            }
        };
        self.generation += 1;
        self.write_content(fd, side)
    }

    /// Writes the current generation into `fd`, then closes it; a step that
    /// failed is recorded, and its errno returned.
    fn write_content(&mut self, fd: OwnedFd, side: Side) -> Result<(), Errno> {
        self.content.stamp(&mut self.write_buf, self.generation);
        self.last_generation[self.own_slot] = self.generation;
        self.busy(Op::Write);
        let mut off = 0;
        while off < self.write_buf.len() {
            match sys::write(fd.as_fd(), &self.write_buf[off..]) {
                Ok(n) if n > 0 => off += n,
                Ok(_) => {
                    // A write that wrote nothing is an I/O failure.
                    self.close_quietly(fd);
                    self.record(&Observation::failure(side, Op::Write, sys::EIO), off as u64);
                    return Err(sys::EIO);
                }
                Err(e) => {
                    self.close_quietly(fd);
                    self.record(&Observation::failure(side, Op::Write, e), off as u64);
                    return Err(e);
                }
            }
        }
        self.busy(Op::Close);
        if let Err(e) = sys::close(fd) {
            self.record(&Observation::failure(side, Op::Close, e), 0);
            return Err(e);
        }
        Ok(())
    }

    /// `rename(from, TARGET)`; a failure is recorded and its errno returned.
    fn rename_over(&mut self, from: &CStr, side: Side) -> Result<(), Errno> {
        self.busy(Op::Rename);
        sys::renameat(self.dir, from, self.dir, TARGET).inspect_err(|&e| {
            self.record(&Observation::failure(side, Op::Rename, e), 0);
        })
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

    /// One deleter step: with `look`, remove the target if it exists and
    /// pace when it does not; without, remove blindly (a removal that finds
    /// nothing counts as `remove_enoent`).
    fn deleter_step(&mut self, look: bool) {
        if look {
            self.busy(Op::Access);
            self.slot.busy_since_ns.store(sys::monotonic_ns(), Relaxed);
            match sys::exists_at(self.dir, TARGET) {
                Ok(true) => {}
                Ok(false) => {
                    self.slot.busy_since_ns.store(0, Relaxed);
                    match self.pace {
                        // The shortest sleep: a sleeper wakes with priority,
                        // often right when the file is back.
                        Pace::Sleep => sys::pause_briefly(),
                        // Under EEVDF (Linux >= 6.6) a yielding task's deadline
                        // moves back each time: sometimes that starves it.
                        Pace::Yield => std::thread::yield_now(),
                        _ => {}
                    }
                    return;
                }
                Err(e) => {
                    self.record(&Observation::failure(Side::Deleter, Op::Access, e), 0);
                    return;
                }
            }
        }
        let t = self.event(EventKind::RemoveBegin, 0);
        self.slot.busy_since_ns.store(t, Relaxed);
        let removed = match self.delete {
            Delete::Unlink => self.unlink(TARGET),
            Delete::Posix => {
                self.busy(Op::Unlink);
                posix_delete(self.dir, TARGET)
            }
            Delete::Trash => {
                self.busy(Op::Rename);
                match sys::renameat(self.dir, TARGET, self.dir, &self.trash_name) {
                    Ok(()) => {
                        // The name went with the rename; the unlink in the
                        // trash removes nothing a reader can open.
                        self.mark_took(sys::monotonic_ns());
                        let trash = Arc::clone(&self.trash_name);
                        self.unlink(&trash)
                    }
                    Err(e) => Err(e),
                }
            }
            Delete::Replace => {
                let tmp = Arc::clone(&self.tmp_name);
                let replaced = self
                    .write_file(&tmp)
                    .and_then(|()| self.rename_over(&tmp, Side::Deleter));
                // A failure was recorded by the write or the rename; the
                // timeline shows its errno.
                if let Err(e) = replaced {
                    self.event(EventKind::RemoveEnd, e);
                    self.slot.busy_since_ns.store(0, Relaxed);
                    return;
                }
                Ok(())
            }
        };
        match removed {
            Ok(()) => {
                let ended = self.event(EventKind::RemoveEnd, 0);
                if self.delete != Delete::Trash {
                    self.mark_took(ended);
                }
                bump(&self.slot.removals);
                self.count(Class::Removed);
                if self.recreates_after_removal {
                    self.recreate();
                }
            }
            Err(e) => {
                self.event(EventKind::RemoveEnd, e);
                let op = if self.delete == Delete::Trash {
                    Op::Rename
                } else {
                    Op::Unlink
                };
                self.record(&Observation::failure(Side::Deleter, op, e), 0);
            }
        }
        self.slot.busy_since_ns.store(0, Relaxed);
    }

    /// Publishes that a call took the target's name and returned at `t_ns`
    /// (overlapped opens: see `overlap.rs`).
    #[inline]
    fn mark_took(&self, t_ns: u64) {
        if let Some(mark) = self.mark {
            mark.took(t_ns);
        }
    }

    fn unlink(&mut self, name: &CStr) -> Result<(), Errno> {
        self.busy(Op::Unlink);
        sys::unlinkat(self.dir, name)
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

/// Windows's POSIX-semantics delete.
#[cfg(windows)]
fn posix_delete(dir: BorrowedFd<'_>, name: &CStr) -> Result<(), Errno> {
    sys::unlinkat_posix(dir, name)
}

/// Only Windows has it: [`Scenario::validate`] refuses `posix` elsewhere.
#[cfg(not(windows))]
fn posix_delete(_dir: BorrowedFd<'_>, _name: &CStr) -> Result<(), Errno> {
    Err(sys::ENOSYS)
}
