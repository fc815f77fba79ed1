//! Hostile environments and flags: process and memory limits are
//! environment errors, outputs to standard output are one at most, --trials
//! honours --cycles, messages say what is wrong (a dead FUSE mount, a long
//! file name, a renamed binary, a negative number), `grid` refuses the
//! reports directory the bench refuses, and zombiefs refuses a mount point
//! that is its backing directory's by another path.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::faults::{one_line, root_or_skip, sh};
use crate::faults_stop::wait_within;
use crate::util::{bin, entries, load};

/// A directory that the `nobody` user (uid 65534) can write in, and the
/// temp dir holding it.
fn nobody_dir() -> (tempfile::TempDir, PathBuf) {
    let top = tempfile::tempdir().unwrap();
    std::fs::set_permissions(top.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let dir = top.path().join("race");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    (top, dir)
}

/// `ulimit <limit>; unlink-race run <args> --dir dir` as `nobody` (root
/// ignores the process limit), within a hang guard.
fn limited_run(limit: &str, args: &str, dir: &Path) -> Output {
    let script = format!(
        "ulimit {limit} && exec '{}' run --no-progress --pace sleep {args} --dir '{}'",
        env!("CARGO_BIN_EXE_unlink-race"),
        dir.display()
    );
    let child = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "bash",
            "-c",
        ])
        .arg(&script)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.code().is_some(),
        "{limit} {args}: killed by a signal (an abort?): {out:?}"
    );
    out
}

/// A process, thread or memory limit ends the run
/// as an environment error (exit 2, one line) with the scratch directory
/// removed, or the run fits; never a panic (exit 101) or an abort (134).
#[test]
fn resource_limits_are_environment_errors() {
    if !root_or_skip("setpriv to the nobody user") || !sh("command -v setpriv >/dev/null") {
        return;
    }
    // (limit, flags, whether it must fail)
    let rows = [
        (
            "-u 6",
            "--workers processes --readers 4 --deleters 4 --cycles 2000",
            false,
        ),
        (
            "-u 12",
            "--workers processes --readers 8 --deleters 8 --cycles 2000",
            false,
        ),
        ("-u 3", "--readers 8 --deleters 8 --cycles 2000", false),
        ("-v 40000", "--readers 8 --deleters 8 --cycles 2000", false),
        (
            "-v 1000000",
            "--size 64M --readers 32 --deleters 1 --cycles 10",
            true,
        ),
        (
            "-v 150000",
            "--workers processes --size 64M --readers 2 --cycles 10",
            true,
        ),
    ];
    for (limit, args, must_fail) in rows {
        let (_top, dir) = nobody_dir();
        let out = limited_run(limit, args, &dir);
        let code = out.status.code();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            matches!(code, Some(0..=2)),
            "{limit} {args}: {code:?}: {err}"
        );
        if must_fail {
            assert_eq!(code, Some(2), "{limit} {args}: {err}");
        }
        if code == Some(2) {
            assert_eq!(err.lines().count(), 1, "{limit} {args}: {err}");
            assert!(err.contains("environment error"), "{limit} {args}: {err}");
        }
        if limit.starts_with("-v") && must_fail {
            assert!(err.contains("out of memory"), "{limit} {args}: {err}");
        }
        assert!(
            entries(&dir).is_empty(),
            "{limit} {args}: {:?}",
            entries(&dir)
        );
    }
}

/// At most one output goes to standard output, however
/// it is named; before, `--json - --html -` wrote both, one after the other.
#[test]
fn one_output_at_most_goes_to_standard_output() {
    let d = tempfile::tempdir().unwrap();
    for pair in [
        ["--json", "-", "--html", "-"],
        ["--json", "-", "--html", "/dev/stdout"],
        ["--html", "/dev/stdout", "--json", "/proc/self/fd/1"],
    ] {
        let out = bin()
            .args(["run", "--cycles", "100", "--no-progress", "--dir"])
            .arg(d.path())
            .args(pair)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{pair:?}");
        assert!(one_line(&out).contains("standard output"), "{pair:?}");
        assert!(out.stdout.is_empty(), "{pair:?}: refused before the run");
    }
    let out = bin()
        .args([
            "compare",
            "a.json",
            "b.json",
            "--html",
            "-",
            "--markdown",
            "-",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(one_line(&out).contains("standard output"));
}

/// With --trials, --cycles bounds the whole run (it was
/// ignored: 2,000,000 cycles ran for --cycles 100), and the rerun command
/// keeps both.
#[test]
fn trials_honour_the_cycle_budget() {
    let d = tempfile::tempdir().unwrap();
    // (flags, most cycles, trials at most)
    let rows: [(&[&str], u64, usize); 3] = [
        (&["--trials", "2", "--cycles", "100"], 100, 2),
        (
            &["--trials", "5", "--cycles", "300", "--trial-cycles", "100"],
            300,
            3,
        ),
        (
            &["--trials", "4", "--cycles", "50", "--duration", "30"],
            50,
            1,
        ),
    ];
    for (flags, most, trials) in rows {
        let json = d.path().join("r.json");
        let mut child = bin()
            .args(["run", "--no-progress", "--pace", "sleep", "--dir"])
            .arg(d.path())
            .args(flags)
            .arg("--json")
            .arg(&json)
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let (status, _) = wait_within(&mut child, Duration::from_secs(60))
            .unwrap_or_else(|| panic!("{flags:?}: not done in 60 s"));
        assert!(matches!(status.code(), Some(0 | 1)), "{flags:?}");
        let s = &load(&json)["scenarios"][0];
        let cycles = s["cycles"].as_u64().unwrap();
        assert!(cycles <= most, "{flags:?}: {cycles} cycles");
        let ran = s["trials"].as_array().unwrap().len();
        assert!((1..=trials).contains(&ran), "{flags:?}: {ran} trials");
        let command = s["command"].as_str().unwrap();
        assert!(
            command.contains("--cycles") && command.contains("--trials"),
            "{command}"
        );
    }
}

/// A negative number is an invalid value of its flag
/// (it was "unexpected argument '-1' found").
#[test]
fn a_negative_number_is_an_invalid_value() {
    for (args, flag) in [
        (&["run", "--readers", "-1"][..], "--readers"),
        (&["run", "--deleters", "-2"], "--deleters"),
        (&["run", "--cycles", "-5"], "--cycles"),
        (&["run", "--duration", "-3"], "--duration"),
        (&["run", "--size", "-1"], "--size"),
        (&["run", "--examples", "-1"], "--examples"),
        (
            &["compare", "a.json", "b.json", "--alpha", "-0.5"],
            "--alpha",
        ),
    ] {
        let out = bin().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let line = one_line(&out);
        assert!(
            line.contains("invalid value") && line.contains(flag) && !line.contains("unexpected"),
            "{args:?}: {line}"
        );
    }
}

/// An output name up to the longest a file can have is
/// written (a temporary name built from it made it fail with "File name too
/// long"); a longer one is refused naming the file the user gave.
#[test]
fn long_output_names_are_the_users_to_lose() {
    let d = tempfile::tempdir().unwrap();
    for (len, ok) in [(231, true), (250, true), (255, true), (256, false)] {
        let name = format!("{}.json", "r".repeat(len - 5));
        let json = d.path().join(&name);
        let out = bin()
            .args([
                "run",
                "--cycles",
                "100",
                "--no-progress",
                "--pace",
                "sleep",
                "--dir",
            ])
            .arg(d.path())
            .arg("--json")
            .arg(&json)
            .output()
            .unwrap();
        if ok {
            assert_eq!(out.status.code(), Some(0), "{len}: {out:?}");
            assert_eq!(load(&json)["tool"], "unlink-race", "{len}");
        } else {
            assert_eq!(out.status.code(), Some(2), "{len}");
            let line = one_line(&out);
            assert!(
                line.contains(&name) && line.contains("too long"),
                "{len}: {line}"
            );
        }
        assert!(
            entries(d.path()).iter().all(|n| !n.starts_with('.')),
            "{len}: no temporary left: {:?}",
            entries(d.path())
        );
    }
}

/// Processes mode runs its workers with the binary it is,
/// whatever its name (it asked to "build unlink-race").
#[test]
fn processes_mode_works_under_any_name() {
    let d = tempfile::tempdir().unwrap();
    let copy = d.path().join("ur");
    // A hard link where it can be: a copy's write descriptor, inherited by
    // a process another test forks meanwhile, makes exec fail (ETXTBSY).
    if std::fs::hard_link(env!("CARGO_BIN_EXE_unlink-race"), &copy).is_err() {
        std::fs::copy(env!("CARGO_BIN_EXE_unlink-race"), &copy).unwrap();
    }
    let link = d.path().join("race-tool");
    std::os::unix::fs::symlink(&copy, &link).unwrap();
    let race = d.path().join("race");
    std::fs::create_dir(&race).unwrap();
    for exe in [&copy, &link] {
        let run = || {
            Command::new(exe)
                .args([
                    "run",
                    "--workers",
                    "processes",
                    "--cycles",
                    "200",
                    "--no-progress",
                ])
                .args(["--pace", "sleep", "--dir"])
                .arg(&race)
                .env_remove("UNLINK_RACE_WORKER_EXE")
                .output()
        };
        // A copy may still be busy a moment (see above).
        let out = (0..50)
            .find_map(|_| match run() {
                Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) => {
                    std::thread::sleep(Duration::from_millis(100));
                    None
                }
                other => Some(other.unwrap()),
            })
            .expect("the copy became executable");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{}: {err}", exe.display());
        assert!(entries(&race).is_empty());
    }
}

/// `unlink-race grid` refuses an UNLINK_RACE_REPORTS that
/// the bench refuses, with the line the bench gives (the same function).
#[test]
fn grid_refuses_the_reports_directory_the_bench_refuses() {
    let d = tempfile::tempdir().unwrap();
    let file = d.path().join("file");
    std::fs::write(&file, "x").unwrap();
    let mut rows: Vec<(PathBuf, &str)> = vec![
        (file.clone(), "is not a directory"),
        (file.join("reports"), "Not a directory"),
    ];
    let ro = root_or_skip("a read-only tmpfs")
        .then(|| crate::util::Tmpfs::mount("size=1m,ro"))
        .flatten();
    if let Some(ro) = &ro {
        rows.push((ro.path().to_path_buf(), "Read-only file system"));
        rows.push((ro.path().join("new/reports"), "Read-only file system"));
    }
    for (dir, reason) in rows {
        let out = bin()
            .arg("grid")
            .env("UNLINK_RACE_REPORTS", &dir)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", dir.display());
        let line = one_line(&out);
        let bench = unlink_race::grid::reports_dir_problem(&dir).expect("the bench refuses it");
        assert_eq!(
            line.trim_end(),
            format!("error: {bench}"),
            "{}",
            dir.display()
        );
        assert!(line.contains(reason), "{line}");
    }
    // One the bench takes, grid takes too (and creates nothing).
    let fresh = d.path().join("fresh/reports");
    let out = bin()
        .arg("grid")
        .env("UNLINK_RACE_REPORTS", &fresh)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(!fresh.exists());
}

/// `--dir` on a FUSE mount whose server is gone says the
/// transport endpoint is not connected (it said "does not exist").
#[test]
fn a_dead_fuse_mount_is_named_for_what_it_is() {
    let Some(fs) = crate::realfs_util::RealFs::bindfs() else {
        return;
    };
    let sub = fs.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    for pid in fs.daemon_pids() {
        assert!(sh(&format!("kill -KILL {pid}")));
    }
    std::thread::sleep(Duration::from_millis(300));
    for dir in [fs.path().to_path_buf(), sub] {
        let out = bin()
            .args(["run", "--cycles", "10", "--dir"])
            .arg(&dir)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", dir.display());
        let line = one_line(&out);
        assert!(
            line.contains("Transport endpoint is not connected")
                && !line.contains("does not exist"),
            "{line}"
        );
    }
}

/// zombiefs refuses a mount point that is inside its
/// backing directory by another path (a bind mount, a symlink, mount
/// propagation into it), which deadlocked in D state.
#[cfg(all(feature = "zombiefs", target_os = "linux"))]
#[test]
fn zombiefs_refuses_its_backing_directory_under_another_name() {
    if !root_or_skip("bind mounts") {
        return;
    }
    /// Unmounts every mount under its path on drop (propagation makes
    /// copies; unmounting one may take another with it).
    struct Binds(PathBuf);
    impl Drop for Binds {
        fn drop(&mut self) {
            for _ in 0..10 {
                let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
                let mut under: Vec<&str> = info
                    .lines()
                    .filter_map(|l| l.split(' ').nth(4))
                    .filter(|m| Path::new(m).starts_with(&self.0))
                    .collect();
                if under.is_empty() {
                    return;
                }
                // Deepest first.
                under.sort_by_key(|m| std::cmp::Reverse(m.len()));
                for m in under {
                    let _ = Command::new("umount")
                        .arg("-l")
                        .arg(m)
                        .stderr(Stdio::null())
                        .status();
                }
            }
        }
    }
    let d = tempfile::tempdir().unwrap();
    let p = d.path().canonicalize().unwrap();
    let (s, s2, t, link) = (p.join("S"), p.join("S2"), p.join("T"), p.join("L"));
    for dir in [&s, &s2, &t] {
        std::fs::create_dir(dir).unwrap();
    }
    std::fs::create_dir(s.join("m")).unwrap();
    std::os::unix::fs::symlink(&s, &link).unwrap();
    let _binds = Binds(p.clone());
    let mount = |args: &[&Path]| {
        let mut cmd = Command::new("mount");
        cmd.args(args);
        assert!(cmd.status().unwrap().success(), "mount {args:?}");
    };
    mount(&[Path::new("--bind"), &s, &s]);
    mount(&[Path::new("--make-shared"), &s]);
    mount(&[Path::new("--bind"), &s, &s2]);
    mount(&[Path::new("--bind"), &s.join("m"), &t]);
    // (name, mount point, text)
    let rows = [
        (
            "a bind mount of the backing",
            s2.join("m"),
            "is inside --backing",
        ),
        (
            "a symlink to the backing",
            link.join("m"),
            "is inside --backing",
        ),
        (
            "propagated into the backing",
            t.clone(),
            "mount propagation",
        ),
    ];
    for (name, mnt, text) in rows {
        let mut child = bin()
            .arg("zombiefs")
            .arg("--backing")
            .arg(&s)
            .arg(&mnt)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let done = wait_within(&mut child, Duration::from_secs(20));
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut err);
        }
        assert!(done.is_some(), "{name}: still serving after 20 s: {err}");
        assert_eq!(done.unwrap().0.code(), Some(2), "{name}: {err}");
        assert_eq!(err.lines().count(), 1, "{name}: {err}");
        assert!(err.contains(text), "{name}: {err}");
        let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        assert!(
            !info
                .lines()
                .any(|l| l.contains("fuse.zombiefs") && l.contains(&p.display().to_string())),
            "{name}: left mounted"
        );
    }
}
