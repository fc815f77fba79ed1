//! Cycles to the first anomaly: Kaplan–Meier curves of the trials and what
//! they say.

use super::super::format::{
    RateText, format_count, format_count_si, format_duration_ns, format_si,
};
use super::super::markup::Markup;
use super::super::svg::{self, Scale};
use super::scenario_rate;
use crate::report::schema::{Report, ScenarioReport, Survival};

pub(super) fn survival(m: &mut Markup, r: &Report) {
    let with: Vec<(&ScenarioReport, &Survival)> = r
        .scenarios
        .iter()
        .filter_map(|s| s.survival.as_ref().map(|v| (s, v)))
        .filter(|(_, v)| v.events > 0)
        .collect();
    m.elem("h2", &[], "Cycles to the first anomaly");
    if with.is_empty() {
        m.elem("p", &[("class", "note")], &absent_note(r));
        return;
    }
    let shown = &with[..with.len().min(svg::PALETTE.len())];
    m.elem(
        "p",
        &[("class", "note")],
        "Each trial runs until its first anomaly or its cycle cap (censored, marked |). \
         Solid: Kaplan–Meier estimate of the probability of no anomaly yet; dashed: what a \
         constant per-cycle rate fitted to the trials predicts. Cycles on a log scale.",
    );
    m.elem("p", &[("class", "note")], TWO_RATES);
    let x = cycle_scale(shown);
    let curves = step_curves(shown, x);
    m.open("div", &[("class", "survival")]);
    svg::step_chart(
        m,
        &svg::StepChart {
            title: "Probability of no anomaly yet",
            x,
            x_label: "cycles (log scale)",
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

/// Why a trial's rate and the pooled rate of one scenario differ.
pub(super) const TWO_RATES: &str = "Two rates, two questions. \"anomalies per cycle\" (the \
    Scenarios table) counts every anomaly over every cycle run. The trials' rate counts only \
    each trial's first anomaly, over the cycles before it: how soon one shows. They differ \
    when anomalies come in bursts (after the first, more follow within the same trial) and \
    when a trial starts before every worker races (its first cycles rarely see one).";

/// Why the section is empty: no trials at all, or no trial saw an anomaly.
pub(super) fn absent_note(r: &Report) -> String {
    let trials: u64 = r
        .scenarios
        .iter()
        .filter_map(|s| s.survival.as_ref())
        .map(|sv| sv.trials)
        .sum();
    if trials == 0 {
        "Not measured: this run had no trials (unlink-race run --trials N measures the cycles \
         to the first anomaly)."
            .into()
    } else {
        format!(
            "No curve: none of the {} trials saw an anomaly before its cycle cap.",
            format_count(trials)
        )
    }
}

/// The cycle axis: log decades over every trial and curve point.
pub(super) fn cycle_scale(shown: &[(&ScenarioReport, &Survival)]) -> Scale {
    let xs = shown.iter().flat_map(|(s, sv)| {
        s.trials
            .iter()
            .map(|t| t.cycles as f64)
            .chain(sv.curve.iter().map(|p| p.cycles as f64))
    });
    Scale::log_covering(xs, 1)
}

/// Each scenario's Kaplan–Meier steps, censoring ticks and the curve of the
/// constant rate fitted to its trials, `(1 − p)^x`.
pub(super) fn step_curves(shown: &[(&ScenarioReport, &Survival)], x: Scale) -> Vec<svg::StepCurve> {
    let (x_min, x_max) = match x {
        Scale::Log { min, max } | Scale::Linear { min, max } => (min, max),
    };
    shown
        .iter()
        .enumerate()
        .map(|(i, (s, sv))| {
            let p = sv.mle_rate_per_cycle;
            let model = if p > 0.0 && p < 1.0 {
                (0..=60)
                    .map(|k| {
                        let v = x_min * (x_max / x_min).powf(f64::from(k) / 60.0);
                        (v, (v * (-p).ln_1p()).exp())
                    })
                    .collect()
            } else {
                Vec::new()
            };
            svg::StepCurve {
                color: svg::PALETTE[i % svg::PALETTE.len()],
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
        .collect()
}

fn survival_facts(m: &mut Markup, shown: &[(&ScenarioReport, &Survival)]) {
    type Fact = (&'static str, fn(&ScenarioReport, &Survival) -> String);
    let facts: [Fact; 9] = [
        ("trials", |_, sv| format_count(sv.trials)),
        ("with an anomaly", |_, sv| format_count(sv.events)),
        ("censored (cap reached)", |_, sv| format_count(sv.censored)),
        ("first anomalies per cycle (MLE)", |_, sv| {
            let r = mle_rate(sv);
            format!("{} = {}", r.rate(), r.one_in_short())
        }),
        ("95% interval", |_, sv| mle_rate(sv).interval()),
        ("all anomalies per cycle", |s, _| {
            let r = scenario_rate(s);
            format!("{} = {}", r.rate(), r.one_in_short())
        }),
        (
            "median cycles to first, implied by the rate [95%]",
            |_, sv| crate::export::summary::median_cycles_text(sv).unwrap_or_else(|| "—".into()),
        ),
        ("median time to first, implied by the rate", |_, sv| {
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
                .map(|&c| format_count_si(c))
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
