//! Loading reports for `compare` (`report::load`): files that are not
//! sound reports are refused with one line naming the file and the field;
//! text fields are made safe for a terminal; size is bounded.

use std::path::PathBuf;

use unlink_race::report::load::{LoadError, load_report};
use unlink_race::report::schema::Report;

use crate::compare::busy_report;
use crate::fixtures::{write_report, write_text};

#[test]
fn a_written_report_loads_back() {
    let dir = tempfile::tempdir().unwrap();
    let report = busy_report("a");
    let path = write_report(dir.path(), "a.json", &report);
    let loaded = load_report(&path).unwrap();
    // serde_json may read a float back one ulp off; everything else is exact.
    assert_eq!(loaded.machine, report.machine);
    assert_eq!(loaded.label, report.label);
    assert_eq!(loaded.scenarios.len(), report.scenarios.len());
    for (l, r) in loaded.scenarios.iter().zip(&report.scenarios) {
        assert_eq!(
            (&l.name, &l.config, l.cycles),
            (&r.name, &r.config, r.cycles)
        );
        for (name, stats) in &r.classes {
            assert_eq!(l.classes[name].count, stats.count);
            assert_eq!(l.classes[name].expected, stats.expected);
            assert!((l.classes[name].ci_high / stats.ci_high - 1.0).abs() < 1e-15);
        }
    }
}

/// The error for `text` written as `name`: one line naming the file.
fn load_error(name: &str, text: &str) -> (LoadError, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = write_text(dir.path(), name, text);
    let error = load_report(&path).unwrap_err();
    let message = error.to_string();
    assert!(!message.contains('\n'), "one line: {message}");
    assert!(
        message.starts_with(&path.display().to_string()),
        "names the file: {message}"
    );
    assert_eq!(error.path(), path);
    (error, message)
}

fn report_json() -> serde_json::Value {
    serde_json::to_value(busy_report("a")).unwrap()
}

#[test]
fn json_from_another_tool_is_rejected() {
    let (error, message) = load_error(
        "hyperfine.json",
        r#"{"tool": "hyperfine", "results": [{"command": "sleep 1", "mean": 1.0}]}"#,
    );
    assert!(matches!(error, LoadError::NotReport { .. }));
    assert!(
        message.contains("not an unlink-race report") && message.contains("`tool`"),
        "{message}"
    );
    assert!(message.contains("\"hyperfine\""), "{message}");

    // Criterion's estimates.json has no `tool` at all.
    let (_, message) = load_error("estimates.json", r#"{"mean": {"point_estimate": 1.0}}"#);
    assert!(message.contains("field `tool` is missing"), "{message}");

    let (_, message) = load_error("list.json", "[1, 2, 3]");
    assert!(message.contains("an array"), "{message}");
}

#[test]
fn a_truncated_file_is_rejected() {
    let text = serde_json::to_string_pretty(&report_json()).unwrap();
    let cut = &text[..text.len() * 2 / 3];
    let (error, message) = load_error("truncated.json", cut);
    assert!(matches!(error, LoadError::Truncated { .. }), "{message}");
    assert!(message.contains("truncated JSON"), "{message}");
    assert!(message.contains("line "), "{message}");
    assert!(
        message.contains("field `scenarios["),
        "names the field: {message}"
    );
}

#[test]
fn an_unknown_schema_version_is_rejected() {
    let mut json = report_json();
    json["schema_version"] = 99.into();
    let (error, message) = load_error("future.json", &json.to_string());
    assert!(matches!(error, LoadError::UnsupportedVersion { .. }));
    assert!(
        message.contains("field `schema_version` is 99") && message.contains("schema_version 1"),
        "{message}"
    );

    json.as_object_mut().unwrap().remove("schema_version");
    let (_, message) = load_error("unversioned.json", &json.to_string());
    assert!(
        message.contains("field `schema_version` is missing"),
        "{message}"
    );
}

#[test]
fn a_missing_or_invalid_field_is_named() {
    let mut json = report_json();
    json["scenarios"][1]
        .as_object_mut()
        .unwrap()
        .remove("cycles");
    let (error, message) = load_error("missing.json", &json.to_string());
    assert!(matches!(error, LoadError::Invalid { .. }));
    assert!(
        message.contains("field `scenarios[1].cycles` is missing"),
        "{message}"
    );

    let mut json = report_json();
    json["scenarios"][0]["classes"]["zombie_fd"]["count"] = "seven".into();
    let (_, message) = load_error("wrong-type.json", &json.to_string());
    assert!(
        message.contains("field `scenarios[0].classes.zombie_fd.count`"),
        "{message}"
    );

    let mut json = report_json();
    json.as_object_mut().unwrap().remove("machine");
    let (_, message) = load_error("no-machine.json", &json.to_string());
    assert!(message.contains("field `machine` is missing"), "{message}");
}

#[test]
fn unreadable_and_non_json_files_are_rejected() {
    let (error, message) = load_error("notes.txt", "zombie_fd: 3\n");
    assert!(matches!(error, LoadError::NotJson { .. }), "{message}");
    let (_, message) = load_error("empty.json", "");
    assert!(message.contains("empty"), "{message}");

    let missing = PathBuf::from("/nonexistent/unlink-race/report.json");
    let error = load_report(&missing).unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, LoadError::Read { .. }));
    assert!(message.starts_with("/nonexistent/unlink-race/report.json: cannot read"));
    assert!(!message.contains('\n'));
}

/// The error for the report `json` written as `name`: one line naming the
/// file, an invalid report.
fn invalid(name: &str, json: &serde_json::Value) -> String {
    let (error, message) = load_error(name, &json.to_string());
    assert!(matches!(error, LoadError::Invalid { .. }), "{message}");
    message
}

#[test]
fn impossible_reports_are_rejected() {
    // A count above the cycles for a class that happens at
    // most once per cycle, counts without cycles, missing and unknown
    // classes, unknown worker kinds, an `anomalies` that is not the sum.
    let mut json = report_json();
    json["scenarios"][0]["cycles"] = 10.into();
    json["scenarios"][0]["classes"]["ok"]["count"] = 0.into();
    json["scenarios"][0]["classes"]["zombie_fd"]["count"] = 15.into();
    json["scenarios"][0]["anomalies"] = 15.into();
    let message = invalid("too-many.json", &json);
    assert!(
        message.contains(
            "field `scenarios[0].classes.zombie_fd.count` is 15, more than the 10 cycles"
        ),
        "{message}"
    );

    let mut json = report_json();
    json["scenarios"][2]["cycles"] = 0.into();
    json["scenarios"][2]["classes"]["stall"]["count"] = 5.into();
    json["scenarios"][2]["anomalies"] = 5.into();
    let message = invalid("no-cycles.json", &json);
    assert!(
        message.contains("field `scenarios[2].classes.stall.count` is 5 but `cycles` is 0"),
        "{message}"
    );

    let mut json = report_json();
    json["scenarios"][1]["classes"]
        .as_object_mut()
        .unwrap()
        .remove("stale");
    let message = invalid("missing-class.json", &json);
    assert!(
        message.contains("field `scenarios[1].classes.stale` is missing"),
        "{message}"
    );

    let mut json = report_json();
    let zombie = json["scenarios"][0]["classes"]["zombie_fd"].clone();
    json["scenarios"][0]["classes"]["zombie_fdx"] = zombie;
    let message = invalid("unknown-class.json", &json);
    assert!(
        message.contains("field `scenarios[0].classes`: unknown class `zombie_fdx`"),
        "{message}"
    );

    let mut json = report_json();
    json["scenarios"][0]["config"]["workers"] = "fibers".into();
    let message = invalid("fibers.json", &json);
    assert!(
        message.contains(
            "field `scenarios[0].config.workers`: unknown variant `fibers`, expected `threads` or `processes`"
        ),
        "{message}"
    );

    let mut json = report_json();
    json["scenarios"][0]["anomalies"] = 0.into();
    let message = invalid("sum.json", &json);
    assert!(
        message.contains("field `scenarios[0].anomalies` is 0"),
        "{message}"
    );

    // A class that can happen more than once per cycle may outnumber them:
    // loaded, and its interval (Poisson) contains its rate.
    let mut json = report_json();
    json["scenarios"][0]["cycles"] = 10.into();
    json["scenarios"][0]["classes"]["ok"]["count"] = 0.into();
    json["scenarios"][0]["classes"]["zombie_fd"]["count"] = 0.into();
    json["scenarios"][0]["classes"]["io_error"]["count"] = 15.into();
    json["scenarios"][0]["anomalies"] = 15.into();
    let dir = tempfile::tempdir().unwrap();
    let path = write_text(dir.path(), "io.json", &json.to_string());
    let r: Report = load_report(&path).unwrap();
    let c = unlink_race::compare::compare(
        vec![(path.clone(), r.clone()), (path, r)],
        0,
        unlink_race::compare::Rules::default(),
    );
    let io = c.scenarios[0]
        .classes
        .iter()
        .find(|k| k.class == unlink_race::outcome::Class::IoError)
        .unwrap();
    let count = io.counts[0].unwrap();
    assert_eq!(count.rate, 1.5);
    assert!(count.interval.contains(1.5), "{:?}", count.interval);
}

#[test]
fn control_characters_are_escaped() {
    // ESC and NUL in report fields reached the terminal
    // and the Markdown.
    let mut json = report_json();
    json["label"] = "mac\u{1b}[2J\u{0}box".into();
    json["machine"]["kernel"] = "19.6.0\u{1b}]0;title\u{7}".into();
    json["scenarios"][0]["name"] = "r1\u{202e}gnp.exe".into();
    let dir = tempfile::tempdir().unwrap();
    let path = write_text(dir.path(), "esc.json", &json.to_string());
    let r = load_report(&path).unwrap();
    assert_eq!(r.label, "mac\\u{1b}[2J\\u{0}box");
    assert_eq!(r.machine.kernel, "19.6.0\\u{1b}]0;title\\u{7}");
    assert_eq!(r.scenarios[0].name, "r1\\u{202e}gnp.exe");
    let other = load_report(&write_report(dir.path(), "b.json", &busy_report("b"))).unwrap();
    let c = unlink_race::compare::compare(
        vec![(path, r), (PathBuf::from("b.json"), other)],
        0,
        unlink_race::compare::Rules::default(),
    );
    for text in [
        unlink_race::export::terminal::render_terminal(&c),
        unlink_race::export::markdown::render_markdown(&c),
        unlink_race::export::html::render_comparison(&c),
    ] {
        assert!(
            !text
                .chars()
                .any(|ch| (ch.is_control() && ch != '\n') || ch == '\u{202e}'),
            "{text}"
        );
    }
}

#[test]
fn a_file_too_large_is_refused_before_reading() {
    // A sparse file of 513 MiB: refused by its size, nothing read.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.json");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(513 << 20).unwrap();
    let error = load_report(&path).unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, LoadError::TooLarge { .. }), "{message}");
    assert!(message.starts_with(&path.display().to_string()) && message.contains("too large"));
}

#[test]
fn committed_reports_and_fixtures_still_load() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut loaded = 0;
    for dir in ["reports/reference", "tests/fixtures"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                load_report(&path).unwrap_or_else(|e| panic!("{e}"));
                loaded += 1;
            }
        }
    }
    assert!(loaded >= 6, "{loaded}");
}
