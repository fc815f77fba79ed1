//! The verdict of a whole report in a few lines, for the terminal after
//! `cargo bench`.

use crate::export::create;
use crate::export::format::{RateText, format_count};
use crate::report::schema::Report;

use super::class_rate;
use super::opens::pooled_clean_per_raced_open;

/// The verdict of a whole report in a few lines, for the terminal after
/// `cargo bench` (one block per filesystem): the same answer as the top of
/// the report page.
///
/// ```text
/// verdict on ext4 (48 scenarios, 15,008,528 cycles):
///   no anomaly: < 2.5e-7 per cycle at 95%, all scenarios pooled; in every
///   scenario < 2.5e-4 (the least-sampled ran 14,672 cycles)
///   0 zombie_fd in 460 K raced opens (< 8.0e-6 per raced open at 95%), all scenarios pooled
/// ```
pub fn report_verdict(r: &Report) -> String {
    use crate::export::pooled::{Kind, pooled};
    let cycles: u64 = r.scenarios.iter().map(|s| s.cycles).sum();
    let mut out = format!(
        "verdict on {} ({} {}, {} cycles{}):\n",
        r.machine.fs_type,
        r.scenarios.len(),
        if r.scenarios.len() == 1 {
            "scenario"
        } else {
            "scenarios"
        },
        format_count(cycles),
        if r.interrupted { ", interrupted" } else { "" }
    );
    let pooled = pooled(r);
    let seen: Vec<_> = pooled
        .iter()
        .filter(|p| p.kind == Kind::Anomaly && p.count > 0)
        .collect();
    if seen.is_empty() {
        let least = r
            .scenarios
            .iter()
            .min_by_key(|s| s.cycles)
            .map_or(String::new(), |s| {
                let bound = RateText::from_count(0, s.cycles);
                format!(
                    "; in every scenario {} (the least-sampled ran {} cycle{})",
                    bound.rate(),
                    format_count(s.cycles),
                    if s.cycles == 1 { "" } else { "s" }
                )
            });
        out += &format!(
            "  no anomaly: {} per cycle at 95%, all scenarios pooled{least}\n",
            RateText::from_count(0, cycles).rate()
        );
        if let Some(raced) = pooled_clean_per_raced_open(r) {
            out += &format!("  {raced}, all scenarios pooled\n");
        }
    }
    for p in seen {
        let rate = p.rate();
        out += &format!(
            "  {} seen {} time{} in {} of {} scenarios: {} pooled [95%: {}]",
            p.name,
            format_count(p.count),
            if p.count == 1 { "" } else { "s" },
            p.seen_in,
            p.scenarios,
            rate.one_in(),
            rate.interval()
        );
        if let Some((s, c)) = p.worst.filter(|_| r.scenarios.len() > 1) {
            out += &format!(
                "; highest in {}: {}",
                s.name,
                class_rate(s, c).one_in_short()
            );
        }
        out += "\n";
    }
    // The create race: the defect per racing create, the control beside it.
    for s in r.scenarios.iter().filter(|s| {
        create::is_create(s)
            && s.config.create_flags != Some(crate::scenario::CreateFlags::CreatExcl)
    }) {
        if let Some(v) = create::create_verdict(s) {
            out += &format!("  {}: {v}\n", s.name);
            if let Some(c) = create::control_line(r, s) {
                out += &format!("    {c}\n");
            }
        }
    }
    let stalls: usize = r.scenarios.iter().map(|s| s.stalls.len()).sum();
    if stalls > 0 {
        out += &format!("  {stalls} syscalls blocked longer than the watchdog limit\n");
    }
    out
}
