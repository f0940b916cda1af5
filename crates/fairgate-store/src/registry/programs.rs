//! Programs on the registry: the book folded from their leaves, the impact analysis
//! (over a given population, or over the people on record as aggregates only), and
//! the lifecycle commands (draft, sign-off, activation, repeal), each checked by the
//! policy and by the lifecycle rules in the core.

use super::*;

/// A program added as a draft.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AddedProgram {
    pub id: String,
    pub version: u32,
    pub impact: Impact,
    /// `file` or `database`.
    pub population_source: String,
}

impl Registry {
    /// Every program with every version and transition, folded from the ledger.
    /// Programs are public: reading them is not an access to personal data.
    pub fn program_book(&self) -> Result<ProgramBook> {
        let leaves = self.store.leaves_at(&self.store.program_leaves()?)?;
        let mut book = ProgramBook::default();
        for l in &leaves {
            let event = self.open_leaf(l, &self.system)?;
            if !event.is_program() {
                return Err(corrupt(format!("leaf {} is listed as a program but holds another event", l.index)));
            }
            let header = Header::decode(&l.leaf).map_err(|e| corrupt(format!("leaf {}: {e}", l.index)))?;
            book.apply(&event, recorded_at(header.timestamp_ms), l.index);
        }
        Ok(book)
    }

    /// Compile a program and analyse its selection over a population file (exact
    /// figures: the file is about no one on record). Any member of staff. Writes nothing.
    pub fn program_impact(
        &self,
        source: &str,
        population: &[Person],
        on: jiff::civil::Date,
    ) -> Result<(ProgramSpec, Impact)> {
        let spec = fairgate_core::program::lang::compile(source)?;
        let impact = fairgate_core::program::impact::analyse(&spec.selection, population, on);
        Ok((spec, impact))
    }

    /// Analyse a program's selection over everyone on record: the policy's
    /// `program-impact` read (auditors, for oversight-audit), logged as an analysis
    /// before the answer is returned, within the privacy budget, and released with
    /// noise and no figure under 10 (`impact::release`). The attack this stops: an
    /// analyst narrowing the selection until it held one person, then differencing
    /// two exact totals to learn that person's stay.
    pub fn program_impact_over_records(
        &self,
        now: Timestamp,
        actor: &Actor,
        purpose: Purpose,
        source: &str,
        request: &str,
    ) -> Result<(Impact, Receipt)> {
        use fairgate_core::program::impact::release;
        let (spec, people, today) = self.admit_analysis(now, actor, purpose, source, request, "analyse")?;
        let exact = fairgate_core::program::impact::analyse(&spec.selection, &people, today);
        let (out, receipt) = self.log_analysis(now, actor, purpose, request, |uniform| {
            release(&exact, fairgate_core::report::MIN_CELL, uniform)
        })?;
        Ok((out, receipt))
    }

    /// The capacity plan of a program file over everyone on record (their current
    /// addresses; people without one are `unassigned`): the policy's
    /// `program-impact` read, logged as an analysis, within the same privacy budget,
    /// released noised (`PlanSummary::released`). `None` when the program has no
    /// office registration with a deadline.
    pub fn program_plan_over_records(
        &self,
        now: Timestamp,
        actor: &Actor,
        purpose: Purpose,
        source: &str,
        request: &str,
    ) -> Result<(Option<fairgate_core::plan::PlanSummary>, Receipt)> {
        let (spec, people, _) = self.admit_analysis(now, actor, purpose, source, request, "plan over")?;
        let exact =
            fairgate_core::plan::plan_program_with(&spec, &people, &self.places(), fairgate_core::plan::SEED, false)?
                .map(|p| p.summary());
        self.log_analysis(now, actor, purpose, request, |uniform| {
            exact.map(|p| p.released(fairgate_core::report::MIN_CELL, uniform))
        })
    }

    /// What every analysis over the records passes first: the read's policy (an
    /// auditor's, for oversight), the program file, and the privacy budget; then the
    /// population on record today. `verb` says what to do with a file instead.
    fn admit_analysis(
        &self,
        now: Timestamp,
        actor: &Actor,
        purpose: Purpose,
        source: &str,
        request: &str,
        verb: &str,
    ) -> Result<(ProgramSpec, Vec<Person>, jiff::civil::Date)> {
        use fairgate_core::program::impact::{budget_allows, BUDGET, BUDGET_WINDOW_DAYS, EPSILON_PER_ANALYSIS};
        self.admit(now, actor, Read::ProgramImpact, purpose, None, request)?;
        let spec = fairgate_core::program::lang::compile(source)?;
        if let Err(frees) = budget_allows(&self.analysis_times()?, now.as_millisecond()) {
            return Err(RegistryError::NotPermitted(format!(
                "the privacy budget for analyses over the records ({BUDGET} per {BUDGET_WINDOW_DAYS} days, {EPSILON_PER_ANALYSIS} each) is spent until {}: {verb} a population file instead",
                recorded_at(frees)
            )));
        }
        let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
        let people = self.impact_population(today)?;
        Ok((spec, people, today))
    }

    /// Log an analysis over the records (it spends the privacy budget) and release
    /// its figures with the registry's randomness, in one commit.
    fn log_analysis<T>(
        &self,
        now: Timestamp,
        actor: &Actor,
        purpose: Purpose,
        request: &str,
        release: impl FnOnce(&mut dyn FnMut() -> f64) -> T,
    ) -> Result<(T, Receipt)> {
        self.write(now, |b| {
            b.record_attempt(
                actor,
                Read::ProgramImpact,
                purpose,
                request,
                fairgate_core::event::AttemptOutcome::Analysis,
            )?;
            let rng = &mut *b.rng;
            Ok(release(&mut || rand::Rng::gen::<f64>(rng)))
        })
    }

    /// When each analysis over the records ran (the privacy budget's ledger; read
    /// from the leaves, so a restart forgets nothing).
    fn analysis_times(&self) -> Result<Vec<i64>> {
        let idx: Vec<u64> = self
            .store
            .system_leaves(EventKind::AccessAttempted.code())?
            .into_iter()
            .filter(|(_, scope)| scope == crate::project::ANALYSES_SCOPE)
            .map(|(i, _)| i)
            .collect();
        self.store
            .leaves_at(&idx)?
            .iter()
            .map(|l| Ok(Header::decode(&l.leaf).map_err(|e| corrupt(format!("leaf {}: {e}", l.index)))?.timestamp_ms))
            .collect()
    }

    /// `program add`: compile, analyse over a population file and record a draft,
    /// one command. (A draft over everyone on record would publish that analysis on
    /// the program's page to whoever drafts: an auditor runs that one instead.)
    pub fn add_program(
        &self,
        now: Timestamp,
        actor: &Actor,
        source: &str,
        population: Option<&[Person]>,
    ) -> Result<(AddedProgram, Receipt)> {
        policy::authorize(actor, Action::ProgramDraft)?;
        let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
        // The file's own errors come first.
        fairgate_core::program::lang::compile(source)?;
        let Some(population) = population else {
            return Err(fairgate_core::Invalid::one(
                "population",
                "is required: a draft's impact analysis runs over a population file (JSON lines, see docs/programs.md); the analysis over everyone on record is an auditor's (POST /programs/impact with Fairgate-Purpose: oversight-audit)",
            )
            .into());
        };
        let (spec, impact) = self.program_impact(source, population, today)?;
        let plan = self.capacity_plan(&spec, population)?;
        let population_source = "file";
        let ((version, _), receipt) = self.write(now, |b| {
            b.draft_program_with_plan(actor, &spec, source, impact.clone(), population_source, plan.clone())
        })?;
        let added = AddedProgram { id: spec.program.id, version, impact, population_source: population_source.into() };
        Ok((added, receipt))
    }

    /// The capacity plan of a program's office registrations over a population file
    /// (at this registry's offices), when the program has a registration deadline.
    /// Every person it selects must have a postal code: their office depends on it.
    fn capacity_plan(
        &self,
        spec: &fairgate_core::program::lang::ProgramSpec,
        population: &[Person],
    ) -> Result<Option<fairgate_core::plan::PlanSummary>> {
        Ok(self.plan_over(spec, population)?.map(|p| p.summary()))
    }

    /// The whole capacity plan of a drafted program (default: its latest version)
    /// over a population, at this registry's offices; `None` when it has no
    /// registration deadline. Reads nothing on record.
    pub fn program_plan(
        &self,
        id: &str,
        version: Option<u32>,
        population: &[Person],
    ) -> Result<Option<fairgate_core::plan::Plan>> {
        let spec = fairgate_core::program::lang::compile(&self.program_source(id, version)?)?;
        self.plan_over(&spec, population)
    }

    /// The program file of a version (the latest when `None`).
    pub fn program_source(&self, id: &str, version: Option<u32>) -> Result<String> {
        let book = self.program_book()?;
        let rec = book.get(id).ok_or_else(|| {
            fairgate_core::Invalid::one("id", format!("there is no program `{id}`: see GET /programs"))
        })?;
        let v = match version {
            Some(n) => rec.versions.iter().find(|v| v.program.version == n),
            None => rec.versions.iter().max_by_key(|v| v.program.version),
        }
        .ok_or_else(|| fairgate_core::Invalid::one("version", format!("program `{id}` has no such version")))?;
        let source = v.source.clone().ok_or_else(|| {
            fairgate_core::Invalid::one("version", "was put in force before drafts kept their file: it has no plan")
        })?;
        Ok(source)
    }

    fn plan_over(
        &self,
        spec: &fairgate_core::program::lang::ProgramSpec,
        population: &[Person],
    ) -> Result<Option<fairgate_core::plan::Plan>> {
        Ok(fairgate_core::plan::plan_program(spec, population, &self.places(), fairgate_core::plan::SEED)?)
    }

    /// The population for an impact analysis: every live subject's nationality, sex
    /// and birth date, with the admission of their latest entry and the length of
    /// their latest stay on `on`. Nothing leaves but what the analysis aggregates, and
    /// only `program_impact_over_records` uses it, which logs the analysis and
    /// releases noised aggregates of 10 or more.
    /// Purpose of admission is not recorded at crossings, so it is unknown here.
    pub(crate) fn impact_population(&self, on: jiff::civil::Date) -> Result<Vec<Person>> {
        let mut out = Vec::new();
        for (no, id) in self.store.live_subjects()? {
            let Some(row) = self.store.subject_keys(no)? else { continue };
            let Some((data, _)) = self.unwrap_keys(&row)? else { continue };
            let created = self
                .store
                .subject_leaves(no, 0)?
                .into_iter()
                .find(|(_, kind)| *kind == EventKind::SubjectCreated.code())
                .ok_or_else(|| corrupt(format!("subject {no} has no creation leaf")))?;
            let leaf = self
                .store
                .leaves_at(&[created.0])?
                .pop()
                .ok_or_else(|| corrupt(format!("leaf {} is missing", created.0)))?;
            let Event::SubjectCreated(e) = self.open_leaf(&leaf, &data)? else {
                return Err(corrupt(format!(
                    "leaf {} is not the creation of subject {}",
                    created.0,
                    SubjectId::from_bytes(id)
                )));
            };
            let stays = stays_from_crossings(self.facts_of(no, &data)?, on);
            let designation_events: Vec<Event> = self
                .subject_events(no, &data, &[EventKind::SubjectDesignated, EventKind::DesignationReviewed])?
                .into_iter()
                .map(|(_, e)| e)
                .collect();
            let on_ts = on.to_zoned(jiff::tz::TimeZone::UTC).map(|z| z.timestamp()).unwrap_or(Timestamp::MAX);
            let designated = fairgate_core::designation::fold(&designation_events)
                .iter()
                .any(|d| d.status(on_ts) == fairgate_core::designation::Status::Approved);
            let latest = stays.iter().max_by_key(|s| s.period.start);
            out.push(Person {
                nationality: e.person.nationality,
                sex: format!("{:?}", e.person.sex),
                birth_date: Some(e.person.birth_date),
                admission_class: latest.and_then(|s| s.admission_class.clone()),
                purpose_of_admission: None,
                admitted_on: latest.map(|s| s.period.start),
                stay_days: latest
                    .map(|s| (s.period.end.since(s.period.start).map_or(0, |d| d.get_days()) + 1).max(0) as u32),
                designated,
                // The current address's, from the latest change of address reported.
                postal_code: self.compliance_facts(no, &data)?.postal_code.map(|(_, p)| p),
            });
        }
        Ok(out)
    }
}

impl Batch<'_> {
    /// The programs as of this batch: the committed ones plus this batch's events.
    pub(super) fn program_book(&self) -> Result<ProgramBook> {
        let mut book = self.reg.program_book()?;
        for (event, leaf) in &self.program_events {
            book.apply(event, self.now, *leaf);
        }
        Ok(book)
    }

    pub(super) fn append_program(&mut self, event: Event) -> Result<u64> {
        let key = self.reg.system_sealer.clone();
        let leaf = self.append(SYSTEM_SUBJECT_NO, SLOT_SYSTEM, &key, &event)?;
        self.program_events.push((event, leaf));
        Ok(leaf)
    }

    /// Write a program down as a draft, with the impact analysis made for it. Its
    /// version is the next one of its id. Returns (version, leaf).
    pub fn draft_program(
        &mut self,
        actor: &Actor,
        spec: &ProgramSpec,
        source: &str,
        impact: Impact,
        population_source: &str,
    ) -> Result<(u32, u64)> {
        self.draft_program_with_plan(actor, spec, source, impact, population_source, None)
    }

    /// Draft a program with its capacity plan (checked again at activation).
    pub fn draft_program_with_plan(
        &mut self,
        actor: &Actor,
        spec: &ProgramSpec,
        source: &str,
        impact: Impact,
        population_source: &str,
        plan: Option<fairgate_core::plan::PlanSummary>,
    ) -> Result<(u32, u64)> {
        policy::authorize(actor, Action::ProgramDraft)?;
        let version = self.program_book()?.check_draft(&spec.program)?;
        let mut program = spec.program.clone();
        program.version = version;
        let leaf = self.append_program(Event::ProgramDrafted(ProgramDrafted {
            program,
            source: source.to_string(),
            impact,
            population_source: population_source.to_string(),
            drafted_by: actor.clone(),
            plan,
        }))?;
        Ok((version, leaf))
    }

    /// Put a drafted version (default: the latest) in force, if the rules allow.
    pub fn activate_program(&mut self, actor: &Actor, id: &str, version: Option<u32>) -> Result<(Program, u64)> {
        policy::authorize(actor, Action::ProgramActivate)?;
        let program = self.program_book()?.check_activate(id, version, self.today())?;
        let leaf = self.append_program(Event::ProgramActivated(ProgramActivated {
            program: program.clone(),
            activated_by: actor.clone(),
        }))?;
        Ok((program, leaf))
    }

    /// An auditor clears a draft. Returns (version, leaf).
    pub fn sign_off_program(
        &mut self,
        actor: &Actor,
        id: &str,
        version: Option<u32>,
        reason: &str,
    ) -> Result<(u32, u64)> {
        policy::authorize(actor, Action::ProgramSignOff)?;
        let reason = reason_text(reason)?;
        let book = self.program_book()?;
        let version = book.check_sign_off(id, version)?;
        // The plan the auditor signs over goes into their record.
        let plan = book
            .programs
            .iter()
            .find(|p| p.id == id)
            .and_then(|p| p.versions.iter().find(|v| v.program.version == version))
            .and_then(|v| v.plan.clone());
        let leaf = self.append_program(Event::ProgramSignedOff(ProgramSignedOff {
            id: id.to_string(),
            version,
            reason,
            signed_off_by: actor.clone(),
            plan,
        }))?;
        Ok((version, leaf))
    }

    /// End every version of a program now; its id can never be used again.
    pub fn repeal_program(&mut self, actor: &Actor, id: &str, reason: &str) -> Result<u64> {
        policy::authorize(actor, Action::ProgramRepeal)?;
        let reason = reason_text(reason)?;
        self.program_book()?.check_repeal(id)?;
        self.append_program(Event::ProgramRepealed(ProgramRepealed {
            id: id.to_string(),
            reason,
            repealed_by: actor.clone(),
        }))
    }
}
