//! Retention: how long a person's records may be kept under the programs that
//! selected them. Each program's `[retention]` says how long after the person's last
//! exit (`after_last_exit`), and how long for someone who overstayed
//! (`overstayer`); the longest of the programs that selected them applies. Someone
//! still present (no exit after their last entry) is never due.

use jiff::civil::Date;
use serde::Serialize;

use crate::obligation::{explain_selection, Facts, Term};

/// When a person's records fall due for erasure, and under which rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Due {
    /// The last day they may be kept; erased from the day after.
    pub keep_until: Date,
    /// E.g. `ees-visitors v1: 3y after the last exit (2027-02-01)`.
    pub rule: String,
}

/// The retention of one person on `on`, or `None` when no program with retention
/// rules selected them, or they are still present.
pub fn due(terms: &[Term], facts: &Facts, overstayed: bool, on: Date) -> Option<Due> {
    let last_entry = facts.entries.iter().map(|e| e.0).max();
    let last_exit = facts.exits.iter().copied().max()?;
    if last_entry.is_some_and(|e| e > last_exit) {
        return None;
    }
    let mut best: Option<Due> = None;
    for t in terms {
        if explain_selection(t, facts, on).is_err() {
            continue;
        }
        let r = &t.spec.retention;
        let period = if overstayed { r.overstayer.or(r.after_last_exit) } else { r.after_last_exit };
        let Some(period) = period else { continue };
        let Some(keep_until) = period.after(last_exit) else { continue };
        if best.as_ref().is_none_or(|b| keep_until > b.keep_until) {
            let p = &t.spec.program;
            let which = if overstayed && r.overstayer.is_some() { "for an overstayer, " } else { "" };
            best = Some(Due {
                keep_until,
                rule: format!("{} v{}: {which}{period} after the last exit ({last_exit})", p.id, p.version),
            });
        }
    }
    best
}
