//! Fixtures shared by the integration tests: the real binary, temp dirs,
//! tmpfs mounts, and what a test does when the machine lacks something it
//! needs.
//!
//! A test that needs a facility (root, a tmpfs, FUSE) uses it when it can.
//! When it cannot: in CI (`CI=true` on Linux, where root, tmpfs and FUSE are
//! promised) the test fails with the reason; elsewhere it writes
//! `skipped: needs …` to stderr (past the test harness's capture, so it shows
//! in a plain `cargo test`) and either returns or, where its point survives,
//! races in the system temp dir instead ([`race_dir`]). macOS has no tmpfs at
//! all, so there such tests are skipped in CI too.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use unlink_race::outcome::Class;

/// The `unlink-race` binary built for these tests.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_unlink-race"))
}

/// Runs the binary with `args`.
pub fn run(args: &[&str]) -> Output {
    bin()
        .args(args)
        .output()
        .expect("the unlink-race binary runs")
}

/// Parses a JSON report.
pub fn load(path: &Path) -> serde_json::Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()))
}

/// `CI=true`: the machine promises every facility the tests need.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// The running test's name (the test harness names its threads so).
fn test_name() -> String {
    std::thread::current()
        .name()
        .unwrap_or("this test")
        .to_string()
}

/// A facility is missing: `need` says what (`root`, `FUSE`), `reason` why it
/// is missing, `instead` what the test does now (`None`: nothing, it returns).
/// Fails the test when `promised` (CI on a system that has the facility);
/// otherwise says `skipped: needs <need> (<reason>)` on stderr.
pub fn lacking(need: &str, reason: &str, instead: Option<&str>, promised: bool) {
    let test = test_name();
    if promised {
        panic!(
            "{test} needs {need} ({reason}); CI=true promises it, so this is a failure, not a skip"
        );
    }
    let tail = instead.map_or_else(String::new, |i| format!("; {i}"));
    // Straight to the descriptor: `eprintln!` is captured for passing tests.
    let _ = writeln!(
        std::io::stderr(),
        "skipped: needs {need} ({reason}): {test}{tail}"
    );
}

/// A tmpfs mounted on a fresh temp dir, unmounted on drop.
pub struct Tmpfs {
    dir: tempfile::TempDir,
}

/// Why no tmpfs can be mounted here: what is needed, and the reason.
#[derive(Debug)]
pub struct NoMount {
    need: &'static str,
    reason: String,
    /// CI promises this facility on this OS.
    promised: bool,
}

impl NoMount {
    /// Fails the test in CI, else says it is skipped (see [`lacking`]).
    pub fn report(&self, instead: Option<&str>) {
        lacking(self.need, &self.reason, instead, self.promised);
    }
}

impl Tmpfs {
    /// Mounts a tmpfs with `options`, or says why it cannot.
    pub fn try_mount(options: &str) -> Result<Tmpfs, NoMount> {
        if !cfg!(target_os = "linux") {
            return Err(NoMount {
                need: "a Linux tmpfs",
                reason: format!("{} has none", std::env::consts::OS),
                promised: false,
            });
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs"])
            .arg(dir.path())
            .output();
        let reason = match out {
            Ok(o) if o.status.success() => return Ok(Tmpfs { dir }),
            Ok(o) => {
                let stderr = String::from_utf8_lossy(&o.stderr);
                let first = stderr.lines().next().unwrap_or("").trim();
                format!("mount -t tmpfs failed: {first}")
            }
            Err(e) => format!("cannot run mount: {e}"),
        };
        Err(NoMount {
            need: if is_root() { "a tmpfs mount" } else { "root" },
            reason,
            promised: in_ci(),
        })
    }

    /// Mounts a tmpfs, or (outside CI) says the test is skipped and returns
    /// `None`: the caller returns.
    pub fn mount(options: &str) -> Option<Tmpfs> {
        match Tmpfs::try_mount(options) {
            Ok(fs) => Some(fs),
            Err(e) => {
                e.report(None);
                None
            }
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

/// Whether this process runs as root; if not, the test is skipped (or, in
/// CI, fails) because of `why`, and the caller returns.
#[cfg_attr(not(all(feature = "zombiefs", target_os = "linux")), allow(dead_code))]
pub fn root_for(why: &str) -> bool {
    if is_root() {
        return true;
    }
    lacking("root", why, None, in_ci() && cfg!(target_os = "linux"));
    false
}

/// Whether this process runs as root (the owner of `/proc/self` on Linux).
#[cfg(unix)]
fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// Windows has no root.
#[cfg(windows)]
fn is_root() -> bool {
    false
}

/// Where a test races: a tmpfs when one can be mounted, else a fresh
/// directory in the system temp dir.
pub enum RaceDir {
    Tmpfs(Tmpfs),
    Temp(tempfile::TempDir),
}

impl RaceDir {
    pub fn path(&self) -> &Path {
        match self {
            RaceDir::Tmpfs(fs) => fs.path(),
            RaceDir::Temp(dir) => dir.path(),
        }
    }

    /// Whether this is the host's own filesystem, which on a Mac may have
    /// the defect (see [`host_may_have_the_defect`]).
    pub fn is_host_fs(&self) -> bool {
        matches!(self, RaceDir::Temp(_))
    }

    /// Whether anomalies may show up here: only on the host filesystem of a
    /// machine that may have the defect.
    pub fn may_have_anomalies(&self) -> bool {
        self.is_host_fs() && host_may_have_the_defect()
    }
}

/// A tmpfs mounted with `options` for a test whose point holds on any local
/// filesystem; without one (outside CI) the system temp dir, after saying so.
pub fn race_dir(options: &str) -> RaceDir {
    match Tmpfs::try_mount(options) {
        Ok(fs) => RaceDir::Tmpfs(fs),
        Err(e) => {
            e.report(Some("runs in the system temp dir instead"));
            RaceDir::Temp(tempfile::tempdir().expect("temp dir"))
        }
    }
}

/// Whether the host's own filesystems may have the defect (macOS, APFS).
/// Tests racing there accept anomalies and check that they are classified
/// consistently ([`assert_classified`]) instead of asserting none.
pub fn host_may_have_the_defect() -> bool {
    cfg!(target_os = "macos")
}

/// Every scenario of a JSON report accounts for its anomalies consistently:
/// every class is a known one and present, the anomaly count is the sum of
/// the classes that are anomalies under the scenario, every example is of a
/// counted anomaly class, and a first anomaly is recorded exactly when there
/// is one in a cycle. Returns the total anomalies.
pub fn assert_classified(report: &serde_json::Value) -> u64 {
    let mut total = 0;
    for s in report["scenarios"].as_array().expect("scenarios") {
        let name = s["name"].as_str().unwrap_or("?");
        let classes = s["classes"].as_object().expect("classes");
        for key in classes.keys() {
            assert!(
                Class::from_name(key).is_some(),
                "{name}: unknown class {key}"
            );
        }
        let mut anomalies = 0;
        for class in Class::ALL {
            let c = &classes
                .get(class.name())
                .unwrap_or_else(|| panic!("{name}: no entry for {}", class.name()));
            let count = c["count"].as_u64().expect("count");
            if class.is_normal() {
                assert_eq!(c["expected"], true, "{name}: {} is expected", class.name());
            } else if c["expected"] == false {
                anomalies += count;
            }
        }
        assert_eq!(
            s["anomalies"].as_u64(),
            Some(anomalies),
            "{name}: anomalies is the sum of the anomaly classes"
        );
        for e in s["examples"].as_array().expect("examples") {
            let class = e["class"].as_str().expect("example class");
            assert_eq!(
                classes[class]["expected"], false,
                "{name}: example of an anomaly class: {e}"
            );
            assert!(
                classes[class]["count"].as_u64() > Some(0),
                "{name}: example of a counted class: {e}"
            );
        }
        // Stalls are found by the controller, not in a cycle.
        let stalls = classes[Class::Stall.name()]["count"].as_u64().unwrap_or(0);
        assert_eq!(
            s["first_anomaly_cycle"].is_null(),
            anomalies == stalls,
            "{name}: a first anomaly cycle exactly when a cycle had one"
        );
        total += anomalies;
    }
    total
}

/// Entries of a directory, names only, sorted.
pub fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// A path inside a temp dir that does not exist yet.
pub fn out_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}
