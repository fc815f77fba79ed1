//! Comparing reports: matching, statistics, verdicts, load errors and the
//! terminal and Markdown renderings, on reports built in code.

use std::path::PathBuf;

use unlink_race::compare::{
    Comparison, DEFAULT_ALPHA, LoadError, compare, find_baseline, load_report,
};
use unlink_race::export::markdown::render_markdown;
use unlink_race::export::terminal::render_terminal;
use unlink_race::outcome::Class;
use unlink_race::report::schema::Report;
use unlink_race::stats::{Verdict, holm};

use crate::fixtures::{ReportBuilder, write_report, write_text};

const MILLION: u64 = 1_000_000;

fn pair(a: Report, b: Report) -> Comparison {
    compare(
        vec![(PathBuf::from("a.json"), a), (PathBuf::from("b.json"), b)],
        0,
        DEFAULT_ALPHA,
    )
}

/// A report with a few scenarios and events in several classes.
fn busy_report(label: &str) -> Report {
    ReportBuilder::new(label)
        .scenario(
            1,
            MILLION,
            900.0,
            &[(Class::ZombieFd, 7), (Class::Ok, 600_000)],
        )
        .scenario(
            2,
            3 * MILLION,
            1500.0,
            &[(Class::WriteEinval, 2), (Class::EmptyRead, 900)],
        )
        .scenario(4, 5 * MILLION, 2500.0, &[])
        .build()
}

#[test]
fn a_report_against_itself_is_the_same_everywhere() {
    let r = busy_report("mac");
    let c = pair(r.clone(), r);
    assert!(!c.differs());
    assert_eq!(c.scenarios.len(), 3);
    let mut tests = 0;
    for s in &c.scenarios {
        assert!(!s.is_partial());
        assert_eq!(s.verdict(), Some(Verdict::Same), "{}", s.name);
        for class in &s.classes {
            assert!(
                class.tests[0].is_none(),
                "no test of the baseline against itself"
            );
            let t = class.tests[1].as_ref().unwrap();
            assert_eq!(t.verdict, Verdict::Same, "{} {}", s.name, class.class);
            assert_eq!(t.p_adjusted, 1.0);
            tests += 1;
        }
        let run = s.runs[1].as_ref().unwrap();
        assert_eq!(run.ns_per_cycle_ratio, Some(1.0));
    }
    // Every anomaly class of every scenario is compared: 10 with one reader,
    // 8 with more (empty_read and short_read are expected races under
    // inplace). Only those with an event enter Holm's family: zombie_fd in the
    // first scenario, write_einval in the second.
    assert_eq!(tests, 10 + 8 + 8);
    assert_eq!(c.tests, 2);
}

#[test]
fn expected_races_are_not_compared() {
    let c = pair(busy_report("a"), busy_report("b"));
    let two_readers = &c.scenarios[1];
    let names: Vec<&str> = two_readers.classes.iter().map(|k| k.class.name()).collect();
    assert!(!names.contains(&"empty_read") && !names.contains(&"short_read"));
    assert!(!names.contains(&"ok") && !names.contains(&"enoent_on_open"));
    // In the order reports list classes.
    assert_eq!(names[..2], ["zombie_fd", "write_einval"]);
}

#[test]
fn zero_against_fifty_zombies_is_higher() {
    let a = ReportBuilder::new("linux")
        .scenario(1, MILLION, 1000.0, &[])
        .build();
    let b = ReportBuilder::new("mac")
        .scenario(1, MILLION, 500.0, &[(Class::ZombieFd, 50)])
        .build();
    let c = pair(a, b);
    assert!(c.differs());
    let s = &c.scenarios[0];
    assert!(s.differs());
    assert_eq!(s.verdict(), Some(Verdict::Higher));
    assert_eq!(s.verdict_for(1), Some(Verdict::Higher));
    assert_eq!(s.verdict_for(0), None);
    let zombie = s
        .classes
        .iter()
        .find(|k| k.class == Class::ZombieFd)
        .unwrap();
    let t = zombie.tests[1].as_ref().unwrap();
    assert_eq!(t.verdict, Verdict::Higher);
    assert!(t.p_adjusted < 1e-10, "{}", t.p_adjusted);
    assert!(t.rates.ratio_is_infinite());
    assert_eq!(zombie.counts[1].unwrap().count, 50);
    assert_eq!(zombie.counts[1].unwrap().rate, 50.0 / 1e6);
    // The only test with an event: Holm leaves it alone.
    assert_eq!(c.tests, 1);
    assert_eq!(t.p_adjusted, t.rates.p_value);
    // Time per cycle against the baseline.
    assert_eq!(s.runs[1].as_ref().unwrap().ns_per_cycle_ratio, Some(0.5));
    // The other classes: no event anywhere, same.
    for k in s.classes.iter().filter(|k| k.class != Class::ZombieFd) {
        assert!(k.all_zero());
        assert_eq!(k.tests[1].unwrap().verdict, Verdict::Same);
    }

    let text = render_terminal(&c);
    let line = text
        .lines()
        .find(|l| l.contains("zombie_fd") && l.contains("mac"))
        .unwrap();
    assert!(
        line.contains("50") && line.contains("higher") && line.contains('∞'),
        "{line}"
    );
    assert!(
        text.contains("r1-d1-7B-inplace-unlink-threads: higher"),
        "{text}"
    );
    assert!(
        text.contains("0 in every report (same): write_einval"),
        "{text}"
    );
}

#[test]
fn three_against_four_does_not_differ() {
    let a = ReportBuilder::new("a")
        .scenario(1, MILLION, 1000.0, &[(Class::ZombieFd, 3)])
        .build();
    let b = ReportBuilder::new("b")
        .scenario(1, MILLION, 1000.0, &[(Class::ZombieFd, 4)])
        .build();
    let c = pair(a, b);
    assert!(!c.differs());
    let t = c.scenarios[0].classes[0].tests[1].unwrap();
    assert!(matches!(t.verdict, Verdict::Same | Verdict::Inconclusive));
    assert!(t.p_adjusted > 0.9);
}

#[test]
fn scenarios_in_one_report_only_are_listed() {
    let a = ReportBuilder::new("a")
        .scenario(1, MILLION, 1000.0, &[])
        .scenario(8, MILLION, 1000.0, &[(Class::ZombieFd, 2)])
        .build();
    let b = ReportBuilder::new("b")
        .scenario(1, MILLION, 1000.0, &[])
        .scenario(16, MILLION, 1000.0, &[])
        .build();
    let c = pair(a, b);
    let names: Vec<&str> = c.scenarios.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "r1-d1-7B-inplace-unlink-threads",
            "r8-d1-7B-inplace-unlink-threads",
            "r16-d1-7B-inplace-unlink-threads"
        ]
    );
    let only_a = &c.scenarios[1];
    assert!(only_a.is_partial());
    assert_eq!(only_a.present_in(), [0]);
    assert!(only_a.runs[1].is_none());
    assert_eq!(only_a.verdict(), None);
    let only_b = &c.scenarios[2];
    assert_eq!(only_b.present_in(), [1]);
    assert!(!c.differs());

    let text = render_terminal(&c);
    assert!(
        text.contains("r8-d1-7B-inplace-unlink-threads: only in a"),
        "{text}"
    );
    assert!(
        text.contains("r16-d1-7B-inplace-unlink-threads: only in b"),
        "{text}"
    );
    assert_eq!(text.matches("not in this report").count(), 2, "{text}");
    assert!(text.contains("2 not in every report"), "{text}");
    let md = render_markdown(&c);
    assert!(
        md.contains("**r8-d1-7B-inplace-unlink-threads**: only in a"),
        "{md}"
    );
}

#[test]
fn a_scenario_missing_from_the_baseline_is_compared_with_the_first_report_that_has_it() {
    let a = ReportBuilder::new("a")
        .scenario(1, MILLION, 1000.0, &[])
        .build();
    let b = ReportBuilder::new("b")
        .scenario(2, MILLION, 1000.0, &[])
        .build();
    let c3 = ReportBuilder::new("c")
        .scenario(2, MILLION, 1000.0, &[(Class::ZombieFd, 40)])
        .build();
    let c = compare(
        vec![
            (PathBuf::from("a.json"), a),
            (PathBuf::from("b.json"), b),
            (PathBuf::from("c.json"), c3),
        ],
        0,
        DEFAULT_ALPHA,
    );
    let s = &c.scenarios[1];
    assert_eq!(s.reference, 1);
    assert_eq!(s.verdict_for(2), Some(Verdict::Higher));
    let text = render_terminal(&c);
    assert!(
        text.contains("higher (against b: not in the baseline)"),
        "{text}"
    );
}

#[test]
fn holm_runs_over_every_test_of_the_comparison() {
    let a = ReportBuilder::new("a")
        .scenario(1, MILLION, 1000.0, &[(Class::ZombieFd, 10)])
        .scenario(2, MILLION, 1000.0, &[(Class::WriteEinval, 5)])
        .scenario(3, MILLION, 1000.0, &[(Class::Stale, 1)])
        .build();
    let b = ReportBuilder::new("b")
        .scenario(1, MILLION, 1000.0, &[(Class::ZombieFd, 30)])
        .scenario(2, MILLION, 1000.0, &[(Class::WriteEinval, 18)])
        .scenario(3, MILLION, 1000.0, &[(Class::Stale, 2)])
        .build();
    let c = pair(a, b);
    assert_eq!(c.tests, 3);
    let tests: Vec<_> = c
        .scenarios
        .iter()
        .flat_map(|s| s.classes.iter())
        .filter_map(|k| k.tests[1])
        .filter(|t| t.rates.k_a + t.rates.k_b > 0)
        .collect();
    let raw: Vec<f64> = tests.iter().map(|t| t.rates.p_value).collect();
    let adjusted: Vec<f64> = tests.iter().map(|t| t.p_adjusted).collect();
    assert_eq!(adjusted, holm(&raw));
    // 10 vs 30 and 5 vs 18 are significant after adjustment; 1 vs 2 is not.
    let verdicts: Vec<Verdict> = tests.iter().map(|t| t.verdict).collect();
    assert_eq!(verdicts[..2], [Verdict::Higher, Verdict::Higher]);
    assert!(!verdicts[2].differs());
}

#[test]
fn alpha_decides_what_differs() {
    // 10 vs 25 in a million: binom.test(25, 35, 0.5)$p.value = 0.0167.
    let a = ReportBuilder::new("a")
        .scenario(1, MILLION, 1000.0, &[(Class::ZombieFd, 10)])
        .build();
    let b = ReportBuilder::new("b")
        .scenario(1, MILLION, 1000.0, &[(Class::ZombieFd, 25)])
        .build();
    let paths = || {
        vec![
            (PathBuf::from("a"), a.clone()),
            (PathBuf::from("b"), b.clone()),
        ]
    };
    assert!(compare(paths(), 0, 0.05).differs());
    assert!(!compare(paths(), 0, 0.01).differs());
}

#[test]
fn machine_differences_head_the_output() {
    let a = ReportBuilder::new("mac")
        .machine(|m| {
            m.os = "macos".into();
            m.os_name = "macOS 10.15.7".into();
            m.os_version = "10.15.7".into();
            m.kernel = "19.6.0".into();
            m.fs_type = "apfs".into();
            m.cpu_model = "Intel(R) Core(TM) i7-9750H".into();
            m.hostname = "laptop".into();
        })
        .scenario(1, MILLION, 1000.0, &[])
        .build();
    let b = ReportBuilder::new("linux")
        .scenario(1, MILLION, 1000.0, &[])
        .build();
    let c = pair(a, b);
    let row = |field: &str| c.machine.iter().find(|r| r.field == field).unwrap();
    assert_eq!(row("os version").values, ["10.15.7", "24.04"]);
    assert!(row("kernel").differs() && row("filesystem").differs() && row("cpu").differs());
    assert!(!row("arch").differs() && !row("arch").shown());
    assert!(row("host").shown());

    let text = render_terminal(&c);
    let lines: Vec<&str> = text.lines().collect();
    let position = |needle: &str| lines.iter().position(|l| l.contains(needle)).unwrap();
    assert!(position("macOS 10.15.7") < position("r1-d1-7B"));
    assert!(lines[position("filesystem")].contains("apfs"));
    assert!(lines[position("filesystem")].contains("ext4"));
    assert!(lines[position("machine")].contains("mac (baseline)"));
    assert!(
        !text.contains("x86_64"),
        "equal fields that are not key stay out"
    );
}

#[test]
fn terminal_columns_are_aligned() {
    let c = pair(busy_report("a-long-label"), busy_report("b"));
    let text = render_terminal(&c);
    let rows: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("  ") && !l.contains("0 in every report"))
        .collect();
    let header = rows[0];
    let column = |title: &str| header[..header.find(title).unwrap()].chars().count();
    let (class_column, verdict_column) = (column("class"), column("verdict"));
    for row in &rows[1..] {
        // Character positions (the cells may hold non-ASCII, e.g. "∞").
        let chars: Vec<char> = row.chars().collect();
        assert!(chars.len() > class_column, "{row}");
        assert_ne!(chars[class_column], ' ', "class column in {row}");
        assert!(
            chars.len() <= verdict_column || chars[verdict_column - 1] == ' ',
            "{row}"
        );
    }
}

/// Every line of every table, checked for a header and a separator.
fn assert_pipe_tables(md: &str) {
    let mut tables = 0;
    let lines: Vec<&str> = md.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        if !lines[i].starts_with('|') {
            i += 1;
            continue;
        }
        tables += 1;
        let start = i;
        while i < lines.len() && !lines[i].is_empty() {
            let line = lines[i];
            assert!(line.starts_with('|') && line.ends_with('|'), "{line}");
            i += 1;
        }
        let table = &lines[start..i];
        assert!(table.len() >= 3, "header, separator and a row: {table:?}");
        let separator = table[1];
        assert!(
            separator
                .trim_matches('|')
                .split('|')
                .all(|cell| cell == "---" || cell == "---:"),
            "{separator}"
        );
        let columns = |line: &str| line.replace("\\|", "").matches('|').count();
        for line in table {
            assert_eq!(columns(line), columns(table[0]), "{line}");
        }
    }
    assert_eq!(tables, 2, "machine and scenario tables:\n{md}");
}

#[test]
fn markdown_is_pipe_tables_with_headers() {
    let a = busy_report("mac|apfs");
    let b = ReportBuilder::new("linux")
        .scenario(1, MILLION, 800.0, &[(Class::ZombieFd, 60)])
        .scenario(32, MILLION, 800.0, &[])
        .build();
    let c = pair(a, b);
    let md = render_markdown(&c);
    assert_pipe_tables(&md);
    assert!(md.contains("mac\\|apfs (baseline)"), "{md}");
    assert!(md.contains("| scenario | report | cycles |"), "{md}");
    assert!(md.starts_with("**unlink-race compare**: 2 reports"), "{md}");
    assert!(md.contains("| higher |"), "{md}");
}

#[test]
fn clashing_labels_fall_back_to_file_names() {
    let r = busy_report("ci");
    let c = compare(
        vec![
            (PathBuf::from("x/first.json"), r.clone()),
            (PathBuf::from("y/second.json"), r),
        ],
        1,
        DEFAULT_ALPHA,
    );
    assert_eq!(c.labels(), ["first.json", "second.json"]);
    assert_eq!(c.baseline, 1);
    assert_eq!(c.scenarios[0].reference, 1);
}

#[test]
fn baseline_is_found_by_path() {
    let dir = tempfile::tempdir().unwrap();
    let a = write_report(dir.path(), "a.json", &busy_report("a"));
    let b = write_report(dir.path(), "b.json", &busy_report("b"));
    let paths = vec![a.clone(), b.clone()];
    assert_eq!(find_baseline(&paths, &b), Some(1));
    let indirect = dir.path().join(".").join("b.json");
    assert_eq!(find_baseline(&paths, &indirect), Some(1));
    assert_eq!(find_baseline(&paths, &dir.path().join("c.json")), None);
}

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
