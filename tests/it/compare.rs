//! Comparing reports: matching, statistics, verdicts, the verdict matrix,
//! load errors and the terminal, Markdown and HTML renderings, on reports
//! built in code and on the committed reports.

use std::path::PathBuf;

use unlink_race::compare::{Comparison, Rules, compare, find_baseline};
use unlink_race::export::markdown::render_markdown;
use unlink_race::export::terminal::render_terminal;
use unlink_race::outcome::Class;
use unlink_race::report::schema::Report;
use unlink_race::stats::{Basis, Verdict, holm};

use crate::fixtures::{ReportBuilder, write_report};

const MILLION: u64 = 1_000_000;

fn pair(a: Report, b: Report) -> Comparison {
    pair_with(a, b, Rules::default())
}

fn pair_with(a: Report, b: Report, rules: Rules) -> Comparison {
    compare(
        vec![(PathBuf::from("a.json"), a), (PathBuf::from("b.json"), b)],
        0,
        rules,
    )
}

/// A report with a few scenarios and events in several classes.
pub(crate) fn busy_report(label: &str) -> Report {
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
fn a_report_against_itself_is_never_higher_or_lower() {
    let r = busy_report("mac");
    let c = pair(r.clone(), r.clone());
    assert!(!c.differs());
    assert_eq!(c.scenarios.len(), 3);
    let mut tests = 0;
    for s in &c.scenarios {
        assert!(!s.is_partial());
        for class in &s.classes {
            assert!(
                class.tests[0].is_none(),
                "no test of the baseline against itself"
            );
            let t = class.tests[1].as_ref().unwrap();
            assert_eq!(t.p_adjusted, 1.0);
            // 7 or 2 events are too few to show a ratio within 2×, and none
            // says nothing: inconclusive, never `same` by default.
            assert_eq!(
                t.verdict,
                Verdict::Inconclusive,
                "{} {}",
                s.name,
                class.class
            );
            tests += 1;
        }
        assert_eq!(s.verdict(), Some(Verdict::Inconclusive), "{}", s.name);
        let run = s.runs[1].as_ref().unwrap();
        assert_eq!(run.ns_per_cycle_ratio, Some(1.0));
    }
    // Every anomaly class of every scenario is compared: 16 with one reader
    // (sharing_violation among them: delete_pending is expected), 14 with
    // more (empty_read and short_read are expected races under inplace;
    // open_enoent_visible is an anomaly with one view). Only those with an
    // event enter the difference family:
    // zombie_fd in the first scenario, write_einval in the second; both
    // have events on both sides, so both enter the equivalence family.
    assert_eq!(tests, 16 + 14 + 14);
    assert_eq!((c.tests, c.equivalence_tests), (2, 2));

    // A declared negligible rate makes the zero classes `same` where both
    // upper bounds are below it (3.7e-6 at 10⁶ cycles).
    let rules = Rules {
        negligible: Some(1e-5),
        ..Rules::default()
    };
    let c = pair_with(r.clone(), r, rules);
    let third = &c.scenarios[2];
    assert_eq!(third.verdict(), Some(Verdict::Same));
    for class in &third.classes {
        let t = class.tests[1].unwrap();
        assert_eq!((t.verdict, t.basis), (Verdict::Same, Basis::Negligible));
    }
    // 7 of 10⁶ has a bound of 1.4e-5: not below 1e-5, so still inconclusive.
    assert_eq!(c.scenarios[0].verdict(), Some(Verdict::Inconclusive));
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
    // The other classes: no event anywhere, inconclusive (never
    // `same` for "no evidence of a difference").
    for k in s.classes.iter().filter(|k| k.class != Class::ZombieFd) {
        assert!(k.all_zero());
        assert_eq!(k.tests[1].unwrap().verdict, Verdict::Inconclusive);
    }

    let text = render_terminal(&c);
    // The matrix leads: one row, the cell names the report, the class and
    // the direction. Its lower end: 0.025^(1/50) / (1 − 0.025^(1/50)) = 13.06.
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("unlink-race compare: 2 reports"),
        "{text}"
    );
    let matrix_row = lines
        .iter()
        .position(|l| l.starts_with("r1-d1-7B-inplace-unlink-threads "))
        .unwrap();
    assert!(
        lines[matrix_row].ends_with("mac higher: zombie_fd ×∞ [95%: 13–∞]"),
        "{text}"
    );
    assert!(matrix_row < lines.iter().position(|l| l.starts_with("machine")).unwrap());
    let line = text
        .lines()
        .find(|l| l.contains("mac") && l.contains("50") && l.contains("higher") && l.contains('['))
        .unwrap();
    assert!(line.contains('∞'), "{line}");
    assert!(
        text.contains("r1-d1-7B-inplace-unlink-threads: higher"),
        "{text}"
    );
    assert!(
        text.contains("mac vs linux: inconclusive: none seen in either"),
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
    assert_eq!(t.verdict, Verdict::Inconclusive);
    assert!(t.p_adjusted > 0.9);
    // What the data cannot exclude is said.
    let text = render_terminal(&c);
    assert!(
        text.contains("zombie_fd in b: inconclusive: ratio 1.3 [95%: 0.23–9.1]"),
        "{text}"
    );
    assert!(
        text.contains("more cycles would be needed to tell a 2× difference"),
        "{text}"
    );
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
    // In the matrix (b's column) and in the runs of each partial scenario.
    assert!(
        text.contains("r8-d1-7B-inplace-unlink-threads   not in this report"),
        "{text}"
    );
    assert!(
        text.contains("r16-d1-7B-inplace-unlink-threads  only in this report"),
        "{text}"
    );
    assert!(text.contains("b: not in this report"), "{text}");
    assert!(text.contains("a: not in this report"), "{text}");
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
        Rules::default(),
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
    let at = |alpha| Rules {
        alpha,
        ..Rules::default()
    };
    assert!(compare(paths(), 0, at(0.05)).differs());
    assert!(!compare(paths(), 0, at(0.01)).differs());
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
    assert!(position("macOS 10.15.7") < position("r1-d1-7B-inplace-unlink-threads:"));
    assert!(lines[position("filesystem")].contains("apfs"));
    assert!(lines[position("filesystem")].contains("ext4"));
    assert!(lines[position("machine")].contains("mac (baseline)"));
    assert!(
        !text.contains("x86_64"),
        "equal fields that are not key stay out"
    );
}

#[test]
fn terminal_fits_100_columns_and_columns_are_aligned() {
    let c = pair(busy_report("a-long-label"), busy_report("b"));
    let text = render_terminal(&c);
    for line in text.lines() {
        assert!(line.chars().count() <= 100, "{line}");
    }
    let lines: Vec<&str> = text.lines().collect();
    let header = lines
        .iter()
        .position(|l| l.trim_start().starts_with("report") && l.contains("verdict"))
        .unwrap();
    let column = |title: &str| {
        lines[header][..lines[header].find(title).unwrap()]
            .chars()
            .count()
    };
    let (count_column, verdict_column) = (column("count"), column("verdict"));
    let rows: Vec<&str> = lines[header..]
        .iter()
        .copied()
        .filter(|l| l.starts_with("    a-long-label") || l.starts_with("    b "))
        .collect();
    assert!(rows.len() >= 4, "{text}");
    for row in rows {
        // Character positions (the cells may hold non-ASCII, e.g. "∞").
        let chars: Vec<char> = row.chars().collect();
        assert!(chars.len() > verdict_column, "{row}");
        assert_eq!(chars[count_column - 1], ' ', "{row}");
        assert_ne!(chars[verdict_column], ' ', "verdict column in {row}");
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
    assert_eq!(tables, 3, "matrix, machine and scenario tables:\n{md}");
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
    assert!(md.starts_with("**unlink-race compare**: 2 reports"), "{md}");
    // The matrix comes first, right after the summary.
    let lines: Vec<&str> = md.lines().collect();
    assert_eq!(lines[2], "| scenario | linux vs mac\\|apfs |", "{md}");
    assert!(
        lines[4].starts_with("| `r1-d1-7B-inplace-unlink-threads` | **linux higher: zombie_fd"),
        "{md}"
    );
    assert!(md.contains("| scenario | class | report | count |"), "{md}");
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
        Rules::default(),
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

/// The committed reports, loaded.
fn committed_reports() -> Vec<(PathBuf, Report)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("reports/reference");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 3, "{paths:?}");
    paths
        .into_iter()
        .map(|p| {
            let r = unlink_race::report::load::load_report(&p).unwrap();
            (p, r)
        })
        .collect()
}

#[test]
fn every_committed_report_against_itself() {
    // `same` where the counts allow it, `inconclusive` where they
    // are zero, never `higher` or `lower`.
    for (path, report) in committed_reports() {
        let c = compare(
            vec![(path.clone(), report.clone()), (path.clone(), report)],
            0,
            Rules::default(),
        );
        assert!(!c.differs(), "{}", path.display());
        let mut same = 0;
        for s in &c.scenarios {
            for k in &s.classes {
                let t = k.tests[1].unwrap();
                let count = t.rates.k_a;
                match count {
                    0 => assert_eq!(t.verdict, Verdict::Inconclusive, "{} {}", s.name, k.class),
                    // Enough events for the 90% interval of the ratio to fit
                    // in [1/2, 2] even after Holm over every class.
                    100.. => {
                        assert_eq!(t.verdict, Verdict::Same, "{} {} {count}", s.name, k.class);
                        same += 1;
                    }
                    _ => assert!(!t.verdict.differs(), "{} {}", s.name, k.class),
                }
            }
        }
        // The zombiefs report has hundreds of zombie_fd per scenario (its
        // two-view report none: zombiefs never sees the other side's removals).
        if path.ends_with("linux-12-fuse.zombiefs-vm.json") {
            assert!(same >= 20, "{same}");
        }
    }
}

#[test]
fn committed_reports_against_themselves_through_the_binary() {
    for (path, _) in committed_reports() {
        let p = path.to_str().unwrap();
        let o = crate::util::run(&["compare", p, p]);
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert_eq!(o.status.code(), Some(0), "{p}: {stdout}");
        assert!(
            !stdout.contains(" higher") && !stdout.contains(" lower"),
            "{stdout}"
        );
        for line in stdout.lines() {
            assert!(line.chars().count() <= 100, "{line}");
        }
    }
}

#[test]
fn reports_without_a_common_scenario_are_an_error() {
    // Different file sizes said "0 of 2 scenarios differ", exit 0.
    let a = ReportBuilder::new("a")
        .scenario(1, MILLION, 1000.0, &[])
        .scenario(2, MILLION, 1000.0, &[])
        .build();
    let four_k = unlink_race::scenario::Scenario {
        file_size_bytes: 4096,
        ..unlink_race::scenario::Scenario::default()
    };
    let b = ReportBuilder::new("b")
        .scenario_of(&four_k, MILLION, 1000.0, &[])
        .build();
    let c = pair(a.clone(), b.clone());
    let why = c.no_match().unwrap();
    assert_eq!(
        why,
        "no scenario is in two of the reports, nothing to compare \
         (a vs b: readers 1/2 vs 1, file_size_bytes 7 vs 4096)"
    );
    assert!(pair(a.clone(), a.clone()).no_match().is_none());

    let dir = tempfile::tempdir().unwrap();
    let (pa, pb) = (
        write_report(dir.path(), "a.json", &a),
        write_report(dir.path(), "b.json", &b),
    );
    let md = dir.path().join("c.md");
    let o = crate::util::run(&[
        "compare",
        pa.to_str().unwrap(),
        pb.to_str().unwrap(),
        "--markdown",
        md.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("file_size_bytes 7 vs 4096"), "{stderr}");
    assert!(!md.exists(), "nothing written");
}

#[test]
fn outputs_never_overwrite_an_input() {
    // `compare` refuses to write over one of its inputs.
    let dir = tempfile::tempdir().unwrap();
    let a = write_report(dir.path(), "a.json", &busy_report("a"));
    let b = write_report(dir.path(), "b.json", &busy_report("b"));
    let before = std::fs::read(&b).unwrap();
    let via_dot = dir.path().join(".").join("b.json");
    for flag in ["--markdown", "--html"] {
        for target in [&b, &via_dot] {
            let o = crate::util::run(&[
                "compare",
                a.to_str().unwrap(),
                b.to_str().unwrap(),
                flag,
                target.to_str().unwrap(),
            ]);
            let stderr = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(2), "{stderr}");
            assert!(stderr.contains("refusing to overwrite"), "{stderr}");
            assert_eq!(std::fs::read(&b).unwrap(), before);
        }
    }
}

#[test]
fn colours_follow_the_verdict_not_the_label() {
    // A report labelled `higher-end-mac` rendered red.
    let a = busy_report("higher-end-mac");
    let b = busy_report("same-old-box");
    let c = pair(a, b);
    assert!(!c.differs());
    let page = unlink_race::export::html::render_comparison(&c);
    assert!(!page.contains("class=\"bad\""), "no difference, no red");
    assert!(
        !page.contains("class=\"good\""),
        "nothing shown the same, no green"
    );
    // And a real difference is red, whatever the label says.
    let clean = ReportBuilder::new("same-old-box")
        .scenario(1, MILLION, 1000.0, &[])
        .build();
    let defect = ReportBuilder::new("lower-end")
        .scenario(1, MILLION, 1000.0, &[(Class::ZombieFd, 50)])
        .build();
    let page = unlink_race::export::html::render_comparison(&pair(clean, defect));
    assert!(
        page.contains("<td class=\"bad\">lower-end higher: zombie_fd"),
        "{page}"
    );
}

#[test]
fn the_index_says_which_report_is_higher_against_which_baseline() {
    use unlink_race::export::html::{VerdictColumn, render_index_with};
    let clean = ReportBuilder::new("linux")
        .scenario(1, MILLION, 1000.0, &[])
        .build();
    let defect = ReportBuilder::new("mac")
        .scenario(1, MILLION, 1000.0, &[(Class::ZombieFd, 50)])
        .build();
    let c = pair(clean.clone(), defect.clone());
    let reports = vec![
        ("a.json".to_string(), clean),
        ("b.json".to_string(), defect),
    ];
    let page = render_index_with(&reports, &[&VerdictColumn { comparison: &c }]);
    assert!(page.contains("verdict vs linux"), "{page}");
    assert!(
        page.contains("<td class=\"bad\">mac higher than linux: zombie_fd ×∞ [95%: 13–∞]</td>"),
        "{page}"
    );
}

/// A scenario the baseline did not run is compared with the first report
/// that did, and the column's header says so; the header names the baseline,
/// not whichever report came first.
#[test]
fn the_index_header_names_the_reference_of_a_scenario_the_baseline_lacks() {
    use unlink_race::export::html::{VerdictColumn, render_index_with};
    let base = ReportBuilder::new("base")
        .scenario(1, MILLION, 1000.0, &[])
        .build();
    let other = |label: &str, zombies: u64| {
        ReportBuilder::new(label)
            .scenario(1, MILLION, 1000.0, &[])
            .scenario(2, MILLION, 1000.0, &[(Class::ZombieFd, zombies)])
            .build()
    };
    let files = |reports: &[&Report]| -> Vec<(PathBuf, Report)> {
        reports
            .iter()
            .enumerate()
            .map(|(i, r)| (PathBuf::from(format!("{i}.json")), (*r).clone()))
            .collect()
    };
    let (b, c) = (other("b", 0), other("c", 50));
    let render = |comparison: &Comparison, reports: Vec<(PathBuf, Report)>| {
        let reports: Vec<(String, Report)> = reports
            .into_iter()
            .map(|(p, r)| (p.display().to_string(), r))
            .collect();
        render_index_with(&reports, &[&VerdictColumn { comparison }])
    };

    let three = files(&[&base, &b, &c]);
    let page = render(&compare(three.clone(), 0, Rules::default()), three);
    assert!(
        page.contains("verdict vs base (or the first report that ran the scenario)"),
        "{page}"
    );
    assert!(page.contains("c higher than b: zombie_fd"), "{page}");

    let two = files(&[&b, &c]);
    let page = render(&compare(two.clone(), 1, Rules::default()), two);
    assert!(page.contains("<th>verdict vs c</th>"), "{page}");
}

/// Rates per raced open are compared where both reports counted
/// raced opens, with the per-cycle machinery, but the verdicts stay per cycle.
#[test]
fn rates_per_raced_open_are_compared_beside_the_rates_per_cycle() {
    // Per cycle b sees more zombies (30 against 7 in a million cycles), but
    // it raced twenty times as many opens: per raced open it sees fewer.
    let a = ReportBuilder::new("slow")
        .scenario(1, MILLION, 1000.0, &[(Class::ZombieFd, 7)])
        .raced_opens(10_000)
        .build();
    let b = ReportBuilder::new("fast")
        .scenario(1, MILLION, 1000.0, &[(Class::ZombieFd, 30)])
        .raced_opens(200_000)
        .build();
    let c = pair(a, b);
    assert!(c.lacking().is_empty());
    let s = &c.scenarios[0];
    let run = |r: usize| s.runs[r].as_ref().unwrap();
    assert_eq!(
        (run(0).raced_opens, run(1).raced_opens),
        (Some(10_000), Some(200_000))
    );
    let zombie = s
        .classes
        .iter()
        .find(|k| k.class == Class::ZombieFd)
        .unwrap();
    assert_eq!(zombie.tests[1].unwrap().verdict, Verdict::Higher);
    let raced = zombie.per_raced_open.tests[1].unwrap();
    assert_eq!(
        raced.rates,
        unlink_race::stats::compare_rates(7, 10_000, 30, 200_000, 2.0, 0.05)
    );
    assert_eq!(raced.verdict, Verdict::Lower);
    assert_eq!(zombie.per_raced_open.counts[1].unwrap().cycles, 200_000);
    assert!(zombie.per_raced_open.tests[0].is_none());
    // The scenario's verdict, and so the exit code, is per cycle.
    assert_eq!(s.verdict(), Some(Verdict::Higher));
    assert!(c.differs());
    // Its own Holm family: one difference test, one equivalence test.
    assert_eq!(c.raced_tests, (1, 1));

    let text = render_terminal(&c);
    assert!(text.contains("10,000 raced opens (1.00%"), "{text}");
    assert!(text.contains("200,000 raced opens (20.00%"), "{text}");
    assert!(text.contains("pace sleep"), "{text}");
    let lines: Vec<&str> = text.lines().collect();
    let head = lines
        .iter()
        .position(|l| l.trim() == "zombie_fd per raced open")
        .unwrap_or_else(|| panic!("{text}"));
    assert!(lines[head + 1].trim_start().starts_with("slow "), "{text}");
    assert!(
        lines[head + 2].trim_start().starts_with("fast ") && lines[head + 2].ends_with("lower"),
        "{text}"
    );
    assert!(!text.contains("older unlink-race"), "{text}");
    for line in &lines {
        assert!(line.chars().count() <= 100, "{line}");
    }
    let md = render_markdown(&c);
    assert_pipe_tables(&md);
    assert!(md.contains("| zombie_fd per raced open | slow |"), "{md}");

    // A difference per raced open alone leaves the exit code at 0: 20 zombies
    // in a million cycles each, in 1,000 against 100,000 raced opens.
    let dir = tempfile::tempdir().unwrap();
    let a = ReportBuilder::new("a")
        .scenario(1, MILLION, 1000.0, &[(Class::ZombieFd, 20)])
        .raced_opens(1_000)
        .build();
    let b = ReportBuilder::new("b")
        .scenario(1, MILLION, 1000.0, &[(Class::ZombieFd, 20)])
        .raced_opens(100_000)
        .build();
    let c = pair(a.clone(), b.clone());
    let zombie = &c.scenarios[0].classes[0];
    assert_eq!(
        zombie.per_raced_open.tests[1].unwrap().verdict,
        Verdict::Lower
    );
    assert!(!c.differs());
    let (pa, pb) = (
        write_report(dir.path(), "a.json", &a),
        write_report(dir.path(), "b.json", &b),
    );
    let o = crate::util::run(&["compare", pa.to_str().unwrap(), pb.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("zombie_fd per raced open"), "{stdout}");
}

/// Rates per overlapped open are compared too, in a Holm family of their
/// own, where both reports counted overlapped opens; the runs' lines name
/// them, and the verdicts stay per cycle.
#[test]
fn rates_per_overlapped_open_are_compared_where_both_counted_them() {
    // Per raced open the two see the same; per overlapped open b sees fewer:
    // it overlapped ten times as many of its raced opens.
    let a = ReportBuilder::new("slow")
        .scenario(1, MILLION, 1000.0, &[(Class::ZombieFd, 30)])
        .raced_opens(100_000)
        .overlapped_opens(2_000)
        .build();
    let b = ReportBuilder::new("fast")
        .scenario(1, MILLION, 1000.0, &[(Class::ZombieFd, 30)])
        .raced_opens(100_000)
        .overlapped_opens(20_000)
        .build();
    let c = pair(a.clone(), b);
    let s = &c.scenarios[0];
    assert_eq!(s.runs[1].as_ref().unwrap().overlapped_opens, Some(20_000));
    let zombie = s
        .classes
        .iter()
        .find(|k| k.class == Class::ZombieFd)
        .unwrap();
    assert_eq!(
        zombie.per_raced_open.tests[1].unwrap().verdict,
        Verdict::Same
    );
    let overlapped = zombie.per_overlapped_open.tests[1].unwrap();
    assert_eq!(
        overlapped.rates,
        unlink_race::stats::compare_rates(30, 2_000, 30, 20_000, 2.0, 0.05)
    );
    assert_eq!(overlapped.verdict, Verdict::Lower);
    assert_eq!(c.overlapped_tests, (1, 1));
    assert!(!c.differs(), "the verdict is per cycle");
    let text = render_terminal(&c);
    assert!(text.contains("zombie_fd per overlapped open"), "{text}");
    assert!(text.contains("20,000 overlapped ("), "{text}");
    let md = render_markdown(&c);
    assert_pipe_tables(&md);
    assert!(
        md.contains("| zombie_fd per overlapped open | slow |"),
        "{md}"
    );
    // One report without the count (older, or worker processes): not compared.
    let older = ReportBuilder::new("older")
        .scenario(1, MILLION, 1000.0, &[(Class::ZombieFd, 30)])
        .raced_opens(100_000)
        .build();
    let c = pair(a, older);
    let zombie = &c.scenarios[0].classes[0];
    assert!(!zombie.per_overlapped_open.compared());
    assert_eq!(c.overlapped_tests, (0, 0));
    assert!(!render_terminal(&c).contains("per overlapped open"));
}

/// A committed report written before raced opens were counted (the macOS
/// fixture) and the same report with raced opens: the one that lacks them is
/// named once, with the figures it lacks, and the per-cycle comparison and
/// the exit code are what they were.
#[test]
fn an_older_report_is_named_once_and_still_compared_per_cycle() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/report-bench-macos-anomalies.json");
    let old = unlink_race::report::load::load_report(&path).unwrap();
    assert!(
        old.scenarios.iter().all(|s| s.raced_opens.is_none()),
        "the fixture predates the raced-open count"
    );
    let mut new = old.clone();
    new.label = "counted".into();
    for s in &mut new.scenarios {
        // Every zombie was a raced open, and more opens raced.
        let zombies = s.classes[&Class::ZombieFd].count;
        crate::fixtures::count_raced_opens(s, zombies * 3 + 10);
    }
    let dir = tempfile::tempdir().unwrap();
    let old_path = write_report(dir.path(), "old.json", &old);
    let new_path = write_report(dir.path(), "new.json", &new);

    let with_old = compare(
        vec![(old_path.clone(), old.clone()), (new_path.clone(), new)],
        0,
        Rules::default(),
    );
    let lacking = with_old.lacking();
    assert_eq!(lacking.len(), 1, "{lacking:?}");
    assert_eq!((lacking[0].report, lacking[0].scenarios), (0, 48));
    // Nothing compared per raced open, everything per cycle as before.
    let itself = compare(
        vec![(old_path.clone(), old.clone()), (old_path.clone(), old)],
        0,
        Rules::default(),
    );
    assert_eq!(itself.lacking().len(), 2);
    for (s, t) in with_old.scenarios.iter().zip(&itself.scenarios) {
        for (k, l) in s.classes.iter().zip(&t.classes) {
            assert!(!k.per_raced_open.compared(), "{} {}", s.name, k.class);
            assert_eq!(k.tests, l.tests, "{} {}", s.name, k.class);
        }
    }
    assert_eq!(with_old.raced_tests, (0, 0));
    assert_eq!(with_old.differs(), itself.differs());

    let md_path = dir.path().join("c.md");
    let html_path = dir.path().join("c.html");
    let o = crate::util::run(&[
        "compare",
        old_path.to_str().unwrap(),
        new_path.to_str().unwrap(),
        "--markdown",
        md_path.to_str().unwrap(),
        "--html",
        html_path.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    let itself = crate::util::run(&[
        "compare",
        old_path.to_str().unwrap(),
        old_path.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), itself.status.code(), "{stdout}");
    assert_eq!(o.status.code(), Some(0), "{stdout}");
    let line = format!(
        "{}: no raced-open counts (report from an older unlink-race): raced opens, raced \
         opens/s and rates per raced open are missing; per-raced-open rates not compared",
        old_path.display()
    );
    // Wrapped to 100 columns in the terminal: compare without line breaks.
    let flat = stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert_eq!(flat.matches(&line).count(), 1, "{stdout}");
    assert!(!flat.contains("new.json: no raced-open counts"), "{stdout}");
    assert!(!stdout.contains("per raced open\n"), "{stdout}");
    assert!(stdout.contains("raced opens not counted"), "{stdout}");
    let md = std::fs::read_to_string(&md_path).unwrap();
    assert_eq!(md.matches(&line).count(), 1, "{md}");
    let page = std::fs::read_to_string(&html_path).unwrap();
    assert_eq!(page.matches(&line).count(), 1);

    // A difference per cycle still exits 1 when a report lacks raced opens.
    let clean = ReportBuilder::new("linux")
        .scenario(1, MILLION, 1000.0, &[])
        .build();
    let defect = ReportBuilder::new("mac")
        .scenario(1, MILLION, 1000.0, &[(Class::ZombieFd, 50)])
        .raced_opens(5_000)
        .build();
    let (pa, pb) = (
        write_report(dir.path(), "clean.json", &clean),
        write_report(dir.path(), "defect.json", &defect),
    );
    let o = crate::util::run(&["compare", pa.to_str().unwrap(), pb.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("clean.json: no raced-open counts"),
        "{stdout}"
    );
    assert!(stdout.contains("5,000 raced opens"), "{stdout}");
}

/// The page's box is green only where every compared scenario was
/// shown the same; where nothing could be tested (0 in 10⁶ cycles against 0
/// in 10) it is neutral, never a pass, and one difference is "1 scenario
/// differs".
#[test]
fn the_compare_box_is_green_only_for_sameness() {
    use unlink_race::export::html::render_comparison;
    let clean = |label, cycles| {
        ReportBuilder::new(label)
            .scenario(1, cycles, 1000.0, &[])
            .build()
    };
    let page = render_comparison(&pair(clean("a", MILLION), clean("b", 10)));
    assert!(
        page.contains("<div class=\"verdict neutral\">")
            && page.contains("nothing could be tested: no anomaly in any run"),
        "{page}"
    );
    assert!(!page.contains("verdict pass") && !page.contains("no scenario differs"));
    // Events, but none decided either way: neutral.
    let page = render_comparison(&pair(busy_report("a"), busy_report("b")));
    assert!(
        page.contains("verdict neutral")
            && page.contains("no difference shown: 3 of 3 scenarios inconclusive"),
        "{page}"
    );
    // Enough events to show the rates the same: green.
    let many = |label| {
        ReportBuilder::new(label)
            .scenario(1, MILLION, 1000.0, &[(Class::ZombieFd, 1000)])
            .build()
    };
    let page = render_comparison(&pair(many("a"), many("b")));
    assert!(
        page.contains("verdict pass")
            && page.contains("no scenario differs: the one compared is shown the same"),
        "{page}"
    );
    // One scenario differs: red, in the singular.
    let defect = ReportBuilder::new("b")
        .scenario(1, MILLION, 1000.0, &[(Class::ZombieFd, 50)])
        .build();
    let page = render_comparison(&pair(clean("a", MILLION), defect));
    assert!(
        page.contains("verdict fail") && page.contains(">1 scenario differs<"),
        "{page}"
    );
}

/// A scenario is `same` when every class seen in either report is
/// shown the same and the others were seen in neither (they cannot tell
/// anything either way); a class seen on one side only, or nothing seen at
/// all, leaves it inconclusive.
#[test]
fn a_scenario_is_the_same_when_its_seen_classes_are() {
    let report = |label, zombies, einval| {
        ReportBuilder::new(label)
            .scenario(
                1,
                MILLION,
                1000.0,
                &[(Class::ZombieFd, zombies), (Class::WriteEinval, einval)],
            )
            .build()
    };
    let c = pair(report("a", 1000, 0), report("b", 1010, 0));
    let s = &c.scenarios[0];
    assert_eq!(s.verdict(), Some(Verdict::Same));
    assert_eq!(s.verdict_for(1), Some(Verdict::Same));
    let unseen = s.classes.len() - 1;
    for k in s.classes.iter().filter(|k| k.class != Class::ZombieFd) {
        assert_eq!(k.tests[1].unwrap().verdict, Verdict::Inconclusive);
    }
    let text = render_terminal(&c);
    assert!(
        text.contains(&format!(
            "same: zombie_fd ×1.0 [90%: 0.94–1.1]; {unseen} classes seen in neither"
        )),
        "{text}"
    );
    // A class seen on one side only: not the same.
    let c = pair(report("a", 1000, 0), report("b", 1010, 2));
    assert_eq!(c.scenarios[0].verdict(), Some(Verdict::Inconclusive));
    // Nothing seen at all: inconclusive, never the same.
    let c = pair(report("a", 0, 0), report("b", 0, 0));
    assert_eq!(c.scenarios[0].verdict(), Some(Verdict::Inconclusive));
    // The zombiefs reference against itself: the scenarios whose seen
    // classes are all the same now say so (an audit found 0 of 48).
    let (path, zombiefs) = committed_reports()
        .into_iter()
        .find(|(p, _)| p.ends_with("linux-12-fuse.zombiefs-vm.json"))
        .unwrap();
    let c = compare(
        vec![(path.clone(), zombiefs.clone()), (path, zombiefs)],
        0,
        Rules::default(),
    );
    let mut same = 0;
    for s in &c.scenarios {
        let tests: Vec<_> = s.classes.iter().map(|k| k.tests[1].unwrap()).collect();
        let seen_same = tests
            .iter()
            .filter(|t| t.rates.events() > 0)
            .all(|t| t.verdict == Verdict::Same);
        let any_seen = tests.iter().any(|t| t.rates.events() > 0);
        let want = if seen_same && any_seen {
            Verdict::Same
        } else {
            Verdict::Inconclusive
        };
        assert_eq!(s.verdict(), Some(want), "{}", s.name);
        same += usize::from(want == Verdict::Same);
    }
    assert!(
        same >= 10,
        "{same} of {} scenarios the same",
        c.scenarios.len()
    );
}

/// Every level shown follows `--alpha`: the intervals at 1 − α,
/// the equivalence intervals at 1 − 2α (at 0.05 they stayed 95% and 90%).
#[test]
fn shown_levels_follow_alpha() {
    let report = |label, zombies| {
        ReportBuilder::new(label)
            .scenario(1, MILLION, 1000.0, &[(Class::ZombieFd, zombies)])
            .build()
    };
    let at = |alpha| Rules {
        alpha,
        ..Rules::default()
    };
    // 14 against 14 at α = 0.1: the same, on the 80% interval.
    let c = pair_with(report("a", 14), report("b", 14), at(0.1));
    let zombie = c.scenarios[0]
        .classes
        .iter()
        .find(|k| k.class == Class::ZombieFd);
    assert_eq!(zombie.unwrap().tests[1].unwrap().verdict, Verdict::Same);
    let text = render_terminal(&c);
    assert!(
        text.contains("ratio [90% CI]")
            && text.contains("(80% interval)")
            && text.contains("same: zombie_fd ×1.0 [80%: 0.57–1.7]")
            && !text.contains("95%"),
        "{text}"
    );
    // 20 against 38 at α = 0.01: inconclusive, beside a 99% interval that
    // holds 1 (the 95% one, shown before, excluded it).
    let c = pair_with(report("a", 20), report("b", 38), at(0.01));
    assert_eq!(c.scenarios[0].verdict(), Some(Verdict::Inconclusive));
    let text = render_terminal(&c);
    assert!(
        text.contains("inconclusive: zombie_fd ×1.9 [99%: 0.92–4.2]") && !text.contains("95%"),
        "{text}"
    );
    let page = unlink_race::export::html::render_comparison(&c);
    assert!(
        page.contains("two-sided 99% intervals") && page.contains("ratio&#39;s 98% interval"),
        "{page}"
    );
    let md = render_markdown(&c);
    assert!(md.contains("rate [99% CI]") && !md.contains("95%"), "{md}");
}

/// The cycles a 2× difference would need are the fewest that
/// give the difference test 80% power (exactly), rounded up: 10 against 10
/// events in 810,000 cycles each need 2,016,6xx per run, 2.41e6 more in
/// all, shown as 2,500,000 (to nearest, 2,400,000 would fall short).
#[test]
fn the_power_sentence_rounds_up() {
    let report = |label| {
        ReportBuilder::new(label)
            .scenario(1, 810_000, 1000.0, &[(Class::ZombieFd, 10)])
            .build()
    };
    let text = render_terminal(&pair(report("a"), report("b")));
    assert!(
        text.contains(
            "about 2,500,000 more cycles would be needed to tell a 2× difference with 80% power"
        ),
        "{text}"
    );
}

/// An interval that excludes 1 beside an `inconclusive` says why:
/// 10 against 25 events (p = 0.0167) is significant alone, not after Holm
/// over three tests.
#[test]
fn an_interval_that_excludes_one_says_why_the_verdict_does_not() {
    let report = |label, zombies| {
        ReportBuilder::new(label)
            .scenario(1, MILLION, 1000.0, &[(Class::ZombieFd, zombies)])
            .scenario(2, MILLION, 1000.0, &[(Class::ZombieFd, 5)])
            .scenario(4, MILLION, 1000.0, &[(Class::ZombieFd, 5)])
            .build()
    };
    let c = pair(report("a", 10), report("b", 25));
    assert_eq!(c.tests, 3);
    let t = c.scenarios[0].classes[0].tests[1].unwrap();
    assert!(t.rates.p_value < 0.05 && t.rates.ratio_low > 1.0);
    assert_eq!(t.verdict, Verdict::Inconclusive);
    let notes = &unlink_race::export::compare_table::scenario_blocks(&c, false)[0].notes;
    assert!(
        notes[0].starts_with("zombie_fd in b: inconclusive: ratio 2.5 [95%: 1.2–5.8]; about")
            && notes[0].ends_with(
                "; its 95% interval excludes 1, but not after Holm's adjustment over 3 tests \
                 (p = 0.050)"
            ),
        "{notes:?}"
    );
    // Alone, the same counts differ, and nothing needs saying.
    let alone = |label, zombies| {
        ReportBuilder::new(label)
            .scenario(1, MILLION, 1000.0, &[(Class::ZombieFd, zombies)])
            .build()
    };
    let c = pair(alone("a", 10), alone("b", 25));
    assert!(c.differs() && !render_terminal(&c).contains("Holm's adjustment over"));
}
