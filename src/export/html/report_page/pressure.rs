//! Race pressure: how hard each scenario pressed the race (raced opens, the
//! pace and, when `auto` chose it, the calibration's figures), its anomalies
//! per raced open, and the terminal summary's warning where the race was
//! barely pressed. The sentences come from [`crate::export::summary`], so
//! the page and the terminal say the same thing.

use super::super::markup::Markup;
use crate::export::create::{
    control_line, create_verdict, is_create, racing_creates_text, racing_warning, rounds,
};
use crate::export::summary::{
    Opens, RACED_NOT_COUNTED, calibration_decision, clean_per_open, overlapped_not_counted,
    overlapped_opens_text, pressure_warning, raced_opens_text, seen_anomalies, seen_per_open,
};
use crate::report::schema::{Report, ScenarioReport};

/// The create race: per scenario its racing creates, its defects per racing
/// create with the creator count, and the `O_EXCL` control beside it.
fn creates(m: &mut Markup, r: &Report) {
    let creates: Vec<&ScenarioReport> = r.scenarios.iter().filter(|s| is_create(s)).collect();
    if creates.is_empty() {
        return;
    }
    m.elem("h3", &[], "Racing creates");
    m.elem(
        "p",
        &[("class", "note")],
        "Each round, the creators are released together and all open(O_CREAT…) one fresh \
         name. A racing create is a create call whose time on the monotonic clock overlapped \
         another creator's call in its round: only those can show current macOS's spurious \
         ENOENT, and rates per racing create compare between machines of different speeds. \
         O_CREAT|O_EXCL is the control: one winner a round, EEXIST for the others. \
         Intervals are 95%.",
    );
    for s in &creates {
        if let Some(w) = racing_warning(s) {
            m.open("p", &[("class", "warn")]);
            m.elem("code", &[], &s.name);
            m.text(&format!(": {w}"));
            m.close();
        }
    }
    m.open("table", &[("class", "tight")]);
    m.open("tr", &[]);
    for h in [
        "scenario",
        "flags",
        "rounds",
        "racing creates",
        "per racing create",
        "O_EXCL control",
    ] {
        m.elem("th", &[], h);
    }
    m.close();
    for s in creates {
        let hit = s.anomalies > 0;
        m.open("tr", if hit { &[("class", "hit")] } else { &[] });
        m.open("td", &[]);
        m.elem("code", &[], &s.name);
        m.close();
        m.elem("td", &[], s.config.create_flags.map_or("", |f| f.c_flags()));
        m.elem(
            "td",
            &[("class", "num")],
            &super::super::format::format_count(rounds(s)),
        );
        m.elem(
            "td",
            &[],
            &racing_creates_text(s).unwrap_or_else(|| "not counted".into()),
        );
        m.elem(
            "td",
            &[("class", if hit { "wrap bad" } else { "wrap" })],
            &create_verdict(s).unwrap_or_else(|| "—".into()),
        );
        m.elem(
            "td",
            &[("class", "muted wrap")],
            &control_line(r, s).unwrap_or_else(|| "— (this is the control)".into()),
        );
        m.close();
    }
    m.close();
}

pub(super) fn pressure(m: &mut Markup, r: &Report) {
    creates(m, r);
    if r.scenarios.iter().all(is_create) {
        return;
    }
    m.elem("h3", &[], "Race pressure");
    m.elem(
        "p",
        &[("class", "note")],
        "A raced open is a cycle whose open succeeded on a file whose last link was already \
         removed: only those cycles can show the macOS defect. Their count says how hard the \
         race was pressed, and rates per raced open compare between machines of different \
         speeds. An overlapped open is a raced open whose open was still running when the \
         removal that took its file returned: the removal landed inside the open, the window \
         the defect needs (an open that returned before the removal began is POSIX's race). \
         Intervals are 95%.",
    );
    if r.scenarios.iter().all(|s| s.raced_opens.is_none()) {
        m.elem(
            "p",
            &[],
            &format!(
                "Raced opens: {RACED_NOT_COUNTED}. This report was written by an unlink-race \
                 that did not count them: its rates are per cycle only, and its pace reads as \
                 sleep, the only pacing then."
            ),
        );
        return;
    }
    let warnings: Vec<(&ScenarioReport, String)> = r
        .scenarios
        .iter()
        .filter_map(|s| {
            pressure_warning(s)
                .or_else(|| racing_warning(s))
                .map(|w| (s, w))
        })
        .collect();
    if !warnings.is_empty() {
        m.open("ul", &[]);
        for (s, w) in &warnings {
            m.open("li", &[("class", "warn")]);
            m.elem("code", &[], &s.name);
            m.text(&format!(": {w}"));
            m.close();
        }
        m.close();
    }
    m.open("table", &[("class", "tight")]);
    m.open("tr", &[]);
    for h in [
        "scenario",
        "raced opens",
        "overlapped opens",
        "pace",
        "anomalies per raced open",
        "anomalies per overlapped open",
        "calibration: what decided",
    ] {
        m.elem("th", &[], h);
    }
    m.close();
    for s in r.scenarios.iter().filter(|s| !is_create(s)) {
        let hit = s.anomalies > 0;
        m.open("tr", if hit { &[("class", "hit")] } else { &[] });
        m.open("td", &[]);
        m.elem("code", &[], &s.name);
        m.close();
        match raced_opens_text(s) {
            Some(text) => m.elem("td", &[], &text),
            None => m.elem("td", &[("class", "muted")], RACED_NOT_COUNTED),
        };
        match overlapped_opens_text(s) {
            Some(text) => m.elem("td", &[], &text),
            None => m.elem("td", &[("class", "muted")], overlapped_not_counted(s)),
        };
        let pace = match (&s.calibration, s.raced_opens) {
            (Some(_), _) => format!("{} (chosen by auto)", s.pace),
            (None, Some(_)) => s.pace.to_string(),
            (None, None) => format!("{} (older report)", s.pace),
        };
        m.elem("td", &[], &pace);
        for opens in [Opens::Raced, Opens::Overlapped] {
            m.elem(
                "td",
                &[("class", if hit { "wrap bad" } else { "wrap" })],
                &per_open(opens, s),
            );
        }
        m.elem(
            "td",
            &[("class", "muted wrap")],
            &calibration_decision(s).unwrap_or_else(|| {
                if s.raced_opens.is_some() {
                    "— (pace given)".into()
                } else {
                    "—".into()
                }
            }),
        );
        m.close();
    }
    m.close();
}

/// `0 zombie_fd in 1.2 M raced opens (< 3.1e-6 per raced open)`, or each
/// anomaly seen: `zombie_fd: 12 in 40 K raced opens (3.0e-4 per raced open
/// [95%: …])`; the same per overlapped open.
fn per_open(opens: Opens, s: &ScenarioReport) -> String {
    if opens.count(s).is_none() {
        return match opens {
            Opens::Raced => RACED_NOT_COUNTED,
            Opens::Overlapped => overlapped_not_counted(s),
        }
        .into();
    }
    let seen = seen_anomalies(s);
    if seen.is_empty() {
        return clean_per_open(opens, s).unwrap_or_else(|| "—".into());
    }
    seen.iter()
        .map(|(class, c)| {
            let rate = seen_per_open(opens, s, c).unwrap_or_else(|| {
                format!(
                    "not confined to {n}s (seen more often than {n}s)",
                    n = opens.noun()
                )
            });
            format!("{class}: {rate}")
        })
        .collect::<Vec<_>>()
        .join("; ")
}
