//! `cargo bench`: the scenario grid, then the failure-rate reports in `reports/`.
//!
//! Settings come from `UNLINK_RACE_*` variables (see docs/usage.md#settings); Criterion
//! owns the command line (`cargo bench -- 4K` filters as usual).

mod benchmarks;

fn main() {
    let mut config = match unlink_race::grid::GridConfig::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    // macOS starts processes with 256 descriptors (see `unlink-race run`).
    let _ = unlink_race::sys::platform::raise_fd_limit();
    // The reports' place is checked before the first benchmark, not after the last.
    let reports = benchmarks::report::reports_dir(&config);
    // The same check and line as `unlink-race grid`, then created.
    let problem = unlink_race::grid::reports_dir_problem(&reports).or_else(|| {
        unlink_race::export::files::check_reports_dir(&reports)
            .err()
            .map(|e| format!("UNLINK_RACE_REPORTS={}: {e}", reports.display()))
    });
    if let Some(line) = problem {
        eprintln!("error: {line}");
        std::process::exit(2);
    }
    if config.zombiefs {
        config.dirs = vec![benchmarks::zombiefs::mount()];
    }
    let interrupted = benchmarks::interrupt_flag();
    let mut criterion = benchmarks::criterion(&config);
    // One grid per directory (UNLINK_RACE_DIR=/a,/b), each its own report.
    let targets = unlink_race::grid::survey_targets(&config.dirs, &config.other_sides);
    let results: Vec<_> = targets
        .iter()
        .map(|t| benchmarks::grid::run(&mut criterion, &config, t, &interrupted))
        .collect();
    let overhead = if config.overhead {
        benchmarks::overhead::run(&mut criterion, &config, &interrupted)
    } else {
        Vec::new()
    };
    criterion.final_summary();
    // Outside Criterion: trials to the first anomaly (see latency.rs).
    let latency = if config.latency {
        benchmarks::latency::run(&config, &interrupted)
    } else {
        Vec::new()
    };
    let pressure = if config.pressure {
        benchmarks::pressure::run(&config, &interrupted)
    } else {
        benchmarks::pressure::Results::default()
    };
    benchmarks::report::print_ratios(&overhead);
    benchmarks::pressure::print_table(&pressure);
    benchmarks::latency::print(&latency);
    // Every report of this run carries the latency points (they are the machine's).
    for (target, results) in targets.iter().zip(results) {
        benchmarks::report::write(&config, target, targets.len() > 1, results, &latency);
    }
    // Normal end: the same clean-ups as an early exit (zombiefs is unmounted).
    benchmarks::exit(0);
}
