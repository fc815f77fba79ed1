//! Malformed input across every entry point: one clear line naming the
//! problem, exit 2, no panic, no partial output file.

use crate::util::bin;

struct Case {
    /// Arguments; `{out}` is replaced by an output path that must not appear.
    args: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
    /// Text the error line must contain.
    needle: &'static str,
}

const fn case(args: &'static [&'static str], needle: &'static str) -> Case {
    Case {
        args,
        env: &[],
        needle,
    }
}

const fn env(vars: &'static [(&'static str, &'static str)], needle: &'static str) -> Case {
    Case {
        args: &["grid"],
        env: vars,
        needle,
    }
}

const CASES: &[Case] = &[
    // run
    case(&["run", "--readers", "0", "--json", "{out}"], "--readers"),
    case(&["run", "--readers", "300", "--json", "{out}"], "--readers"),
    case(&["run", "--deleters", "-1", "--json", "{out}"], "-1"),
    case(&["run", "--size", "0", "--json", "{out}"], "size"),
    case(&["run", "--size", "65M", "--json", "{out}"], "65M"),
    case(&["run", "--size", "7Q", "--json", "{out}"], "7Q"),
    case(&["run", "--recreate", "copy", "--json", "{out}"], "copy"),
    case(&["run", "--delete", "shred", "--json", "{out}"], "shred"),
    case(&["run", "--workers", "fibers", "--json", "{out}"], "fibers"),
    case(&["run", "--cycles", "0", "--json", "{out}"], "--cycles"),
    case(&["run", "--cycles", "many", "--json", "{out}"], "many"),
    case(&["run", "--until", "0", "--json", "{out}"], "--until"),
    case(&["run", "--trials", "0", "--json", "{out}"], "--trials"),
    case(&["run", "--duration", "soon", "--json", "{out}"], "soon"),
    case(
        &["run", "--stall-timeout", "0", "--json", "{out}"],
        "stall-timeout",
    ),
    case(
        &[
            "run",
            "--dir",
            "/nonexistent/unlink-race",
            "--json",
            "{out}",
        ],
        "does not exist",
    ),
    // A regular file (made by `compare_files`).
    case(
        &["run", "--dir", "{dir}/a.json", "--json", "{out}"],
        "not a directory",
    ),
    case(
        &["run", "--cycles", "10", "--json", "/nonexistent/dir/r.json"],
        "does not exist",
    ),
    case(
        &["run", "--cycles", "10", "--html", "/nonexistent/dir/r.html"],
        "does not exist",
    ),
    case(&["run", "--bogus-flag"], "--bogus-flag"),
    case(&["frobnicate"], "frobnicate"),
    // compare (the files are made by the test; see `compare_files`)
    case(&["compare", "{dir}/a.json"], "REPORT"),
    case(
        &[
            "compare",
            "{dir}/a.json",
            "{dir}/missing.json",
            "--markdown",
            "{out}",
        ],
        "missing.json",
    ),
    case(
        &[
            "compare",
            "{dir}/a.json",
            "{dir}/not-json.json",
            "--markdown",
            "{out}",
        ],
        "not-json.json",
    ),
    case(
        &[
            "compare",
            "{dir}/a.json",
            "{dir}/other-tool.json",
            "--markdown",
            "{out}",
        ],
        "other-tool.json",
    ),
    case(
        &[
            "compare",
            "{dir}/a.json",
            "{dir}/v99.json",
            "--markdown",
            "{out}",
        ],
        "schema_version",
    ),
    case(
        &[
            "compare",
            "{dir}/a.json",
            "{dir}/truncated.json",
            "--html",
            "{out}",
        ],
        "truncated.json",
    ),
    case(
        &[
            "compare",
            "{dir}/a.json",
            "{dir}/a.json",
            "--alpha",
            "2",
            "--markdown",
            "{out}",
        ],
        "--alpha",
    ),
    case(
        &[
            "compare",
            "{dir}/a.json",
            "{dir}/a.json",
            "--baseline",
            "{dir}/b.json",
            "--markdown",
            "{out}",
        ],
        "--baseline",
    ),
    case(
        &[
            "compare",
            "{dir}/a.json",
            "{dir}/a.json",
            "--markdown",
            "/nonexistent/dir/c.md",
        ],
        "does not exist",
    ),
    // the bench's settings, checked by the same code as `cargo bench`
    env(&[("UNLINK_RACE_READERS", "0")], "UNLINK_RACE_READERS"),
    env(&[("UNLINK_RACE_READERS", "2x")], "UNLINK_RACE_READERS"),
    env(&[("UNLINK_RACE_SIZES", "128M")], "UNLINK_RACE_SIZES"),
    env(
        &[("UNLINK_RACE_RECREATE", "sometimes")],
        "UNLINK_RACE_RECREATE",
    ),
    env(&[("UNLINK_RACE_DELETE", "")], "UNLINK_RACE_DELETE"),
    env(&[("UNLINK_RACE_QUICK", "yes please")], "UNLINK_RACE_QUICK"),
    env(
        &[("UNLINK_RACE_DIR", "/nonexistent/unlink-race")],
        "UNLINK_RACE_DIR",
    ),
];

#[cfg(all(feature = "zombiefs", target_os = "linux"))]
const ZOMBIEFS_CASES: &[Case] = &[
    case(
        &[
            "zombiefs",
            "--backing",
            "{dir}",
            "{dir}",
            "--probability",
            "2",
        ],
        "--probability",
    ),
    case(
        &[
            "zombiefs",
            "--backing",
            "{dir}",
            "{dir}",
            "--probability",
            "often",
        ],
        "--probability",
    ),
    case(
        &[
            "zombiefs",
            "--backing",
            "{dir}",
            "{dir}",
            "--stall-ms",
            "100",
        ],
        "--stall-every",
    ),
    case(
        &["zombiefs", "--backing", "{dir}/missing", "{dir}"],
        "missing",
    ),
    case(
        &["zombiefs", "--backing", "{dir}", "{dir}/a.json"],
        "a.json",
    ),
    case(&["zombiefs", "{dir}"], "--backing"),
];
/// A build without zombiefs says how to get it, not "unrecognized
/// subcommand".
#[cfg(not(all(feature = "zombiefs", target_os = "linux")))]
const ZOMBIEFS_CASES: &[Case] = &[
    case(
        &["zombiefs", "--backing", "{dir}", "{dir}"],
        "--features zombiefs",
    ),
    case(&["zombiefs"], "--features zombiefs"),
];

/// Report files for the compare cases: one good, the others broken in one way each.
fn compare_files(dir: &std::path::Path) {
    let out = bin()
        .args(["run", "--cycles", "500", "--json"])
        .arg(dir.join("a.json"))
        .output()
        .unwrap();
    // The system temp dir: on a Mac it may show the defect (exit 1).
    let may_have_anomalies = crate::util::host_may_have_the_defect();
    assert!(
        out.status.code() == Some(0) || (out.status.code() == Some(1) && may_have_anomalies),
        "{:?} {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let good = std::fs::read_to_string(dir.join("a.json")).unwrap();
    std::fs::write(dir.join("not-json.json"), "this is not json").unwrap();
    std::fs::write(dir.join("other-tool.json"), r#"{"benchmarks": []}"#).unwrap();
    let v99 = good.replacen("\"schema_version\": 1", "\"schema_version\": 99", 1);
    assert_ne!(v99, good);
    std::fs::write(dir.join("v99.json"), v99).unwrap();
    std::fs::write(dir.join("truncated.json"), &good[..good.len() / 2]).unwrap();
}

#[test]
fn malformed_inputs() {
    let all: Vec<&Case> = CASES.iter().chain(ZOMBIEFS_CASES).collect();
    assert!(all.len() >= 20);
    let tmp = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    compare_files(files.path());
    for (i, c) in all.into_iter().enumerate() {
        let out = tmp.path().join(format!("out-{i}"));
        let dir = files.path().to_str().unwrap();
        let args: Vec<String> = c
            .args
            .iter()
            .map(|a| {
                a.replace("{out}", out.to_str().unwrap())
                    .replace("{dir}", dir)
            })
            .collect();
        let mut cmd = bin();
        cmd.args(&args);
        for (k, v) in c.env {
            cmd.env(k, v);
        }
        let o = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(
            o.status.code(),
            Some(2),
            "{args:?} {:?}: exit 2; stderr: {stderr}",
            c.env
        );
        assert_eq!(
            stderr.trim_end().lines().count(),
            1,
            "{args:?} {:?}: one line: {stderr}",
            c.env
        );
        assert!(
            stderr.contains(c.needle),
            "{args:?} {:?}: names {}: {stderr}",
            c.env,
            c.needle
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!out.exists(), "{args:?}: no output file");
    }
    assert!(
        crate::util::entries(tmp.path()).is_empty(),
        "no partial files at all"
    );
}

/// `unlink-race emulate`'s own bad input: one line on stderr and exit 125,
/// which no one takes for the command's status; nothing runs.
#[test]
fn emulate_bad_input_is_one_line_and_exit_125() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let missing = format!("{d}/missing");
    let json = format!("{d}/missing/out.json");
    let ran = format!("{d}/ran");
    let touch = format!("touch {ran}");
    let mut cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["emulate"], "CMD"),
        (
            vec!["emulate", "--probability", "2", "--", "true"],
            "--probability",
        ),
        (
            vec!["emulate", "--open-probability", "x", "--", "true"],
            "--open-probability",
        ),
        (
            vec!["emulate", "--timeout", "soon", "--", "true"],
            "--timeout",
        ),
        (
            vec!["emulate", "--path", d, "--backing-dir", d, "--", "true"],
            "--backing-dir",
        ),
        (vec!["emulate", "--bogus", "--", "true"], "--bogus"),
    ];
    if cfg!(all(feature = "zombiefs", target_os = "linux")) {
        cases.extend([
            (
                vec!["emulate", "--path", &missing, "--", "sh", "-c", &touch],
                "missing",
            ),
            (
                vec![
                    "emulate",
                    "--backing-dir",
                    &missing,
                    "--",
                    "sh",
                    "-c",
                    &touch,
                ],
                "missing",
            ),
            (
                vec!["emulate", "--json", &json, "--", "sh", "-c", &touch],
                "--json",
            ),
        ]);
    } else {
        cases.push((
            vec!["emulate", "--", "sh", "-c", &touch],
            "--features zombiefs",
        ));
    }
    for (args, names) in cases {
        let out = bin().args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(125), "{args:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
        assert!(
            stderr.contains(names),
            "{args:?} should name {names}: {stderr}"
        );
        assert!(
            !std::path::Path::new(&ran).exists(),
            "{args:?} ran the command"
        );
    }
}
