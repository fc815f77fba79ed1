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
use unlink_race::harness::{BatchEnd, BatchLimit, Harness, HarnessOptions, Progress};
use unlink_race::report::command::{RunStop, run_command};
use unlink_race::report::schema::Trial;
use unlink_race::report::{build, machine};
use unlink_race::scenario::Scenario;

use super::{EXIT_FOUND, EXIT_INTERRUPTED, EXIT_OK, RunArgs};

/// Stop condition when none is given.
const DEFAULT_DURATION: Duration = Duration::from_secs(10);

/// Ctrl-C and SIGTERM set the flag; a second one exits at once.
fn install_signal_flag() -> Result<Arc<AtomicBool>> {
    let flag = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register_conditional_shutdown(
            sig,
            i32::from(EXIT_INTERRUPTED),
            Arc::clone(&flag),
        )
        .context("cannot install signal handlers")?;
        signal_hook::flag::register(sig, Arc::clone(&flag))
            .context("cannot install signal handlers")?;
    }
    Ok(flag)
}

/// Checks that an output file can be written before any work is done.
pub fn check_output_path(flag: &str, path: &Path) -> Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !parent.is_dir() {
        bail!(
            "{flag} {}: directory {} does not exist",
            path.display(),
            parent.display()
        );
    }
    if path.is_dir() {
        bail!("{flag} {}: is a directory", path.display());
    }
    Ok(())
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
    let stem = path
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    let name = match path.extension() {
        Some(ext) => format!("{stem}-{label}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{label}"),
    };
    path.with_file_name(name)
}

/// Checks every `--dir` before any of them is raced in.
fn check_dirs(dirs: &[PathBuf]) -> Result<()> {
    for dir in dirs {
        if !dir.is_dir() {
            let why = if dir.exists() {
                "is not a directory"
            } else {
                "does not exist"
            };
            bail!("--dir {}: {why}", dir.display());
        }
    }
    if let Some(dup) = unlink_race::grid::first_duplicate(dirs) {
        bail!("--dir {}: given twice", dup.display());
    }
    Ok(())
}

/// How one directory's run ended.
struct DirOutcome {
    interrupted: bool,
    anomalies: u64,
}

pub fn run(args: &RunArgs) -> Result<ExitCode> {
    let scenario = Scenario {
        readers: args.readers,
        deleters: args.deleters,
        file_size_bytes: args.size,
        recreate: args.recreate,
        delete: args.delete,
        workers: args.workers,
        pace: args.pace,
    };
    scenario.validate()?;
    for (flag, path) in [("--json", &args.json), ("--html", &args.html)] {
        if let Some(path) = path {
            check_output_path(flag, path)?;
        }
    }
    let dirs = if args.dir.is_empty() {
        vec![unlink_race::scenario::default_target_dir()]
    } else {
        args.dir.clone()
    };
    check_dirs(&dirs)?;
    let interrupted = install_signal_flag()?;
    // macOS starts processes with 256 descriptors. A refusal leaves the limit
    // as it was: running out is then an environment error like any other.
    let _ = unlink_race::sys::platform::raise_fd_limit();
    // Several directories: one run and one report each, labelled by filesystem.
    let targets = unlink_race::grid::survey_targets(&dirs);
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
    interrupted: &AtomicBool,
) -> Result<DirOutcome> {
    let dir = &target.dir;
    let options = HarnessOptions {
        examples_per_class: args.examples,
        stall_timeout: args.stall_timeout,
        ..HarnessOptions::default()
    };
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
            let batch = harness
                .run_batch(&limit, &mut monitor)
                .with_context(|| format!("racing in {}", dir.display()))?;
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
        let batch = harness
            .run_batch(&limit, &mut monitor)
            .with_context(|| format!("racing in {}", dir.display()))?;
        was_interrupted = batch.end == BatchEnd::Interrupted;
    }
    progress.finish();
    let target_info = harness.target().clone();
    let tally = harness.finish();

    let stop = RunStop {
        cycles: args.cycles,
        duration: args.duration,
        until: args.until,
        trials: args.trials.map(|t| (t, args.trial_cycles)),
    };
    let command = run_command(&scenario, &target_info.target_dir, &stop);
    let entry = build::scenario_report(&scenario, &tally, trials, None, command);
    let label =
        unlink_race::grid::survey_label(args.label.as_deref(), &machine, &target.tag, several);
    let report = build::report(
        label.clone(),
        unlink_race::report::schema::Source::Run,
        machine,
        vec![entry],
        was_interrupted,
    );
    let mut text = summary(&report);
    let output = |path: &PathBuf| {
        if several {
            path_for_label(path, &label)
        } else {
            path.clone()
        }
    };
    if let Some(path) = args.json.as_ref().map(output) {
        files::write_json(&report, &path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        text += &format!("report: {}\n", path.display());
    }
    if let Some(path) = args.html.as_ref().map(output) {
        let page = unlink_race::export::html::render_report(&report);
        files::write_atomic(&path, page.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
        text += &format!("report: {}\n", path.display());
    }
    super::print_stdout(&text);
    Ok(DirOutcome {
        interrupted: was_interrupted,
        anomalies: report.scenarios[0].anomalies,
    })
}
