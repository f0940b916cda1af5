//! The staff work queues: designations awaiting a supervisor's review (72 hours),
//! excuses awaiting approval, served notices whose obligation has no determination
//! yet, and correction requests awaiting an answer (45 days). The projection
//! (`Projection::Work`) holds only subject numbers and item numbers or keys; what
//! each item says is opened from the person's sealed records, and reading the queue
//! is logged on the record of every person listed before anything is returned.

use std::collections::BTreeMap;

use fairgate_core::access::{Actor, Purpose};
use fairgate_core::ids::SubjectId;
use fairgate_core::obligation::{Excuse, Notice, Obligation};
use fairgate_core::policy::{self, Read};
use jiff::civil::Date;
use jiff::Timestamp;

use super::{Registry, Result};
use crate::store::work;

/// Which queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queue {
    Designations,
    Excuses,
    Determinations,
    Corrections,
}

impl Queue {
    pub const ALL: [Queue; 4] = [Queue::Designations, Queue::Excuses, Queue::Determinations, Queue::Corrections];
    fn code(self) -> u8 {
        match self {
            Queue::Designations => work::DESIGNATION,
            Queue::Excuses => work::EXCUSE,
            Queue::Determinations => work::DETERMINATION,
            Queue::Corrections => work::CORRECTION,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Queue::Designations => "designations",
            Queue::Excuses => "excuses",
            Queue::Determinations => "determinations",
            Queue::Corrections => "corrections",
        }
    }
    pub fn parse(s: &str) -> Option<Queue> {
        Queue::ALL.into_iter().find(|q| q.as_str() == s)
    }
}

/// One item of work, with what it says.
#[derive(Debug, Clone)]
pub enum WorkItem {
    /// Pending review; lapses at `deadline`.
    Designation {
        subject: SubjectId,
        designation: fairgate_core::designation::Designation,
    },
    Excuse {
        subject: SubjectId,
        excuse: Excuse,
        obligation: Option<Obligation>,
    },
    /// The obligation (its state on the day asked), the notices served for it.
    Determination {
        subject: SubjectId,
        obligation: Obligation,
        notices: Vec<Notice>,
    },
    Correction {
        subject: SubjectId,
        correction: fairgate_core::correction::Correction,
    },
}

impl WorkItem {
    pub fn subject(&self) -> SubjectId {
        match self {
            WorkItem::Designation { subject, .. }
            | WorkItem::Excuse { subject, .. }
            | WorkItem::Determination { subject, .. }
            | WorkItem::Correction { subject, .. } => *subject,
        }
    }
}

impl Registry {
    /// A work queue, oldest person first: a read of each listed person's record for
    /// `purpose` (supervisors: compliance review; adjudicators: benefit
    /// adjudication), logged on each before it is returned. Determinations list the
    /// obligations that are overdue on `on` (a notice served and the day passed).
    pub fn work_queue(
        &self,
        now: Timestamp,
        actor: &Actor,
        purpose: Purpose,
        queue: Queue,
        on: Date,
        request: &str,
    ) -> Result<Vec<WorkItem>> {
        policy::authorize_read(actor, Read::WorkQueue, purpose)?;
        // Benefit adjudication has business with determinations only.
        if purpose == Purpose::BenefitAdjudication && queue != Queue::Determinations {
            return Err(policy::Refusal::Purpose { role: actor.role, read: Read::WorkQueue, purpose }.into());
        }
        let mut by_subject: BTreeMap<u64, Vec<String>> = BTreeMap::new();
        for (no, item) in self.store.work_items(queue.code())? {
            by_subject.entry(no).or_default().push(item);
        }
        let mut out = Vec::new();
        for (no, items) in by_subject {
            let Some(row) = self.store.subject_keys(no)? else { continue };
            if self.unwrap_keys(&row)?.is_none() {
                continue;
            }
            let id = SubjectId::from_bytes(row.subject_id);
            match queue {
                Queue::Designations => {
                    let t = self.load_timeline(id)?;
                    for d in t.designations {
                        if items.contains(&d.number.to_string())
                            && d.status(now) == fairgate_core::designation::Status::Pending
                        {
                            out.push(WorkItem::Designation { subject: id, designation: d });
                        }
                    }
                }
                Queue::Corrections => {
                    let t = self.load_timeline(id)?;
                    for c in t.corrections {
                        if items.contains(&c.number.to_string()) && c.answer.is_none() {
                            out.push(WorkItem::Correction { subject: id, correction: c });
                        }
                    }
                }
                Queue::Excuses | Queue::Determinations => {
                    let (answer, facts) = self.obligations_of(id, on)?;
                    let obligation = |key: &str| answer.obligations.iter().find(|o| o.key == key).cloned();
                    for key in &items {
                        if queue == Queue::Excuses {
                            if let Some(e) =
                                facts.excuses.iter().find(|e| &e.obligation == key && e.approved_on.is_none())
                            {
                                out.push(WorkItem::Excuse {
                                    subject: id,
                                    excuse: e.clone(),
                                    obligation: obligation(key),
                                });
                            }
                        } else if let Some(o) =
                            obligation(key).filter(|o| o.state == fairgate_core::obligation::State::Overdue)
                        {
                            let notices = facts.notices.iter().filter(|n| &n.obligation == key).cloned().collect();
                            out.push(WorkItem::Determination { subject: id, obligation: o, notices });
                        }
                    }
                }
            }
        }
        if !out.is_empty() {
            let mut people: Vec<SubjectId> = out.iter().map(WorkItem::subject).collect();
            people.dedup();
            self.write(now, |b| {
                for id in &people {
                    b.record_access(*id, actor, Read::WorkQueue, purpose, &[queue.as_str()], request)?;
                }
                Ok(())
            })?;
        }
        Ok(out)
    }
}
