//! The create race in words, shared by the terminal summary, the report
//! page and the verdicts: how hard creates raced, each create defect per
//! racing create with the creator count ("spurious ENOENT in 1 of 14 racing
//! creates with 8 creators"), and the `O_EXCL` control beside it.

use super::format::{RateText, format_count, format_count_si, format_rate, format_si};
use crate::outcome::Class;
use crate::report::schema::{ClassStats, CreateFlags, Race, Report, ScenarioReport};

/// Whether `s` is a create race.
pub fn is_create(s: &ScenarioReport) -> bool {
    s.config.race == Race::Create
}

/// What a create class means, in a phrase: `spurious ENOENT`.
fn defect_name(class: Class) -> &'static str {
    match class {
        Class::SpuriousEnoentOnCreate => "spurious ENOENT",
        Class::EexistWithoutExcl => "EEXIST without O_EXCL",
        Class::ExclExtraWinner => "a second O_EXCL winner",
        other => other.name(),
    }
}

/// `with 8 creators`, `with 2 readers`: who raced the creates.
fn who_raced(s: &ScenarioReport) -> String {
    let (n, what) = match s.config.race {
        Race::Create => (s.config.creators.unwrap_or(0), "creator"),
        Race::OpenUnlink => (s.config.readers, "reader"),
    };
    format!("with {n} {what}{}", if n == 1 { "" } else { "s" })
}

/// Rounds of a create race: one create call of each creator.
pub fn rounds(s: &ScenarioReport) -> u64 {
    s.cycles / u64::from(s.config.creators.unwrap_or(1).max(1))
}

/// `1,234 (28.00% of create calls, 580/s)`; `None` in a report from before
/// the count.
pub fn racing_creates_text(s: &ScenarioReport) -> Option<String> {
    let racing = s.racing_creates?;
    let share = if s.cycles == 0 {
        0.0
    } else {
        100.0 * racing as f64 / s.cycles as f64
    };
    let of = if is_create(s) {
        "create calls"
    } else {
        "cycles"
    };
    Some(format!(
        "{} ({share:.2}% of {of}, {}/s)",
        format_count(racing),
        format_si(s.racing_creates_per_second.unwrap_or(0.0))
    ))
}

/// A warning when no create raced another in a create race (`None` when
/// some did, or outside a create race).
pub fn racing_warning(s: &ScenarioReport) -> Option<String> {
    if !is_create(s) || s.racing_creates != Some(0) || s.cycles == 0 {
        return None;
    }
    Some(format!(
        "warning: no create raced another in {} create calls: this run could not have seen \
         the defect (try more creators, or --workers processes)",
        format_count(s.cycles)
    ))
}

/// `spurious ENOENT in 1 of 14 racing creates with 8 creators (291 in 4.0 K,
/// 95%: 0.065 – 0.081 per racing create)`, or `0 spurious ENOENT in 1.5 K
/// racing creates with 8 creators (< 2.5e-3 per racing create)`: one class
/// per racing create (`None` when the report gives it no such rate).
pub fn per_racing_create(s: &ScenarioReport, class: Class, c: &ClassStats) -> Option<String> {
    let (racing, r) = (s.racing_creates?, c.per_racing_create?);
    let what = defect_name(class);
    let who = who_raced(s);
    let unit = if is_create(s) {
        "racing creates"
    } else {
        "racing recreates"
    };
    if racing == 0 {
        return Some(format!(
            "0 {unit} {who}, so no rate of {what} per racing create"
        ));
    }
    if c.count == 0 {
        return Some(format!(
            "0 {what} in {} {unit} {who} (< {} per racing create)",
            format_count_si(racing),
            format_rate(r.ci_high)
        ));
    }
    let rate = RateText::stored(c.count, racing, r.rate, r.ci_low, r.ci_high);
    let one_in = if r.rate > 0.0 {
        format!("1 of {}", format_si(1.0 / r.rate))
    } else {
        "none".into()
    };
    Some(format!(
        "{what} in {one_in} {unit} {who} ({} in {}, 95%: {} per racing create)",
        format_count(c.count),
        format_count_si(racing),
        rate.interval()
    ))
}

/// The create classes of `s` that have a rate per racing create, the
/// spurious `ENOENT` first.
fn create_classes(s: &ScenarioReport) -> Vec<(Class, &ClassStats)> {
    [
        Class::SpuriousEnoentOnCreate,
        Class::EexistWithoutExcl,
        Class::ExclExtraWinner,
    ]
    .into_iter()
    .filter_map(|class| {
        let c = s.classes.get(&class)?;
        c.per_racing_create.map(|_| (class, c))
    })
    .collect()
}

/// The create race's answer for one scenario: each create defect seen, per
/// racing create; when none was seen, the spurious `ENOENT`'s bound. `None`
/// without a rate per racing create (an older report, or no creates).
pub fn create_verdict(s: &ScenarioReport) -> Option<String> {
    let classes = create_classes(s);
    let seen: Vec<String> = classes
        .iter()
        .filter(|(_, c)| c.count > 0)
        .filter_map(|&(class, c)| per_racing_create(s, class, c))
        .collect();
    if !seen.is_empty() {
        return Some(seen.join("; "));
    }
    let (class, c) = classes
        .iter()
        .find(|(class, _)| *class == Class::SpuriousEnoentOnCreate)?;
    per_racing_create(s, *class, c)
}

/// The `O_EXCL` control of a create scenario without `O_EXCL`: the scenario
/// of the report with the same creators, workers and size and `creat_excl`.
fn control_of<'a>(r: &'a Report, s: &ScenarioReport) -> Option<&'a ScenarioReport> {
    r.scenarios.iter().find(|c| {
        is_create(c)
            && c.config.create_flags == Some(CreateFlags::CreatExcl)
            && c.config.creators == s.config.creators
            && c.config.workers == s.config.workers
            && c.config.file_size_bytes == s.config.file_size_bytes
    })
}

/// What an `O_EXCL` scenario says as a control: `one winner in each of its
/// 1,234 rounds, EEXIST for the others, no spurious ENOENT (< 3.0e-4 per
/// create)`, or what went wrong.
fn control_result(c: &ScenarioReport) -> String {
    let count = |class: Class| c.classes.get(&class).map_or(0, |s| s.count);
    let rounds = rounds(c);
    let extra = count(Class::ExclExtraWinner);
    let enoent = count(Class::SpuriousEnoentOnCreate);
    if c.anomalies == 0 && count(Class::Created) == rounds {
        return format!(
            "one winner in each of its {} rounds, EEXIST for the others, no spurious ENOENT \
             ({} per create)",
            format_count(rounds),
            RateText::from_count(0, c.cycles).rate()
        );
    }
    let mut parts = vec![format!(
        "{} winners in {} rounds",
        format_count(count(Class::Created) + extra),
        format_count(rounds)
    )];
    if extra > 0 {
        parts.push(format!("{} extra winners", format_count(extra)));
    }
    if enoent > 0 {
        parts.push(format!("{} spurious ENOENT", format_count(enoent)));
    }
    if c.anomalies > extra + enoent {
        parts.push(format!(
            "{} other anomalies",
            format_count(c.anomalies - extra - enoent)
        ));
    }
    parts.join(", ")
}

/// The `O_EXCL` control beside a create scenario without `O_EXCL`:
/// `O_EXCL control (create-c8-creat_excl-7B-threads): one winner in each
/// …`, or how to run it when the report lacks it. `None` for anything but a
/// create scenario without `O_EXCL`.
pub fn control_line(r: &Report, s: &ScenarioReport) -> Option<String> {
    if !is_create(s) || s.config.create_flags == Some(CreateFlags::CreatExcl) {
        return None;
    }
    let workaround = if create_classes(s).iter().any(|(_, c)| c.count > 0) {
        " (the workaround: create with O_CREAT|O_EXCL, and open without O_CREAT on EEXIST)"
    } else {
        ""
    };
    Some(match control_of(r, s) {
        Some(c) => format!(
            "O_EXCL control ({}): {}{workaround}",
            c.name,
            control_result(c)
        ),
        None => format!(
            "O_EXCL control: not in this report (run it with --create-flags creat-excl){workaround}"
        ),
    })
}

/// The race's own figure beside a cell's counts in an index: `create calls ·
/// 8.0 K racing creates · spurious ENOENT in 1 of 14 racing creates with 8
/// creators (…)` for a create race, `None` otherwise.
pub fn index_detail(s: &ScenarioReport) -> Option<String> {
    if !is_create(s) {
        return None;
    }
    let racing = s.racing_creates.map_or_else(
        || "racing creates not counted".to_string(),
        |n| format!("{} racing creates", format_count_si(n)),
    );
    Some(match create_verdict(s) {
        Some(v) => format!("create calls · {racing} · {v}"),
        None => format!("create calls · {racing}"),
    })
}
