//! What a sound report is, beyond what serde checks: every count bounded
//! and at most its denominator, every class present, sums that add up, no
//! scenario twice, short texts. [`load`](super::load) refuses a report that
//! is not, naming the field.

use crate::outcome::Class;
use crate::report::schema::Report;

/// The largest count a report may hold: ten trillion (10¹³), over a month
/// of racing at three million cycles per second. No run comes near it;
/// a count beyond it (2⁶⁴ − 1 in a crafted file) is refused rather than
/// handed to statistics that would take minutes over it.
pub const MAX_COUNT: u64 = 10_000_000_000_000;

/// The most scenarios a report may hold (the largest grid has a few
/// hundred): sums over them stay far from overflowing.
pub const MAX_SCENARIOS: usize = 10_000;

/// The longest text field a report may hold, in bytes (labels, machine
/// fields, names, commands are short).
pub const MAX_TEXT_BYTES: usize = 64 << 10;

/// Checks what serde cannot (serde already rejects unknown classes, worker
/// kinds and strategies), so that every figure shown or compared can be:
/// every class is present (but those that older reports predate); every
/// count is at most [`MAX_COUNT`], and at most its denominator where it has
/// one (a class that happens at most once per cycle cannot outnumber the
/// cycles, nor can raced opens, the `empty_read` split or the cycle of the
/// first anomaly; no cycles means no counts); `anomalies` is the sum of the
/// anomaly classes; no scenario appears twice; text fields are short. The
/// message names the field.
pub fn validate(report: &Report) -> Result<(), String> {
    if report.scenarios.len() > MAX_SCENARIOS {
        return Err(format!(
            "field `scenarios` holds {} scenarios; at most {MAX_SCENARIOS}",
            report.scenarios.len()
        ));
    }
    check_texts(report)?;
    let mut seen: std::collections::HashMap<&crate::report::schema::ScenarioConfig, usize> =
        std::collections::HashMap::new();
    for (i, s) in report.scenarios.iter().enumerate() {
        let at = |field: &str| format!("field `scenarios[{i}].{field}`");
        if let Some(first) = seen.insert(&s.config, i) {
            return Err(format!(
                "{} repeats the scenario of `scenarios[{first}]` ({}): a report holds each scenario once",
                at("config"),
                s.name
            ));
        }
        let bounded = |field: &str, n: u64| {
            if n > MAX_COUNT {
                Err(format!(
                    "{} is {n}, more than any run counts (at most {MAX_COUNT})",
                    at(field)
                ))
            } else {
                Ok(())
            }
        };
        bounded("cycles", s.cycles)?;
        bounded("removals", s.removals)?;
        bounded("recreations", s.recreations)?;
        if let Some(raced) = s.raced_opens {
            bounded("raced_opens", raced)?;
            if raced > s.cycles {
                return Err(format!(
                    "{} is {raced}, more than the {} cycles (at most one per cycle)",
                    at("raced_opens"),
                    s.cycles
                ));
            }
        }
        let nlink = s
            .empty_read_nlink
            .zero
            .saturating_add(s.empty_read_nlink.nonzero);
        if nlink > s.cycles {
            return Err(format!(
                "{} adds up to {nlink}, more than the {} cycles",
                at("empty_read_nlink"),
                s.cycles
            ));
        }
        if let Some(first) = s.first_anomaly_cycle.filter(|&c| c > s.cycles) {
            return Err(format!(
                "{} is {first}, after the last of the {} cycles",
                at("first_anomaly_cycle"),
                s.cycles
            ));
        }
        for (t, trial) in s.trials.iter().enumerate() {
            bounded(&format!("trials[{t}].cycles"), trial.cycles)?;
        }
        for (k, b) in s.errno_breakdown.iter().enumerate() {
            bounded(&format!("errno_breakdown[{k}].count"), b.count)?;
        }
        if let Some(survival) = &s.survival {
            bounded("survival.trials", survival.trials)?;
        }
        if let Some(cal) = &s.calibration {
            for (k, c) in cal.candidates.iter().enumerate() {
                bounded(&format!("calibration.candidates[{k}].cycles"), c.cycles)?;
                bounded(
                    &format!("calibration.candidates[{k}].anomalies"),
                    c.anomalies,
                )?;
                if let Some(overlapped) = c.overlapped_opens {
                    bounded(
                        &format!("calibration.candidates[{k}].overlapped_opens"),
                        overlapped,
                    )?;
                }
                if c.raced_opens > c.cycles {
                    return Err(format!(
                        "{} is {}, more than the candidate's {} cycles",
                        at(&format!("calibration.candidates[{k}].raced_opens")),
                        c.raced_opens,
                        c.cycles
                    ));
                }
            }
        }
        let mut anomalies = 0u64;
        for class in Class::ALL {
            let Some(stats) = s.classes.get(&class) else {
                if !class.in_every_report() {
                    continue;
                }
                return Err(format!("{} is missing", at(&format!("classes.{class}"))));
            };
            let field = at(&format!("classes.{class}.count"));
            bounded(&format!("classes.{class}.count"), stats.count)?;
            if s.cycles == 0 && stats.count > 0 {
                return Err(format!("{field} is {} but `cycles` is 0", stats.count));
            }
            let scenario = crate::scenario::Scenario::from(&s.config);
            if crate::outcome::once_per_cycle_in(class, &scenario) && stats.count > s.cycles {
                return Err(format!(
                    "{field} is {}, more than the {} cycles (at most one per cycle)",
                    stats.count, s.cycles
                ));
            }
            if !stats.expected {
                anomalies = anomalies.saturating_add(stats.count);
            }
        }
        bounded("anomalies", s.anomalies)?;
        if anomalies != s.anomalies {
            return Err(format!(
                "{} is {}, but its anomaly classes add up to {anomalies}",
                at("anomalies"),
                s.anomalies
            ));
        }
        if let Some(overlapped) = s.overlapped_opens {
            bounded("overlapped_opens", overlapped)?;
            // An overlapped open is a raced open whose removal returned first.
            let raced = s.raced_opens.unwrap_or(s.cycles);
            if overlapped > raced {
                return Err(format!(
                    "{} is {overlapped}, more than the {raced} raced opens it is a part of",
                    at("overlapped_opens")
                ));
            }
        }
        if let Some(racing) = s.racing_creates {
            bounded("racing_creates", racing)?;
        }
        // Each create call races or not: never more racing creates than cycles.
        if let Some(racing) = s.racing_creates.filter(|&n| n > s.cycles) {
            return Err(format!(
                "{} is {racing}, more than the {} cycles (a create call races at most once)",
                at("racing_creates"),
                s.cycles
            ));
        }
        if s.config.race == crate::scenario::Race::Create
            && (s.config.creators.is_none() || s.config.create_flags.is_none())
        {
            return Err(format!(
                "{} is a create race without `creators` or `create_flags`",
                at("config")
            ));
        }
    }
    for (k, point) in report.latency.iter().enumerate() {
        let at = |field: &str| format!("field `latency[{k}].{field}`");
        if point.cap_cycles > MAX_COUNT {
            return Err(format!(
                "{} is {}, at most {MAX_COUNT}",
                at("cap_cycles"),
                point.cap_cycles
            ));
        }
        if let Some(rate) = &point.rate {
            let opens = std::iter::once(("rate.racing_opens".to_string(), rate.racing_opens))
                .chain(
                    rate.paces.iter().enumerate().map(|(p, pace)| {
                        (format!("rate.paces[{p}].racing_opens"), pace.racing_opens)
                    }),
                );
            for (field, n) in opens {
                if n > MAX_COUNT {
                    return Err(format!("{} is {n}, at most {MAX_COUNT}", at(&field)));
                }
            }
        }
        for (t, trial) in point.trials.iter().enumerate() {
            if trial.cycles > MAX_COUNT {
                return Err(format!(
                    "{} is {}, at most {MAX_COUNT}",
                    at(&format!("trials[{t}].cycles")),
                    trial.cycles
                ));
            }
        }
    }
    Ok(())
}

/// Every free-text field is at most [`MAX_TEXT_BYTES`] long.
fn check_texts(report: &Report) -> Result<(), String> {
    let m = &report.machine;
    let mut texts: Vec<(String, &str)> = vec![
        ("label".into(), &report.label),
        ("machine.os".into(), &m.os),
        ("machine.os_version".into(), &m.os_version),
        ("machine.os_name".into(), &m.os_name),
        ("machine.kernel".into(), &m.kernel),
        ("machine.arch".into(), &m.arch),
        ("machine.cpu_model".into(), &m.cpu_model),
        ("machine.fs_type".into(), &m.fs_type),
        ("machine.mount_point".into(), &m.mount_point),
        ("machine.target_dir".into(), &m.target_dir),
        ("machine.hostname".into(), &m.hostname),
        ("machine.crate_version".into(), &m.crate_version),
    ];
    if let Some(e) = &report.environment_error {
        texts.push(("environment_error".into(), e));
    }
    for (i, s) in report.scenarios.iter().enumerate() {
        texts.push((format!("scenarios[{i}].name"), &s.name));
        texts.push((format!("scenarios[{i}].command"), &s.command));
        if let Some(page) = &s.criterion_page {
            texts.push((format!("scenarios[{i}].criterion_page"), page));
        }
    }
    match texts.iter().find(|(_, t)| t.len() > MAX_TEXT_BYTES) {
        Some((field, t)) => Err(format!(
            "field `{field}` is {} bytes long; at most {MAX_TEXT_BYTES}",
            t.len()
        )),
        None => Ok(()),
    }
}
