//! `fairgate expunge`: erase a person with an auditor's approval and print the
//! certificate; `fairgate expunge verify CERT.json`: check a certificate against
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
    #[arg(long)]
    pub subject: Option<String>,
    /// The authority that orders it; printed on the public certificate, so it must not name the person.
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
    crate::account_with_role(registry.store().as_ref(), name, role, flag)
}

pub fn run(registry: &Registry, args: ExpungeArgs) -> Result<()> {
    if let Some(ExpungeCommand::Verify { certificate }) = args.command {
        return verify(registry, &certificate);
    }
    let need = |v: Option<String>, flag: &str| v.with_context(|| format!("{flag} is required"));
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

fn verify(registry: &Registry, path: &Path) -> Result<()> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let cert: Certificate =
        serde_json::from_str(&text).with_context(|| format!("{} is not an expungement certificate", path.display()))?;
    registry.verify_certificate(&cert).map_err(|e| anyhow::anyhow!("the certificate does not verify: {e}"))?;
    println!(
        "ok: the certificate is signed by this log's key, and its expungement event (leaf {}) is in the signed checkpoint",
        cert.body.leaf_index
    );
    Ok(())
}
