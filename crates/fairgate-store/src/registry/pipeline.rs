//! The write pipeline: the writer lock (and noticing another process's appends),
//! one command as one atomic commit (`write`), bulk loads as a pipeline of atomic
//! batches (`write_stream`), and the batch's own plumbing: loading a subject's
//! state, sealing and hashing each event into a leaf, and handing the commit over.

use super::*;

/// The header kind of sealed biometric records: not an event kind (those are below
/// 1,000), so a sealed record can never pass for a leaf.
pub(crate) const BIOMETRICS_KIND: u16 = 0xB10;

/// What a command must see in the store before it runs.
#[derive(Clone, Copy)]
enum Waits {
    /// Every command before it (the default).
    All,
    /// The commands that touched this person (it reads only their rows).
    Subject(SubjectId),
    /// Nothing (it reads nothing from the store).
    Nothing,
}

/// Commits written in one transaction at most (group commit).
const MAX_GROUP: usize = 1024;

/// Group commit: commands hand their commits over under the writer lock, then wait
/// without it while one of them writes everything handed over in one transaction
/// and one sync. Later commands build on commits still being written; if a group
/// fails, they fail with it and the writer is reloaded from the store.
#[derive(Default)]
pub(crate) struct Group {
    /// Handed over, waiting for the next transaction, with their numbers.
    queue: Vec<(u64, Commit)>,
    /// The number of the last commit handed over (the first is 1).
    next: u64,
    /// Every commit up to this number has ended, committed or failed.
    settled: u64,
    /// The tree size after the last commit that was committed here.
    settled_size: u64,
    /// Failed ranges of commit numbers, each kept until every command in it has
    /// been told (never dropped earlier: a command that found no failure for its
    /// commit would report it as committed).
    failures: Vec<Failure>,
    /// A transaction is being written (by a waiting command, without this lock).
    flushing: bool,
    /// A transaction failed: the writer ran ahead of the store and is reloaded
    /// before the next command builds on it.
    stale: bool,
    /// The idempotency keys of commits handed over and not yet committed, with
    /// each commit's number.
    keys: HashMap<[u8; 32], u64>,
    /// The last commit that touched each person, while it may be unsettled.
    subjects: HashMap<SubjectId, u64>,
    /// Transactions written, and the commits they held (since the registry opened).
    transactions: u64,
    grouped: u64,
}

/// A failed transaction and the commits it took with it.
struct Failure {
    first: u64,
    through: u64,
    error: StoreError,
    /// The commands of this range not yet told of the failure.
    untold: u64,
}

/// How group commit has gone since the registry opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct GroupCommitCounts {
    /// Transactions written for commands (each one sync).
    pub transactions: u64,
    /// The commands' commits they held.
    pub commits: u64,
}

impl Registry {
    /// Take the writer lock with every commit handed over settled first (committed
    /// or failed): the store then holds everything the writer's state holds. Every
    /// path but a command's own [`Registry::write`] takes the writer this way.
    pub(super) fn lock(&self) -> Result<MutexGuard<'_, Writer>> {
        let mut w = self.writer.lock().map_err(|_| corrupt("writer lock poisoned"))?;
        // A failure is the failing commands' to report; this path only needs the
        // writer and the store to agree, which the reload below sees to.
        let _ = self.settle_all();
        self.refresh(&mut w)?;
        Ok(w)
    }

    /// Bring the writer up to date with the store when nothing is in flight: after a
    /// failed group commit (the writer ran ahead of the store), or when another
    /// process (a CLI command beside the server) appended.
    fn refresh(&self, w: &mut Writer) -> Result<()> {
        let (stale, idle) = {
            let g = self.group_lock()?;
            (g.stale, g.queue.is_empty() && !g.flushing && g.settled == g.next)
        };
        if !idle {
            // Only a command path gets here with commits in flight; the
            // compare-and-set of their commit catches another process's appends.
            return Ok(());
        }
        if stale || self.store.tree_size()? != w.frontier.size() {
            w.frontier = frontier_of(self.store.as_ref())?;
            w.cache.clear();
            w.next_subject_no = self.store.max_subject_no()? + 1;
            // It may have started a key rotation or destroyed a program's key.
            self.reload_masters();
            if stale {
                // Keys made by commands that failed are gone.
                self.reset_program_keys()?;
            } else {
                self.load_program_keys()?;
            }
            // Or changed a port or office.
            self.load_places()?;
            // Or registered or erased people: the gallery is built again when next needed.
            self.invalidate_gallery();
            self.group_lock()?.stale = false;
        }
        Ok(())
    }

    pub(super) fn group_lock(&self) -> Result<MutexGuard<'_, Group>> {
        self.group.lock().map_err(|_| corrupt("group commit lock poisoned"))
    }

    /// Run one command: everything `f` records is committed atomically, or, if `f`
    /// or the commit fails, nothing is. The command sees every command before it in
    /// the store (it waits for those still being committed), and returns once its
    /// own commit is durable: commands that arrive meanwhile share that commit's
    /// transaction and sync (group commit).
    pub fn write<T>(&self, now: Timestamp, f: impl FnOnce(&mut Batch<'_>) -> Result<T>) -> Result<(T, Receipt)> {
        self.write_pipelined(now, Waits::All, f)
    }

    /// [`Registry::write`] for a command that reads nothing from the store but the
    /// rows of `subject` (and what the registry holds in memory: places, keys): it
    /// waits only for commits that touched `subject`, so it can build on commands
    /// still being committed and join their group. Crossings and access events.
    pub fn write_for<T>(
        &self,
        subject: SubjectId,
        now: Timestamp,
        f: impl FnOnce(&mut Batch<'_>) -> Result<T>,
    ) -> Result<(T, Receipt)> {
        self.write_pipelined(now, Waits::Subject(subject), f)
    }

    /// Log a read of `subjects` (none: an attempt that names nobody) with a command
    /// that appends access events alone: pipelined (see [`Registry::write_for`])
    /// unless it names several people or the purpose is law enforcement (whose
    /// grants are read from the store).
    pub(super) fn write_access<T>(
        &self,
        subjects: &[SubjectId],
        purpose: Purpose,
        now: Timestamp,
        f: impl FnOnce(&mut Batch<'_>) -> Result<T>,
    ) -> Result<(T, Receipt)> {
        let waits = match subjects {
            _ if purpose == Purpose::LawEnforcement => Waits::All,
            [] => Waits::Nothing,
            [one] => Waits::Subject(*one),
            _ => Waits::All,
        };
        self.write_pipelined(now, waits, f)
    }

    fn write_pipelined<T>(
        &self,
        now: Timestamp,
        waits: Waits,
        f: impl FnOnce(&mut Batch<'_>) -> Result<T>,
    ) -> Result<(T, Receipt)> {
        let mut guard = self.writer.lock().map_err(|_| corrupt("writer lock poisoned"))?;
        let wait_for = {
            let g = self.group_lock()?;
            match waits {
                Waits::All => g.next,
                Waits::Subject(id) => g.subjects.get(&id).copied().unwrap_or(0),
                Waits::Nothing => 0,
            }
        };
        // Whichever way it ends, a failure is also reported to the command that made
        // the failing commit; this one builds on a reloaded writer.
        if wait_for > 0 && self.settle(wait_for).is_err() {
            let _ = self.settle_all();
        }
        // After a failed transaction, drain what is in flight (it fails too), so the
        // reload below happens now rather than after this command fails as well.
        if self.group_lock()?.stale {
            let _ = self.settle_all();
        }
        self.refresh(&mut guard)?;
        let client_key = idempotency::take();
        if let Some(key) = &client_key {
            let handed = self.group_lock()?.keys.get(key).copied();
            if let Some(seq) = handed {
                // The first try is still being committed: wait for it, then ask the
                // store (below), which holds the key only if that commit is durable.
                // If its transaction failed, this try is the one that records it,
                // on the reloaded writer.
                let _ = self.settle(seq);
                if self.group_lock()?.stale {
                    let _ = self.settle_all();
                }
                self.refresh(&mut guard)?;
            }
            if let Some((leaf_index, tree_size)) = self.store.idempotent(key)? {
                return Err(RegistryError::AlreadyRecorded(Receipt { leaf_index, tree_size }));
            }
        }
        let w = &mut *guard;
        let start = w.frontier.size();
        let mut batch = w.batch(self, now);
        let value = f(&mut batch)?;
        let (mut commit, mut advance) = batch.into_parts();
        if commit.leaves.is_empty() {
            return Ok((value, Receipt { leaf_index: start, tree_size: w.frontier.size() }));
        }
        let key = client_key.unwrap_or_else(|| auto_key(now));
        commit.idempotency = Some((key, now.as_millisecond()));
        let receipt = Receipt { leaf_index: start, tree_size: start + commit.leaves.len() as u64 };
        let erasing = commit.erase.is_some();
        // The gallery follows the commit before the writer lock is let go: no
        // search sees an erased person, and each sees every registration before it.
        self.follow_commit(&commit, std::mem::take(&mut advance.gallery_adds));
        self.follow_commit_for_stats(&commit);
        let touched: Vec<SubjectId> = advance.overlay.keys().copied().collect();
        let seq = self.hand_over(commit, &touched)?;
        if let Err(e) = self.remember_program_keys(&advance.program_keys) {
            // Its commit is in the group: collect its outcome before failing.
            let _ = self.settle_own(seq);
            return Err(e);
        }
        if erasing || w.cache.len() + advance.overlay.len() > self.cache_limit {
            // A state is only ever loaded from the store once every commit that
            // touched it is there: settle before the cache is emptied. Erased
            // people's states held their data keys.
            self.settle_own(seq)?;
            if erasing {
                w.advance(advance);
                w.cache.clear();
            } else {
                w.cache.clear();
                w.advance(advance);
            }
            return Ok((value, receipt));
        }
        w.advance(advance);
        drop(guard);
        self.settle_own(seq)?;
        Ok((value, receipt))
    }

    /// Hand a built commit over to the group (under the writer lock). Refused while
    /// the writer is stale: the commit was built on commits that failed.
    fn hand_over(&self, commit: Commit, touched: &[SubjectId]) -> Result<u64> {
        let mut g = self.group_lock()?;
        if g.stale {
            return Err(StoreError::Conflict { expected: commit.expected_size, found: g.settled_size }.into());
        }
        g.next += 1;
        let seq = g.next;
        if let Some((key, _)) = &commit.idempotency {
            g.keys.insert(*key, seq);
        }
        for id in touched {
            g.subjects.insert(*id, seq);
        }
        g.queue.push((seq, commit));
        Ok(seq)
    }

    /// Transactions written for commands so far, and the commits they held.
    pub fn group_commit_counts(&self) -> GroupCommitCounts {
        self.group
            .lock()
            .map(|g| GroupCommitCounts { transactions: g.transactions, commits: g.grouped })
            .unwrap_or(GroupCommitCounts { transactions: 0, commits: 0 })
    }

    /// Wait until every commit handed over so far is settled.
    pub(super) fn settle_all(&self) -> Result<()> {
        let next = self.group_lock()?.next;
        self.settle(next)
    }

    /// Wait until commit `seq` is settled, and say how it ended (for a command that
    /// waits on another's commit; see [`Registry::settle_own`]).
    pub(super) fn settle(&self, seq: u64) -> Result<()> {
        self.settle_as(seq, false)
    }

    /// [`Registry::settle`] for the command that handed commit `seq` over: the
    /// answer it acknowledges (or refuses) its caller with. A failure is kept until
    /// each of its commands has been told.
    fn settle_own(&self, seq: u64) -> Result<()> {
        self.settle_as(seq, true)
    }

    /// When no commit is being written, this thread writes everything queued, in
    /// one transaction and one sync (an erasing commit alone), and wakes the others.
    fn settle_as(&self, seq: u64, own: bool) -> Result<()> {
        let mut g = self.group_lock()?;
        loop {
            if g.settled >= seq {
                let Some(k) = g.failures.iter().position(|f| (f.first..=f.through).contains(&seq)) else {
                    return Ok(());
                };
                let error = g.failures[k].error.clone();
                if own {
                    g.failures[k].untold -= 1;
                    if g.failures[k].untold == 0 {
                        g.failures.swap_remove(k);
                    }
                }
                return Err(error.into());
            }
            if g.flushing || g.queue.is_empty() {
                g = self.group_done.wait(g).map_err(|_| corrupt("group commit lock poisoned"))?;
                continue;
            }
            let take = match g.queue.iter().position(|(_, c)| c.erase.is_some()) {
                Some(0) => 1,
                Some(i) => i,
                None => g.queue.len(),
            }
            .min(MAX_GROUP);
            let batch: Vec<(u64, Commit)> = g.queue.drain(..take).collect();
            g.flushing = true;
            drop(g);
            let (first, last) = (batch[0].0, batch[batch.len() - 1].0);
            let commits: Vec<Commit> = batch.into_iter().map(|(_, c)| c).collect();
            let result = self.store.commit_group(&commits);
            g = self.group_lock()?;
            g.flushing = false;
            g.transactions += 1;
            g.grouped += commits.len() as u64;
            match result {
                Ok(()) => {
                    g.settled = last;
                    g.settled_size =
                        commits[commits.len() - 1].expected_size + commits[commits.len() - 1].leaves.len() as u64;
                    for c in &commits {
                        if let Some((k, _)) = &c.idempotency {
                            g.keys.remove(k);
                        }
                    }
                }
                Err(e) => {
                    // These failed, and so does every commit handed over after them:
                    // each was built on them. The writer is reloaded before the next
                    // command builds on it.
                    if matches!(e, StoreError::Conflict { .. }) {
                        // Another process appended: expected, and retried by the callers.
                        tracing::debug!(error = %e, commits = g.next - first + 1, "a group commit met another writer");
                    } else {
                        tracing::warn!(error = %e, commits = g.next - first + 1, "a group commit failed");
                    }
                    let through = g.next;
                    g.failures.push(Failure { first, through, error: e, untold: through - first + 1 });
                    g.queue.clear();
                    g.keys.clear();
                    g.settled = through;
                    g.stale = true;
                }
            }
            let settled = g.settled;
            if g.subjects.len() > 4096 {
                g.subjects.retain(|_, s| *s > settled);
            }
            self.group_done.notify_all();
        }
    }

    /// Run a stream of commands for bulk loads. `fill` adds commands to each batch it
    /// is given and returns `false` once it has nothing more. Each batch commits
    /// atomically and in order; while one batch is committed the next is prepared on
    /// this thread, so a bulk load uses two cores. The stream stops at the first
    /// failure: the batches before it stay committed, nothing after it is written.
    /// Other writers wait until the stream ends.
    pub fn write_stream(
        &self,
        now: Timestamp,
        mut fill: impl FnMut(&mut Batch<'_>) -> Result<bool>,
    ) -> Result<Receipt> {
        let mut guard = self.lock()?;
        let w = &mut *guard;
        let start = w.frontier.size();
        let mut more = true;
        while more {
            // A segment runs until the stream ends or the cache must be cleared; the
            // committer is drained between segments, so a state is only ever loaded
            // from the store after every batch that touched it has been committed.
            let segment = std::thread::scope(|scope| -> Result<()> {
                let (tx, rx) = std::sync::mpsc::sync_channel::<Commit>(1);
                let committer = scope.spawn(move || -> Result<()> {
                    for commit in rx {
                        self.store.commit(&commit)?;
                        self.follow_commit_for_stats(&commit);
                    }
                    Ok(())
                });
                let prepared = (|| -> Result<()> {
                    while more && w.cache.len() <= self.cache_limit {
                        let mut batch = w.batch(self, now);
                        more = fill(&mut batch)?;
                        let (commit, advance) = batch.into_parts();
                        if commit.leaves.is_empty() {
                            continue;
                        }
                        if !advance.gallery_adds.is_empty() || commit.erase.is_some() {
                            // Bulk loads: built again from the store when next needed.
                            self.invalidate_gallery();
                        }
                        // Later batches seal with these keys before this one is committed.
                        self.remember_program_keys(&advance.program_keys)?;
                        if tx.send(commit).is_err() {
                            return Ok(()); // the committer failed; its error is reported below
                        }
                        // Later batches build on this one; if its commit fails, the
                        // stream resets the writer from the store below.
                        w.advance(advance);
                    }
                    Ok(())
                })();
                drop(tx);
                let committed = committer.join().map_err(|_| corrupt("the committer thread panicked"))?;
                prepared.and(committed)
            });
            if let Err(e) = segment {
                // Forget what was prepared but not committed.
                self.reset_program_keys()?;
                w.frontier = frontier_of(self.store.as_ref())?;
                w.cache.clear();
                w.next_subject_no = self.store.max_subject_no()? + 1;
                return Err(e);
            }
            if w.cache.len() > self.cache_limit {
                w.cache.clear();
            }
        }
        Ok(Receipt { leaf_index: start, tree_size: w.frontier.size() })
    }

    pub(super) fn load_state(&self, id: SubjectId) -> Result<SubjectState> {
        let row = self.store.subject_keys_by_id(id.as_bytes())?.ok_or(RegistryError::UnknownSubject(id))?;
        let (data, access) = self.unwrap_keys(&row)?.ok_or(RegistryError::Erased(id))?;
        let dated = self.facts_of(row.subject_no, &data)?;
        Ok(SubjectState::new(row.subject_no, &data, &access, &dated))
    }
}

impl Batch<'_> {
    pub(super) fn into_parts(self) -> (Commit, Advance) {
        let Batch { overlay, frontier, next_subject_no, mut commit, tallies, new_program_keys, gallery_adds, .. } =
            self;
        let program_keys = commit
            .program_keys
            .iter()
            .zip(new_program_keys)
            .map(|(row, key)| (row.ordinal, row.program.clone(), key))
            .collect();
        commit.projections.extend(tallies.into_iter().map(|(metric, dims, month, count)| Projection::Tally {
            metric: metric.as_str().to_string(),
            dims,
            month: month_label(month),
            count,
        }));
        (commit, Advance { overlay, frontier, next_subject_no, program_keys, gallery_adds })
    }

    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// The index the next leaf appended in this batch will have.
    pub fn next_leaf(&self) -> u64 {
        self.frontier.size()
    }

    /// Today's date in UTC, for checks such as "born in the future".
    pub(super) fn today(&self) -> jiff::civil::Date {
        self.now.to_zoned(jiff::tz::TimeZone::UTC).date()
    }

    /// The subject's state, loaded into this batch's overlay on first touch.
    pub(super) fn state(&mut self, id: SubjectId) -> Result<&mut SubjectState> {
        use std::collections::hash_map::Entry;
        match self.overlay.entry(id) {
            Entry::Occupied(e) => Ok(e.into_mut()),
            Entry::Vacant(v) => {
                let state = match self.cache.remove(&id) {
                    Some(s) => s,
                    None => self.reg.load_state(id)?,
                };
                Ok(v.insert(state))
            }
        }
    }

    pub(super) fn append(&mut self, subject_no: u64, slot: u8, sealer: &Sealer, event: &Event) -> Result<u64> {
        let data = match (slot, event.program_tag(), event.subject()) {
            (SLOT_DATA, Some(_), Some(id)) => Some(self.state(id)?.data_key.clone()),
            _ => None,
        };
        self.append_sealed(subject_no, slot, sealer, event, data.as_ref())
    }

    /// The key slot and sealer a leaf of `event` gets: `None` for the caller's own, or for a
    /// program's record the key derived from that program's key and the subject's
    /// data key (`data`), made in this batch when the program has none yet.
    fn leaf_sealer(
        &mut self,
        subject_no: u64,
        slot: u8,
        event: &Event,
        data: Option<&SecretKey>,
    ) -> Result<(u8, Option<Sealer>)> {
        match (slot, event.program_tag(), data) {
            (SLOT_DATA, Some(p), Some(data)) => {
                let made = self.commit.program_keys.iter().zip(&self.new_program_keys).find(|(r, _)| r.program == p);
                let (ordinal, key) = match made {
                    Some((row, key)) => (row.ordinal, key.clone()),
                    None => match self.reg.program_key_for_append(p)? {
                        Some(k) => k,
                        None => {
                            let (row, key) = self.reg.new_program_key(p, self.new_program_keys.len(), self.rng)?;
                            let ordinal = row.ordinal;
                            self.commit.program_keys.push(row);
                            self.new_program_keys.push(key.clone());
                            (ordinal, key)
                        }
                    },
                };
                let derived = fairgate_ledger::keys::program_subject_key(&key, subject_no, data);
                Ok((keyring::SLOT_PROGRAM_BASE + ordinal, Some(Sealer::new(&derived))))
            }
            (SLOT_DATA, Some(p), None) => {
                Err(corrupt(format!("a record of program {p} was sealed without the subject's data key")))
            }
            _ => Ok((slot, None)),
        }
    }

    /// Seal biometric records for the leaf `event` is about to become: in leaf
    /// format, under the same key and key id, with a kind no event has, so that
    /// they open exactly when that leaf does and erasure reaches them alike.
    pub(super) fn seal_beside(
        &mut self,
        subject_no: u64,
        sealer: &Sealer,
        event: &Event,
        birs: &[fairgate_core::cbeff::Bir],
        face: Option<&[f32; fairgate_biometrics::index::FACE_DIM]>,
    ) -> Result<Vec<u8>> {
        let data = match (event.program_tag(), event.subject()) {
            (Some(_), Some(id)) => Some(self.state(id)?.data_key.clone()),
            _ => None,
        };
        let (slot, program_sealer) = self.leaf_sealer(subject_no, SLOT_DATA, event, data.as_ref())?;
        let sealer = program_sealer.as_ref().unwrap_or(sealer);
        let key_id = self.reg.key_ids.seal(KeyRef { subject_no, leaf_index: self.frontier.size(), slot });
        let header =
            Header { kind: BIOMETRICS_KIND, timestamp_ms: leaf::public_time_ms(self.now.as_millisecond()), key_id };
        let mut payload = identification::seal_payload(birs, face)?;
        let sealed = sealer.seal(&header, &payload, self.rng);
        zeroize::Zeroize::zeroize(&mut payload);
        Ok(sealed)
    }

    /// Append with the subject's data key at hand (`data`), which a program's record
    /// needs: it goes under that program's key for the person, not `sealer`.
    pub(super) fn append_sealed(
        &mut self,
        subject_no: u64,
        slot: u8,
        sealer: &Sealer,
        event: &Event,
        data: Option<&SecretKey>,
    ) -> Result<u64> {
        let (slot, program_sealer) = self.leaf_sealer(subject_no, slot, event, data)?;
        let sealer = program_sealer.as_ref().unwrap_or(sealer);
        let index = self.frontier.size();
        let key_id = self.reg.key_ids.seal(KeyRef { subject_no, leaf_index: index, slot });
        let header =
            Header { kind: event.kind().code(), timestamp_ms: leaf::public_time_ms(self.now.as_millisecond()), key_id };
        self.payload.clear();
        serde_json::to_writer(&mut self.payload, event).map_err(corrupt)?;
        let bytes = sealer.seal(&header, &self.payload, self.rng);
        // The plaintext stays in memory only: wipe it before the buffer is reused or dropped.
        zeroize::Zeroize::zeroize(&mut self.payload);
        let hash = leaf_hash(&bytes);
        let nodes = &mut self.commit.nodes;
        self.frontier.push_with(hash, |level, index, hash| {
            if level % STORED_LEVEL_STEP == 0 {
                nodes.push(NodeRow { level, index, hash: *hash });
            }
        });
        project_rows(subject_no, index, event, &self.reg.blind, &mut self.commit.projections);
        let tallies = &mut self.tallies;
        for_each_tally(event, recorded_at(header.timestamp_ms), |t| {
            match tallies
                .iter_mut()
                .find(|c| c.0 == t.metric && c.2 == t.month && c.1.iter().zip(t.dims).all(|(a, b)| a == b))
            {
                Some(cell) => cell.3 += 1,
                None => tallies.push((t.metric, t.dims.map(str::to_string), t.month, 1)),
            }
        });
        self.commit.leaves.push(LeafRow { index, leaf: bytes, hash });
        Ok(index)
    }

    /// Keep no state of `id` after this batch (a bulk load that will not touch the
    /// subject again), so the writer's cache does not fill with it.
    pub fn forget(&mut self, id: SubjectId) {
        self.overlay.remove(&id);
    }
}

/// The idempotency key of a commit whose request sent none: the time in
/// milliseconds, then 24 random bytes (from the OS, not the writer's seeded
/// generator, so tests' streams stay the same). Time first, so that each commit's key
/// lands beside the last ones in the key index instead of on a random page of it
/// (with the per-person leaf index, one of the two random pages an access event
/// wrote).
fn auto_key(now: Timestamp) -> [u8; 32] {
    let mut k = [0u8; 32];
    k[..8].copy_from_slice(&now.as_millisecond().to_be_bytes());
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut k[8..]);
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn automatic_keys_are_ordered_by_time_and_unique() {
        let t = |s| Timestamp::from_second(s).unwrap();
        let (a, b, c) = (auto_key(t(1_800_000_000)), auto_key(t(1_800_000_000)), auto_key(t(1_800_000_001)));
        assert_ne!(a, b, "two commits in one millisecond get different keys");
        assert_eq!(a[..8], b[..8]);
        assert!(a < c && b < c, "a later commit's key sorts after");
        assert_ne!(a[8..], [0u8; 24]);
    }

    fn registry(dir: &std::path::Path) -> Registry {
        let store = crate::backend::test_store(&dir.join("f.db")).unwrap().store();
        Registry::open(
            store,
            fairgate_ledger::keys::SecretKey::from_bytes([1; 32]),
            &fairgate_ledger::keys::SecretKey::from_bytes([2; 32]),
            "t/log",
            [5; 32],
        )
        .unwrap()
    }

    /// Found by the read-only disk test: the failures were a ring of the latest 16,
    /// so a command that woke after 16 more groups had failed (a disk gone bad fails
    /// every group, back to back) found no failure for its commit and acknowledged a
    /// write that was never made. Each failure is now kept until each of its
    /// commands has been told, and a waiter that is not the commit's owner does not
    /// use up the owner's answer.
    #[test]
    fn a_commit_whose_group_failed_is_refused_however_many_groups_failed_since() {
        let dir = tempfile::tempdir().unwrap();
        let reg = registry(dir.path());
        {
            let mut g = reg.group_lock().unwrap();
            for seq in 1..=40 {
                g.failures.push(Failure {
                    first: seq,
                    through: seq,
                    error: StoreError::Unavailable(format!("group {seq}")),
                    untold: 1,
                });
            }
            g.next = 40;
            g.settled = 40;
        }
        // Another command waiting on commit 1 learns it failed, and so does its owner.
        assert!(reg.settle(1).is_err());
        let first = reg.settle_own(1).unwrap_err().to_string();
        assert!(first.contains("group 1"), "{first}");
        // Each owner is told once; then the failure is forgotten.
        for seq in 2..=40 {
            assert!(reg.settle_own(seq).is_err(), "commit {seq} failed but was reported committed");
        }
        assert!(reg.group_lock().unwrap().failures.is_empty(), "every failure was told and dropped");
    }

    /// Found by reading the code after the crash campaign: a retry with the
    /// Idempotency-Key of a request still being committed was answered "recorded
    /// already" at once. Had that transaction then failed, the client would hold an
    /// acknowledgement of a write never made. The retry now waits for the first
    /// try's commit; when it failed, the retry records the request itself.
    #[test]
    fn a_retry_of_a_request_whose_commit_failed_records_it_instead_of_answering_recorded_already() {
        let dir = tempfile::tempdir().unwrap();
        let reg = registry(dir.path());
        let now = Timestamp::from_second(1_800_000_000).unwrap();
        let key = [42u8; 32];
        // The first try: handed over as commit 1, whose transaction then failed.
        {
            let mut g = reg.group_lock().unwrap();
            g.keys.insert(key, 1);
            g.failures.push(Failure { first: 1, through: 1, error: StoreError::Unavailable("disk".into()), untold: 1 });
            g.next = 1;
            g.settled = 1;
            g.stale = true;
        }
        let admin = Actor::new("u-admin", fairgate_core::access::Role::Admin, "test");
        let authority = fairgate_core::expungement::Authority {
            id: "court-order".into(),
            name: "Order of a court".into(),
            reference: "Demo Judiciary Act s. 12".into(),
        };
        let retry = super::super::idempotency::with_key(Some(key), || reg.list_authority(now, &admin, &authority));
        let receipt = retry.expect("the retry records what the failed first try did not");
        assert_eq!(reg.store.idempotent(&key).unwrap(), Some((receipt.leaf_index, receipt.tree_size)));

        // The same, when the first try's own command was told of the failure (and
        // the failure forgotten) before the retry looked: the store decides.
        let key = [43u8; 32];
        {
            let mut g = reg.group_lock().unwrap();
            g.next += 1;
            let seq = g.next;
            g.keys.insert(key, seq);
            g.settled = seq;
            g.stale = true;
        }
        let authority = fairgate_core::expungement::Authority { id: "court-order-2".into(), ..authority };
        let retry = super::super::idempotency::with_key(Some(key), || reg.list_authority(now, &admin, &authority));
        let receipt = retry.expect("a first try whose failure was already told is not 'recorded already'");
        assert_eq!(reg.store.idempotent(&key).unwrap(), Some((receipt.leaf_index, receipt.tree_size)));
    }

    /// A failed range holds every commit handed over while it was in flight: each
    /// of their owners is refused, and the range goes once the last has been told.
    #[test]
    fn a_failed_range_is_kept_until_its_last_command_is_told() {
        let dir = tempfile::tempdir().unwrap();
        let reg = registry(dir.path());
        {
            let mut g = reg.group_lock().unwrap();
            g.failures.push(Failure { first: 1, through: 3, error: StoreError::Unavailable("disk".into()), untold: 3 });
            g.next = 3;
            g.settled = 3;
        }
        for seq in [3, 1, 2] {
            assert!(reg.settle_own(seq).is_err(), "commit {seq}");
            let left = reg.group_lock().unwrap().failures.len();
            assert_eq!(left, usize::from(seq != 2), "after commit {seq} was told");
        }
    }
}
