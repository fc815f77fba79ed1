//! The create race: creators released together each round all
//! `openat(O_CREAT…)` one fresh name. On a Linux filesystem every create
//! succeeds (or, with `O_EXCL`, exactly one a round), `racing_creates` never
//! exceeds the create calls, and the scratch directory is left empty; the
//! real binary runs it and reports it; its flags are checked.
//!
//! Where no tmpfs can be mounted the tests race in the system temp dir; on a
//! Mac that filesystem may have the defect, so there anomalies are accepted
//! and their classification is checked instead of their absence.

use std::ops::ControlFlow;

use unlink_race::harness::{BatchLimit, Harness, HarnessOptions, Tally};
use unlink_race::outcome::{Class, is_expected};
use unlink_race::scenario::{CreateFlags, Scenario, Workers};

use crate::util::{assert_classified, entries, load, out_path, race_dir, run};

fn count(t: &Tally, c: Class) -> u64 {
    t.counts[c.index()]
}

/// Runs `s` for `cycles` create calls in `dir`.
fn race(s: &Scenario, dir: &std::path::Path, cycles: u64) -> Tally {
    let mut h = Harness::start(s, dir, HarnessOptions::default()).unwrap();
    let limit = BatchLimit {
        cycles: Some(cycles),
        ..BatchLimit::default()
    };
    h.run_batch(&limit, &mut |_| ControlFlow::Continue(()))
        .unwrap();
    h.finish()
}

#[test]
fn every_create_of_a_round_is_answered_and_o_excl_has_one_winner() {
    let fs = race_dir("size=16m");
    for workers in [Workers::Threads, Workers::Processes] {
        for flags in CreateFlags::ALL {
            let s = Scenario {
                workers,
                ..Scenario::create(3, *flags)
            };
            let name = s.name();
            let t = race(&s, fs.path(), 600);
            // Whole rounds: every creator calls once a round.
            assert!(t.cycles >= 600 && t.cycles % 3 == 0, "{name}: {t:?}");
            let rounds = t.cycles / 3;
            assert!(t.racing_creates <= t.cycles, "{name}: {t:?}");
            assert_eq!(t.raced_opens, 0, "{name}: no open races an unlink");
            assert!(
                t.scratch_left.is_none(),
                "{name}: left {:?}",
                t.scratch_left
            );
            let anomalies: u64 = Class::ALL
                .iter()
                .filter(|&&c| !is_expected(c, &s))
                .map(|&c| count(&t, c))
                .sum();
            assert_eq!(t.anomalies, anomalies, "{name}: {:?}", t.counts);
            if fs.may_have_anomalies() {
                continue;
            }
            assert_eq!(t.anomalies, 0, "{name}: {:?}", t.counts);
            if flags.exclusive() {
                assert_eq!(
                    count(&t, Class::Created),
                    rounds,
                    "{name}: one winner a round"
                );
                assert_eq!(count(&t, Class::CreateEexist), 2 * rounds, "{name}");
            } else {
                assert_eq!(count(&t, Class::Created), t.cycles, "{name}");
            }
        }
    }
    assert_eq!(
        entries(fs.path()),
        Vec::<String>::new(),
        "nothing left behind"
    );
}

/// An `EEXIST` without `O_EXCL`, two `O_EXCL` winners and a spurious
/// `ENOENT` are anomalies of their own; the control's loss is not.
#[test]
fn the_create_classes() {
    use unlink_race::outcome::{CreateRound, Observation, Op, Side, classify};
    use unlink_race::sys::{EEXIST, ENOENT};
    let round = |exclusive, winners, winners_before| CreateRound {
        exclusive,
        winners,
        winners_before,
    };
    let create = |errno, r| Observation {
        create_round: Some(r),
        ..Observation::failure(Side::Creator, Op::Create, errno)
    };
    let cases = [
        (create(0, round(false, 3, 2)), Class::Created),
        (create(0, round(true, 1, 0)), Class::Created),
        (create(0, round(true, 2, 1)), Class::ExclExtraWinner),
        (create(EEXIST, round(true, 1, 0)), Class::CreateEexist),
        (create(EEXIST, round(true, 0, 0)), Class::UnexpectedErrno),
        (create(EEXIST, round(false, 2, 1)), Class::EexistWithoutExcl),
        (
            create(ENOENT, round(false, 2, 0)),
            Class::SpuriousEnoentOnCreate,
        ),
        (
            create(ENOENT, round(true, 1, 0)),
            Class::SpuriousEnoentOnCreate,
        ),
        // A reader's recreate carries no round: never O_EXCL.
        (
            Observation::failure(Side::Reader, Op::Create, EEXIST),
            Class::EexistWithoutExcl,
        ),
    ];
    for (obs, want) in cases {
        assert_eq!(classify(&obs), want, "{obs:?}");
    }
    let s = Scenario::create(4, CreateFlags::Creat);
    for c in [Class::Created, Class::CreateEexist] {
        assert!(is_expected(c, &s) && c.is_normal(), "{c}");
    }
    for c in [
        Class::EexistWithoutExcl,
        Class::ExclExtraWinner,
        Class::SpuriousEnoentOnCreate,
        Class::EmptyRead,
    ] {
        assert!(!is_expected(c, &s), "{c}");
    }
}

#[test]
fn the_cli_runs_a_create_race_and_reports_its_racing_creates() {
    let fs = race_dir("size=16m");
    let out = tempfile::tempdir().unwrap();
    let json = out_path(out.path(), "c.json");
    let r = run(&[
        "run",
        "--race",
        "create",
        "--creators",
        "3",
        "--create-flags",
        "creat-excl",
        "--cycles",
        "300",
        "--dir",
        fs.path().to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&r.stdout);
    let code = r.status.code();
    assert!(
        code == Some(0) || (code == Some(1) && fs.may_have_anomalies()),
        "{code:?}: {}",
        String::from_utf8_lossy(&r.stderr)
    );
    assert!(stdout.contains("racing creates"), "{stdout}");
    let report = load(&json);
    assert_classified(&report);
    let s = &report["scenarios"][0];
    assert_eq!(s["name"], "create-c3-creat_excl-7B-threads");
    assert_eq!(s["config"]["race"], "create");
    assert_eq!(s["config"]["creators"], 3);
    assert_eq!(s["config"]["create_flags"], "creat_excl");
    assert!(s["racing_creates"].as_u64() <= s["cycles"].as_u64());
    assert!(s["racing_creates_per_second"].is_number());
    assert!(
        s["command"]
            .as_str()
            .unwrap()
            .contains("--race create --creators 3 --create-flags creat-excl"),
        "{}",
        s["command"]
    );
    if !fs.may_have_anomalies() {
        assert_eq!(s["classes"]["create_eexist"]["count"], 200);
        assert_eq!(s["classes"]["created"]["count"], 100);
        // The create classes' second rate is per racing create.
        let spurious = &s["classes"]["spurious_enoent_on_create"];
        assert!(spurious["per_racing_create"].is_object(), "{spurious}");
        assert!(spurious.get("per_raced_open").is_none(), "{spurious}");
    }
    // An open/unlink scenario keeps its name, and so its match in compare.
    let old = out_path(out.path(), "o.json");
    let r = run(&[
        "run",
        "--cycles",
        "200",
        "--pace",
        "sleep",
        "--dir",
        fs.path().to_str().unwrap(),
        "--json",
        old.to_str().unwrap(),
    ]);
    assert!(r.status.code() == Some(0) || fs.may_have_anomalies());
    let report = load(&old);
    assert_eq!(
        report["scenarios"][0]["name"],
        "r1-d1-7B-inplace-unlink-threads"
    );
    assert!(report["scenarios"][0]["config"].get("race").is_none());
}

#[test]
fn flags_of_the_other_race_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    for (args, names) in [
        (
            vec!["--race", "create", "--readers", "2"],
            vec!["--readers", "--race create"],
        ),
        (
            vec!["--race", "create", "--pace", "spin"],
            vec!["--pace", "--race create"],
        ),
        (vec!["--creators", "4"], vec!["--creators", "--race create"]),
        (vec!["--create-flags", "creat-excl"], vec!["--create-flags"]),
        (
            vec!["--race", "create", "--creators", "1"],
            vec!["creators", "1"],
        ),
        (vec!["--race", "rename"], vec!["rename"]),
        (
            vec!["--race", "create", "--create-flags", "excl"],
            vec!["excl"],
        ),
    ] {
        let mut all = vec!["run", "--cycles", "10", "--dir", d];
        all.extend_from_slice(&args);
        let out = run(&all);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: {stderr}");
        for n in names {
            assert!(stderr.contains(n), "{args:?}: {stderr}");
        }
    }
    assert_eq!(entries(dir.path()), Vec::<String>::new());
    // Both spellings of a name are accepted.
    let out = run(&[
        "run",
        "--race",
        "create",
        "--create-flags",
        "creat_trunc",
        "--creators",
        "2",
        "--cycles",
        "20",
        "--dir",
        d,
    ]);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A report from before the create race compares as it always
/// did, and `compare` names the figures it lacks; two reports with the
/// create family compare its classes per racing create too.
#[test]
fn compare_names_what_a_report_without_the_create_race_lacks() {
    use crate::fixtures::{ReportBuilder, write_report};
    let dir = tempfile::tempdir().unwrap();
    let seed = Scenario::default();
    let old = ReportBuilder::new("old")
        .scenario_of(&seed, 100_000, 1000.0, &[])
        .raced_opens(2_000)
        .build();
    let new = |label: &str, spurious: u64| {
        ReportBuilder::new(label)
            .scenario_of(&seed, 100_000, 1000.0, &[])
            .raced_opens(2_000)
            .racing_creates(40)
            .scenario_of(
                &Scenario::create(4, CreateFlags::Creat),
                40_000,
                20_000.0,
                &[
                    (Class::Created, 40_000 - spurious),
                    (Class::SpuriousEnoentOnCreate, spurious),
                ],
            )
            .racing_creates(8_000)
            .scenario_of(
                &Scenario::create(4, CreateFlags::CreatExcl),
                40_000,
                20_000.0,
                &[(Class::Created, 10_000), (Class::CreateEexist, 30_000)],
            )
            .racing_creates(8_000)
            .build()
    };
    let old_path = write_report(dir.path(), "old.json", &old);
    let new_path = write_report(dir.path(), "new.json", &new("mac", 600));
    let o = run(&[
        "compare",
        old_path.to_str().unwrap(),
        new_path.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    let flat = stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert_eq!(o.status.code(), Some(0), "{stdout}");
    for line in [
        format!(
            "{}: no create race (an older unlink-race, or a run without it): the create \
             family's 2 scenarios (racing creates, spurious_enoent_on_create per racing create, \
             the O_EXCL control) are only in the other reports, not compared",
            old_path.display()
        ),
        format!(
            "{}: no racing-create counts (report from an older unlink-race): racing creates \
             and rates per racing create are missing",
            old_path.display()
        ),
    ] {
        assert_eq!(flat.matches(&line).count(), 1, "{line}\n{stdout}");
    }
    assert!(!flat.contains("new.json: no create race"), "{stdout}");
    // Two reports with the family: per racing create, and the difference.
    let other = write_report(dir.path(), "other.json", &new("linux", 0));
    let o = run(&[
        "compare",
        other.to_str().unwrap(),
        new_path.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("spurious_enoent_on_create per racing create"),
        "{stdout}"
    );
    assert!(!stdout.contains("no create race"), "{stdout}");
}

/// The verdict of a report with the create family: the defect per racing
/// create with the creator count, the O_EXCL control beside it.
#[test]
fn the_verdict_names_the_defect_per_racing_create_beside_the_control() {
    use crate::fixtures::ReportBuilder;
    use unlink_race::export::summary::{report_verdict, summary};
    let r = ReportBuilder::new("mac")
        .scenario_of(
            &Scenario::create(8, CreateFlags::Creat),
            28_000,
            20_000.0,
            &[
                (Class::Created, 27_000),
                (Class::SpuriousEnoentOnCreate, 1_000),
            ],
        )
        .racing_creates(14_000)
        .scenario_of(
            &Scenario::create(8, CreateFlags::CreatExcl),
            8_000,
            20_000.0,
            &[(Class::Created, 1_000), (Class::CreateEexist, 7_000)],
        )
        .racing_creates(4_000)
        .build();
    let v = report_verdict(&r);
    assert!(
        v.contains("spurious ENOENT in 1 of 14 racing creates with 8 creators"),
        "{v}"
    );
    assert!(
        v.contains(
            "O_EXCL control (create-c8-creat_excl-7B-threads): one winner in each of its 1,000 \
             rounds, EEXIST for the others, no spurious ENOENT"
        ),
        "{v}"
    );
    assert!(v.contains("open without O_CREAT on EEXIST"), "{v}");
    let page = unlink_race::export::html::render_report(&r);
    assert!(
        page.contains("spurious ENOENT in 1 of 14 racing creates with 8 creators"),
        "the page's verdict"
    );
    // A report with the defect's flags alone says how to run the control.
    let alone = ReportBuilder::new("mac")
        .scenario_of(
            &Scenario::create(4, CreateFlags::Creat),
            4_000,
            20_000.0,
            &[(Class::Created, 4_000)],
        )
        .racing_creates(0)
        .build();
    let text = summary(&alone);
    assert!(
        text.contains("O_EXCL control: not in this report (run it with --create-flags creat-excl)"),
        "{text}"
    );
    assert!(text.contains("warning: no create raced another"), "{text}");
    assert!(text.contains("0 racing creates with 4 creators"), "{text}");
}

/// The terminal table leaves out, while nothing counted them, the classes a
/// scenario cannot produce: a creator's in an open/unlink race, a reader's
/// or deleter's in a create race, Windows's on another system; it names
/// them under the table. A class that counted something is listed whatever
/// it is, and a rate per racing create (raced open, overlapped open)
/// without one is not a bound of 1.
#[test]
fn the_terminal_table_leaves_out_classes_the_scenario_cannot_produce() {
    use crate::fixtures::ReportBuilder;
    use unlink_race::export::summary::summary;
    let rows = |text: &str| -> Vec<String> {
        let table = text.lines().skip_while(|l| !l.starts_with("class "));
        table
            .skip(1)
            .take_while(|l| !l.is_empty() && !l.starts_with('('))
            .filter_map(|l| l.split_whitespace().next().map(str::to_string))
            .collect()
    };
    let open = |os: &str, counts: &[(Class, u64)]| {
        let os = os.to_string();
        ReportBuilder::new("open")
            .machine(|m| m.os = os)
            .scenario(1, 10_000, 20_000.0, counts)
            .racing_creates(0)
            .build()
    };
    let text = summary(&open("linux", &[(Class::Ok, 10_000)]));
    let listed = rows(&text);
    for gone in [
        Class::Created,
        Class::CreateEexist,
        Class::ExclExtraWinner,
        Class::DeletePending,
        Class::SharingViolation,
    ] {
        assert!(!listed.iter().any(|r| r == gone.name()), "{text}");
    }
    assert!(
        text.contains(
            "(not listed: created, create_eexist, excl_extra_winner, delete_pending, \
             sharing_violation, which this scenario cannot produce here)"
        ),
        "{text}"
    );
    // Every other class has its row.
    assert_eq!(listed.len(), Class::ALL.len() - 5, "{text}");
    let line = text
        .lines()
        .find(|l| l.starts_with("spurious_enoent_on_create "))
        .expect("its row");
    assert!(line.contains("no racing create"), "{line}");
    // No raced or overlapped open: no rate per either, not a bound of 1.
    let zombie_row = |raced: u64, overlapped: u64| {
        let r = ReportBuilder::new("open")
            .scenario(1, 10_000, 20_000.0, &[(Class::Ok, 10_000)])
            .raced_opens(raced)
            .overlapped_opens(overlapped)
            .build();
        let text = summary(&r);
        let row = text.lines().find(|l| l.starts_with("zombie_fd "));
        row.expect("its row").to_string()
    };
    let line = zombie_row(0, 0);
    assert!(
        line.contains("no raced open") && line.contains("no overlapped open"),
        "{line}"
    );
    let line = zombie_row(100, 50);
    assert!(!line.contains("no "), "{line}");
    // On Windows its classes are listed; a class counted is listed anywhere.
    let text = summary(&open("windows", &[(Class::Ok, 10_000)]));
    assert!(rows(&text).iter().any(|r| r == "delete_pending"), "{text}");
    let text = summary(&open("linux", &[(Class::Ok, 9_999), (Class::Created, 1)]));
    assert!(rows(&text).iter().any(|r| r == "created"), "{text}");
    // A create race: no reader's or deleter's classes.
    let r = ReportBuilder::new("create")
        .scenario_of(
            &Scenario::create(4, CreateFlags::Creat),
            4_000,
            20_000.0,
            &[(Class::Created, 4_000)],
        )
        .racing_creates(100)
        .build();
    let text = summary(&r);
    let listed = rows(&text);
    for gone in [Class::EnoentOnOpen, Class::Recreated, Class::Removed] {
        assert!(!listed.iter().any(|r| r == gone.name()), "{text}");
    }
    assert!(listed.iter().any(|r| r == "created"), "{text}");
}
