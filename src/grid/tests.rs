//! The grid each set of settings chooses, and the settings it refuses.

use super::*;
use std::collections::HashMap;

fn cfg(vars: &[(&str, &str)]) -> Result<GridConfig, GridError> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    GridConfig::from_vars(|k| map.get(k).cloned())
}

#[test]
fn default_grid() {
    let s = cfg(&[]).unwrap().scenarios();
    // The create family first: 4 creator counts x 2 flags with threads,
    // and processes at 4 creators with `creat`.
    let create = 4 * 2 + 1;
    assert!(s[..create].iter().all(|s| s.race == Race::Create));
    assert_eq!(s[0].name(), "create-c2-creat-7B-threads");
    assert!(s.iter().any(|s| s.name() == "create-c4-creat-7B-processes"));
    assert!(
        s.iter()
            .any(|s| s.name() == "create-c16-creat_excl-7B-threads")
    );
    // Then 4 thread counts x 3 sizes x 2 recreate with unlink, plus trash
    // and replace (and on Windows posix) at 2 thread counts x 3 sizes x
    // 2 recreate.
    let extra_deletes = if cfg!(windows) { 3 } else { 2 };
    assert_eq!(s.len(), create + 4 * 3 * 2 + extra_deletes * 2 * 3 * 2);
    assert_eq!(
        s.iter().any(|s| s.delete == Delete::Posix),
        cfg!(windows),
        "posix is Windows's"
    );
    assert!(s.iter().all(|s| s.validate().is_ok()));
    let unique: std::collections::HashSet<_> = s.iter().map(|s| s.name()).collect();
    assert_eq!(unique.len(), s.len());
    // Criterion ids are unique too.
    let ids: std::collections::HashSet<_> = s
        .iter()
        .map(|s| (group_name("fs", s), bench_id(s)))
        .collect();
    assert_eq!(ids.len(), s.len());
}

#[test]
fn quick_grid_runs_a_create_race_first() {
    let s = cfg(&[("UNLINK_RACE_QUICK", "1")]).unwrap().scenarios();
    assert_eq!(s[0].name(), "create-c4-creat-7B-threads");
    assert_eq!(s[1].name(), "create-c4-creat_excl-7B-threads");
    assert!(s[2..].iter().all(|s| s.race == Race::OpenUnlink));
    assert_eq!(s.len(), 2 + 8);
}

#[test]
fn create_settings() {
    let c = cfg(&[
        ("UNLINK_RACE_RACE", "create"),
        ("UNLINK_RACE_CREATORS", "2,8"),
        ("UNLINK_RACE_CREATE_FLAGS", "creat-trunc,creat_excl"),
        ("UNLINK_RACE_CREATE_WORKERS", "processes"),
    ])
    .unwrap();
    let names: Vec<String> = c.scenarios().iter().map(|s| s.name()).collect();
    assert_eq!(
        names,
        [
            "create-c2-creat_trunc-7B-processes",
            "create-c8-creat_trunc-7B-processes",
            "create-c2-creat_excl-7B-processes",
            "create-c8-creat_excl-7B-processes",
        ]
    );
    let only_open_unlink = cfg(&[("UNLINK_RACE_RACE", "open-unlink")]).unwrap();
    assert!(
        only_open_unlink
            .scenarios()
            .iter()
            .all(|s| s.race == Race::OpenUnlink)
    );
}

#[test]
fn overrides() {
    let c = cfg(&[
        ("UNLINK_RACE_RACE", "open-unlink"),
        ("UNLINK_RACE_READERS", "2,4x1"),
        ("UNLINK_RACE_SIZES", "7,1K"),
        ("UNLINK_RACE_DELETE", "replace"),
    ])
    .unwrap();
    assert_eq!(c.threads, vec![(2, 2), (4, 1)]);
    assert_eq!(c.sizes, vec![7, 1024]);
    let s = c.scenarios();
    assert_eq!(s.len(), 2 * 2 * 2);
    assert!(s.iter().all(|s| s.delete == Delete::Replace));
}

#[test]
fn several_directories() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let list = format!("{},{}", a.path().display(), b.path().display());
    let c = cfg(&[("UNLINK_RACE_DIR", &list)]).unwrap();
    assert_eq!(c.dirs, vec![a.path().to_path_buf(), b.path().to_path_buf()]);
    let twice = format!("{},{}/.", a.path().display(), a.path().display());
    let e = cfg(&[("UNLINK_RACE_DIR", &twice)]).unwrap_err();
    assert!(e.to_string().contains("are the same"), "{e}");
    let one_missing = format!("{},/definitely/not/here", a.path().display());
    let e = cfg(&[("UNLINK_RACE_DIR", &one_missing)]).unwrap_err();
    assert!(e.reason.contains("/definitely/not/here"), "{e}");
}

#[test]
fn two_views_pair_each_directory_with_its_other_side() {
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let (a, b, c) = (
        a.path().display().to_string(),
        b.path().display().to_string(),
        c.path().display().to_string(),
    );
    let split = cfg(&[("UNLINK_RACE_DIR", &a), ("UNLINK_RACE_OTHER_SIDE", &b)]).unwrap();
    assert_eq!(split.views, Views::Split);
    assert_eq!(split.other_sides, vec![PathBuf::from(&b)]);
    let names: Vec<String> = split.scenarios().iter().map(Scenario::name).collect();
    assert!(names.iter().all(|n| n.ends_with("-split")), "{names:?}");
    // The create race runs in one view: left out by default, refused when asked.
    assert_eq!(split.races, vec![Race::OpenUnlink]);
    let e = cfg(&[
        ("UNLINK_RACE_DIR", &a),
        ("UNLINK_RACE_OTHER_SIDE", &b),
        ("UNLINK_RACE_RACE", "create"),
    ])
    .unwrap_err();
    assert_eq!(e.setting, Setting::Race);
    assert!(e.reason.contains("one view"), "{e}");
    // One other side per directory.
    let e = cfg(&[
        ("UNLINK_RACE_DIR", &format!("{a},{c}")),
        ("UNLINK_RACE_OTHER_SIDE", &b),
    ])
    .unwrap_err();
    assert_eq!(e.setting, Setting::OtherSide);
    assert!(e.reason.contains("1 paths for 2 directories"), "{e}");
    // Recreating deleters leave out `replace`, and refuse it when asked.
    let recreating = cfg(&[
        ("UNLINK_RACE_DIR", &a),
        ("UNLINK_RACE_OTHER_SIDE", &b),
        ("UNLINK_RACE_DELETERS_RECREATE", "1"),
    ])
    .unwrap();
    let s = recreating.scenarios();
    assert!(!s.is_empty() && s.iter().all(|s| s.delete != Delete::Replace));
    assert!(s.iter().all(|s| s.name().ends_with("-split-recreating")));
    let e = cfg(&[
        ("UNLINK_RACE_DIR", &a),
        ("UNLINK_RACE_OTHER_SIDE", &b),
        ("UNLINK_RACE_DELETERS_RECREATE", "1"),
        ("UNLINK_RACE_DELETE", "replace"),
    ])
    .unwrap_err();
    assert_eq!(e.setting, Setting::Delete);
    let e = cfg(&[
        ("UNLINK_RACE_ZOMBIEFS", "1"),
        ("UNLINK_RACE_OTHER_SIDE", &b),
    ])
    .unwrap_err();
    assert_eq!(e.setting, Setting::OtherSide);
    // Tags and labels say which views, so that no report replaces another.
    let t = survey_targets(&[PathBuf::from(&a)], &[PathBuf::from(&b)]);
    assert_eq!(t[0].tag, format!("{0}-split-{0}", t[0].fs_type));
}

#[test]
fn bad_values_name_the_variable() {
    for (k, v) in [
        ("UNLINK_RACE_READERS", "0"),
        ("UNLINK_RACE_READERS", "two"),
        ("UNLINK_RACE_READERS", "1,,2"),
        ("UNLINK_RACE_SIZES", "0"),
        ("UNLINK_RACE_SIZES", "100M"),
        ("UNLINK_RACE_RECREATE", "copy"),
        ("UNLINK_RACE_DELETE", "shred"),
        ("UNLINK_RACE_QUICK", "maybe"),
        ("UNLINK_RACE_OVERHEAD", "2"),
        ("UNLINK_RACE_PRESSURE", "on"),
        ("UNLINK_RACE_PACE", "fast"),
        ("UNLINK_RACE_LATENCY", "sometimes"),
        ("UNLINK_RACE_RACE", "rename"),
        ("UNLINK_RACE_RACE", "create,create"),
        ("UNLINK_RACE_CREATORS", "1"),
        ("UNLINK_RACE_CREATORS", "many"),
        ("UNLINK_RACE_CREATE_FLAGS", "excl"),
        ("UNLINK_RACE_CREATE_WORKERS", "fibers"),
        ("UNLINK_RACE_DIR", "/definitely/not/here"),
        ("UNLINK_RACE_LABEL", " "),
        ("UNLINK_RACE_DELETERS_RECREATE", "1"),
        ("UNLINK_RACE_OTHER_SIDE", "/definitely/not/here"),
    ] {
        let e = cfg(&[(k, v)]).unwrap_err();
        assert_eq!(e.setting.var(), k);
        assert!(e.to_string().starts_with(&format!("{k}={v}")), "{e}");
    }
}
