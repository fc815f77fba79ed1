//! The detector end to end: the harness races on a zombiefs mount and must
//! count exactly the zombies the filesystem handed out, nothing else.

use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use unlink_race::harness::{BatchEnd, BatchLimit, EventKind, Harness, HarnessOptions, Tally};
use unlink_race::outcome::{Class, is_expected};
use unlink_race::scenario::{CreateFlags, Delete, Scenario};
use unlink_race::zombiefs::Options;

use crate::zombiefs::Fixture;

/// Runs `scenario` on a fresh zombiefs mount for `cycles` cycles; returns the
/// harness's tally and the filesystem's ground truth (`None`: no FUSE here,
/// the test is skipped).
fn race(
    scenario: &Scenario,
    cycles: u64,
    options: Options,
) -> Option<(Tally, unlink_race::zombiefs::Stats)> {
    let fx = Fixture::with(options)?;
    let mut h = Harness::start(scenario, fx.mount.mountpoint(), HarnessOptions::default()).unwrap();
    let limit = BatchLimit {
        cycles: Some(cycles),
        duration: Some(Duration::from_secs(20)),
        until_anomalies: None,
    };
    h.run_batch(&limit, &mut |_| ControlFlow::Continue(()))
        .unwrap();
    let tally = h.finish();
    Some((tally, fx.mount.stats()))
}

fn count(t: &Tally, c: Class) -> u64 {
    t.counts[c.index()]
}

/// zombie_fd == zombie_opens, write_einval == zombie_writes, and no other anomaly.
fn exact(scenario: &Scenario) {
    let Some((t, truth)) = race(scenario, 3_000, Options::default()) else {
        return;
    };
    let name = scenario.name();
    assert!(t.cycles >= 3_000, "{name}: ran {} cycles", t.cycles);
    assert!(
        count(&t, Class::ZombieFd) > 0,
        "{name}: the race happened: {truth:?}"
    );
    assert_eq!(
        count(&t, Class::ZombieFd),
        truth.zombie_opens,
        "{name}: {truth:?}"
    );
    // Every zombie is a raced open (its fstat gives st_ino == 0).
    assert!(
        t.raced_opens >= count(&t, Class::ZombieFd),
        "{name}: {} raced opens, {} zombies",
        t.raced_opens,
        count(&t, Class::ZombieFd)
    );
    assert_eq!(
        count(&t, Class::WriteEinval),
        truth.zombie_writes,
        "{name}: {truth:?}"
    );
    // Readers' recreates that race each other get the create race's
    // spurious ENOENT, each one counted by both sides.
    assert_eq!(
        count(&t, Class::SpuriousEnoentOnCreate),
        truth.spurious_create_enoents,
        "{name}: {truth:?}"
    );
    if scenario.readers == 1 {
        assert_eq!(truth.create_races, 0, "{name}: one reader races no create");
    }
    let defects = [
        Class::ZombieFd,
        Class::WriteEinval,
        Class::SpuriousEnoentOnCreate,
    ];
    for c in Class::ALL {
        if !is_expected(c, scenario) && !defects.contains(&c) {
            assert_eq!(count(&t, c), 0, "{name}: no {} expected", c.name());
        }
    }
    assert_eq!(
        t.anomalies,
        defects.iter().map(|&c| count(&t, c)).sum::<u64>(),
        "{name}"
    );
    // Every zombie example carries the seed's signature.
    let examples: Vec<_> = t
        .examples
        .iter()
        .filter(|e| e.class == Class::ZombieFd)
        .collect();
    assert!(!examples.is_empty());
    for e in examples {
        let st = e.stat.expect("zombie examples keep the fstat fields");
        assert_eq!(
            (st.ino, st.mode, st.nlink, st.uid, st.gid, st.size),
            (0, 0o100000, 1, 0, 0, 0),
            "{e:?}"
        );
        assert_eq!((st.atime_s, st.mtime_s, st.ctime_s), (0, 0, 0));
        assert_eq!(e.bytes_read, 0);
    }
    let timeline = t.timeline.expect("a timeline around the first anomaly");
    assert!(
        timeline
            .events
            .iter()
            .any(|e| e.kind == EventKind::Anomaly && e.t_ns == 0)
    );
    // A zombie needs its node unlinked, so some removal began before the
    // anomaly was seen. It need not have ended: under load the deleter can be
    // preempted between zombiefs's reply and its own clock read. Two readers'
    // recreates can race before any removal (the deleters not yet running,
    // the file not yet there): a spurious ENOENT needs no removal.
    if timeline.class != Some(Class::SpuriousEnoentOnCreate) {
        assert!(
            timeline
                .events
                .iter()
                .any(|e| e.kind == EventKind::RemoveBegin && e.t_ns < 0),
            "{name}: no removal began before the first anomaly ({:?}): {:?}",
            timeline.class,
            timeline.events
        );
    }
    assert!(t.first_anomaly_cycle.is_some());
}

#[test]
fn seed_scenario_counts_every_zombie() {
    exact(&Scenario::default());
}

#[test]
fn two_by_two_counts_every_zombie() {
    exact(&Scenario {
        readers: 2,
        deleters: 2,
        ..Scenario::default()
    });
}

#[test]
fn four_by_four_counts_every_zombie() {
    exact(&Scenario {
        readers: 4,
        deleters: 4,
        ..Scenario::default()
    });
}

#[test]
fn replace_is_the_workaround() {
    for (readers, deleters) in [(1, 1), (2, 2), (4, 4)] {
        let s = Scenario {
            readers,
            deleters,
            delete: Delete::Replace,
            ..Scenario::default()
        };
        // `replace` is the workaround for the dead descriptor; racing
        // recreates (at the start, when the file is absent) are another
        // defect, left out here.
        let no_create_race = Options {
            create_race_probability: 0.0,
            ..Options::default()
        };
        let Some((t, truth)) = race(&s, 3_000, no_create_race) else {
            return;
        };
        assert!(
            t.removals > 0,
            "{}: the deleters replaced the file",
            s.name()
        );
        assert_eq!(t.anomalies, 0, "{}: {:?}", s.name(), t.counts);
        assert_eq!(truth.zombie_opens + truth.zombie_writes, 0, "{truth:?}");
    }
}

/// A syscall slower than the watchdog limit is a `stall` naming the worker
/// and the operation, and the run still ends at its deadline.
#[test]
fn stalls_are_counted_and_the_run_ends_on_time() {
    let Some(fx) = Fixture::with(Options {
        stall_ms: 1_500,
        stall_every: 200,
        ..Options::default()
    }) else {
        return;
    };
    let options = HarnessOptions {
        stall_timeout: Duration::from_millis(400),
        ..HarnessOptions::default()
    };
    let mut h = Harness::start(&Scenario::default(), fx.mount.mountpoint(), options).unwrap();
    let started = Instant::now();
    let limit = BatchLimit {
        duration: Some(Duration::from_secs(3)),
        ..BatchLimit::default()
    };
    let batch = h
        .run_batch(&limit, &mut |_| ControlFlow::Continue(()))
        .unwrap();
    let took = started.elapsed();
    assert!(
        matches!(batch.end, BatchEnd::Deadline | BatchEnd::Completed),
        "{:?}",
        batch.end
    );
    // Deadline plus at most one stall being waited out.
    assert!(
        took < Duration::from_secs(3) + Duration::from_millis(1_700),
        "took {took:?}"
    );
    let t = h.finish();
    assert!(
        count(&t, Class::Stall) > 0,
        "stalls counted: {:?}",
        fx.mount.stats()
    );
    assert_eq!(count(&t, Class::Stall), t.stalls.len() as u64);
    for s in &t.stalls {
        assert!(s.worker.index < 2, "{s:?}");
        assert!(s.op.is_some(), "{s:?}");
        assert!(s.elapsed_ns >= 400_000_000, "{s:?}");
    }
    // Durations are followed until the step returns: zombiefs stalls for 1.5 s.
    assert!(
        t.stalls.iter().any(|s| s.elapsed_ns >= 1_400_000_000),
        "{:?}",
        t.stalls
    );
}

/// On a filesystem whose defect the calibration itself finds by the dozen,
/// `auto` chooses the pacing that found the most anomalies per second, and
/// the report says so.
#[test]
fn auto_chooses_by_anomalies_when_the_calibration_finds_them() {
    use unlink_race::harness::calibrate::{Basis, DEFAULT, ENOUGH_ANOMALIES};
    use unlink_race::scenario::Pace;
    let Some(fx) = Fixture::with(Options::default()) else {
        return;
    };
    let s = Scenario {
        pace: Pace::Auto,
        ..Scenario::default()
    };
    let h = Harness::start(&s, fx.mount.mountpoint(), HarnessOptions::default()).unwrap();
    let cal = h.calibration().expect("auto calibrates").clone();
    assert_eq!(h.scenario().pace, cal.chosen);
    h.finish();
    assert!(
        cal.points.iter().any(|p| p.anomalies >= ENOUGH_ANOMALIES),
        "zombiefs at probability 1 zombifies every racing open: {cal:?}"
    );
    assert_eq!(cal.basis(), Basis::Anomalies);
    // The best by anomalies per second, unless it did not clearly beat the
    // default (then the default).
    let best = cal
        .points
        .iter()
        .map(|p| p.rate(Basis::Anomalies))
        .fold(0.0, f64::max);
    let chosen = cal.points.iter().find(|p| p.pace == cal.chosen).unwrap();
    assert_eq!(
        cal.chosen,
        unlink_race::harness::calibrate::choose(&cal.points)
    );
    assert!(
        chosen.rate(Basis::Anomalies) == best || cal.chosen == DEFAULT,
        "{cal:?}"
    );
    let recorded = unlink_race::report::build::calibration(&cal);
    assert!(recorded.chosen_by_anomalies);
    assert!(
        recorded
            .candidates
            .iter()
            .all(
                |c| c.rounds_anomalies_per_second.len() == c.rounds_raced_opens_per_second.len()
                    && !c.rounds_anomalies_per_second.is_empty()
            )
    );
}

/// Two views of zombiefs, readers on the mount and the deleter on
/// its backing directory. A removal made there never reaches zombiefs (no
/// FUSE request), so its table still holds the name as linked: the reader's
/// next lookup fails (ENOENT, then a recreate through the mount), or its
/// `open` reopens the backing inode the deleter removed, whose content is
/// intact and whose `fstat` says `st_nlink == 0`, exactly what Linux gives.
/// zombiefs hands out no zombie and counts no racing open, while the
/// harness counts the raced opens; both sides' counts agree on every
/// request that went through the mount.
#[test]
fn two_views_zombiefs_never_sees_a_removal_on_its_backing_dir() {
    let Some(fx) = Fixture::with(Options::default()) else {
        return;
    };
    let scenario = Scenario {
        views: unlink_race::scenario::Views::Split,
        // `aimed`: a removal on the backing dir is far quicker than a
        // reader's round trips through FUSE, so a deleter that looks and
        // sleeps can remove the file between the reader's create and its
        // open nearly every time (0 to 4 raced opens in 140,000 cycles on an
        // idle 2-core VM); removing as the reader announces its open raced
        // about one open in 200 there.
        pace: unlink_race::scenario::Pace::Aimed,
        ..Scenario::default()
    };
    let options = HarnessOptions {
        other_side: Some(fx.backing().to_path_buf()),
        ..HarnessOptions::default()
    };
    let before = fx.mount.stats();
    let mut h = Harness::start(&scenario, fx.mount.mountpoint(), options).unwrap();
    // Wait for the race to be seen, on a loaded machine too.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut raced = 0;
    while raced < 20 && Instant::now() < deadline {
        let limit = BatchLimit {
            cycles: Some(3_000),
            duration: Some(Duration::from_secs(20)),
            until_anomalies: None,
        };
        raced += h
            .run_batch(&limit, &mut |_| ControlFlow::Continue(()))
            .unwrap()
            .raced_opens;
    }
    let t = h.finish();
    let truth = fx.mount.stats();
    let seen = |f: fn(&unlink_race::zombiefs::Stats) -> u64| f(&truth) - f(&before);
    eprintln!(
        "zombiefs, two views: {} cycles, {} raced opens, {} removals (on the backing dir), \
         counts {:?}; zombiefs: {truth:?}",
        t.cycles, t.raced_opens, t.removals, t.counts
    );
    assert!(
        t.raced_opens >= 20,
        "the race ran: {} raced opens",
        t.raced_opens
    );
    assert_eq!(t.anomalies, 0, "no anomaly: {:?}", t.counts);
    // Nothing zombie: zombiefs saw no unlink to race with.
    assert_eq!(
        (seen(|s| s.racing_opens), seen(|s| s.zombie_opens)),
        (0, count(&t, Class::ZombieFd))
    );
    assert_eq!(seen(|s| s.zombie_writes), count(&t, Class::WriteEinval));
    // Every request through the mount agrees: each successful open of the
    // reader is one OPEN, each recreate one CREATE (one reader, the only
    // creator); the view check wrote one marker through the mount and read
    // the other side's there, and removed its own; the scratch directory's
    // own marker (which tells a later run it is one) is one more CREATE.
    let opened = t.cycles - count(&t, Class::EnoentOnOpen);
    assert_eq!(seen(|s| s.opens), opened + 1, "{:?}", t.counts);
    assert_eq!(seen(|s| s.creates), t.recreations + 2, "{:?}", t.counts);
    assert_eq!(count(&t, Class::Recreated), t.recreations);
    // The deleter's removals went past zombiefs: the mount saw only the
    // marker's, and the scratch directory's clean-up (the target, its
    // marker).
    assert!(seen(|s| s.unlinks) <= 3, "{truth:?}");
    assert!(t.removals > 0);
}

/// The create race on zombiefs: every spurious `ENOENT` zombiefs served is
/// one the harness counted, and nothing else is an anomaly.
fn create_race_counts_exactly(
    s: &Scenario,
    options: Options,
    until_races: u64,
) -> Option<(Tally, unlink_race::zombiefs::Stats)> {
    let fx = Fixture::with(options)?;
    let mut h = Harness::start(s, fx.mount.mountpoint(), HarnessOptions::default()).unwrap();
    let limit = BatchLimit {
        cycles: Some(2_000),
        duration: Some(Duration::from_secs(20)),
        until_anomalies: None,
    };
    let started = Instant::now();
    // Batches until zombiefs has seen enough create races (bounded in time).
    while fx.mount.stats().create_races < until_races && started.elapsed() < Duration::from_secs(90)
    {
        h.run_batch(&limit, &mut |_| ControlFlow::Continue(()))
            .unwrap();
    }
    let t = h.finish();
    let truth = fx.mount.stats();
    let name = s.name();
    assert!(truth.create_races >= until_races, "{name}: {truth:?}");
    assert_eq!(
        count(&t, Class::SpuriousEnoentOnCreate),
        truth.spurious_create_enoents,
        "{name}: {truth:?}"
    );
    let others: Vec<(Class, u64)> = Class::ALL
        .into_iter()
        .filter(|&c| !is_expected(c, s) && c != Class::SpuriousEnoentOnCreate)
        .map(|c| (c, count(&t, c)))
        .filter(|&(_, n)| n > 0)
        .collect();
    assert_eq!(others, Vec::new(), "{name}: {truth:?}");
    assert_eq!(t.anomalies, count(&t, Class::SpuriousEnoentOnCreate));
    // Every emulated race is a create that overlapped another's.
    assert!(
        t.racing_creates >= truth.create_races,
        "{name}: {} racing creates, {truth:?}",
        t.racing_creates
    );
    assert!(t.racing_creates <= t.cycles);
    Some((t, truth))
}

#[test]
fn create_race_counts_every_spurious_enoent() {
    for workers in [
        unlink_race::scenario::Workers::Threads,
        unlink_race::scenario::Workers::Processes,
    ] {
        let s = Scenario {
            workers,
            ..Scenario::create(4, CreateFlags::Creat)
        };
        let Some((t, truth)) = create_race_counts_exactly(&s, Options::default(), 200) else {
            return;
        };
        // At probability 1 every create race is answered ENOENT.
        assert_eq!(
            truth.spurious_create_enoents, truth.create_races,
            "{truth:?}"
        );
        // Each spurious ENOENT's example names the round's name, which is there.
        let example = t
            .examples
            .iter()
            .find(|e| e.class == Class::SpuriousEnoentOnCreate)
            .expect("examples kept");
        assert_eq!(
            (example.op, example.errno),
            (unlink_race::outcome::Op::Create, libc::ENOENT)
        );
        assert!(example.exists_after, "{example:?}");
        assert_eq!(example.worker.role, unlink_race::harness::Role::Creator);
        // The report gives it a rate per racing create.
        let entry =
            unlink_race::report::build::scenario_report(&s, &t, Vec::new(), None, String::new());
        let rate = entry.classes[&Class::SpuriousEnoentOnCreate]
            .per_racing_create
            .expect("a rate per racing create");
        assert!(rate.ci_low <= rate.rate && rate.rate <= rate.ci_high && rate.rate > 0.0);
        assert_eq!(entry.racing_creates, Some(t.racing_creates));
    }
}

/// At 1 in 100 the harness still counts exactly what zombiefs served, and
/// the served fraction of create races lies in the 99% Clopper–Pearson
/// interval around it (the draws are seeded: repeatable).
#[test]
fn create_race_at_one_in_a_hundred() {
    use unlink_race::stats::clopper_pearson;
    const P: f64 = 0.01;
    let options = Options {
        create_race_probability: P,
        seed: Some(0x5EED_0022),
        ..Options::default()
    };
    // 1 500 races: about 15 ENOENTs, whose 99% interval excludes 0.02 and 1.
    let s = Scenario::create(4, CreateFlags::CreatTrunc);
    let Some((_, truth)) = create_race_counts_exactly(&s, options, 1_500) else {
        return;
    };
    let ci = clopper_pearson(truth.spurious_create_enoents, truth.create_races, 0.99);
    assert!(
        ci.contains(P),
        "{truth:?}: 99% interval [{}, {}]",
        ci.low,
        ci.high
    );
}

/// The O_EXCL control on zombiefs: losers get EEXIST from the kernel, never
/// ENOENT, and every round has exactly one winner.
#[test]
fn the_o_excl_control_has_one_winner_a_round() {
    let s = Scenario::create(4, CreateFlags::CreatExcl);
    let Some((t, truth)) = race(&s, 2_000, Options::default()) else {
        return;
    };
    assert_eq!(t.anomalies, 0, "{:?} {truth:?}", t.counts);
    assert_eq!(count(&t, Class::Created) * 4, t.cycles);
    assert_eq!(count(&t, Class::CreateEexist) * 4, t.cycles * 3);
    assert_eq!(truth.spurious_create_enoents, 0);
}

/// A known schedule: zombiefs holds every CREATE 300 ms while Linux keeps
/// the directory locked, so every other creator's call waits inside its own
/// `openat` meanwhile. Every call of every round overlaps the held one, and
/// the held one overlaps them: `racing_creates` is every create call.
#[test]
fn held_creates_make_every_create_of_a_round_race() {
    const ROUNDS: u64 = 6;
    let options = Options {
        create_hold_ms: 300,
        create_race_probability: 0.0,
        ..Options::default()
    };
    let s = Scenario::create(3, CreateFlags::Creat);
    let Some((t, truth)) = race(&s, 3 * ROUNDS, options) else {
        return;
    };
    assert_eq!(t.cycles, 3 * ROUNDS, "{t:?}");
    assert_eq!(t.racing_creates, 3 * ROUNDS, "{truth:?}");
    // One CREATE a round, each held once, and the scratch directory's
    // marker (created, and held, once).
    assert_eq!(
        (truth.creates, truth.stalls),
        (ROUNDS + 1, ROUNDS + 1),
        "{truth:?}"
    );
    assert_eq!(t.anomalies, 0);
}

/// Overlapped opens (raced opens whose removal returned while the `open`
/// was running) are the window zombiefs zombifies: the harness's count
/// follows zombiefs's own count of racing opens, pacing by pacing, where
/// raced opens can run far above it. zombiefs zombifies nothing here
/// (probabilities 0, the create race off) and counts every racing open.
#[test]
fn overlapped_opens_follow_zombiefs_racing_opens() {
    use unlink_race::scenario::Pace;
    let Some(fx) = Fixture::with(Options {
        open_probability: 0.0,
        write_probability: 0.0,
        create_race_probability: 0.0,
        ..Options::default()
    }) else {
        return;
    };
    for (threads, pace) in [(1, Pace::Sleep), (1, Pace::Check), (2, Pace::Sleep)] {
        let s = Scenario {
            readers: threads,
            deleters: threads,
            pace,
            ..Scenario::default()
        };
        let mut h = Harness::start(&s, fx.mount.mountpoint(), HarnessOptions::default()).unwrap();
        let before = fx.mount.stats().racing_opens;
        let limit = BatchLimit {
            duration: Some(Duration::from_millis(1500)),
            ..BatchLimit::default()
        };
        let b = h
            .run_batch(&limit, &mut |_| ControlFlow::Continue(()))
            .unwrap();
        let t = h.finish();
        let racing = fx.mount.stats().racing_opens - before;
        let overlapped = t.overlapped_opens.expect("threads count overlapped opens");
        assert_eq!(b.overlapped_opens, Some(overlapped));
        assert!(overlapped <= t.raced_opens, "{}: {t:?}", s.name());
        if racing < 50 {
            eprintln!(
                "{} {pace}: only {racing} racing opens in 1.5 s (a very busy machine?): \
                 too few to compare",
                s.name()
            );
            continue;
        }
        // Within about 10% when measured; wide here so that a loaded
        // machine cannot fail it, narrow enough that raced opens would.
        let share = overlapped as f64 / racing as f64;
        assert!(
            (0.6..=1.3).contains(&share),
            "{} {pace}: {overlapped} overlapped opens, zombiefs counted {racing} racing opens \
             ({} raced)",
            s.name(),
            t.raced_opens
        );
    }
}

/// The proxies against the ground truth: at 1×1, 2×2 and 4×4
/// every fixed pacing races in its own harness, in interleaved turns, on a
/// mount that zombifies nothing (the create race off too) and counts every
/// racing open. Overlapped
/// opens order the pacings as zombiefs's racing opens do: Spearman's ρ at
/// least 0.9, or their top pacing is the ground truth's (within 10%: two
/// pacings that close are the same answer). Raced opens count opens outside
/// the window as well, more of them at some pacings than at others, so they
/// run well above the ground truth overall (1.5 to 2.3 times when measured).
#[test]
fn overlapped_opens_rank_the_pacings_as_zombiefs_does() {
    use unlink_race::scenario::{Pace, Workers};
    use unlink_race::stats::spearman;
    let Some(fx) = Fixture::with(Options {
        open_probability: 0.0,
        write_probability: 0.0,
        create_race_probability: 0.0,
        ..Options::default()
    }) else {
        return;
    };
    let paces = Pace::candidates(Workers::Threads);
    let turn = BatchLimit {
        duration: Some(Duration::from_millis(250)),
        ..BatchLimit::default()
    };
    let (mut all_raced, mut all_overlapped, mut all_racing) = (0, 0, 0);
    for threads in [1, 2, 4] {
        let mut harnesses: Vec<Harness> = paces
            .iter()
            .map(|&pace| {
                let s = Scenario {
                    readers: threads,
                    deleters: threads,
                    pace,
                    ..Scenario::default()
                };
                Harness::start(&s, fx.mount.mountpoint(), HarnessOptions::default()).unwrap()
            })
            .collect();
        // Per pacing: raced, overlapped, racing, elapsed ns.
        let mut sums = vec![[0u64; 4]; paces.len()];
        for _ in 0..4 {
            for (h, sum) in harnesses.iter_mut().zip(&mut sums) {
                let before = fx.mount.stats().racing_opens;
                let b = h
                    .run_batch(&turn, &mut |_| ControlFlow::Continue(()))
                    .unwrap();
                sum[0] += b.raced_opens;
                sum[1] += b.overlapped_opens.expect("threads count overlapped opens");
                sum[2] += fx.mount.stats().racing_opens - before;
                sum[3] += b.elapsed_ns.max(1);
            }
        }
        for h in harnesses {
            h.finish();
        }
        let per_second = |i: usize| -> Vec<f64> {
            sums.iter()
                .map(|s| s[i] as f64 * 1e9 / s[3] as f64)
                .collect()
        };
        let (raced, overlapped, truth) = (per_second(0), per_second(1), per_second(2));
        let table: Vec<String> = paces
            .iter()
            .enumerate()
            .map(|(i, p)| format!("{p} {:.0}/{:.0}/{:.0}", raced[i], overlapped[i], truth[i]))
            .collect();
        let context =
            format!("{threads}×{threads}, raced/overlapped/zombiefs per second: {table:?}");
        let racing: u64 = sums.iter().map(|s| s[2]).sum();
        if racing < 200 {
            eprintln!(
                "{context}: only {racing} racing opens (a very busy machine?): too few to rank"
            );
            continue;
        }
        let top = |xs: &[f64]| {
            (0..xs.len())
                .max_by(|&a, &b| xs[a].total_cmp(&xs[b]))
                .expect("pacings")
        };
        let best = truth[top(&truth)];
        let rho = spearman(&overlapped, &truth).unwrap_or(0.0);
        assert!(
            rho >= 0.9 || truth[top(&overlapped)] >= 0.9 * best,
            "{context}: overlapped opens rank the pacings otherwise (ρ = {rho:.2}, top {})",
            paces[top(&overlapped)]
        );
        eprintln!(
            "{context}: ρ overlapped {rho:.2}, ρ raced {:.2}",
            spearman(&raced, &truth).unwrap_or(f64::NAN)
        );
        all_raced += sums.iter().map(|s| s[0]).sum::<u64>();
        all_overlapped += sums.iter().map(|s| s[1]).sum::<u64>();
        all_racing += racing;
    }
    if all_racing == 0 {
        return;
    }
    let (raced, overlapped) = (
        all_raced as f64 / all_racing as f64,
        all_overlapped as f64 / all_racing as f64,
    );
    assert!(
        (0.7..=1.3).contains(&overlapped),
        "overlapped opens are {overlapped:.2} of zombiefs's racing opens"
    );
    assert!(
        raced >= 1.2,
        "raced opens are only {raced:.2} times zombiefs's racing opens: they follow the window too"
    );
}
