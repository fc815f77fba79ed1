//! Interruption, resources and safety (docs/usage.md#what-it-touches): the tool stops promptly,
//! loses nothing, leaks nothing and touches nothing outside its scratch dir.

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{Duration, Instant};

use unlink_race::harness::{BatchLimit, Harness, HarnessOptions};
use unlink_race::scenario::{Delete, Recreate, Scenario, Workers};

use crate::util::{Tmpfs, assert_classified, bin, entries, load, race_dir};

/// SIGINT during `run`: workers stop within a second, the report so far is
/// written with `interrupted: true`, the scratch dir is removed, exit 130.
fn interrupt(workers: &str) {
    let fs = race_dir("size=16m");
    let out = tempfile::tempdir().unwrap();
    let json = out.path().join("r.json");
    let mut child = bin()
        .args([
            "run",
            "--readers",
            "2",
            "--deleters",
            "2",
            "--duration",
            "60",
            "--workers",
            workers,
            // A given pace: no calibration before the run (this test is about the run).
            "--pace",
            "sleep",
        ])
        .arg("--dir")
        .arg(fs.path())
        .arg("--json")
        .arg(&json)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Let it get going: the scratch dir exists while it runs.
    let start = Instant::now();
    while entries(fs.path()).is_empty() && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(entries(fs.path()).len(), 1, "one scratch dir while running");
    std::thread::sleep(Duration::from_millis(500));
    let sent = Instant::now();
    assert!(
        std::process::Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let status = child.wait().unwrap();
    let took = sent.elapsed();
    assert_eq!(status.code(), Some(130), "{workers}: exit 130 after SIGINT");
    assert!(
        took < Duration::from_secs(1),
        "{workers}: stopped in {took:?}"
    );
    let r = load(&json);
    assert_eq!(r["interrupted"], true);
    assert_classified(&r);
    assert!(
        r["scenarios"][0]["cycles"].as_u64().unwrap() > 0,
        "the cycles so far are kept"
    );
    assert!(
        entries(fs.path()).is_empty(),
        "{workers}: scratch dir removed: {:?}",
        entries(fs.path())
    );
}

#[test]
fn sigint_with_threads() {
    interrupt("threads");
}

#[test]
fn sigint_with_processes() {
    interrupt("processes");
}

/// Descriptors of this process open on anything under `dir` (other tests run
/// in parallel in this process, so only this test's directory is counted).
fn open_descriptors_under(dir: &Path) -> usize {
    let dir = dir.canonicalize().unwrap();
    descriptor_paths()
        .iter()
        .filter(|target| target.starts_with(&dir))
        .count()
}

/// What each descriptor of this process is open on: `/proc/self/fd` links.
#[cfg(target_os = "linux")]
fn descriptor_paths() -> Vec<std::path::PathBuf> {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .collect()
}

/// What each descriptor of this process is open on: the numbers in
/// `/dev/fd`, named by `fcntl(F_GETPATH)` (canonical paths, as on Linux).
#[cfg(target_os = "macos")]
fn descriptor_paths() -> Vec<std::path::PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let fds: Vec<i32> = std::fs::read_dir("/dev/fd")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    fds.into_iter()
        .filter_map(|fd| {
            let mut buf = vec![0u8; libc::PATH_MAX as usize];
            // SAFETY: `buf` has the PATH_MAX bytes F_GETPATH writes at most; a
            // descriptor closed meanwhile only makes it fail with EBADF.
            let ret = unsafe { libc::fcntl(fd, libc::F_GETPATH, buf.as_mut_ptr()) };
            let end = buf.iter().position(|&b| b == 0)?;
            (ret != -1).then(|| std::ffi::OsStr::from_bytes(&buf[..end]).into())
        })
        .collect()
}

#[test]
fn no_descriptor_leaks_over_1e5_cycles() {
    let fs = race_dir("size=16m");
    for delete in Delete::ALL.iter().filter(|d| d.is_available()) {
        let before = open_descriptors_under(fs.path());
        assert_eq!(before, 0);
        let scenario = Scenario {
            delete: *delete,
            ..Scenario::default()
        };
        let mut h = Harness::start(&scenario, fs.path(), HarnessOptions::default()).unwrap();
        let batch = h
            .run_batch(
                &BatchLimit {
                    cycles: Some(100_000),
                    ..Default::default()
                },
                &mut |_| std::ops::ControlFlow::Continue(()),
            )
            .unwrap();
        assert_eq!(batch.cycles, 100_000);
        assert!(
            open_descriptors_under(fs.path()) >= 1,
            "the scratch dir is open while the harness lives"
        );
        let tally = h.finish();
        if !fs.may_have_anomalies() {
            assert_eq!(tally.anomalies, 0);
        }
        assert_eq!(
            open_descriptors_under(fs.path()),
            before,
            "{delete:?}: descriptors before and after"
        );
    }
    assert!(entries(fs.path()).is_empty());
}

#[test]
fn full_disk_is_an_environment_error() {
    let Some(fs) = Tmpfs::mount("size=64k") else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let json = out.path().join("r.json");
    let o = bin()
        .args([
            "run", "--pace", "sleep", "--size", "1M", "--cycles", "1000", "--dir",
        ])
        .arg(fs.path())
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("ENOSPC"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    // The report so far is written, marked with the cause.
    let r = load(&json);
    assert!(
        r["environment_error"]
            .as_str()
            .is_some_and(|e| e.contains("ENOSPC")),
        "{r}"
    );
    assert_eq!(r["scenarios"][0]["anomalies"], 0);
    assert!(
        entries(fs.path()).is_empty(),
        "nothing left behind: {:?}",
        entries(fs.path())
    );
}

/// Snapshot of a planted entry: kind, content or link target, inode times.
fn fingerprint(p: &Path) -> String {
    let m = std::fs::symlink_metadata(p).unwrap();
    let body = if m.file_type().is_symlink() {
        format!("-> {}", std::fs::read_link(p).unwrap().display())
    } else if m.is_dir() {
        format!("dir {:?}", entries(p))
    } else {
        format!("file {:?}", std::fs::read(p).unwrap())
    };
    format!(
        "{body} ino={} mtime={}.{} ctime={}.{}",
        m.ino(),
        m.mtime(),
        m.mtime_nsec(),
        m.ctime(),
        m.ctime_nsec()
    )
}

#[test]
fn nothing_outside_the_scratch_directory_is_touched() {
    let fs = race_dir("size=16m");
    let outside = tempfile::tempdir().unwrap();
    let canary = outside.path().join("canary.txt");
    std::fs::write(&canary, b"do not touch").unwrap();
    let target = fs.path();
    // Symlinks named like the harness's own files, pointing outside.
    std::os::unix::fs::symlink(&canary, target.join("DEST.txt")).unwrap();
    std::os::unix::fs::symlink(outside.path(), target.join("trash")).unwrap();
    std::os::unix::fs::symlink(&canary, target.join("tmp-r0")).unwrap();
    std::os::unix::fs::symlink(&canary, target.join("tmp-d0")).unwrap();
    std::fs::write(target.join("canary.txt"), b"neighbour").unwrap();
    std::fs::create_dir(target.join("subdir")).unwrap();
    std::fs::write(target.join("subdir").join("DEST.txt"), b"CONTENT").unwrap();
    let planted: Vec<_> = entries(target)
        .into_iter()
        .map(|n| target.join(n))
        .collect();
    let before: Vec<String> = planted.iter().map(|p| fingerprint(p)).collect();
    let canary_before = fingerprint(&canary);
    let outside_before = entries(outside.path());

    for delete in Delete::ALL.iter().filter(|d| d.is_available()) {
        for recreate in Recreate::ALL {
            for workers in [Workers::Threads, Workers::Processes] {
                let s = Scenario {
                    readers: 2,
                    deleters: 2,
                    recreate: *recreate,
                    delete: *delete,
                    workers,
                    ..Scenario::default()
                };
                let o = bin()
                    .args(["run", "--cycles", "3000", "--no-progress"])
                    .args(s.run_flags().split(' '))
                    .arg("--dir")
                    .arg(target)
                    .output()
                    .unwrap();
                // Exit 1 (anomalies) only where the host may have the defect.
                let clean = o.status.code() == Some(0);
                let anomalies = o.status.code() == Some(1) && fs.may_have_anomalies();
                assert!(
                    clean || anomalies,
                    "{}: {:?} {}",
                    s.name(),
                    o.status,
                    String::from_utf8_lossy(&o.stderr)
                );
            }
        }
    }
    let after: Vec<String> = planted.iter().map(|p| fingerprint(p)).collect();
    assert_eq!(before, after, "planted entries unchanged");
    assert_eq!(
        entries(target).len(),
        planted.len(),
        "nothing new left in the target dir"
    );
    assert_eq!(
        canary_before,
        fingerprint(&canary),
        "the canary outside is untouched"
    );
    assert_eq!(
        outside_before,
        entries(outside.path()),
        "nothing created outside"
    );
}

#[test]
fn the_scratch_directory_is_private() {
    let fs = race_dir("size=16m");
    let h = Harness::start(&Scenario::default(), fs.path(), HarnessOptions::default()).unwrap();
    let scratch = h.scratch_path().unwrap().to_path_buf();
    let mode = std::fs::metadata(&scratch).unwrap().mode() & 0o7777;
    assert_eq!(mode, 0o700);
    drop(h);
    assert!(!scratch.exists(), "removed on drop");
}

/// A worker process that dies is an error (exit 2), not a hang; the scratch
/// directory is still removed.
#[test]
fn a_killed_worker_process_ends_the_run_with_an_error() {
    let fs = race_dir("size=16m");
    let child = bin()
        .args(["run", "--workers", "processes", "--pace", "sleep"])
        .args(["--duration", "60", "--dir"])
        .arg(fs.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let children = |pid: u32| -> Vec<String> {
        let out = std::process::Command::new("pgrep")
            .args(["-P", &pid.to_string()])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .map(String::from)
            .collect()
    };
    // `run` races in a process of its own, whose children are the workers.
    let workers = || -> Vec<String> {
        children(child.id())
            .iter()
            .flat_map(|run| children(run.parse().unwrap()))
            .collect()
    };
    let start = Instant::now();
    while workers().len() < 2 && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let workers = workers();
    assert_eq!(workers.len(), 2, "a reader and a deleter process");
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        std::process::Command::new("kill")
            .args(["-KILL", &workers[0]])
            .status()
            .unwrap()
            .success()
    );
    let killed = Instant::now();
    let out = child.wait_with_output().unwrap();
    assert!(
        killed.elapsed() < Duration::from_secs(5),
        "ended in {:?}",
        killed.elapsed()
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("exited unexpectedly"), "{stderr}");
    assert!(
        entries(fs.path()).is_empty(),
        "scratch dir removed: {:?}",
        entries(fs.path())
    );
}
