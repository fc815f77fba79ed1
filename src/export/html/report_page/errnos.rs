//! "By errno": `io_error`, `stale`, `unexpected_errno` and `fd_enoent` split
//! by (side, operation, errno), each with its rate per cycle.

use super::scenarios::rate_cells;
use crate::export::format::RateText;
use crate::export::html::markup::Markup;
use crate::report::schema::Report;

/// Which call failed how, with its rate per cycle; nothing when no scenario
/// saw one of these classes.
pub(super) fn errno_breakdown(m: &mut Markup, r: &Report) {
    if r.scenarios.iter().all(|s| s.errno_breakdown.is_empty()) {
        return;
    }
    let several = r.scenarios.len() > 1;
    m.elem("h2", &[], "By errno");
    m.elem(
        "p",
        &[("class", "note")],
        "The classes an errno decides, split by the side that saw it, the operation that \
         failed and the errno (named on the machine that observed it).",
    );
    m.open("div", &[("class", "scroll")]);
    m.open("table", &[]);
    m.open("tr", &[]);
    let mut headers = vec!["class", "side", "operation", "errno"];
    if several {
        headers.insert(0, "scenario");
    }
    headers.extend(["count", "per cycle", "1 in", "95% interval"]);
    for h in headers {
        m.elem("th", &[], h);
    }
    m.close();
    for s in &r.scenarios {
        for row in &s.errno_breakdown {
            m.open("tr", &[("class", "hit")]);
            if several {
                m.open("td", &[]);
                m.elem("code", &[], &s.name);
                m.close();
            }
            m.open("td", &[]);
            m.elem("code", &[], row.class.name());
            m.close();
            m.elem("td", &[], row.side.name());
            m.elem("td", &[("class", "mono")], row.op.name());
            let errno = if row.errno_name.is_empty() {
                format!("errno {}", row.errno)
            } else {
                format!("{} ({})", row.errno_name, row.errno)
            };
            m.elem("td", &[("class", "mono")], &errno);
            rate_cells(m, &RateText::from_count(row.count, s.cycles));
            m.close();
        }
    }
    m.close();
    m.close();
}
