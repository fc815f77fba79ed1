//! Reports cost what they weigh: counts no run can reach and
//! impossible ones are refused with one line naming the file and the field,
//! a report comes through a pipe, a directory's FIFO is skipped, compare
//! and index keep summaries only, and every text lands escaped: Markdown
//! (inline HTML, links, table pipes) and terminals (control characters).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use unlink_race::outcome::Class;
use unlink_race::report::load::{LoadError, load_report, load_summary};
use unlink_race::report::schema::Report;

use crate::faults_stop::wait_within;
use crate::fixtures::{ReportBuilder, count_raced_opens, write_report, write_text};
use crate::util::bin;

const MILLION: u64 = 1_000_000;

/// A report of three scenarios with zombies, stalls and raced opens.
fn report(label: &str) -> Report {
    let mut r = ReportBuilder::new(label)
        .scenario(
            1,
            MILLION,
            900.0,
            &[(Class::ZombieFd, 12), (Class::Stall, 2)],
        )
        .scenario(2, MILLION, 900.0, &[(Class::RemoveEnoent, 40)])
        .scenario(4, 2 * MILLION, 900.0, &[])
        .build();
    for s in &mut r.scenarios {
        count_raced_opens(s, 20_000);
    }
    r
}

/// `unlink-race` with `args`, within a hang guard of 30 s: (exit code, stdout, stderr).
fn run_guarded(args: &[&std::ffi::OsStr]) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let (out, err) = (dir.path().join("out"), dir.path().join("err"));
    let mut child = bin()
        .args(args)
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .unwrap();
    let status = wait_within(&mut child, Duration::from_secs(30));
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    let (out, err) = (read(&out), read(&err));
    let (status, _) = status.unwrap_or_else(|| panic!("{args:?}: still running after 30 s: {err}"));
    (status.code(), out, err)
}

/// A count no run can reach (2⁶⁴ − 1 took 18 s in the
/// gamma quantile, a report of 64 of them 561 s) is refused at once by
/// compare and index, naming the file and the field.
#[test]
fn counts_no_run_reaches_are_refused_at_once() {
    type Edit = fn(&mut serde_json::Value);
    let rows: [(&str, Edit, &str); 6] = [
        (
            "stall count 2^64-1",
            |j| {
                j["scenarios"][0]["classes"]["stall"]["count"] = u64::MAX.into();
                j["scenarios"][0]["anomalies"] = u64::MAX.into();
                j["scenarios"][0]["classes"]["zombie_fd"]["count"] = 0.into();
            },
            "scenarios[0].classes.stall.count",
        ),
        (
            "cycles 2^64-1",
            |j| {
                j["scenarios"][2]["cycles"] = u64::MAX.into();
            },
            "scenarios[2].cycles",
        ),
        (
            "remove_enoent 10^15 in as many cycles",
            |j| {
                j["scenarios"][1]["cycles"] = 1_000_000_000_000_000u64.into();
                j["scenarios"][1]["classes"]["remove_enoent"]["count"] =
                    1_000_000_000_000_000u64.into();
            },
            "scenarios[1].cycles",
        ),
        (
            "removals 2^63",
            |j| {
                j["scenarios"][1]["removals"] = (1u64 << 63).into();
            },
            "scenarios[1].removals",
        ),
        (
            "an errno count 2^64-1",
            |j| {
                j["scenarios"][0]["errno_breakdown"] = serde_json::json!([{
                    "class": "io_error", "side": "reader", "op": "read", "errno": 5,
                    "errno_name": "EIO", "count": u64::MAX
                }]);
            },
            "scenarios[0].errno_breakdown",
        ),
        (
            "a trial of 2^64-1 cycles",
            |j| {
                j["scenarios"][0]["trials"] = serde_json::json!([{
                    "cycles": u64::MAX, "censored": true, "elapsed_ns": 1
                }]);
            },
            "scenarios[0].trials",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let good = write_report(dir.path(), "good.json", &report("good"));
    for (name, edit, field) in rows {
        let mut json = serde_json::to_value(report("bad")).unwrap();
        edit(&mut json);
        let bad = write_text(dir.path(), "bad.json", &json.to_string());
        for command in ["compare", "index"] {
            let args: Vec<&std::ffi::OsStr> =
                vec![command.as_ref(), good.as_os_str(), bad.as_os_str()];
            let (code, _, err) = run_guarded(&args);
            assert_eq!(code, Some(2), "{command}, {name}: {err}");
            assert_eq!(err.lines().count(), 1, "{command}, {name}: {err}");
            assert!(
                err.contains(&bad.display().to_string()) && err.contains(field),
                "{command}, {name}: names the file and `{field}`: {err}"
            );
        }
    }
}

/// The load error of `json` written as a file: one line naming the file.
fn invalid(json: &serde_json::Value) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = write_text(dir.path(), "r.json", &json.to_string());
    let error = load_report(&path).unwrap_err();
    assert!(matches!(error, LoadError::Invalid { .. }), "{error}");
    let message = error.to_string();
    assert!(
        message.starts_with(&path.display().to_string()),
        "{message}"
    );
    assert!(!message.contains('\n'), "{message}");
    message
}

/// Counts above what they are counted in, and a scenario
/// present twice (its second copy was never compared), are refused.
#[test]
fn impossible_reports_are_refused() {
    type Edit = fn(&mut serde_json::Value);
    let rows: [(&str, Edit, &str); 7] = [
        (
            "raced opens above the cycles",
            |j| {
                j["scenarios"][0]["raced_opens"] = 50_000_000u64.into();
            },
            "field `scenarios[0].raced_opens` is 50000000, more than the 1000000 cycles",
        ),
        (
            "a scenario twice",
            |j| {
                let first = j["scenarios"][0].clone();
                j["scenarios"].as_array_mut().unwrap().push(first);
            },
            "field `scenarios[3].config` repeats the scenario of `scenarios[0]`",
        ),
        (
            "a scenario twice, apart",
            |j| {
                let second = j["scenarios"][1].clone();
                j["scenarios"].as_array_mut().unwrap().insert(0, second);
            },
            "field `scenarios[2].config` repeats the scenario of `scenarios[0]`",
        ),
        (
            "empty reads split above the cycles",
            |j| {
                j["scenarios"][2]["empty_read_nlink"]["zero"] = 3_000_000u64.into();
            },
            "field `scenarios[2].empty_read_nlink` adds up to 3000000",
        ),
        (
            "a first anomaly after the last cycle",
            |j| {
                j["scenarios"][0]["first_anomaly_cycle"] = 1_000_001u64.into();
            },
            "field `scenarios[0].first_anomaly_cycle` is 1000001",
        ),
        (
            "a label of 100 KiB",
            |j| {
                j["label"] = "x".repeat(100 << 10).into();
            },
            "field `label` is 102400 bytes long",
        ),
        (
            "a calibration that raced more opens than cycles",
            |j| {
                j["scenarios"][1]["calibration"] = serde_json::json!({
                    "chosen": "sleep",
                    "candidates": [{"pace": "sleep", "cycles": 10, "raced_opens": 11,
                        "anomalies": 0, "elapsed_ns": 5, "raced_opens_per_second": 1.0}]
                });
            },
            "field `scenarios[1].calibration.candidates[0].raced_opens` is 11",
        ),
    ];
    for (name, edit, text) in rows {
        let mut json = serde_json::to_value(report("r")).unwrap();
        edit(&mut json);
        let message = invalid(&json);
        assert!(message.contains(text), "{name}: {message}");
    }
    // And through the command: exit 2, one line, nothing compared.
    let dir = tempfile::tempdir().unwrap();
    let mut json = serde_json::to_value(report("twice")).unwrap();
    let first = json["scenarios"][0].clone();
    json["scenarios"].as_array_mut().unwrap().push(first);
    let twice = write_text(dir.path(), "twice.json", &json.to_string());
    let good = write_report(dir.path(), "good.json", &report("good"));
    let (code, out, err) = run_guarded(&["compare".as_ref(), good.as_os_str(), twice.as_os_str()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(out.is_empty() && err.lines().count() == 1, "{err}");
}

/// A report read from a pipe loads (it was opened up to
/// four times, and the second read found the pipe empty).
#[test]
fn a_report_from_a_pipe_loads() {
    let dir = tempfile::tempdir().unwrap();
    let a = write_report(dir.path(), "a.json", &report("pipe-a"));
    let b = write_report(dir.path(), "b.json", &report("pipe-b"));
    let exe = env!("CARGO_BIN_EXE_unlink-race");
    for (name, script) in [
        (
            "compare, second from a pipe",
            format!("'{exe}' compare '{}' <(cat '{}')", a.display(), b.display()),
        ),
        (
            "compare, both from pipes",
            format!(
                "'{exe}' compare <(cat '{}') <(cat '{}')",
                a.display(),
                b.display()
            ),
        ),
        (
            "index, one from a pipe",
            format!("'{exe}' index '{}' <(cat '{}')", a.display(), b.display()),
        ),
        (
            "compare, from standard input",
            format!(
                "cat '{}' | '{exe}' compare '{}' /dev/stdin",
                b.display(),
                a.display()
            ),
        ),
    ] {
        let out = Command::new("bash")
            .arg("-c")
            .arg(&script)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{name}: {err}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("pipe-a") && text.contains("pipe-b"),
            "{name}: {text}"
        );
    }
    // A truncated pipe is still named for what it is.
    let text = std::fs::read_to_string(&b).unwrap();
    let cut = write_text(dir.path(), "cut.txt", &text[..text.len() / 2]);
    let script = format!(
        "'{exe}' compare '{}' <(cat '{}')",
        a.display(),
        cut.display()
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("truncated JSON") && err.contains("field `scenarios["),
        "{err}"
    );
}

/// `index` of a directory skips a FIFO, a socket and a
/// directory named `*.json` with a warning instead of waiting on the FIFO.
#[test]
fn index_skips_what_is_not_a_regular_file() {
    let dir = tempfile::tempdir().unwrap();
    write_report(dir.path(), "a.json", &report("regular-a"));
    write_report(dir.path(), "b.json", &report("regular-b"));
    let fifo = dir.path().join("fifo.json");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let _socket = std::os::unix::net::UnixListener::bind(dir.path().join("socket.json")).unwrap();
    std::fs::create_dir(dir.path().join("folder.json")).unwrap();
    let (code, out, err) = run_guarded(&["index".as_ref(), dir.path().as_os_str()]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("regular-a") && out.contains("regular-b"),
        "{out}"
    );
    for (name, kind) in [
        ("fifo.json", "a FIFO"),
        ("socket.json", "a socket"),
        ("folder.json", "a directory"),
    ] {
        let line = err
            .lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("no warning for {name}: {err}"));
        assert!(
            line.contains("not a regular file") && line.contains(kind),
            "{line}"
        );
    }
}

/// A zombie seen by `fstat`, as a report's examples list it.
fn example() -> unlink_race::report::schema::Example {
    unlink_race::report::schema::Example {
        class: Class::ZombieFd,
        op: unlink_race::report::schema::Op::Fstat,
        errno: 0,
        errno_name: String::new(),
        stat: None,
        bytes_read: 0,
        bytes_expected: 7,
        exists_after: false,
        t_ns: 1,
        worker: unlink_race::report::schema::WorkerId::reader(0),
        cycle: 3,
        stale: None,
    }
}

/// Compare and index keep each report's counts, not its
/// lists (a 306 MB report took 1 GB in `index`): the summary of a report
/// with 20,000 examples and timeline events holds none of them and the same
/// counts, and `index` of it runs.
#[test]
fn summaries_leave_the_lists_out() {
    use unlink_race::report::schema::{Timeline, TimelineEvent, WorkerId};
    let mut r = report("heavy");
    let s = &mut r.scenarios[0];
    let example = example();
    s.examples = vec![example; 20_000];
    s.timeline = Some(Timeline {
        class: Class::ZombieFd,
        worker: WorkerId::reader(0),
        events: (0..20_000)
            .map(|t| TimelineEvent {
                t_ns: t,
                worker: WorkerId::deleter(0),
                kind: unlink_race::report::schema::EventKind::OpenBegin,
                errno: 0,
                errno_name: String::new(),
            })
            .collect(),
    });
    let dir = tempfile::tempdir().unwrap();
    let path = write_report(dir.path(), "heavy.json", &r);
    let full = load_report(&path).unwrap();
    let summary = load_summary(&path).unwrap();
    assert_eq!(full.scenarios[0].examples.len(), 20_000);
    assert!(summary.scenarios.iter().all(|s| s.examples.is_empty()
        && s.timeline.is_none()
        && s.stalls.is_empty()
        && s.trials.is_empty()));
    for (f, s) in full.scenarios.iter().zip(&summary.scenarios) {
        assert_eq!(
            (f.cycles, f.anomalies, f.raced_opens),
            (s.cycles, s.anomalies, s.raced_opens)
        );
        assert_eq!(f.classes, s.classes);
    }
    let (code, out, err) = run_guarded(&["index".as_ref(), path.as_os_str()]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("heavy"), "{out}");
}

/// Whether the binary with `args` ends with exit 0 or 1 under an address
/// space limit of `mib` MiB (`ulimit -v`); output discarded.
fn fits_in(mib: u64, args: &[&std::ffi::OsStr]) -> bool {
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(format!("ulimit -v {} && exec \"$0\" \"$@\"", mib << 10))
        .arg(env!("CARGO_BIN_EXE_unlink-race"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (status, _) = wait_within(&mut child, Duration::from_secs(120))
        .unwrap_or_else(|| panic!("{args:?}: still running after 120 s"));
    matches!(status.code(), Some(0 | 1))
}

/// As it bit: `index` and `compare` of two reports of
/// tens of megabytes fit in about the memory they need for the same reports
/// without their lists (before, the parsed lists took twice the files'
/// size more). The limit is found for the light reports first, so the test
/// holds whatever the binary's own footprint; it is a bound, the figures
/// are in docs/measurements.
#[test]
fn memory_follows_the_counts_not_the_file() {
    let light = report("light");
    let mut heavy = light.clone();
    let example = example();
    for s in &mut heavy.scenarios {
        s.examples = vec![example.clone(); 25_000];
    }
    let dir = tempfile::tempdir().unwrap();
    let light = [
        write_report(dir.path(), "light.json", &light),
        write_report(dir.path(), "light2.json", &light),
    ];
    let heavy = [
        write_report(dir.path(), "heavy.json", &heavy),
        write_report(dir.path(), "heavy2.json", &heavy),
    ];
    let mib = std::fs::metadata(&heavy[0]).unwrap().len() >> 20;
    assert!(mib >= 16, "{mib} MiB: too small to tell");
    for command in ["index", "compare"] {
        let args = |pair: &[PathBuf; 2]| -> Vec<std::ffi::OsString> {
            vec![
                command.into(),
                pair[0].clone().into(),
                pair[1].clone().into(),
            ]
        };
        let fits = |limit: u64, pair: &[PathBuf; 2]| {
            let args = args(pair);
            let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
            fits_in(limit, &args)
        };
        // The least address space (to 2 MiB) the light reports need.
        let (mut lo, mut hi) = (1, 4096);
        assert!(
            fits(hi, &light),
            "{command} of the light reports in {hi} MiB"
        );
        while hi - lo > 2 {
            let mid = (lo + hi) / 2;
            if fits(mid, &light) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        let limit = hi + mib / 4;
        assert!(
            fits(limit, &heavy),
            "{command}: two reports of {mib} MiB do not fit in {limit} MiB; without their lists they fit in {hi} MiB"
        );
    }
}

/// Every `<` of `md`, and every `]` that would close a link, an image or a
/// link reference definition (`](`, `][`, `]:`), is backslash-escaped, and
/// every table row has as many cell separators as its header.
fn assert_inert_markdown(name: &str, md: &str) {
    let bytes = md.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let closes_link = b == b']' && matches!(bytes.get(i + 1), Some(b'(' | b'[' | b':'));
        if b == b'<' || closes_link {
            assert!(
                i > 0 && bytes[i - 1] == b'\\',
                "{name}: unescaped {} at {i}: {md}",
                b as char
            );
        }
    }
    assert!(
        !md.chars().any(|c| c.is_control() && c != '\n'),
        "{name}: {md:?}"
    );
    let separators = |line: &str| {
        let b = line.as_bytes();
        (0..b.len())
            .filter(|&i| b[i] == b'|' && (i == 0 || b[i - 1] != b'\\'))
            .count()
    };
    let mut header = None;
    for line in md.lines() {
        if !line.starts_with('|') {
            header = None;
            continue;
        }
        let n = separators(line);
        match header {
            None => header = Some(n),
            Some(h) => assert_eq!(n, h, "{name}: {line}"),
        }
    }
}

/// Labels and machine fields holding HTML, links, images
/// and pipes are inert in compare's and index's Markdown.
#[test]
fn markdown_passes_no_markup_from_reports() {
    let hostile = [
        "<img src=x onerror=alert(1)>",
        "<a href=\"https://evil.example\">click</a>",
        "[click](javascript:alert(1))",
        "![pixel](https://evil.example/p.png)",
        "[ref]: https://evil.example [ref]",
        "a|b|c",
        "<script>alert(1)</script>",
        "&lt;b&gt;",
        "x\u{1b}[31my\nz",
    ];
    let dir = tempfile::tempdir().unwrap();
    let mut paths: Vec<PathBuf> = Vec::new();
    for (i, text) in hostile.iter().enumerate() {
        let mut r = report(text);
        r.machine.hostname = (*text).into();
        r.machine.kernel = (*text).into();
        r.machine.cpu_model = (*text).into();
        r.machine.fs_type = (*text).into();
        r.machine.os_name = (*text).into();
        paths.push(write_report(dir.path(), &format!("r{i}.json"), &r));
    }
    for command in ["compare", "index"] {
        let md = dir.path().join(format!("{command}.md"));
        let mut args: Vec<&std::ffi::OsStr> = vec![command.as_ref()];
        args.extend(paths.iter().map(|p| p.as_os_str()));
        args.extend(["--markdown".as_ref(), md.as_os_str()]);
        let (code, _, err) = run_guarded(&args);
        assert!(matches!(code, Some(0 | 1)), "{command}: {err}");
        let text = std::fs::read_to_string(&md).unwrap();
        assert_inert_markdown(command, &text);
        assert!(
            text.contains("a\\|b\\|c"),
            "{command}: the pipe label is kept, escaped"
        );
    }
}

/// What reaches a terminal carries no control character, also
/// where a report's file name stands in for its label or names it in an error.
#[test]
fn terminal_output_carries_no_control_characters() {
    let dir = tempfile::tempdir().unwrap();
    let a = write_report(dir.path(), "a\u{1b}[2J.json", &report(""));
    let b = write_report(dir.path(), "b\u{1b}]0;title\u{7}.json", &report(""));
    let missing = dir.path().join("gone\u{1b}[31m.json");
    for (name, args) in [
        ("compare", vec![a.as_os_str(), b.as_os_str()]),
        (
            "compare, a missing file",
            vec![a.as_os_str(), missing.as_os_str()],
        ),
        ("index", vec![a.as_os_str(), b.as_os_str()]),
    ] {
        let mut full: Vec<&std::ffi::OsStr> = vec![name.split(',').next().unwrap().as_ref()];
        full.extend(args);
        let out = bin().args(&full).stdin(Stdio::null()).output().unwrap();
        for (stream, text) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            let text = String::from_utf8_lossy(text);
            assert!(
                !text.chars().any(|c| c.is_control() && c != '\n'),
                "{name}, {stream}: {text:?}"
            );
        }
    }
}
