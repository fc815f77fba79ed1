//! `unlink-race run`: one scenario, a stop condition, a summary and a report.

use std::io::IsTerminal;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use unlink_race::export::files;
use unlink_race::export::summary::{Goal, progress_line, summary};
use unlink_race::harness::{BatchEnd, BatchLimit, Harness, HarnessOptions, Progress, role};
use unlink_race::report::command::{RunStop, run_command};
use unlink_race::report::schema::Trial;
use unlink_race::report::{build, machine};
use unlink_race::scenario::{Delete, Pace, Race, Recreate, Scenario, Views};

use super::outputs::{check_outputs, goes_to_stdout, stage_outputs};
use super::{EXIT_ERROR, EXIT_FOUND, EXIT_INTERRUPTED, EXIT_OK, RoleArg, RunArgs};

/// Stop condition when none is given.
const DEFAULT_DURATION: Duration = Duration::from_secs(10);
/// How long a run ended by a stop signal (or its environment) waits for the
/// reader of a FIFO output before it leaves it unwritten.
const STREAM_GRACE: Duration = Duration::from_secs(2);

/// Ctrl-C, SIGTERM and SIGHUP set the flag, however many arrive: the run
/// stops, writes the report so far and removes its scratch directory, each
/// step bounded in time (see `docs/reliability.md`).
fn install_signal_flag() -> Result<Arc<AtomicBool>> {
    unlink_race::signals::stop_flag().context("cannot install signal handlers")
}

/// The live progress line ("elapsed, cycles, anomalies (rate), cycles/s"), on a terminal only.
struct ProgressLine {
    bar: Option<indicatif::ProgressBar>,
    /// Cycles and anomalies of earlier batches (trials).
    before: std::cell::Cell<(u64, u64)>,
    goal: Goal,
}

impl ProgressLine {
    fn new(enabled: bool, goal: Goal) -> ProgressLine {
        let bar = (enabled && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr_with_hz(4));
            bar
        });
        ProgressLine {
            bar,
            before: Default::default(),
            goal,
        }
    }

    fn update(&self, p: &Progress, started: Instant) {
        let Some(bar) = &self.bar else { return };
        let (cycles_before, anomalies_before) = self.before.get();
        bar.set_message(progress_line(
            started.elapsed(),
            cycles_before + p.cycles,
            anomalies_before + p.anomalies,
            &self.goal,
        ));
        bar.tick();
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// `path` for one directory of several: `out.json` → `out-<label>.json`.
fn path_for_label(path: &Path, label: &str) -> PathBuf {
    if path.as_os_str() == "-" {
        return path.to_path_buf();
    }
    let stem = path
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    let name = match path.extension() {
        Some(ext) => format!("{stem}-{label}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{label}"),
    };
    path.with_file_name(name)
}

/// Checks every `--dir` (and `--other-side`) before any of them is raced in,
/// waiting `wait` (the stall limit) at most for each to answer, and no
/// longer once a stop signal came.
fn check_dirs(dirs: &[PathBuf], other_sides: &[PathBuf], wait: Duration) -> Result<()> {
    let stop = unlink_race::signals::stop_flag();
    for (flag, dir) in dirs
        .iter()
        .map(|d| ("--dir", d))
        .chain(other_sides.iter().map(|d| ("--other-side", d)))
    {
        if let Err(why) = unlink_race::harness::directory_problem_within(dir, wait, stop.as_deref())
        {
            if stop.as_ref().is_some_and(|s| s.load(Relaxed)) {
                return Err(super::Stopped(format!(
                    "{flag} {}: stopped while {why}",
                    dir.display()
                ))
                .into());
            }
            bail!("{flag} {}: {why}", dir.display());
        }
    }
    if let Some(dup) = unlink_race::grid::first_duplicate(dirs) {
        bail!("--dir {}: given twice", dup.display());
    }
    if !other_sides.is_empty() && other_sides.len() != dirs.len() {
        bail!(
            "--other-side given {} times for {} --dir: one other side per directory, in the same order",
            other_sides.len(),
            dirs.len()
        );
    }
    Ok(())
}

/// How one directory's run ended.
struct DirOutcome {
    interrupted: bool,
    anomalies: u64,
}

/// The flags `--role deleter` takes: the rest is the reader's to set.
const DELETER_FLAGS: &[&str] = &["role", "dir", "role-wait", "stall-timeout", "no-progress"];

/// `--role deleter`: joins a reader's offer in `--dir` and races its deleters.
fn run_deleter(args: &RunArgs, given: &[String]) -> Result<u8> {
    if let Some(flag) = given.iter().find(|f| !DELETER_FLAGS.contains(&f.as_str())) {
        bail!(
            "--{flag}: --role deleter takes the scenario and the stop from the reader; it takes \
             only --dir, --role-wait, --stall-timeout and --no-progress"
        );
    }
    let dir = match args.dir.as_slice() {
        [] => unlink_race::scenario::default_target_dir(),
        [dir] => dir.clone(),
        _ => bail!("--role deleter: one --dir, the deleters' path to the reader's directory"),
    };
    check_dirs(std::slice::from_ref(&dir), &[], args.stall_timeout)?;
    let interrupted = install_signal_flag()?;
    let _ = unlink_race::sys::platform::raise_fd_limit();
    eprintln!(
        "deleter: waiting up to {} s for a reader's offer in {}",
        args.role_wait.as_secs(),
        dir.display()
    );
    let served = role::serve_deleters(
        &dir,
        args.role_wait,
        args.stall_timeout,
        Some(&interrupted),
        |scratch, scenario| {
            eprintln!(
                "deleter: joined {} ({}); racing until the reader stops",
                scratch.display(),
                scenario.name()
            );
        },
    )?;
    let line = format!(
        "deleter side of {}: {} removals, {} recreations, {} anomalies of its own, through {}; \
         the counts are in the reader's report\n",
        served.scenario.name(),
        unlink_race::export::format::format_count(served.removals),
        unlink_race::export::format::format_count(served.recreations),
        unlink_race::export::format::format_count(served.anomalies),
        served.scratch.display()
    );
    super::print_stdout(&line)?;
    Ok(match served.end {
        role::DeleterEnd::Stopped => EXIT_OK,
        role::DeleterEnd::Interrupted => EXIT_INTERRUPTED,
        role::DeleterEnd::ScratchGone => {
            eprintln!(
                "error: the reader's scratch directory went away before its stop (the reader \
                 ended early, or was killed); its report, if any, lacks these counts"
            );
            EXIT_ERROR
        }
        role::DeleterEnd::Environment(_) => EXIT_ERROR,
    })
}

/// Creators of `--race create` when `--creators` is not given.
const DEFAULT_CREATORS: u32 = 4;

/// The scenario the flags select; a flag of the other race is an error.
fn scenario_of(args: &RunArgs) -> Result<Scenario> {
    match args.race.unwrap_or_default() {
        Race::OpenUnlink => {
            for (flag, given) in [
                ("--creators", args.creators.is_some()),
                ("--create-flags", args.create_flags.is_some()),
            ] {
                if given {
                    bail!(
                        "{flag} needs --race create (the open-unlink race has readers and deleters)"
                    );
                }
            }
            Ok(Scenario {
                readers: args.readers.unwrap_or(1),
                deleters: args.deleters.unwrap_or(1),
                file_size_bytes: args.size,
                recreate: args.recreate.unwrap_or(Recreate::Inplace),
                delete: args.delete.unwrap_or(Delete::Unlink),
                share_delete: !args.no_share_delete,
                workers: args.workers,
                pace: args.pace.unwrap_or(Pace::Auto),
                ..Scenario::default()
            })
        }
        Race::Create => {
            for (flag, given) in [
                ("--readers", args.readers.is_some()),
                ("--deleters", args.deleters.is_some()),
                ("--recreate", args.recreate.is_some()),
                ("--delete", args.delete.is_some()),
                ("--pace", args.pace.is_some()),
            ] {
                if given {
                    bail!(
                        "{flag} does not apply to --race create (creators race each other: \
                         see --creators and --create-flags)"
                    );
                }
            }
            Ok(Scenario {
                file_size_bytes: args.size,
                share_delete: !args.no_share_delete,
                workers: args.workers,
                ..Scenario::create(
                    args.creators.unwrap_or(DEFAULT_CREATORS),
                    args.create_flags.unwrap_or_default(),
                )
            })
        }
    }
}

pub fn run(args: &RunArgs, given: &[String]) -> Result<u8> {
    if args.role == Some(RoleArg::Deleter) {
        return run_deleter(args, given);
    }
    let mut scenario = scenario_of(args)?;
    let reader_role = args.role == Some(RoleArg::Reader);
    let split = reader_role || !args.other_side.is_empty();
    if scenario.race == Race::Create && (split || args.deleters_recreate) {
        bail!(unlink_race::scenario::ScenarioError::CreateWithTwoViews);
    }
    if reader_role {
        if !args.other_side.is_empty() {
            bail!("--role reader: the deleters' side is another process, not --other-side");
        }
        if args.dir.len() > 1 {
            bail!("--role reader: one --dir, where the two processes meet");
        }
        if args.workers != unlink_race::scenario::Workers::Threads {
            bail!("--role reader: workers run as threads of each side's process");
        }
        if scenario.pace == Pace::Aimed {
            bail!("--role reader: --pace aimed needs both sides in one process");
        }
        // Pace `auto` calibrates both sides in one process.
        if scenario.pace == Pace::Auto {
            if args.pace.is_some() {
                bail!(
                    "--role reader: --pace auto calibrates both sides in one process; give spin, check, yield or sleep"
                );
            }
            scenario.pace = Pace::Sleep;
        }
    } else if args.deleters_recreate && args.other_side.is_empty() {
        bail!("--deleters-recreate needs two views: --other-side DIR, or --role");
    }
    scenario.views = match (split, args.deleters_recreate) {
        (false, _) => Views::One,
        (true, false) => Views::Split,
        (true, true) => Views::SplitRecreating,
    };
    scenario.validate()?;
    let outputs: Vec<(&str, &Path)> = [("--json", &args.json), ("--html", &args.html)]
        .into_iter()
        .filter_map(|(flag, p)| p.as_deref().map(|p| (flag, p)))
        .collect();
    check_outputs(&outputs)?;
    let dirs = if args.dir.is_empty() {
        vec![unlink_race::scenario::default_target_dir()]
    } else {
        args.dir.clone()
    };
    check_dirs(&dirs, &args.other_side, args.stall_timeout)?;
    let interrupted = install_signal_flag()?;
    // macOS starts processes with 256 descriptors. A refusal leaves the limit
    // as it was: running out is then an environment error like any other.
    let _ = unlink_race::sys::platform::raise_fd_limit();
    // Several directories: one run and one report each, labelled by filesystem.
    let targets = unlink_race::grid::survey_targets(&dirs, &args.other_side);
    let several = targets.len() > 1;
    let mut found = false;
    for target in &targets {
        let outcome = run_in(args, &scenario, target, several, &interrupted)?;
        found |= outcome.anomalies > 0;
        if outcome.interrupted {
            return Ok(EXIT_INTERRUPTED);
        }
    }
    Ok(if found { EXIT_FOUND } else { EXIT_OK })
}

/// Runs the scenario in one directory, prints its summary and writes its reports.
fn run_in(
    args: &RunArgs,
    scenario: &Scenario,
    target: &unlink_race::grid::SurveyTarget,
    several: bool,
    interrupted: &Arc<AtomicBool>,
) -> Result<DirOutcome> {
    let dir = &target.dir;
    let options = HarnessOptions {
        examples_per_class: args.examples,
        stall_timeout: args.stall_timeout,
        interrupt: Some(Arc::clone(interrupted)),
        other_side: target.other_side.as_ref().map(|(o, _)| o.clone()),
        remote_deleters: (args.role == Some(RoleArg::Reader)).then_some(args.role_wait),
        ..HarnessOptions::default()
    };
    say_stale_removed(&unlink_race::harness::remove_stale(dir));
    if options.remote_deleters.is_some() {
        eprintln!(
            "reader: waiting up to {} s for the deleters: run `unlink-race run --role deleter \
             --dir <its path to {}>` on the other side",
            args.role_wait.as_secs(),
            dir.display()
        );
    }
    let mut harness = Harness::start(scenario, dir, options)?;
    // `auto` is resolved now: the report and the rerun command carry the pace it chose.
    let scenario = harness.scenario().clone();
    let machine = machine::fingerprint(harness.target());
    let started = Instant::now();
    let deadline = args.duration.or_else(|| {
        (args.cycles.is_none() && args.until.is_none() && args.trials.is_none())
            .then_some(DEFAULT_DURATION)
    });
    // With --trials, --cycles and --until bound the whole run, as
    // --duration does: cycles over all trials, trials that found an anomaly.
    let goal = Goal {
        cycles: args.cycles,
        duration: deadline,
        anomalies: args.until,
    };
    let progress = ProgressLine::new(!args.no_progress, goal);
    let mut monitor = |p: &Progress| {
        progress.update(p, started);
        if interrupted.load(Relaxed) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };

    let mut trials = Vec::new();
    let mut was_interrupted = false;
    // An environment error ends the run: the report so far is written,
    // marked with it, and the exit code is 2.
    let mut environment: Option<String> = None;
    if let Some(count) = args.trials {
        let mut cycles_done = 0u64;
        let mut found = 0u64;
        for _ in 0..count {
            let left = deadline.map(|d| d.saturating_sub(started.elapsed()));
            let cycles_left = args.cycles.map(|n| n.saturating_sub(cycles_done));
            if left.is_some_and(|l| l.is_zero())
                || cycles_left == Some(0)
                || args.until.is_some_and(|k| found >= k)
            {
                break;
            }
            let cap = cycles_left.map_or(args.trial_cycles, |n| n.min(args.trial_cycles));
            let limit = BatchLimit {
                cycles: Some(cap),
                duration: left,
                until_anomalies: Some(1),
            };
            let batch = match harness.run_batch(&limit, &mut monitor) {
                Ok(b) => b,
                Err(e) if e.is_environment() => {
                    environment = Some(e.to_string());
                    break;
                }
                Err(e) => return Err(e).with_context(|| format!("racing in {}", dir.display())),
            };
            cycles_done += batch.cycles;
            let (c, a) = progress.before.get();
            progress.before.set((c + batch.cycles, a + batch.anomalies));
            let end = batch.end;
            match batch.first_anomaly_cycle {
                Some(c) => {
                    found += 1;
                    trials.push(Trial {
                        cycles: c.max(1),
                        censored: false,
                        elapsed_ns: batch.elapsed_ns,
                    })
                }
                // A trial that reached its cap, or was cut short by the
                // deadline, the run's cycle budget or Ctrl-C, is censored
                // where it stopped.
                None => trials.push(Trial {
                    cycles: batch.cycles,
                    censored: true,
                    elapsed_ns: batch.elapsed_ns,
                }),
            }
            if matches!(end, BatchEnd::Interrupted | BatchEnd::Stalled) {
                was_interrupted = end == BatchEnd::Interrupted;
                break;
            }
        }
    } else {
        let limit = BatchLimit {
            cycles: args.cycles,
            duration: deadline,
            until_anomalies: args.until,
        };
        match harness.run_batch(&limit, &mut monitor) {
            Ok(batch) => was_interrupted = batch.end == BatchEnd::Interrupted,
            Err(e) if e.is_environment() => environment = Some(e.to_string()),
            Err(e) => return Err(e).with_context(|| format!("racing in {}", dir.display())),
        }
    }
    // A stop signal that arrived while the run ended is this run's.
    was_interrupted |= interrupted.load(Relaxed) && environment.is_none();
    progress.finish();
    let target_info = harness.target().clone();
    let tally = harness.finish();
    if let Some(lost) = &tally.remote_error {
        // The counts lack one side: like an environment error, the report
        // so far is written and marked.
        environment.get_or_insert_with(|| format!("the deleters' process: {lost}"));
    }

    let stop = RunStop {
        cycles: args.cycles,
        duration: args.duration,
        until: args.until,
        trials: args.trials.map(|t| (t, args.trial_cycles)),
    };
    let other = target_info
        .other_side
        .as_ref()
        .map(|o| o.target_dir.as_path());
    let command = match args.role {
        // The reader's side; the deleter's is `--role deleter --dir <its path>`.
        Some(_) => run_command(&scenario, &target_info.target_dir, None, &stop) + " --role reader",
        None => run_command(&scenario, &target_info.target_dir, other, &stop),
    };
    let entry = build::scenario_report(&scenario, &tally, trials, None, command);
    let label =
        unlink_race::grid::survey_label(args.label.as_deref(), &machine, &target.tag, several);
    let mut report = build::report(
        label.clone(),
        unlink_race::report::schema::Source::Run,
        machine,
        vec![entry],
        was_interrupted,
    );
    report.environment_error = environment.clone();
    let mut text = unlink_race::export::terminal::clean(&summary(&report));
    let left_behind = left_behind(&tally);
    if let Some(line) = &left_behind {
        text += &format!(
            "warning: {}\n",
            unlink_race::export::terminal::clean_line(line)
        );
    }
    let output = |path: &PathBuf| {
        if several {
            path_for_label(path, &label)
        } else {
            path.clone()
        }
    };
    let mut bytes: Vec<(&str, PathBuf, Vec<u8>)> = Vec::new();
    if let Some(path) = args.json.as_ref().map(output) {
        bytes.push(("--json", path, files::report_json(&report)?));
    }
    if let Some(path) = args.html.as_ref().map(output) {
        let page = unlink_race::export::html::render_report(&report);
        bytes.push(("--html", path, page.into_bytes()));
    }
    let staging: Vec<(&str, &Path, Vec<u8>)> = bytes
        .iter()
        .map(|(flag, path, data)| (*flag, path.as_path(), data.clone()))
        .collect();
    let staged = stage_outputs(&staging)?;
    // From here a stop signal only ends a wait for an output's reader: a
    // new one at once; the one that stopped the run after a short grace.
    let patience = if was_interrupted || environment.is_some() {
        interrupted.store(true, Relaxed);
        Instant::now() + STREAM_GRACE
    } else {
        interrupted.store(false, Relaxed);
        Instant::now()
    };
    let stop = Some((interrupted.as_ref(), patience));
    if let Some(cause) = environment {
        // One line (printed by `main`): the cause, and where the report so far is.
        staged.commit(stop)?;
        let written: Vec<String> = bytes
            .iter()
            .filter(|(_, p, _)| !goes_to_stdout(p))
            .map(|(_, p, _)| p.display().to_string())
            .collect();
        let left = left_behind
            .as_ref()
            .map(|l| format!("; {l}"))
            .unwrap_or_default();
        if written.is_empty() {
            bail!("{cause}{left}");
        }
        bail!(
            "{cause}; the report so far, marked so, is in {}{left}",
            written.join(" and ")
        );
    }
    for (_, path, _) in &bytes {
        if !goes_to_stdout(path) {
            text += &format!("report: {}\n", path.display());
        }
    }
    // The summary first: an unwritable standard output leaves no report file.
    // With a report on standard output (`-`) the summary goes to stderr.
    if bytes.iter().any(|(_, p, _)| goes_to_stdout(p)) {
        eprint!("{text}");
    } else {
        super::print_stdout(&text)?;
    }
    staged.commit(stop)?;
    Ok(DirOutcome {
        interrupted: was_interrupted,
        anomalies: report.scenarios[0].anomalies,
    })
}

/// What a run left behind, in one line: its scratch directory (where, and
/// why) and workers stuck in a syscall that never returned.
fn left_behind(tally: &unlink_race::harness::Tally) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(left) = &tally.scratch_left {
        parts.push(format!("the scratch directory was left at {left}"));
    }
    if tally.stuck_workers > 0 {
        parts.push(format!(
            "{} worker{} left stuck in a syscall of a filesystem that does not answer",
            tally.stuck_workers,
            if tally.stuck_workers == 1 {
                " is"
            } else {
                "s are"
            }
        ));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// Says, in one line on stderr, which stale scratch directories of runs
/// that are gone were removed, and which had to be left.
fn say_stale_removed(found: &[unlink_race::harness::StaleScratch]) {
    if found.is_empty() {
        return;
    }
    let removed: Vec<String> = found
        .iter()
        .filter(|s| s.left.is_none())
        .map(|s| format!("{} (process {})", s.path.display(), s.pid))
        .collect();
    let left: Vec<String> = found
        .iter()
        .filter_map(|s| Some(format!("{}: {}", s.path.display(), s.left.as_ref()?)))
        .collect();
    let mut line = String::new();
    if !removed.is_empty() {
        line += &format!(
            "removed {} stale scratch director{} of runs that are gone: {}",
            removed.len(),
            if removed.len() == 1 { "y" } else { "ies" },
            removed.join(", ")
        );
    }
    if !left.is_empty() {
        if !line.is_empty() {
            line += "; ";
        }
        line += &format!("left stale scratch directories alone: {}", left.join(", "));
    }
    eprintln!("note: {}", unlink_race::export::terminal::clean_line(&line));
}
