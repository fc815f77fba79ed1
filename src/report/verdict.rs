//! One-line verdicts: the answer a person reads first.

use crate::outcome::Class;
use crate::report::schema::ScenarioReport;

/// Formats a rate with three significant digits (`3.00e-6`), `0` as `0`.
pub fn format_rate(rate: f64) -> String {
    if rate == 0.0 {
        "0".into()
    } else {
        format!("{rate:.2e}")
    }
}

/// "1 in 3.3e5" for a rate.
pub fn one_in(rate: f64) -> String {
    if rate <= 0.0 {
        "none".into()
    } else {
        let m = 1.0 / rate;
        if m < 1e4 {
            format!("1 in {m:.0}")
        } else {
            format!("1 in {m:.2e}")
        }
    }
}

/// The anomaly classes of a scenario with a non-zero count, most frequent first.
pub fn seen_anomalies(s: &ScenarioReport) -> Vec<(&str, &crate::report::schema::ClassStats)> {
    let mut seen: Vec<_> = s
        .classes
        .iter()
        .filter(|(_, c)| !c.expected && c.count > 0)
        .map(|(name, c)| (name.as_str(), c))
        .collect();
    seen.sort_by(|a, b| b.1.count.cmp(&a.1.count).then(a.0.cmp(b.0)));
    seen
}

/// The exact one-sided 95% upper bound on the rate of any one anomaly class,
/// as reported for classes with a zero count.
pub fn zero_bound(s: &ScenarioReport) -> f64 {
    s.classes
        .get(Class::ZombieFd.name())
        .map_or(1.0, |c| c.ci_high)
}

/// `no anomaly in 200000 cycles; rate < 1.50e-5 at 95%` or
/// `zombie_fd seen 12 times: 1 in 8.33e3 cycles [6.2e-5, 2.1e-4]`.
pub fn verdict(s: &ScenarioReport) -> String {
    let seen = seen_anomalies(s);
    if seen.is_empty() {
        return format!(
            "no anomaly in {} cycles; rate < {} per class at 95%",
            s.cycles,
            format_rate(zero_bound(s))
        );
    }
    seen.iter()
        .map(|(name, c)| {
            format!(
                "{name} seen {} time{}: {} cycles [95%: {} .. {}]",
                c.count,
                if c.count == 1 { "" } else { "s" },
                one_in(c.rate),
                format_rate(c.ci_low),
                format_rate(c.ci_high)
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}
