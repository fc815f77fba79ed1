//! Faults and hostile input: environment failures end a run with
//! exit 2 and one line, outputs never replace what they should not, and
//! nothing outside the scratch directory changes. Each table row asserts the
//! exit code, the one line, the report's state and the untouched neighbours.

use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::util::{Tmpfs, bin, entries, load};

/// `true` when running as root; otherwise says the test is skipped, and
/// fails when `CI=true` (CI runs as root).
pub(crate) fn root_or_skip(what: &str) -> bool {
    // The effective uid, through `id -u`.
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !root {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{what}: needs root, which CI has"
        );
        eprintln!("skipped: {what} needs root");
    }
    root
}

/// stderr of a finished command, which must be exactly one line.
pub(crate) fn one_line(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(err.lines().count(), 1, "one line on stderr, got: {err:?}");
    err
}

/// Every path under `dir` with its type, size and mode, to see that nothing changed.
pub(crate) fn snapshot(dir: &Path) -> Vec<(PathBuf, u32, u64)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            let Ok(m) = std::fs::symlink_metadata(&p) else {
                continue;
            };
            if m.is_dir() {
                stack.push(p.clone());
            }
            out.push((p, m.mode(), m.size()));
        }
    }
    out.sort();
    out
}

/// Waits (polling, up to 10 s) until `dir` holds a scratch directory; returns it.
pub(crate) fn wait_for_scratch(dir: &Path) -> PathBuf {
    let start = Instant::now();
    loop {
        if let Some(name) = entries(dir)
            .into_iter()
            .find(|n| n.starts_with("unlink-race-"))
        {
            return dir.join(name);
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no scratch directory appeared in {}",
            dir.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `unlink-race run` in `dir` writing `json`: 2 readers, 2 deleters, 60 s,
/// unless `extra` sets them.
pub(crate) fn spawn_run(dir: &Path, json: &Path, extra: &[&str]) -> Child {
    // A fixed pace: `auto` calibrates in scratch directories of its own first.
    let mut args = vec!["run", "--no-progress", "--pace", "sleep"];
    for (flag, value) in [
        ("--readers", "2"),
        ("--deleters", "2"),
        ("--duration", "60"),
    ] {
        if !extra.contains(&flag) {
            args.extend([flag, value]);
        }
    }
    bin()
        .args(args)
        .args(extra)
        .arg("--dir")
        .arg(dir)
        .arg("--json")
        .arg(json)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start unlink-race run")
}

pub(crate) fn sh(cmd: &str) -> bool {
    Command::new("sh")
        .args(["-c", cmd])
        .status()
        .is_ok_and(|s| s.success())
}

/// A loop-mounted XFS image, unmounted and removed on drop.
struct LoopXfs {
    dir: tempfile::TempDir,
    image: PathBuf,
}

impl LoopXfs {
    fn mount() -> Option<LoopXfs> {
        if !sh("command -v mkfs.xfs >/dev/null && command -v xfs_io >/dev/null") {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let image =
            std::env::temp_dir().join(format!("unlink-race-xfs-{}.img", std::process::id()));
        let cmd = format!(
            "truncate -s 300M {img} && mkfs.xfs -q -f {img} && mount -o loop {img} {mnt}",
            img = image.display(),
            mnt = dir.path().display()
        );
        assert!(sh(&cmd), "mounting a loop xfs failed");
        Some(LoopXfs { dir, image })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Mounts it again (after a shutdown, to look at what is on it).
    fn remount(&self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
        let cmd = format!(
            "mount -o loop {} {}",
            self.image.display(),
            self.dir.path().display()
        );
        assert!(sh(&cmd), "mounting the xfs image again failed");
    }
}

impl Drop for LoopXfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
        let _ = std::fs::remove_file(&self.image);
    }
}

/// The scratch directory or its filesystem fails mid-run.
/// Exit 2, one line naming the cause, the report so far marked with it, no
/// anomaly counted, and nothing next to the scratch directory touched.
#[test]
fn environment_faults_end_the_run_with_exit_2() {
    if !root_or_skip("environment faults (tmpfs, loop xfs)") {
        return;
    }
    type Fault = fn(&Path, &Path) -> Option<()>;
    let remove: Fault = |_, scratch| {
        // Racing workers recreate files while rm runs: retry until it is gone.
        for _ in 0..100 {
            if std::fs::remove_dir_all(scratch).is_ok() || !scratch.exists() {
                return Some(());
            }
        }
        panic!("could not remove {}", scratch.display());
    };
    let read_only: Fault = |mnt, _| {
        // A remount fails while a file is open for writing: retry between writes.
        for _ in 0..1000 {
            if sh(&format!(
                "mount -o remount,ro {} 2>/dev/null",
                mnt.display()
            )) {
                return Some(());
            }
        }
        panic!("could not remount {} read-only", mnt.display());
    };
    let shutdown: Fault = |mnt, _| {
        assert!(sh(&format!("xfs_io -x -c shutdown {}", mnt.display())));
        Some(())
    };
    let cases: [(&str, &str, Fault, &str); 4] = [
        ("scratch removed, threads", "threads", remove, "was removed"),
        (
            "scratch removed, processes",
            "processes",
            remove,
            "was removed",
        ),
        (
            "tmpfs remounted read-only",
            "threads",
            read_only,
            "read-only filesystem",
        ),
        ("xfs shut down", "threads", shutdown, "I/O errors"),
    ];
    for (name, workers, fault, cause) in cases {
        let mut xfs = None;
        let tmpfs;
        let mnt: &Path = if name.starts_with("xfs") {
            xfs = match LoopXfs::mount() {
                Some(x) => Some(x),
                None => {
                    assert!(
                        std::env::var("CI").as_deref() != Ok("true"),
                        "xfsprogs missing"
                    );
                    eprintln!("skipped: {name} needs xfsprogs");
                    continue;
                }
            };
            xfs.as_ref().unwrap().path()
        } else {
            tmpfs = Tmpfs::mount("size=16m").expect("as root a tmpfs mounts");
            tmpfs.path()
        };
        // A neighbour that must survive untouched.
        let target = mnt.join("target");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("neighbour"), "keep").unwrap();
        // On disk before any shutdown, which drops what is not.
        assert!(sh("sync"));
        let out_dir = tempfile::tempdir().unwrap();
        let json = out_dir.path().join("r.json");
        let before = snapshot(&target);
        let child = spawn_run(&target, &json, &["--workers", workers]);
        let scratch = wait_for_scratch(&target);
        std::thread::sleep(Duration::from_millis(300));
        fault(mnt, &scratch);
        let out = child.wait_with_output().unwrap();
        let _ = sh(&format!(
            "mount -o remount,rw {} 2>/dev/null",
            mnt.display()
        ));
        if let Some(x) = xfs.as_ref() {
            x.remount();
        }
        assert_eq!(out.status.code(), Some(2), "{name}: exit 2");
        let line = one_line(&out);
        assert!(
            line.contains("environment error") && line.contains(cause),
            "{name}: {line}"
        );
        assert!(out.stdout.is_empty(), "{name}: no summary on stdout");
        let r = load(&json);
        let marked = r["environment_error"].as_str().unwrap_or_default();
        assert!(marked.contains(cause), "{name}: report marked: {marked:?}");
        let s = &r["scenarios"][0];
        assert!(s["cycles"].as_u64().unwrap() > 0, "{name}: cycles kept");
        assert_eq!(s["anomalies"], 0, "{name}: nothing counted as an anomaly");
        for class in ["unexpected_errno", "io_error", "spurious_enoent_on_create"] {
            assert_eq!(s["classes"][class]["count"], 0, "{name}: {class}");
        }
        // The neighbour is untouched; the scratch directory is gone or named
        // in the line as left behind.
        let after: Vec<_> = snapshot(&target)
            .into_iter()
            .filter(|(p, _, _)| !p.starts_with(&scratch))
            .collect();
        let before: Vec<_> = before
            .into_iter()
            .filter(|(p, _, _)| !p.starts_with(&scratch))
            .collect();
        assert_eq!(
            after, before,
            "{name}: nothing outside the scratch dir changed"
        );
        if scratch.exists() {
            assert!(
                line.contains(&format!("left at {}", scratch.display())),
                "{name}: says where the scratch dir was left: {line}"
            );
        }
    }
}

/// The parent is renamed mid-run and a directory of the
/// scratch directory's name, holding a file, is put at the old path. The
/// decoy is untouched and the real scratch directory is removed.
#[test]
fn scratch_is_removed_through_its_descriptors() {
    if !root_or_skip("renamed parent (tmpfs)") {
        return;
    }
    for workers in ["threads", "processes"] {
        let fs = Tmpfs::mount("size=16m").expect("as root a tmpfs mounts");
        let parent = fs.path().join("p");
        let moved = fs.path().join("q");
        std::fs::create_dir(&parent).unwrap();
        let out_dir = tempfile::tempdir().unwrap();
        let json = out_dir.path().join("r.json");
        let mut child = spawn_run(&parent, &json, &["--workers", workers, "--duration", "2"]);
        let scratch = wait_for_scratch(&parent);
        std::fs::rename(&parent, &moved).unwrap();
        std::fs::create_dir_all(scratch.join("trash")).unwrap();
        std::fs::write(scratch.join("DEST.txt"), "decoy").unwrap();
        std::fs::write(scratch.join("tmp-r0"), "decoy").unwrap();
        let decoy = snapshot(&parent);
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(0), "{workers}");
        assert_eq!(
            snapshot(&parent),
            decoy,
            "{workers}: the decoy is untouched"
        );
        assert_eq!(
            std::fs::read_to_string(scratch.join("DEST.txt")).unwrap(),
            "decoy"
        );
        assert!(
            entries(&moved).is_empty(),
            "{workers}: the real scratch dir is removed: {:?}",
            entries(&moved)
        );
        assert_eq!(load(&json)["interrupted"], false);
    }
}

/// What an output path names decides how it is written.
#[test]
fn outputs_never_replace_what_is_not_a_regular_file() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let fifo = p.join("fifo");
    assert!(sh(&format!("mkfifo {}", fifo.display())));
    let existing = p.join("existing.json");
    std::fs::write(&existing, "old").unwrap();
    std::fs::set_permissions(&existing, std::fs::Permissions::from_mode(0o640)).unwrap();
    let link = p.join("link.json");
    std::os::unix::fs::symlink(&existing, &link).unwrap();
    let sub = p.join("sub");
    std::fs::create_dir(&sub).unwrap();
    let root = root_or_skip("a character device made with mknod");
    let device = p.join("null");
    if root {
        assert!(sh(&format!("mknod {} c 1 3", device.display())));
    }
    // (name, --json value, exit code, stderr must contain, check afterwards)
    type Check = Box<dyn Fn(&Output)>;
    let mut cases: Vec<(&str, PathBuf, i32, &str, Check)> = vec![
        (
            "fifo: written through",
            fifo.clone(),
            0,
            "",
            Box::new(|_| {}),
        ),
        (
            "regular file: replaced, mode kept",
            existing.clone(),
            0,
            "",
            Box::new({
                let existing = existing.clone();
                move |_| {
                    let m = std::fs::metadata(&existing).unwrap();
                    assert_eq!(m.mode() & 0o7777, 0o640);
                    assert!(load(&existing)["scenarios"].is_array());
                }
            }),
        ),
        (
            "symlink: kept, its target written",
            link.clone(),
            0,
            "",
            Box::new({
                let link = link.clone();
                move |_| {
                    assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
                    assert!(load(&link)["scenarios"].is_array());
                }
            }),
        ),
        (
            "directory: refused",
            sub.clone(),
            2,
            "is a directory",
            Box::new({
                let sub = sub.clone();
                move |_| assert!(std::fs::metadata(&sub).unwrap().is_dir())
            }),
        ),
        (
            "missing directory: refused",
            p.join("nowhere/r.json"),
            2,
            "does not exist",
            Box::new(|_| {}),
        ),
        (
            "-: standard output",
            PathBuf::from("-"),
            0,
            "",
            Box::new(|out| {
                let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
                assert_eq!(v["tool"], "unlink-race");
            }),
        ),
    ];
    if root {
        cases.push((
            "character device: written through, not replaced",
            device.clone(),
            0,
            "",
            Box::new({
                let device = device.clone();
                move |_| {
                    let m = std::fs::symlink_metadata(&device).unwrap();
                    assert!(m.file_type().is_char_device());
                }
            }),
        ));
    }
    for (name, json, code, text, check) in cases {
        let reader = (json == fifo).then(|| {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read(&fifo).unwrap())
        });
        let out = bin()
            .args(["run", "--cycles", "200", "--no-progress", "--json"])
            .arg(&json)
            .arg("--dir")
            .arg(p)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(code), "{name}: {out:?}");
        if code == 2 {
            assert!(one_line(&out).contains(text), "{name}");
            assert!(out.stdout.is_empty(), "{name}: refused before the run");
        }
        if let Some(r) = reader {
            let bytes = r.join().unwrap();
            let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(v["tool"], "unlink-race", "{name}");
            assert!(
                std::fs::symlink_metadata(&fifo)
                    .unwrap()
                    .file_type()
                    .is_fifo()
            );
        }
        check(&out);
    }
    // No temporary file is left behind anywhere.
    assert!(
        entries(p).iter().all(|n| !n.starts_with('.')),
        "{:?}",
        entries(p)
    );
}

/// Outputs are checked before the run, and a failing
/// output leaves none of the others.
#[test]
fn outputs_are_checked_before_the_run_and_written_all_or_none() {
    if !root_or_skip("a read-only tmpfs") {
        return;
    }
    let ro = Tmpfs::mount("size=1m,ro").expect("as root a tmpfs mounts");
    let full = Tmpfs::mount("size=64k").expect("as root a tmpfs mounts");
    // Fill it: the HTML report cannot fit.
    let _ = std::fs::write(full.path().join("filler"), vec![0u8; 1 << 20]);
    let out_dir = tempfile::tempdir().unwrap();
    let ok = out_dir.path().join("ok.json");
    let cases: [(&str, Vec<&str>, PathBuf, &str); 3] = [
        (
            "--json on a read-only filesystem",
            vec!["--json"],
            ro.path().join("r.json"),
            "Read-only file system",
        ),
        (
            "--html on a read-only filesystem after a good --json",
            vec!["--json", ok.to_str().unwrap(), "--html"],
            ro.path().join("r.html"),
            "Read-only file system",
        ),
        (
            "--html on a full filesystem after a good --json",
            vec!["--json", ok.to_str().unwrap(), "--html"],
            full.path().join("r.html"),
            "No space left",
        ),
    ];
    for (name, flags, bad, text) in cases {
        let out = bin()
            .args(["run", "--cycles", "20000", "--no-progress", "--size", "1M"])
            .args(&flags)
            .arg(&bad)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{name}");
        assert!(one_line(&out).contains(text), "{name}: {out:?}");
        assert!(!ok.exists(), "{name}: exit 2 leaves no output file");
        assert!(!bad.exists(), "{name}");
        assert!(
            entries(full.path()) == ["filler"],
            "{name}: no temporary left: {:?}",
            entries(full.path())
        );
    }
}

/// Bad input gets exit 2 and one line.
#[test]
fn hostile_input_gets_one_line_and_exit_2() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let bad = OsStr::from_bytes(b"\xff");
    let d = tempfile::tempdir().unwrap();
    let mut non_utf8_path = d.path().as_os_str().to_owned();
    non_utf8_path.push("/");
    non_utf8_path.push(bad);
    // (name, args, environment, text in the line)
    type Case<'a> = (&'a str, Vec<&'a OsStr>, Vec<(&'a str, &'a OsStr)>, &'a str);
    let cases: Vec<Case> = vec![
        (
            "non-UTF-8 --label",
            vec!["run".as_ref(), "--label".as_ref(), bad],
            vec![],
            "--label is not valid UTF-8",
        ),
        (
            "non-UTF-8 --json",
            vec!["run".as_ref(), "--json".as_ref(), &non_utf8_path],
            vec![],
            "--json is not valid UTF-8",
        ),
        (
            "non-UTF-8 compare path",
            vec!["compare".as_ref(), "a.json".as_ref(), bad],
            vec![],
            "not valid UTF-8",
        ),
        (
            "non-UTF-8 UNLINK_RACE_DIR",
            vec!["grid".as_ref()],
            vec![("UNLINK_RACE_DIR", bad)],
            "UNLINK_RACE_DIR",
        ),
        (
            "duplicate readers",
            vec!["grid".as_ref()],
            vec![("UNLINK_RACE_READERS", "1,1".as_ref())],
            "'1' is listed twice",
        ),
        (
            "duplicate sizes",
            vec!["grid".as_ref()],
            vec![("UNLINK_RACE_SIZES", "4K,4096".as_ref())],
            "'4K' and '4096' are the same",
        ),
        (
            "duplicate recreate",
            vec!["grid".as_ref()],
            vec![("UNLINK_RACE_RECREATE", "inplace,inplace".as_ref())],
            "listed twice",
        ),
        (
            "label index",
            vec!["run".as_ref(), "--label".as_ref(), "index".as_ref()],
            vec![],
            "index.html",
        ),
        (
            "UNLINK_RACE_LABEL=index",
            vec!["grid".as_ref()],
            vec![("UNLINK_RACE_LABEL", "Index".as_ref())],
            "index.html",
        ),
        (
            "empty label",
            vec!["run".as_ref(), "--label".as_ref(), "".as_ref()],
            vec![],
            "empty",
        ),
        (
            "label with a slash",
            vec!["run".as_ref(), "--label".as_ref(), "../x".as_ref()],
            vec![],
            "no '/'",
        ),
        (
            "hidden label",
            vec!["run".as_ref(), "--label".as_ref(), ".x".as_ref()],
            vec![],
            "starts with '.'",
        ),
    ];
    for (name, args, env, text) in cases {
        let out = bin().args(&args).envs(env).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{name}: {out:?}");
        let line = one_line(&out);
        assert!(line.contains(text), "{name}: {line}");
    }
}

/// A failed write to standard output is an error.
#[test]
fn stdout_write_errors_are_errors() {
    if !Path::new("/dev/full").exists() {
        eprintln!("skipped: no /dev/full");
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let json = d.path().join("r.json");
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = bin()
        .args(["run", "--cycles", "100", "--no-progress", "--json"])
        .arg(&json)
        .arg("--dir")
        .arg(d.path())
        .stdout(full)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(one_line(&out).contains("cannot write to standard output"));
    assert!(!json.exists(), "exit 2 leaves no report");
}

/// SIGHUP is handled like SIGINT and SIGTERM; too few
/// descriptors stop the run before it starts.
#[test]
fn sighup_and_the_descriptor_budget() {
    let d = tempfile::tempdir().unwrap();
    let target = d.path().join("t");
    std::fs::create_dir(&target).unwrap();
    let json = d.path().join("r.json");
    for signal in ["HUP", "TERM"] {
        let child = spawn_run(&target, &json, &[]);
        wait_for_scratch(&target);
        std::thread::sleep(Duration::from_millis(300));
        assert!(sh(&format!("kill -{signal} {}", child.id())));
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(130), "SIG{signal}");
        assert_eq!(load(&json)["interrupted"], true, "SIG{signal}");
        assert!(entries(&target).is_empty(), "SIG{signal}: scratch removed");
    }
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -n 12; exec {} run --readers 8 --deleters 8 --cycles 10 --dir {}",
            env!("CARGO_BIN_EXE_unlink-race"),
            target.display()
        ))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(one_line(&out).contains("out of file descriptors"));
    assert!(entries(&target).is_empty(), "nothing was created");
}

/// A pause of the whole process (SIGSTOP ... SIGCONT) is
/// not a stall.
#[test]
fn sigstop_is_not_a_stall() {
    let d = tempfile::tempdir().unwrap();
    let json = d.path().join("r.json");
    let child = spawn_run(
        d.path(),
        &json,
        &[
            "--duration",
            "4",
            "--stall-timeout",
            "1",
            "--readers",
            "1",
            "--deleters",
            "1",
        ],
    );
    wait_for_scratch(d.path());
    std::thread::sleep(Duration::from_millis(300));
    assert!(sh(&format!("kill -STOP {}", child.id())));
    // Twice the stall limit: long enough for a false stall before the fix.
    std::thread::sleep(Duration::from_millis(2500));
    assert!(sh(&format!("kill -CONT {}", child.id())));
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let r = load(&json);
    assert_eq!(r["scenarios"][0]["classes"]["stall"]["count"], 0);
    assert_eq!(r["scenarios"][0]["stalls"].as_array().unwrap().len(), 0);
}

/// The committed zombiefs report with its lists as long as
/// an uncapped report had them, capped, keeps its counts and says what it
/// left out.
#[test]
fn reports_cap_their_lists_and_say_so() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("reports/reference/linux-12-fuse.zombiefs-vm.json");
    let mut report: unlink_race::report::schema::Report =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    // The reference was written capped: every timeline eight times as long,
    // and every example twice, as before reports were capped.
    for s in &mut report.scenarios {
        if let Some(t) = &mut s.timeline {
            let events = t.events.clone();
            for k in 1..8 {
                t.events.extend(events.iter().map(|e| {
                    let mut e = e.clone();
                    e.t_ns += k * 1_000_000;
                    e
                }));
            }
        }
        let examples = s.examples.clone();
        s.examples.extend(examples);
        s.dropped = Default::default();
    }
    let text = serde_json::to_string_pretty(&report).unwrap();
    let lengths = |r: &unlink_race::report::schema::Report| -> (usize, usize, usize) {
        r.scenarios.iter().fold((0, 0, 0), |(e, t, s), sc| {
            (
                e + sc.examples.len(),
                t + sc.timeline.as_ref().map_or(0, |t| t.events.len()),
                s + sc.stalls.len(),
            )
        })
    };
    let before = lengths(&report);
    let counts: Vec<u64> = report.scenarios.iter().map(|s| s.anomalies).collect();
    unlink_race::report::build::cap_lists(&mut report.scenarios);
    let after = lengths(&report);
    let dropped = report.scenarios.iter().fold((0, 0, 0), |(e, t, s), sc| {
        (
            e + sc.dropped.examples as usize,
            t + sc.dropped.timeline_events as usize,
            s + sc.dropped.stalls as usize,
        )
    });
    assert_eq!(
        (
            after.0 + dropped.0,
            after.1 + dropped.1,
            after.2 + dropped.2
        ),
        before
    );
    assert!(dropped.1 > 0, "the timelines were capped");
    let with_timeline = report
        .scenarios
        .iter()
        .filter(|s| s.timeline.is_some())
        .count();
    assert!(
        after.1
            <= unlink_race::report::build::REPORT_TIMELINE_EVENTS
                .max(with_timeline * unlink_race::report::build::MIN_TIMELINE_EVENTS)
    );
    let capped = serde_json::to_string_pretty(&report).unwrap();
    eprintln!(
        "zombiefs reference report lengthened: {} bytes, capped {} bytes; timeline events {} -> {}",
        text.len(),
        capped.len(),
        before.1,
        after.1
    );
    assert!(capped.len() < text.len() / 2);
    assert!(capped.contains("\"dropped\""));
    let html = unlink_race::export::html::render_report(&report);
    assert!(html.contains("Capped:"));
    // Counts with separators, and only what was left out.
    let events = format!(
        "{} timeline events",
        unlink_race::export::format::format_count(dropped.1 as u64)
    );
    assert!(html.contains(&events), "{events}");
    assert_eq!(html.contains("stall record"), dropped.2 > 0);
    assert_eq!(
        report
            .scenarios
            .iter()
            .map(|s| s.anomalies)
            .collect::<Vec<_>>(),
        counts,
        "counts untouched"
    );
}

/// zombiefs as a process: containment, signals while busy, stacked mounts
/// and a killed server (needs root and /dev/fuse, as CI has).
#[cfg(all(feature = "zombiefs", target_os = "linux"))]
pub(crate) mod zombiefs_process {
    use super::*;

    /// `unlink-race zombiefs --backing backing mnt`, started and mounted.
    fn start(backing: &Path, mnt: &Path) -> Child {
        start_with(backing, mnt, &[])
    }

    /// [`start`] with more flags (`--stall-ms`, ...).
    pub(crate) fn start_with(backing: &Path, mnt: &Path, extra: &[&str]) -> Child {
        let child = bin()
            .arg("zombiefs")
            .args(extra)
            .arg("--backing")
            .arg(backing)
            .arg(mnt)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while !mnt.join(unlink_race::zombiefs::STATS_FILE).exists() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "zombiefs did not mount"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        child
    }

    fn dev(p: &Path) -> u64 {
        std::fs::metadata(p).unwrap().dev()
    }

    fn mounted(p: &Path) -> bool {
        std::fs::read_to_string("/proc/self/mounts")
            .unwrap()
            .lines()
            .any(|l| l.split(' ').nth(1) == Some(p.to_str().unwrap()))
    }

    fn kill(child: &Child, signal: &str) {
        assert!(sh(&format!("kill -{signal} {}", child.id())));
    }

    /// A mount point inside the backing directory (a
    /// deadlock) or the backing inside the mount point is refused.
    #[test]
    fn containment_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let outer = d.path().canonicalize().unwrap();
        let inner = outer.join("m");
        std::fs::create_dir(&inner).unwrap();
        for (name, backing, mnt, text) in [
            (
                "mount point inside backing",
                &outer,
                &inner,
                "is inside --backing",
            ),
            (
                "backing inside mount point",
                &inner,
                &outer,
                "is inside the mountpoint",
            ),
        ] {
            let before = snapshot(&outer);
            let out = bin()
                .arg("zombiefs")
                .arg("--backing")
                .arg(backing)
                .arg(mnt)
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(2), "{name}");
            assert!(one_line(&out).contains(text), "{name}");
            assert!(!mounted(mnt), "{name}: nothing mounted");
            assert_eq!(snapshot(&outer), before, "{name}");
        }
    }

    /// SIGTERM while a file is open detaches the mount and
    /// serves on until the file is closed; the client never sees ENOTCONN.
    #[test]
    fn sigterm_while_busy_serves_until_the_last_file_closes() {
        if !root_or_skip("zombiefs") {
            return;
        }
        let d = tempfile::tempdir().unwrap();
        let (backing, mnt) = (d.path().join("b"), d.path().join("m"));
        std::fs::create_dir(&backing).unwrap();
        std::fs::create_dir(&mnt).unwrap();
        std::fs::write(backing.join("x"), "content").unwrap();
        let mut child = start(&backing, &mnt);
        let mut open = std::fs::File::open(mnt.join("x")).unwrap();
        kill(&child, "TERM");
        // It says it is busy, and goes on serving what is open.
        let start = Instant::now();
        while mounted(&mnt) && start.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(!mounted(&mnt), "detached from the mount point");
        assert!(child.try_wait().unwrap().is_none(), "still serving");
        let mut text = String::new();
        std::io::Read::read_to_string(&mut open, &mut text).unwrap();
        assert_eq!(text, "content", "the open file still works");
        drop(open);
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{err}");
        assert!(
            err.contains("is busy") && err.contains("serving until then"),
            "{err}"
        );
    }

    /// SIGTERM to the lower of two stacked zombiefs leaves
    /// the upper one mounted.
    #[test]
    fn sigterm_to_a_covered_mount_leaves_the_one_above() {
        if !root_or_skip("zombiefs") {
            return;
        }
        let d = tempfile::tempdir().unwrap();
        let (b1, b2, mnt) = (d.path().join("b1"), d.path().join("b2"), d.path().join("m"));
        for p in [&b1, &b2, &mnt] {
            std::fs::create_dir(p).unwrap();
        }
        std::fs::write(b2.join("upper"), "2").unwrap();
        let lower = start(&b1, &mnt);
        let lower_dev = dev(&mnt);
        let _ = std::fs::remove_file(mnt.join(unlink_race::zombiefs::STATS_FILE));
        let upper = bin()
            .arg("zombiefs")
            .arg("--backing")
            .arg(&b2)
            .arg(&mnt)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let start_t = Instant::now();
        while dev(&mnt) == lower_dev {
            assert!(
                start_t.elapsed() < Duration::from_secs(10),
                "upper did not mount"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let upper_dev = dev(&mnt);
        kill(&lower, "TERM");
        std::thread::sleep(Duration::from_millis(500));
        assert_eq!(dev(&mnt), upper_dev, "the upper mount is still there");
        assert!(mnt.join("upper").exists());
        kill(&upper, "TERM");
        let up = upper.wait_with_output().unwrap();
        assert_eq!(up.status.code(), Some(0));
        let low = lower.wait_with_output().unwrap();
        assert_eq!(
            low.status.code(),
            Some(0),
            "the lower one unmounts once uncovered"
        );
        let err = String::from_utf8_lossy(&low.stderr);
        assert!(err.contains("covered by another mount"), "{err}");
        assert!(!mounted(&mnt));
    }

    /// The FUSE server of the target is killed mid-run:
    /// ENOTCONN from the scratch directory is an environment error.
    #[test]
    fn a_killed_fuse_server_is_an_environment_error() {
        if !root_or_skip("zombiefs") {
            return;
        }
        let d = tempfile::tempdir().unwrap();
        let (backing, mnt) = (d.path().join("b"), d.path().join("m"));
        std::fs::create_dir(&backing).unwrap();
        std::fs::create_dir(&mnt).unwrap();
        std::fs::write(backing.join("neighbour"), "keep").unwrap();
        let before = snapshot(&backing);
        let mut server = start(&backing, &mnt);
        let json = d.path().join("r.json");
        let run = spawn_run(&mnt, &json, &[]);
        let scratch_name = wait_for_scratch(&mnt).file_name().unwrap().to_owned();
        std::thread::sleep(Duration::from_millis(300));
        kill(&server, "KILL");
        let _ = server.wait();
        let out = run.wait_with_output().unwrap();
        let _ = Command::new("umount").arg("-l").arg(&mnt).status();
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        let line = one_line(&out);
        assert!(line.contains("disconnected filesystem"), "{line}");
        let r = load(&json);
        assert!(
            r["environment_error"]
                .as_str()
                .unwrap()
                .contains("disconnected")
        );
        // zombiefs's own zombies are counted; the disconnection is not.
        for class in ["unexpected_errno", "io_error", "stale"] {
            assert_eq!(r["scenarios"][0]["classes"][class]["count"], 0, "{class}");
        }
        let after: Vec<_> = snapshot(&backing)
            .into_iter()
            .filter(|(p, _, _)| !p.starts_with(backing.join(&scratch_name)))
            .collect();
        assert_eq!(after, before, "nothing outside the scratch dir changed");
    }
}
