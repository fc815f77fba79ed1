//! The filesystem's own machinery, shared by its operations: building it
//! over the backing directory, the table lock, the `--stall-ms` delay, the
//! coin that decides whether a race gets the defect, and lookups that
//! record the node they find.

use std::ffi::{CString, OsStr};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use fuser::{Errno, FileAttr, FileType, INodeNo};

use super::super::Options;
use super::super::counts::{Counters, Defect, bump};
use super::super::table::Table;
use super::ZombieFs;
use super::attr::{attr, errno, key, kind};
use crate::sys::{self, flags};

impl ZombieFs {
    /// A filesystem over the backing directory `root`.
    pub fn new(root: OwnedFd, options: Options, counters: Arc<Counters>) -> sys::SysResult<Self> {
        let st = sys::fstat(root.as_fd())?;
        if kind(st.mode) != FileType::Directory {
            return Err(libc::ENOTDIR);
        }
        let seed = options
            .seed
            .unwrap_or_else(|| sys::monotonic_ns() ^ (u64::from(sys::getpid()) << 32));
        Ok(ZombieFs {
            table: Mutex::new(Table::new(root, key(&st))),
            counters,
            options,
            requests: AtomicU64::new(0),
            rng: AtomicU64::new(seed),
        })
    }

    pub(super) fn table(&self) -> MutexGuard<'_, Table> {
        // A panic while holding the lock leaves the table consistent enough
        // to keep serving: every update is a single insert or field write.
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Delays every `stall_every`-th request by `stall_ms` (`--stall-ms`).
    pub(super) fn stall(&self) {
        if self.options.stall_ms == 0 {
            return;
        }
        let n = self.requests.fetch_add(1, Ordering::Relaxed) + 1;
        if n % self.options.stall_every == 0 {
            bump(&self.counters.stalls);
            std::thread::sleep(Duration::from_millis(self.options.stall_ms));
        }
    }

    /// Whether a race gets the defect, with probability `p`
    /// (`--open-probability` for racing opens, `--write-probability` for
    /// creates unlinked before their first write,
    /// `--create-race-probability` for creates racing creates).
    pub(super) fn draw(&self, p: f64) -> bool {
        if p >= 1.0 {
            return true;
        }
        if p <= 0.0 {
            return false;
        }
        // SplitMix64: one atomic add per draw, good enough for a coin.
        let mut z = self
            .rng
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        ((z >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    /// A `write` to node `id` is answered with `EINVAL`: counted in all and for its file.
    pub(super) fn served_einval(&self, id: u64) {
        let path = self.table().path_of(id);
        self.counters.served_at(path, Defect::EinvalWrite);
        bump(&self.counters.zombie_writes);
    }

    pub(super) fn stats_json(&self) -> Vec<u8> {
        self.counters.snapshot().to_json().into_bytes()
    }

    /// Looks `name` up in `parent` and records the lookup; the caller holds the lock.
    pub(super) fn lookup_locked(
        &self,
        table: &mut Table,
        parent: INodeNo,
        name: &CString,
    ) -> Result<FileAttr, Errno> {
        let dir = Arc::clone(&table.node(parent.0).ok_or(Errno::ENOENT)?.fd);
        let fd =
            sys::openat(dir.as_fd(), name, flags::O_PATH | flags::O_NOFOLLOW, 0).map_err(errno)?;
        let st = sys::fstat(fd.as_fd()).map_err(errno)?;
        let id = table.remember(fd, key(&st), kind(st.mode));
        table.named(id, parent.0, OsStr::from_bytes(name.as_bytes()));
        Ok(attr(id, &st))
    }

    /// The attributes of a known node, from its backing inode.
    pub(super) fn node_attr(&self, table: &Table, id: u64) -> Result<FileAttr, Errno> {
        let node = table.node(id).ok_or(Errno::ENOENT)?;
        let st = sys::fstat(node.fd.as_fd()).map_err(errno)?;
        Ok(attr(id, &st))
    }
}
