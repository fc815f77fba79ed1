//! From a harness [`Tally`] to a [`ScenarioReport`]: counts become rates with
//! intervals, classes are marked expected or anomalous for the scenario.

use std::collections::BTreeMap;

use crate::harness::{self, Tally};
use crate::outcome::{Class, is_expected, once_per_cycle_in};
use crate::report::schema::{
    Calibration, CalibrationBasis, CalibrationCandidate, ClassStats, EmptyReadNlink,
    ErrnoBreakdown, Example, LatencyMedian, Machine, Rate, Report, SCHEMA_VERSION, ScenarioConfig,
    ScenarioReport, Source, StaleRecord, StallRecord, Survival, SurvivalPoint, TOOL_NAME, Timeline,
    TimelineEvent, Trial,
};
use crate::scenario::{Race, Scenario};
use crate::stats;
use crate::sys;

/// `k / n` with its 95% interval ([`stats::class_interval`]: binomial for
/// what happens at most once per cycle, Poisson otherwise).
fn rate(k: u64, n: u64, once_per_cycle: bool) -> Rate {
    let ci = stats::class_interval(k, n, once_per_cycle);
    Rate {
        rate: stats::rate(k, n),
        ci_low: ci.low,
        ci_high: ci.high,
    }
}

/// Rate, interval and expected flag of every class; anomaly classes also per
/// raced open and per overlapped open (when that count is known, and for a
/// class that happens at most once per cycle, when it was not seen more
/// often than such opens).
pub fn class_stats(
    counts: &[u64],
    cycles: u64,
    raced_opens: Option<u64>,
    overlapped_opens: Option<u64>,
    scenario: &Scenario,
) -> BTreeMap<Class, ClassStats> {
    Class::ALL
        .iter()
        .map(|&class| {
            let count = counts[class.index()];
            let once = once_per_cycle_in(class, scenario);
            let per_cycle = rate(count, cycles, once);
            let expected = is_expected(class, scenario);
            let per_open = |opens: Option<u64>| {
                opens
                    .filter(|&n| !expected && (!once || count <= n))
                    .map(|n| rate(count, n, once))
            };
            let entry = ClassStats {
                count,
                expected,
                rate: per_cycle.rate,
                ci_low: per_cycle.ci_low,
                ci_high: per_cycle.ci_high,
                per_raced_open: per_open(raced_opens),
                per_overlapped_open: per_open(overlapped_opens),
                per_racing_create: None,
            };
            (class, entry)
        })
        .collect()
}

/// Gives the anomaly classes of a create racing another create
/// ([`Class::per_racing_create`]) their rate per racing create instead of
/// one per raced open (for a class that happens at most once per cycle,
/// when it was not seen more often than creates raced).
pub fn add_racing_creates(classes: &mut BTreeMap<Class, ClassStats>, racing_creates: u64) {
    for (class, stats) in classes.iter_mut() {
        if !class.per_racing_create() {
            continue;
        }
        stats.per_raced_open = None;
        stats.per_overlapped_open = None;
        let once = class.once_per_cycle();
        stats.per_racing_create = (!stats.expected && (!once || stats.count <= racing_creates))
            .then(|| rate(stats.count, racing_creates, once));
    }
}

/// The report entry of one scenario.
///
/// `ns_per_cycle` is Criterion's estimate in bench reports; `None` derives it
/// from the tally's wall time.
pub fn scenario_report(
    scenario: &Scenario,
    tally: &Tally,
    trials: Vec<Trial>,
    ns_per_cycle: Option<f64>,
    command: String,
) -> ScenarioReport {
    let cycles = tally.cycles;
    let measured = if cycles == 0 {
        0.0
    } else {
        tally.elapsed_ns as f64 / cycles as f64
    };
    let ns_per_cycle = ns_per_cycle.unwrap_or(measured);
    let cycles_per_second = if tally.elapsed_ns == 0 {
        0.0
    } else {
        cycles as f64 * 1e9 / tally.elapsed_ns as f64
    };
    let survival = survival(&trials, ns_per_cycle);
    let per_second = |n: u64| {
        if tally.elapsed_ns == 0 {
            0.0
        } else {
            n as f64 * 1e9 / tally.elapsed_ns as f64
        }
    };
    // A create race has no opens that race an unlink: no rate per raced open.
    let open_unlink = scenario.race == Race::OpenUnlink;
    let raced_opens = open_unlink.then_some(tally.raced_opens);
    let overlapped_opens = tally.overlapped_opens.filter(|_| open_unlink);
    let mut classes = class_stats(
        &tally.counts,
        cycles,
        raced_opens,
        overlapped_opens,
        scenario,
    );
    add_racing_creates(&mut classes, tally.racing_creates);
    ScenarioReport {
        name: scenario.name(),
        config: ScenarioConfig::from(scenario),
        cycles,
        removals: tally.removals,
        recreations: tally.recreations,
        elapsed_ns: tally.elapsed_ns,
        cycles_per_second,
        ns_per_cycle,
        raced_opens: Some(tally.raced_opens),
        raced_opens_per_second: Some(per_second(tally.raced_opens)),
        overlapped_opens,
        overlapped_opens_per_second: overlapped_opens.map(per_second),
        racing_creates: Some(tally.racing_creates),
        racing_creates_per_second: Some(per_second(tally.racing_creates)),
        pace: scenario.pace,
        calibration: tally.calibration.as_ref().map(calibration),
        anomalies: tally.anomalies,
        classes,
        empty_read_nlink: EmptyReadNlink {
            zero: tally.empty_nlink_zero,
            nonzero: tally.empty_nlink_nonzero,
        },
        examples: tally
            .examples
            .iter()
            .map(|e| example(e, scenario.readers))
            .collect(),
        errno_breakdown: tally
            .errno_counts
            .iter()
            .map(|c| ErrnoBreakdown {
                class: c.class,
                side: c.side,
                op: c.op,
                errno: c.errno,
                errno_name: sys::errno_name(c.errno).into(),
                count: c.count,
            })
            .collect(),
        first_anomaly_cycle: tally.first_anomaly_cycle,
        trials,
        survival,
        timeline: tally.timeline.as_ref().and_then(timeline),
        stalls: tally.stalls.iter().map(stall).collect(),
        dropped: Default::default(),
        criterion_page: None,
        command,
    }
}

/// The schema's record of one anomaly; the errno is named here, on the
/// machine that observed it. `readers` turns a writer's slot into its name.
fn example(r: &harness::AnomalyRecord, readers: u32) -> Example {
    Example {
        class: r.class,
        op: r.op,
        errno: r.errno,
        errno_name: sys::errno_name(r.errno).into(),
        stat: r.stat.map(Into::into),
        bytes_read: r.bytes_read,
        bytes_expected: r.bytes_expected,
        exists_after: r.exists_after,
        t_ns: r.t_ns,
        worker: r.worker,
        cycle: r.cycle,
        stale: r.stale_generations.map(|(read, seen)| StaleRecord {
            generation_read: read,
            generation_seen: seen,
            writer: harness::WorkerId::of_slot(crate::content::writer_of(read), readers),
        }),
    }
}

/// The timeline, when its first anomaly's class is known (the worker that
/// saw it publishes the class right after claiming the first anomaly).
fn timeline(t: &harness::Timeline) -> Option<Timeline> {
    Some(Timeline {
        class: t.class?,
        worker: t.worker,
        events: t
            .events
            .iter()
            .map(|e| TimelineEvent {
                t_ns: e.t_ns,
                worker: e.worker,
                kind: e.kind,
                errno: e.errno,
                // Named here, on the machine that observed it.
                errno_name: sys::errno_name(e.errno).into(),
            })
            .collect(),
    })
}

/// The schema's record of how pace `auto` chose (also used for the bare loops of the
/// latency benchmarks, calibrated the same way).
pub fn calibration(c: &harness::calibrate::Calibration) -> Calibration {
    use harness::calibrate::Basis;
    let basis = c.basis();
    Calibration {
        chosen: c.chosen,
        chosen_by_anomalies: basis == Basis::Anomalies,
        chosen_by: Some(match basis {
            Basis::RacedOpens => CalibrationBasis::RacedOpens,
            Basis::OverlappedOpens => CalibrationBasis::OverlappedOpens,
            Basis::Anomalies => CalibrationBasis::Anomalies,
        }),
        candidates: c
            .points
            .iter()
            .map(|p| CalibrationCandidate {
                pace: p.pace,
                cycles: p.cycles,
                raced_opens: p.raced_opens,
                anomalies: p.anomalies,
                elapsed_ns: p.elapsed_ns,
                raced_opens_per_second: p.rate(Basis::RacedOpens),
                overlapped_opens: p.overlapped_opens,
                overlapped_opens_per_second: p
                    .overlapped_opens
                    .map(|_| p.rate(Basis::OverlappedOpens)),
                rounds_raced_opens_per_second: p
                    .rounds
                    .iter()
                    .map(|r| r.raced_opens_per_second)
                    .collect(),
                rounds_overlapped_opens_per_second: p
                    .rounds
                    .iter()
                    .filter_map(|r| r.overlapped_opens_per_second)
                    .collect(),
                rounds_anomalies_per_second: p
                    .rounds
                    .iter()
                    .map(|r| r.anomalies_per_second)
                    .collect(),
            })
            .collect(),
    }
}

fn stall(s: &harness::Stall) -> StallRecord {
    StallRecord {
        worker: s.worker,
        op: s.op,
        elapsed_ns: s.elapsed_ns,
        unfinished: s.unfinished,
    }
}

/// The schema's survival summary of `trials` ([`stats::survival`]).
fn survival(trials: &[Trial], ns_per_cycle: f64) -> Option<Survival> {
    let trials: Vec<stats::Trial> = trials
        .iter()
        .map(|t| stats::Trial {
            cycles: t.cycles,
            censored: t.censored,
        })
        .collect();
    let s = stats::survival(&trials, ns_per_cycle)?;
    Some(Survival {
        trials: s.trials,
        events: s.events,
        censored: s.censored,
        curve: s
            .curve
            .iter()
            .map(|p| SurvivalPoint {
                cycles: p.cycles,
                survival: p.survival,
                at_risk: p.at_risk,
            })
            .collect(),
        mle_rate_per_cycle: s.mle_rate_per_cycle,
        mle_ci_low: s.mle_interval.low,
        mle_ci_high: s.mle_interval.high,
        median_cycles: s.median_cycles,
        median_seconds: s.median_seconds,
    })
}

/// Timeline events a report keeps, shared by its scenarios (each keeps at
/// least [`MIN_TIMELINE_EVENTS`], those nearest its first anomaly).
pub const REPORT_TIMELINE_EVENTS: usize = 4096;
/// Timeline events a scenario keeps however many share the report.
pub const MIN_TIMELINE_EVENTS: usize = 128;
/// Examples a report keeps, shared by its scenarios (each keeps at least
/// [`MIN_EXAMPLES`], taken class by class in turn).
const REPORT_EXAMPLES: usize = 1024;
/// Examples a scenario keeps however many share the report.
const MIN_EXAMPLES: usize = 16;
/// Stall records a scenario keeps (the first ones).
const MAX_STALLS: usize = 128;

/// Bounds what the scenarios' lists keep (examples, timeline events, stalls)
/// and records in each scenario's `dropped` what was left out; counts and
/// rates are untouched.
pub fn cap_lists(scenarios: &mut [ScenarioReport]) {
    let with_timeline = scenarios.iter().filter(|s| s.timeline.is_some()).count();
    let events_each = (REPORT_TIMELINE_EVENTS / with_timeline.max(1)).max(MIN_TIMELINE_EVENTS);
    let examples_each = (REPORT_EXAMPLES / scenarios.len().max(1)).max(MIN_EXAMPLES);
    for s in scenarios {
        if let Some(t) = &mut s.timeline {
            if t.events.len() > events_each {
                let dropped = t.events.len() - events_each;
                // Keep the events nearest the first anomaly (t_ns = 0).
                t.events.sort_by_key(|e| e.t_ns.unsigned_abs());
                t.events.truncate(events_each);
                t.events.sort_by_key(|e| e.t_ns);
                s.dropped.timeline_events += dropped as u64;
            }
        }
        if s.examples.len() > examples_each {
            let dropped = s.examples.len() - examples_each;
            s.examples = round_robin_by_class(std::mem::take(&mut s.examples), examples_each);
            s.dropped.examples += dropped as u64;
        }
        if s.stalls.len() > MAX_STALLS {
            s.dropped.stalls += (s.stalls.len() - MAX_STALLS) as u64;
            s.stalls.truncate(MAX_STALLS);
        }
    }
}

/// `keep` examples taken one class at a time in turn, each class in time
/// order, so that no class is crowded out; the result is in time order.
fn round_robin_by_class(examples: Vec<Example>, keep: usize) -> Vec<Example> {
    let mut by_class: BTreeMap<Class, std::collections::VecDeque<Example>> = BTreeMap::new();
    for e in examples {
        by_class.entry(e.class).or_default().push_back(e);
    }
    let mut out = Vec::with_capacity(keep);
    while out.len() < keep {
        let mut took = false;
        for q in by_class.values_mut() {
            if out.len() < keep {
                if let Some(e) = q.pop_front() {
                    out.push(e);
                    took = true;
                }
            }
        }
        if !took {
            break;
        }
    }
    out.sort_by_key(|e| e.t_ns);
    out
}

/// A report around scenario entries; their lists are bounded ([`cap_lists`]).
pub fn report(
    label: String,
    source: Source,
    machine: Machine,
    mut scenarios: Vec<ScenarioReport>,
    interrupted: bool,
) -> Report {
    cap_lists(&mut scenarios);
    Report {
        schema_version: SCHEMA_VERSION,
        tool: TOOL_NAME.into(),
        label,
        created_unix_s: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        interrupted,
        environment_error: None,
        source,
        machine,
        scenarios,
        latency: Vec::new(),
    }
}

/// Kaplan–Meier medians of a latency point's trials ([`stats::km_median`]):
/// cycles, then seconds.
pub fn latency_medians(trials: &[Trial]) -> (LatencyMedian, LatencyMedian) {
    let median = |obs: Vec<(u64, bool)>, scale: f64| {
        let m = stats::km_median(&obs);
        let v = |x: u64| x as f64 / scale;
        LatencyMedian {
            median: m.median.map(v),
            ci_low: m.interval.map(|i| v(i.low)),
            ci_high: m.interval.and_then(|i| i.high).map(v),
        }
    };
    (
        median(
            trials.iter().map(|t| (t.cycles, !t.censored)).collect(),
            1.0,
        ),
        median(
            trials.iter().map(|t| (t.elapsed_ns, !t.censored)).collect(),
            1e9,
        ),
    )
}

/// Events per second over turns of `(events, nanoseconds)` with its 95%
/// interval: the rate over all turns, and the wider of two intervals, the
/// exact Poisson interval of the total (Garwood) and Student's t over the
/// turns (the ratio estimator's variance, from each turn's departure from
/// the overall rate). On a shared machine rates come in spells, so the turns
/// vary more than counting alone would make them, and the second is then
/// the wider.
pub fn turns_rate(turns: &[(u64, u64)]) -> Rate {
    let events: u64 = turns.iter().map(|t| t.0).sum();
    let ns: u64 = turns.iter().map(|t| t.1).sum();
    if ns == 0 {
        return Rate {
            rate: 0.0,
            ci_low: 0.0,
            ci_high: f64::INFINITY,
        };
    }
    let secs = ns as f64 / 1e9;
    let rate = events as f64 / secs;
    let poisson = stats::poisson_interval(events, ns, stats::CONFIDENCE);
    let (mut low, mut high) = (poisson.low * 1e9, poisson.high * 1e9);
    let n = turns.len();
    if n >= 2 {
        let residuals: f64 = turns
            .iter()
            .map(|&(k, t)| (k as f64 - rate * t as f64 / 1e9).powi(2))
            .sum();
        let se = (residuals * n as f64 / (n - 1) as f64).sqrt() / secs;
        let t = stats::student_t_quantile(0.975, (n - 1) as f64);
        low = low.min(rate - t * se);
        high = high.max(rate + t * se);
    }
    Rate {
        rate,
        ci_low: low.max(0.0),
        ci_high: high,
    }
}

/// The rate of turns `a` over that of turns `b`, paired by index (the two
/// sides' turns of one round), with its 95% interval: the wider of the
/// exact interval of the ratio of two Poisson rates (conditional binomial)
/// and Student's t over the rounds (delta method on the per-round rates).
pub fn turns_ratio(a: &[(u64, u64)], b: &[(u64, u64)]) -> Rate {
    let total = |t: &[(u64, u64)]| {
        (
            t.iter().map(|x| x.0).sum::<u64>(),
            t.iter().map(|x| x.1).sum::<u64>(),
        )
    };
    let ((ka, na), (kb, nb)) = (total(a), total(b));
    let per_second = |k: u64, n: u64| k as f64 * 1e9 / n.max(1) as f64;
    let (ra, rb) = (per_second(ka, na), per_second(kb, nb));
    if rb == 0.0 {
        return Rate {
            rate: f64::INFINITY,
            ci_low: 0.0,
            ci_high: f64::INFINITY,
        };
    }
    let ratio = ra / rb;
    // `ratio_interval` gives B/A: here a over b.
    let (mut low, high) = stats::ratio_interval(kb, nb, ka, na, stats::CONFIDENCE);
    let mut high = high.unwrap_or(f64::INFINITY);
    let pairs: Vec<(f64, f64)> = a
        .iter()
        .zip(b)
        .map(|(x, y)| (per_second(x.0, x.1), per_second(y.0, y.1)))
        .collect();
    let n = pairs.len();
    if n >= 2 {
        let mean_b = pairs.iter().map(|p| p.1).sum::<f64>() / n as f64;
        let ss: f64 = pairs.iter().map(|(x, y)| (x - ratio * y).powi(2)).sum();
        let se = (ss / (n * (n - 1)) as f64).sqrt() / mean_b.max(f64::MIN_POSITIVE);
        let t = stats::student_t_quantile(0.975, (n - 1) as f64);
        low = low.min(ratio - t * se);
        high = high.max(ratio + t * se);
    }
    Rate {
        rate: ratio,
        ci_low: low.max(0.0),
        ci_high: high,
    }
}

/// The median time to the first anomaly when each of `rate` racing opens
/// per second is one with `probability`: the first comes after an
/// exponential time of mean `1 / (probability × rate)`, whose median is
/// `ln 2` times that. The interval comes from the rate's (its upper end is
/// `None` when the rate's lower end is 0).
pub fn implied_median_seconds(rate: &Rate, probability: f64) -> LatencyMedian {
    let at =
        |r: f64| (r > 0.0 && probability > 0.0).then(|| std::f64::consts::LN_2 / (probability * r));
    LatencyMedian {
        median: at(rate.rate),
        ci_low: at(rate.ci_high).or(Some(0.0)),
        ci_high: at(rate.ci_low),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::{EventKind, WorkerId};

    /// Timeline errnos are named where they are observed: errno numbers
    /// differ between operating systems, so a report carries the names.
    #[test]
    fn timeline_errnos_are_named_here() {
        let event = |kind, errno| harness::TimelineEvent {
            t_ns: 0,
            worker: WorkerId::reader(0),
            kind,
            errno,
        };
        let t = harness::Timeline {
            class: Some(Class::ZombieFd),
            worker: WorkerId::reader(0),
            events: vec![
                event(EventKind::OpenEnd, libc::ENOENT),
                event(EventKind::ReadEnd, 0),
                event(EventKind::RemoveEnd, libc::EAGAIN),
            ],
        };
        let names: Vec<String> = timeline(&t)
            .unwrap()
            .events
            .into_iter()
            .map(|e| e.errno_name)
            .collect();
        assert_eq!(names, ["ENOENT", "", "EAGAIN"]);
    }
}
