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
    // macOS starts processes with 256 descriptors (see `unlink-race run`).
    let _ = unlink_race::sys::platform::raise_fd_limit();
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
    let latency = if config.latency {
        benchmarks::latency::run(&mut criterion, &config, &interrupted)
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
    benchmarks::latency::print(&latency);
    benchmarks::report::write(&config, results);
    // Normal end: the same clean-ups as an early exit (zombiefs is unmounted).
    benchmarks::exit(0);
}
