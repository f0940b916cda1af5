//! Copying a database from one store to another (`fairgate migrate-store`): the
//! tables that are neither ledger nor projection row for row, then the ledger leaf
//! by leaf through ordinary commits (so the tree-size compare-and-set guards it).
//! Resumable: every step starts where the target already is. The projections are
//! not copied: the caller rebuilds them from the ledger on the target, and compares
//! the digest with the source's.

use crate::store::{Commit, Result, Store, StoreError, COPIED_TABLES};

/// What a copy did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyReport {
    /// Rows copied per table (0 where the target already had them all).
    pub tables: Vec<(String, u64)>,
    /// The target's tree size when this run started (non-zero: a resumed copy).
    pub resumed_at: u64,
    pub leaves_copied: u64,
    pub tree_size: u64,
    /// `false` when `progress` asked to stop: run again to resume.
    pub complete: bool,
}

/// Copy `from` into `to`, `chunk` rows per transaction. `progress(step, done, total)`
/// is called after each chunk; returning `false` stops the copy there (a later call
/// resumes it).
pub fn copy_store(
    from: &dyn Store,
    to: &dyn Store,
    chunk: u64,
    progress: &mut dyn FnMut(&str, u64, u64) -> bool,
) -> Result<CopyReport> {
    let chunk = chunk.max(1);
    let size = from.tree_size()?;
    let resumed_at = to.tree_size()?;
    // The target must hold a prefix of this ledger, or nothing.
    if resumed_at > size {
        return Err(StoreError::Backend(format!(
            "the target's ledger has {resumed_at} leaves, more than the source's {size}: it is another database"
        )));
    }
    if resumed_at > 0 {
        let (a, b) = (from.leaves_at(&[resumed_at - 1])?, to.leaves_at(&[resumed_at - 1])?);
        if a != b {
            return Err(StoreError::Backend(format!(
                "leaf {} differs between source and target: the target is another database, not a copy of this one",
                resumed_at - 1
            )));
        }
    }
    let mut report = CopyReport { resumed_at, tree_size: size, ..Default::default() };
    for (table, _, _) in COPIED_TABLES {
        let total = from.count_rows(table)?;
        // Rows come in key order and the target took only what earlier runs copied,
        // so its count is where to go on.
        let mut done = to.count_rows(table)?.min(total);
        let mut copied = 0;
        while done < total {
            let rows = from.copy_rows(table, done, chunk)?;
            if rows.is_empty() {
                break;
            }
            to.put_rows(table, &rows)?;
            done += rows.len() as u64;
            copied += rows.len() as u64;
            if !progress(table, done, total) {
                report.tables.push((table.to_string(), copied));
                return Ok(report);
            }
        }
        report.tables.push((table.to_string(), copied));
    }
    let mut at = resumed_at;
    while at < size {
        let leaves = from.leaves(at, chunk.min(size - at))?;
        if leaves.is_empty() {
            return Err(StoreError::Corrupt(format!("the source's ledger has a gap at leaf {at}")));
        }
        let n = leaves.len() as u64;
        to.commit(&Commit { expected_size: at, leaves, ..Default::default() })?;
        at += n;
        report.leaves_copied += n;
        if !progress("ledger", at, size) {
            return Ok(report);
        }
    }
    report.complete = true;
    Ok(report)
}
