//! After Criterion: the failure-rate report of this machine, in `reports/`.

use std::path::{Path, PathBuf};

use unlink_race::grid::{GridConfig, SurveyTarget, bench_id, group_name, survey_label};
use unlink_race::report::schema::LatencyPoint;
use unlink_race::report::{build, machine};

use super::grid::ScenarioResult;

/// Where Criterion keeps its results.
fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return home.into();
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("criterion")
}

/// Criterion's mean time per iteration (= per cycle), in ns, if it saved one.
fn criterion_ns_per_cycle(dir: &Path) -> Option<f64> {
    let text = std::fs::read_to_string(dir.join("new").join("estimates.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["mean"]["point_estimate"].as_f64()
}

/// `path` as seen from `base` (both absolute), e.g. `../target/criterion/...`.
fn relative_to(path: &Path, base: &Path) -> PathBuf {
    let (p, b): (Vec<_>, Vec<_>) = (path.components().collect(), base.components().collect());
    let common = p.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    out.extend(&p[common..]);
    out
}

/// Prints each pair's throughput ratio from Criterion's estimates.
pub fn print_ratios(pairs: &[super::overhead::Pair]) {
    if pairs.is_empty() {
        return;
    }
    let dir = criterion_dir();
    println!("\nthroughput ratios (Criterion mean time per cycle, this run):");
    for p in pairs {
        let (group, a, b) = (&p.group, &p.a, &p.b);
        // Criterion keeps earlier runs' estimates; a pair this run did not
        // measure (filtered out) must not be shown as this run's.
        if p.mix.0.cycles == 0 || p.mix.1.cycles == 0 {
            println!("  {group}: {a} vs {b} not run this time (filtered out?)");
            continue;
        }
        let ns = |id: &str| criterion_ns_per_cycle(&dir.join(group).join(id));
        match (ns(a), ns(b)) {
            (Some(ta), Some(tb)) => println!(
                "  {group}: {a} {:.2} µs/cycle, {b} {:.2} µs/cycle: {a} reaches {:.2} of {b} ({})\n    \
                 cycles that recreated the file: {a} {:.1}%, {b} {:.1}%; CPU time of the \
                 process per cycle: {a} {}, {b} {}",
                ta / 1e3,
                tb / 1e3,
                tb / ta,
                p.what,
                p.mix.0.recreated_percent(),
                p.mix.1.recreated_percent(),
                p.mix.0.cpu_per_cycle(),
                p.mix.1.cpu_per_cycle(),
            ),
            _ => println!("  {group}: no estimates (filtered out?)"),
        }
    }
}

/// Where the reports go: `UNLINK_RACE_REPORTS`, or `reports/` of the crate.
pub fn reports_dir(config: &GridConfig) -> std::path::PathBuf {
    config
        .reports_dir
        .clone()
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("reports"))
}

/// Writes the report of one directory's grid with the run's `latency`
/// points; `several`: one of a survey of several directories, so its label
/// carries the directory's tag.
pub fn write(
    config: &GridConfig,
    target: &SurveyTarget,
    several: bool,
    results: Vec<ScenarioResult>,
    latency: &[LatencyPoint],
) {
    let Some(first) = results.first() else {
        if latency.is_empty() {
            eprintln!("no scenario ran (filtered out?): no report written");
        } else {
            eprintln!(
                "no scenario of the grid ran (filtered out?): no report written; \
                 the latency table above is not saved (a run with the grid puts it into the report)"
            );
        }
        return;
    };
    let machine = machine::fingerprint(&first.target);
    let label = survey_label(config.label.as_deref(), &machine, &target.tag, several);
    let reports_dir = reports_dir(config);
    let criterion = criterion_dir();
    let scenarios = results
        .into_iter()
        .map(|r| {
            let group = group_name(&target.tag, &r.scenario);
            let page_dir = criterion.join(group).join(bench_id(&r.scenario));
            let ns = criterion_ns_per_cycle(&page_dir);
            let other = r.target.other_side.as_ref().map(|o| o.target_dir.as_path());
            let command = unlink_race::report::command::bench_command(
                &r.scenario,
                &r.target.target_dir,
                other,
            );
            let mut entry = build::scenario_report(&r.scenario, &r.tally, r.trials, ns, command);
            let page = page_dir.join("report").join("index.html");
            entry.criterion_page = Some(relative_to(&page, &reports_dir).display().to_string());
            entry
        })
        .collect();
    let mut report = build::report(
        label.clone(),
        unlink_race::report::schema::Source::Bench,
        machine,
        scenarios,
        false,
    );
    report.latency = latency.to_vec();
    match unlink_race::export::files::write_report_files(&report, &reports_dir) {
        Ok(paths) => {
            println!(
                "\n{}",
                unlink_race::export::summary::report_verdict(&report)
            );
            for p in paths {
                println!("report: {}", p.display());
            }
        }
        Err(e) => {
            eprintln!(
                "error: cannot write reports into {}: {e}",
                reports_dir.display()
            );
            super::exit(2);
        }
    }
}
