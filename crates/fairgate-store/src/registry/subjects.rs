//! Subjects: creating a person, recording registrations (each with its portal code)
//! and crossings, and the reads of one person (timeline, lookup by document), each
//! checked against the policy and logged by `record_access` before it returns.

use super::*;
use fairgate_core::event::AttemptOutcome;

impl Registry {
    /// A subject's timeline, without any access logging. Private on purpose: every
    /// caller outside this module goes through `read_timeline`.
    pub(super) fn load_timeline(&self, id: SubjectId) -> Result<Timeline> {
        let row = self.store.subject_keys_by_id(id.as_bytes())?.ok_or(RegistryError::UnknownSubject(id))?;
        let (data, _) = self.unwrap_keys(&row)?.ok_or(RegistryError::Erased(id))?;
        let idx: Vec<u64> = self
            .store
            .subject_leaves(row.subject_no, 0)?
            .into_iter()
            .filter(|(_, k)| !EventKind::from_code(*k).is_some_and(EventKind::is_access_log))
            .map(|(i, _)| i)
            .collect();
        let mut events = Vec::with_capacity(idx.len());
        for l in self.store.leaves_at(&idx)? {
            if let Some(e) = self.open_subject_leaf(&l, row.subject_no, Some(&data), None)? {
                events.push((l.index, e));
            }
        }
        Timeline::fold(events).ok_or_else(|| corrupt(format!("subject {id} has keys but no creation event")))
    }

    /// Read a subject's timeline for `purpose`. The access event is durable in the
    /// ledger before the timeline is returned; if it cannot be written, nothing is.
    /// The policy is checked first: a refused read touches nothing.
    pub fn read_timeline(
        &self,
        now: Timestamp,
        actor: &Actor,
        purpose: Purpose,
        id: SubjectId,
        request: &str,
    ) -> Result<(Timeline, Receipt)> {
        self.admit(now, actor, Read::Timeline, purpose, Some(id), request)?;
        let timeline = self.load_timeline(id)?;
        let fields = [
            "document",
            "names",
            "birth_date",
            "sex",
            "nationality",
            "registrations",
            "interviews",
            "crossings",
            "designations",
            "address",
            "appointments",
            "missed_appointments",
            "contact",
        ];
        let ((), receipt) = self.write_access(&[id], purpose, now, |b| {
            b.record_access(id, actor, Read::Timeline, purpose, &fields, request)
        })?;
        Ok((timeline, receipt))
    }

    /// A person's sealed biometric records, opened (not logged: the callers are).
    fn stored_birs(&self, id: SubjectId) -> Result<Vec<fairgate_core::cbeff::Bir>> {
        let row = self.store.subject_keys_by_id(id.as_bytes())?.ok_or(RegistryError::UnknownSubject(id))?;
        let (data, _) = self.unwrap_keys(&row)?.ok_or(RegistryError::Erased(id))?;
        Ok(self.open_biometrics(row.subject_no, &data)?.0)
    }

    /// Compare fingerprints taken at a port or a desk with the person's on record
    /// (1:1, fused over the finger positions both hold; the best of their
    /// registrations' recorded before leaf `before`). A purpose-bound read of their
    /// templates, logged; the outcome is recorded, and a no-match refers the person
    /// to secondary inspection and decides nothing else.
    #[allow(clippy::too_many_arguments)]
    pub fn verify_fingerprints(
        &self,
        now: Timestamp,
        actor: &Actor,
        purpose: Purpose,
        id: SubjectId,
        place: &str,
        probe: &[fairgate_core::minutiae::MinutiaeRecord],
        before: u64,
        request: &str,
    ) -> Result<(fairgate_core::matching::Comparison, Receipt)> {
        use fairgate_core::matching::{Comparison, Context, FINGER_THRESHOLD};
        self.admit(now, actor, Read::Biometrics, purpose, Some(id), request)?;
        let row = self.store.subject_keys_by_id(id.as_bytes())?.ok_or(RegistryError::UnknownSubject(id))?;
        let (data, _) = self.unwrap_keys(&row)?.ok_or(RegistryError::Erased(id))?;
        // Only records from before `before` (a registration's own captures are not its probe's reference).
        let birs = self.open_biometrics_before(row.subject_no, &data, before)?.0;
        let stored = fairgate_core::cbeff::unwrap(&birs)
            .map_err(|e| corrupt(format!("the biometric records of a subject: {e}")))?
            .1;
        let mut probe_all = fairgate_core::minutiae::MinutiaeRecord {
            certification: 0,
            device_type: 0,
            width: 0,
            height: 0,
            x_resolution: 197,
            y_resolution: 197,
            views: Vec::new(),
        };
        for r in probe {
            probe_all.views.extend(r.views.iter().cloned());
        }
        let score = stored
            .iter()
            .filter_map(|r| fairgate_biometrics::fingerprint::compare_records(&probe_all, r))
            .fold(None, |best: Option<f64>, s| Some(best.map_or(s, |b| b.max(s))));
        let comparison = Comparison::new(score, &FINGER_THRESHOLD, Context::Verification);
        let receipt =
            self.record_comparison(now, actor, purpose, id, place, comparison, "fingerprint-comparison", request)?;
        Ok((comparison, receipt))
    }

    /// Log a 1:1 comparison's read of the person's templates and record its outcome,
    /// in one command. Recorded whatever the outcome, so the public log shows the
    /// same leaves for a match, a no-match and nothing to compare; only a no-match
    /// refers (the event carries the referral).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn record_comparison(
        &self,
        now: Timestamp,
        actor: &Actor,
        purpose: Purpose,
        id: SubjectId,
        place: &str,
        comparison: fairgate_core::matching::Comparison,
        field: &str,
        request: &str,
    ) -> Result<Receipt> {
        let ((), receipt) = self.write(now, |b| {
            b.record_access(id, actor, Read::Biometrics, purpose, &[field], request)?;
            let (no, sealer) = b.data_sealer(id)?;
            let event = Event::ComparisonRecorded(fairgate_core::event::ComparisonRecorded {
                subject: id,
                comparison,
                place: place.to_string(),
                by: actor.clone(),
                at: now,
            });
            b.append(no, SLOT_DATA, &sealer, &event)?;
            Ok(())
        })?;
        Ok(receipt)
    }

    /// A person's biometric records (every registration's, oldest first), for
    /// `purpose`: logged like any read before they are returned. Records of an
    /// expunged program's registrations no longer open and are left out.
    pub fn read_biometrics(
        &self,
        now: Timestamp,
        actor: &Actor,
        purpose: Purpose,
        id: SubjectId,
        request: &str,
    ) -> Result<(Vec<fairgate_core::cbeff::Bir>, Receipt)> {
        self.admit(now, actor, Read::Biometrics, purpose, Some(id), request)?;
        let birs = self.stored_birs(id)?;
        let ((), receipt) =
            self.write(now, |b| b.record_access(id, actor, Read::Biometrics, purpose, &["biometrics"], request))?;
        Ok((birs, receipt))
    }

    /// Find subjects by travel-document number through the blind index. Each match
    /// is an access, logged before the ids are returned.
    pub fn lookup_document(
        &self,
        now: Timestamp,
        actor: &Actor,
        purpose: Purpose,
        number: &str,
        request: &str,
    ) -> Result<(Vec<SubjectId>, Option<Receipt>)> {
        self.admit(now, actor, Read::DocumentLookup, purpose, None, request)?;
        let number = document_number("document_number", number).map_err(|e| Invalid(vec![e]))?;
        let blind = blind_index(&self.blind, DOCUMENT_DOMAIN, &number);
        let mut ids = Vec::new();
        for no in self.store.subjects_by_document(&blind)? {
            if let Some(row) = self.store.subject_keys(no)? {
                if row.data_key.is_some() {
                    ids.push(SubjectId::from_bytes(row.subject_id));
                }
            }
        }
        if purpose == Purpose::LawEnforcement {
            // Only people this actor holds a grant for; without one, the answer is the
            // same whether or not the document is on record.
            ids.retain(|id| self.check_law_enforcement(*id, actor, now).is_ok());
        }
        // Every lookup is logged, found or not: a match on each person's access log, no
        // match as an attempt that names nobody.
        let ((), receipt) = self.write_access(&ids, purpose, now, |b| {
            if ids.is_empty() {
                b.record_attempt(actor, Read::DocumentLookup, purpose, request, AttemptOutcome::NoMatch)?;
            }
            for id in &ids {
                b.record_lookup_match(*id, actor, purpose, request)?;
            }
            Ok(())
        })?;
        Ok((ids, Some(receipt)))
    }

    /// Create a subject (`Batch::create_subject` in a command of its own). When the
    /// document is on record already, the answer names that subject: that is a read,
    /// so it is logged first, for `purpose`, on the person's access log (the purpose
    /// is checked before anything is looked up, whatever the outcome).
    pub fn create_subject(
        &self,
        now: Timestamp,
        actor: &Actor,
        purpose: Purpose,
        input: &SubjectInput,
        request: &str,
    ) -> Result<(SubjectId, Receipt)> {
        self.admit(now, actor, Read::DocumentLookup, purpose, None, request)?;
        match self.write(now, |b| b.create_subject(actor, input)) {
            Err(RegistryError::DocumentOnRecord { subject, .. }) => {
                let ((), receipt) = self.write(now, |b| b.record_lookup_match(subject, actor, purpose, request))?;
                Err(RegistryError::DocumentOnRecord { subject, receipt: Some(receipt) })
            }
            other => other,
        }
    }

    /// Add a person's new travel document (a renewal, a new passport); they keep
    /// their id. A document another person holds answers as in `create_subject`.
    pub fn add_document(
        &self,
        now: Timestamp,
        actor: &Actor,
        purpose: Purpose,
        subject: SubjectId,
        input: &fairgate_core::document::DocumentInput,
        request: &str,
    ) -> Result<Receipt> {
        self.admit(now, actor, Read::DocumentLookup, purpose, None, request)?;
        match self.write(now, |b| b.add_document(actor, subject, input)) {
            Err(RegistryError::DocumentOnRecord { subject: holder, .. }) => {
                let ((), receipt) = self.write(now, |b| b.record_lookup_match(holder, actor, purpose, request))?;
                Err(RegistryError::DocumentOnRecord { subject: holder, receipt: Some(receipt) })
            }
            other => other.map(|((), r)| r),
        }
    }

    /// The live subject holding `doc` (same kind, issuing state and number), if any.
    pub(crate) fn document_holder(&self, doc: &fairgate_core::document::TravelDocument) -> Result<Option<SubjectId>> {
        let blind = blind_index(&self.blind, DOCUMENT_DOMAIN, &doc.number);
        for no in self.store.subjects_by_document(&blind)? {
            let Some(row) = self.store.subject_keys(no)? else { continue };
            let Some((data, _)) = self.unwrap_keys(&row)? else { continue };
            for (_, e) in self.subject_events(no, &data, &[EventKind::SubjectCreated, EventKind::DocumentAdded])? {
                let d = match &e {
                    Event::SubjectCreated(c) => &c.person.document,
                    Event::DocumentAdded(a) => &a.document,
                    _ => continue,
                };
                if d.number == doc.number && d.issuing_state == doc.issuing_state && d.kind == doc.kind {
                    return Ok(Some(SubjectId::from_bytes(row.subject_id)));
                }
            }
        }
        Ok(None)
    }

    /// Log a read that the server's route guard refused before it reached the
    /// registry (the refusal is the policy's; this only puts it on record).
    pub fn record_refused_read(
        &self,
        now: Timestamp,
        actor: &Actor,
        read: Read,
        purpose: Purpose,
        request: &str,
    ) -> Result<Receipt> {
        Ok(self.write(now, |b| b.record_attempt(actor, read, purpose, request, AttemptOutcome::Refused))?.1)
    }

    /// The policy's answer to a read of personal data, and for law enforcement the
    /// grant's, before anything is looked up: an unknown subject is refused like a
    /// known one, so a refusal does not tell whether the person exists. A refused
    /// read is logged (as an attempt naming nobody) before the refusal is returned.
    pub(crate) fn admit(
        &self,
        now: Timestamp,
        actor: &Actor,
        read: Read,
        purpose: Purpose,
        id: Option<SubjectId>,
        request: &str,
    ) -> Result<()> {
        let refusal: Option<RegistryError> = match policy::authorize_read(actor, read, purpose) {
            Err(r) => Some(r.into()),
            Ok(()) => match id {
                Some(id) => match policy::own_records(actor, &id) {
                    Err(r) => Some(r.into()),
                    Ok(()) if purpose == Purpose::LawEnforcement => self.check_law_enforcement(id, actor, now).err(),
                    Ok(()) => None,
                },
                None => None,
            },
        };
        let Some(refusal) = refusal else { return Ok(()) };
        // The refusal stands even if its record cannot be written.
        let _ = self.write(now, |b| b.record_attempt(actor, read, purpose, request, AttemptOutcome::Refused));
        Err(refusal)
    }
}

impl Batch<'_> {
    /// Create a subject from travel-document data. A document already on record
    /// (kind, issuing state and number) is refused with `DocumentOnRecord`: one
    /// person, one record. Nothing is logged here: see `Registry::create_subject`.
    pub fn create_subject(&mut self, actor: &Actor, input: &SubjectInput) -> Result<SubjectId> {
        policy::authorize(actor, Action::CreateSubject)?;
        let person = input.validate(self.today())?;
        if let Some(subject) = self.reg.document_holder(&person.document)? {
            return Err(RegistryError::DocumentOnRecord { subject, receipt: None });
        }
        self.new_subject(actor, person)
    }

    /// Add a new travel document to a person's record (see `Registry::add_document`).
    pub fn add_document(
        &mut self,
        actor: &Actor,
        subject: SubjectId,
        input: &fairgate_core::document::DocumentInput,
    ) -> Result<()> {
        policy::authorize(actor, Action::AddDocument)?;
        let document = input.validate("document")?;
        let (no, sealer) = {
            let s = self.state(subject)?;
            (s.no, s.data.clone())
        };
        match self.reg.document_holder(&document)? {
            Some(holder) if holder == subject => {
                return Err(Invalid::one("document", "is this person's already: nothing to add").into())
            }
            Some(holder) => return Err(RegistryError::DocumentOnRecord { subject: holder, receipt: None }),
            None => {}
        }
        let event = Event::DocumentAdded(fairgate_core::event::DocumentAdded {
            subject,
            document,
            added_by: actor.clone(),
            at: self.now,
        });
        self.append(no, SLOT_DATA, &sealer, &event).map(|_| ())
    }

    /// Create a subject from data already validated (bulk loads, the demo).
    pub fn create_validated_subject(&mut self, actor: &Actor, person: NewSubject) -> Result<SubjectId> {
        policy::authorize(actor, Action::CreateSubject)?;
        self.new_subject(actor, person)
    }

    /// The one way a subject is made; the public paths above, and the import, check the policy first.
    pub(crate) fn new_subject(&mut self, actor: &Actor, person: NewSubject) -> Result<SubjectId> {
        let mut raw = [0u8; 16];
        self.rng.fill_bytes(&mut raw);
        let id = SubjectId::from_bytes(raw);
        let no = self.next_subject_no;
        self.next_subject_no += 1;
        let data = SecretKey::generate(self.rng);
        let access = SecretKey::generate(self.rng);
        self.commit.subject_keys.push(SubjectKeysRow {
            subject_no: no,
            subject_id: raw,
            data_key: Some(self.reg.wrap_new(&data, &key_label(no, SLOT_DATA), self.rng)?),
            access_key: Some(self.reg.wrap_new(&access, &key_label(no, SLOT_ACCESS), self.rng)?),
        });
        let event = Event::SubjectCreated(SubjectCreated { subject: id, person, created_by: actor.clone() });
        let state = SubjectState::new(no, &data, &access, &[]);
        self.append(no, SLOT_DATA, &state.data, &event)?;
        self.overlay.insert(id, state);
        Ok(id)
    }

    /// Record a registration (with its interview) and give it a new registration number.
    pub fn record_registration(
        &mut self,
        actor: &Actor,
        subject: SubjectId,
        input: &RegistrationInput,
    ) -> Result<RegistrationNumber> {
        self.record_registration_presearched(actor, subject, input, None)
    }

    /// The same, with its 1:N search already run before the writer lock was taken
    /// ([`Registry::presearch`]): only the people inserted into the gallery since
    /// are compared here. Everything else is as [`Batch::record_registration`].
    pub fn record_registration_presearched(
        &mut self,
        actor: &Actor,
        subject: SubjectId,
        input: &RegistrationInput,
        pre: Option<super::identification::Presearch>,
    ) -> Result<RegistrationNumber> {
        policy::authorize(actor, Action::RecordRegistration)?;
        let mut reg = input.validate(&self.reg.places(), self.now)?;
        // The records decode and parse before anything else is looked at.
        let captures = match &input.captures {
            Some(c) => Some(c.decode()?),
            None => None,
        };
        // Checked before anything is recorded: is this person required to register?
        let mut requirement = None;
        match self.reg.registration_required(subject, &reg)? {
            Ok((req, age)) => {
                reg.voluntary = false;
                reg.program = Some(req.program.clone());
                requirement = Some((req, age));
            }
            Err(_) if reg.voluntary => {}
            // Why not is worked out from the person's record, which a refusal must not
            // quote: the reasons are in GET /subjects/{id}/obligations, a logged read
            // that needs a purpose.
            Err(_) => {
                return Err(Invalid::one(
                    "voluntary",
                    "no program in force requires this person to register (the reasons are in GET /subjects/{id}/obligations, read with a purpose); if they register of their own accord, send voluntary: true and the registration is labelled voluntary",
                )
                .into())
            }
        }
        let captures = captures.unwrap_or_else(|| fairgate_core::capture::Captures {
            face: None,
            fingers: Default::default(),
            images: Default::default(),
            not_captured: vec![],
        });
        let (req, age) = match &requirement {
            Some((r, a)) => (Some(r), *a),
            None => (None, None),
        };
        if captures.is_empty() && req.is_none_or(|r| !r.face && r.fingers.is_empty()) {
            // Nothing captured and nothing required: no captures section at all.
            return self.new_registration(actor, subject, reg, None, None);
        }
        let (captures, summary) = captures.check(req, age)?;
        if let Some((_, rec)) = &captures.face {
            for img in &rec.images {
                fairgate_biometrics::check_portrait(img)
                    .map_err(|r| Invalid::one("captures.face", format!("{}: {}", r.field, r.message)))?;
            }
        }
        reg.captures = Some(summary);
        let (features, pre) = self.capture_features(&captures, pre);
        // Sealed even when empty: every registration with captures carries a digest
        // and a sealed record, whatever was taken, so neither tells on the person.
        let birs = captures.birs(reg.at);
        let number = self.new_registration(actor, subject, reg, Some(birs), features.face.as_ref())?;
        // Searched against everyone else on record, and recorded, whatever it finds.
        let found = self.identify(actor, subject, &number, &features, pre.as_ref())?;
        if !features.is_empty() {
            let no = self.state(subject)?.no;
            self.gallery_adds.push((no, features));
        }
        self.identifications.push((number.clone(), found));
        Ok(number)
    }

    /// Record a registration already validated (bulk loads, the demo).
    pub fn record_validated_registration(
        &mut self,
        actor: &Actor,
        subject: SubjectId,
        registration: NewRegistration,
    ) -> Result<RegistrationNumber> {
        policy::authorize(actor, Action::RecordRegistration)?;
        self.new_registration(actor, subject, registration, None, None)
    }

    /// Record a registration already validated, with biometric records already
    /// checked (the demo's generated ones).
    pub fn record_validated_registration_with(
        &mut self,
        actor: &Actor,
        subject: SubjectId,
        registration: NewRegistration,
        birs: Vec<fairgate_core::cbeff::Bir>,
    ) -> Result<RegistrationNumber> {
        policy::authorize(actor, Action::RecordRegistration)?;
        self.new_registration(actor, subject, registration, (!birs.is_empty()).then_some(birs), None)
    }

    /// The one way a registration is recorded: its number, its event, its sealed
    /// biometric records (when `birs` is given), and the person's portal access code,
    /// all in this batch's commit.
    pub(crate) fn new_registration(
        &mut self,
        actor: &Actor,
        subject: SubjectId,
        mut registration: NewRegistration,
        birs: Option<Vec<fairgate_core::cbeff::Bir>>,
        face: Option<&[f32; fairgate_biometrics::index::FACE_DIM]>,
    ) -> Result<RegistrationNumber> {
        if self.reg.places().get(&registration.place).is_none() {
            return Err(Invalid::one("place", format!("`{}` is not a known port or office", registration.place)).into());
        }
        let (no, key) = {
            let s = self.state(subject)?;
            (s.no, s.data.clone())
        };
        let number = match self.reserved_numbers.pop() {
            Some(n) => n,
            None => self.new_registration_number()?,
        };
        let mut event = Event::RegistrationRecorded(RegistrationRecorded {
            subject,
            number: number.clone(),
            registration: registration.clone(),
            officer: actor.clone(),
        });
        if let Some(birs) = birs {
            // Sealed first, under the key the registration's leaf will have, so that
            // the event can commit to the sealed bytes.
            let sealed = self.seal_beside(no, &key, &event, &birs, face)?;
            let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&sealed));
            registration.captures.get_or_insert_with(Default::default).sealed = Some(digest);
            event = Event::RegistrationRecorded(RegistrationRecorded {
                subject,
                number: number.clone(),
                registration,
                officer: actor.clone(),
            });
            let leaf = self.frontier.size();
            self.commit.biometrics.push(crate::store::BiometricRow { leaf, subject_no: no, sealed });
        }
        let leaf = self.append(no, SLOT_DATA, &key, &event)?;
        self.issue_access_code(&number, leaf);
        Ok(number)
    }

    /// Draw `n` registration numbers now, checked against the store in one read,
    /// for the registrations this batch is about to record (bulk loads).
    pub fn reserve_registration_numbers(&mut self, n: usize) -> Result<()> {
        let drawn: Vec<RegistrationNumber> =
            (0..n).map(|_| RegistrationNumber::from_entropy(self.rng.next_u64())).collect();
        let blinds: Vec<[u8; 32]> =
            drawn.iter().map(|d| blind_index(&self.reg.blind, REGISTRATION_DOMAIN, d.as_str())).collect();
        let taken = self.reg.store.registrations_exist(&blinds)?;
        for ((number, blind), taken) in drawn.into_iter().zip(blinds).zip(taken) {
            if !taken && self.new_registrations.insert(blind) {
                self.reserved_numbers.push(number);
            }
        }
        Ok(())
    }

    /// A registration number no one holds.
    pub(super) fn new_registration_number(&mut self) -> Result<RegistrationNumber> {
        Ok(loop {
            let n = RegistrationNumber::from_entropy(self.rng.next_u64());
            let blind = blind_index(&self.reg.blind, REGISTRATION_DOMAIN, n.as_str());
            if !self.new_registrations.contains(&blind) && !self.reg.store.registration_exists(&blind)? {
                self.new_registrations.insert(blind);
                break n;
            }
        })
    }

    /// Record an entry or exit. An exit must close an entry recorded before it.
    pub fn record_crossing(&mut self, actor: &Actor, subject: SubjectId, input: &CrossingInput) -> Result<u64> {
        policy::authorize(actor, Action::RecordCrossing)?;
        let crossing = input.validate(&self.reg.places(), self.now)?;
        self.append_crossing(actor, subject, crossing, None)
    }

    /// Record a crossing already validated (bulk loads, the demo).
    pub fn record_validated_crossing(&mut self, actor: &Actor, subject: SubjectId, crossing: Crossing) -> Result<u64> {
        policy::authorize(actor, Action::RecordCrossing)?;
        self.append_crossing(actor, subject, crossing, None)
    }

    /// Record a crossing, first working out whether the person is already
    /// overstaying on its day (from the committed history). The crossing is
    /// accepted either way; an overstay found is sealed into the crossing event and
    /// returned. The check's answer, overstaying or not, is shown to the recording
    /// officer, so it is logged as a `border-check` access in the same command,
    /// every time: the public log shows the same two leaves whatever the answer.
    pub fn record_crossing_checked(
        &mut self,
        actor: &Actor,
        subject: SubjectId,
        input: &CrossingInput,
        request: &str,
    ) -> Result<(u64, Option<fairgate_core::stay::Overstay>)> {
        policy::authorize(actor, Action::RecordCrossing)?;
        let crossing = input.validate(&self.reg.places(), self.now)?;
        let day = self.reg.dated(&crossing).local_day;
        let history = self.reg.dated_of(subject)?;
        let overstay = standing(&stays_from_crossings(history, day), day)?.ongoing_overstay;
        let leaf = self.append_crossing(actor, subject, crossing, overstay)?;
        self.record_access(subject, actor, Read::Stay, Purpose::BorderCheck, &["overstay"], request)?;
        Ok((leaf, overstay))
    }

    /// The one way a crossing enters the ledger: a known port, the exit-follows-entry
    /// rule against the subject's history, then the sealed event.
    pub(super) fn append_crossing(
        &mut self,
        actor: &Actor,
        subject: SubjectId,
        crossing: Crossing,
        overstay_at_crossing: Option<fairgate_core::stay::Overstay>,
    ) -> Result<u64> {
        if !self.reg.places().get(&crossing.port).is_some_and(|p| p.place.kind == PlaceKind::Port) {
            return Err(Invalid::one("port", format!("`{}` is not a known port: see GET /ports", crossing.port)).into());
        }
        let fact = CrossingFact { at: crossing.at, direction: crossing.direction };
        let (no, key) = {
            let s = self.state(subject)?;
            let pos = check_sorted_sequence(&s.crossings, fact)?;
            s.crossings.insert(pos, fact);
            (s.no, s.data.clone())
        };
        let event = Event::CrossingRecorded(CrossingRecorded {
            subject,
            crossing,
            recorded_by: actor.clone(),
            overstay_at_crossing,
        });
        self.append(no, SLOT_DATA, &key, &event)
    }

    /// Log a read of `subject`'s data as one access event. Every read of personal data
    /// passes here, so the policy is checked here too, exactly: each read also checks it
    /// before it touches anything, and this check keeps a path that forgot from reading.
    /// Log a read that disclosed nothing (see `Registry::admit`).
    pub(super) fn record_attempt(
        &mut self,
        actor: &Actor,
        read: Read,
        purpose: Purpose,
        request: &str,
        outcome: AttemptOutcome,
    ) -> Result<()> {
        self.append_system(Event::AccessAttempted(fairgate_core::event::AccessAttempted {
            subject: None,
            actor: actor.clone(),
            read: read.as_str().to_string(),
            purpose,
            request: request.to_string(),
            outcome,
        }))
    }

    /// The checks every logged read passes (the policy, the registrant's binding, a
    /// law-enforcement grant), and the subject's number and access-log sealer.
    fn access_log(
        &mut self,
        subject: SubjectId,
        actor: &Actor,
        read: Read,
        purpose: Purpose,
    ) -> Result<(u64, std::sync::Arc<fairgate_ledger::leaf::Sealer>)> {
        policy::authorize_read(actor, read, purpose)?;
        policy::own_records(actor, &subject)?;
        if purpose == Purpose::LawEnforcement {
            self.reg.check_law_enforcement(subject, actor, self.now)?;
        }
        let s = self.state(subject)?;
        Ok((s.no, s.access.clone()))
    }

    /// Log that a lookup found `subject`: an `access-attempted` leaf of outcome
    /// `match`, sealed under the person's access-log key (so it is in their accounting
    /// of disclosures), the same kind as a lookup that found nobody.
    pub(super) fn record_lookup_match(
        &mut self,
        subject: SubjectId,
        actor: &Actor,
        purpose: Purpose,
        request: &str,
    ) -> Result<()> {
        let (no, key) = self.access_log(subject, actor, Read::DocumentLookup, purpose)?;
        let event = Event::AccessAttempted(fairgate_core::event::AccessAttempted {
            subject: Some(subject),
            actor: actor.clone(),
            read: Read::DocumentLookup.as_str().to_string(),
            purpose,
            request: request.to_string(),
            outcome: AttemptOutcome::Match,
        });
        self.append(no, SLOT_ACCESS, &key, &event)?;
        Ok(())
    }

    pub(super) fn record_access(
        &mut self,
        subject: SubjectId,
        actor: &Actor,
        read: Read,
        purpose: Purpose,
        fields: &[&str],
        request: &str,
    ) -> Result<()> {
        let (no, key) = self.access_log(subject, actor, read, purpose)?;
        let event = Event::PersonalDataAccessed(PersonalDataAccessed {
            subject,
            actor: actor.clone(),
            purpose,
            fields: fields.iter().map(|f| f.to_string()).collect(),
            request: request.to_string(),
        });
        self.append(no, SLOT_ACCESS, &key, &event)?;
        Ok(())
    }
}
