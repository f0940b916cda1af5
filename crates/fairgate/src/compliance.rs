//! `fairgate compliance run`, `obligations`, `notices send`, `excuse` and
//! `determine`: the compliance commands for a terminal. Every read of a person's
//! record is made as a named account for a stated purpose and logged.

use anyhow::{Context, Result};
use fairgate_core::access::{Actor, Purpose};
use fairgate_core::ids::SubjectId;
use fairgate_core::obligation::{DeterminationInput, ExcuseInput, Finding};
use fairgate_store::Registry;

fn actor(registry: &Registry, user: &str) -> Result<Actor> {
    crate::account(registry, user, "--as")
}

fn subject(s: &str) -> Result<SubjectId> {
    s.parse::<SubjectId>().map_err(|e| anyhow::anyhow!("SUBJECT: {}", e.message))
}

fn date(field: &str, s: Option<&str>) -> Result<jiff::civil::Date> {
    match s {
        Some(s) => fairgate_core::error::parse_date(field, s).map_err(|e| anyhow::anyhow!("--{field}: {}", e.message)),
        None => Ok(jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date()),
    }
}

/// `fairgate compliance run --on DATE`.
pub fn run(registry: &Registry, on: Option<&str>, json: bool) -> Result<()> {
    let on = date("on", on)?;
    let bar = crate::progress_bar(registry.subject_count()?, "compliance");
    let report = registry
        .compliance_run(jiff::Timestamp::now(), &Actor::system("cli"), on, &mut |done, _| bar.set_position(done))?;
    bar.finish_and_clear();
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "compliance run for {on}: {} people; obligations {} pending, {} met, {} overdue, {} excused, {} void; {} notice(s) issued",
            report.subjects, report.pending, report.met, report.overdue, report.excused, report.void, report.notices_issued
        );
    }
    Ok(())
}

/// `fairgate notices deliver [--on DATE] [--smtp HOST:PORT --smtp-from ADDRESS]`.
pub fn deliver(
    registry: &Registry,
    on: Option<&str>,
    mailer: Option<&dyn fairgate_store::registry::notices::Mailer>,
    json: bool,
) -> Result<()> {
    let on = date("on", on)?;
    let r = registry.deliver_notices(jiff::Timestamp::now(), &Actor::system("cli"), on, mailer)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        println!(
            "notices for {on}: {} put in the portal, {} emailed, {} email attempt(s) failed, {} letter(s) to print",
            r.portal, r.emailed, r.email_failed, r.letters_due
        );
    }
    Ok(())
}

/// `fairgate obligations SUBJECT --as USER --purpose P [--on DATE] [--json]`.
pub fn obligations(
    registry: &Registry,
    id: &str,
    user: &str,
    purpose: &str,
    on: Option<&str>,
    json: bool,
) -> Result<()> {
    let actor = actor(registry, user)?;
    let purpose: Purpose = purpose.parse().map_err(|e: String| anyhow::anyhow!("--purpose: {e}"))?;
    let (answer, _) = registry.read_obligations(
        jiff::Timestamp::now(),
        &actor,
        purpose,
        subject(id)?,
        date("on", on)?,
        "fairgate obligations",
    )?;
    if json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
        return Ok(());
    }
    for p in &answer.programs {
        if p.selected {
            println!(
                "{} v{} ({}): selected since {}",
                p.program,
                p.version,
                p.title,
                p.since.map(|d| d.to_string()).unwrap_or_default()
            );
        } else {
            println!("{} v{} ({}): not selected, because {}", p.program, p.version, p.title, p.why_not.join("; "));
        }
    }
    for o in &answer.obligations {
        println!("\n{} [{}]\n  {}", o.key, o.state.as_str(), o.explanation);
    }
    println!(
        "\n{}",
        if answer.must_act { "This person has something to do." } else { "This person has nothing to do now." }
    );
    Ok(())
}

/// `fairgate notices send --due-before DATE --as USER`: print every issued notice
/// not yet served, as text separated by form feeds, for printing or mailing. Nothing
/// is written to disk; each is logged as an access for compliance-review.
pub fn send(registry: &Registry, due_before: &str, user: &str) -> Result<()> {
    let actor = actor(registry, user)?;
    let before = date("due-before", Some(due_before))?;
    let notices = registry.read_pending_notices(jiff::Timestamp::now(), &actor, before, "fairgate notices send")?;
    for (i, n) in notices.iter().enumerate() {
        if i > 0 {
            print!("\x0c");
        }
        println!("Subject: {}\n", n.subject);
        print!("{}", n.document.text());
    }
    eprintln!(
        "{} notice(s) due before {before}. Serve each, then record the proof: POST /subjects/{{id}}/notices",
        notices.len()
    );
    Ok(())
}

/// `fairgate excuse SUBJECT --obligation KEY (--category C --text T | --approve) --as USER`.
pub fn excuse(
    registry: &Registry,
    id: &str,
    key: &str,
    category: Option<&str>,
    text: Option<&str>,
    approve: bool,
    user: &str,
) -> Result<()> {
    let actor = actor(registry, user)?;
    let id = subject(id)?;
    let now = jiff::Timestamp::now();
    if approve {
        let (_, r) = registry.write(now, |b| b.approve_excuse(&actor, id, key))?;
        println!("approved the excuse of {key} (leaf {})", r.leaf_index);
    } else {
        let input = ExcuseInput {
            obligation: key.into(),
            category: category.context("--category is required (or --approve)")?.into(),
            text: text.context("--text is required: say what the good cause is")?.into(),
        };
        let (_, r) = registry.write(now, |b| b.excuse(&actor, id, &input))?;
        println!("recorded the excuse of {key} (leaf {}); a supervisor must approve it", r.leaf_index);
    }
    Ok(())
}

/// `fairgate determine SUBJECT --obligation KEY --finding F --reasons R --evidence E... --as USER`.
pub fn determine(
    registry: &Registry,
    id: &str,
    key: &str,
    finding: &str,
    reasons: &str,
    evidence: &[String],
    user: &str,
) -> Result<()> {
    let actor = actor(registry, user)?;
    let finding = match finding {
        "willful" => Finding::Willful,
        "not-willful" => Finding::NotWillful,
        "not-applicable" => Finding::NotApplicable,
        other => anyhow::bail!("--finding: `{other}` is not willful, not-willful or not-applicable"),
    };
    let input =
        DeterminationInput { obligation: key.into(), finding, reasons: reasons.into(), evidence: evidence.to_vec() };
    let id = subject(id)?;
    let (_, r) = registry.write(jiff::Timestamp::now(), |b| b.determine(&actor, id, &input))?;
    println!("recorded the determination on {key} (leaf {})", r.leaf_index);
    Ok(())
}
