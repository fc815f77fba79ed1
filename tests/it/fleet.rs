//! The fleet hunt's jobs run here as a runner runs them: the workflow
//! (`.github/workflows/hunt.yml`) and the action (`action.yml`) do nothing but
//! call `scripts/fleet/hunt.sh`, and these tests call the same script with the
//! variables the runner would set: two per-runner jobs on two directories, the
//! compare job over what they would upload, and the action's steps. Artifacts
//! are checked file by file, and the job summary (`GITHUB_STEP_SUMMARY`) and
//! step outputs (`GITHUB_OUTPUT`) are temp files read back.
//!
//! Settings are the quickest the script takes: one scenario, short Criterion
//! timings, and the `dev` profile (a runner builds with the bench profile;
//! nothing else differs). With `--features zombiefs` the second runner is the
//! positive control on zombiefs, which needs root and `/dev/fuse`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::util;

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/fleet/hunt.sh")
}

/// What a step leaves behind: its exit, its summary and its outputs.
struct Step {
    output: Output,
    summary: String,
    outputs: BTreeMap<String, String>,
}

impl Step {
    fn log(&self) -> String {
        format!(
            "stdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&self.output.stdout),
            String::from_utf8_lossy(&self.output.stderr)
        )
    }

    fn assert_success(&self, what: &str) {
        assert!(
            self.output.status.success(),
            "{what} failed ({}):\n{}",
            self.output.status,
            self.log()
        );
    }

    fn output(&self, name: &str) -> &str {
        self.outputs
            .get(name)
            .unwrap_or_else(|| panic!("no step output {name} in {:?}", self.outputs))
    }
}

/// Runs `hunt.sh ARGS` with `env` on top of the quick settings, as a step
/// with its own summary and output files under `work`.
fn step(work: &Path, name: &str, args: &[&Path], env: &[(&str, &str)]) -> Step {
    let summary = work.join(format!("{name}.summary.md"));
    let outputs = work.join(format!("{name}.outputs"));
    let mut cmd = Command::new(script());
    cmd.args(args)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_OUTPUT", &outputs)
        .env("FLEET_PROFILE", "dev")
        .env("UNLINK_RACE_RACE", "open-unlink")
        .env("UNLINK_RACE_READERS", "1")
        .env("UNLINK_RACE_SIZES", "7")
        .env("UNLINK_RACE_RECREATE", "inplace")
        .env("UNLINK_RACE_DELETE", "unlink")
        .env("FLEET_MEASUREMENT_S", "0.5")
        .env("FLEET_WARM_UP_S", "0.1")
        // Criterion's data goes with the step, not into the checkout's
        // target/criterion, where it would become the baseline of the
        // user's next `cargo bench`.
        .env("CRITERION_HOME", work.join("criterion"))
        // The binary the script builds lands where the other tests run theirs:
        // built with the same features, it stays the binary they expect.
        .env(
            "FLEET_FEATURES",
            if cfg!(all(feature = "zombiefs", target_os = "linux")) {
                "zombiefs"
            } else {
                ""
            },
        )
        .env_remove("FLEET_ZOMBIEFS")
        .env_remove("FLEET_BASELINE")
        .env_remove("FLEET_TOOLCHAIN");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let output = cmd.output().expect("run scripts/fleet/hunt.sh");
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    let outputs = read(&outputs)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Step {
        output,
        summary: read(&summary),
        outputs,
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Whether the second runner is the zombiefs positive control.
fn zombiefs_control() -> bool {
    if !cfg!(all(feature = "zombiefs", target_os = "linux")) {
        return false;
    }
    if is_root() && Path::new("/dev/fuse").exists() {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "the zombiefs runner needs root and /dev/fuse, which CI provides"
    );
    eprintln!("skipped: the zombiefs positive control needs root and /dev/fuse");
    false
}

/// The per-runner job on two directories, then the compare job over their
/// artifacts laid out as `actions/download-artifact` lays them out (one
/// folder per artifact).
#[test]
fn per_runner_jobs_and_compare_job_run_as_on_a_runner() {
    let work = tempfile::tempdir().expect("temp dir");
    let work = work.path();
    let race_a = work.join("race-a");
    let race_b = work.join("race-b");
    for d in [&race_a, &race_b] {
        std::fs::create_dir(d).unwrap();
    }
    let control = zombiefs_control();

    // Per-runner job, runner A: a plain directory.
    let art_a = work.join("artifact-a");
    let a = step(
        work,
        "bench-a",
        &[Path::new("bench"), &art_a],
        &[
            ("FLEET_RUNNER", "runner-a"),
            ("UNLINK_RACE_DIR", race_a.to_str().unwrap()),
        ],
    );
    a.assert_success("the per-runner job (runner A)");
    // Per-runner job, runner B: a second directory, or zombiefs.
    let art_b = work.join("artifact-b");
    let mut env_b = vec![
        ("FLEET_RUNNER", "runner-b"),
        ("UNLINK_RACE_DIR", race_b.to_str().unwrap()),
    ];
    if control {
        env_b.push(("FLEET_ZOMBIEFS", "1"));
    }
    let b = step(work, "bench-b", &[Path::new("bench"), &art_b], &env_b);
    b.assert_success("the per-runner job (runner B)");

    let mut labels = Vec::new();
    for (job, art, race, runner) in [
        (&a, &art_a, &race_a, "runner-a"),
        (&b, &art_b, &race_b, "runner-b"),
    ] {
        let label = job.output("label").to_string();
        assert!(
            label.starts_with(&format!("{runner}-")),
            "the label {label} does not start with the runner image {runner}"
        );
        assert_eq!(
            control && runner == "runner-b",
            label.ends_with("-zombiefs")
        );
        // The artifact: the report and its page, nothing else (a one-report
        // index.html in each would collide when the compare job merges them).
        assert_eq!(
            util::entries(art),
            vec![format!("{label}.html"), format!("{label}.json")],
            "what runner {runner} uploads"
        );
        assert_eq!(
            job.output("report"),
            art.join(format!("{label}.json")).to_str().unwrap()
        );
        let report = util::load(&art.join(format!("{label}.json")));
        assert_eq!(report["label"], label.as_str());
        assert_eq!(report["source"], "bench");
        assert_eq!(report["scenarios"].as_array().map(Vec::len), Some(1));
        assert!(report["scenarios"][0]["cycles"].as_u64().unwrap_or(0) > 0);
        let fs = report["machine"]["fs_type"].as_str().unwrap_or_default();
        if label.ends_with("-zombiefs") {
            assert_eq!(fs, "fuse.zombiefs");
        } else {
            // The grid ran in the runner's directory (UNLINK_RACE_DIR).
            let target = report["machine"]["target_dir"].as_str().unwrap_or_default();
            let race = race.canonicalize().unwrap();
            assert!(
                Path::new(target).starts_with(&race) || Path::new(target) == race,
                "the bench raced in {target}, not in {}",
                race.display()
            );
        }
        // The job summary: the report's verdict and its scenario table.
        assert!(
            job.summary
                .starts_with(&format!("### unlink-race on `{label}`\n")),
            "summary of runner {runner}:\n{}",
            job.summary
        );
        assert!(
            job.summary.contains(&format!("| {label} |")),
            "{}",
            job.summary
        );
        assert!(
            job.summary
                .contains("| `r1-d1-7B-inplace-unlink-threads` |"),
            "{}",
            job.summary
        );
        if label.ends_with("-zombiefs") {
            assert!(job.summary.contains("**zombie_fd ×"), "{}", job.summary);
        } else {
            assert!(
                job.summary.contains("| verdict | no anomaly in "),
                "{}",
                job.summary
            );
        }
        labels.push(label);
    }
    assert_ne!(
        labels[0], labels[1],
        "two runners' reports must never collide"
    );

    // What download-artifact gives the compare job: report-<label>/ each.
    let downloaded = work.join("downloaded");
    for (art, label) in [(&art_a, &labels[0]), (&art_b, &labels[1])] {
        let dir = downloaded.join(format!("report-{label}"));
        std::fs::create_dir_all(&dir).unwrap();
        for f in util::entries(art) {
            std::fs::copy(art.join(&f), dir.join(&f)).unwrap();
        }
    }
    let fleet = work.join("fleet");
    let c = step(
        work,
        "compare",
        &[Path::new("compare"), &downloaded, &fleet],
        &[],
    );
    c.assert_success("the compare job");

    // The artifact the compare job uploads.
    let mut expected = vec![
        "compare.html".to_string(),
        "compare.md".to_string(),
        "compare.txt".to_string(),
        "index.html".to_string(),
        "index.md".to_string(),
    ];
    for l in &labels {
        expected.push(format!("{l}.html"));
        expected.push(format!("{l}.json"));
    }
    expected.sort();
    assert_eq!(
        util::entries(&fleet),
        expected,
        "what the compare job uploads"
    );
    assert_eq!(
        c.output("index"),
        fleet.join("index.html").to_str().unwrap()
    );

    // The index page: parses, has a column per report linking its page, and
    // the verdict column against the baseline (runner A, first by name).
    let page = std::fs::read_to_string(fleet.join("index.html")).unwrap();
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..roxmltree::ParsingOptions::default()
    };
    let doc =
        roxmltree::Document::parse_with_options(&page, options).expect("index.html is well-formed");
    let links: Vec<&str> = doc
        .descendants()
        .filter_map(|n| n.attribute("href"))
        .collect();
    for l in &labels {
        assert!(
            links.contains(&format!("{l}.html").as_str()),
            "no link to {l}.html in {links:?}"
        );
    }
    assert!(page.contains(&format!("verdict vs {}", labels[0])));

    // The Markdown verdict matrix, and the job summary built from it.
    let index_md = std::fs::read_to_string(fleet.join("index.md")).unwrap();
    let header = format!(
        "| scenario | {} | {} | verdict vs {} |",
        labels[0], labels[1], labels[0]
    );
    assert!(
        index_md.contains(&header),
        "no matrix header {header} in:\n{index_md}"
    );
    let row = index_md
        .lines()
        .find(|l| l.starts_with("| `r1-d1-7B-inplace-unlink-threads` |"))
        .unwrap_or_else(|| panic!("no scenario row in:\n{index_md}"));
    let verdict = row
        .trim_end_matches(" |")
        .rsplit(" | ")
        .next()
        .unwrap_or_default();
    // The verdict cell names the report that is higher and its baseline.
    if control {
        assert!(
            verdict.contains(" higher than ") && verdict.contains("zombie_fd"),
            "zombiefs against a plain directory: {row}"
        );
    } else {
        assert!(
            !verdict.contains(" higher than ") && !verdict.contains(" lower than "),
            "two clean directories: {row}"
        );
    }
    assert!(
        c.summary.starts_with("## Fleet hunt: 2 report(s)\n"),
        "{}",
        c.summary
    );
    assert!(
        c.summary.contains(&index_md),
        "the summary lacks the matrix:\n{}",
        c.summary
    );
    let compare_md = std::fs::read_to_string(fleet.join("compare.md")).unwrap();
    assert!(compare_md.starts_with("**unlink-race compare**"));
    assert!(
        c.summary
            .contains(&format!("</summary>\n\n{compare_md}\n</details>")),
        "the summary lacks the comparison:\n{}",
        c.summary
    );

    // Two artifacts holding the same report name: the compare job refuses.
    let clash = work.join("clash");
    for sub in ["report-x", "report-y"] {
        let dir = clash.join(sub);
        std::fs::create_dir_all(&dir).unwrap();
        let name = format!("{}.json", labels[0]);
        std::fs::copy(art_a.join(&name), dir.join(&name)).unwrap();
    }
    let bad = step(
        work,
        "clash",
        &[Path::new("compare"), &clash, &work.join("fleet-clash")],
        &[],
    );
    assert_eq!(bad.output.status.code(), Some(2), "{}", bad.log());
    assert!(
        String::from_utf8_lossy(&bad.output.stderr).contains("two reports named"),
        "{}",
        bad.log()
    );
}

/// The action's steps: the hunt (summary, outputs, report renamed by label),
/// then the verdict by mode.
#[test]
fn action_steps_hunt_then_judge_by_mode() {
    let work = tempfile::tempdir().expect("temp dir");
    let work = work.path();
    let dir = work.join("project");
    std::fs::create_dir(&dir).unwrap();
    let h = step(
        work,
        "action",
        &[Path::new("action")],
        &[
            ("RUNNER_TEMP", work.to_str().unwrap()),
            ("INPUT_DIR", dir.to_str().unwrap()),
            ("INPUT_DURATION", "1"),
            ("INPUT_MODE", "warn"),
            ("INPUT_ARGS", "--readers 2 --deleters 2"),
            ("INPUT_LABEL", "action test"),
        ],
    );
    h.assert_success("the action's hunt step");
    assert_eq!(h.output("label"), "action_test");
    assert_eq!(h.output("artifact"), "unlink-race-action_test");
    assert_eq!(h.output("verdict"), "clean", "{}", h.log());
    assert_eq!(h.output("exit-code"), "0");
    let out = Path::new(h.output("report-dir"));
    assert_eq!(
        util::entries(out),
        vec![
            "action_test.html".to_string(),
            "action_test.json".to_string()
        ]
    );
    let report = util::load(&out.join("action_test.json"));
    assert_eq!(report["source"], "run");
    assert_eq!(report["scenarios"][0]["config"]["readers"], 2);
    assert!(
        h.summary.starts_with(&format!(
            "### unlink-race: no anomaly in `{}` (1)\n",
            dir.display()
        )),
        "{}",
        h.summary
    );
    assert!(h.summary.contains("| action_test |"), "{}", h.summary);
    // Nothing left in the directory raced in.
    assert!(util::entries(&dir).is_empty(), "{:?}", util::entries(&dir));

    // A bad mode stops before anything runs.
    let bad = step(
        work,
        "bad-mode",
        &[Path::new("action")],
        &[("INPUT_MODE", "loud")],
    );
    assert_eq!(bad.output.status.code(), Some(2), "{}", bad.log());
    assert!(
        String::from_utf8_lossy(&bad.output.stderr)
            .contains("mode must be fail, warn, report or emulate")
    );

    // The verdict step: exit code of the hunt × mode.
    for (code, mode, exit, says) in [
        ("0", "fail", 0, "no anomaly"),
        ("1", "fail", 1, "::error title=unlink-race::"),
        ("1", "warn", 0, "::warning title=unlink-race::"),
        ("1", "report", 0, "an anomaly was seen"),
        (
            "130",
            "report",
            1,
            "::error title=unlink-race::the hunt did not finish",
        ),
    ] {
        let v = step(
            work,
            "verdict",
            &[Path::new("verdict")],
            &[("FLEET_EXIT_CODE", code), ("INPUT_MODE", mode)],
        );
        assert_eq!(
            v.output.status.code(),
            Some(exit),
            "exit {code}, mode {mode}: {}",
            v.log()
        );
        assert!(
            String::from_utf8_lossy(&v.output.stdout).contains(says),
            "exit {code}, mode {mode}: {}",
            v.log()
        );
    }
}

/// The action's mode `emulate`: the command runs under
/// `unlink-race emulate`, the hunt step records its exit status and the
/// verdict step fails with it.
#[cfg(all(feature = "zombiefs", target_os = "linux"))]
#[test]
fn action_mode_emulate_fails_as_the_command_fails() {
    if !crate::util::root_for("mounts zombiefs with the mount syscall") {
        return;
    }
    let work = tempfile::tempdir().expect("temp dir");
    let work = work.path();
    let h = step(
        work,
        "emulate",
        &[Path::new("action")],
        &[
            ("RUNNER_TEMP", work.to_str().unwrap()),
            ("INPUT_MODE", "emulate"),
            (
                "INPUT_COMMAND",
                r#"echo x > "$TMPDIR/f" && grep -q " $TMPDIR " /proc/self/mountinfo && exit 3"#,
            ),
            ("INPUT_ARGS", "--seed 1"),
        ],
    );
    h.assert_success("the action's step in mode emulate");
    assert_eq!(h.output("exit-code"), "3", "{}", h.log());
    assert_eq!(h.output("verdict"), "failed");
    assert_eq!(h.output("artifact"), "unlink-race-emulate");
    let served = util::load(Path::new(h.output("report")));
    assert_eq!(served["exit"]["code"], 3);
    assert_eq!(served["stats"]["creates"], 1);
    assert_eq!(served["seed"], 1);
    assert!(
        h.summary.starts_with("### unlink-race emulate\n\n`bash -c"),
        "{}",
        h.summary
    );
    assert!(
        h.summary
            .contains("failed (exit 3) without being served any defect"),
        "{}",
        h.summary
    );
    let v = step(
        work,
        "verdict",
        &[Path::new("verdict")],
        &[("FLEET_EXIT_CODE", "3"), ("INPUT_MODE", "emulate")],
    );
    assert_eq!(v.output.status.code(), Some(3), "{}", v.log());
    assert!(
        String::from_utf8_lossy(&v.output.stdout).contains("::error title=unlink-race emulate::")
    );
    let v = step(
        work,
        "verdict",
        &[Path::new("verdict")],
        &[("FLEET_EXIT_CODE", "0"), ("INPUT_MODE", "emulate")],
    );
    assert_eq!(v.output.status.code(), Some(0), "{}", v.log());
    // Without a command, nothing runs.
    let bad = step(
        work,
        "no-command",
        &[Path::new("action")],
        &[("INPUT_MODE", "emulate")],
    );
    assert_eq!(bad.output.status.code(), Some(2), "{}", bad.log());
}

/// `unlink-race index` (the compare job's merge step) on files and
/// directories: order, baseline, duplicates, links, and what it refuses.
#[test]
fn index_merges_files_and_directories() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let work = tempfile::tempdir().expect("temp dir");
    let work = work.path();
    let dir = work.join("fleet");
    let out = work.join("out");
    for d in [&dir, &out] {
        std::fs::create_dir(d).unwrap();
    }
    let clean = dir.join("report-bench-linux-clean.json");
    std::fs::copy(fixtures.join("report-bench-linux-clean.json"), &clean).unwrap();
    std::fs::write(dir.join("notes.json"), "{\"not\": \"a report\"}").unwrap();
    let mac = work.join("report-bench-macos-anomalies.json");
    std::fs::copy(fixtures.join("report-bench-macos-anomalies.json"), &mac).unwrap();
    let label = |p: &Path| util::load(p)["label"].as_str().unwrap().to_string();
    let (clean_label, mac_label) = (label(&clean), label(&mac));

    let page = out.join("page.html");
    let md = out.join("page.md");
    let o = util::bin()
        .arg("index")
        .arg(&dir)
        .arg(&mac)
        .arg(&clean) // already in the directory: counted once
        .arg("--baseline")
        .arg(&mac)
        .arg("--html")
        .arg(&page)
        .arg("--markdown")
        .arg(&md)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("notes.json"),
        "no warning about the non-report: {stderr}"
    );
    let text = std::fs::read_to_string(&md).unwrap();
    // The baseline first (this one was interrupted, and says so), then the
    // directory's report once, then the verdict column.
    // Labels are escaped as Markdown text (this one holds `<&>`).
    let md_text = unlink_race::export::markdown::text;
    let header = format!(
        "| scenario | {} | {} | {} |",
        md_text(&format!("{mac_label} (interrupted)")),
        md_text(&clean_label),
        md_text(&format!("verdict vs {mac_label}"))
    );
    assert!(text.contains(&header), "no header {header} in:\n{text}");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        html.contains("href=\"../report-bench-macos-anomalies.html\""),
        "{html}"
    );
    assert!(
        html.contains("href=\"../fleet/report-bench-linux-clean.html\""),
        "{html}"
    );

    // Without --html or --markdown the Markdown is the output.
    let o = util::run(&["index", clean.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.starts_with("**unlink-race index**: 1 report · "),
        "{stdout}"
    );

    for (args, says) in [
        (vec![dir.join("notes.json")], "notes.json"),
        (vec![out.clone()], "no unlink-race report found"),
        (
            vec![clean.clone(), PathBuf::from("--baseline"), mac.clone()],
            "--baseline",
        ),
    ] {
        let o = util::bin().arg("index").args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    }
}
