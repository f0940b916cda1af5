//! 1:N at enrolment: the in-memory gallery (built from the sealed biometric records
//! at start-up or first use; the commit that erases someone takes them out before
//! the writer lock is let go), the search of each registration's captures against
//! everyone on record, the supervisors' queue of candidates, and their decisions
//! (same person: the records are linked; two people: kept apart). Nothing is merged
//! or refused by a score.
//!
//! The search is one command with the registration: it appends the registration,
//! an `identification-searched` event (with or without candidates) and an access
//! on the person's log, whatever it finds, so the public log does not tell.
//!
//! The expensive part (the face embedding, the scans, the MCC comparisons) can run
//! before the writer lock is taken, against the gallery as it stands
//! ([`Registry::presearch`]); under the lock the command then compares the probe
//! only with the people inserted since (the gallery's generation), so no one
//! enrolled in between is missed and other desks' writes do not wait behind it.

use super::*;
pub use fairgate_biometrics::index::FACE_DIM;
use fairgate_biometrics::index::{Features, Gallery};
use fairgate_core::event::{Candidate, IdentificationDecided, IdentificationSearched};
use fairgate_core::matching::{Modality, Referral, FACE_THRESHOLD, FINGER_THRESHOLD};

/// How many people the finger signatures shortlist for the full comparison.
pub const SHORTLIST: usize = 20;

/// What a registration's 1:N search found.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Identification {
    /// People in the gallery when it was searched.
    pub searched: u64,
    /// Whether a face was searched (the face matcher is installed and a face was taken).
    pub face_searched: bool,
    /// People on record whose fingerprints or face scored at or above the threshold.
    pub candidates: Vec<Candidate>,
    /// `supervisor-review` when there are candidates: a supervisor decides; the
    /// registration stands either way.
    pub referral: Referral,
}

/// A person's 1:N candidates awaiting a supervisor.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Review {
    pub subject: SubjectId,
    pub registration: RegistrationNumber,
    pub at: Timestamp,
    /// The candidates not yet decided.
    pub candidates: Vec<Candidate>,
}

/// A registration's 1:N search run before the writer lock is taken
/// ([`Registry::presearch`]): what it searched with and what it found, and the
/// gallery's epoch and generation then. Used by the command only if its captures
/// give the same fingers and the same portrait; otherwise the command searches in
/// full, as without it.
#[derive(Debug, Clone)]
pub struct Presearch {
    epoch: u64,
    generation: u64,
    fingers: Vec<fairgate_biometrics::index::Finger>,
    /// The SHA-256 of the portrait embedded, when the face matcher ran.
    portrait: Option<[u8; 32]>,
    face: Option<[f32; FACE_DIM]>,
    hits: Vec<(u64, Modality, f64)>,
}

/// The SHA-256 of the portrait the face matcher would embed, when it is installed
/// and a face was taken.
fn portrait_digest(captures: &fairgate_core::capture::Captures, engine_installed: bool) -> Option<[u8; 32]> {
    let img = captures.face.as_ref()?.1.images.first()?;
    engine_installed.then(|| <sha2::Sha256 as sha2::Digest>::digest(&img.data).into())
}

/// The people waiting to go into the gallery (see `gallery_pending`), each
/// compared in full, as those changed since a presearch are.
fn search_pending(
    pending: &[(u64, Features)],
    features: &Features,
    skip: &dyn Fn(u64) -> bool,
    hits: &mut Vec<(u64, Modality, f64)>,
) {
    // The probe's templates, made only if someone pending has fingers to compare.
    let mut probe = None;
    for (n, f) in pending.iter().filter(|(n, _)| !skip(*n)) {
        if let (Some(a), Some(b)) = (&features.face, &f.face) {
            let score = fairgate_biometrics::index::dot(a, b);
            if score >= FACE_THRESHOLD.score as f32 {
                hits.push((*n, Modality::Face, f64::from(score)));
            }
        }
        if f.fingers.is_empty() || features.fingers.is_empty() {
            continue;
        }
        if let Some(score) = f.compare_fingers(probe.get_or_insert_with(|| features.templates())) {
            if score >= FINGER_THRESHOLD.score {
                hits.push((*n, Modality::Finger, score));
            }
        }
    }
}

/// One hit per person and modality, the best (someone both in the gallery and
/// waiting to go in, after a re-registration, is compared twice).
fn best_per_person(mut hits: Vec<(u64, Modality, f64)>) -> Vec<(u64, Modality, f64)> {
    hits.sort_by(|a, b| (a.0, a.1 == Modality::Face).cmp(&(b.0, b.1 == Modality::Face)).then(b.2.total_cmp(&a.2)));
    hits.dedup_by(|later, first| later.0 == first.0 && later.1 == first.1);
    hits
}

/// The search itself, over the gallery `g`: every face at or above the threshold,
/// and the fingers of the people the signatures shortlist, compared in full.
fn search_gallery(
    g: &Gallery,
    features: &Features,
    skip: &dyn Fn(u64) -> bool,
    threads: usize,
) -> Vec<(u64, Modality, f64)> {
    let mut hits: Vec<(u64, Modality, f64)> = Vec::new();
    if let Some(face) = &features.face {
        for h in g.search_face(face, FACE_THRESHOLD.score as f32, None, threads) {
            if !skip(h.subject_no) {
                hits.push((h.subject_no, Modality::Face, f64::from(h.score)));
            }
        }
    }
    let shortlist = g.shortlist_fingers(&features.fingers, SHORTLIST, skip);
    if !shortlist.is_empty() {
        let probe = features.templates();
        for h in shortlist {
            if let Some(score) = g.compare_fingers(h.subject_no, &probe) {
                if score >= FINGER_THRESHOLD.score {
                    hits.push((h.subject_no, Modality::Finger, score));
                }
            }
        }
    }
    hits
}

/// The search of a prepared registration under the lock: what the presearch found,
/// less the people to skip now and those changed since, and each of those changed
/// since compared in full (not shortlisted: they are few).
fn search_since(
    g: &Gallery,
    pre: &Presearch,
    features: &Features,
    skip: &dyn Fn(u64) -> bool,
) -> Vec<(u64, Modality, f64)> {
    let changed: HashSet<u64> = g.changed_since(pre.generation).into_iter().filter(|n| !skip(*n)).collect();
    let mut hits: Vec<(u64, Modality, f64)> =
        pre.hits.iter().filter(|(n, _, _)| !skip(*n) && !changed.contains(n)).copied().collect();
    if changed.is_empty() {
        return hits;
    }
    let probe = features.templates();
    let mut changed: Vec<u64> = changed.into_iter().collect();
    changed.sort_unstable();
    for n in changed {
        if let Some(score) = features.face.as_ref().and_then(|f| g.face_score(n, f)) {
            if score >= FACE_THRESHOLD.score as f32 {
                hits.push((n, Modality::Face, f64::from(score)));
            }
        }
        if let Some(score) = g.compare_fingers(n, &probe) {
            if score >= FINGER_THRESHOLD.score {
                hits.push((n, Modality::Finger, score));
            }
        }
    }
    hits
}

/// How many people, faces and fingers the gallery holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct GalleryStats {
    pub people: usize,
    pub faces: usize,
    pub fingers: usize,
}

/// The sealed biometric payload: the CBEFF records, and the face embedding when
/// the face matcher made one (so a restart does not run the model over everyone).
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
enum Payload {
    WithFace { birs: Vec<fairgate_core::cbeff::Bir>, face_embedding: Vec<f32> },
    Plain(Vec<fairgate_core::cbeff::Bir>),
}

pub(super) fn seal_payload(birs: &[fairgate_core::cbeff::Bir], face: Option<&[f32; FACE_DIM]>) -> Result<Vec<u8>> {
    match face {
        None => serde_json::to_vec(birs),
        Some(f) => serde_json::to_vec(&Payload::WithFace { birs: birs.to_vec(), face_embedding: f.to_vec() }),
    }
    .map_err(corrupt)
}

fn open_payload(
    bytes: &[u8],
) -> std::result::Result<(Vec<fairgate_core::cbeff::Bir>, Option<[f32; FACE_DIM]>), String> {
    match serde_json::from_slice::<Payload>(bytes).map_err(|e| e.to_string())? {
        Payload::Plain(birs) => Ok((birs, None)),
        Payload::WithFace { birs, face_embedding } => {
            Ok((birs, fairgate_biometrics::index::normalized(&face_embedding)))
        }
    }
}

impl Registry {
    /// Install the face matcher (`serve` does when the models are there).
    pub fn set_face_matcher(&self, m: Option<Arc<dyn fairgate_biometrics::face::FaceEmbedder>>) {
        if let Ok(mut f) = self.faces.write() {
            *f = m;
        }
    }

    pub fn face_matcher(&self) -> Option<Arc<dyn fairgate_biometrics::face::FaceEmbedder>> {
        self.faces.read().ok().and_then(|f| f.clone())
    }

    pub(super) fn invalidate_gallery(&self) {
        if let Ok(mut g) = self.gallery.write() {
            *g = None;
            if let Ok(mut p) = self.gallery_pending.lock() {
                p.clear();
            }
        }
    }

    /// Keep the gallery in step with a commit: erased people out, registrations in.
    /// A commit that only adds registrations does not wait for a search holding the
    /// gallery: its people wait in `gallery_pending`, which every search compares.
    pub(super) fn follow_commit(&self, commit: &Commit, adds: Vec<(u64, Features)>) {
        if adds.is_empty() && commit.erase.is_none() {
            return;
        }
        let g = if commit.erase.is_some() {
            self.gallery.write()
        } else {
            match self.gallery.try_write() {
                Ok(g) => Ok(g),
                Err(std::sync::TryLockError::WouldBlock) => {
                    if let Ok(mut p) = self.gallery_pending.lock() {
                        p.extend(adds);
                    }
                    return;
                }
                Err(std::sync::TryLockError::Poisoned(e)) => Err(e),
            }
        };
        let Ok(mut g) = g else { return };
        // Those waiting go in first, in the order they were committed.
        if let Ok(mut p) = self.gallery_pending.lock() {
            match g.as_mut() {
                Some(gallery) => p.drain(..).for_each(|(no, f)| gallery.insert(no, &f)),
                // Not built: the build reads everyone from the store.
                None => p.clear(),
            }
        }
        if let Some(erase) = &commit.erase {
            if !erase.program_keys.is_empty() {
                // A program's records no longer open: built again when next needed.
                *g = None;
                return;
            }
            if let Some(gallery) = g.as_mut() {
                for no in &erase.subjects {
                    gallery.remove(*no);
                }
            }
        }
        if let Some(gallery) = g.as_mut() {
            for (no, f) in adds {
                gallery.insert(no, &f);
            }
        }
    }

    /// A person's sealed biometric records, opened, with the face embedding if one
    /// was kept (not logged: the callers are). Records of an expunged program's
    /// registrations no longer open and are left out.
    pub(super) fn open_biometrics(
        &self,
        subject_no: u64,
        data: &SecretKey,
    ) -> Result<(Vec<fairgate_core::cbeff::Bir>, Option<[f32; FACE_DIM]>)> {
        self.open_biometrics_before(subject_no, data, u64::MAX)
    }

    /// The same, of the registrations recorded before leaf `before`.
    pub(super) fn open_biometrics_before(
        &self,
        subject_no: u64,
        data: &SecretKey,
        before: u64,
    ) -> Result<(Vec<fairgate_core::cbeff::Bir>, Option<[f32; FACE_DIM]>)> {
        let mut birs = Vec::new();
        let mut face = None;
        for b in self.store.biometrics(subject_no)?.into_iter().filter(|b| b.leaf < before) {
            let as_leaf = crate::store::LeafRow { index: b.leaf, leaf: b.sealed, hash: [0; 32] };
            let Some(key) = self.leaf_key(self.slot_of(&as_leaf)?, subject_no, Some(data), None)? else {
                continue;
            };
            let (header, mut payload) = leaf::open(&as_leaf.leaf, &key)
                .map_err(|e| corrupt(format!("biometric records of leaf {}: {e}", b.leaf)))?;
            if header.kind != pipeline::BIOMETRICS_KIND {
                return Err(corrupt(format!("the biometric records of leaf {} have kind {}", b.leaf, header.kind)));
            }
            let opened = open_payload(&payload);
            zeroize::Zeroize::zeroize(&mut payload);
            let (parsed, embedding) =
                opened.map_err(|e| corrupt(format!("biometric records of leaf {}: {e}", b.leaf)))?;
            birs.extend(parsed);
            face = embedding.or(face);
        }
        Ok((birs, face))
    }

    /// What a person's records contribute to the gallery.
    fn features_on_record(&self, subject_no: u64) -> Result<Features> {
        let Some(row) = self.store.subject_keys(subject_no)? else { return Ok(Features::default()) };
        let Some((data, _)) = self.unwrap_keys(&row)? else { return Ok(Features::default()) };
        let (birs, face) = self.open_biometrics(subject_no, &data)?;
        let minutiae = fairgate_core::cbeff::unwrap(&birs)
            .map_err(|e| corrupt(format!("the biometric records of subject {subject_no}: {e}")))?
            .1;
        let mut f = Features::from_minutiae(&minutiae);
        f.face = face;
        Ok(f)
    }

    /// Build the gallery from the sealed records of everyone on record (`serve` does
    /// at start-up; otherwise the first search does). `progress` gets (done, total).
    pub fn build_gallery(&self, progress: &mut dyn FnMut(usize, usize)) -> Result<GalleryStats> {
        let subjects = self.store.biometric_subjects()?;
        let mut gallery = Gallery::new();
        for (i, no) in subjects.iter().enumerate() {
            gallery.insert(*no, &self.features_on_record(*no)?);
            if i % 1000 == 999 {
                progress(i + 1, subjects.len());
            }
        }
        progress(subjects.len(), subjects.len());
        let stats = GalleryStats { people: gallery.len(), faces: gallery.faces(), fingers: gallery.fingers() };
        *self.gallery.write().map_err(|_| corrupt("gallery lock poisoned"))? = Some(gallery);
        Ok(stats)
    }

    /// The features of decoded captures: the fingers' signatures and minutiae, and
    /// the face's embedding when the face matcher is installed and finds the face.
    pub(super) fn features_of(&self, captures: &fairgate_core::capture::Captures) -> Features {
        let records: Vec<fairgate_core::minutiae::MinutiaeRecord> = captures.fingers.values().cloned().collect();
        let mut f = Features::from_minutiae(&records);
        if let (Some((_, rec)), Some(engine)) = (&captures.face, self.face_matcher()) {
            if let Some(img) = rec.images.first() {
                // The portrait passed its checks; a face the detector cannot find is
                // left out of the search (`face_searched: false`), not refused.
                f.face = engine.embed(&img.data).ok();
            }
        }
        f
    }

    /// The store numbers of the people already decided about with person `no`
    /// (same person or not): never raised again as their candidates.
    fn decided_with(&self, no: u64) -> Result<HashSet<u64>> {
        let mut decided = HashSet::new();
        if let Some(row) = self.store.subject_keys(no)? {
            if let Some((data, _)) = self.unwrap_keys(&row)? {
                for (_, e) in self.subject_events(no, &data, &[EventKind::IdentificationDecided])? {
                    if let Event::IdentificationDecided(d) = e {
                        if let Some(r) = self.store.subject_keys_by_id(d.other.as_bytes())? {
                            decided.insert(r.subject_no);
                        }
                    }
                }
            }
        }
        Ok(decided)
    }

    /// Run a registration's 1:N search before taking the writer lock: the face
    /// embedding, the scans and the full comparisons, against the gallery as it
    /// stands. Pass the result to [`Batch::record_registration_presearched`], which
    /// under the lock compares only with the people inserted since. `None` when
    /// there is nothing to search, the actor may not register, or anything fails
    /// (the command then does the whole search itself, and reports any error).
    /// Nothing is recorded or returned to anyone here: the command records the
    /// search, as it would without this.
    pub fn presearch(&self, actor: &Actor, subject: SubjectId, input: &RegistrationInput) -> Option<Presearch> {
        policy::authorize(actor, Action::RecordRegistration).ok()?;
        let captures = input.captures.as_ref()?.decode().ok()?;
        let features = self.features_of(&captures);
        if features.is_empty() {
            return None;
        }
        let portrait = portrait_digest(&captures, self.face_matcher().is_some());
        let no = self.store.subject_keys_by_id(subject.as_bytes()).ok()??.subject_no;
        let decided = self.decided_with(no).ok()?;
        let skip = |n: u64| n == no || decided.contains(&n);
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let searched = {
            // One at a time (see `search_lane`); a lane poisoned by a panic is still a lane.
            let _lane = self.search_lane.lock().unwrap_or_else(|e| e.into_inner());
            let searched =
                self.with_gallery(|g| (g.epoch(), g.generation(), search_gallery(g, &features, &skip, threads)));
            // The gallery is let go and no other search holds it: put in whoever was
            // committed while searches held it.
            self.settle_pending();
            searched
        };
        let (epoch, generation, hits) = searched.ok()?;
        Some(Presearch { epoch, generation, fingers: features.fingers, portrait, face: features.face, hits })
    }

    /// Put the people waiting in `gallery_pending` into the gallery, if it is free
    /// now (never waiting for it).
    fn settle_pending(&self) {
        if self.gallery_pending.lock().map_or(true, |p| p.is_empty()) {
            return;
        }
        if let Ok(mut g) = self.gallery.try_write() {
            if let (Some(gallery), Ok(mut p)) = (g.as_mut(), self.gallery_pending.lock()) {
                p.drain(..).for_each(|(no, f)| gallery.insert(no, &f));
            }
        }
    }

    /// Run `f` over the gallery, building it first if it is not there.
    fn with_gallery<T>(&self, f: impl FnOnce(&Gallery) -> T) -> Result<T> {
        {
            let g = self.gallery.read().map_err(|_| corrupt("gallery lock poisoned"))?;
            if let Some(g) = g.as_ref() {
                return Ok(f(g));
            }
        }
        self.build_gallery(&mut |_, _| {})?;
        let g = self.gallery.read().map_err(|_| corrupt("gallery lock poisoned"))?;
        g.as_ref().map(f).ok_or_else(|| corrupt("the gallery was dropped while it was built"))
    }

    /// Run `f` while holding the gallery as a search ahead of the writer lock does
    /// (building it first if need be): for the tests of what commits do meanwhile.
    pub fn hold_gallery<T>(&self, f: impl FnOnce() -> T) -> Result<T> {
        self.with_gallery(|_| ())?;
        let _held = self.gallery.read().map_err(|_| corrupt("gallery lock poisoned"))?;
        Ok(f())
    }

    /// Add people straight to the gallery, without records behind them: the
    /// benchmark's million. Product builds never enable it.
    #[cfg(feature = "bench")]
    pub fn bench_fill_gallery(&self, people: impl Iterator<Item = (u64, Features)>) -> Result<GalleryStats> {
        self.with_gallery(|_| ())?;
        let mut g = self.gallery.write().map_err(|_| corrupt("gallery lock poisoned"))?;
        let g = g.as_mut().ok_or_else(|| corrupt("no gallery"))?;
        for (no, f) in people {
            g.insert(no, &f);
        }
        Ok(GalleryStats { people: g.len(), faces: g.faces(), fingers: g.fingers() })
    }

    /// The gallery's size (building it if needed).
    pub fn gallery_stats(&self) -> Result<GalleryStats> {
        self.with_gallery(|g| GalleryStats { people: g.len(), faces: g.faces(), fingers: g.fingers() })
    }

    /// The 1:N candidates awaiting a supervisor's decision, for `purpose`
    /// (registration). Each person listed, searched or candidate, gets an access
    /// on their log before the list is returned.
    pub fn identification_reviews(
        &self,
        now: Timestamp,
        actor: &Actor,
        purpose: Purpose,
        request: &str,
    ) -> Result<Vec<Review>> {
        policy::authorize_read(actor, Read::IdentificationReviews, purpose)?;
        let mut out = Vec::new();
        for no in self.store.identification_subjects()? {
            let Some(row) = self.store.subject_keys(no)? else { continue };
            let Some((data, _)) = self.unwrap_keys(&row)? else { continue };
            out.extend(self.pending_reviews(no, &data)?);
        }
        if !out.is_empty() {
            self.write(now, |b| {
                let mut logged = HashSet::new();
                for r in &out {
                    for id in std::iter::once(r.subject).chain(r.candidates.iter().map(|c| c.subject)) {
                        if logged.insert(id) && self.is_live(id)? {
                            b.record_access(
                                id,
                                actor,
                                Read::IdentificationReviews,
                                purpose,
                                &["identification-candidates"],
                                request,
                            )?;
                        }
                    }
                }
                Ok(())
            })?;
        }
        Ok(out)
    }

    /// The embedding of a probe photograph: `None` when no face matcher is
    /// installed (the comparison is then not checked); refused, naming the field,
    /// when the image cannot be read or holds no face.
    pub fn embed_probe_face(&self, image: &[u8]) -> Result<Option<[f32; FACE_DIM]>> {
        let Some(engine) = self.face_matcher() else { return Ok(None) };
        engine.embed(image).map(Some).map_err(|e| Invalid::one("probe.face", e.to_string()).into())
    }

    /// Compare a probe photograph's embedding with the person's face on record
    /// (1:1, cosine similarity, from registrations recorded before leaf `before`):
    /// a purpose-bound read, logged; the outcome recorded whatever it is, a no-match
    /// referring the person to secondary inspection. Nothing on record, or no
    /// matcher (`probe` is `None`): not checked.
    #[allow(clippy::too_many_arguments)]
    pub fn verify_face(
        &self,
        now: Timestamp,
        actor: &Actor,
        purpose: Purpose,
        id: SubjectId,
        place: &str,
        probe: Option<[f32; FACE_DIM]>,
        before: u64,
        request: &str,
    ) -> Result<(fairgate_core::matching::Comparison, Receipt)> {
        use fairgate_core::matching::{Comparison, Context};
        self.admit(now, actor, Read::Biometrics, purpose, Some(id), request)?;
        let row = self.store.subject_keys_by_id(id.as_bytes())?.ok_or(RegistryError::UnknownSubject(id))?;
        let (data, _) = self.unwrap_keys(&row)?.ok_or(RegistryError::Erased(id))?;
        let (birs, stored) = self.open_biometrics_before(row.subject_no, &data, before)?;
        // A face recorded before the matcher was installed has no embedding: made now.
        let stored = match (stored, self.face_matcher(), probe.is_some()) {
            (Some(e), _, _) => Some(e),
            (None, Some(engine), true) => fairgate_core::cbeff::unwrap(&birs)
                .ok()
                .and_then(|(face, _, _)| face)
                .and_then(|f| f.images.into_iter().next())
                .and_then(|img| engine.embed(&img.data).ok()),
            _ => None,
        };
        let score = match (probe, stored) {
            (Some(p), Some(s)) => Some(f64::from(fairgate_biometrics::index::dot(&p, &s))),
            _ => None,
        };
        let comparison = Comparison::new(score, &FACE_THRESHOLD, Context::Verification);
        let receipt = self.record_comparison(now, actor, purpose, id, place, comparison, "face-comparison", request)?;
        Ok((comparison, receipt))
    }

    fn is_live(&self, id: SubjectId) -> Result<bool> {
        Ok(self.store.subject_keys_by_id(id.as_bytes())?.is_some_and(|r| r.data_key.is_some()))
    }

    /// A person's searches with candidates not yet decided.
    fn pending_reviews(&self, no: u64, data: &SecretKey) -> Result<Vec<Review>> {
        let events =
            self.subject_events(no, data, &[EventKind::IdentificationSearched, EventKind::IdentificationDecided])?;
        let decided: HashSet<SubjectId> = events
            .iter()
            .filter_map(|(_, e)| match e {
                Event::IdentificationDecided(d) => Some(d.other),
                _ => None,
            })
            .collect();
        let mut out = Vec::new();
        for (_, e) in events {
            if let Event::IdentificationSearched(s) = e {
                let candidates: Vec<Candidate> =
                    s.candidates.into_iter().filter(|c| !decided.contains(&c.subject)).collect();
                if !candidates.is_empty() {
                    out.push(Review { subject: s.subject, registration: s.registration, at: s.at, candidates });
                }
            }
        }
        Ok(out)
    }
}

impl Batch<'_> {
    /// The features of a registration's captures (see [`Registry::features_of`]),
    /// and the presearch to use with them: `pre` is kept only if it was made from
    /// the same fingers and the same portrait (the face embedding is then its own,
    /// not made again under the lock).
    pub(super) fn capture_features(
        &self,
        captures: &fairgate_core::capture::Captures,
        pre: Option<Presearch>,
    ) -> (Features, Option<Presearch>) {
        if let Some(p) = pre {
            let records: Vec<fairgate_core::minutiae::MinutiaeRecord> = captures.fingers.values().cloned().collect();
            let fingers = Features::from_minutiae(&records).fingers;
            if fingers == p.fingers && portrait_digest(captures, self.reg.face_matcher().is_some()) == p.portrait {
                return (Features { fingers, face: p.face }, Some(p));
            }
        }
        (self.reg.features_of(captures), None)
    }

    /// Search a registration's captures against everyone else on record, and record
    /// the search (with its candidates, if any) and an access on the person's log.
    /// People already decided about with this person are not raised again.
    pub(super) fn identify(
        &mut self,
        actor: &Actor,
        subject: SubjectId,
        number: &RegistrationNumber,
        features: &Features,
        pre: Option<&Presearch>,
    ) -> Result<Identification> {
        let (no, sealer) = {
            let s = self.state(subject)?;
            (s.no, s.data.clone())
        };
        let reg = self.reg;
        let decided = reg.decided_with(no)?;
        let skip = |n: u64| n == no || decided.contains(&n);
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let (searched, hits) = reg.with_gallery(|g| {
            let mut hits = match pre.filter(|p| p.epoch == g.epoch()) {
                Some(p) => search_since(g, p, features, &skip),
                None => search_gallery(g, features, &skip, threads),
            };
            let mut searched = g.len() as u64;
            if let Ok(pending) = reg.gallery_pending.lock() {
                search_pending(&pending, features, &skip, &mut hits);
                let newcomers: HashSet<u64> = pending.iter().map(|(n, _)| *n).filter(|n| !g.contains(*n)).collect();
                searched += newcomers.len() as u64;
            }
            (searched, best_per_person(hits))
        })?;
        let mut candidates = Vec::new();
        for (n, modality, score) in hits {
            // Someone erased is never a candidate, even if the gallery lagged.
            let Some(row) = reg.store.subject_keys(n)?.filter(|r| r.data_key.is_some()) else { continue };
            let threshold = match modality {
                Modality::Face => FACE_THRESHOLD.score,
                Modality::Finger => FINGER_THRESHOLD.score,
            };
            candidates.push(Candidate { subject: SubjectId::from_bytes(row.subject_id), modality, score, threshold });
        }
        candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
        self.record_access(
            subject,
            actor,
            Read::Biometrics,
            Purpose::Registration,
            &["identification-search"],
            "1:N search at enrolment",
        )?;
        let event =
            IdentificationSearched::with_candidates(subject, number.clone(), searched, candidates.clone(), self.now);
        self.append(no, SLOT_DATA, &sealer, &event)?;
        let referral = if candidates.is_empty() { Referral::None } else { Referral::SupervisorReview };
        Ok(Identification { searched, face_searched: features.face.is_some(), candidates, referral })
    }

    /// The 1:N search of a registration recorded in this batch.
    pub fn identification(&self, number: &RegistrationNumber) -> Option<&Identification> {
        self.identifications.iter().find(|(n, _)| n == number).map(|(_, i)| i)
    }

    /// A supervisor decides a pending 1:N candidate of `subject`'s: `same_person`
    /// links the two records as one person's; otherwise they are kept apart. The
    /// reason is required either way. Recorded on both records.
    pub fn decide_identification(
        &mut self,
        actor: &Actor,
        subject: SubjectId,
        other: SubjectId,
        same_person: bool,
        reason: &str,
    ) -> Result<()> {
        policy::authorize(actor, Action::DecideIdentification)?;
        let reason = reason_text(reason)?;
        let (no, sealer) = {
            let s = self.state(subject)?;
            (s.no, s.data.clone())
        };
        let pending = match self.reg.store.subject_keys(no)? {
            Some(row) => match self.reg.unwrap_keys(&row)? {
                Some((data, _)) => self.reg.pending_reviews(no, &data)?,
                None => Vec::new(),
            },
            None => Vec::new(),
        };
        if !pending.iter().any(|r| r.candidates.iter().any(|c| c.subject == other)) {
            return Err(Invalid::one(
                "candidate",
                format!("{other} is not a pending 1:N candidate of {subject}'s: see GET /identification/reviews"),
            )
            .into());
        }
        let now = self.now;
        let decided = |on: SubjectId, with: SubjectId, searched: bool| {
            Event::IdentificationDecided(IdentificationDecided {
                subject: on,
                other: with,
                searched,
                same_person,
                reason: reason.clone(),
                decided_by: actor.clone(),
                at: now,
            })
        };
        let mine = decided(subject, other, true);
        self.append(no, SLOT_DATA, &sealer, &mine)?;
        // The candidate's record says so too, unless it was erased meanwhile.
        if self.reg.is_live(other)? {
            let (other_no, other_sealer) = {
                let s = self.state(other)?;
                (s.no, s.data.clone())
            };
            let theirs = decided(other, subject, false);
            self.append(other_no, SLOT_DATA, &other_sealer, &theirs)?;
        }
        Ok(())
    }
}
