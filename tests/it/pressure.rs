//! Race pressure: the raced-open count against an independent count, the
//! pacings, and `auto`'s calibration.

use std::ops::ControlFlow;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use unlink_race::harness::{BatchLimit, Harness, HarnessOptions};
use unlink_race::scenario::{Pace, Scenario, ScenarioError, Workers};

use crate::util;

/// Successful `fstat`-family calls in one `strace -v` output file that
/// returned a regular file with no link left: `st_nlink == 0` (or
/// `stx_nlink == 0` for `statx`).
fn unlinked_regular_fstats(log: &str) -> u64 {
    log.lines()
        .filter(|l| {
            l.trim_end().ends_with("= 0")
                && (l.contains("st_mode=S_IFREG") || l.contains("stx_mode=S_IFREG"))
                && (l.contains("st_nlink=0,") || l.contains("stx_nlink=0,"))
        })
        .count() as u64
}

/// Whether `strace` can trace a child here (it needs ptrace).
fn strace_works() -> bool {
    Command::new("strace")
        .args(["-qq", "-o", "/dev/null", "true"])
        .status()
        .is_ok_and(|s| s.success())
}

/// `raced_opens` equals exactly the number of successful `fstat`s of a
/// regular file with `st_nlink == 0` that the run made.
///
/// The independent count comes from the kernel's side of the process
/// boundary: `strace -f -v` records every `fstat`-family call of every
/// thread of the real binary with the full `struct stat` the kernel
/// returned, and this test counts those that succeeded on a regular file
/// with `st_nlink == 0`. Nothing of the harness is involved in that count:
/// not its classifier, not its counters, not its `sys` wrappers (a counter
/// inside `sys::fstat` would share their bugs). The pace is given, so no
/// calibration run adds opens that the report does not count. Tracing slows
/// the syscalls, not the logic being checked; the run must race at least
/// once, or the equality would prove nothing.
#[test]
fn raced_opens_equal_the_kernels_count_of_fstats_on_unlinked_files() {
    if !strace_works() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "strace is missing or cannot trace (ptrace): CI installs it, so this is a failure"
        );
        eprintln!("skipped: needs strace and ptrace");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let traces = dir.path().join("trace");
    std::fs::create_dir(&traces).unwrap();
    let json = dir.path().join("out.json");
    let race = tempfile::tempdir().unwrap();
    let status = Command::new("strace")
        .args([
            "-f",
            "-ff",
            "-qq",
            "-v",
            "-e",
            "trace=fstat,newfstatat,statx",
        ])
        .args(["-e", "status=successful", "-o"])
        .arg(traces.join("t"))
        .arg(env!("CARGO_BIN_EXE_unlink-race"))
        .args([
            "run",
            "--readers",
            "2",
            "--deleters",
            "2",
            "--pace",
            "check",
        ])
        .args(["--cycles", "20000", "--no-progress", "--json"])
        .arg(&json)
        .arg("--dir")
        .arg(race.path())
        .stdout(std::process::Stdio::null())
        .status()
        .expect("run strace");
    assert!(
        status.code() == Some(0) || status.code() == Some(1),
        "{status}"
    );
    let report = util::load(&json);
    let s = &report["scenarios"][0];
    let raced = s["raced_opens"]
        .as_u64()
        .expect("raced_opens in the report");
    let mut traced = 0;
    for entry in std::fs::read_dir(&traces).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        traced += unlinked_regular_fstats(&text);
    }
    assert!(
        raced > 0,
        "no open raced in {} cycles: nothing was checked",
        s["cycles"]
    );
    assert_eq!(
        raced, traced,
        "report: {raced} raced opens; strace: {traced}"
    );
}

#[test]
fn the_strace_line_filter() {
    let ok = r#"newfstatat(3, "", {st_dev=makedev(0xfe, 0), st_ino=5, st_mode=S_IFREG|0600, st_nlink=0, st_uid=0}, AT_EMPTY_PATH) = 0"#;
    let linked = ok.replace("st_nlink=0,", "st_nlink=1,");
    let dir = ok.replace("S_IFREG", "S_IFDIR");
    let statx = r#"statx(3, "", AT_EMPTY_PATH, STATX_ALL, {stx_mask=STATX_ALL, stx_nlink=0, stx_mode=S_IFREG|0600}) = 0"#;
    let text = [ok, &linked, &dir, statx].join("\n");
    assert_eq!(unlinked_regular_fstats(&text), 2);
}

fn run(scenario: &Scenario, dir: &Path, cycles: u64) -> unlink_race::harness::Tally {
    let mut h = Harness::start(scenario, dir, HarnessOptions::default()).unwrap();
    let limit = BatchLimit {
        cycles: Some(cycles),
        ..BatchLimit::default()
    };
    h.run_batch(&limit, &mut |_| ControlFlow::Continue(()))
        .unwrap();
    h.finish()
}

/// Every pacing races (deleters remove files, readers count what raced) and
/// no pacing produces an anomaly on a Linux filesystem.
#[test]
fn every_pace_runs_and_counts() {
    let dir = tempfile::tempdir().unwrap();
    for &pace in Pace::candidates(Workers::Threads) {
        let s = Scenario {
            readers: 2,
            deleters: 2,
            pace,
            ..Scenario::default()
        };
        let t = run(&s, dir.path(), 4_000);
        assert!(t.cycles >= 4_000, "{pace}: {} cycles", t.cycles);
        assert!(t.removals > 0, "{pace}: no removal");
        assert!(t.raced_opens <= t.cycles, "{pace}: {t:?}");
        assert_eq!(t.anomalies, 0, "{pace}: {t:?}");
        assert!(t.calibration.is_none());
    }
}

/// `auto` runs every candidate in turns, chooses by overlapped opens per
/// second as [`choose`] does from the recorded turns, records every turn,
/// and the harness runs that pace.
#[test]
fn auto_calibrates_and_records_its_choice() {
    use unlink_race::harness::calibrate::{
        BUDGET, Basis, EXTRA_BUDGET, FIRST_ROUNDS, TURN, basis, choose,
    };
    let dir = tempfile::tempdir().unwrap();
    let s = Scenario {
        pace: Pace::Auto,
        ..Scenario::default()
    };
    let h = Harness::start(&s, dir.path(), HarnessOptions::default()).unwrap();
    let chosen = h.scenario().pace;
    let cal = h.calibration().expect("auto calibrates").clone();
    let t = h.finish();
    assert_ne!(chosen, Pace::Auto);
    assert_eq!(cal.chosen, chosen);
    assert_eq!(choose(&cal.points), chosen);
    let paces: Vec<Pace> = cal.points.iter().map(|p| p.pace).collect();
    assert_eq!(paces, Pace::candidates(Workers::Threads));
    // Threads count overlapped opens: they decide, unless anomalies did.
    assert!(
        cal.points.iter().all(|p| p.overlapped_opens.is_some()),
        "{cal:?}"
    );
    assert_ne!(basis(&cal.points), Basis::RacedOpens);
    assert!(cal.points.iter().all(|p| p.cycles > 0), "{cal:?}");
    // Every candidate took the first rounds; no more turns than the budget,
    // and past it only the extra turns of two candidates, `sleep` and
    // another, when the first turns left them undecided.
    assert!(
        cal.points
            .iter()
            .all(|p| p.rounds.len() >= FIRST_ROUNDS as usize),
        "{cal:?}"
    );
    let turns: usize = cal.points.iter().map(|p| p.rounds.len()).sum();
    let budget = (BUDGET.as_nanos() / TURN.as_nanos()) as usize;
    let extra = (EXTRA_BUDGET.as_nanos() / TURN.as_nanos()) as usize;
    assert!(turns <= budget + extra, "{turns} turns");
    if turns > budget {
        let longest = cal.points.iter().map(|p| p.rounds.len()).max().unwrap_or(0);
        let extended: Vec<Pace> = cal
            .points
            .iter()
            .filter(|p| p.rounds.len() == longest)
            .map(|p| p.pace)
            .collect();
        assert!(
            extended.len() == 2 && extended.contains(&Pace::Sleep),
            "{cal:?}"
        );
    }
    assert_eq!(t.calibration, Some(cal));
    // Nothing the calibration ran is counted in the run's own figures.
    assert_eq!(t.cycles, 0);
}

/// Ctrl-C during `auto`'s calibration ends it at once: with the interrupt
/// flag already set no candidate takes a measured turn, the harness starts
/// with a pace all the same (the caller sees the flag and stops), and no
/// candidate's scratch directory is left behind.
#[test]
fn an_interrupted_calibration_stops_early_and_cleans_up() {
    let dir = tempfile::tempdir().unwrap();
    let s = Scenario {
        pace: Pace::Auto,
        ..Scenario::default()
    };
    let options = HarnessOptions {
        interrupt: Some(std::sync::Arc::new(std::sync::atomic::AtomicBool::new(
            true,
        ))),
        ..HarnessOptions::default()
    };
    let h = Harness::start(&s, dir.path(), options).unwrap();
    assert_ne!(h.scenario().pace, Pace::Auto);
    let cal = h.calibration().expect("auto calibrates").clone();
    assert!(cal.points.is_empty(), "{cal:?}");
    drop(h.finish());
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn aimed_needs_threads() {
    let s = Scenario {
        pace: Pace::Aimed,
        workers: Workers::Processes,
        ..Scenario::default()
    };
    assert_eq!(s.validate(), Err(ScenarioError::AimedNeedsThreads));
    let out = util::run(&["run", "--pace", "aimed", "--workers", "processes"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--pace aimed needs --workers threads"),
        "{err}"
    );
}

/// The name and the rerun command carry the pace `auto` resolved to, and
/// the report records the calibration.
#[test]
fn run_reports_the_resolved_pace() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let out = util::bin()
        .args(["run", "--cycles", "2000", "--no-progress", "--json"])
        .arg(&json)
        .arg("--dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let r = util::load(&json);
    let s = &r["scenarios"][0];
    let pace = s["pace"].as_str().unwrap();
    assert_ne!(pace, "auto");
    assert_eq!(s["calibration"]["chosen"], pace);
    // The name says what was raced, not how hard: no pace in it.
    assert_eq!(s["name"], "r1-d1-7B-inplace-unlink-threads");
    assert!(
        s["command"]
            .as_str()
            .unwrap()
            .contains(&format!("--pace {pace}"))
    );
    assert!(s["raced_opens"].as_u64().is_some());
    assert!(
        s["classes"]["zombie_fd"]["per_raced_open"]["ci_high"]
            .as_f64()
            .is_some()
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("raced opens: "), "{text}");
}

/// Threads count overlapped opens, a subset of raced opens, in each batch
/// and in the tally; worker processes cannot see each other's removals and
/// count none (`None`, not 0), and reports say so.
#[test]
fn overlapped_opens_are_counted_with_threads_only() {
    let dir = tempfile::tempdir().unwrap();
    for workers in [Workers::Threads, Workers::Processes] {
        let s = Scenario {
            workers,
            ..Scenario::default()
        };
        let mut h = Harness::start(&s, dir.path(), HarnessOptions::default()).unwrap();
        let limit = BatchLimit {
            cycles: Some(20_000),
            duration: Some(Duration::from_secs(20)),
            ..BatchLimit::default()
        };
        let b = h
            .run_batch(&limit, &mut |_| ControlFlow::Continue(()))
            .unwrap();
        let t = h.finish();
        let entry =
            unlink_race::report::build::scenario_report(&s, &t, Vec::new(), None, "x".into());
        match workers {
            Workers::Threads => {
                let n = t.overlapped_opens.expect("threads count them");
                assert!(n <= t.raced_opens, "{t:?}");
                assert_eq!(b.overlapped_opens, Some(n));
                assert_eq!(entry.overlapped_opens, Some(n));
                assert!(entry.overlapped_opens_per_second.is_some());
                let z = &entry.classes[&unlink_race::outcome::Class::ZombieFd];
                assert!(z.per_overlapped_open.is_some(), "{z:?}");
            }
            Workers::Processes => {
                assert_eq!((b.overlapped_opens, t.overlapped_opens), (None, None));
                assert_eq!(entry.overlapped_opens, None);
                let text = unlink_race::export::summary::overlapped_not_counted(&entry);
                assert!(text.contains("worker processes"), "{text}");
            }
        }
    }
}
