//! The ground truth: what zombiefs handed out, counted as it happens.
//!
//! Every counter is bumped *before* the reply leaves, so a program that has
//! seen an outcome also sees it counted. Operations on the virtual stats file
//! count nowhere.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

/// Files whose defects are counted one by one; defects in further files
/// count together in [`FileDefects::other`], so memory stays bounded however
/// many files a program makes.
pub const MAX_FILES: usize = 1024;

/// The counters, as read from `.zombiefs-stats` or [`super::Mount::stats`].
///
/// A reader's `open(O_RDONLY)` + `fstat` sees exactly the `zombie_opens`;
/// every `write` that fails with `EINVAL` is one of `zombie_writes`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Regular-file handles handed out by `OPEN` (zombies included).
    pub opens: u64,
    /// Files opened by `CREATE` (`open` with `O_CREAT` of a name that did not exist).
    pub creates: u64,
    /// Successful `unlink`s.
    pub unlinks: u64,
    /// `OPEN`s that reached a node unlinked after its lookup: the race, zombie or
    /// not. `zombie_opens + zombie_write_opens` of them got a zombie.
    pub racing_opens: u64,
    /// Created files whose name was unlinked before their first `write`: the
    /// race of the second symptom, zombie or not. `zombie_creates` of them
    /// got a zombie.
    #[serde(default)]
    pub racing_creates: u64,
    /// Zombie handles handed out for reading (`O_RDONLY` or `O_RDWR`).
    pub zombie_opens: u64,
    /// Zombie handles handed out for writing only (`O_WRONLY`, e.g. `O_CREAT|O_TRUNC`
    /// of a name that existed at lookup).
    pub zombie_write_opens: u64,
    /// Created files that turned into zombies: unlinked before their first write.
    pub zombie_creates: u64,
    /// `write`s answered with `EINVAL` because the handle is a zombie.
    pub zombie_writes: u64,
    /// Creates that raced another create of the same name: an `OPEN` for
    /// writing of a file that another thread made by `CREATE` and has not
    /// written to yet (Linux holds the directory locked through each
    /// `open(O_CREAT)`, so a second creator's lookup comes after the first
    /// `CREATE` and its open reaches zombiefs as an `OPEN`), or a `CREATE`
    /// without `O_EXCL` that finds its name made since its lookup.
    /// `spurious_create_enoents` of them were answered `ENOENT`.
    #[serde(default)]
    pub create_races: u64,
    /// Creates answered with a spurious `ENOENT` (the directory exists):
    /// what `--create-race-probability` decides, one draw per create race.
    #[serde(default)]
    pub spurious_create_enoents: u64,
    /// Operations delayed by `--stall-ms` or held by `--hold-creates-ms`.
    pub stalls: u64,
}

/// The live counters behind [`Stats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub opens: AtomicU64,
    pub creates: AtomicU64,
    pub unlinks: AtomicU64,
    pub racing_opens: AtomicU64,
    pub racing_creates: AtomicU64,
    pub zombie_opens: AtomicU64,
    pub zombie_write_opens: AtomicU64,
    pub zombie_creates: AtomicU64,
    pub zombie_writes: AtomicU64,
    pub create_races: AtomicU64,
    pub spurious_create_enoents: AtomicU64,
    pub stalls: AtomicU64,
    /// Defects by file, bumped only when a defect is served.
    pub files: Mutex<FileDefects>,
}

/// A defect as a program meets it, counted file by file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Defect {
    /// A zombie descriptor handed out by an `open`.
    ZombieFd,
    /// A `write` answered with `EINVAL`.
    EinvalWrite,
    /// A create answered with a spurious `ENOENT`.
    CreateEnoent,
}

/// Defects served in one file (or in the files past [`MAX_FILES`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DefectCounts {
    /// Zombie descriptors handed out by `open` (`zombie_opens + zombie_write_opens`).
    pub zombie_fds: u64,
    /// `write`s answered with `EINVAL` (`zombie_writes`).
    pub einval_writes: u64,
    /// Creates answered with a spurious `ENOENT` (`spurious_create_enoents`).
    pub create_enoents: u64,
}

impl DefectCounts {
    fn add(&mut self, defect: Defect) {
        match defect {
            Defect::ZombieFd => self.zombie_fds += 1,
            Defect::EinvalWrite => self.einval_writes += 1,
            Defect::CreateEnoent => self.create_enoents += 1,
        }
    }

    /// Every defect counted here.
    pub fn total(&self) -> u64 {
        self.zombie_fds + self.einval_writes + self.create_enoents
    }
}

/// Defects served, by the path (relative to the mount's root) under which
/// the file was last looked up or created.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileDefects {
    pub by_path: HashMap<PathBuf, DefectCounts>,
    /// Defects in files beyond the first [`MAX_FILES`].
    pub other: DefectCounts,
}

impl FileDefects {
    /// Counts one `defect` served in `path`.
    pub(crate) fn add(&mut self, path: PathBuf, defect: Defect) {
        if let Some(counts) = self.by_path.get_mut(&path) {
            counts.add(defect);
        } else if self.by_path.len() < MAX_FILES {
            self.by_path.entry(path).or_default().add(defect);
        } else {
            self.other.add(defect);
        }
    }

    /// The `n` files with the most defects, most first (ties by path).
    pub fn top(&self, n: usize) -> Vec<(PathBuf, DefectCounts)> {
        let mut files: Vec<_> = self.by_path.iter().map(|(p, c)| (p.clone(), *c)).collect();
        files.sort_by(|a, b| b.1.total().cmp(&a.1.total()).then_with(|| a.0.cmp(&b.0)));
        files.truncate(n);
        files
    }
}

/// Adds one to a counter.
#[inline]
pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::SeqCst);
}

impl Counters {
    /// Counts `defect`, served in the file at `path`.
    pub fn served_at(&self, path: PathBuf, defect: Defect) {
        self.files
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .add(path, defect);
    }

    /// The defects by file so far.
    pub fn files(&self) -> FileDefects {
        self.files.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn snapshot(&self) -> Stats {
        let get = |c: &AtomicU64| c.load(Ordering::SeqCst);
        Stats {
            opens: get(&self.opens),
            creates: get(&self.creates),
            unlinks: get(&self.unlinks),
            racing_opens: get(&self.racing_opens),
            racing_creates: get(&self.racing_creates),
            zombie_opens: get(&self.zombie_opens),
            zombie_write_opens: get(&self.zombie_write_opens),
            zombie_creates: get(&self.zombie_creates),
            zombie_writes: get(&self.zombie_writes),
            create_races: get(&self.create_races),
            spurious_create_enoents: get(&self.spurious_create_enoents),
            stalls: get(&self.stalls),
        }
    }
}

impl Stats {
    /// The JSON served by the stats file (pretty, one trailing newline).
    pub fn to_json(&self) -> String {
        let mut json = serde_json::to_string_pretty(self).expect("counters always serialize");
        json.push('\n');
        json
    }

    /// Zombies handed out per racing open (`None` before the first racing
    /// open): what `--open-probability` sets.
    pub fn open_zombie_fraction(&self) -> Option<f64> {
        (self.racing_opens > 0).then(|| {
            (self.zombie_opens + self.zombie_write_opens) as f64 / self.racing_opens as f64
        })
    }

    /// Zombies per racing create (`None` before the first racing create): what
    /// `--write-probability` sets.
    pub fn create_zombie_fraction(&self) -> Option<f64> {
        (self.racing_creates > 0).then(|| self.zombie_creates as f64 / self.racing_creates as f64)
    }

    /// Spurious `ENOENT`s per create race (`None` before the first): what
    /// `--create-race-probability` sets.
    pub fn create_race_enoent_fraction(&self) -> Option<f64> {
        (self.create_races > 0)
            .then(|| self.spurious_create_enoents as f64 / self.create_races as f64)
    }

    /// Every zombie handle handed out, however it was made.
    pub fn zombies(&self) -> u64 {
        self.zombie_opens + self.zombie_write_opens + self.zombie_creates
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_keeps_the_documented_keys() {
        let c = Counters::default();
        bump(&c.opens);
        bump(&c.zombie_opens);
        bump(&c.zombie_writes);
        bump(&c.zombie_writes);
        let s = c.snapshot();
        let json = s.to_json();
        for key in [
            "zombie_opens",
            "zombie_writes",
            "opens",
            "unlinks",
            "creates",
            "racing_opens",
            "racing_creates",
            "create_races",
            "spurious_create_enoents",
        ] {
            assert!(
                json.contains(&format!("\"{key}\"")),
                "{key} missing in {json}"
            );
        }
        let back: Stats = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
        assert_eq!(back.zombie_writes, 2);
        assert_eq!(back.zombies(), 1);
    }

    #[test]
    fn files_past_the_cap_count_together() {
        let mut f = FileDefects::default();
        for i in 0..MAX_FILES + 5 {
            f.add(PathBuf::from(format!("f{i}")), Defect::ZombieFd);
        }
        f.add(PathBuf::from("f3"), Defect::EinvalWrite);
        f.add(PathBuf::from("f3"), Defect::ZombieFd);
        f.add(PathBuf::from("new"), Defect::EinvalWrite);
        f.add(PathBuf::from("newer"), Defect::CreateEnoent);
        assert_eq!(f.by_path.len(), MAX_FILES);
        assert_eq!(
            f.other,
            DefectCounts {
                zombie_fds: 5,
                einval_writes: 1,
                create_enoents: 1,
            }
        );
        let top = f.top(2);
        assert_eq!(top[0].0, PathBuf::from("f3"));
        assert_eq!(top[0].1.total(), 3);
        assert_eq!(top[1].0, PathBuf::from("f0"));
    }
}
