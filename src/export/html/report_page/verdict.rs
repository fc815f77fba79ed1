//! The verdict block: the answer first, in a few lines.

use super::super::Kind;
use super::super::format::{RateText, format_count, format_count_si, format_duration_ns};
use super::super::markup::Markup;
use super::{class_rate, scenario_rate, times};
use crate::export::create;
use crate::export::pooled::{Pooled, pooled};
use crate::export::summary::median_cycles_text;
use crate::report::schema::{CreateFlags, Report, ScenarioReport, Survival};

/// Scenarios whose trials the verdict names one by one; the rest are counted.
pub(super) const TRIAL_LINES: usize = 3;

pub(super) fn verdict(m: &mut Markup, r: &Report) {
    let anomalies: u64 = r.scenarios.iter().map(|s| s.anomalies).sum();
    let pooled = pooled(r);
    let class = if anomalies == 0 {
        "verdict pass"
    } else {
        "verdict fail"
    };
    m.open("section", &[("class", class)]);
    if anomalies == 0 {
        passed(m, r);
    } else {
        failed(m, r, &pooled);
    }
    create_lines(m, r);
    m.open("ul", &[]);
    context(m, r, &pooled);
    m.close();
    m.close();
}

/// The create race's answer: each create scenario without `O_EXCL`, its
/// defect per racing create with the creator count, the control beside it.
fn create_lines(m: &mut Markup, r: &Report) {
    let lines: Vec<(String, String, Option<String>)> = r
        .scenarios
        .iter()
        .filter(|s| create::is_create(s))
        .filter(|s| s.config.create_flags != Some(CreateFlags::CreatExcl))
        .filter_map(|s| {
            let v = create::create_verdict(s)?;
            Some((s.name.clone(), v, create::control_line(r, s)))
        })
        .collect();
    if lines.is_empty() {
        return;
    }
    m.open("ul", &[("class", "create")]);
    for (name, verdict, control) in lines {
        m.open("li", &[]);
        m.elem("code", &[], &name);
        m.text(&format!(": {verdict}."));
        if let Some(c) = control {
            m.void("br", &[]);
            m.elem("span", &[("class", "minor")], &format!("{c}."));
        }
        m.close();
    }
    m.close();
}

/// No anomaly anywhere: the pooled bound, and the bound of the least-sampled
/// scenario.
fn passed(m: &mut Markup, r: &Report) {
    let cycles: u64 = r.scenarios.iter().map(|s| s.cycles).sum();
    let multi = r.scenarios.len() > 1;
    let total = RateText::from_count(0, cycles);
    m.elem(
        "p",
        &[("class", "headline")],
        &format!("No anomaly in {} cycles", format_count_si(cycles)),
    );
    m.open("ul", &[]);
    m.open("li", &[]);
    m.text("Anomaly rate ");
    m.elem(
        "span",
        &[("class", "big")],
        &format!("{} per cycle at 95%", total.rate()),
    );
    let pooled_note = if multi {
        format!(", all {} scenarios pooled", r.scenarios.len())
    } else {
        String::new()
    };
    m.text(&format!(" ({}){pooled_note}.", total.one_in()));
    m.close();
    if let Some(raced) = crate::export::summary::pooled_clean_per_raced_open(r) {
        m.elem("li", &[], &format!("{raced}{pooled_note}."));
    }
    if let Some(least) = r
        .scenarios
        .iter()
        .min_by_key(|s| s.cycles)
        .filter(|_| multi)
    {
        m.elem(
            "li",
            &[],
            &format!(
                "In every scenario: {} at 95% (the least-sampled, {}, ran {} cycles).",
                scenario_rate(least).rate(),
                least.name,
                format_count(least.cycles)
            ),
        );
    }
    m.close();
}

/// Anomalies seen: one line per class, then the classes not seen.
fn failed(m: &mut Markup, r: &Report, pooled: &[Pooled<'_>]) {
    let seen: Vec<&Pooled<'_>> = pooled
        .iter()
        .filter(|p| p.kind == Kind::Anomaly && p.count > 0)
        .collect();
    let headline: Vec<String> = seen
        .iter()
        .map(|p| {
            format!(
                "{} seen {} {}",
                p.name,
                format_count(p.count),
                times(p.count)
            )
        })
        .collect();
    m.elem("p", &[("class", "headline")], &headline.join(" · "));
    m.open("ul", &[]);
    for p in &seen {
        seen_line(m, p, r.scenarios.len() > 1);
    }
    let unseen: Vec<&Pooled<'_>> = pooled
        .iter()
        .filter(|p| p.kind == Kind::Anomaly && p.count == 0)
        .collect();
    if let Some(widest) = unseen.iter().max_by_key(|p| std::cmp::Reverse(p.cycles)) {
        let names: Vec<&str> = unseen.iter().map(|p| p.name.name()).collect();
        m.elem(
            "li",
            &[("class", "minor")],
            &format!(
                "Not seen: {} (each {} per cycle at 95%{}).",
                names.join(", "),
                widest.rate().rate(),
                if r.scenarios.len() > 1 {
                    ", pooled"
                } else {
                    ""
                }
            ),
        );
    }
    m.close();
}

/// `zombie_fd: 1 in 4.8 cycles over all 8 scenarios (95%: …); seen in 6; highest in …`.
fn seen_line(m: &mut Markup, p: &Pooled<'_>, multi: bool) {
    let rate = p.rate();
    m.open("li", &[]);
    m.elem("code", &[], p.name.name());
    m.text(": ");
    m.elem("span", &[("class", "big")], &rate.one_in());
    if multi {
        m.text(&format!(
            " over all {} scenarios (95%: {}); seen in {}",
            p.scenarios,
            rate.interval(),
            p.seen_in
        ));
        if let Some((s, c)) = p.worst {
            let w = class_rate(s, c);
            m.text(&format!(
                "; highest in {}: {} (95%: {})",
                s.name,
                w.one_in_short(),
                w.interval()
            ));
        }
    } else {
        m.text(&format!(
            " ({} per cycle, 95%: {})",
            rate.rate(),
            rate.interval()
        ));
    }
    m.text(".");
    m.close();
}

/// The smaller lines under the answer: expected races, trials, stalls, totals.
fn context(m: &mut Markup, r: &Report, pooled: &[Pooled<'_>]) {
    let multi = r.scenarios.len() > 1;
    let races: Vec<String> = pooled
        .iter()
        .filter(|p| p.kind == Kind::ExpectedRace && p.count > 0)
        .map(|p| {
            let rate = p.rate();
            format!("{} {} (95%: {})", p.name, rate.one_in(), rate.interval())
        })
        .collect();
    if !races.is_empty() {
        let where_ = if multi {
            ", in the scenarios where they are expected"
        } else {
            ""
        };
        m.elem(
            "li",
            &[("class", "minor")],
            &format!(
                "Expected races, not counted as anomalies: {}{where_}.",
                races.join("; ")
            ),
        );
    }
    for line in trial_lines(r) {
        m.elem("li", &[("class", "minor")], &line);
    }
    let stalls: usize = r.scenarios.iter().map(|s| s.stalls.len()).sum();
    if stalls > 0 {
        m.elem(
            "li",
            &[("class", "minor bad")],
            &format!(
                "{stalls} {} blocked longer than the watchdog limit (see Stalls).",
                if stalls == 1 { "syscall" } else { "syscalls" }
            ),
        );
    }
    m.elem("li", &[("class", "minor")], &totals(r));
}

/// `3 scenarios · 1,234 cycles · 2.1 s of racing`.
fn totals(r: &Report) -> String {
    let cycles: u64 = r.scenarios.iter().map(|s| s.cycles).sum();
    let elapsed_ns: u64 = r.scenarios.iter().map(|s| s.elapsed_ns).sum();
    format!(
        "{} {} · {} cycles · {} of racing{}",
        r.scenarios.len(),
        if r.scenarios.len() > 1 {
            "scenarios"
        } else {
            "scenario"
        },
        format_count(cycles),
        format_duration_ns(elapsed_ns as f64),
        if r.interrupted { " · interrupted" } else { "" }
    )
}

/// One line per scenario whose trials saw an anomaly, up to
/// [`TRIAL_LINES`], then `…and N more` for the rest, then one line for the
/// scenarios whose trials saw none: the verdict never drops one silently.
/// A one-scenario report gets its line whatever its trials saw.
pub(super) fn trial_lines(r: &Report) -> Vec<String> {
    let with: Vec<(&ScenarioReport, &Survival)> = r
        .scenarios
        .iter()
        .filter_map(|s| s.survival.as_ref().map(|sv| (s, sv)))
        .collect();
    let multi = r.scenarios.len() > 1;
    let (seen, clean): (Vec<_>, Vec<_>) = with.iter().partition(|(_, sv)| sv.events > 0 || !multi);
    let mut lines: Vec<String> = seen
        .iter()
        .take(TRIAL_LINES)
        .map(|(s, sv)| trial_line(s, sv, multi))
        .collect();
    if seen.len() > TRIAL_LINES {
        let rest = seen.len() - TRIAL_LINES;
        lines.push(format!(
            "…and {rest} more {} whose trials saw an anomaly (see Cycles to the first anomaly).",
            if rest == 1 { "scenario" } else { "scenarios" }
        ));
    }
    if !clean.is_empty() {
        let trials: u64 = clean.iter().map(|(_, sv)| sv.trials).sum();
        lines.push(format!(
            "Trials of {} {}: none of their {} trials saw an anomaly.",
            if clean.len() == with.len() {
                "all"
            } else {
                "the other"
            },
            match clean.len() {
                1 => "scenario".to_string(),
                n => format!("{n} scenarios"),
            },
            format_count(trials)
        ));
    }
    lines
}

/// `Trials of X: 29 of 32 saw an anomaly; median 16 cycles (3 ms) from a
/// trial's start to its first.`
fn trial_line(s: &ScenarioReport, sv: &Survival, multi: bool) -> String {
    let median = match (median_cycles_text(sv), sv.median_seconds) {
        (Some(cycles), Some(sec)) => format!(
            "; the trials' rate implies a median of {cycles} ({}) from a trial's start to \
             its first",
            format_duration_ns(sec * 1e9)
        ),
        (Some(cycles), None) => format!(
            "; the trials' rate implies a median of {cycles} from a trial's start to its first"
        ),
        _ => String::new(),
    };
    format!(
        "Trials{}: {} of {} saw an anomaly{median}.",
        if multi {
            format!(" of {}", s.name)
        } else {
            String::new()
        },
        format_count(sv.events),
        format_count(sv.trials)
    )
}
