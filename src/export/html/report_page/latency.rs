//! The lead of a page whose report has a `latency` section (the bench's
//! `latency` family on zombiefs): one sentence, how soon the tool finds a
//! defect of known rarity on this machine next to the best bare loop, then
//! every point in a table. Where the report has the rates (zombiefs's racing
//! opens per second), the sentence leads with the median they imply and the
//! ratio to the best bare loop, and the trials' medians check it.

use super::super::format::{format_count, format_duration_ns, format_si};
use super::super::markup::Markup;
use crate::report::schema::{LatencyMedian, LatencyMethod, LatencyPoint, Rate, Report};

/// The point the sentence is about: the harness at the lowest probability,
/// with the fewest threads (1×1 in the bench).
fn headline(points: &[LatencyPoint]) -> Option<&LatencyPoint> {
    points
        .iter()
        .filter(|p| p.method == LatencyMethod::Harness && p.race.is_open_unlink())
        .min_by(|a, b| {
            a.probability
                .total_cmp(&b.probability)
                .then((a.readers, a.deleters).cmp(&(b.readers, b.deleters)))
        })
}

/// The bare loop's point beside `p`.
fn bare_of<'a>(points: &'a [LatencyPoint], p: &LatencyPoint) -> Option<&'a LatencyPoint> {
    points.iter().find(|b| {
        b.method == LatencyMethod::Bare
            && b.probability == p.probability
            && (b.race, b.readers, b.deleters, b.creators)
                == (p.race, p.readers, p.deleters, p.creators)
    })
}

/// `1,000` for 0.001, `1` for 1.
fn one_in(probability: f64) -> String {
    if probability > 0.0 {
        format_count((1.0 / probability).round() as u64)
    } else {
        "∞".into()
    }
}

fn seconds(s: f64) -> String {
    format_duration_ns(s * 1e9)
}

/// `1.2 s (95%: 0.80 s to 2.1 s)`, with what is known when the cap or too
/// few trials leave an end open; `more than 3.0 s (the cap)` when over half
/// the trials reached the cap.
pub(super) fn median_text(m: &LatencyMedian, cap_ns: u64, show: &dyn Fn(f64) -> String) -> String {
    let cap = format_duration_ns(cap_ns as f64);
    match (m.median, m.ci_low, m.ci_high) {
        (None, _, _) => format!("more than {cap} (over half the trials reached the cap)"),
        (Some(x), None, _) => format!("{} (too few trials for an interval)", show(x)),
        (Some(x), Some(lo), Some(hi)) => format!("{} (95%: {} to {})", show(x), show(lo), show(hi)),
        (Some(x), Some(lo), None) => {
            format!("{} (95%: {} to beyond the {cap} cap)", show(x), show(lo))
        }
    }
}

/// The table's short form: `1.2 s [800 ms, 2.1 s]`, `[800 ms, cap]`,
/// `1.2 s (< 6 trials)`, `> cap`.
pub(super) fn median_cell(m: &LatencyMedian, show: &dyn Fn(f64) -> String) -> String {
    match (m.median, m.ci_low, m.ci_high) {
        (None, _, _) => "> cap".into(),
        (Some(x), None, _) => format!("{} (< 6 trials)", show(x)),
        (Some(x), Some(lo), hi) => format!(
            "{} [{}, {}]",
            show(x),
            show(lo),
            hi.map_or("cap".into(), show)
        ),
    }
}

/// `500 (95%: 420 to 580)` with `show` for the numbers.
fn rate_text(r: &Rate, show: &dyn Fn(f64) -> String) -> String {
    format!(
        "{} (95%: {} to {})",
        show(r.rate),
        show(r.ci_low),
        show(r.ci_high)
    )
}

fn ratio_figure(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.2}")
    } else {
        "∞".into()
    }
}

/// `1.4 s [1.1 s, 1.9 s]`: a median implied by a rate (no cap applies;
/// `∞` where the rate's lower end is 0, `—` without a rate).
fn implied_cell(m: &LatencyMedian) -> String {
    let Some(x) = m.median else {
        return "—".into();
    };
    format!(
        "{} [{}, {}]",
        seconds(x),
        m.ci_low.map_or("0".into(), seconds),
        m.ci_high.map_or("∞".into(), seconds)
    )
}

/// The lead sentence, `None` without latency points.
pub(super) fn lead_sentence(points: &[LatencyPoint]) -> Option<String> {
    let h = headline(points)?;
    if let Some(rate) = &h.rate {
        let bare = bare_of(points, h);
        let versus = match (&rate.ratio_to_bare, bare) {
            (Some(ratio), Some(b)) => format!(
                ", {} times the best bare loop's (pace {})",
                rate_text(ratio, &ratio_figure),
                b.pace
            ),
            _ => String::new(),
        };
        let bare_trials = bare.map_or(String::new(), |b| {
            format!(
                "; the bare loop's: {}",
                median_text(&b.median_seconds, b.cap_ns, &seconds)
            )
        });
        return Some(format!(
            "unlink-race finds a defect that hits 1 in {} racing opens in a median of {} on \
             this machine: it races {} opens per second in the window the defect needs \
             (zombiefs, {} reader × {} deleter{}, pace {}){versus}. Its {} trial{} took a \
             median of {}{bare_trials}.",
            one_in(h.probability),
            median_text(&rate.implied_median_seconds, h.cap_ns, &seconds),
            rate_text(&rate.racing_opens_per_second, &format_si),
            h.readers,
            h.deleters,
            if h.deleters == 1 { "" } else { "s" },
            h.pace,
            h.trials.len(),
            if h.trials.len() == 1 { "" } else { "s" },
            median_text(&h.median_seconds, h.cap_ns, &seconds),
        ));
    }
    let found = format!(
        "in a median of {}",
        median_text(&h.median_seconds, h.cap_ns, &seconds)
    );
    let bare = bare_of(points, h).map_or(String::new(), |b| {
        format!(
            " (bare loop, pace {}: {})",
            b.pace,
            median_text(&b.median_seconds, b.cap_ns, &seconds)
        )
    });
    Some(format!(
        "unlink-race finds a defect that hits 1 in {} racing opens {found} on this machine{bare}: \
         zombiefs, {} reader × {} deleter{}, {} trial{}.",
        one_in(h.probability),
        h.readers,
        h.deleters,
        if h.deleters == 1 { "" } else { "s" },
        h.trials.len(),
        if h.trials.len() == 1 { "" } else { "s" },
    ))
}

/// Median seconds of the harness over the bare loop's, when both exist.
fn ratio(points: &[LatencyPoint], p: &LatencyPoint) -> Option<f64> {
    let b = bare_of(points, p)?;
    Some(p.median_seconds.median? / b.median_seconds.median?)
}

/// The lead sentence and the table of every point; nothing without points.
pub(super) fn latency(m: &mut Markup, r: &Report) {
    let Some(sentence) = lead_sentence(&r.latency) else {
        return;
    };
    m.open("section", &[("class", "latency")]);
    m.elem("p", &[("class", "big")], &sentence);
    m.open("details", &[]);
    m.elem(
        "summary",
        &[],
        &format!(
            "Time to the first anomaly at all {} points (Kaplan–Meier medians, 95% intervals)",
            r.latency.len()
        ),
    );
    m.elem(
        "p",
        &[("class", "note")],
        "zombiefs gives a dead descriptor to the given fraction of racing opens (7-byte \
         file, inplace, unlink); in the create race's rows, a spurious ENOENT to the given \
         fraction of creates racing a create (O_CREAT), and the bare loop is the bare \
         create race (threads at a barrier). A trial releases the workers together and races until the \
         first anomaly or the cap (then censored); its cycles and time count from the \
         moment every worker runs. \
         The bare loop runs the same syscalls with no bookkeeping, at the pacing that \
         raced the most opens per second (in a calibration, or, where the rates were \
         measured, of every pacing measured); the trials of the two alternate. Racing \
         opens per second: zombiefs's own count while each side raced in turns \
         interleaved with the other's, on a mount that zombifies nothing; the median \
         they imply at 1 in N is ln 2 × N / rate. \
         Medians with their 95% interval in brackets; cap: beyond the cap (a censored \
         trial); > cap: over half the trials reached it.",
    );
    m.open("table", &[]);
    m.open("tr", &[]);
    for h in [
        "1 in N races",
        "readers × deleters, or creators",
        "method (pace)",
        "racing opens/s",
        "implied median time",
        "harness / bare (racing opens/s)",
        "trials (censored)",
        "cap",
        "median cycles",
        "median time",
        "harness / bare (median time)",
    ] {
        m.elem("th", &[], h);
    }
    m.close();
    for p in &r.latency {
        let censored = p.trials.iter().filter(|t| t.censored).count();
        m.open("tr", &[]);
        m.elem("td", &[("class", "num")], &one_in(p.probability));
        let who = match p.creators {
            Some(n) => format!("{n} creators (create race)"),
            None => format!("{}×{}", p.readers, p.deleters),
        };
        m.elem("td", &[], &who);
        let method = match p.creators {
            Some(_) => p.method.to_string(),
            None => format!("{} ({})", p.method, p.pace),
        };
        m.elem("td", &[], &method);
        let bracketed = |r: &Rate, show: &dyn Fn(f64) -> String| {
            format!("{} [{}, {}]", show(r.rate), show(r.ci_low), show(r.ci_high))
        };
        let (rate, implied, rate_ratio) = match &p.rate {
            Some(r) => (
                bracketed(&r.racing_opens_per_second, &format_si),
                implied_cell(&r.implied_median_seconds),
                r.ratio_to_bare
                    .as_ref()
                    .map_or(String::new(), |x| bracketed(x, &ratio_figure)),
            ),
            None => ("—".into(), "—".into(), String::new()),
        };
        m.elem("td", &[("class", "num")], &rate);
        m.elem("td", &[], &implied);
        m.elem("td", &[("class", "num")], &rate_ratio);
        m.elem(
            "td",
            &[("class", "num")],
            &format!("{} ({censored})", p.trials.len()),
        );
        m.elem(
            "td",
            &[("class", "num")],
            &format_duration_ns(p.cap_ns as f64),
        );
        let cycles = |x: f64| format_count(x.round() as u64);
        m.elem("td", &[], &median_cell(&p.median_cycles, &cycles));
        m.elem("td", &[], &median_cell(&p.median_seconds, &seconds));
        let ratio = match p.method {
            LatencyMethod::Harness => ratio(&r.latency, p).map(|x| format!("{x:.2}")),
            LatencyMethod::Bare => None,
        };
        m.elem("td", &[("class", "num")], &ratio.unwrap_or_default());
        m.close();
    }
    m.close();
    m.close();
    m.close();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::schema::{Pace, Trial};

    fn median(median: Option<f64>, lo: Option<f64>, hi: Option<f64>) -> LatencyMedian {
        LatencyMedian {
            median,
            ci_low: lo,
            ci_high: hi,
        }
    }

    fn point(p: f64, threads: u32, method: LatencyMethod, secs: LatencyMedian) -> LatencyPoint {
        LatencyPoint {
            probability: p,
            race: Default::default(),
            creators: None,
            readers: threads,
            deleters: threads,
            method,
            pace: Pace::Check,
            calibration: None,
            cap_ns: 3_000_000_000,
            cap_cycles: 2_000_000,
            trials: vec![
                Trial {
                    cycles: 10,
                    censored: false,
                    elapsed_ns: 1_000_000,
                };
                20
            ],
            median_cycles: median(Some(700.0), Some(400.0), Some(1500.0)),
            median_seconds: secs,
            rate: None,
        }
    }

    #[test]
    fn the_sentence_is_about_the_rarest_defect_at_the_fewest_threads() {
        let points = [
            point(
                0.01,
                1,
                LatencyMethod::Harness,
                median(Some(0.1), Some(0.05), Some(0.2)),
            ),
            point(
                0.001,
                2,
                LatencyMethod::Harness,
                median(Some(9.0), Some(8.0), Some(10.0)),
            ),
            point(
                0.001,
                1,
                LatencyMethod::Harness,
                median(Some(1.2), Some(0.8), Some(2.1)),
            ),
            point(
                0.001,
                1,
                LatencyMethod::Bare,
                median(Some(0.9), Some(0.5), None),
            ),
        ];
        assert_eq!(
            lead_sentence(&points).unwrap(),
            "unlink-race finds a defect that hits 1 in 1,000 racing opens in a median of \
             1.2 s (95%: 800 ms to 2.1 s) on this machine (bare loop, pace check: 900 ms \
             (95%: 500 ms to beyond the 3.0 s cap)): zombiefs, 1 reader × 1 deleter, 20 trials."
        );
        assert_eq!(lead_sentence(&[]), None);
        // Only bare points: nothing to lead with.
        assert_eq!(lead_sentence(&points[3..]), None);
    }

    #[test]
    fn a_censored_median_and_too_few_trials_say_so() {
        let cap = 3_000_000_000;
        assert_eq!(
            median_text(&median(None, Some(1.0), None), cap, &seconds),
            "more than 3.0 s (over half the trials reached the cap)"
        );
        assert_eq!(
            median_text(&median(Some(0.25), None, None), cap, &seconds),
            "250 ms (too few trials for an interval)"
        );
        // The table's short forms.
        let cells: Vec<String> = [
            median(Some(1.2), Some(0.8), Some(2.1)),
            median(Some(1.2), Some(0.8), None),
            median(Some(0.25), None, None),
            median(None, Some(1.0), None),
        ]
        .iter()
        .map(|m| median_cell(m, &seconds))
        .collect();
        assert_eq!(
            cells,
            [
                "1.2 s [800 ms, 2.1 s]",
                "1.2 s [800 ms, cap]",
                "250 ms (< 6 trials)",
                "> cap"
            ]
        );
    }
}
