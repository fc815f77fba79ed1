//! Stalls: syscalls that blocked longer than the watchdog limit.

use super::super::format::format_duration_ns;
use super::super::markup::Markup;
use crate::report::schema::Report;

pub(super) fn stalls(m: &mut Markup, r: &Report) {
    if r.scenarios.iter().all(|s| s.stalls.is_empty()) {
        return;
    }
    m.elem("h2", &[], "Stalls");
    m.elem(
        "p",
        &[("class", "note")],
        "Syscalls that took longer than the watchdog limit.",
    );
    m.open("table", &[]);
    m.open("tr", &[]);
    for h in ["scenario", "worker", "operation", "blocked for", "state"] {
        m.elem("th", &[], h);
    }
    m.close();
    for s in &r.scenarios {
        for st in &s.stalls {
            m.open("tr", &[("class", "hit")]);
            m.open("td", &[]);
            m.elem("code", &[], &s.name);
            m.close();
            m.elem("td", &[], &st.worker.to_string());
            m.elem(
                "td",
                &[("class", "mono")],
                st.op.map_or("?", |op| op.name()),
            );
            m.elem(
                "td",
                &[("class", "num")],
                &format_duration_ns(st.elapsed_ns as f64),
            );
            m.elem(
                "td",
                &[],
                if st.unfinished {
                    "still blocked when the run ended"
                } else {
                    "returned"
                },
            );
            m.close();
        }
    }
    m.close();
}
