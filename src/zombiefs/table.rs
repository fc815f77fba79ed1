//! Inodes and open handles, and the rule that turns a handle into a zombie.
//!
//! A *node* is what the kernel knows by a node id: one backing inode, held by
//! a descriptor (`O_PATH` for looked-up names) so that it stays the same
//! inode whatever happens to its names. Node ids are never reused. A node
//! stays in the table until the kernel forgets it, so it outlives its last
//! link; [`Links`] records how that link went:
//!
//! - [`Links::Unlinked`] by `unlink` (directly, or after a rename into a
//!   trash directory): an `OPEN` of it is the race macOS gets wrong, and
//!   yields a zombie; a created handle that has not written yet turns zombie
//!   at its first write.
//! - [`Links::Replaced`] by a rename over it (or `rmdir`): never a zombie.
//!
//! `fstat` reaches FUSE as a `GETATTR` *without* the file handle, so a zombie
//! is recognised by the thread that opened it: the kernel sends the calling
//! thread's id with every request. A `GETATTR` that does carry a handle is
//! answered for that handle.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::File;
use std::os::fd::OwnedFd;
use std::sync::Arc;

use fuser::FileType;

/// The kernel's id for the root directory.
pub(crate) const ROOT: u64 = 1;
/// Node id of the virtual stats file.
pub(crate) const STATS_NODE: u64 = 2;
const FIRST_NODE: u64 = 3;

/// Backing identity: `(st_dev, st_ino)`.
pub(crate) type Key = (u64, u64);

/// How a node lost (or kept) its names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Links {
    Linked,
    /// Last link removed by `unlink`: the macOS defect applies.
    Unlinked,
    /// Last link removed by a rename over it, or by `rmdir`.
    Replaced,
}

#[derive(Debug)]
pub(crate) struct Node {
    /// The backing inode (`O_PATH`, or a duplicate of the descriptor that created it).
    pub fd: Arc<OwnedFd>,
    pub kind: FileType,
    pub key: Key,
    /// Lookups the kernel has not forgotten yet.
    pub nlookup: u64,
    pub links: Links,
    /// Open zombie handles on this node.
    pub zombies: Vec<u64>,
    /// The parent and name it was last looked up or created by.
    pub name: Option<(u64, OsString)>,
}

/// One entry of a directory listing, taken when the directory is opened.
#[derive(Debug, Clone)]
pub(crate) struct DirEntry {
    pub name: OsString,
    pub ino: u64,
    pub kind: FileType,
}

/// What an open handle reads and writes.
#[derive(Debug, Clone)]
pub(crate) enum Open {
    File(Arc<File>),
    Zombie,
    /// The stats JSON as it was at open time.
    Stats(Arc<[u8]>),
    Dir(Arc<[DirEntry]>),
}

#[derive(Debug)]
pub(crate) struct Handle {
    pub node: u64,
    pub open: Open,
    /// Thread that opened it (the `pid` of the request).
    pub pid: u32,
    /// Opened by `CREATE` and not written yet.
    pub fresh_create: bool,
    /// Opened by `CREATE` and not closed yet (no `FLUSH`): its creation is
    /// under way.
    pub creating: bool,
}

#[derive(Debug)]
pub(crate) struct Table {
    nodes: HashMap<u64, Node>,
    /// Linked nodes by backing identity, so that hard links share a node.
    by_key: HashMap<Key, u64>,
    handles: HashMap<u64, Handle>,
    next_node: u64,
    next_fh: u64,
}

impl Table {
    pub fn new(root: OwnedFd, key: Key) -> Table {
        let mut table = Table {
            nodes: HashMap::new(),
            by_key: HashMap::new(),
            handles: HashMap::new(),
            next_node: FIRST_NODE,
            next_fh: 1,
        };
        table.nodes.insert(
            ROOT,
            Node {
                fd: Arc::new(root),
                kind: FileType::Directory,
                key,
                // The kernel never forgets the root.
                nlookup: 1,
                links: Links::Linked,
                zombies: Vec::new(),
                name: None,
            },
        );
        table.by_key.insert(key, ROOT);
        table
    }

    pub fn node(&self, id: u64) -> Option<&Node> {
        self.nodes.get(&id)
    }

    /// The node id of a linked backing inode, if the kernel knows it.
    pub fn id_of(&self, key: Key) -> Option<u64> {
        self.by_key.get(&key).copied()
    }

    /// Records one more lookup of the inode `fd` names, and returns its node id:
    /// the existing node when the inode is already known (then `fd` is dropped).
    pub fn remember(&mut self, fd: OwnedFd, key: Key, kind: FileType) -> u64 {
        if let Some(id) = self.by_key.get(&key) {
            let node = self.nodes.get_mut(id).expect("by_key points at a node");
            node.nlookup += 1;
            return *id;
        }
        let id = self.next_node;
        self.next_node += 1;
        self.nodes.insert(
            id,
            Node {
                fd: Arc::new(fd),
                kind,
                key,
                nlookup: 1,
                links: Links::Linked,
                zombies: Vec::new(),
                name: None,
            },
        );
        self.by_key.insert(key, id);
        id
    }

    /// Records that node `id` was reached as `name` in directory `parent`.
    pub fn named(&mut self, id: u64, parent: u64, name: &std::ffi::OsStr) {
        if let Some(node) = self.nodes.get_mut(&id) {
            if node
                .name
                .as_ref()
                .is_none_or(|(p, n)| *p != parent || n != name)
            {
                node.name = Some((parent, name.to_os_string()));
            }
        }
    }

    /// The path of node `id` relative to the root, from the names it and
    /// its directories were last reached by (`?` for a name never seen).
    pub fn path_of(&self, id: u64) -> std::path::PathBuf {
        let mut names = Vec::new();
        let mut at = id;
        // Bounded: a chain of stale names could loop.
        for _ in 0..256 {
            if at == ROOT {
                break;
            }
            match self.nodes.get(&at).and_then(|n| n.name.as_ref()) {
                Some((parent, name)) => {
                    names.push(name.as_os_str());
                    at = *parent;
                }
                None => {
                    names.push(std::ffi::OsStr::new("?"));
                    break;
                }
            }
        }
        names.iter().rev().collect()
    }

    /// One more lookup of a known node (a hard link to it was made).
    pub fn looked_up(&mut self, id: u64) {
        if let Some(node) = self.nodes.get_mut(&id) {
            node.nlookup += 1;
        }
    }

    /// The kernel dropped `n` lookups of `id`; the node goes when none are left.
    pub fn forget(&mut self, id: u64, n: u64) {
        if id == ROOT || id == STATS_NODE {
            return;
        }
        let Some(node) = self.nodes.get_mut(&id) else {
            return;
        };
        node.nlookup = node.nlookup.saturating_sub(n);
        if node.nlookup == 0 {
            let key = node.key;
            self.nodes.remove(&id);
            if self.by_key.get(&key) == Some(&id) {
                self.by_key.remove(&key);
            }
        }
    }

    /// The backing inode `key` lost a name and has `nlink` left; at 0 its node
    /// is marked with `how` and can no longer be found by name.
    pub fn lost_link(&mut self, key: Key, nlink: u64, how: Links) {
        if nlink > 0 {
            return;
        }
        let Some(id) = self.by_key.remove(&key) else {
            return;
        };
        if let Some(node) = self.nodes.get_mut(&id) {
            node.links = how;
        }
    }

    /// Whether an `OPEN` of `id` now is the race: the node was looked up and
    /// its last link was unlinked since.
    pub fn is_racing_open(&self, id: u64) -> bool {
        self.nodes
            .get(&id)
            .is_some_and(|n| n.links == Links::Unlinked && n.kind == FileType::RegularFile)
    }

    pub fn add_handle(&mut self, node: u64, open: Open, pid: u32, fresh_create: bool) -> u64 {
        let fh = self.next_fh;
        self.next_fh += 1;
        if matches!(open, Open::Zombie) {
            if let Some(n) = self.nodes.get_mut(&node) {
                n.zombies.push(fh);
            }
        }
        self.handles.insert(
            fh,
            Handle {
                node,
                open,
                pid,
                fresh_create,
                creating: fresh_create,
            },
        );
        fh
    }

    pub fn handle(&self, fh: u64) -> Option<&Handle> {
        self.handles.get(&fh)
    }

    pub fn release(&mut self, fh: u64) {
        if let Some(h) = self.handles.remove(&fh) {
            if let Some(node) = self.nodes.get_mut(&h.node) {
                node.zombies.retain(|&z| z != fh);
            }
        }
    }

    /// What a `write` on `fh` may do. The first write of a created handle
    /// settles its fate: when its node was unlinked since the create (a
    /// *racing create*), `turns_zombie` is asked once whether it becomes a
    /// zombie; otherwise it writes, as Linux lets it.
    pub fn before_write(
        &mut self,
        fh: u64,
        turns_zombie: impl FnOnce() -> bool,
    ) -> Result<WriteFate, ()> {
        let h = self.handles.get_mut(&fh).ok_or(())?;
        let file = match &h.open {
            Open::File(f) => Arc::clone(f),
            Open::Zombie => return Ok(WriteFate::Zombie),
            Open::Stats(_) | Open::Dir(_) => return Err(()),
        };
        if !h.fresh_create {
            return Ok(WriteFate::Write(file));
        }
        h.fresh_create = false;
        let node = h.node;
        let unlinked = self
            .nodes
            .get(&node)
            .is_some_and(|n| n.links == Links::Unlinked);
        if !unlinked || !turns_zombie() {
            return Ok(WriteFate::Write(file));
        }
        let h = self.handles.get_mut(&fh).ok_or(())?;
        h.open = Open::Zombie;
        if let Some(n) = self.nodes.get_mut(&node) {
            n.zombies.push(fh);
        }
        Ok(WriteFate::TurnedZombie)
    }

    /// Whether an `OPEN` of `id` by thread `pid` races another create: some
    /// other thread made the file by `CREATE` and has not closed it yet.
    pub fn is_create_race(&self, id: u64, pid: u32) -> bool {
        self.handles
            .values()
            .any(|h| h.node == id && h.creating && h.pid != pid)
    }

    /// The handle `fh` was closed (`FLUSH`): a creation through it is over.
    pub fn closed(&mut self, fh: u64) {
        if let Some(h) = self.handles.get_mut(&fh) {
            h.creating = false;
        }
    }

    /// Whether a `GETATTR` (or `SETATTR`) of `id` is asked through a zombie:
    /// through the handle `fh` when the kernel sent one, otherwise by the
    /// thread `pid` that holds a zombie of this node.
    pub fn through_zombie(&self, id: u64, fh: Option<u64>, pid: u32) -> bool {
        if let Some(fh) = fh {
            if let Some(h) = self.handles.get(&fh) {
                return matches!(h.open, Open::Zombie);
            }
        }
        self.nodes.get(&id).is_some_and(|n| {
            n.zombies
                .iter()
                .any(|z| self.handles.get(z).is_some_and(|h| h.pid == pid))
        })
    }
}

/// The outcome of [`Table::before_write`].
#[derive(Debug)]
pub(crate) enum WriteFate {
    Write(Arc<File>),
    Zombie,
    TurnedZombie,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fd() -> OwnedFd {
        File::open("/dev/null").unwrap().into()
    }

    fn table() -> Table {
        Table::new(fd(), (1, 1))
    }

    #[test]
    fn hard_links_share_a_node_and_ids_are_not_reused() {
        let mut t = table();
        let a = t.remember(fd(), (1, 10), FileType::RegularFile);
        assert_eq!(t.remember(fd(), (1, 10), FileType::RegularFile), a);
        t.forget(a, 2);
        assert!(t.node(a).is_none());
        let b = t.remember(fd(), (1, 10), FileType::RegularFile);
        assert_ne!(a, b);
    }

    #[test]
    fn a_node_knows_the_path_it_was_reached_by() {
        let mut t = table();
        let d = t.remember(fd(), (1, 20), FileType::Directory);
        t.named(d, ROOT, std::ffi::OsStr::new("dir"));
        let f = t.remember(fd(), (1, 21), FileType::RegularFile);
        assert_eq!(t.path_of(f), std::path::PathBuf::from("?"));
        t.named(f, d, std::ffi::OsStr::new("DEST.txt"));
        assert_eq!(t.path_of(f), std::path::PathBuf::from("dir/DEST.txt"));
        t.named(f, ROOT, std::ffi::OsStr::new("moved"));
        assert_eq!(t.path_of(f), std::path::PathBuf::from("moved"));
    }

    #[test]
    fn only_an_unlinked_regular_file_races() {
        let mut t = table();
        let a = t.remember(fd(), (1, 10), FileType::RegularFile);
        let b = t.remember(fd(), (1, 11), FileType::RegularFile);
        let d = t.remember(fd(), (1, 12), FileType::Directory);
        t.lost_link((1, 10), 1, Links::Unlinked);
        assert!(!t.is_racing_open(a), "a link is left");
        t.lost_link((1, 10), 0, Links::Unlinked);
        t.lost_link((1, 11), 0, Links::Replaced);
        t.lost_link((1, 12), 0, Links::Unlinked);
        assert!(t.is_racing_open(a));
        assert!(!t.is_racing_open(b), "renamed over: the workaround");
        assert!(!t.is_racing_open(d));
        assert_eq!(t.id_of((1, 10)), None);
    }

    #[test]
    fn a_created_handle_turns_zombie_at_its_first_write_after_unlink() {
        let mut t = table();
        let a = t.remember(fd(), (1, 10), FileType::RegularFile);
        let file = Arc::new(File::open("/dev/null").unwrap());
        let never = || -> bool { panic!("not a racing create") };
        let written = t.add_handle(a, Open::File(Arc::clone(&file)), 7, true);
        assert!(matches!(
            t.before_write(written, never),
            Ok(WriteFate::Write(_))
        ));
        let fresh = t.add_handle(a, Open::File(Arc::clone(&file)), 8, true);
        let spared = t.add_handle(a, Open::File(file), 9, true);
        t.lost_link((1, 10), 0, Links::Unlinked);
        assert!(matches!(
            t.before_write(written, never),
            Ok(WriteFate::Write(_))
        ));
        assert!(matches!(
            t.before_write(fresh, || true),
            Ok(WriteFate::TurnedZombie)
        ));
        assert!(matches!(
            t.before_write(fresh, never),
            Ok(WriteFate::Zombie)
        ));
        // A racing create that draws no zombie writes as Linux does, for good.
        assert!(matches!(
            t.before_write(spared, || false),
            Ok(WriteFate::Write(_))
        ));
        assert!(matches!(
            t.before_write(spared, never),
            Ok(WriteFate::Write(_))
        ));
        assert!(!t.through_zombie(a, None, 9));
        assert!(t.through_zombie(a, None, 8));
        assert!(!t.through_zombie(a, None, 7));
        assert!(!t.through_zombie(a, Some(written), 8), "the handle decides");
        t.release(fresh);
        assert!(!t.through_zombie(a, None, 8));
    }

    #[test]
    fn an_open_races_a_create_until_the_creator_closes() {
        let mut t = table();
        let a = t.remember(fd(), (1, 10), FileType::RegularFile);
        let file = Arc::new(File::open("/dev/null").unwrap());
        let made = t.add_handle(a, Open::File(Arc::clone(&file)), 7, true);
        assert!(t.is_create_race(a, 8), "another thread, before the close");
        assert!(!t.is_create_race(a, 7), "the creator itself");
        let opened = t.add_handle(a, Open::File(Arc::clone(&file)), 8, false);
        assert!(t.is_create_race(a, 9), "the creator's handle decides");
        assert!(t.before_write(made, || false).is_ok());
        assert!(t.is_create_race(a, 8), "written, not closed");
        t.closed(made);
        assert!(!t.is_create_race(a, 8), "closed: the creation is over");
        t.release(opened);
        let released = t.add_handle(a, Open::File(file), 7, true);
        t.release(released);
        assert!(!t.is_create_race(a, 8), "closed without writing");
    }
}
