//! Classifier tests: observations built by hand for every class of
//! docs/methods.md#outcome-classes.

use unlink_race::content::ContentCheck;
use unlink_race::outcome::{Class, Observation, Op, Side, classify, is_expected};
use unlink_race::scenario::{Recreate, Scenario};
use unlink_race::sys::Stat;

/// A regular file as `fstat` shows it normally.
fn live_file() -> Stat {
    Stat {
        dev: 16777220,
        ino: 8674943678,
        mode: 0o100644,
        nlink: 1,
        uid: 501,
        gid: 20,
        size: 7,
        ..Default::default()
    }
}

fn read_with(stat: Stat, content: ContentCheck) -> Observation {
    Observation {
        stat: Some(stat),
        content: Some(content),
        ..Observation::success(Side::Reader, Op::Read)
    }
}

#[test]
fn the_seed_zombie_signature_is_zombie_fd() {
    // Printed by the original Python reproducer on macOS 10.15:
    // st_mode=32768, st_ino=0, st_nlink=1, st_uid=0, st_gid=0, st_size=0, all times 0.
    let zombie = Stat {
        dev: 16777220,
        ino: 0,
        mode: 32768,
        nlink: 1,
        uid: 0,
        gid: 0,
        size: 0,
        ..Default::default()
    };
    assert_eq!(
        classify(&read_with(zombie, ContentCheck::Empty)),
        Class::ZombieFd
    );
    // The inode decides, whatever was read.
    assert_eq!(
        classify(&read_with(zombie, ContentCheck::Correct)),
        Class::ZombieFd
    );
    assert!(!is_expected(Class::ZombieFd, &Scenario::default()));
}

#[test]
fn an_open_file_unlinked_afterwards_is_not_an_anomaly() {
    // The seed's "OK" line: st_nlink=0 but a real inode and the full content.
    let unlinked = Stat {
        nlink: 0,
        ..live_file()
    };
    assert_eq!(
        classify(&read_with(unlinked, ContentCheck::Correct)),
        Class::Ok
    );
}

#[test]
fn normal_outcomes() {
    assert_eq!(
        classify(&read_with(live_file(), ContentCheck::Correct)),
        Class::Ok
    );
    assert_eq!(
        classify(&Observation::failure(
            Side::Reader,
            Op::Open,
            unlink_race::sys::ENOENT
        )),
        Class::EnoentOnOpen
    );
    assert_eq!(
        classify(&Observation::success(Side::Reader, Op::Write)),
        Class::Recreated
    );
    assert_eq!(
        classify(&Observation::success(Side::Deleter, Op::Unlink)),
        Class::Removed
    );
    assert_eq!(
        classify(&Observation::failure(
            Side::Deleter,
            Op::Unlink,
            unlink_race::sys::ENOENT
        )),
        Class::RemoveEnoent
    );
    assert_eq!(
        classify(&Observation::failure(
            Side::Deleter,
            Op::Rename,
            unlink_race::sys::ENOENT
        )),
        Class::RemoveEnoent
    );
    for c in [
        Class::Ok,
        Class::EnoentOnOpen,
        Class::Recreated,
        Class::Removed,
        Class::RemoveEnoent,
    ] {
        assert!(is_expected(c, &Scenario::default()), "{c:?}");
    }
}

#[test]
fn write_einval_after_create() {
    assert_eq!(
        classify(&Observation::failure(
            Side::Reader,
            Op::Write,
            unlink_race::sys::EINVAL
        )),
        Class::WriteEinval
    );
    // EINVAL elsewhere is not the seed's symptom.
    assert_eq!(
        classify(&Observation::failure(
            Side::Reader,
            Op::Open,
            unlink_race::sys::EINVAL
        )),
        Class::UnexpectedErrno
    );
}

#[test]
fn empty_and_short_reads() {
    let unlinked = Stat {
        nlink: 0,
        ..live_file()
    };
    assert_eq!(
        classify(&read_with(live_file(), ContentCheck::Empty)),
        Class::EmptyRead
    );
    assert_eq!(
        classify(&read_with(unlinked, ContentCheck::Empty)),
        Class::EmptyRead
    );
    assert_eq!(
        classify(&read_with(live_file(), ContentCheck::Short)),
        Class::ShortRead
    );
    assert_eq!(
        classify(&read_with(live_file(), ContentCheck::Wrong)),
        Class::ShortRead
    );
}

#[test]
fn empty_read_is_expected_only_under_inplace_with_two_readers() {
    let one = Scenario::default();
    let two = Scenario {
        readers: 2,
        deleters: 2,
        ..Scenario::default()
    };
    let atomic = Scenario {
        recreate: Recreate::Atomic,
        ..two.clone()
    };
    assert!(!is_expected(Class::EmptyRead, &one));
    assert!(is_expected(Class::EmptyRead, &two));
    assert!(is_expected(Class::ShortRead, &two));
    assert!(!is_expected(Class::EmptyRead, &atomic));
    assert!(!is_expected(Class::ShortRead, &atomic));
}

#[test]
fn spurious_enoent_on_create_needs_the_directory() {
    let obs = Observation::failure(Side::Reader, Op::Create, unlink_race::sys::ENOENT);
    assert_eq!(classify(&obs), Class::SpuriousEnoentOnCreate);
    let gone = Observation {
        dir_exists: false,
        ..obs
    };
    assert_eq!(classify(&gone), Class::UnexpectedErrno);
}

/// `ENOENT` on an open descriptor (sshfs answers `fstat` so once
/// the file is unlinked) is `fd_enoent`, on either side; `ENOENT` on a name
/// keeps its own class.
#[test]
fn enoent_on_a_descriptor_is_fd_enoent() {
    for side in [Side::Reader, Side::Deleter] {
        for op in [Op::Fstat, Op::Read, Op::Write, Op::Close] {
            let obs = Observation::failure(side, op, unlink_race::sys::ENOENT);
            assert_eq!(classify(&obs), Class::FdEnoent, "{side:?} {op:?}");
            assert!(!is_expected(Class::FdEnoent, &Scenario::default()));
        }
    }
    let enoent = |side, op| classify(&Observation::failure(side, op, unlink_race::sys::ENOENT));
    assert_eq!(enoent(Side::Reader, Op::Open), Class::EnoentOnOpen);
    assert_eq!(
        enoent(Side::Reader, Op::Create),
        Class::SpuriousEnoentOnCreate
    );
    assert_eq!(enoent(Side::Deleter, Op::Unlink), Class::RemoveEnoent);
    assert_eq!(enoent(Side::Deleter, Op::Rename), Class::RemoveEnoent);
    assert_eq!(enoent(Side::Reader, Op::Rename), Class::UnexpectedErrno);
    assert_eq!(enoent(Side::Deleter, Op::Access), Class::UnexpectedErrno);
    for class in Class::ALL {
        assert_eq!(
            class.has_errno_breakdown(),
            matches!(
                class,
                Class::IoError
                    | Class::Stale
                    | Class::UnexpectedErrno
                    | Class::FdEnoent
                    | Class::OpenErrorVisible
            ),
            "{class}"
        );
    }
}

#[test]
fn errno_classes_on_any_operation() {
    for op in [
        Op::Open,
        Op::Fstat,
        Op::Read,
        Op::Close,
        Op::Create,
        Op::Write,
        Op::Rename,
        Op::Unlink,
        Op::Access,
    ] {
        for side in [Side::Reader, Side::Deleter] {
            assert_eq!(
                classify(&Observation::failure(side, op, unlink_race::sys::ESTALE)),
                Class::Stale,
                "{op:?}"
            );
            assert_eq!(
                classify(&Observation::failure(side, op, unlink_race::sys::EIO)),
                Class::IoError,
                "{op:?}"
            );
            assert_eq!(
                classify(&Observation::failure(side, op, unlink_race::sys::EPERM)),
                Class::UnexpectedErrno,
                "{op:?}"
            );
        }
    }
    // An errno no table knows is kept as unexpected, not dropped.
    assert_eq!(
        classify(&Observation::failure(Side::Reader, Op::Read, 9999)),
        Class::UnexpectedErrno
    );
}

#[test]
fn every_class_has_a_unique_name() {
    let names: std::collections::BTreeSet<_> = Class::ALL.iter().map(|c| c.name()).collect();
    assert_eq!(names.len(), Class::ALL.len());
    for c in Class::ALL {
        assert_eq!(Class::from_name(c.name()), Some(c));
    }
    // Stall comes from the watchdog, never from one observation, and is an anomaly.
    assert!(!is_expected(Class::Stall, &Scenario::default()));
}
