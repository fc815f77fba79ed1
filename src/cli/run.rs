//! `unlink-race run`: one scenario, a stop condition, a summary and a report.

use std::io::IsTerminal;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
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

use super::{EXIT_ERROR, EXIT_FOUND, EXIT_INTERRUPTED, EXIT_OK, RoleArg, RunArgs};

/// Stop condition when none is given.
const DEFAULT_DURATION: Duration = Duration::from_secs(10);

/// Ctrl-C, SIGTERM and SIGHUP set the flag; a second one exits at once.
fn install_signal_flag() -> Result<Arc<AtomicBool>> {
    let signals = unlink_race::signals::StopSignals::install(i32::from(EXIT_INTERRUPTED))
        .context("cannot install signal handlers")?;
    Ok(signals.flag())
}

/// Checks before any work is done that an output can be written: what the
/// path names (a FIFO, a device and `-` are written through; a directory, a
/// block device or a socket is refused) and that its directory takes a new file.
pub fn check_output_path(flag: &str, path: &Path) -> Result<files::Destination> {
    files::check_destination(path).with_context(|| format!("{flag} {}", path.display()))
}

/// Checks every output before any work, and that no two name the same file.
pub fn check_outputs(outputs: &[(&str, &Path)]) -> Result<()> {
    let mut seen: Vec<(&str, files::Destination)> = Vec::new();
    for &(flag, path) in outputs {
        let dest = check_output_path(flag, path)?;
        let key = |d: &files::Destination| match d {
            files::Destination::Stdout => None,
            files::Destination::Stream(p)
            | files::Destination::Replace(p)
            | files::Destination::Create(p) => Some(
                p.parent()
                    .and_then(|d| d.canonicalize().ok())
                    .map(|d| d.join(p.file_name().unwrap_or_default()))
                    .unwrap_or_else(|| p.clone()),
            ),
        };
        if let Some((other, _)) = seen
            .iter()
            .find(|(_, d)| key(d).is_some() && key(d) == key(&dest))
        {
            bail!("{flag} {}: the same file as {other}", path.display());
        }
        seen.push((flag, dest));
    }
    Ok(())
}

/// Outputs staged completely (each a temporary file next to its target),
/// so that they are put in place all or none.
pub struct StagedOutputs(Vec<(String, files::Staged)>);

/// Stages every output; the first failure drops the others.
pub fn stage_outputs(outputs: &[(&str, &Path, Vec<u8>)]) -> Result<StagedOutputs> {
    let mut staged = Vec::with_capacity(outputs.len());
    for (flag, path, bytes) in outputs {
        let what = format!("{flag} {}", path.display());
        let s = files::stage(path, bytes).with_context(|| format!("{what}: cannot write"))?;
        staged.push((what, s));
    }
    Ok(StagedOutputs(staged))
}

impl StagedOutputs {
    /// Puts every staged output in place.
    pub fn commit(self) -> Result<()> {
        for (what, s) in self.0 {
            s.commit()
                .with_context(|| format!("{what}: cannot write"))?;
        }
        Ok(())
    }
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
pub fn path_for_label(path: &Path, label: &str) -> PathBuf {
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

/// Checks every `--dir` (and `--other-side`) before any of them is raced in.
fn check_dirs(dirs: &[PathBuf], other_sides: &[PathBuf]) -> Result<()> {
    for (flag, dir) in dirs
        .iter()
        .map(|d| ("--dir", d))
        .chain(other_sides.iter().map(|d| ("--other-side", d)))
    {
        super::check_dir(flag, dir)?;
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
fn run_deleter(args: &RunArgs, given: &[String]) -> Result<ExitCode> {
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
    check_dirs(std::slice::from_ref(&dir), &[])?;
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
    Ok(ExitCode::from(match served.end {
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
    }))
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

pub fn run(args: &RunArgs, given: &[String]) -> Result<ExitCode> {
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
    check_dirs(&dirs, &args.other_side)?;
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
            return Ok(ExitCode::from(EXIT_INTERRUPTED));
        }
    }
    Ok(ExitCode::from(if found { EXIT_FOUND } else { EXIT_OK }))
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
    let goal = Goal {
        cycles: if args.trials.is_some() {
            None
        } else {
            args.cycles
        },
        duration: deadline,
        anomalies: if args.trials.is_some() {
            None
        } else {
            args.until
        },
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
        for _ in 0..count {
            let left = deadline.map(|d| d.saturating_sub(started.elapsed()));
            if left.is_some_and(|l| l.is_zero()) {
                break;
            }
            let limit = BatchLimit {
                cycles: Some(args.trial_cycles),
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
            let (c, a) = progress.before.get();
            progress.before.set((c + batch.cycles, a + batch.anomalies));
            let end = batch.end;
            match batch.first_anomaly_cycle {
                Some(c) => trials.push(Trial {
                    cycles: c.max(1),
                    censored: false,
                    elapsed_ns: batch.elapsed_ns,
                }),
                None if end == BatchEnd::Completed => trials.push(Trial {
                    cycles: batch.cycles,
                    censored: true,
                    elapsed_ns: batch.elapsed_ns,
                }),
                // A trial cut short by the deadline or Ctrl-C is censored where it stopped.
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
    let mut text = summary(&report);
    if let Some(left) = &tally.scratch_left {
        text += &format!("warning: the scratch directory was left at {left}\n");
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
    if let Some(cause) = environment {
        // One line (printed by `main`): the cause, and where the report so far is.
        staged.commit()?;
        let written: Vec<String> = bytes
            .iter()
            .filter(|(_, p, _)| p.as_os_str() != "-")
            .map(|(_, p, _)| p.display().to_string())
            .collect();
        let left = tally
            .scratch_left
            .as_ref()
            .map(|l| format!("; the scratch directory was left at {l}"))
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
        if path.as_os_str() != "-" {
            text += &format!("report: {}\n", path.display());
        }
    }
    // The summary first: an unwritable standard output leaves no report file.
    // With a report on standard output (`-`) the summary goes to stderr.
    if bytes.iter().any(|(_, p, _)| p.as_os_str() == "-") {
        eprint!("{text}");
    } else {
        super::print_stdout(&text)?;
    }
    staged.commit()?;
    Ok(DirOutcome {
        interrupted: was_interrupted,
        anomalies: report.scenarios[0].anomalies,
    })
}
