//! The write pipeline: the writer lock (and noticing another process's appends),
//! one command as one atomic commit (`write`), bulk loads as a pipeline of atomic
//! batches (`write_stream`), and the batch's own plumbing: loading a subject's
//! state, sealing and hashing each event into a leaf, and handing the commit over.

use super::*;

/// The header kind of sealed biometric records: not an event kind (those are below
/// 1,000), so a sealed record can never pass for a leaf.
pub(crate) const BIOMETRICS_KIND: u16 = 0xB10;

impl Registry {
    pub(super) fn lock(&self) -> Result<MutexGuard<'_, Writer>> {
        let mut w = self.writer.lock().map_err(|_| corrupt("writer lock poisoned"))?;
        // Another process (a CLI command beside the server) may have appended.
        if self.store.tree_size()? != w.frontier.size() {
            w.frontier = frontier_of(self.store.as_ref())?;
            w.cache.clear();
            w.next_subject_no = self.store.max_subject_no()? + 1;
            // It may have started a key rotation or destroyed a program's key.
            self.reload_masters();
            self.load_program_keys()?;
            // Or changed a port or office.
            self.load_places()?;
            // Or registered or erased people: the gallery is built again when next needed.
            self.invalidate_gallery();
        }
        Ok(w)
    }

    /// Run one command: everything `f` records is committed atomically, or, if `f`
    /// or the commit fails, nothing is.
    pub fn write<T>(&self, now: Timestamp, f: impl FnOnce(&mut Batch<'_>) -> Result<T>) -> Result<(T, Receipt)> {
        let mut guard = self.lock()?;
        let client_key = idempotency::take();
        if let Some(key) = &client_key {
            if let Some((leaf_index, tree_size)) = self.store.idempotent(key)? {
                return Err(RegistryError::AlreadyRecorded(Receipt { leaf_index, tree_size }));
            }
        }
        let w = &mut *guard;
        let start = w.frontier.size();
        let mut batch = w.batch(self, now);
        let value = f(&mut batch)?;
        let (mut commit, mut advance) = batch.into_parts();
        if !commit.leaves.is_empty() {
            // From the OS, not the writer's seeded generator (tests' streams stay the same).
            let key = client_key.unwrap_or_else(|| {
                let mut k = [0u8; 32];
                rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut k);
                k
            });
            commit.idempotency = Some((key, now.as_millisecond()));
            self.store.commit(&commit)?;
            // The gallery follows the commit before the writer lock is let go: no
            // search sees an erased person, and each sees every registration before it.
            self.follow_commit(&commit, std::mem::take(&mut advance.gallery_adds));
            self.follow_commit_for_stats(&commit);
            self.remember_program_keys(&advance.program_keys)?;
            if w.cache.len() + advance.overlay.len() > self.cache_limit {
                w.cache.clear();
            }
            w.advance(advance);
            if commit.erase.is_some() {
                // Erased people's states held their data keys.
                w.cache.clear();
            }
        }
        Ok((value, Receipt { leaf_index: start, tree_size: w.frontier.size() }))
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
