//! `fairgate program …`: check, analyse and run the lifecycle of program files from
//! a terminal. The rules are the core's and the registry's; this module reads files,
//! resolves `--as` to an account, and prints.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use fairgate_core::access::Actor;
use fairgate_core::program::impact::{Impact, Person};
use fairgate_core::program::lang::compile;
use fairgate_store::Registry;

#[derive(clap::Subcommand)]
pub enum ProgramCommand {
    /// Compile a program file. Exit 0 with a one-line summary when it is valid;
    /// otherwise print every error with its line and column and exit 1.
    Check { file: PathBuf },
    /// Apply a program's selection to a population and compare selection rates by
    /// nationality, sex and age band. A group is flagged when it has 30 or more
    /// members, a rate at least 1.25 times everyone else's, and p < 0.01.
    Impact {
        file: PathBuf,
        /// JSON lines: {"nationality","sex","birth_date","admission_class",
        /// "purpose_of_admission","admitted_on","stay_days"}. Without it, everyone on
        /// record: an auditor's analysis (--as), logged, within the privacy budget,
        /// with noised figures and none under 10.
        #[arg(long)]
        population: Option<PathBuf>,
        #[arg(long)]
        json: bool,
        /// The auditor account acting (needed without --population).
        #[arg(long = "as", value_name = "USER")]
        user: Option<String>,
    },
    /// The capacity plan of the program's office registrations: per office and day,
    /// the people booked against the desks' capacity up to each deadline, the
    /// shortfalls, and the waits a queue simulation expects; when it fails, a phased
    /// schedule (cohorts by the day obligations began) and the deadline that would
    /// fit. Exit 1 when the plan is not feasible. Offices are this database's.
    Plan {
        file: PathBuf,
        /// JSON lines as for `impact`, each with a "postal_code" (the office serving
        /// it is the one whose service area is its longest prefix). Without it,
        /// everyone on record at their current address: an auditor's analysis (--as),
        /// logged, within the privacy budget, answered as a noised summary.
        #[arg(long)]
        population: Option<PathBuf>,
        #[arg(long)]
        json: bool,
        /// The auditor account acting (needed without --population).
        #[arg(long = "as", value_name = "USER")]
        user: Option<String>,
        /// The simulation's seed: the same seed gives the same figures (drafts use 2002).
        #[arg(long, default_value_t = fairgate_core::plan::SEED)]
        seed: u64,
    },
    /// Add a program (or the next version of one) as a draft, with its impact
    /// analysis over a population file.
    Add {
        file: PathBuf,
        /// JSON lines, as for `impact` (required).
        #[arg(long)]
        population: Option<PathBuf>,
        /// The administrator account acting.
        #[arg(long = "as", value_name = "USER")]
        user: String,
    },
    /// Put a drafted version (default: the latest) in force.
    Activate {
        id: String,
        #[arg(long)]
        version: Option<u32>,
        #[arg(long = "as", value_name = "USER")]
        user: String,
    },
    /// Sign off a draft the impact analysis could not clear (auditors). Public.
    SignOff {
        id: String,
        #[arg(long)]
        version: Option<u32>,
        #[arg(long)]
        reason: String,
        #[arg(long = "as", value_name = "USER")]
        user: String,
    },
    /// Repeal a program: every version ends now, and its id can never be used again.
    Repeal {
        id: String,
        #[arg(long)]
        reason: String,
        #[arg(long = "as", value_name = "USER")]
        user: String,
    },
    /// Every program and version with its status.
    List,
    /// One program: every version, its file, sign-offs and impact analysis.
    Show { id: String },
}

fn read_source(file: &Path) -> Result<String> {
    std::fs::read_to_string(file).with_context(|| format!("reading the program file {}", file.display()))
}

/// Read a population file: one JSON object per line; blank lines are skipped.
pub fn read_population(file: &Path) -> Result<Vec<Person>> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading the population {}", file.display()))?;
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Person>(line) {
            Ok(p) => out.push(p),
            Err(e) => errors.push(format!("{}:{}: {e}", file.display(), i + 1)),
        }
    }
    if !errors.is_empty() {
        let shown: Vec<&String> = errors.iter().take(20).collect();
        bail!(
            "{} line(s) of the population are not valid (each line must be a JSON object with nationality, sex, birth_date as YYYY-MM-DD, and optionally admission_class, purpose_of_admission, admitted_on, stay_days):\n{}",
            errors.len(),
            shown.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n")
        );
    }
    Ok(out)
}

/// The plan of a program file's office registrations over a population file, at
/// this database's offices; `None` when the program has no registration deadline.
pub fn plan_from_file(
    registry: &Registry,
    file: &Path,
    population: &Path,
    seed: u64,
) -> Result<Option<fairgate_core::plan::Plan>> {
    let spec =
        compile(&read_source(file)?).map_err(|e| anyhow::anyhow!("{}: does not compile: {e:?}", file.display()))?;
    let people = read_population(population)?;
    fairgate_core::plan::plan_program(&spec, &people, &registry.places(), seed).map_err(|e| {
        anyhow::anyhow!("{}", e.0.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("\n"))
    })
}

/// A plan as text: each office, the worst shortfalls, and the proposal.
pub fn plan_text(p: &fairgate_core::plan::Plan) -> String {
    let mut out = format!(
        "{}: registrations within {} days\n",
        if p.feasible { "feasible" } else { "NOT FEASIBLE" },
        p.within_days
    );
    if p.unassigned > 0 {
        out.push_str(&format!("{} people live where no office serves: widen an office's service area\n", p.unassigned));
    }
    for o in &p.offices {
        out.push_str(&format!(
            "  {:8} {:>8} people, {:>8} short, p95 wait {:.0} min\n",
            o.office, o.people, o.shortfall, o.wait_p95_minutes
        ));
    }
    for d in p.shortfalls.iter().take(10) {
        out.push_str(&format!(
            "  short: {} on {}: {} people past their deadline (capacity {}, booked {}), p95 wait {:.0} min\n",
            d.office, d.day, d.shortfall, d.capacity, d.booked, d.wait_p95_minutes
        ));
    }
    if let Some(pr) = &p.proposal {
        match pr.fitting_within_days {
            Some(n) => out.push_str(&format!("  a deadline of {n} days would fit every office\n")),
            None => out.push_str("  no deadline under a century fits: add offices or desks\n"),
        }
        out.push_str(&format!(
            "  phased schedule: {} cohort(s) by the day obligations began, each with a {}-day window; p95 wait {:.0} min\n",
            pr.cohorts.len(),
            p.within_days,
            pr.wait_p95_minutes
        ));
        for c in pr.cohorts.iter().take(12) {
            out.push_str(&format!(
                "    {} cohort {}: {} people, window {}..{}: {}\n",
                c.office,
                c.cohort + 1,
                c.people,
                c.window_from,
                c.window_until,
                c.selector
            ));
        }
    }
    out
}

/// `program check`: `Ok(summary)` or every diagnostic as `FILE:LINE:COL: message`.
pub fn check(file: &Path) -> Result<String, Vec<String>> {
    let src = read_source(file).map_err(|e| vec![format!("{e:#}")])?;
    match compile(&src) {
        Ok(spec) => Ok(format!("{}: ok: {}", file.display(), spec.summary())),
        Err(e) => {
            Err(e.0.iter().map(|d| format!("{}:{}:{}: {}", file.display(), d.line, d.column, d.message)).collect())
        }
    }
}

/// The impact analysis as text.
pub fn impact_text(i: &Impact) -> String {
    let mut out = format!(
        "population {}, selected {} ({:.1} %), analysed on {}\n",
        i.population,
        i.selected,
        i.rate * 100.0,
        i.on
    );
    out.push_str(&format!(
        "{:12} {:16} {:>8} {:>8} {:>7} {:>8} {:>10}  flag\n",
        "attribute", "value", "people", "selected", "rate", "vs rest", "p"
    ));
    for g in &i.groups {
        let ratio = g.ratio_to_rest.map_or("-".to_string(), |r| format!("{r:.2}x"));
        let flag = if g.flagged {
            "FLAGGED".to_string()
        } else {
            g.not_flagged_because.clone().map(|w| format!("({w})")).unwrap_or_default()
        };
        out.push_str(&format!(
            "{:12} {:16} {:>8} {:>8} {:>6.1}% {:>8} {:>10.2e}  {flag}\n",
            g.attribute,
            g.value,
            g.population,
            g.selected,
            g.rate * 100.0,
            ratio,
            g.p_value
        ));
    }
    if i.groups_not_shown > 0 {
        out.push_str(&format!("({} group(s) under {} people not shown)\n", i.groups_not_shown, i.min_group_shown));
    }
    out.push_str(if i.flagged {
        "FLAGGED: a group is selected far more often than everyone else. The program cannot be activated until an auditor signs it off.\n"
    } else if i.clears() {
        "not flagged\n"
    } else {
        "not flagged, but fewer than 30 people were analysed: an auditor must sign the program off before it is activated\n"
    });
    out
}

fn actor(registry: &Registry, user: &str) -> Result<Actor> {
    crate::account(registry, user, "--as")
}

/// Run a lifecycle command against an opened registry.
pub fn run(registry: &Registry, cmd: ProgramCommand) -> Result<()> {
    let now = jiff::Timestamp::now();
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    match cmd {
        ProgramCommand::Check { .. } => unreachable!("handled without a registry"),
        ProgramCommand::Impact { file, population, json, user } => {
            if let Some(p) = population {
                return impact_from_file(&file, &p, json);
            }
            let Some(user) = user else {
                anyhow::bail!("--as AUDITOR is needed to analyse everyone on record (or give --population FILE)");
            };
            let actor = actor(registry, &user)?;
            let (impact, receipt) = registry.program_impact_over_records(
                now,
                &actor,
                fairgate_core::access::Purpose::OversightAudit,
                &read_source(&file)?,
                "fairgate program impact",
            )?;
            print_impact(&impact, json)?;
            eprintln!(
                "logged at leaf {}; figures are noised (scale {}), none under 10",
                receipt.leaf_index,
                fairgate_core::program::impact::NOISE_SCALE
            );
        }
        ProgramCommand::Plan { file, population: None, json, user, .. } => {
            let Some(user) = user else {
                anyhow::bail!("--as AUDITOR is needed to plan over everyone on record (or give --population FILE)");
            };
            let actor = actor(registry, &user)?;
            let (summary, receipt) = registry.program_plan_over_records(
                now,
                &actor,
                fairgate_core::access::Purpose::OversightAudit,
                &read_source(&file)?,
                "fairgate program plan",
            )?;
            let Some(summary) = summary else {
                println!("the program has no office registration with a deadline: nothing to plan");
                return Ok(());
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&summary)?);
            } else {
                println!(
                    "over everyone on record: {}; about {} people, {} without an office; worst p95 wait {} min",
                    if summary.feasible { "feasible" } else { "NOT feasible" },
                    summary.people,
                    summary.unassigned,
                    summary.wait_p95_minutes
                );
                for (office, day, n) in &summary.shortfalls {
                    println!("  {office} {day}: about {n} people short");
                }
            }
            eprintln!("logged at leaf {}; counts are noised, none under 10", receipt.leaf_index);
            if !summary.feasible {
                bail!("the plan is not feasible: the offices cannot serve everyone before their deadlines");
            }
        }
        ProgramCommand::Plan { file, population: Some(population), json, seed, .. } => {
            let plan = plan_from_file(registry, &file, &population, seed)?;
            let Some(plan) = plan else {
                println!("the program has no office registration with a deadline: nothing to plan");
                return Ok(());
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&plan)?);
            } else {
                print!("{}", plan_text(&plan));
            }
            if !plan.feasible {
                bail!("the plan is not feasible: the offices cannot serve everyone before their deadlines");
            }
        }
        ProgramCommand::Add { file, population, user } => {
            let people = population.as_deref().map(read_population).transpose()?;
            let actor = actor(registry, &user)?;
            let (added, receipt) = registry.add_program(now, &actor, &read_source(&file)?, people.as_deref())?;
            print!("{}", impact_text(&added.impact));
            println!(
                "drafted {} v{} (leaf {}, tree size {}); next: `fairgate program activate {}`",
                added.id, added.version, receipt.leaf_index, receipt.tree_size, added.id
            );
        }
        ProgramCommand::Activate { id, version, user } => {
            let actor = actor(registry, &user)?;
            let ((p, _), receipt) = registry.write(now, |b| b.activate_program(&actor, &id, version))?;
            println!(
                "activated {} v{}: in force {} to {} (leaf {})",
                p.id, p.version, p.starts, p.sunset, receipt.leaf_index
            );
        }
        ProgramCommand::SignOff { id, version, reason, user } => {
            let actor = actor(registry, &user)?;
            let ((v, _), receipt) = registry.write(now, |b| b.sign_off_program(&actor, &id, version, &reason))?;
            println!("signed off {id} v{v} as {user} (leaf {}); the sign-off is public", receipt.leaf_index);
        }
        ProgramCommand::Repeal { id, reason, user } => {
            let actor = actor(registry, &user)?;
            let (_, receipt) = registry.write(now, |b| b.repeal_program(&actor, &id, &reason))?;
            println!(
                "repealed {id} (leaf {}): every version has ended and the id cannot be used again",
                receipt.leaf_index
            );
        }
        ProgramCommand::List => {
            let book = registry.program_book()?;
            if book.programs.is_empty() {
                println!("no programs: add one with `fairgate program add FILE --as ADMIN`");
            }
            for rec in &book.programs {
                for v in &rec.versions {
                    println!(
                        "{:32} v{:<3} {:11} {} .. {}  {}",
                        rec.id,
                        v.program.version,
                        rec.status(v.program.version, today).as_str(),
                        v.program.starts,
                        v.program.sunset,
                        v.program.title
                    );
                }
            }
        }
        ProgramCommand::Show { id } => {
            let book = registry.program_book()?;
            let rec = book
                .get(&id)
                .ok_or_else(|| anyhow::anyhow!("there is no program `{id}`: see `fairgate program list`"))?;
            println!("{}", serde_json::to_string_pretty(rec)?);
        }
    }
    Ok(())
}

/// `program impact FILE --population P`: needs no database.
pub fn impact_from_file(file: &Path, population: &Path, json: bool) -> Result<()> {
    let spec = compile(&read_source(file)?).map_err(|e| {
        anyhow::anyhow!(
            "{} does not compile (run `fairgate program check` for details): {}",
            file.display(),
            e.0.iter().map(|d| format!("{}:{}: {}", d.line, d.column, d.message)).collect::<Vec<_>>().join("; ")
        )
    })?;
    let people = read_population(population)?;
    let today = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date();
    print_impact(&fairgate_core::program::impact::analyse(&spec.selection, &people, today), json)
}

fn print_impact(impact: &Impact, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(impact)?);
    } else {
        print!("{}", impact_text(impact));
    }
    Ok(())
}
