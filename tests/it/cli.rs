//! `unlink-race run` through the real binary: short runs on tmpfs and on the
//! root filesystem, expected races, worker kinds and bad input.
//!
//! Where no tmpfs can be mounted (not root, macOS) the tests whose point
//! holds on any filesystem race in the system temp dir. On a Mac that is the
//! host filesystem, which may have the defect: there anomalies are accepted
//! and their classification is checked instead of their absence.

use crate::util::{
    Tmpfs, assert_classified, bin, entries, host_may_have_the_defect, load, out_path, race_dir, run,
};

/// Runs `run` with `args` plus `--dir dir --json <tmp>`, returns (exit code, report).
fn run_json(dir: &std::path::Path, args: &[&str]) -> (i32, serde_json::Value) {
    let out_dir = tempfile::tempdir().unwrap();
    let json = out_path(out_dir.path(), "r.json");
    let mut all = vec![
        "run",
        "--dir",
        dir.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    let out = run(&all);
    let code = out.status.code().unwrap_or(-1);
    assert!(
        code == 0 || code == 1,
        "run {args:?} failed with {code}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("cycles/s"),
        "summary shows cycles/s: {stdout}"
    );
    assert!(
        stdout.contains("verdict:"),
        "summary has a verdict: {stdout}"
    );
    let report = load(&json);
    let anomalies = assert_classified(&report);
    assert_eq!(code == 1, anomalies > 0, "exit 1 exactly when anomalies");
    (code, report)
}

fn class<'a>(r: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    &r["scenarios"][0]["classes"][name]
}

/// 1 reader + 1 deleter: no anomaly, the exact zero-count bound, a positive cycle rate.
fn seed_scenario_is_clean(dir: &std::path::Path, fs: &str) {
    let (code, r) = run_json(dir, &["--cycles", "20000"]);
    assert_eq!(code, 0, "no anomaly on {fs}");
    let s = &r["scenarios"][0];
    assert_eq!(r["machine"]["fs_type"], fs);
    let n = s["cycles"].as_u64().unwrap();
    assert!(n >= 20000, "ran the requested cycles, got {n}");
    assert_eq!(s["anomalies"], 0);
    assert!(s["cycles_per_second"].as_f64().unwrap() > 0.0);
    let z = class(&r, "zombie_fd");
    assert_eq!(z["count"], 0);
    assert_eq!(z["expected"], false);
    // The two-sided 95% interval's upper end with no event.
    let bound = 1.0 - 0.025f64.powf(1.0 / n as f64);
    let got = z["ci_high"].as_f64().unwrap();
    assert!(
        (got - bound).abs() < 1e-12 * bound.max(1.0),
        "upper bound {got} != 1-0.025^(1/n) = {bound}"
    );
    assert!(class(&r, "ok")["count"].as_u64().unwrap() > 0);
    assert!(
        class(&r, "enoent_on_open")["count"].as_u64().unwrap() > 0,
        "the deleter won sometimes"
    );
    assert_eq!(s["first_anomaly_cycle"], serde_json::Value::Null);
    assert!(
        s["command"]
            .as_str()
            .unwrap()
            .starts_with("unlink-race run --readers 1 --deleters 1")
    );
    assert_eq!(
        entries(dir),
        Vec::<String>::new(),
        "the scratch directory is gone"
    );
}

#[test]
fn seed_scenario_on_tmpfs() {
    let Some(fs) = Tmpfs::mount("size=16m") else {
        return;
    };
    seed_scenario_is_clean(fs.path(), "tmpfs");
}

/// The filesystem of the build directory: on Linux no anomaly; on a Mac
/// whatever it shows, classified consistently (checked in `run_json`).
#[test]
fn seed_scenario_on_the_root_filesystem() {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let (code, r) = run_json(dir.path(), &["--cycles", "20000"]);
    assert!(r["scenarios"][0]["cycles"].as_u64().unwrap() >= 20000);
    if !host_may_have_the_defect() {
        assert_eq!(code, 0);
        assert_eq!(r["scenarios"][0]["anomalies"], 0);
    }
    assert!(
        entries(dir.path()).is_empty(),
        "the scratch directory is gone"
    );
}

#[test]
fn empty_reads_are_an_expected_race_under_inplace_with_two_readers() {
    let fs = race_dir("size=16m");
    let (code, r) = run_json(
        fs.path(),
        &["--readers", "2", "--deleters", "2", "--cycles", "200000"],
    );
    if !fs.may_have_anomalies() {
        assert_eq!(code, 0, "expected races are not anomalies");
        assert_eq!(r["scenarios"][0]["anomalies"], 0);
    }
    let e = class(&r, "empty_read");
    assert_eq!(e["expected"], true);
    assert!(
        e["count"].as_u64().unwrap() > 0,
        "two inplace readers race each other: {e}"
    );
    let split = &r["scenarios"][0]["empty_read_nlink"];
    assert_eq!(
        split["zero"].as_u64().unwrap() + split["nonzero"].as_u64().unwrap(),
        e["count"].as_u64().unwrap()
    );
}

#[test]
fn atomic_recreate_has_no_empty_reads() {
    let fs = race_dir("size=16m");
    let (code, r) = run_json(
        fs.path(),
        &[
            "--readers",
            "2",
            "--deleters",
            "2",
            "--recreate",
            "atomic",
            "--cycles",
            "200000",
        ],
    );
    let e = class(&r, "empty_read");
    assert_eq!(
        e["expected"], false,
        "under atomic an empty read is an anomaly"
    );
    if !fs.may_have_anomalies() {
        assert_eq!(code, 0);
        assert_eq!(e["count"], 0);
        assert_eq!(class(&r, "short_read")["count"], 0);
    }
}

#[test]
fn processes_give_the_same_classes_as_threads() {
    let fs = race_dir("size=16m");
    let args = [
        "--readers",
        "2",
        "--deleters",
        "2",
        "--recreate",
        "atomic",
        "--cycles",
        "40000",
    ];
    let (_, threads) = run_json(fs.path(), &args);
    let mut pargs = args.to_vec();
    pargs.extend(["--workers", "processes"]);
    let (code, procs) = run_json(fs.path(), &pargs);
    assert_eq!(procs["scenarios"][0]["config"]["workers"], "processes");
    for r in [&threads, &procs] {
        let s = &r["scenarios"][0];
        let enoent = class(r, "enoent_on_open")["count"].as_u64().unwrap();
        assert!(enoent > 0 && s["removals"].as_u64().unwrap() > 0);
    }
    assert!(entries(fs.path()).is_empty());
    if fs.may_have_anomalies() {
        // Both kinds classified consistently (checked in `run_json`).
        return;
    }
    assert_eq!(code, 0);
    for name in [
        "zombie_fd",
        "write_einval",
        "empty_read",
        "short_read",
        "unexpected_errno",
    ] {
        assert_eq!(class(&procs, name)["count"], 0, "{name} with processes");
        assert_eq!(class(&threads, name)["count"], 0, "{name} with threads");
    }
    for r in [&threads, &procs] {
        let s = &r["scenarios"][0];
        let cycles = s["cycles"].as_u64().unwrap();
        let ok = class(r, "ok")["count"].as_u64().unwrap();
        let enoent = class(r, "enoent_on_open")["count"].as_u64().unwrap();
        assert_eq!(ok + enoent, cycles, "every cycle is ok or enoent: {s}");
    }
}

#[test]
fn trials_record_censored_observations() {
    let fs = race_dir("size=16m");
    let (code, r) = run_json(fs.path(), &["--trials", "3", "--trial-cycles", "2000"]);
    let trials = r["scenarios"][0]["trials"].as_array().unwrap();
    assert_eq!(trials.len(), 3);
    for t in trials {
        if t["censored"] == true {
            assert_eq!(t["cycles"], 2000, "a censored trial ran to its cap: {t}");
        } else {
            // A trial that ended in an anomaly, on a host that has the defect.
            assert!(fs.may_have_anomalies(), "{t}");
            assert!((1..=2000).contains(&t["cycles"].as_u64().unwrap()), "{t}");
        }
    }
    if !fs.may_have_anomalies() {
        assert_eq!(code, 0);
    }
}

/// Bad input: one line on stderr, exit 2, no panic, no report file.
#[test]
fn bad_input_is_one_line_and_exit_2() {
    // A read-only filesystem takes a mount; without one that case is left out.
    let ro = Tmpfs::try_mount("size=1m,ro")
        .inspect_err(|e| e.report(Some("the read-only --dir case is left out")))
        .ok();
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let missing = tmp.path().join("missing");
    let mut cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--readers", "0"], "--readers"),
        (vec!["--readers", "257"], "--readers"),
        (vec!["--recreate", "sometimes"], "sometimes"),
        (vec!["--delete", "rm"], "rm"),
        (vec!["--workers", "fibers"], "fibers"),
        (vec!["--size", "0"], "size"),
        (vec!["--size", "65M"], "65M"),
        (vec!["--size", "lots"], "lots"),
        (vec!["--dir", missing.to_str().unwrap()], "does not exist"),
        (vec!["--dir", file.to_str().unwrap()], "not a directory"),
        (vec!["--cycles", "0"], "--cycles"),
        (vec!["--until", "0"], "--until"),
        (vec!["--duration", "0"], "duration"),
        (vec!["--trials", "0"], "--trials"),
    ];
    if let Some(ro) = &ro {
        cases.push((vec!["--dir", ro.path().to_str().unwrap()], "Read-only"));
    }
    for (args, needle) in cases {
        let json = tmp.path().join("out.json");
        let mut all = vec!["run", "--cycles", "100", "--json", json.to_str().unwrap()];
        // Later flags win over the defaults above.
        all.extend(args.iter().copied());
        let out = run(&all);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: exit 2, stderr: {stderr}"
        );
        assert_eq!(
            stderr.trim_end().lines().count(),
            1,
            "{args:?}: one line: {stderr}"
        );
        assert!(
            stderr.contains(needle),
            "{args:?}: names the problem ({needle}): {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!json.exists(), "{args:?}: no report file");
    }
    if let Some(ro) = &ro {
        assert!(entries(ro.path()).is_empty());
    }
}

/// `compare` through the real binary: a report against itself never differs
/// (exit 0; with no anomaly in 2000 cycles it is inconclusive, not `same`); a
/// report with anomalies against a clean one differs (exit 1); Markdown and
/// HTML are written.
#[test]
fn compare_a_report_with_itself_and_with_another() {
    let fs = race_dir("size=16m");
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a.json");
    let o = run(&[
        "run",
        "--cycles",
        "2000",
        "--dir",
        fs.path().to_str().unwrap(),
        "--json",
        a.to_str().unwrap(),
    ]);
    if fs.may_have_anomalies() && o.status.code() == Some(1) {
        // Compare a clean report with itself, as on any other machine.
        std::fs::write(&a, serde_json::to_string(&cleaned(load(&a))).unwrap()).unwrap();
    } else {
        assert_eq!(o.status.code(), Some(0));
    }
    let (md, html) = (tmp.path().join("c.md"), tmp.path().join("c.html"));
    let a_str = a.to_str().unwrap();
    let o = run(&[
        "compare",
        a_str,
        a_str,
        "--markdown",
        md.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("inconclusive: none seen in either")
            && !stdout.contains(" higher")
            && !stdout.contains(" lower"),
        "{stdout}"
    );
    let md_text = std::fs::read_to_string(&md).unwrap();
    assert!(
        md_text.contains("|---"),
        "pipe tables with a header row: {md_text}"
    );
    let page = std::fs::read_to_string(&html).unwrap();
    // Nothing could be tested: a neutral box, never a green pass.
    assert!(
        page.starts_with("<!DOCTYPE html>")
            && page.contains("class=\"verdict neutral\"")
            && page.contains("nothing could be tested")
            && !page.contains("verdict pass"),
        "{page}"
    );

    // Same scenario, 0 against 50 zombie_fd in 1e6 cycles each: made-up
    // reports of a clean machine and of one with the defect.
    let mut r = load(&a);
    r["scenarios"][0]["cycles"] = 1_000_000.into();
    let clean = tmp.path().join("clean.json");
    std::fs::write(&clean, serde_json::to_string(&r).unwrap()).unwrap();
    r["scenarios"][0]["classes"]["zombie_fd"]["count"] = 50.into();
    r["scenarios"][0]["anomalies"] = 50.into();
    r["label"] = "with-defect".into();
    let b = tmp.path().join("b.json");
    std::fs::write(&b, serde_json::to_string(&r).unwrap()).unwrap();
    let a_str = clean.to_str().unwrap();
    let o = run(&["compare", a_str, b.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("higher"), "{stdout}");
    // The baseline can be chosen: from the defect's side the clean run is lower.
    let o = run(&[
        "compare",
        a_str,
        b.to_str().unwrap(),
        "--baseline",
        b.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains("lower"));
}

/// `--help` lists the values of the strategy flags.
#[test]
fn help_lists_strategy_values() {
    let out = bin().args(["run", "--help"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    for values in [
        "[possible values: inplace, atomic]",
        "[possible values: unlink, trash, replace, posix]",
        "[possible values: threads, processes]",
    ] {
        assert!(help.contains(values), "no {values} in:\n{help}");
    }
    let out = bin()
        .args(["run", "--recreate", "copy", "--cycles", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("copy") && err.contains("inplace"), "{err}");
}

/// A report as a machine without anomalies would have written it: every
/// anomaly count zero, no examples, no first anomaly or timeline.
fn cleaned(mut r: serde_json::Value) -> serde_json::Value {
    for s in r["scenarios"].as_array_mut().unwrap() {
        let classes = s["classes"].as_object_mut().unwrap();
        for (_, c) in classes.iter_mut() {
            if c["expected"] == false {
                c["count"] = 0.into();
            }
        }
        s["anomalies"] = 0.into();
        s["examples"] = serde_json::json!([]);
        s["first_anomaly_cycle"] = serde_json::Value::Null;
        s["timeline"] = serde_json::Value::Null;
    }
    r
}
