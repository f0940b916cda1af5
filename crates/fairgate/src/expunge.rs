//! `fairgate expunge`: erase a person with an auditor's approval and print the
//! certificate; `fairgate expunge --program ID`: open a program's notice-and-copy
//! period, then, once it is over, erase the program's records (with a progress bar;
//! rerun to resume); `fairgate expunge verify CERT.json`: check a certificate against
//! this log (signature, checkpoint, inclusion of the expungement event).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use fairgate_core::access::{Actor, Role};
use fairgate_core::expungement::{Certificate, ExpungementInput};
use fairgate_core::ids::SubjectId;
use fairgate_store::Registry;

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ExpungeArgs {
    #[command(subcommand)]
    pub command: Option<ExpungeCommand>,
    /// The subject id to erase.
    #[arg(long, conflicts_with = "program")]
    pub subject: Option<String>,
    /// A repealed program whose records to erase. The first run opens the
    /// notice-and-copy period; a run on or after its last day erases.
    #[arg(long)]
    pub program: Option<String>,
    /// Days people have to download their records before a program's are erased.
    #[arg(long, default_value_t = fairgate_store::registry::program_expungement::DEFAULT_COPY_DAYS)]
    pub copy_days: i64,
    /// The id of a listed authority (`fairgate authority list`); the public certificate cites its entry.
    #[arg(long)]
    pub authority: Option<String>,
    /// Why; sealed in the ledger, not published.
    #[arg(long)]
    pub reason: Option<String>,
    /// The administrator account carrying it out.
    #[arg(long = "as", value_name = "USER")]
    pub user: Option<String>,
    /// The auditor account approving it (another person).
    #[arg(long, value_name = "AUDITOR")]
    pub approved_by: Option<String>,
}

#[derive(clap::Subcommand)]
pub enum ExpungeCommand {
    /// Check a certificate: its signature, its checkpoint, and that its event is in this log.
    Verify { certificate: PathBuf },
}

fn account(registry: &Registry, name: &str, role: Role, flag: &str) -> Result<Actor> {
    crate::account_with_role(registry, name, role, flag)
}

pub fn run(registry: &Registry, args: ExpungeArgs) -> Result<()> {
    if let Some(ExpungeCommand::Verify { certificate }) = args.command {
        return verify(registry, &certificate);
    }
    let need = |v: Option<String>, flag: &str| v.with_context(|| format!("{flag} is required"));
    if let Some(program) = args.program.clone() {
        return program_run(registry, &program, args);
    }
    let subject: SubjectId = need(args.subject, "--subject")?
        .parse()
        .map_err(|e: fairgate_core::FieldError| anyhow::anyhow!("--subject: {}", e.message))?;
    let input =
        ExpungementInput { authority: need(args.authority, "--authority")?, reason: need(args.reason, "--reason")? };
    let admin = account(registry, &need(args.user, "--as")?, Role::Admin, "--as")?;
    let auditor = account(registry, &need(args.approved_by, "--approved-by")?, Role::Auditor, "--approved-by")?;
    let now = jiff::Timestamp::now();
    registry.approve_expungement(now, &auditor, subject, &input)?;
    let cert = registry.expunge_subject(now, &admin, subject, &input)?;
    println!("{}", serde_json::to_string_pretty(&cert)?);
    eprintln!(
        "expunged: the certificate above is also listed at /expungements; check it with `fairgate expunge verify`"
    );
    Ok(())
}

fn program_run(registry: &Registry, program: &str, args: ExpungeArgs) -> Result<()> {
    use fairgate_store::registry::program_expungement::ProgramExpungement;
    let admin = account(registry, &args.user.context("--as is required")?, Role::Admin, "--as")?;
    let now = jiff::Timestamp::now();
    let state = match registry.program_expungement_notice(program)? {
        Some(_) => {
            let bar = crate::progress_bar(0, "expunging");
            let state = registry.expunge_program(now, &admin, program, &mut |done, total| {
                bar.set_length(total);
                bar.set_position(done);
                true
            })?;
            bar.finish_and_clear();
            state
        }
        None => {
            let need = |v: Option<String>, flag: &str| {
                v.with_context(|| format!("{flag} is required to open the notice-and-copy period"))
            };
            let input = ExpungementInput {
                authority: need(args.authority, "--authority")?,
                reason: need(args.reason, "--reason")?,
            };
            let auditor = account(registry, &need(args.approved_by, "--approved-by")?, Role::Auditor, "--approved-by")?;
            registry.approve_program_expungement(now, &auditor, program, &input)?;
            registry.notice_program_expungement(now, &admin, program, &input, args.copy_days)?
        }
    };
    match state {
        ProgramExpungement::Noticed { erase_on, subjects, .. } => eprintln!(
            "notice-and-copy period open: {subjects} people have records of program {program}; each can download them from the portal (/portal) until {erase_on}. Run `fairgate expunge --program {program} --as ADMIN` on or after {erase_on} to erase them."
        ),
        ProgramExpungement::Stopped { done, remaining, .. } => {
            eprintln!("stopped after {done} people; {remaining} remain: run the same command again to finish")
        }
        ProgramExpungement::Done { fully, partly, certificate, .. } => {
            println!("{}", serde_json::to_string_pretty(&certificate)?);
            eprintln!(
                "expunged: {fully} people known only from program {program} were erased whole, and its records were removed from {partly} others. The certificate is also listed at /expungements."
            );
        }
    }
    Ok(())
}

fn verify(registry: &Registry, path: &Path) -> Result<()> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let cert: Certificate =
        serde_json::from_str(&text).with_context(|| format!("{} is not an expungement certificate", path.display()))?;
    registry.verify_certificate(&cert).map_err(|e| anyhow::anyhow!("the certificate does not verify: {e}"))?;
    println!(
        "ok: the certificate is signed by this log's key, and its expungement event (leaf {}) is in the signed checkpoint",
        cert.body.leaf_index
    );
    match registry.erasure_complete_at(cert.body.leaf_index)? {
        Some(at) => println!("complete in backups on {}", at.round(jiff::Unit::Second).unwrap_or(at)),
        None => match cert.body.backups_erased_by {
            Some(by) => println!(
                "not yet complete in backups: backups taken before it still hold the data until the master key epoch ends, scheduled for {by} (or the next `fairgate keys rotate`)"
            ),
            None => println!(
                "not yet complete in backups: backups taken before it still hold the data until the next `fairgate keys rotate` destroys their master key"
            ),
        },
    }
    Ok(())
}
