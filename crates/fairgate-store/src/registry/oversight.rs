//! The auditors' search of the access log: every read of anyone's records by a
//! member of staff, for a purpose, within a span of days. The access events are
//! sealed in each person's records, so the search opens them one by one within the
//! span; the search is itself a read of every person it returns, logged on their
//! records (for oversight audit) before anything is returned.

use std::collections::HashMap;

use fairgate_core::access::{Actor, Purpose};
use fairgate_core::event::{Event, EventKind};
use fairgate_core::ids::SubjectId;
use fairgate_core::policy::{self, Read};
use fairgate_core::Invalid;
use fairgate_ledger::keys::SecretKey;
use jiff::civil::Date;
use jiff::Timestamp;

use super::{corrupt, Registry, Result};

/// The longest span one search covers, in days.
pub const MAX_DAYS: i64 = 31;
/// The most reads one search returns (the page says when there were more).
pub const MAX_HITS: usize = 500;

/// What to search for.
#[derive(Debug, Clone)]
pub struct AccessSearch {
    /// A member of staff's account id (`u-…`), or none for everyone.
    pub staff: Option<String>,
    pub purpose: Option<Purpose>,
    pub from: Date,
    /// The last day searched (inclusive).
    pub to: Date,
}

/// One read found.
#[derive(Debug, Clone)]
pub struct AccessHit {
    pub at: Timestamp,
    pub leaf_index: u64,
    pub subject: SubjectId,
    pub actor: Actor,
    pub purpose: Purpose,
    pub fields: Vec<String>,
    pub request: String,
}

impl Registry {
    /// The first leaf recorded at or after `t` (the tree size if none is).
    fn first_leaf_at(&self, t: Timestamp, size: u64) -> Result<u64> {
        let (mut lo, mut hi) = (0u64, size);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let row = self.store.leaves_at(&[mid])?.pop().ok_or_else(|| corrupt(format!("leaf {mid} is missing")))?;
            let header =
                fairgate_ledger::leaf::Header::decode(&row.leaf).map_err(|e| corrupt(format!("leaf {mid}: {e}")))?;
            if header.timestamp_ms < t.as_millisecond() {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        Ok(lo)
    }

    /// Search the access log (auditors, for oversight audit). Returns the reads
    /// found, oldest first (at most [`MAX_HITS`]), and whether there were more.
    pub fn search_access_log(
        &self,
        now: Timestamp,
        actor: &Actor,
        search: &AccessSearch,
        request: &str,
    ) -> Result<(Vec<AccessHit>, bool)> {
        policy::authorize_read(actor, Read::AccessLog, Purpose::OversightAudit)?;
        let days = i64::from((search.to - search.from).get_days());
        if days < 0 {
            return Err(Invalid::one("to", "is before from: give the last day to search, on or after the first").into());
        }
        if days >= MAX_DAYS {
            return Err(Invalid::one("to", format!("the span is at most {MAX_DAYS} days: search a shorter one")).into());
        }
        let start = |d: Date| d.to_zoned(jiff::tz::TimeZone::UTC).map(|z| z.timestamp());
        let (from, to) = match (start(search.from), search.to.tomorrow().ok().map(start)) {
            (Ok(f), Some(Ok(t))) => (f, t),
            _ => return Err(Invalid::one("from", "is not a day that can be searched").into()),
        };
        let (size, _) = self.tree_head()?;
        let (first, last) = (self.first_leaf_at(from, size)?, self.first_leaf_at(to, size)?);
        let mut keys: HashMap<u64, Option<(SubjectId, SecretKey)>> = HashMap::new();
        let mut hits = Vec::new();
        let mut more = false;
        for (leaf_index, no) in self.store.kind_leaves_in(EventKind::PersonalDataAccessed.code(), first, last)? {
            if let std::collections::hash_map::Entry::Vacant(slot) = keys.entry(no) {
                let k = match self.store.subject_keys(no)? {
                    Some(row) => {
                        self.unwrap_keys(&row)?.map(|(_, access)| (SubjectId::from_bytes(row.subject_id), access))
                    }
                    None => None,
                };
                slot.insert(k);
            }
            let Some(Some((subject, access))) = keys.get(&no) else { continue };
            let Some(row) = self.store.leaves_at(&[leaf_index])?.pop() else { continue };
            let Event::PersonalDataAccessed(e) = self.open_leaf(&row, access)? else { continue };
            if search.staff.as_ref().is_some_and(|s| *s != e.actor.id) || search.purpose.is_some_and(|p| p != e.purpose)
            {
                continue;
            }
            if hits.len() == MAX_HITS {
                more = true;
                break;
            }
            let header = fairgate_ledger::leaf::Header::decode(&row.leaf)
                .map_err(|err| corrupt(format!("leaf {leaf_index}: {err}")))?;
            hits.push(AccessHit {
                at: crate::project::recorded_at(header.timestamp_ms),
                leaf_index,
                subject: *subject,
                actor: e.actor,
                purpose: e.purpose,
                fields: e.fields,
                request: e.request,
            });
        }
        if !hits.is_empty() {
            let mut people: Vec<SubjectId> = hits.iter().map(|h| h.subject).collect();
            people.sort();
            people.dedup();
            self.write(now, |b| {
                for id in &people {
                    b.record_access(*id, actor, Read::AccessLog, Purpose::OversightAudit, &["access-log"], request)?;
                }
                Ok(())
            })?;
        }
        Ok((hits, more))
    }
}
