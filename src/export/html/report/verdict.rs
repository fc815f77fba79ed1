//! The verdict block: the answer first, in a few lines.

use super::super::format::{RateText, format_count, format_duration_ns, format_si};
use super::super::markup::Markup;
use super::super::Kind;
use super::pooled::{Pooled, pooled};
use super::{class_rate, scenario_rate, times};
use crate::report::schema::Report;

pub(super) fn verdict(m: &mut Markup, r: &Report) {
    let cycles: u64 = r.scenarios.iter().map(|s| s.cycles).sum();
    let anomalies: u64 = r.scenarios.iter().map(|s| s.anomalies).sum();
    let multi = r.scenarios.len() > 1;
    let pooled = pooled(r);
    let seen: Vec<&Pooled<'_>> = pooled
        .iter()
        .filter(|p| p.kind == Kind::Anomaly && p.count > 0)
        .collect();

    m.open(
        "section",
        &[(
            "class",
            if anomalies == 0 {
                "verdict pass"
            } else {
                "verdict fail"
            },
        )],
    );
    if anomalies == 0 {
        let total = RateText::from_count(0, cycles);
        m.elem(
            "p",
            &[("class", "headline")],
            &format!("No anomaly in {} cycles", format_si(cycles as f64)),
        );
        m.open("ul", &[]);
        m.open("li", &[]);
        m.text("Anomaly rate ");
        m.elem(
            "span",
            &[("class", "big")],
            &format!("{} per cycle at 95%", total.rate()),
        );
        m.text(&format!(
            " ({}){}.",
            total.one_in(),
            if multi {
                format!(", all {} scenarios pooled", r.scenarios.len())
            } else {
                String::new()
            }
        ));
        m.close();
        if multi {
            if let Some(least) = r.scenarios.iter().min_by_key(|s| s.cycles) {
                let bound = scenario_rate(least);
                m.elem(
                    "li",
                    &[],
                    &format!(
                        "In every scenario: {} at 95% (the least-sampled, {}, ran {} cycles).",
                        bound.rate(),
                        least.name,
                        format_count(least.cycles)
                    ),
                );
            }
        }
        m.close();
    } else {
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
                    if multi { ", pooled" } else { "" }
                ),
            );
        }
        m.close();
    }
    m.open("ul", &[]);
    let races: Vec<String> = pooled
        .iter()
        .filter(|p| p.kind == Kind::ExpectedRace && p.count > 0)
        .map(|p| {
            let rate = p.rate();
            format!("{} {} (95%: {})", p.name, rate.one_in(), rate.interval())
        })
        .collect();
    if !races.is_empty() {
        m.elem(
            "li",
            &[("class", "minor")],
            &format!(
                "Expected races, not counted as anomalies: {}{}.",
                races.join("; "),
                if multi {
                    ", in the scenarios where they are expected"
                } else {
                    ""
                }
            ),
        );
    }
    for s in r.scenarios.iter().filter(|s| s.survival.is_some()).take(3) {
        let Some(sv) = &s.survival else { continue };
        let median = match (sv.median_cycles, sv.median_seconds) {
            (Some(c), Some(sec)) => format!(
                "; median {} cycles ({}) to the first",
                format_si(c),
                format_duration_ns(sec * 1e9)
            ),
            (Some(c), None) => format!("; median {} cycles to the first", format_si(c)),
            _ => String::new(),
        };
        m.elem(
            "li",
            &[("class", "minor")],
            &format!(
                "Trials{}: {} of {} saw an anomaly{median}.",
                if multi {
                    format!(" of {}", s.name)
                } else {
                    String::new()
                },
                format_count(sv.events),
                format_count(sv.trials)
            ),
        );
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
    let elapsed_ns: u64 = r.scenarios.iter().map(|s| s.elapsed_ns).sum();
    m.elem(
        "li",
        &[("class", "minor")],
        &format!(
            "{} {} · {} cycles · {} of racing{}",
            r.scenarios.len(),
            if multi { "scenarios" } else { "scenario" },
            format_count(cycles),
            format_duration_ns(elapsed_ns as f64),
            if r.interrupted { " · interrupted" } else { "" }
        ),
    );
    m.close();
    m.close();
}
