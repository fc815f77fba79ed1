//! Cycles to the first anomaly: Kaplan–Meier curves of the trials and what
//! they say.

use super::super::format::{RateText, format_count, format_duration_ns, format_si};
use super::super::markup::Markup;
use super::super::svg::{self, Scale};
use crate::report::schema::{Report, ScenarioReport, Survival};

pub(super) fn survival(m: &mut Markup, r: &Report) {
    let with: Vec<(&ScenarioReport, &Survival)> = r
        .scenarios
        .iter()
        .filter_map(|s| s.survival.as_ref().map(|v| (s, v)))
        .filter(|(_, v)| v.events > 0)
        .collect();
    if with.is_empty() {
        return;
    }
    let shown = &with[..with.len().min(svg::PALETTE.len())];
    m.elem("h2", &[], "Cycles to the first anomaly");
    m.elem(
        "p",
        &[("class", "note")],
        "Each trial runs until its first anomaly or the cycle cap (censored, marked |). \
         Solid: Kaplan–Meier estimate of the probability of no anomaly yet; dashed: what a \
         constant per-cycle rate fitted to the trials predicts.",
    );
    let xs: Vec<f64> = shown
        .iter()
        .flat_map(|(s, sv)| {
            s.trials
                .iter()
                .map(|t| t.cycles as f64)
                .chain(sv.curve.iter().map(|p| p.cycles as f64))
        })
        .collect();
    let x = Scale::auto(&xs, 100.0);
    let (x_min, x_max) = match x {
        Scale::Log { min, max } => (min, max),
        Scale::Linear { min, max } => (min.max(0.0), max),
    };
    let curves: Vec<svg::StepCurve> = shown
        .iter()
        .enumerate()
        .map(|(i, (s, sv))| {
            let p = sv.mle_rate_per_cycle;
            let model = if p > 0.0 && p < 1.0 {
                (0..=60)
                    .map(|k| {
                        let f = f64::from(k) / 60.0;
                        let v = if x.is_log() {
                            x_min * (x_max / x_min).powf(f)
                        } else {
                            x_min + (x_max - x_min) * f
                        };
                        (v, (v * (1.0 - p).ln()).exp())
                    })
                    .collect()
            } else {
                Vec::new()
            };
            svg::StepCurve {
                color: svg::PALETTE[i],
                start: x_min,
                steps: sv
                    .curve
                    .iter()
                    .map(|pt| (pt.cycles as f64, pt.survival))
                    .collect(),
                end: s
                    .trials
                    .iter()
                    .map(|t| t.cycles as f64)
                    .fold(x_min, f64::max),
                censored: s
                    .trials
                    .iter()
                    .filter(|t| t.censored)
                    .map(|t| t.cycles as f64)
                    .collect(),
                model,
            }
        })
        .collect();
    m.open("div", &[("class", "survival")]);
    svg::step_chart(
        m,
        &svg::StepChart {
            title: "Probability of no anomaly yet",
            x,
            x_label: if x.is_log() {
                "cycles (log scale)"
            } else {
                "cycles"
            },
            x_format: &format_si,
            y_label: "P(no anomaly yet)",
            curves: &curves,
            width: 560.0,
            height: 300.0,
        },
    );
    survival_facts(m, shown);
    m.close();
    if with.len() > shown.len() {
        m.elem(
            "p",
            &[("class", "note")],
            &format!(
                "{} more scenarios have trials; their curves are in the JSON report.",
                with.len() - shown.len()
            ),
        );
    }
}

fn survival_facts(m: &mut Markup, shown: &[(&ScenarioReport, &Survival)]) {
    type Fact = (&'static str, fn(&ScenarioReport, &Survival) -> String);
    let facts: [Fact; 8] = [
        ("trials", |_, sv| format_count(sv.trials)),
        ("with an anomaly", |_, sv| format_count(sv.events)),
        ("censored (cap reached)", |_, sv| format_count(sv.censored)),
        ("per-cycle rate (MLE)", |_, sv| {
            let r = mle_rate(sv);
            format!("{} = {}", r.rate(), r.one_in_short())
        }),
        ("95% interval", |_, sv| mle_rate(sv).interval()),
        ("median cycles to first", |_, sv| {
            sv.median_cycles.map_or("—".into(), format_si)
        }),
        ("median time to first", |_, sv| {
            sv.median_seconds
                .map_or("—".into(), |sec| format_duration_ns(sec * 1e9))
        }),
        ("observed cycles", |s, _| {
            let mut observed: Vec<u64> = s
                .trials
                .iter()
                .filter(|t| !t.censored)
                .map(|t| t.cycles)
                .collect();
            observed.sort_unstable();
            let shown: Vec<String> = observed
                .iter()
                .take(8)
                .map(|&c| format_si(c as f64))
                .collect();
            let more = if observed.len() > shown.len() {
                ", …"
            } else {
                ""
            };
            format!("{}{more}", shown.join(", "))
        }),
    ];
    m.open("table", &[("class", "facts")]);
    m.open("tr", &[]);
    m.elem("td", &[], "");
    for (i, (s, _)) in shown.iter().enumerate() {
        m.open("th", &[]);
        m.elem(
            "span",
            &[
                ("class", "sw"),
                ("style", &format!("background:{}", svg::PALETTE[i])),
            ],
            "",
        );
        m.elem("code", &[], &s.name);
        m.close();
    }
    m.close();
    for (label, fact) in facts {
        m.open("tr", &[]);
        m.elem("td", &[("class", "muted")], label);
        for (s, sv) in shown {
            m.elem("td", &[], &fact(s, sv));
        }
        m.close();
    }
    m.close();
}

fn mle_rate(sv: &Survival) -> RateText {
    RateText::stored(
        sv.events,
        0,
        sv.mle_rate_per_cycle,
        sv.mle_ci_low,
        sv.mle_ci_high,
    )
}
