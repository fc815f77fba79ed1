//! `cargo bench`: the scenario grid, then the failure-rate reports in `reports/`.
//!
//! Settings come from `UNLINK_RACE_*` variables (see the README); Criterion
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
    // The reports' place is checked before the first benchmark, not after the last.
    let reports = benchmarks::report::reports_dir(&config);
    if let Err(e) = unlink_race::export::files::check_reports_dir(&reports) {
        eprintln!("error: UNLINK_RACE_REPORTS={}: {e}", reports.display());
        std::process::exit(2);
    }
    if config.zombiefs {
        config.dir = benchmarks::zombiefs::mount();
    }
    let interrupted = benchmarks::interrupt_flag();
    let mut criterion = benchmarks::criterion(&config);
    let results = benchmarks::grid::run(&mut criterion, &config, &interrupted);
    let overhead = if config.overhead {
        benchmarks::overhead::run(&mut criterion, &config, &interrupted)
    } else {
        Vec::new()
    };
    criterion.final_summary();
    let pressure = if config.pressure {
        benchmarks::pressure::run(&config, &interrupted)
    } else {
        Vec::new()
    };
    benchmarks::report::print_ratios(&overhead);
    benchmarks::pressure::print_table(&pressure);
    benchmarks::report::write(&config, results);
    // Normal end: the same clean-ups as an early exit (zombiefs is unmounted).
    benchmarks::exit(0);
}
