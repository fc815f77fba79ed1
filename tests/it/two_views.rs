//! Two views of one directory: readers race through one path,
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

/// The entries of `dir` but overlay whiteouts (character devices 0:0): an
/// overlay's upper directory records there that the merged view removed
/// a name, as fuse-overlayfs does for every scratch directory, one view or two.
fn entries_but_whiteouts(dir: &Path) -> Vec<String> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    entries(dir)
        .into_iter()
        .filter(|name| {
            let m = std::fs::symlink_metadata(dir.join(name)).unwrap();
            !(m.file_type().is_char_device() && m.rdev() == 0)
        })
        .collect()
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
    let before = [dir, other].map(entries_but_whiteouts);
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
    for (side, before) in [dir, other].into_iter().zip(before) {
        assert_eq!(
            entries_but_whiteouts(side),
            before,
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

/// A split run's examples of `class`: every one from `side` at `op` with `errno_name`.
fn check_examples(split: &Split, what: &str, class: &str, side: &str, op: &str, errno_name: &str) {
    let examples: Vec<&serde_json::Value> = split.scenario()["examples"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["class"] == class)
        .collect();
    assert!(!examples.is_empty(), "{what}: {class} has examples");
    for e in examples {
        assert!(
            e["worker"].as_str().unwrap().starts_with(side)
                && e["op"] == op
                && e["errno_name"] == errno_name,
            "{what}: a {class} example is not {side} {op} {errno_name}: {e}"
        );
    }
}

/// Bindfs, readers on the mount, the deleter on its source
/// directory. The kernel keeps a name bindfs looked up for its entry timeout
/// (1 s), so after the deleter's removal the reader's `open(O_CREAT)` is
/// sent as a plain open of the cached name and fails with ENOENT
/// (`spurious_enoent_on_create`), again and again for that second: found
/// in nearly every cycle after the first removal.
#[test]
fn bindfs_two_views_fail_creates_while_the_removed_name_is_cached() {
    let Some(fs) = RealFs::bindfs() else { return };
    let split = run_split(
        "bindfs",
        fs.path(),
        fs.other_side(),
        "--pace sleep --duration 3 --cycles 200000",
    );
    assert_eq!(split.code, 1, "{}", split.found());
    assert!(
        split.count("spurious_enoent_on_create") > 0,
        "bindfs: the cached name fails creates: {}",
        split.found()
    );
    check_examples(
        &split,
        "bindfs",
        "spurious_enoent_on_create",
        "reader",
        "create",
        "ENOENT",
    );
}

/// Bindfs with the deleter recreating the file on the source
/// directory, as the issue measured it with a Python reader: `fstat` on a
/// descriptor the reader's `open` just returned fails with ENOENT
/// (`fd_enoent`: bindfs answers it by the path, which the other side
/// removed), beside the failing creates. In a 10 s run.
#[test]
fn bindfs_two_views_fail_fstat_on_an_open_descriptor() {
    let Some(fs) = RealFs::bindfs() else { return };
    let split = run_split(
        "bindfs, deleters recreating",
        fs.path(),
        fs.other_side(),
        "--pace sleep --deleters-recreate --duration 10",
    );
    assert!(
        split.count("fd_enoent") > 0,
        "bindfs: fstat on an open descriptor fails: {}",
        split.found()
    );
    check_examples(&split, "bindfs", "fd_enoent", "reader", "fstat", "ENOENT");
    // Deleters that write in place make empty reads an expected race.
    assert_eq!(
        split.scenario()["classes"]["empty_read"]["expected"],
        true,
        "{}",
        split.found()
    );
}

/// Sshfs, readers on the mount, the deleter in the server's
/// directory; and two sshfs mounts of one server directory as two clients.
/// sshfs keeps names and attributes in caches of its own, so a create after
/// the other side's removal fails with ENOENT (`spurious_enoent_on_create`)
/// until they expire, and `fstat` answers from them: the reader's opens are
/// not seen to race (`st_nlink` stays 1), and `stat` still finds names the
/// other side removed (`open_enoent_visible`, expected with two views).
#[test]
fn sshfs_two_views_fail_creates_from_its_caches() {
    type Mount = fn() -> Option<RealFs>;
    let setups: [(&str, Mount); 2] = [
        ("sshfs, deleter on the server", RealFs::sshfs),
        ("sshfs, two clients", RealFs::sshfs_two_clients),
    ];
    for (what, mount) in setups {
        let Some(fs) = mount() else { return };
        let split = run_split(
            what,
            fs.path(),
            fs.other_side(),
            "--pace sleep --duration 3",
        );
        assert!(
            split.count("spurious_enoent_on_create") > 0,
            "{what}: {}",
            split.found()
        );
        check_examples(
            &split,
            what,
            "spurious_enoent_on_create",
            "reader",
            "create",
            "ENOENT",
        );
        let recreating = run_split(
            what,
            fs.path(),
            fs.other_side(),
            "--pace sleep --duration 3 --deleters-recreate",
        );
        assert!(
            recreating.count("open_enoent_visible") > 0,
            "{what}: stat finds removed names in the reader's caches: {}",
            recreating.found()
        );
        assert_eq!(
            recreating.scenario()["classes"]["open_enoent_visible"]["expected"],
            true
        );
    }
}

/// Fuse-overlayfs, readers in the merged directory, the deleter in
/// its upper directory. fuse-overlayfs never learns of a removal made in the
/// upper directory (changes under a mounted overlay are undefined): the
/// name stays in its own tree, so after the first removal every open of it
/// fails with ENOENT, and so does every create, for the rest of the run.
#[test]
fn fuse_overlayfs_two_views_lose_the_file_for_good() {
    let Some(fs) = RealFs::fuse_overlayfs() else {
        return;
    };
    let split = run_split(
        "fuse-overlayfs",
        fs.path(),
        fs.other_side(),
        "--pace sleep --cycles 3000",
    );
    let cycles = split.scenario()["cycles"].as_u64().unwrap();
    let failed = split.count("spurious_enoent_on_create");
    // Before the deleter's first removal the reader's opens succeed (a few
    // cycles, more on a loaded machine); after it no create succeeds again.
    let recreated = split.count("recreated");
    assert!(
        recreated <= 2
            && failed + recreated == split.count("enoent_on_open")
            && failed * 10 >= cycles * 9,
        "fuse-overlayfs: after the first removal every create fails: {}",
        split.found()
    );
    check_examples(
        &split,
        "fuse-overlayfs",
        "spurious_enoent_on_create",
        "reader",
        "create",
        "ENOENT",
    );
}

/// Xfs and ext4 through a bind mount: two paths, one filesystem,
/// one dentry cache. Clean, whatever the views do: no anomaly, no errno,
/// and no name that `stat` finds after an `open` said ENOENT where only the
/// reader creates (one reader, deleters not recreating). The figure of 10^6
/// cycles is in docs/measurements.
#[test]
fn local_filesystems_through_a_bind_mount_are_clean_with_two_views() {
    for fs in [RealFs::xfs(), RealFs::ext4()] {
        let Some(fs) = fs.map(RealFs::with_bind_mount) else {
            return;
        };
        for flags in [
            "--pace sleep --cycles 20000",
            "--pace check --size 4K --recreate atomic --cycles 20000",
            "--readers 2 --deleters 2 --size 4K --deleters-recreate --pace sleep --cycles 20000",
        ] {
            let split = run_split(fs.name, fs.path(), fs.other_side(), flags);
            assert_eq!(
                (split.code, split.anomalies()),
                (0, vec![]),
                "{}: {flags}: an anomaly through a bind mount: {}; examples {}",
                fs.name,
                split.found(),
                split.scenario()["examples"]
            );
            assert_eq!(split.scenario()["errno_breakdown"], serde_json::json!([]));
            assert!(
                split.count("ok") > 0 && split.count("removed") > 0,
                "{}",
                split.found()
            );
            if !flags.contains("--deleters-recreate") {
                assert_eq!(
                    split.count("open_enoent_visible"),
                    0,
                    "{}: {flags}: no cache between the views: {}",
                    fs.name,
                    split.found()
                );
            }
        }
    }
}

/// The classes a run saw (count > 0), anomalies and expected ones apart.
fn classes_seen(split: &Split, at_least: u64) -> Vec<String> {
    split.scenario()["classes"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, c)| c["count"].as_u64().unwrap() >= at_least)
        .map(|(name, _)| name.clone())
        .collect()
}

/// Two processes, one per side, as on Docker Desktop or WSL2 (here
/// the reader's process on the bindfs mount, the deleter's on its source
/// directory), see the classes one process with both paths sees: every
/// class one of the runs saw ten times or more, the other saw too.
#[test]
fn two_processes_see_what_one_process_sees_on_bindfs() {
    let Some(fs) = RealFs::bindfs() else { return };
    let flags = "--pace sleep --deleters-recreate --duration 4";
    let one = run_split("bindfs, one process", fs.path(), fs.other_side(), flags);
    let out_dir = tempfile::tempdir().unwrap();
    let json = out_dir.path().join("reader.json");
    let mut reader = crate::util::bin()
        .args(["run", "--role", "reader", "--no-progress", "--dir"])
        .arg(fs.path())
        .arg("--json")
        .arg(&json)
        .args(flags.split_whitespace())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deleter = run(&[
        "run",
        "--role",
        "deleter",
        "--dir",
        fs.other_side().to_str().unwrap(),
    ]);
    let deleter_out = String::from_utf8_lossy(&deleter.stdout);
    assert_eq!(
        deleter.status.code(),
        Some(0),
        "{deleter_out}{}",
        String::from_utf8_lossy(&deleter.stderr)
    );
    assert!(deleter_out.contains("removals"), "{deleter_out}");
    let reader_status = reader.wait().unwrap();
    let mut reader_err = String::new();
    std::io::Read::read_to_string(reader.stderr.as_mut().unwrap(), &mut reader_err).unwrap();
    assert!(
        reader_status.code() == Some(0) || reader_status.code() == Some(1),
        "{reader_err}"
    );
    let two = Split {
        code: reader_status.code().unwrap(),
        report: load(&json),
        stdout: String::new(),
    };
    eprintln!("bindfs, two processes: {}", two.found());
    assert_eq!(two.scenario()["name"], one.scenario()["name"]);
    assert_eq!(
        two.report["machine"]["other_side"]["fs_type"],
        one.report["machine"]["other_side"]["fs_type"]
    );
    assert!(
        two.scenario()["removals"].as_u64() > Some(0),
        "the deleters' counts are merged"
    );
    let (often_one, often_two) = (classes_seen(&one, 10), classes_seen(&two, 10));
    let (any_one, any_two) = (classes_seen(&one, 1), classes_seen(&two, 1));
    for class in &often_one {
        assert!(
            any_two.contains(class),
            "{class}: one process {}; two {}",
            one.found(),
            two.found()
        );
    }
    for class in &often_two {
        assert!(
            any_one.contains(class),
            "{class}: one process {}; two {}",
            one.found(),
            two.found()
        );
    }
    assert!(
        any_two.contains(&"fd_enoent".to_string()),
        "{}",
        two.found()
    );
    for side in [fs.path(), fs.other_side()] {
        assert_eq!(entries(side), Vec::<String>::new(), "{}", side.display());
    }
}

/// A reader with no deleter gives up after `--role-wait`, exit 2, one line
/// saying what to run on the other side; its scratch directory is removed.
#[test]
fn a_reader_without_a_deleter_gives_up() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&[
        "run",
        "--role",
        "reader",
        "--role-wait",
        "1",
        "--dir",
        dir.path().to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let error: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(error.len(), 1, "{stderr}");
    assert!(error[0].contains("--role deleter"), "{stderr}");
    assert_eq!(entries(dir.path()), Vec::<String>::new());
    let out = run(&[
        "run",
        "--role",
        "deleter",
        "--role-wait",
        "1",
        "--dir",
        dir.path().to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--role reader"), "{stderr}");
}

/// Flags that do not fit two views are refused before anything runs, each
/// with one line naming the flag.
#[test]
fn flags_that_do_not_fit_two_views_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    for (args, says) in [
        (
            vec!["--role", "deleter", "--readers", "2", "--dir", d],
            "--readers",
        ),
        (
            vec!["--role", "deleter", "--duration", "5", "--dir", d],
            "--duration",
        ),
        (
            vec!["--role", "reader", "--other-side", d, "--dir", d],
            "--other-side",
        ),
        (
            vec!["--role", "reader", "--pace", "aimed", "--dir", d],
            "aimed",
        ),
        (
            vec!["--role", "reader", "--pace", "auto", "--dir", d],
            "auto",
        ),
        (
            vec!["--role", "reader", "--workers", "processes", "--dir", d],
            "threads",
        ),
        (vec!["--role", "writer", "--dir", d], "writer"),
        (
            vec!["--deleters-recreate", "--dir", d],
            "--deleters-recreate",
        ),
        (
            vec!["--other-side", d, "--other-side", d, "--dir", d],
            "--other-side given 2 times",
        ),
        (
            vec!["--other-side", "/definitely/not/here", "--dir", d],
            "/definitely/not/here",
        ),
        (
            vec![
                "--other-side",
                d,
                "--deleters-recreate",
                "--delete",
                "replace",
                "--dir",
                d,
            ],
            "replace",
        ),
        (
            vec!["--race", "create", "--other-side", d, "--dir", d],
            "one view",
        ),
        (
            vec!["--race", "create", "--role", "reader", "--dir", d],
            "one view",
        ),
    ] {
        let mut all = vec!["run", "--no-progress"];
        all.extend(&args);
        let out = run(&all);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: one line: {stderr}");
        assert!(stderr.contains(says), "{args:?}: names {says}: {stderr}");
        assert_eq!(entries(dir.path()), Vec::<String>::new(), "{args:?}");
    }
}

/// Split scenarios are compared with split ones only: a report of two views
/// and one of one view have no scenario in common, and compare says which
/// field differs; older reports (no `views`) read as one view.
#[test]
fn compare_matches_two_views_only_with_two_views() {
    use crate::fixtures::{ReportBuilder, write_report};
    use unlink_race::report::schema::{OtherSide, Views};
    use unlink_race::scenario::Scenario;
    let dir = tempfile::tempdir().unwrap();
    let split = Scenario {
        views: Views::Split,
        ..Scenario::default()
    };
    let two = ReportBuilder::new("two")
        .machine(|m| {
            m.other_side = Some(OtherSide {
                fs_type: "ext4".into(),
                mount_point: "/".into(),
                target_dir: "/srv/b".into(),
            })
        })
        .scenario_of(&split, 10_000, 1000.0, &[])
        .build();
    let one = ReportBuilder::new("one")
        .scenario(1, 10_000, 1000.0, &[])
        .build();
    assert_eq!(
        two.scenarios[0].name,
        "r1-d1-7B-inplace-unlink-threads-split"
    );
    assert_eq!(one.scenarios[0].name, "r1-d1-7B-inplace-unlink-threads");
    let text = serde_json::to_string(&one).unwrap();
    assert!(
        !text.contains("views") && !text.contains("other_side"),
        "one view writes neither"
    );
    let (a, b) = (
        write_report(dir.path(), "one.json", &one),
        write_report(dir.path(), "two.json", &two),
    );
    let out = run(&["compare", a.to_str().unwrap(), b.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("views one vs split"), "{stderr}");
    let b2 = write_report(dir.path(), "two-again.json", &two);
    let out = run(&["compare", b.to_str().unwrap(), b2.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("-split"), "{stdout}");
    assert!(
        stdout.contains("other side"),
        "the machine rows name it: {stdout}"
    );
}

/// With two views and deleters that write, a deleter's failed create counts
/// as `spurious_enoent_on_create` too, and may outnumber the reader cycles:
/// such a report loads; in one view the same count is impossible and refused.
#[test]
fn deleters_creates_may_outnumber_the_cycles_with_two_views() {
    use crate::fixtures::{ReportBuilder, write_report};
    use unlink_race::outcome::Class;
    use unlink_race::report::schema::Views;
    use unlink_race::scenario::Scenario;
    let dir = tempfile::tempdir().unwrap();
    let counts = [(Class::SpuriousEnoentOnCreate, 1_500)];
    for (views, loads) in [(Views::SplitRecreating, true), (Views::One, false)] {
        let s = Scenario {
            views,
            ..Scenario::default()
        };
        let report = ReportBuilder::new("r")
            .scenario_of(&s, 1_000, 1000.0, &counts)
            .build();
        let a = write_report(dir.path(), "a.json", &report);
        let b = write_report(dir.path(), "b.json", &report);
        let out = run(&["compare", a.to_str().unwrap(), b.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if loads {
            assert_ne!(out.status.code(), Some(2), "{views:?}: {stderr}");
        } else {
            assert_eq!(out.status.code(), Some(2), "{views:?}: {stderr}");
            assert!(stderr.contains("more than the 1000 cycles"), "{stderr}");
        }
    }
}

/// When the readers' side stops answering (its FUSE server killed), the run
/// ends with an environment error, exit 2, and the scratch directory is
/// removed through the other side, which still answers.
#[test]
fn the_other_side_removes_the_scratch_directory_when_the_first_is_gone() {
    let Some(fs) = RealFs::bindfs() else { return };
    let out_dir = tempfile::tempdir().unwrap();
    let json = out_dir.path().join("r.json");
    let mut child = crate::util::bin()
        .args([
            "run",
            "--no-progress",
            "--pace",
            "sleep",
            "--duration",
            "60",
            "--dir",
        ])
        .arg(fs.path())
        .arg("--other-side")
        .arg(fs.other_side())
        .arg("--json")
        .arg(&json)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Racing: the scratch directory is there, seen through the source.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while entries(fs.other_side()).is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "no scratch directory appeared"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    let [bindfs] = fs.daemon_pids()[..] else {
        panic!("one bindfs daemon");
    };
    let killed = std::process::Command::new("kill")
        .args(["-9", &bindfs.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("disconnected"), "{stderr}");
    assert!(!stderr.contains("left at"), "removed, not left: {stderr}");
    assert_eq!(entries(fs.other_side()), Vec::<String>::new(), "{stderr}");
    assert!(load(&json)["environment_error"].is_string());
}
