//! Two views of one directory (issue 25): readers race through one path,
//! deleters through another path to the same directory.
//!
//! Each real setup is mounted by the test (root, and FUSE for the FUSE
//! ones, as in `realfs`): the reader on a FUSE mount and the deleter on its
//! backing directory, two clients of one sshfs server, fuse-overlayfs's
//! merged and upper directories, zombiefs's mount and backing directory,
//! and local filesystems through a bind mount. Each test states what it
//! found, and fails when a known defect disappears or a clean pair shows
//! one.

use std::path::Path;

use crate::realfs_util::RealFs;
use crate::util::{entries, load, run};

/// What one split `unlink-race run` produced.
struct Split {
    code: i32,
    report: serde_json::Value,
    stdout: String,
}

impl Split {
    fn scenario(&self) -> &serde_json::Value {
        &self.report["scenarios"][0]
    }

    fn count(&self, class: &str) -> u64 {
        self.scenario()["classes"][class]["count"]
            .as_u64()
            .unwrap_or_else(|| panic!("class {class} has a count"))
    }

    /// Every class that is not expected under the scenario and was seen.
    fn anomalies(&self) -> Vec<(String, u64)> {
        self.scenario()["classes"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, c)| c["expected"] == false && c["count"].as_u64() > Some(0))
            .map(|(name, c)| (name.clone(), c["count"].as_u64().unwrap()))
            .collect()
    }

    /// One line: cycles, raced opens and every class seen, for the test's output.
    fn found(&self) -> String {
        let s = self.scenario();
        let seen: Vec<String> = s["classes"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, c)| c["count"].as_u64() > Some(0))
            .map(|(name, c)| format!("{name} {}", c["count"]))
            .collect();
        format!(
            "{}: {} cycles, {} raced opens, pace {}: {}; by errno {}",
            s["name"].as_str().unwrap(),
            s["cycles"],
            s["raced_opens"],
            s["pace"],
            seen.join(", "),
            s["errno_breakdown"]
        )
    }
}

/// Runs `unlink-race run --dir <dir> --other-side <other> <flags>`, checks
/// what every split run must hold (exit 0 or 1, the report says split and
/// names both sides, the scratch directory is gone from both), and says
/// what it found on stderr.
fn run_split(what: &str, dir: &Path, other: &Path, flags: &str) -> Split {
    let out_dir = tempfile::tempdir().unwrap();
    let json = out_dir.path().join("report.json");
    let mut args = vec![
        "run",
        "--no-progress",
        "--dir",
        dir.to_str().unwrap(),
        "--other-side",
        other.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ];
    args.extend(flags.split_whitespace());
    let out = run(&args);
    let code = out.status.code().unwrap_or(-1);
    assert!(
        code == 0 || code == 1,
        "{what}: run {flags} exited {code}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = load(&json);
    let s = &report["scenarios"][0];
    assert!(
        s["name"].as_str().unwrap().contains("-split"),
        "{what}: the name says split: {}",
        s["name"]
    );
    assert!(
        s["config"]["views"]
            .as_str()
            .is_some_and(|v| v.starts_with("split")),
        "{what}: config.views: {}",
        s["config"]
    );
    let other_side = &report["machine"]["other_side"];
    assert!(
        other_side["fs_type"].is_string() && other_side["mount_point"].is_string(),
        "{what}: the machine names the other side's filesystem: {}",
        report["machine"]
    );
    for side in [dir, other] {
        assert_eq!(
            entries(side),
            Vec::<String>::new(),
            "{what}: the scratch directory is gone from {}",
            side.display()
        );
    }
    let split = Split {
        code,
        report,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
    };
    eprintln!("{what}: {}", split.found());
    split
}

/// Paths that are not one directory are refused before any race, with
/// exit 2 and a line naming both; nothing is left in either.
#[test]
fn two_paths_that_are_not_one_directory_are_refused() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let out_dir = tempfile::tempdir().unwrap();
    let json = out_dir.path().join("r.json");
    let started = std::time::Instant::now();
    let out = run(&[
        "run",
        "--no-progress",
        "--pace",
        "sleep",
        "--dir",
        a.path().to_str().unwrap(),
        "--other-side",
        b.path().to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    for p in [a.path(), b.path()] {
        assert!(
            stderr.contains(&*p.to_string_lossy()),
            "the line names {}: {stderr}",
            p.display()
        );
        assert_eq!(
            entries(p),
            Vec::<String>::new(),
            "nothing left in {}",
            p.display()
        );
    }
    assert!(
        stderr.contains("not two views of one directory"),
        "{stderr}"
    );
    assert!(!json.exists(), "no report: nothing raced");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "refused within the bounded wait, not after a run"
    );
}

/// The same path on both sides is one directory: the split machinery runs,
/// says so in the report, and finds nothing on a local filesystem.
#[test]
fn one_path_given_twice_races_as_two_views() {
    let dir = tempfile::tempdir().unwrap();
    let split = run_split(
        "the temp dir twice",
        dir.path(),
        dir.path(),
        "--pace sleep --size 4K --cycles 3000",
    );
    if !crate::util::host_may_have_the_defect() {
        assert_eq!(split.anomalies(), vec![], "{}", split.found());
        assert_eq!(split.code, 0);
    }
    assert!(split.count("ok") > 0, "{}", split.found());
    let m = &split.report["machine"];
    assert_eq!(m["other_side"]["fs_type"], m["fs_type"]);
    assert!(split.stdout.contains("-split"), "{}", split.stdout);
}

#[test]
fn explore() {
    let flags = [
        "--pace sleep --duration 4",
        "--pace sleep --duration 4 --deleters-recreate",
        "--pace sleep --duration 4 --size 4K --readers 2 --deleters 2 --recreate atomic --deleters-recreate",
        "--duration 4 --size 4K",
    ];
    if let Some(fs) = RealFs::sshfs() {
        for f in flags {
            run_split("sshfs server", fs.path(), fs.other_side(), f);
        }
    }
    if let Some(fs) = RealFs::sshfs_two_clients() {
        for f in flags {
            run_split("sshfs 2 clients", fs.path(), fs.other_side(), f);
        }
    }
    if let Some(fs) = RealFs::fuse_overlayfs() {
        for f in flags {
            run_split("fuse-overlayfs", fs.path(), fs.other_side(), f);
        }
    }
    if let Some(fs) = RealFs::xfs().map(RealFs::with_bind_mount) {
        for f in flags {
            run_split("xfs bind", fs.path(), fs.other_side(), f);
        }
    }
}
