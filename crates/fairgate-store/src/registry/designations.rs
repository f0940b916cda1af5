//! Individual designations: an officer's designation, a supervisor's review (never
//! of one's own), and the auditors' statistics by officer and place (aggregates only).

use super::*;

/// How long worked-out statistics are kept at most.
const STATS_KEPT: std::time::Duration = std::time::Duration::from_secs(600);

impl Registry {
    /// Designation rates per officer and per place, by nationality and sex, with the
    /// impact analysis's flag test (auditors). Every live subject is read; only
    /// aggregates leave, and groups under 10 people are not shown, so no access is
    /// logged. Officers are named by account id.
    pub fn designation_stats(&self, actor: &Actor) -> Result<fairgate_core::designation::Stats> {
        policy::authorize(actor, Action::DesignationStatistics)?;
        if let Ok(g) = self.designation_stats.lock() {
            if let Some((_, stats, _)) = g.as_ref().filter(|(at, _, fresh)| *fresh && at.elapsed() < STATS_KEPT) {
                return Ok(stats.clone());
            }
        }
        self.refresh_designation_stats()
    }

    /// The statistics as last worked out, at once, for a page: with their age when
    /// a commit may have changed them since (or they are older than ten minutes),
    /// in which case the caller has them worked out again in the background
    /// ([`Registry::refresh_designation_stats`]). Worked out here only when there are
    /// none (a server warms them at start).
    pub fn designation_stats_at_once(
        &self,
        actor: &Actor,
    ) -> Result<(fairgate_core::designation::Stats, Option<std::time::Duration>)> {
        policy::authorize(actor, Action::DesignationStatistics)?;
        if let Ok(g) = self.designation_stats.lock() {
            if let Some((at, stats, fresh)) = g.as_ref() {
                let stale = !*fresh || at.elapsed() >= STATS_KEPT;
                return Ok((stats.clone(), stale.then(|| at.elapsed())));
            }
        }
        Ok((self.refresh_designation_stats()?, None))
    }

    /// Work the statistics out now and keep them (aggregates only; nothing is
    /// logged, as for the auditors' read).
    pub fn refresh_designation_stats(&self) -> Result<fairgate_core::designation::Stats> {
        let stats = self.work_out_designation_stats()?;
        if let Ok(mut g) = self.designation_stats.lock() {
            *g = Some((std::time::Instant::now(), stats.clone(), true));
        }
        Ok(stats)
    }

    /// Mark the statistics out of date when a commit may change them (see the
    /// field); drop them when anyone is erased (nothing of an erased person stays,
    /// not even in an aggregate kept in memory).
    pub(super) fn follow_commit_for_stats(&self, commit: &crate::store::Commit) {
        if commit.erase.is_some() {
            self.forget_designation_stats();
            return;
        }
        let relevant = [
            EventKind::SubjectCreated.code(),
            EventKind::RegistrationRecorded.code(),
            EventKind::CrossingRecorded.code(),
            EventKind::SubjectDesignated.code(),
        ];
        let touches = commit
            .projections
            .iter()
            .any(|p| matches!(p, crate::store::Projection::SubjectLeaf { kind, .. } if relevant.contains(kind)));
        if touches {
            if let Ok(mut g) = self.designation_stats.lock() {
                if let Some((_, _, fresh)) = g.as_mut() {
                    *fresh = false;
                }
            }
        }
    }

    pub(super) fn forget_designation_stats(&self) {
        if let Ok(mut g) = self.designation_stats.lock() {
            *g = None;
        }
    }

    fn work_out_designation_stats(&self) -> Result<fairgate_core::designation::Stats> {
        use fairgate_core::designation::Encounter;
        let kinds = [
            EventKind::SubjectCreated,
            EventKind::RegistrationRecorded,
            EventKind::CrossingRecorded,
            EventKind::SubjectDesignated,
        ];
        let mut people = Vec::new();
        for (no, _) in self.store.live_subjects()? {
            let Some(row) = self.store.subject_keys(no)? else { continue };
            let Some((data, _)) = self.unwrap_keys(&row)? else { continue };
            let mut p = Encounter::default();
            for (_, event) in self.subject_events(no, &data, &kinds)? {
                match event {
                    Event::SubjectCreated(e) => {
                        p.nationality = e.person.nationality;
                        p.sex = format!("{:?}", e.person.sex);
                    }
                    Event::RegistrationRecorded(e) => {
                        p.seen_by.push(e.officer.id);
                        p.seen_at.push(e.registration.place);
                    }
                    Event::CrossingRecorded(e) => {
                        p.seen_by.push(e.recorded_by.id);
                        p.seen_at.push(e.crossing.port);
                    }
                    Event::SubjectDesignated(e) => p.designated.push((e.designated_by.id, e.designation.place)),
                    _ => {}
                }
            }
            p.seen_by.sort();
            p.seen_by.dedup();
            p.seen_at.sort();
            p.seen_at.dedup();
            people.push(p);
        }
        Ok(fairgate_core::designation::stats(&people, fairgate_core::report::MIN_CELL))
    }
}

impl Batch<'_> {
    /// This subject's designations, committed and pending in this batch.
    pub(super) fn designations(
        &mut self,
        subject: SubjectId,
    ) -> Result<(u64, Arc<Sealer>, Vec<fairgate_core::designation::Designation>)> {
        let (no, sealer) = {
            let s = self.state(subject)?;
            (s.no, s.data.clone())
        };
        // A subject created in this batch has no committed keys, and no committed designations.
        let mut events: Vec<Event> = match self.reg.store.subject_keys(no)? {
            Some(row) => {
                let (data, _) = self.reg.unwrap_keys(&row)?.ok_or(RegistryError::Erased(subject))?;
                self.reg
                    .subject_events(no, &data, &[EventKind::SubjectDesignated, EventKind::DesignationReviewed])?
                    .into_iter()
                    .map(|(_, e)| e)
                    .collect()
            }
            None => Vec::new(),
        };
        events.extend(self.designation_events.iter().filter(|(s, _)| *s == subject).map(|(_, e)| e.clone()));
        Ok((no, sealer, fairgate_core::designation::fold(&events)))
    }

    /// An officer designates a subject for closer monitoring. It has effect only once
    /// a supervisor approves it, within 72 hours. Returns its number.
    pub fn designate(
        &mut self,
        actor: &Actor,
        subject: SubjectId,
        input: &fairgate_core::designation::DesignationInput,
    ) -> Result<u32> {
        policy::authorize(actor, Action::Designate)?;
        let designation = input.validate(&self.reg.places())?;
        let (no, sealer, existing) = self.designations(subject)?;
        let number = existing.iter().map(|d| d.number).max().unwrap_or(0) + 1;
        let event = Event::SubjectDesignated(SubjectDesignated {
            subject,
            number,
            designation,
            designated_by: actor.clone(),
            at: self.now,
        });
        self.append(no, SLOT_DATA, &sealer, &event)?;
        self.designation_events.push((subject, event));
        Ok(number)
    }

    /// A supervisor (not the designating officer) approves or rejects a pending designation.
    pub fn review_designation(
        &mut self,
        actor: &Actor,
        subject: SubjectId,
        number: u32,
        approved: bool,
        reason: Option<&str>,
    ) -> Result<()> {
        policy::authorize(actor, Action::ReviewDesignation)?;
        let (no, sealer, existing) = self.designations(subject)?;
        fairgate_core::designation::check_review(&existing, number, actor, self.now).map_err(|e| match e {
            fairgate_core::designation::ReviewRefusal::Policy(r) => RegistryError::Forbidden(r),
            other => RegistryError::Review(other),
        })?;
        let reason = match reason.map(str::trim).filter(|r| !r.is_empty()) {
            Some(r) => Some(reason_text(r)?),
            None if !approved => {
                return Err(Invalid::one("reason", "is required to reject a designation: say why").into())
            }
            None => None,
        };
        let event = Event::DesignationReviewed(DesignationReviewed {
            subject,
            number,
            approved,
            reason,
            reviewed_by: actor.clone(),
            at: self.now,
        });
        self.append(no, SLOT_DATA, &sealer, &event)?;
        self.designation_events.push((subject, event));
        Ok(())
    }
}
