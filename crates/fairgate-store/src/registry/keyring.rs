//! The keys behind the subject keys: the master keys that wrap every stored key
//! (two of them while a rotation is under way), the program keys under which each
//! program's records of a person are sealed, choosing the key that opens a leaf from
//! its key slot, and `rotate_master`, which re-wraps every stored key under a new
//! master key in short transactions while the registry keeps serving.

use fairgate_core::event::{Event, EventKind, MasterKeyRotated};
use fairgate_core::Invalid;
use std::sync::Arc;

use fairgate_ledger::keys::{program_subject_key, MasterKey, SecretKey};
use fairgate_ledger::leaf::Header;
use rand::rngs::StdRng;
use rand::SeedableRng;

use super::{corrupt, key_label, Registry, RegistryError, Result, SLOT_ACCESS, SLOT_DATA};
use crate::store::{LeafRow, Rewrap};

/// Key slots from this one up name a program's records: slot 16 + the program key's ordinal.
pub const SLOT_PROGRAM_BASE: u8 = 16;

/// A master key, in memory or in a token.
pub type Master = Arc<dyn MasterKey>;

/// The master keys a registry knows: the one in force and, while a rotation is
/// under way, the next one. New keys are wrapped under the next one when there is one.
#[derive(Clone)]
pub struct MasterKeys {
    pub current: Master,
    pub next: Option<Master>,
}

impl MasterKeys {
    /// Master keys held in memory (key files, tests).
    pub fn files(current: SecretKey, next: Option<SecretKey>) -> Self {
        MasterKeys { current: Arc::new(current), next: next.map(|k| Arc::new(k) as Master) }
    }

    pub fn wrapping(&self) -> &Master {
        self.next.as_ref().unwrap_or(&self.current)
    }

    fn all(&self) -> impl Iterator<Item = &Master> {
        self.next.iter().chain(std::iter::once(&self.current))
    }
}

impl From<SecretKey> for MasterKeys {
    fn from(current: SecretKey) -> Self {
        MasterKeys::files(current, None)
    }
}

/// Wrap `key` under `master` with a fresh nonce from `rng`.
pub(super) fn wrap_under(
    master: &Master,
    key: &SecretKey,
    label: &[u8],
    rng: &mut impl rand::RngCore,
) -> std::result::Result<Vec<u8>, fairgate_ledger::LedgerError> {
    let mut nonce = [0u8; 12];
    rng.fill_bytes(&mut nonce);
    master.wrap_key(key, label, nonce)
}

/// Where a registry can read the master keys again (the data directory's key files),
/// for when another process has started or finished a rotation.
pub type KeySource = Box<dyn Fn() -> std::result::Result<MasterKeys, String> + Send + Sync>;

/// The program keys by ordinal; `None` once destroyed.
#[derive(Default)]
pub(super) struct ProgramKeys(Vec<Option<(String, Option<SecretKey>)>>);

pub(super) fn program_key_label(program: &str) -> Vec<u8> {
    format!("fairgate program key v1 {program}").into_bytes()
}

/// Unwrap under whichever of `masters` wrapped the key.
pub(super) fn unwrap_any(
    masters: &MasterKeys,
    wrapped: &[u8],
    label: &[u8],
) -> std::result::Result<SecretKey, fairgate_ledger::LedgerError> {
    let mut last = fairgate_ledger::LedgerError::Decrypt;
    for m in masters.all() {
        match m.unwrap_key(wrapped, label) {
            Ok(k) => return Ok(k),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// What a rotation did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RotationReport {
    pub old_fingerprint: String,
    pub new_fingerprint: String,
    /// Keys re-wrapped by this run.
    pub rewrapped: u64,
    /// Keys found already under the new master (a resumed rotation).
    pub already: u64,
    /// Every key is under the new master: the old one may be retired.
    pub completed: bool,
}

impl Registry {
    /// Read the master keys again from the key source, if there is one.
    pub(super) fn reload_masters(&self) -> bool {
        let Some(source) = &self.key_source else { return false };
        match (source(), self.masters.write()) {
            (Ok(keys), Ok(mut m)) => {
                tracing::info!(rotating = keys.next.is_some(), "master keys read again from the data directory");
                *m = keys;
                true
            }
            (Err(e), _) => {
                tracing::warn!(error = %e, "the master key files could not be read again");
                false
            }
            _ => false,
        }
    }

    /// Unwrap a stored key under a known master key, reading the master keys again
    /// once if none fits (another process may be rotating them).
    pub(super) fn unwrap_stored(&self, wrapped: &[u8], label: &[u8]) -> Result<SecretKey> {
        let first = {
            let m = self.masters.read().map_err(|_| corrupt("master keys lock poisoned"))?;
            unwrap_any(&m, wrapped, label)
        };
        match first {
            Ok(k) => Ok(k),
            Err(e) => {
                if self.reload_masters() {
                    let m = self.masters.read().map_err(|_| corrupt("master keys lock poisoned"))?;
                    if let Ok(k) = unwrap_any(&m, wrapped, label) {
                        return Ok(k);
                    }
                }
                Err(corrupt(format!("a stored key does not unwrap under the master key: {e}")))
            }
        }
    }

    /// Wrap a new key under the master key new keys go under.
    pub(super) fn wrap_new(&self, key: &SecretKey, label: &[u8], rng: &mut StdRng) -> Result<Vec<u8>> {
        let m = self.masters.read().map_err(|_| corrupt("master keys lock poisoned"))?;
        wrap_under(m.wrapping(), key, label, rng)
            .map_err(|e| corrupt(format!("the master key could not wrap a key: {e}")))
    }

    /// Read the program keys again from the store. Keys made by batches still being
    /// committed (in a stream) are kept.
    pub(super) fn load_program_keys(&self) -> Result<()> {
        self.read_program_keys(true)
    }

    /// Read the program keys from the store alone (a stream failed: what it made is gone).
    pub(super) fn reset_program_keys(&self) -> Result<()> {
        self.read_program_keys(false)
    }

    fn read_program_keys(&self, keep_pending: bool) -> Result<()> {
        let mut keys = ProgramKeys::default();
        if keep_pending {
            keys.0 = self.program_keys.read().map_err(|_| corrupt("program keys lock poisoned"))?.0.clone();
        }
        // Rows read just before a rotation finished may be wrapped under a master
        // already retired: read them once more (the keys are the same; only the wrapping changed).
        let rows = self.store.program_keys()?;
        let opened = rows.iter().map(|row| self.open_program_key(row)).collect::<Result<Vec<_>>>();
        let (rows, opened) = match opened {
            Ok(opened) => (rows, opened),
            Err(_) => {
                let rows = self.store.program_keys()?;
                let opened = rows.iter().map(|row| self.open_program_key(row)).collect::<Result<Vec<_>>>()?;
                (rows, opened)
            }
        };
        for (row, key) in rows.into_iter().zip(opened) {
            let i = row.ordinal as usize;
            if keys.0.len() <= i {
                keys.0.resize(i + 1, None);
            }
            keys.0[i] = Some((row.program, key));
        }
        *self.program_keys.write().map_err(|_| corrupt("program keys lock poisoned"))? = keys;
        Ok(())
    }

    fn open_program_key(&self, row: &crate::store::ProgramKeyRow) -> Result<Option<SecretKey>> {
        row.wrapped.as_ref().map(|w| self.unwrap_stored(w, &program_key_label(&row.program))).transpose()
    }

    /// Keys a batch made, known before (or without) reading them back from the store.
    pub(super) fn remember_program_keys(&self, made: &[(u8, String, SecretKey)]) -> Result<()> {
        if made.is_empty() {
            return Ok(());
        }
        let mut keys = self.program_keys.write().map_err(|_| corrupt("program keys lock poisoned"))?;
        for (ordinal, program, key) in made {
            let i = *ordinal as usize;
            if keys.0.len() <= i {
                keys.0.resize(i + 1, None);
            }
            keys.0[i] = Some((program.clone(), Some(key.clone())));
        }
        Ok(())
    }

    fn find_program_key(&self, program: &str) -> Result<Option<(u8, Option<SecretKey>)>> {
        let keys = self.program_keys.read().map_err(|_| corrupt("program keys lock poisoned"))?;
        Ok(keys.0.iter().enumerate().find_map(|(i, e)| match e {
            Some((p, k)) if p == program => Some((i as u8, k.clone())),
            _ => None,
        }))
    }

    /// The key of `program` for a new record, if it has one: `Ok(None)` when it has
    /// none yet (the batch makes one), refused once its records were expunged.
    pub(super) fn program_key_for_append(&self, program: &str) -> Result<Option<(u8, SecretKey)>> {
        let mut found = self.find_program_key(program)?;
        if found.is_none() {
            self.load_program_keys()?;
            found = self.find_program_key(program)?;
        }
        match found {
            Some((ordinal, Some(key))) => Ok(Some((ordinal, key))),
            Some((_, None)) => Err(Invalid::one(
                "program",
                format!("the records of program {program} were expunged: nothing more can be recorded under it"),
            )
            .into()),
            None => Ok(None),
        }
    }

    /// A new key for `program`, under the next free ordinal after `taken` more made
    /// in the same batch, wrapped under the newest master key (the key files are read
    /// again first, in case a rotation has begun). The row goes into the batch's commit.
    pub(super) fn new_program_key(
        &self,
        program: &str,
        taken: usize,
        rng: &mut StdRng,
    ) -> Result<(crate::store::ProgramKeyRow, SecretKey)> {
        let n = self.program_keys.read().map_err(|_| corrupt("program keys lock poisoned"))?.0.len() + taken;
        if n >= (u8::MAX - SLOT_PROGRAM_BASE) as usize {
            return Err(corrupt("no program key slot is left (at most 239 programs can hold records)"));
        }
        self.reload_masters();
        let key = SecretKey::generate(rng);
        let wrapped = self.wrap_new(&key, &program_key_label(program), rng)?;
        Ok((
            crate::store::ProgramKeyRow { ordinal: n as u8, program: program.to_string(), wrapped: Some(wrapped) },
            key,
        ))
    }

    /// The key of the program with `ordinal`, `None` once destroyed.
    pub(super) fn program_key_by_ordinal(&self, ordinal: u8) -> Result<Option<SecretKey>> {
        let get = |reg: &Registry| -> Result<Option<Option<SecretKey>>> {
            let keys = reg.program_keys.read().map_err(|_| corrupt("program keys lock poisoned"))?;
            Ok(keys.0.get(ordinal as usize).and_then(|e| e.as_ref()).map(|(_, k)| k.clone()))
        };
        if let Some(k) = get(self)? {
            return Ok(k);
        }
        self.load_program_keys()?;
        Ok(get(self)?.flatten())
    }

    /// The key that opens a subject's leaf sealed in `slot`; `None` when it was destroyed.
    pub(super) fn leaf_key(
        &self,
        slot: u8,
        subject_no: u64,
        data: Option<&SecretKey>,
        access: Option<&SecretKey>,
    ) -> Result<Option<SecretKey>> {
        match slot {
            SLOT_DATA => Ok(data.cloned()),
            SLOT_ACCESS => Ok(access.cloned()),
            s if s >= SLOT_PROGRAM_BASE => {
                let Some(d) = data else { return Ok(None) };
                Ok(self.program_key_by_ordinal(s - SLOT_PROGRAM_BASE)?.map(|p| program_subject_key(&p, subject_no, d)))
            }
            other => Err(corrupt(format!("a leaf of subject {subject_no} names unknown key slot {other}"))),
        }
    }

    /// The key slot of a leaf (from its key id).
    pub(super) fn slot_of(&self, row: &LeafRow) -> Result<u8> {
        let header = Header::decode(&row.leaf).map_err(|e| corrupt(format!("leaf {}: {e}", row.index)))?;
        Ok(self.key_ids.open(&header.key_id).slot)
    }

    /// Open one of a subject's leaves with whichever of their keys sealed it;
    /// `None` when that key was destroyed (an expunged program's records).
    pub(super) fn open_subject_leaf(
        &self,
        row: &LeafRow,
        subject_no: u64,
        data: Option<&SecretKey>,
        access: Option<&SecretKey>,
    ) -> Result<Option<Event>> {
        match self.leaf_key(self.slot_of(row)?, subject_no, data, access)? {
            Some(k) => Ok(Some(self.open_leaf(row, &k)?)),
            None => Ok(None),
        }
    }

    /// Re-wrap every stored key (subjects', programs' and the system's) under
    /// `masters.next`, in transactions of `chunk` subjects, while the registry keeps
    /// serving. The registry must have been opened with both master keys. A
    /// rotation can stop anywhere and be run again: keys already under the new
    /// master are counted and left alone, and each replacement applies only if the
    /// stored key is still the one that was read (an erasure in between wins).
    /// `progress` gets (subjects done, subjects in all) after each chunk and returns
    /// `false` to stop there (the report then says not `completed`). The first run appends a
    /// `MasterKeyRotated` event (so every other process using this database
    /// re-reads its key files before its next write), the last one another with
    /// `completed`. The caller then makes the new key the current one.
    pub fn rotate_master(
        &self,
        now: jiff::Timestamp,
        actor: &fairgate_core::access::Actor,
        chunk: usize,
        progress: &mut dyn FnMut(u64, u64) -> bool,
    ) -> Result<RotationReport> {
        fairgate_core::policy::authorize(actor, fairgate_core::policy::Action::RotateKeys)?;
        let masters = self.masters.read().map_err(|_| corrupt("master keys lock poisoned"))?.clone();
        let Some(next) = masters.next.clone() else {
            return Err(RegistryError::NotPermitted("no next master key: start a rotation first".into()));
        };
        let old_fp = masters.current.fingerprint();
        let new_fp = next.fingerprint();
        let mut report =
            RotationReport { old_fingerprint: old_fp.clone(), new_fingerprint: new_fp.clone(), ..Default::default() };
        let started = self
            .store
            .system_leaves(EventKind::MasterKeyRotated.code())?
            .into_iter()
            .any(|(leaf, _)| matches!(self.rotation_event(leaf), Ok(Some(e)) if e.new_fingerprint == new_fp));
        if !started {
            let event = Event::MasterKeyRotated(MasterKeyRotated {
                old_fingerprint: old_fp.clone(),
                new_fingerprint: new_fp.clone(),
                completed: false,
                rewrapped: 0,
            });
            self.append_system_retrying(now, event)?;
        }
        let mut rng = {
            let mut seed = [0u8; 32];
            rand::RngCore::fill_bytes(&mut self.lock()?.rng, &mut seed);
            StdRng::from_seed(seed)
        };
        let mut rewrap = |old: &[u8], label: &[u8], report: &mut RotationReport| -> Result<Option<Vec<u8>>> {
            if next.unwrap_key(old, label).is_ok() {
                report.already += 1;
                return Ok(None);
            }
            let key = masters
                .current
                .unwrap_key(old, label)
                .map_err(|_| corrupt("a stored key unwraps under neither the old nor the new master key"))?;
            Ok(Some(
                wrap_under(&next, &key, label, &mut rng)
                    .map_err(|e| corrupt(format!("the new master key could not wrap a key: {e}")))?,
            ))
        };
        // The system's keys and the programs' (there are few), before the subjects'
        // and again after them, for any made meanwhile.
        type Rewrapper<'a> = dyn FnMut(&[u8], &[u8], &mut RotationReport) -> Result<Option<Vec<u8>>> + 'a;
        let few = |rewrap: &mut Rewrapper<'_>, report: &mut RotationReport| -> Result<()> {
            let mut out = Vec::new();
            for (name, old) in self.store.system_keys()? {
                let label = format!("fairgate system key v1 {name}").into_bytes();
                if let Some(new) = rewrap(&old, &label, report)? {
                    out.push(Rewrap::System { name, old, new });
                }
            }
            for row in self.store.program_keys()? {
                let Some(old) = row.wrapped else { continue };
                if let Some(new) = rewrap(&old, &program_key_label(&row.program), report)? {
                    out.push(Rewrap::Program { ordinal: row.ordinal, old, new });
                }
            }
            report.rewrapped += self.store.rewrap(&out)?;
            Ok(())
        };
        few(&mut rewrap, &mut report)?;
        let total = self.store.max_subject_no()?;
        let mut after = 0;
        loop {
            let rows = self.store.subject_keys_after(after, chunk.max(1))?;
            let Some(last) = rows.last() else { break };
            after = last.subject_no;
            let mut out = Vec::with_capacity(rows.len() * 2);
            for row in rows {
                let no = row.subject_no;
                if let Some(old) = row.data_key {
                    if let Some(new) = rewrap(&old, &key_label(no, SLOT_DATA), &mut report)? {
                        out.push(Rewrap::SubjectData { subject_no: no, old, new });
                    }
                }
                if let Some(old) = row.access_key {
                    if let Some(new) = rewrap(&old, &key_label(no, SLOT_ACCESS), &mut report)? {
                        out.push(Rewrap::SubjectAccess { subject_no: no, old, new });
                    }
                }
            }
            report.rewrapped += self.store.rewrap(&out)?;
            if !progress(after.min(total), total.max(after)) {
                return Ok(report);
            }
        }
        few(&mut rewrap, &mut report)?;
        let event = Event::MasterKeyRotated(MasterKeyRotated {
            old_fingerprint: old_fp,
            new_fingerprint: new_fp,
            completed: true,
            rewrapped: report.rewrapped,
        });
        self.append_system_retrying(now, event)?;
        report.completed = true;
        Ok(report)
    }

    /// Append a system event, trying again when another process appended at the
    /// same moment (this runs beside a serving process).
    pub(super) fn append_system_retrying(&self, now: jiff::Timestamp, event: Event) -> Result<super::Receipt> {
        let mut tries = 0;
        loop {
            match self.write(now, |b| b.append_system(event.clone())) {
                Err(RegistryError::Store(crate::store::StoreError::Conflict { .. })) if tries < 20 => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(10 * tries));
                }
                other => return other.map(|(_, r)| r),
            }
        }
    }

    /// When the master key epoch in force began: the last completed rotation, or the
    /// ledger's first leaf. `None` for an empty ledger.
    pub fn master_epoch_started(&self) -> Result<Option<jiff::Timestamp>> {
        let rotations = self.store.system_leaves(EventKind::MasterKeyRotated.code())?;
        for (leaf, _) in rotations.into_iter().rev() {
            if matches!(self.rotation_event(leaf)?, Some(e) if e.completed) {
                return self.leaf_time(leaf).map(Some);
            }
        }
        if self.store.tree_size()? == 0 {
            return Ok(None);
        }
        self.leaf_time(0).map(Some)
    }

    /// Whether the rotation schedule says the master key is due for rotation at `now`.
    pub fn rotation_due(&self, now: jiff::Timestamp) -> Result<bool> {
        let (Some(period), Some(started)) = (self.rotation_period(), self.master_epoch_started()?) else {
            return Ok(false);
        };
        Ok(fairgate_core::expungement::rotation_due(started, period, now))
    }

    /// The day an erasure made at `now` reaches every backup, by the schedule.
    pub(super) fn backups_erased_by(&self, now: jiff::Timestamp) -> Result<Option<jiff::civil::Date>> {
        let started = self.master_epoch_started()?.unwrap_or(now);
        Ok(fairgate_core::expungement::backups_erased_by(started, self.rotation_period(), now))
    }

    fn leaf_time(&self, leaf: u64) -> Result<jiff::Timestamp> {
        let row = self.store.leaves_at(&[leaf])?.pop().ok_or_else(|| corrupt(format!("leaf {leaf} is missing")))?;
        let header = Header::decode(&row.leaf).map_err(|e| corrupt(format!("leaf {leaf}: {e}")))?;
        Ok(crate::project::recorded_at(header.timestamp_ms))
    }

    fn rotation_event(&self, leaf: u64) -> Result<Option<MasterKeyRotated>> {
        let row = self.store.leaves_at(&[leaf])?.pop().ok_or_else(|| corrupt(format!("leaf {leaf} is missing")))?;
        match self.open_leaf(&row, &self.system)? {
            Event::MasterKeyRotated(e) => Ok(Some(e)),
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fairgate_core::access::{Actor, Role};
    use std::sync::Mutex;

    /// Found by the crash campaign: the compliance run at start-up failed with "a stored
    /// key does not unwrap under the master key" while the harness rotated the master key
    /// each second. The scan had read a person's key row, then two rotations finished
    /// (the first master retired), so neither the masters in memory nor those in the key
    /// files opened the row it held. The row is now read again.
    #[test]
    fn a_key_row_read_before_two_rotations_finished_still_opens() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::backend::test_store(&dir.path().join("k.db")).unwrap().store();
        let k = |b: u8| SecretKey::from_bytes([b; 32]);
        let files = Arc::new(Mutex::new(MasterKeys::files(k(1), None)));
        let open = |keys: MasterKeys| {
            let files = files.clone();
            Registry::open(store.clone(), keys, &k(2), "t/log", [5; 32])
                .unwrap()
                .with_key_source(Box::new(move || Ok(files.lock().unwrap().clone())))
        };
        let serving = open(MasterKeys::files(k(1), None));
        let person: fairgate_core::subject::SubjectInput = serde_json::from_value(serde_json::json!({
            "document": {"kind": "P", "issuing_state": "UTO", "number": "ROT000001", "expires_on": "2031-04-15"},
            "surname": "ROTATED", "given_names": "TEST", "birth_date": "1974-08-12", "sex": "X", "nationality": "UTO"
        }))
        .unwrap();
        let now = jiff::Timestamp::from_second(1_800_000_000).unwrap();
        let officer = Actor::new("u-off", Role::Officer, "test");
        serving.write(now, |b| b.create_subject(&officer, &person)).unwrap();
        let no = store.max_subject_no().unwrap();
        // What a long scan holds: the row as it was.
        let stale = store.subject_keys(no).unwrap().unwrap();
        let (data, access) = (stale.data_key.clone().unwrap(), stale.access_key.clone().unwrap());
        let before = serving.unwrap_slot(no, SLOT_DATA, &data).unwrap();

        // Two rotations, each completed and its old master retired: 1 -> 3, then 3 -> 4.
        for (old, new) in [(1, 3), (3, 4)] {
            *files.lock().unwrap() = MasterKeys::files(k(old), Some(k(new)));
            let report = open(MasterKeys::files(k(old), Some(k(new)))).rotate_master(
                now,
                &Actor::system("test"),
                10,
                &mut |_, _| true,
            );
            assert!(report.unwrap().completed);
            *files.lock().unwrap() = MasterKeys::files(k(new), None);
        }
        // The serving process has read the key files again (as it does before a write
        // once the log shows a rotation): it knows master 4 alone.
        assert!(serving.reload_masters());
        assert!(
            unwrap_any(&MasterKeys::files(k(4), None), &data, &key_label(no, SLOT_DATA)).is_err(),
            "the row held is wrapped under a retired master"
        );
        let after = serving.unwrap_slot(no, SLOT_DATA, &data).expect("the row is read again");
        assert_eq!(after.expose(), before.expose(), "the same key, wrapped anew");
        assert!(serving.unwrap_slot(no, SLOT_ACCESS, &access).is_ok());
        // A stored wrapping that opens under no master is still refused, not papered over.
        let stored = store.subject_keys(no).unwrap().unwrap().data_key.unwrap();
        let mut broken = stored.clone();
        let last = broken.len() - 1;
        broken[last] ^= 1;
        let swap = Rewrap::SubjectData { subject_no: no, old: stored, new: broken.clone() };
        assert_eq!(store.rewrap(&[swap]).unwrap(), 1);
        let Err(refused) = serving.unwrap_slot(no, SLOT_DATA, &broken) else { panic!("a broken stored key opened") };
        assert!(refused.to_string().contains("does not unwrap"), "{refused}");
    }
}
