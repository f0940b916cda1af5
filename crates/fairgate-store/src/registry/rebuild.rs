//! Rebuilding the projections from the ledger (through `project::project`, then the
//! tallies and compactions with the live code), and the digest that shows a rebuild
//! gave identical projections.

use super::*;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RebuildReport {
    pub leaves: u64,
    pub projected: u64,
    /// Leaves whose subject keys were destroyed.
    pub unreadable: u64,
}

impl Registry {
    /// The digest of every projection, once the stay facts are compacted (a rebuild
    /// compacts them fully, so this is the figure to compare with one).
    pub fn projection_digest(&self) -> Result<crate::store::ProjectionDigest> {
        self.compact_stay_facts()?;
        Ok(self.store.projection_digest()?)
    }

    /// Drop every projection and rebuild it from the ledger. Leaves whose keys were
    /// destroyed are skipped (they are unreadable by design). `progress` gets
    /// (leaves done, total). Writes wait until it finishes.
    pub fn rebuild(&self, progress: &mut dyn FnMut(u64, u64)) -> Result<RebuildReport> {
        let mut w = self.lock()?;
        w.cache.clear();
        self.store.drop_projections()?;
        let size = self.store.tree_size()?;
        let mut keys = HashMap::new();
        let mut report = RebuildReport { leaves: size, ..Default::default() };
        let mut start = 0;
        while start < size {
            let rows = self.store.leaves(start, 10_000)?;
            if rows.is_empty() {
                return Err(corrupt(format!("the ledger has a gap at leaf {start}")));
            }
            let mut out = Vec::with_capacity(rows.len() * 2);
            for row in &rows {
                let header = Header::decode(&row.leaf).map_err(|e| corrupt(format!("leaf {}: {e}", row.index)))?;
                let r = self.key_ids.open(&header.key_id);
                if r.leaf_index != row.index {
                    return Err(corrupt(format!(
                        "leaf {} carries the key id of leaf {}: leaves were moved",
                        row.index, r.leaf_index
                    )));
                }
                if r.subject_no == SYSTEM_SUBJECT_NO {
                    if r.slot != SLOT_SYSTEM {
                        return Err(corrupt(format!("leaf {} names key slot {} of the system", row.index, r.slot)));
                    }
                    let event = self.open_leaf(row, &self.system)?;
                    project(SYSTEM_SUBJECT_NO, row.index, header.timestamp_ms, &event, &self.blind, &mut out);
                    report.projected += 1;
                    continue;
                }
                let (data, access) = self.partial_keys(&mut keys, r.subject_no)?;
                let Some(key) = self.leaf_key(r.slot, r.subject_no, data, access)? else {
                    // Erased: nothing of it can be read, but its clear header still counts
                    // in the log-event table, which anyone can recompute from the headers.
                    report.unreadable += 1;
                    let kind = EventKind::from_code(header.kind)
                        .ok_or_else(|| corrupt(format!("leaf {} has unknown kind {}", row.index, header.kind)))?;
                    out.push(Projection::Tally {
                        metric: Metric::LogEvents.as_str().to_string(),
                        dims: [fairgate_core::report::kind_name(kind).to_string(), String::new(), String::new()],
                        month: fairgate_core::report::month_of(recorded_at(header.timestamp_ms)),
                        count: 1,
                    });
                    continue;
                };
                let event = self.open_leaf(row, &key)?;
                project(r.subject_no, row.index, header.timestamp_ms, &event, &self.blind, &mut out);
                report.projected += 1;
            }
            self.store.apply_projections(&out)?;
            start += rows.len() as u64;
            progress(start, size);
        }
        // The stay facts, compacted the usual way (the writer lock is still held).
        let mut from = 0;
        while from < size {
            let end = (from + self.compaction_chunk).min(size);
            self.compact_chunk(from, end)?;
            from = end;
        }
        Ok(report)
    }
}
