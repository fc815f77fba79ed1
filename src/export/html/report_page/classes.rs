//! Outcome classes: every class of a one-scenario report, or the pooled
//! classes and where each was seen for a grid. Each anomaly class has its
//! rate per raced open and per overlapped open, with their 95% intervals,
//! next to its rate per cycle; the classes of a create racing a create
//! (`spurious_enoent_on_create`, `eexist_without_excl`, `excl_extra_winner`)
//! have theirs per racing create in the first of those columns.

use super::super::format::{RateText, format_count, format_significant};
use super::super::markup::Markup;
use super::super::{Kind, class_kind};
use super::scenarios::{group_row, rate_cells, sorted_classes};
use super::{class_rate, kind_pill};
use crate::export::pooled::pooled;
use crate::export::summary::{Opens, RACED_NOT_COUNTED, overlapped_not_counted};
use crate::report::schema::{Class, ClassStats, Report, ScenarioReport};

/// After a rate in those columns that is per racing create.
const PER_RACING_CREATE: &str = " per racing create";
/// Headers of the two per-raced-open columns.
const RACED_HEADERS: [&str; 2] = ["per raced open", "95% interval (per raced open)"];
/// Headers of the two per-overlapped-open columns.
const OVERLAPPED_HEADERS: [&str; 2] = ["per overlapped open", "95% interval (per overlapped open)"];

/// The kinds of opens a table gives rates per: raced opens, and overlapped
/// opens where some scenario counted them.
fn opens_of(r: &[&ScenarioReport]) -> Vec<Opens> {
    if r.iter().any(|s| s.overlapped_opens.is_some()) {
        vec![Opens::Raced, Opens::Overlapped]
    } else {
        vec![Opens::Raced]
    }
}

/// The two column headers of rates per `opens`.
fn headers(opens: Opens) -> [&'static str; 2] {
    match opens {
        Opens::Raced => RACED_HEADERS,
        Opens::Overlapped => OVERLAPPED_HEADERS,
    }
}

pub(super) fn classes(m: &mut Markup, r: &Report) {
    m.elem("h2", &[], "Outcome classes");
    if let [s] = r.scenarios.as_slice() {
        single_table(m, s);
    } else {
        pooled_table(m, r);
    }
    nlink_note(m, r);
    if r.scenarios.len() > 1 {
        seen_matrix(m, r);
    }
}

/// Every class of the one scenario, grouped by kind.
fn single_table(m: &mut Markup, s: &ScenarioReport) {
    {
        let opens = opens_of(&[s]);
        m.open("table", &[]);
        m.open("tr", &[]);
        for h in ["class", "count", "per cycle", "1 in", "95% interval"]
            .into_iter()
            .chain(opens.iter().flat_map(|&o| headers(o)))
        {
            m.elem("th", &[], h);
        }
        m.close();
        let mut last = None;
        for (name, c) in sorted_classes(s) {
            let kind = class_kind(name, c);
            if last != Some(kind) {
                group_row(m, 5 + 2 * opens.len(), kind);
                last = Some(kind);
            }
            m.open(
                "tr",
                if kind == Kind::Anomaly && c.count > 0 {
                    &[("class", "hit")]
                } else {
                    &[]
                },
            );
            m.open("td", &[]);
            m.elem("code", &[], name.name());
            m.close();
            rate_cells(m, &class_rate(s, c));
            for &o in &opens {
                per_open_cells(m, o, s, c, kind);
            }
            m.close();
        }
        m.close();
    }
}

/// In place of a rate per raced open where no open raced: its bound would
/// be `< 1`, which says nothing.
const NO_RACED_OPEN_CELL: &str = "no raced open";

/// In place of a rate per `opens` where there was none ([`NO_RACED_OPEN_CELL`]).
fn no_open_cell(opens: Opens) -> &'static str {
    match opens {
        Opens::Raced => NO_RACED_OPEN_CELL,
        Opens::Overlapped => "no overlapped open",
    }
}

/// Why a class has no rate per `opens` although it is an anomaly: not
/// counted, or seen more often than such opens.
fn no_rate(opens: Opens, s: Option<&ScenarioReport>, counted: bool) -> &'static str {
    match (opens, counted) {
        (Opens::Raced, false) => RACED_NOT_COUNTED,
        (Opens::Overlapped, false) => s.map_or(RACED_NOT_COUNTED, overlapped_not_counted),
        (Opens::Raced, true) => "not confined to raced opens (seen more often)",
        (Opens::Overlapped, true) => "not confined to overlapped opens (seen more often)",
    }
}

/// A class's rate per raced (or overlapped) open and its interval, as the
/// report stores them; only anomaly classes have one.
fn per_open_cells(m: &mut Markup, opens: Opens, s: &ScenarioReport, c: &ClassStats, kind: Kind) {
    if let (Kind::Anomaly, Some(racing), Some(r)) = (kind, s.racing_creates, c.per_racing_create) {
        if opens != Opens::Raced {
            m.elem("td", &[("class", "muted"), ("colspan", "2")], "—");
        } else if racing == 0 {
            m.elem(
                "td",
                &[("class", "muted"), ("colspan", "2")],
                "no racing create",
            );
        } else {
            let rate = RateText::stored(c.count, racing, r.rate, r.ci_low, r.ci_high);
            raced_rate_cells(m, &rate, PER_RACING_CREATE);
        }
        return;
    }
    if crate::export::create::is_create(s) {
        m.elem("td", &[("class", "muted"), ("colspan", "2")], "—");
        return;
    }
    let why = match (kind, opens.count(s), opens.rate(c)) {
        (Kind::Anomaly, Some(0), Some(_)) => no_open_cell(opens),
        (Kind::Anomaly, Some(n), Some(r)) => {
            let rate = RateText::stored(c.count, n, r.rate, r.ci_low, r.ci_high);
            raced_rate_cells(m, &rate, "");
            return;
        }
        (Kind::Anomaly, None, _) => no_rate(opens, Some(s), false),
        (Kind::Anomaly, Some(_), None) => no_rate(opens, Some(s), true),
        _ => "—",
    };
    m.elem("td", &[("class", "muted"), ("colspan", "2")], why);
}

/// `3.0e-4` (or `< 3.1e-6`) and its interval, followed by `note`.
fn raced_rate_cells(m: &mut Markup, rate: &RateText, note: &str) {
    m.elem(
        "td",
        &[("class", "num")],
        &if rate.is_bound() {
            rate.rate()
        } else {
            format_significant(rate.rate, 2)
        },
    );
    m.elem(
        "td",
        &[("class", if rate.is_bound() { "muted" } else { "" })],
        &format!("{}{note}", rate.interval_short()),
    );
}

/// A create class pooled per racing create over the scenarios where it is
/// an anomaly and has that rate: the rate, and how many of the scenarios
/// where it is an anomaly that covers.
fn pooled_racing_creates(r: &Report, class: Class) -> Option<(RateText, usize, usize)> {
    if !class.per_racing_create() {
        return None;
    }
    let (mut count, mut racing, mut used, mut of) = (0u64, 0u64, 0, 0);
    for s in &r.scenarios {
        let Some(c) = s.classes.get(&class) else {
            continue;
        };
        if class_kind(class, c) != Kind::Anomaly {
            continue;
        }
        of += 1;
        if let (Some(n), Some(_)) = (s.racing_creates, c.per_racing_create) {
            count += c.count;
            racing += n;
            used += 1;
        }
    }
    (used > 0).then(|| (RateText::from_count(count, racing), used, of))
}

/// A class pooled per raced (or overlapped) open over the scenarios where
/// it is an anomaly and the report gives it a rate per such open: the rate,
/// and how many of the scenarios where it is an anomaly that covers.
fn pooled_per_open(r: &Report, class: Class, opens: Opens) -> Option<(RateText, usize, usize)> {
    let mut count = 0u64;
    let mut raced = 0u64;
    let (mut used, mut of) = (0, 0);
    for s in &r.scenarios {
        let Some(c) = s.classes.get(&class) else {
            continue;
        };
        if class_kind(class, c) != Kind::Anomaly {
            continue;
        }
        of += 1;
        if let (Some(n), Some(_)) = (opens.count(s), opens.rate(c)) {
            count += c.count;
            raced += n;
            used += 1;
        }
    }
    if used == 0 {
        return None;
    }
    let interval = crate::stats::class_interval(count, raced, class.once_per_cycle());
    let rate = RateText {
        count,
        cycles: raced,
        rate: crate::stats::rate(count, raced),
        interval,
    };
    Some((rate, used, of))
}

/// Every class of a grid, pooled over the scenarios where it has one kind.
fn pooled_table(m: &mut Markup, r: &Report) {
    m.elem(
        "p",
        &[("class", "note")],
        "All scenarios pooled: counts and cycles summed over the scenarios where the class \
         has that kind.",
    );
    let all: Vec<&ScenarioReport> = r.scenarios.iter().collect();
    let opens = opens_of(&all);
    m.open("table", &[]);
    m.open("tr", &[]);
    for h in [
        "class",
        "seen in",
        "count",
        "per cycle",
        "1 in",
        "95% interval",
    ]
    .into_iter()
    .chain(opens.iter().flat_map(|&o| headers(o)))
    {
        m.elem("th", &[], h);
    }
    m.close();
    let mut last = None;
    for p in pooled(r) {
        if p.kind == Kind::ExpectedRace && p.count == 0 {
            continue;
        }
        if last != Some(p.kind) {
            group_row(m, 6 + 2 * opens.len(), p.kind);
            last = Some(p.kind);
        }
        m.open(
            "tr",
            if p.kind == Kind::Anomaly && p.count > 0 {
                &[("class", "hit")]
            } else {
                &[]
            },
        );
        m.open("td", &[]);
        m.elem("code", &[], p.name.name());
        m.close();
        m.elem(
            "td",
            &[],
            &format!("{} of {} scenarios", p.seen_in, p.scenarios),
        );
        rate_cells(m, &p.rate());
        if let Some((rate, used, of)) =
            pooled_racing_creates(r, p.name).filter(|_| p.kind == Kind::Anomaly)
        {
            if rate.cycles == 0 {
                m.elem(
                    "td",
                    &[("class", "muted"), ("colspan", "2")],
                    "no racing create",
                );
            } else {
                let note = if used < of {
                    format!("{PER_RACING_CREATE} ({used} of {of} scenarios)")
                } else {
                    PER_RACING_CREATE.to_string()
                };
                raced_rate_cells(m, &rate, &note);
            }
            for _ in 1..opens.len() {
                m.elem("td", &[("class", "muted"), ("colspan", "2")], "—");
            }
            m.close();
            continue;
        }
        for &o in &opens {
            pooled_cells(m, r, &p, o);
        }
        m.close();
    }
    m.close();
}

/// A pooled class's rate per raced (or overlapped) open and its interval.
fn pooled_cells(m: &mut Markup, r: &Report, p: &crate::export::pooled::Pooled, opens: Opens) {
    match pooled_per_open(r, p.name, opens).filter(|_| p.kind == Kind::Anomaly) {
        Some((rate, _, _)) if rate.cycles == 0 => {
            m.elem(
                "td",
                &[("class", "muted"), ("colspan", "2")],
                no_open_cell(opens),
            );
        }
        Some((rate, used, of)) => {
            let note = (used < of).then(|| format!(" ({used} of {of} scenarios)"));
            raced_rate_cells(m, &rate, note.as_deref().unwrap_or(""));
        }
        None => {
            let counted = r.scenarios.iter().any(|s| opens.count(s).is_some());
            let why = match p.kind {
                Kind::Anomaly => {
                    let only = match r.scenarios.as_slice() {
                        [s] => Some(s),
                        _ => None,
                    };
                    no_rate(opens, only, counted)
                }
                _ => "—",
            };
            m.elem("td", &[("class", "muted"), ("colspan", "2")], why);
        }
    }
}

/// Rows: scenarios that saw an anomaly or an expected race; columns: the
/// classes seen anywhere, anomalies first, each kind apart.
fn seen_matrix(m: &mut Markup, r: &Report) {
    let mut columns: Vec<(Kind, Class)> = r
        .scenarios
        .iter()
        .flat_map(|s| s.classes.iter())
        .filter(|(n, c)| class_kind(**n, c) != Kind::Normal && c.count > 0)
        .map(|(n, c)| (class_kind(*n, c), *n))
        .collect();
    columns.sort();
    columns.dedup();
    let rows: Vec<&ScenarioReport> = r
        .scenarios
        .iter()
        .filter(|s| {
            s.classes
                .iter()
                .any(|(n, c)| class_kind(*n, c) != Kind::Normal && c.count > 0)
        })
        .collect();
    m.elem("h3", &[], "Where anomalies and expected races were seen");
    if rows.is_empty() {
        m.elem(
            "p",
            &[],
            "Nowhere: no scenario saw an anomaly or an expected race.",
        );
        return;
    }
    m.elem(
        "p",
        &[("class", "note")],
        "Per scenario: 1 in how many cycles, the count and the 95% interval of the rate. \
         0: none seen, bounded like every anomaly class not seen there (second column); \
         blank: the class has the other kind in that scenario.",
    );
    m.open("div", &[("class", "scroll")]);
    m.open("table", &[("class", "tight matrix")]);
    m.open("tr", &[]);
    m.elem("th", &[], "scenario");
    m.elem("th", &[], "each anomaly class not seen");
    for (kind, name) in &columns {
        m.open("th", &[]);
        m.elem("code", &[], name.name());
        m.text(" ");
        kind_pill(m, *kind);
        m.close();
    }
    m.close();
    for s in rows {
        matrix_row(m, s, &columns);
    }
    m.close();
    m.close();
}

/// One scenario's row of the matrix.
fn matrix_row(m: &mut Markup, s: &ScenarioReport, columns: &[(Kind, Class)]) {
    m.open("tr", &[]);
    m.open("td", &[]);
    m.elem("code", &[], &s.name);
    m.close();
    // Every unseen anomaly class of a scenario has about the same bound,
    // 1 - 0.025^(1/n) (recomputed: older reports stored a one-sided one).
    let unseen = s
        .classes
        .iter()
        .filter(|(n, c)| class_kind(**n, c) == Kind::Anomaly && c.count == 0)
        .map(|_| crate::stats::rate_interval(0, s.cycles).high)
        .fold(None, |acc: Option<f64>, h| {
            Some(acc.map_or(h, |a| a.max(h)))
        });
    m.elem(
        "td",
        &[("class", "muted")],
        &unseen.map_or("—".into(), |h| {
            RateText::stored(0, s.cycles, 0.0, 0.0, h).rate()
        }),
    );
    for (kind, name) in columns {
        match s.classes.get(name) {
            Some(c) if class_kind(*name, c) == *kind && c.count > 0 => {
                let rate = class_rate(s, c);
                let hot = *kind == Kind::Anomaly;
                m.open("td", &[("class", if hot { "cell hit" } else { "cell" })]);
                m.elem(
                    "span",
                    &[("class", if hot { "bad" } else { "" })],
                    &rate.one_in_short(),
                );
                m.void("br", &[]);
                m.elem(
                    "span",
                    &[("class", "note")],
                    &format!("{} seen · {}", format_count(c.count), rate.interval()),
                );
                m.close();
            }
            Some(c) if class_kind(*name, c) == *kind => {
                m.elem("td", &[("class", "muted")], "0");
            }
            _ => {
                m.elem("td", &[], "");
            }
        }
    }
    m.close();
}

fn nlink_note(m: &mut Markup, r: &Report) {
    let (zero, nonzero) = r.scenarios.iter().fold((0, 0), |(z, n), s| {
        (z + s.empty_read_nlink.zero, n + s.empty_read_nlink.nonzero)
    });
    if zero + nonzero > 0 {
        m.elem(
            "p",
            &[("class", "note")],
            &format!(
                "empty_read by link count: st_nlink == 0 (unlinked after open): {}; \
                 st_nlink ≥ 1: {}.",
                format_count(zero),
                format_count(nonzero)
            ),
        );
    }
}
