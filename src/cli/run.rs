//! `unlink-race run`: one scenario, a stop condition, a summary and a report.

use std::io::IsTerminal;
use std::ops::ControlFlow;
use std::path::Path;
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
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(unlink_race::scenario::default_target_dir);
    let interrupted = install_signal_flag()?;
    // macOS starts processes with 256 descriptors. A refusal leaves the limit
    // as it was: running out is then an environment error like any other.
    let _ = unlink_race::sys::platform::raise_fd_limit();
    let options = HarnessOptions {
        examples_per_class: args.examples,
        stall_timeout: args.stall_timeout,
        ..HarnessOptions::default()
    };
    let mut harness = Harness::start(&scenario, &dir, options)?;
    // `auto` is resolved now: the name and the rerun command carry the pace it chose.
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
    let target = harness.target().clone();
    let tally = harness.finish();

    let stop = RunStop {
        cycles: args.cycles,
        duration: args.duration,
        until: args.until,
        trials: args.trials.map(|t| (t, args.trial_cycles)),
    };
    let command = run_command(&scenario, &target.target_dir, &stop);
    let entry = build::scenario_report(&scenario, &tally, trials, None, command);
    let label = args
        .label
        .as_deref()
        .map_or_else(|| machine::default_label(&machine), machine::sanitize_label);
    let report = build::report(
        label,
        unlink_race::report::schema::Source::Run,
        machine,
        vec![entry],
        was_interrupted,
    );
    let mut text = summary(&report);
    if let Some(path) = &args.json {
        files::write_json(&report, path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        text += &format!("report: {}\n", path.display());
    }
    if let Some(path) = &args.html {
        let page = unlink_race::export::html::render_report(&report);
        files::write_atomic(path, page.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
        text += &format!("report: {}\n", path.display());
    }
    super::print_stdout(&text);
    let code = if was_interrupted {
        EXIT_INTERRUPTED
    } else if report.scenarios[0].anomalies > 0 {
        EXIT_FOUND
    } else {
        EXIT_OK
    };
    Ok(ExitCode::from(code))
}
