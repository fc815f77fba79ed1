//! Real filesystems through the real binary: local ones that keep
//! the POSIX promises of open/unlink, and FUSE filesystems that break them in
//! ways nobody here wrote, which the detector must find and name correctly.
//!
//! Each test mounts its filesystem with a fixture from `realfs_util` (root,
//! and `/dev/fuse` for the FUSE ones; `.ci/run` installs the packages), runs
//! `unlink-race run` on it and reads the JSON report. Runs are bounded by
//! cycle counts, and the defect tests stop at the first few anomalies.

use std::path::Path;

use unlink_race::grid::GridConfig;

use crate::realfs_util::RealFs;
use crate::util::{entries, load, run};

/// What one `unlink-race run` produced.
struct RunOutput {
    code: i32,
    report: serde_json::Value,
    /// The terminal summary.
    stdout: String,
    /// The HTML report.
    html: String,
}

/// Runs `unlink-race run --dir <fs> --json <tmp> <flags>`; returns (exit code, report).
fn run_on(fs: &RealFs, flags: &str) -> (i32, serde_json::Value) {
    let out = run_full(fs, flags);
    (out.code, out.report)
}

/// Runs `unlink-race run --dir <fs> --json <tmp> --html <tmp> <flags>`.
fn run_full(fs: &RealFs, flags: &str) -> RunOutput {
    let out_dir = tempfile::tempdir().unwrap();
    let json = out_dir.path().join("report.json");
    let html = out_dir.path().join("report.html");
    let mut args = vec![
        "run",
        "--no-progress",
        "--dir",
        fs.path().to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ];
    args.extend(flags.split_whitespace());
    let out = run(&args);
    let code = out.status.code().unwrap_or(-1);
    assert!(
        code == 0 || code == 1,
        "{}: run {flags} exited {code}: {}",
        fs.name,
        String::from_utf8_lossy(&out.stderr)
    );
    let report = load(&json);
    assert_eq!(
        report["machine"]["fs_type"], fs.fs_type,
        "{}: the report names the filesystem type",
        fs.name
    );
    assert_eq!(
        entries(fs.path()),
        Vec::<String>::new(),
        "{}: the scratch directory is gone",
        fs.name
    );
    RunOutput {
        code,
        report,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        html: std::fs::read_to_string(&html).expect("the HTML report"),
    }
}

fn count(scenario: &serde_json::Value, class: &str) -> u64 {
    scenario["classes"][class]["count"]
        .as_u64()
        .unwrap_or_else(|| panic!("class {class} has a count"))
}

/// The scenarios of the bench's quick grid (`UNLINK_RACE_QUICK=1`).
fn quick_scenarios() -> Vec<String> {
    let grid = GridConfig::from_vars(|k| (k == "UNLINK_RACE_QUICK").then(|| "1".into()))
        .expect("the quick grid");
    grid.scenarios().iter().map(|s| s.run_flags()).collect()
}

/// Every quick scenario runs `cycles` cycles on `fs` without an anomaly: every
/// class seen is an expected outcome or an expected race of its scenario, and
/// no errno at all is broken down.
fn quick_scenarios_are_clean(fs: &RealFs, cycles: u64) {
    for flags in quick_scenarios() {
        let (code, r) = run_on(fs, &format!("{flags} --cycles {cycles}"));
        let s = &r["scenarios"][0];
        let seen: Vec<(&String, u64)> = s["classes"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, c)| c["count"].as_u64().unwrap() > 0 && c["expected"] == false)
            .map(|(name, c)| (name, c["count"].as_u64().unwrap()))
            .collect();
        assert_eq!(
            (code, s["anomalies"].as_u64(), seen),
            (0, Some(0), vec![]),
            "{}: {flags}: an anomaly on a filesystem that keeps the POSIX promises; \
             examples: {}",
            fs.name,
            s["examples"]
        );
        assert_eq!(
            s["errno_breakdown"],
            serde_json::json!([]),
            "{}: {flags}: no errno to break down",
            fs.name
        );
        assert!(
            s["cycles"].as_u64().unwrap() >= cycles,
            "{}: {flags}: ran the requested cycles",
            fs.name
        );
        if s["config"]["race"] == "create" {
            // Every create is answered; with O_EXCL exactly one a round wins.
            let creators = s["config"]["creators"].as_u64().unwrap();
            let rounds = s["cycles"].as_u64().unwrap() / creators;
            let created = count(s, "created");
            if s["config"]["create_flags"] == "creat_excl" {
                assert_eq!(created, rounds, "{}: {flags}: one winner a round", fs.name);
            } else {
                assert_eq!(created, rounds * creators, "{}: {flags}", fs.name);
            }
            assert!(s["racing_creates"].is_u64(), "{}: {flags}", fs.name);
            continue;
        }
        assert!(count(s, "ok") > 0, "{}: {flags}: reads succeeded", fs.name);
        assert!(
            count(s, "enoent_on_open") > 0,
            "{}: {flags}: the deleter won sometimes, so the race was run",
            fs.name
        );
    }
}

#[test]
fn xfs_quick_scenarios_are_clean() {
    if let Some(fs) = RealFs::xfs() {
        quick_scenarios_are_clean(&fs, 5000);
    }
}

#[test]
fn btrfs_quick_scenarios_are_clean() {
    if let Some(fs) = RealFs::btrfs() {
        quick_scenarios_are_clean(&fs, 5000);
    }
}

#[test]
fn overlayfs_quick_scenarios_are_clean() {
    if let Some(fs) = RealFs::overlay() {
        quick_scenarios_are_clean(&fs, 5000);
    }
}

#[test]
fn fuse_overlayfs_quick_scenarios_are_clean() {
    if let Some(fs) = RealFs::fuse_overlayfs() {
        quick_scenarios_are_clean(&fs, 1000);
    }
}

/// The examples of `class` in a scenario.
fn examples<'a>(s: &'a serde_json::Value, class: &str) -> Vec<&'a serde_json::Value> {
    s["examples"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["class"] == class)
        .collect()
}

/// Every example of `class` came from `side` at one of `ops` with `errno_name`.
fn check_examples(
    fs: &RealFs,
    s: &serde_json::Value,
    class: &str,
    side: &str,
    ops: &[&str],
    errno_name: &str,
) {
    let found = examples(s, class);
    assert!(!found.is_empty(), "{}: {class} has examples", fs.name);
    for e in found {
        assert!(
            e["worker"].as_str().unwrap().starts_with(side)
                && ops.iter().any(|op| e["op"] == *op)
                && e["errno_name"] == errno_name,
            "{}: a {class} example is not {side} {ops:?} {errno_name}: {e}",
            fs.name
        );
    }
}

/// The breakdown rows of `class`: (side, op, errno name) → count.
fn breakdown<'a>(s: &'a serde_json::Value, class: &str) -> Vec<&'a serde_json::Value> {
    s["errno_breakdown"]
        .as_array()
        .expect("the report has an errno breakdown")
        .iter()
        .filter(|row| row["class"] == class)
        .collect()
}

/// Bindfs answers `open(O_CREAT)` in an existing directory with
/// ENOENT when the race is run at 1 reader × 1 deleter, inplace.
#[test]
fn bindfs_spurious_enoent_on_create() {
    let Some(fs) = RealFs::bindfs() else { return };
    let (code, r) = run_on(
        &fs,
        // The pace the defect was found with: `auto` may choose a pacing
        // that finds another anomaly first.
        "--readers 1 --deleters 1 --size 7 --recreate inplace --pace sleep --until 3 --cycles 200000",
    );
    let s = &r["scenarios"][0];
    assert_eq!(code, 1, "{}: an anomaly was found", fs.name);
    let found = count(s, "spurious_enoent_on_create");
    assert!(found >= 1, "{}: spurious_enoent_on_create found", fs.name);
    assert_eq!(
        s["anomalies"].as_u64(),
        Some(found),
        "{}: no other anomaly class; examples: {}",
        fs.name,
        s["examples"]
    );
    check_examples(
        &fs,
        s,
        "spurious_enoent_on_create",
        "reader",
        &["create"],
        "ENOENT",
    );
}

/// Sshfs answers `fstat` (and other operations) on an open
/// descriptor with ENOENT once the file is unlinked: `fd_enoent`, no longer
/// lumped into `unexpected_errno`.
#[test]
fn sshfs_fd_enoent() {
    let Some(fs) = RealFs::sshfs() else { return };
    let out = run_full(
        &fs,
        // The pace the defect was found with, for a fixed time. sshfs also
        // fails creates with ENOENT (`spurious_enoent_on_create`), on a
        // loaded machine three times in its first dozen cycles (seen in CI,
        // with `auto` and with `sleep`), so `--until 3` could stop before any
        // `fd_enoent`. In 3 s this machine saw 31 to 154 of them.
        "--readers 1 --deleters 1 --size 7 --recreate inplace --pace sleep --duration 3s --cycles 50000",
    );
    let (code, r) = (out.code, &out.report);
    let s = &r["scenarios"][0];
    assert_eq!(code, 1, "{}: an anomaly was found", fs.name);
    let found = count(s, "fd_enoent");
    assert!(
        found >= 1,
        "{}: fd_enoent found; pace {}, calibration {}; classes: {}",
        fs.name,
        s["pace"],
        s["calibration"],
        s["classes"]
    );
    assert_eq!(
        count(s, "unexpected_errno"),
        0,
        "{}: ENOENT on a descriptor is not unexpected_errno",
        fs.name
    );
    let fd_ops = ["fstat", "read", "close"];
    check_examples(&fs, s, "fd_enoent", "reader", &fd_ops, "ENOENT");
    let rows = breakdown(s, "fd_enoent");
    for row in &rows {
        assert!(
            row["side"] == "reader"
                && fd_ops.iter().any(|op| row["op"] == *op)
                && row["errno_name"] == "ENOENT",
            "{}: fd_enoent breakdown row {row}",
            fs.name
        );
    }
    let total: u64 = rows.iter().map(|row| row["count"].as_u64().unwrap()).sum();
    assert_eq!(
        total, found,
        "{}: the breakdown adds up to the class count",
        fs.name
    );
    // An `fstat` that fails with ENOENT after a successful open is sshfs's
    // way of showing a raced open (it looks the path up again): each one is
    // counted as raced, beside the opens whose `fstat` gave `st_nlink == 0`.
    let fstat_enoent: u64 = rows
        .iter()
        .filter(|row| row["op"] == "fstat")
        .map(|row| row["count"].as_u64().unwrap())
        .sum();
    let raced = s["raced_opens"].as_u64().expect("raced_opens counted");
    assert!(
        fstat_enoent > 0 && raced >= fstat_enoent,
        "{}: {raced} raced opens, {fstat_enoent} fstat ENOENT",
        fs.name
    );
    // The terminal summary and the HTML report show the breakdown too.
    let op = rows[0]["op"].as_str().unwrap();
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("fd_enoent") && l.contains(" reader "))
        .unwrap_or_else(|| panic!("no breakdown line in the summary: {}", out.stdout));
    assert!(line.contains(op) && line.contains("ENOENT (2)"), "{line}");
    assert!(
        out.html.contains("By errno"),
        "the HTML report has the breakdown"
    );
    assert!(out.html.contains(&format!(
        "<td><code>fd_enoent</code></td><td>reader</td><td class=\"mono\">{op}</td>"
    )));
}

/// A test that fails still leaves no mount and no daemon behind: sshfs has
/// both a FUSE daemon and an sshd.
#[test]
fn a_failing_test_leaves_no_mount_or_daemon_behind() {
    let Some(fs) = RealFs::sshfs() else { return };
    let dir = fs.path().to_path_buf();
    let pids = fs.daemon_pids();
    assert_eq!(pids.len(), 2, "sshd and sshfs run");
    let failed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let _fs = fs;
        panic!("a test fails with the mount in place");
    }));
    assert!(failed.is_err());
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mounts.contains(&*dir.to_string_lossy()),
        "{} is still mounted",
        dir.display()
    );
    assert!(!dir.exists(), "the fixture's temp dir is removed");
    for pid in pids {
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "daemon {pid} still runs"
        );
    }
}

/// `run --dir A --dir B` runs in each directory and writes one
/// report per directory, labelled by filesystem so neither overwrites the other.
#[test]
fn run_in_several_directories_writes_a_report_each() {
    let (Some(xfs), Some(overlay)) = (RealFs::xfs(), RealFs::overlay()) else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let json = out.path().join("survey.json");
    let html = out.path().join("survey.html");
    let result = run(&[
        "run",
        "--no-progress",
        "--cycles",
        "2000",
        "--label",
        "survey",
        "--dir",
        xfs.path().to_str().unwrap(),
        "--dir",
        overlay.path().to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert_eq!(
        result.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let mut names = entries(out.path());
    names.sort();
    assert_eq!(
        names,
        [
            "survey-survey-overlay.html",
            "survey-survey-overlay.json",
            "survey-survey-xfs.html",
            "survey-survey-xfs.json"
        ]
    );
    for (fs, name) in [
        (&xfs, "survey-survey-xfs.json"),
        (&overlay, "survey-survey-overlay.json"),
    ] {
        let r = load(&out.path().join(name));
        assert_eq!(r["machine"]["fs_type"], fs.fs_type);
        assert_eq!(r["label"], format!("survey-{}", fs.fs_type));
        assert!(r["scenarios"][0]["cycles"].as_u64().unwrap() >= 2000);
        assert!(stdout.contains(name), "the summary names {name}: {stdout}");
    }
    assert_eq!(
        stdout.matches("verdict:").count(),
        2,
        "a summary per directory"
    );
}
