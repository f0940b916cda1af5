//! Stay accounting and its compaction: each subject's crossings as dated facts
//! (the sealed snapshot plus the crossings since), the compaction that folds new
//! crossings (and the compliance facts) in, a person's stay, and the overstay sweep
//! behind the overstay list and the public overstay table.

use super::*;

/// The sealed stay-facts row of a subject whose crossings (sorted by time) run
/// through leaf `through_leaf`.
pub(super) fn facts_row(subject_no: u64, data: &SecretKey, through_leaf: u64, dated: &[DatedCrossing]) -> Projection {
    let mut buf = Vec::with_capacity(32 * dated.len() + 1);
    facts::encode(dated, &mut buf);
    let sealed = facts::sealer(data).seal(through_leaf, &facts::aad(subject_no), &buf);
    zeroize::Zeroize::zeroize(&mut buf);
    Projection::StayFacts { subject_no, through_leaf, sealed }
}

/// Open and decode a subject's sealed stay facts.
pub(super) fn open_facts(
    sealer: &RecordSealer,
    subject_no: u64,
    through: u64,
    sealed: &[u8],
) -> Result<Vec<DatedCrossing>> {
    let mut plain = sealer
        .open(through, &facts::aad(subject_no), sealed)
        .map_err(|e| corrupt(format!("stay facts of subject {subject_no}: {e}")))?;
    let dated = facts::decode(&plain).map_err(|e| corrupt(format!("subject {subject_no}: {e}")));
    zeroize::Zeroize::zeroize(&mut plain);
    dated
}

/// One subject in the overstay list.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OverstayRow {
    pub subject: SubjectId,
    /// The rule that applies, e.g. `90/180` or `admitted-until`.
    pub rule: String,
    /// The port of entry of the stay in which the overstay began.
    pub port: Option<String>,
    pub overstay: fairgate_core::stay::Overstay,
    /// No exit is recorded and the person is still counted as present.
    pub still_present: bool,
}

impl Registry {
    /// A subject's crossings as stay accounting needs them, from the stay facts.
    /// Without any access logging: callers log.
    pub(super) fn dated_of(&self, id: SubjectId) -> Result<Vec<DatedCrossing>> {
        let row = self.store.subject_keys_by_id(id.as_bytes())?.ok_or(RegistryError::UnknownSubject(id))?;
        let (data, _) = self.unwrap_keys(&row)?.ok_or(RegistryError::Erased(id))?;
        self.facts_of(row.subject_no, &data)
    }

    /// A subject's crossings sorted by time: the sealed stay facts, plus the
    /// crossings appended since the facts were last compacted (read from their leaves).
    pub(super) fn facts_of(&self, subject_no: u64, data: &SecretKey) -> Result<Vec<DatedCrossing>> {
        // The mark first: a compaction in between then only causes duplicates, removed below.
        let mark = self.store.stay_facts_through()?;
        let mut dated = self.sealed_facts(subject_no, data)?.1;
        let recent: Vec<u64> = self
            .store
            .subject_leaves(subject_no, mark)?
            .into_iter()
            .filter(|(_, k)| *k == EventKind::CrossingRecorded.code())
            .map(|(i, _)| i)
            .collect();
        if !recent.is_empty() {
            for l in self.store.leaves_at(&recent)? {
                if let Event::CrossingRecorded(c) = self.open_leaf(&l, data)? {
                    dated.push(self.dated(&c.crossing));
                }
            }
            dated.sort_by_key(|c| c.at);
            dated.dedup_by_key(|c| c.at);
        }
        Ok(dated)
    }

    /// A subject's sealed stay facts as stored: the last crossing leaf folded in (0
    /// when there are none) and the crossings.
    pub(super) fn sealed_facts(&self, subject_no: u64, data: &SecretKey) -> Result<(u64, Vec<DatedCrossing>)> {
        match self.store.stay_facts(subject_no)? {
            Some((through, sealed)) => Ok((through, open_facts(&facts::sealer(data), subject_no, through, &sealed)?)),
            None => Ok((0, Vec::new())),
        }
    }

    /// Fold every crossing appended since the last compaction into the sealed stay
    /// facts, so that the overstay sweep reads one row per subject. The serving
    /// process runs it in the background; the sweep runs it first. Returns how many
    /// crossings were folded in. It works in chunks of `COMPACTION_CHUNK` leaves,
    /// each committed with the new mark in one transaction; writes wait for the
    /// chunk in progress only, so a large backlog does not stall commands.
    pub fn compact_stay_facts(&self) -> Result<u64> {
        self.compact_stay_facts_by(self.compaction_chunk)
    }

    /// [`Registry::compact_stay_facts`] in chunks of `chunk` leaves, letting other
    /// writers in between. A serving process compacts in the background with small
    /// chunks: each holds the writer lock, so its length is what a command arriving
    /// meanwhile waits (about 5 ms for [`BACKGROUND_COMPACTION_CHUNK`], against
    /// more than 100 ms for a whole interval's crossings under load).
    pub fn compact_stay_facts_by(&self, chunk: u64) -> Result<u64> {
        let size = self.lock()?.frontier.size();
        let mut folded = 0;
        loop {
            {
                let _writer = self.lock()?;
                // Read under the lock: another compaction may have moved the mark.
                let from = self.store.stay_facts_through()?;
                if from >= size {
                    return Ok(folded);
                }
                folded += self.compact_chunk(from, (from + chunk.max(1)).min(size))?;
            }
            // Let a waiting command have the writer before the next chunk.
            std::thread::yield_now();
        }
    }

    /// Merge the per-person leaf index's older buckets into runs kept by person (see
    /// the SQLite store), about [`super::LEAF_FOLD_CHUNK`] rows of each source per
    /// transaction, resting between steps [`super::LEAF_FOLD_REST`] times as long as
    /// each took so that commands have the writer most of the time, until nothing is
    /// left, `chunks` transactions were made or [`super::LEAF_FOLD_BUDGET`] has
    /// passed. The serving process runs it in the background; without it, reading
    /// one person's leaves costs a seek per 65,536 leaves of the whole ledger.
    /// Returns how many rows moved.
    pub fn fold_subject_leaves(&self, chunks: usize) -> Result<u64> {
        let began = std::time::Instant::now();
        let mut moved = 0;
        for _ in 0..chunks {
            let started = std::time::Instant::now();
            let n = self.store.fold_subject_leaves(super::LEAF_FOLD_CHUNK)?;
            if n == 0 {
                break;
            }
            moved += n;
            let took = started.elapsed();
            // Counts and times only: which people moved is never logged.
            tracing::debug!(rows = n, us = took.as_micros() as u64, "a leaf-index merge step");
            if began.elapsed() >= super::LEAF_FOLD_BUDGET {
                break;
            }
            // Yielding alone was not enough (this thread took the lock straight
            // back), nor was resting as long as the step.
            std::thread::sleep(fold_rest(took));
        }
        Ok(moved)
    }

    /// Fold the crossings of leaves `from..end` into the stay facts and move the mark
    /// to `end`, in one transaction. The caller holds the writer lock. Keys are looked
    /// up afresh for each chunk, so a subject erased in between stays erased.
    pub(super) fn compact_chunk(&self, from: u64, end: u64) -> Result<u64> {
        let mut keys = HashMap::new();
        let mut fresh: HashMap<u64, Vec<(u64, DatedCrossing)>> = HashMap::new();
        let mut fresh_compliance: HashMap<u64, Vec<(u64, Event)>> = HashMap::new();
        let compliance_kinds = compliance::folded_codes();
        let mut folded = 0;
        let mut at = from;
        while at < end {
            let rows = self.store.leaves(at, (end - at).min(10_000))?;
            if rows.is_empty() {
                return Err(corrupt(format!("the ledger has a gap at leaf {at}")));
            }
            at += rows.len() as u64;
            for row in &rows {
                let header = Header::decode(&row.leaf).map_err(|e| corrupt(format!("leaf {}: {e}", row.index)))?;
                let crossing = header.kind == EventKind::CrossingRecorded.code();
                if !crossing && !compliance_kinds.contains(&header.kind) {
                    continue;
                }
                let r = self.key_ids.open(&header.key_id);
                let no = r.subject_no;
                let Some((data, _)) = self.cached_keys(&mut keys, no)? else { continue }; // erased
                                                                                          // A program's record whose key was destroyed is gone: skip it.
                let Some(key) = self.leaf_key(r.slot, no, Some(data), None)? else { continue };
                match self.open_leaf(row, &key)? {
                    Event::CrossingRecorded(c) => {
                        fresh.entry(no).or_default().push((row.index, self.dated(&c.crossing)));
                        folded += 1;
                    }
                    event => fresh_compliance.entry(no).or_default().push((row.index, event)),
                }
            }
        }
        let mut subjects: Vec<u64> = fresh.keys().copied().collect();
        subjects.sort_unstable();
        let mut out = Vec::with_capacity(subjects.len() + 1);
        for no in subjects {
            let (Some(new), Some(Some((data, _)))) = (fresh.remove(&no), keys.get(&no)) else { continue };
            let (row_through, mut dated) = self.sealed_facts(no, data)?;
            let mut through = row_through;
            // Leaves already in the row (a compaction that was interrupted) are not folded twice.
            for (leaf, c) in new.into_iter().filter(|(leaf, _)| *leaf > row_through || row_through == 0) {
                through = through.max(leaf);
                dated.push(c);
            }
            dated.sort_by_key(|c| c.at);
            out.push(facts_row(no, data, through, &dated));
        }
        let mut subjects: Vec<u64> = fresh_compliance.keys().copied().collect();
        subjects.sort_unstable();
        for no in subjects {
            let (Some(new), Some(Some((data, _)))) = (fresh_compliance.remove(&no), keys.get(&no)) else { continue };
            out.push(self.fold_compliance(no, data, new)?);
        }
        out.push(Projection::StayFactsThrough { through: end });
        self.store.apply_projections(&out)?;
        Ok(folded)
    }

    /// A subject's data and access keys, each `None` once destroyed, looked up once per `cache`.
    pub(super) fn partial_keys<'c>(
        &self,
        cache: &'c mut HashMap<u64, (Option<SecretKey>, Option<SecretKey>)>,
        subject_no: u64,
    ) -> Result<(Option<&'c SecretKey>, Option<&'c SecretKey>)> {
        use std::collections::hash_map::Entry;
        let keys = match cache.entry(subject_no) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(v) => {
                let keys = match self.store.subject_keys(subject_no)? {
                    Some(row) => (
                        row.data_key.as_deref().map(|k| self.unwrap_slot(subject_no, SLOT_DATA, k)).transpose()?,
                        row.access_key.as_deref().map(|k| self.unwrap_slot(subject_no, SLOT_ACCESS, k)).transpose()?,
                    ),
                    None => (None, None),
                };
                v.insert(keys)
            }
        };
        Ok((keys.0.as_ref(), keys.1.as_ref()))
    }

    /// A subject's unwrapped keys, looked up once per `cache`; `None` once erased.
    pub(super) fn cached_keys<'c>(
        &self,
        cache: &'c mut HashMap<u64, Option<(SecretKey, SecretKey)>>,
        subject_no: u64,
    ) -> Result<Option<&'c (SecretKey, SecretKey)>> {
        use std::collections::hash_map::Entry;
        Ok(match cache.entry(subject_no) {
            Entry::Occupied(e) => e.into_mut().as_ref(),
            Entry::Vacant(v) => {
                let keys = match self.store.subject_keys(subject_no)? {
                    Some(row) => self.unwrap_keys(&row)?,
                    None => None,
                };
                v.insert(keys).as_ref()
            }
        })
    }

    /// A crossing with the local calendar day at its port.
    pub(super) fn dated(&self, c: &Crossing) -> DatedCrossing {
        let tz = self.places().get(&c.port).map(|p| p.tz.clone()).unwrap_or(jiff::tz::TimeZone::UTC);
        DatedCrossing {
            direction: c.direction,
            at: c.at,
            local_day: c.at.to_zoned(tz).date(),
            admission_class: c.admission_class.clone(),
            admitted_until: c.admitted_until,
            port: Some(c.port.clone()),
        }
    }

    pub(super) fn stay_of(&self, id: SubjectId, on: jiff::civil::Date) -> Result<Standing> {
        Ok(standing(&stays_from_crossings(self.dated_of(id)?, on), on)?)
    }

    /// A subject's stay accounting on `on`, computed from the recorded crossings (each
    /// crossing's day taken in its port's time zone). Logged like every read.
    pub fn read_stay(
        &self,
        now: Timestamp,
        actor: &Actor,
        purpose: Purpose,
        id: SubjectId,
        on: jiff::civil::Date,
        request: &str,
    ) -> Result<((StayRule, StayAnswer), Receipt)> {
        self.admit(now, actor, Read::Stay, purpose, Some(id), request)?;
        let s = self.stay_of(id, on)?;
        let ((), receipt) = self.write_access(&[id], purpose, now, |b| {
            b.record_access(id, actor, Read::Stay, purpose, &["stay"], request)
        })?;
        Ok(((s.rule, s.answer), receipt))
    }

    /// Every subject who, on `on`, is overstaying or overstayed before, oldest
    /// overstay first. `page` is (page number from 1, rows per page); the access of
    /// each subject returned is logged before the list is. Returns the rows and the
    /// total number of overstayers.
    pub fn read_overstays(
        &self,
        now: Timestamp,
        actor: &Actor,
        purpose: Purpose,
        on: jiff::civil::Date,
        page: Option<(usize, usize)>,
        request: &str,
    ) -> Result<(Vec<OverstayRow>, usize, Option<Receipt>)> {
        policy::authorize_read(actor, Read::OverstayList, purpose)?;
        let all = self.overstay_sweep(on, calculate)?;
        let total = all.len();
        let rows: Vec<OverstayRow> = match page {
            // Checked: a huge page number must not wrap around to the first page.
            Some((n, per)) => match n.saturating_sub(1).checked_mul(per) {
                Some(skip) => all.into_iter().skip(skip).take(per).collect(),
                None => Vec::new(),
            },
            None => all,
        };
        if rows.is_empty() {
            return Ok((rows, total, None));
        }
        let ((), receipt) = self.write(now, |b| {
            for r in &rows {
                b.record_access(r.subject, actor, Read::OverstayList, purpose, &["overstay"], request)?;
            }
            Ok(())
        })?;
        Ok((rows, total, Some(receipt)))
    }

    /// Every subject who, on `on`, is overstaying or overstayed before, oldest overstay
    /// first, without access logging (`read_overstays` logs). Reads only the sealed
    /// stay facts: one thread scans the store while the others open and evaluate.
    pub(super) fn overstay_sweep(&self, on: jiff::civil::Date, calc: Calculator) -> Result<Vec<OverstayRow>> {
        self.compact_stay_facts()?;
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8);
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<StayFactsRow>>(2 * workers);
        let rx = Mutex::new(rx);
        let mut all = std::thread::scope(|scope| -> Result<Vec<OverstayRow>> {
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    let rx = &rx;
                    scope.spawn(move || -> Result<Vec<OverstayRow>> {
                        let mut found = Vec::new();
                        loop {
                            let chunk = match rx.lock() {
                                Ok(r) => r.recv(),
                                Err(_) => return Err(corrupt("the sweep's queue lock was poisoned")),
                            };
                            let Ok(chunk) = chunk else { return Ok(found) };
                            for row in &chunk {
                                if let Some(r) = self.sweep_one(row, on, calc)? {
                                    found.push(r);
                                }
                            }
                        }
                    })
                })
                .collect();
            let scanned = self.store.scan_stay_facts(1024, &mut |chunk| tx.send(chunk).is_ok());
            drop(tx);
            let mut all = Vec::new();
            for h in handles {
                all.extend(h.join().map_err(|_| corrupt("a sweep thread panicked"))??);
            }
            scanned?;
            Ok(all)
        })?;
        all.sort_by_key(|r| (r.overstay.first_day, r.subject));
        Ok(all)
    }

    /// For `fairgate-bench sweep` (feature `bench` only): how many subjects the
    /// sweep finds on `on`, with the fast calculator or the naive day-by-day one.
    /// Only a count leaves, so nothing is disclosed and nothing is logged.
    #[cfg(feature = "bench")]
    pub fn count_overstays(&self, on: jiff::civil::Date, naive: bool) -> Result<usize> {
        let calc: Calculator = if naive { fairgate_core::stay::naive::checked } else { calculate };
        Ok(self.overstay_sweep(on, calc)?.len())
    }

    /// The public aggregate of the overstays on `on`, by port of entry, rule and the
    /// month the overstay began, before suppression. Only counts leave, so nothing is
    /// disclosed and nothing is logged.
    pub fn overstay_tallies(&self, on: jiff::civil::Date) -> Result<Vec<([String; 3], String, u64)>> {
        let rows = self.overstay_sweep(on, calculate)?;
        Ok(fairgate_core::report::overstay_tallies(
            rows.iter().map(|r| (r.port.as_deref(), r.rule.as_str(), r.overstay.first_day)),
        ))
    }

    pub(super) fn sweep_one(
        &self,
        row: &StayFactsRow,
        on: jiff::civil::Date,
        calc: Calculator,
    ) -> Result<Option<OverstayRow>> {
        let data = self.unwrap_slot(row.subject_no, SLOT_DATA, &row.data_key)?;
        let dated = open_facts(&facts::sealer(&data), row.subject_no, row.through_leaf, &row.sealed)?;
        let stays = stays_from_crossings(dated, on);
        let s = standing_with(&stays, on, calc)?;
        Ok(s.answer.overstay.map(|overstay| OverstayRow {
            subject: SubjectId::from_bytes(row.subject_id),
            rule: s.rule.to_string(),
            port: overstay_port(&stays, &overstay).map(str::to_string),
            overstay,
            still_present: s.still_present,
        }))
    }
}

/// How long the leaf-index merge rests after a step that took `step`: at least a
/// millisecond, [`super::LEAF_FOLD_REST`] times the step.
fn fold_rest(step: std::time::Duration) -> std::time::Duration {
    step.max(std::time::Duration::from_millis(1)) * super::LEAF_FOLD_REST
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Issue 21 (the soak): while the leaf index merges, commands have the writer
        /// at least three quarters of the time, however long or short a step is.
        #[test]
        fn a_merge_step_rests_three_times_as_long_as_it_took(step_us in 0u64..10_000_000) {
            let step = std::time::Duration::from_micros(step_us);
            let rest = fold_rest(step);
            proptest::prop_assert!(rest >= std::time::Duration::from_millis(3));
            proptest::prop_assert!(rest.as_nanos() >= 3 * step.as_nanos(), "{step:?} rests {rest:?}");
        }
    }
}
