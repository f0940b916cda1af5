//! The `fairgate` binary: parses the command line and calls the library crates. It
//! holds only what is particular to a terminal: arguments, progress bars, output.

use fairgate::demo;

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use fairgate_core::access::Role;
use fairgate_ledger::checkpoint::NoteVerifier;
use fairgate_store::backend::{Database, Opened as StoreBackend};
use fairgate_store::datadir::DataDir;
use fairgate_store::Registry;
use rand::RngCore;

#[derive(Parser)]
#[command(name = "fairgate", version, about = "Entry-exit registration records that cannot single people out.")]
struct Cli {
    /// The data directory: the database (sealed: it reads nothing without the keys).
    #[arg(long, global = true, default_value = "./fairgate-data", env = "FAIRGATE_DATA")]
    data: PathBuf,
    /// The key store, apart from the data: master key and checkpoint signing key.
    /// Default: the data directory's sibling `fairgate-keys` (`NAME-keys` for another name).
    #[arg(long, global = true, env = "FAIRGATE_KEYS")]
    keys: Option<PathBuf>,
    /// The database: the embedded SQLite file in --data (the default), or
    /// PostgreSQL, as postgres://USER:PASSWORD@HOST[:PORT][,HOST2[:PORT]]/DBNAME
    /// (add ?target_session_attrs=read-write with several hosts, to always reach the
    /// primary). The key store stays on this machine either way.
    #[arg(long, global = true, env = "FAIRGATE_DATABASE", value_name = "URL")]
    database: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// Seed synthetic demo data and demo accounts if the database is empty.
    #[arg(long)]
    demo: bool,
    /// The log's name in its checkpoints, set on first run (e.g. registry.example.org/log).
    #[arg(long, default_value = "fairgate.localhost/log")]
    origin: String,
    /// Mark cookies Secure even on a loopback address (they always are on any
    /// other address: there the server must sit behind TLS).
    #[arg(long)]
    secure_cookies: bool,
    /// Rotate the master key every this many days (0: only by hand, with `fairgate
    /// keys rotate`). Each rotation destroys the previous key, so every erasure
    /// reaches every backup by the end of the epoch it was made in; expungement
    /// certificates state that day. Take a new backup after each rotation.
    #[arg(long, default_value_t = fairgate_core::expungement::DEFAULT_ROTATE_DAYS)]
    rotate_days: u32,
    /// The epoch length as a duration ("90s", "2h"), overriding --rotate-days: for tests.
    #[arg(long, hide = true)]
    rotate_every: Option<jiff::SignedDuration>,
    /// A witness to submit each new checkpoint to, as URL=KEY: its submission
    /// prefix and its cosignature verifier key (printed by `fairgate witness serve`).
    /// Repeat for several. `/log/checkpoint` then serves the latest checkpoint that
    /// all of them cosigned, with their cosignature lines.
    #[arg(long, value_name = "URL=KEY")]
    witness: Vec<String>,
    /// Send notices by email through this SMTP relay (HOST:PORT, plain SMTP: a relay
    /// on this machine or its private network). Without it notices go to the portal
    /// and, for people without an email address, to the letters to print.
    #[arg(long, value_name = "HOST:PORT", requires = "smtp_from")]
    smtp: Option<String>,
    /// The sender address of notice emails.
    #[arg(long, value_name = "ADDRESS")]
    smtp_from: Option<String>,
    /// The face matcher's files (ONNX Runtime and the YuNet and SFace models), as
    /// scripts/setup-faces.sh installs them. Without them faces are not compared
    /// (`not-checked`; /healthz says why) and fingerprints still are.
    #[arg(long, value_name = "DIR", env = "FAIRGATE_FACES", default_value = "fairgate-faces")]
    faces: PathBuf,
}

/// `--smtp` and `--smtp-from` as a mailer, or why not.
fn mailer(
    smtp: &Option<String>,
    from: &Option<String>,
) -> Result<Option<std::sync::Arc<fairgate_server::mail::SmtpMailer>>> {
    match (smtp, from) {
        (Some(relay), Some(from)) => Ok(Some(std::sync::Arc::new(
            fairgate_server::mail::SmtpMailer::new(relay, from).map_err(|e| anyhow::anyhow!("{e}"))?,
        ))),
        (None, _) => Ok(None),
        (Some(_), None) => bail!("--smtp-from is required with --smtp: the sender address of notice emails"),
    }
}

#[derive(Subcommand)]
enum WitnessCommand {
    /// Run a C2SP tlog-witness: cosign the checkpoints of the logs it follows when
    /// each is consistent with the last one it cosigned, and refuse (with the held
    /// checkpoint as evidence) one that conflicts. Its key (witness.key) and what it
    /// holds (witness-state.json, evidence.jsonl) live in --keys DIR (default
    /// ./fairgate-witness). Needs no data directory.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:9090")]
        listen: String,
        /// The witness's name in its cosignatures (a schema-less URL).
        #[arg(long, default_value = "witness.localhost")]
        name: String,
        /// A log to follow, as ORIGIN=KEY (the log's `fairgate audit key`). Repeat for several.
        #[arg(long, value_name = "ORIGIN=KEY", required = true)]
        log: Vec<String>,
    },
}

#[derive(Subcommand)]
enum Command {
    /// Print the access policy: who may run each command and read for which purpose
    /// (the same as GET /access-policy). Needs no data directory.
    Policy {
        /// Print the Markdown table of docs/access-policy.md instead of JSON.
        #[arg(long)]
        markdown: bool,
    },
    /// Serve the API and web pages.
    Serve(ServeArgs),
    /// Read a travel document's machine-readable zone (ICAO 9303: TD1, TD2, TD3,
    /// MRV-A, MRV-B) from standard input and print what it says as one JSON object:
    /// every field, each check digit, each OCR repair a check digit confirmed. Exits
    /// 1 when a check fails or the zone cannot be read; the errors, with line and
    /// column, go to standard error. Needs no data directory; stores nothing.
    Mrz,
    /// Witness other logs' checkpoints (C2SP tlog-witness).
    #[command(subcommand)]
    Witness(WitnessCommand),
    /// Seed synthetic demo data into an empty database.
    Demo {
        /// How many synthetic travellers.
        #[arg(long, default_value_t = 10_000)]
        travellers: usize,
    },
    /// Manage local accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Check the log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Take an online, consistent copy of the database into a new directory while
    /// `serve` runs. It never copies a key: it reads only with the key store of its
    /// epoch, so once `keys rotate` destroys that epoch, the backup reads nothing
    /// (and an erasure reaches it). Take backups again after each rotation.
    Backup {
        /// A directory that does not exist yet.
        #[arg(long)]
        to: PathBuf,
    },
    /// Restore a backup into an empty data directory, checking that the key store
    /// (--keys) can read it.
    Restore {
        /// A directory written by `fairgate backup`.
        #[arg(long)]
        from: PathBuf,
    },
    /// Drop every projection and rebuild it from the ledger.
    Rebuild,
    /// Copy a database into another store (SQLite to PostgreSQL, or back): the
    /// ledger through ordinary commits, keys, accounts and codes row for row; then
    /// rebuild the projections on the target and check it (`audit verify`, the same
    /// root, the same projections). Stop `serve` first. Interrupted, it resumes
    /// where it stopped when run again.
    MigrateStore {
        /// The database to copy: sqlite:DIR or postgres://…
        #[arg(long)]
        from: String,
        /// The database to copy into (empty, or an interrupted copy of --from).
        #[arg(long)]
        to: String,
        /// Rows per transaction.
        #[arg(long, default_value_t = 10_000)]
        chunk: u64,
    },
    /// List every subject overstaying on a day, or who overstayed before. Reads
    /// personal data: it acts as an existing account, for a stated purpose
    /// (compliance-review or oversight-audit), and each listed subject's access is logged.
    Overstays {
        /// The day asked about (YYYY-MM-DD); default today (UTC).
        #[arg(long)]
        on: Option<String>,
        /// The account this is done as (see `fairgate user list`).
        #[arg(long = "as", value_name = "USER")]
        user: String,
        /// Why: compliance-review or oversight-audit.
        #[arg(long)]
        purpose: String,
        /// Print the whole list as CSV instead of a page.
        #[arg(long)]
        csv: bool,
        /// Page number, from 1.
        #[arg(long, default_value_t = 1)]
        page: usize,
        /// Rows per page.
        #[arg(long, default_value_t = 50)]
        per_page: usize,
    },
    /// The stay calculator: days used, how long one may still stay, overstays.
    /// Works without a database; dates are ISO YYYY-MM-DD and both the entry and
    /// the exit day count.
    Stay {
        /// N/M: at most N days of stay in any M-day period.
        #[arg(long, default_value = "90/180")]
        rule: String,
        /// A stay, START..END (entry day through exit day). Repeat for each stay.
        #[arg(long = "stay", value_name = "START..END")]
        stays: Vec<String>,
        /// A period under a long-stay visa or residence permit; its days do not count. Repeatable.
        #[arg(long = "exempt", value_name = "START..END")]
        exempt: Vec<String>,
        /// The day asked about.
        #[arg(long)]
        on: String,
        /// Print one JSON object instead of sentences.
        #[arg(long)]
        json: bool,
    },
    /// Programs: check, impact analysis, add, activate, sign off, repeal, list, show.
    #[command(subcommand)]
    Program(fairgate::program::ProgramCommand),
    /// The daily compliance run (also automatic in `serve`).
    #[command(subcommand)]
    Compliance(ComplianceCommand),
    /// What a person must do under the programs in force, and why or why not.
    Obligations {
        subject: String,
        #[arg(long = "as", value_name = "USER")]
        user: String,
        #[arg(long)]
        purpose: String,
        /// YYYY-MM-DD; default today.
        #[arg(long)]
        on: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Retention: erase everyone past their programs' retention rules (daily in `serve`).
    #[command(subcommand)]
    Retention(RetentionCommand),
    /// Notices issued by the daily run and not yet served.
    #[command(subcommand)]
    Notices(NoticesCommand),
    /// The fingerprint matcher, for integrators and evaluators: compare two records,
    /// or measure the error rates on the generated evaluation set. Needs no database.
    #[command(subcommand)]
    Biometrics(BiometricsCommand),
    /// Excuse an obligation for good cause, or (`--approve`, supervisors) approve an excuse.
    Excuse {
        subject: String,
        #[arg(long)]
        obligation: String,
        /// medical, travel-disruption, notice-not-received, administrative-error, family-emergency or other.
        #[arg(long)]
        category: Option<String>,
        #[arg(long)]
        text: Option<String>,
        #[arg(long)]
        approve: bool,
        #[arg(long = "as", value_name = "USER")]
        user: String,
    },
    /// An adjudicator's determination on a failure: willful, not-willful or not-applicable,
    /// with reasons and the evidence considered. Refused when no notice was served.
    Determine {
        subject: String,
        #[arg(long)]
        obligation: String,
        #[arg(long)]
        finding: String,
        #[arg(long)]
        reasons: String,
        /// What was considered (repeat for each): notices, attempts, appointments.
        #[arg(long)]
        evidence: Vec<String>,
        #[arg(long = "as", value_name = "USER")]
        user: String,
    },
    /// Import records kept elsewhere (CSV with a header row, or JSON lines) into a
    /// program. Every row is checked first: all or nothing. Resumes if interrupted.
    Import {
        #[arg(long)]
        program: String,
        file: PathBuf,
        /// The administrator account acting.
        #[arg(long = "as", value_name = "USER")]
        user: String,
        /// Write each imported registration's portal access code to this new file
        /// (CSV: line,registration_number,access_code; mode 0600), to mail to the
        /// people. The codes are shown nowhere else: without this flag, people get
        /// a code only when an office issues them a new registration.
        #[arg(long, value_name = "FILE")]
        access_codes: Option<PathBuf>,
    },
    /// Erase a person (with an auditor's approval) and print the signed certificate;
    /// `expunge verify CERT.json` checks one.
    Expunge(fairgate::expunge::ExpungeArgs),
    /// The public list of authorities an expungement may cite.
    #[command(subcommand)]
    Authority(AuthorityCommand),
    /// Ports and offices: list, add, change, close (administrators; ledger events).
    #[command(subcommand)]
    Places(fairgate::places::PlacesCommand),
    /// Individual designations: statistics by officer and place, for auditors.
    #[command(subcommand)]
    Designations(fairgate::designations::DesignationsCommand),
    /// The master key: rotate it (re-wrap every stored key under a new one, while
    /// `serve` keeps serving), or show which one is in use.
    #[command(subcommand)]
    Keys(KeysCommand),
}

#[derive(Subcommand)]
enum AuthorityCommand {
    /// Add an authority (a ledger event). Expungements then name it by its id; their
    /// certificates cite its name and reference.
    Add {
        /// Lowercase letters, digits and dashes, e.g. privacy-act-s7.
        id: String,
        #[arg(long)]
        name: String,
        /// Where it is written: a citation or a URL.
        #[arg(long)]
        reference: String,
    },
    /// List the authorities.
    List,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user. Prints a new API token alone on the last line.
    Add {
        name: String,
        /// officer, supervisor, adjudicator, auditor, approver or admin.
        #[arg(long)]
        role: String,
        /// Read a password for web sign-in from standard input (one line, at least 12 characters).
        #[arg(long)]
        password_stdin: bool,
        /// The agency the account works for (published only in aggregate, in the transparency report).
        #[arg(long, default_value = fairgate_core::access::UNSPECIFIED_AGENCY)]
        agency: String,
        /// Days until the API token expires.
        #[arg(long, default_value_t = fairgate_store::registry::accounts::DEFAULT_TOKEN_DAYS)]
        token_days: i64,
    },
    /// List users: role, agency, id, status (active or disabled since when) and
    /// when the API token expires.
    List,
    /// Disable a user: every token and session stops working at once (a ledger event).
    Disable { name: String },
    /// Issue a new API token for a user; the old one stops working (a ledger event).
    /// Prints the token alone on the last line.
    RotateToken {
        name: String,
        /// Days until the new token expires.
        #[arg(long, default_value_t = fairgate_store::registry::accounts::DEFAULT_TOKEN_DAYS)]
        token_days: i64,
    },
    /// Give a user another role (a ledger event); their web sessions end.
    SetRole {
        name: String,
        /// officer, supervisor, adjudicator, auditor, approver or admin.
        #[arg(long)]
        role: String,
    },
    /// Every account change on the ledger: created, role changed, disabled, token
    /// rotated, by whom and when.
    History,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute every leaf hash and the Merkle tree, and check every signed checkpoint.
    Verify,
    /// Print the checkpoint verifier key (signed-note vkey form).
    Key,
    /// Check a Fairgate log from outside: signature, consistency with the last run,
    /// and the root recomputed from the leaves. Exits non-zero with evidence on a
    /// fork, a rewrite or a truncation. Needs no data directory.
    Monitor {
        /// Base URL of the log, e.g. http://127.0.0.1:8080
        #[arg(long)]
        url: String,
        /// Where to remember the last verified checkpoint (created on first run).
        #[arg(long)]
        state: PathBuf,
        /// The verifier key (`fairgate audit key` on the server). Without it, the key is pinned on first use.
        #[arg(long)]
        key: Option<String>,
        /// Download and rehash every leaf, not only those added since the last run.
        #[arg(long)]
        full: bool,
        /// How many random older leaves to check by inclusion proof on each run.
        #[arg(long, default_value_t = 16)]
        samples: u32,
        /// A witness's cosignature verifier key. Repeat for several.
        #[arg(long, value_name = "KEY")]
        witness: Vec<String>,
        /// Refuse a checkpoint without this many valid cosignatures from --witness
        /// keys (default: all of them).
        #[arg(long)]
        quorum: Option<usize>,
    },
}

#[derive(Subcommand)]
enum ComplianceCommand {
    /// Work out every person's obligations on a day, issue the notices now due, and
    /// count what ended programs voided. Running it twice for a day changes nothing.
    Run {
        /// YYYY-MM-DD; default today.
        #[arg(long)]
        on: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum RetentionCommand {
    /// Erase everyone whose programs' retention period ended before DATE (default
    /// today), each with an expungement event and certificate. `--dry-run` lists who
    /// would be erased and when, and changes nothing.
    Run {
        #[arg(long)]
        on: Option<String>,
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Make a new master key and re-wrap every subject, program and system key under
    /// it, in short transactions: a running `serve` keeps serving and picks the new
    /// key up by itself. If interrupted, run it again: it resumes. At the end the new
    /// key replaces `master.key`; destroy any backup of the old one.
    Rotate {
        /// Subjects per transaction.
        #[arg(long, default_value_t = 5_000)]
        chunk: usize,
    },
    /// Which master key is in use (by fingerprint), and whether a rotation is under way.
    Status,
    /// Keep master keys in a PKCS#11 token (an HSM) from now on: writes pkcs11.json
    /// into the key store after checking the token opens with the PIN. A new key
    /// store then makes its first master key in the token; an existing one moves
    /// there at the next `fairgate keys rotate`. Keys never leave the token.
    Hsm {
        /// The HSM's PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so
        #[arg(long)]
        module: PathBuf,
        /// The token's label.
        #[arg(long)]
        token: String,
        /// The environment variable that holds the user PIN whenever Fairgate runs.
        #[arg(long, conflicts_with = "pin_file", required_unless_present = "pin_file")]
        pin_env: Option<String>,
        /// Or a file (mode 0600) that holds it.
        #[arg(long)]
        pin_file: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum BiometricsCommand {
    /// Compare two records of one modality: fingerprints (ISO/IEC 19794-2 minutiae,
    /// a CBEFF XML file or ANSI/NIST-ITL Type-9; the score fused over the finger
    /// positions both hold) or faces (a JPEG, a PNG, an ISO/IEC 19794-5 record or a
    /// CBEFF XML file's face; cosine similarity of
    /// SFace embeddings, which needs the face matcher: scripts/setup-faces.sh).
    /// Prints the score, the threshold and the decision (match or no-match). A
    /// decision is for a person to act on, never a refusal by itself.
    Compare {
        a: PathBuf,
        b: PathBuf,
        #[arg(long)]
        json: bool,
        /// The face matcher's files.
        #[arg(long, value_name = "DIR", env = "FAIRGATE_FACES", default_value = "fairgate-faces")]
        faces: PathBuf,
    },
    /// Generate the evaluation set (seeded), or read one from disk (--set), compare
    /// every genuine and impostor pair, and report FNMR at FMR 10^-3 and 10^-4 and
    /// the error rates per group (sex, age band, or every label the set carries),
    /// flagging a group whose rate is more than 1.25 times the rest's.
    Evaluate {
        /// An evaluation set on disk: DIR/labels.csv (`file,subject,LABEL...`, one
        /// row per record) and the record files (19794-2 minutiae, or faces).
        #[arg(long, value_name = "DIR", conflicts_with_all = ["write_set", "seed"])]
        set: Option<PathBuf>,
        /// Write the generated set to DIR in the form --set reads, and stop.
        #[arg(long, value_name = "DIR")]
        write_set: Option<PathBuf>,
        /// The face matcher's files (for a set of faces).
        #[arg(long, value_name = "DIR", env = "FAIRGATE_FACES", default_value = "fairgate-faces")]
        faces: PathBuf,
        /// How many fingers (each with two impressions).
        #[arg(long, default_value_t = 1000)]
        fingers: u64,
        #[arg(long, default_value_t = 2002)]
        seed: u64,
        /// Impostor comparisons per finger (default: every other finger).
        #[arg(long)]
        impostors: Option<usize>,
        /// Write the DET curve here, as SVG.
        #[arg(long)]
        det: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum NoticesCommand {
    /// Print the notices (text, separated by form feeds) of obligations due before a day.
    Send {
        #[arg(long)]
        due_before: String,
        #[arg(long = "as", value_name = "USER")]
        user: String,
    },
    /// Deliver the open issued notices (what `serve` does daily after the compliance
    /// run): to each person's portal, and by email through --smtp when they gave an
    /// address. Every attempt is recorded with its outcome.
    Deliver {
        /// The day to deliver for (default today, UTC).
        #[arg(long)]
        on: Option<String>,
        #[arg(long, value_name = "HOST:PORT", requires = "smtp_from")]
        smtp: Option<String>,
        #[arg(long, value_name = "ADDRESS")]
        smtp_from: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

/// A staff role from `--role`.
fn staff_role(role: &str) -> Result<Role> {
    let role: Role = role.parse().map_err(|e: String| anyhow::anyhow!("--role: {e}"))?;
    if role == Role::Registrant {
        bail!("--role: registrants sign in to the portal with their registration number, not as users");
    }
    Ok(role)
}

fn main() {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    if let Err(e) = run(cli) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

pub(crate) struct Opened {
    pub registry: Arc<Registry>,
    pub store: Arc<dyn fairgate_store::Store>,
    /// The store as its own kind (a SQLite backup needs the file).
    pub backend: fairgate_store::backend::Opened,
    pub created: bool,
}

pub(crate) fn seed() -> [u8; 32] {
    let mut s = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut s);
    s
}

/// Where the data and the keys live.
pub(crate) struct Dirs {
    pub data: PathBuf,
    pub keys: PathBuf,
    /// `Sqlite(data)` unless --database names PostgreSQL.
    pub database: Database,
}

pub(crate) fn open(dirs: &Dirs, origin: &str) -> Result<Opened> {
    // A PostgreSQL database that already holds keys is never given new ones (the
    // SQLite case is DataDir's check: a fairgate.db without a key store).
    let early = match &dirs.database {
        Database::Postgres(_) => {
            let b = StoreBackend::open(&dirs.database)
                .with_context(|| format!("opening the database {}", dirs.database.display()))?;
            if !dirs.keys.join("master.key").exists() && b.store().system_key("key-id")?.is_some() {
                bail!(
                    "the database {} holds data but the key store {} has no master.key: pass --keys with the key store this database was made with",
                    dirs.database.display(),
                    dirs.keys.display()
                );
            }
            Some(b)
        }
        Database::Sqlite(_) => None,
    };
    let dir = DataDir::open_or_create(&dirs.data, &dirs.keys, &mut rand::rngs::OsRng).with_context(|| {
        format!("opening the data directory {} with the key store {}", dirs.data.display(), dirs.keys.display())
    })?;
    for k in &dir.moved_keys {
        println!(
            "moved {} out of the data directory, into the key store {}",
            k.file_name().map(|n| n.to_string_lossy()).unwrap_or_default(),
            dirs.keys.display()
        );
    }
    let backend = match early {
        Some(b) => b,
        None => StoreBackend::open(&dirs.database).with_context(|| format!("opening {}", dir.db_path().display()))?,
    };
    let store = backend.store();
    let registry = Registry::open(store.clone(), dir.master_keys(), &dir.signing_seed, origin, seed())
        .context("opening the registry (is --keys the key store this database was made with?)")?
        .with_key_source(dir.key_source());
    // Finish whatever an interruption (a crash, a kill) left half done.
    for program in registry.recover(jiff::Timestamp::now()).context("finishing an interrupted expungement")? {
        eprintln!("finished the expungement of program {program}, which had been interrupted");
    }
    Ok(Opened { registry: Arc::new(registry), store, backend, created: dir.created })
}

/// Open an existing data directory; refuse to create one for commands that only read.
fn open_existing(dirs: &Dirs) -> Result<Opened> {
    if matches!(dirs.database, Database::Sqlite(_)) && !dirs.data.join("fairgate.db").exists() {
        bail!(
            "{} is not a Fairgate data directory (no fairgate.db): pass --data DIR or run `fairgate serve` first",
            dirs.data.display()
        );
    }
    open(dirs, "fairgate.localhost/log")
}

pub(crate) fn progress(len: u64, what: &str) -> indicatif::ProgressBar {
    fairgate::progress_bar(len, what)
}

fn run(cli: Cli) -> Result<()> {
    let keys = cli.keys.clone().unwrap_or_else(|| fairgate_store::datadir::default_keys(&cli.data));
    let database = match &cli.database {
        Some(spec) => Database::parse(spec).map_err(|e| anyhow::anyhow!("--database {e}"))?,
        None => Database::Sqlite(cli.data.clone()),
    };
    let dirs = Dirs { data: cli.data.clone(), keys, database };
    match cli.command {
        Command::Serve(args) => serve(&dirs, &args),
        Command::Policy { markdown } => {
            if markdown {
                print!("{}", fairgate_core::policy::markdown());
            } else {
                println!("{}", serde_json::to_string_pretty(&fairgate_core::policy::published())?);
            }
            Ok(())
        }
        Command::Demo { travellers } => {
            let o = open(&dirs, "fairgate.localhost/log")?;
            if o.registry.tree_head()?.0 > 0 {
                bail!(
                    "the database in {} is not empty: demo data is only seeded into an empty one",
                    cli.data.display()
                );
            }
            demo::seed(&o.registry, travellers)?;
            demo::accounts(&o.registry)?;
            Ok(())
        }
        Command::User(UserCommand::Add { name, role, password_stdin, agency, token_days }) => {
            let role = staff_role(&role)?;
            let password = if password_stdin {
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line).context("reading the password from standard input")?;
                Some(line.trim_end_matches(['\n', '\r']).to_string())
            } else {
                None
            };
            let o = open(&dirs, "fairgate.localhost/log")?;
            let mut secret = [0u8; 64];
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut secret);
            // The operator at the console of the machine that holds the key files acts as the system.
            let operator = fairgate_core::access::Actor::system("operator");
            let fairgate_store::registry::accounts::NewAccount { account: user, token } = o.registry.add_user_with(
                jiff::Timestamp::now(),
                &operator,
                &name,
                role,
                &agency,
                password.as_deref(),
                secret,
                token_days,
            )?;
            println!("created user {} ({}) with role {} at {}", user.name, user.user_id, user.role, user.agency);
            println!("API token (shown once; send it as `Authorization: Bearer TOKEN`):");
            println!("{token}");
            Ok(())
        }
        Command::User(UserCommand::List) => {
            let o = open_existing(&dirs)?;
            println!("{:24} {:12} {:24} {:20} {:32} token expires", "name", "role", "agency", "id", "status");
            for s in o.registry.account_statuses()? {
                let u = &s.account;
                let status = match s.disabled {
                    Some(at) => format!("disabled {}", at.round(jiff::Unit::Second).unwrap_or(at)),
                    None => "active".to_string(),
                };
                let expires = s.token_expires.map(|t| t.round(jiff::Unit::Second).unwrap_or(t).to_string());
                println!(
                    "{:24} {:12} {:24} {:20} {:32} {}",
                    u.name,
                    u.role.as_str(),
                    u.agency,
                    u.user_id,
                    status,
                    expires.as_deref().unwrap_or("no token")
                );
            }
            Ok(())
        }
        Command::User(UserCommand::Disable { name }) => {
            let o = open_existing(&dirs)?;
            let operator = fairgate_core::access::Actor::system("operator");
            o.registry.disable_user(jiff::Timestamp::now(), &operator, &name)?;
            println!("disabled {name}: its tokens and sessions no longer work");
            Ok(())
        }
        Command::User(UserCommand::RotateToken { name, token_days }) => {
            let o = open_existing(&dirs)?;
            let operator = fairgate_core::access::Actor::system("operator");
            let mut secret = [0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut secret);
            let token = o.registry.rotate_token(jiff::Timestamp::now(), &operator, &name, token_days, secret)?;
            println!("new API token for {name}, good for {token_days} days (shown once; the old one no longer works):");
            println!("{token}");
            Ok(())
        }
        Command::User(UserCommand::SetRole { name, role }) => {
            let o = open_existing(&dirs)?;
            let operator = fairgate_core::access::Actor::system("operator");
            o.registry.set_role(jiff::Timestamp::now(), &operator, &name, staff_role(&role)?)?;
            println!("{name} is now {role}; their web sessions have ended");
            Ok(())
        }
        Command::User(UserCommand::History) => {
            let o = open_existing(&dirs)?;
            for e in o.registry.account_history()? {
                println!(
                    "{}\t{}\t{}\t{}",
                    e.at.round(jiff::Unit::Second).unwrap_or(e.at),
                    e.name,
                    serde_json::to_string(&e.change)?,
                    e.by.id
                );
            }
            Ok(())
        }
        Command::Audit(AuditCommand::Key) => {
            println!("{}", open_existing(&dirs)?.registry.verifier_key());
            Ok(())
        }
        Command::Audit(AuditCommand::Verify) => audit_verify(&dirs),
        Command::Backup { to } => backup(&dirs, &to),
        Command::Restore { from } => restore(&dirs, &from),
        Command::Audit(AuditCommand::Monitor { url, state, key, full, samples, witness, quorum }) => {
            let witnesses = witness
                .iter()
                .map(|k| {
                    fairgate_ledger::witness::CosignatureVerifier::parse(k)
                        .map_err(|e| anyhow::anyhow!("--witness {k}: {e}"))
                })
                .collect::<Result<Vec<_>>>()?;
            let need = quorum.unwrap_or(witnesses.len());
            if need > witnesses.len() {
                bail!("--quorum {need}: more than the {} --witness keys given", witnesses.len());
            }
            let quorum = fairgate::monitor::Quorum { witnesses, need };
            audit_monitor(&url, &state, key.as_deref(), fairgate::monitor::Depth { full, samples }, &quorum)
        }
        Command::Mrz => mrz(),
        Command::Witness(WitnessCommand::Serve { listen, name, log }) => {
            let dir = cli.keys.clone().unwrap_or_else(|| PathBuf::from("./fairgate-witness"));
            witness_serve(&dir, &listen, &name, &log)
        }
        Command::MigrateStore { from, to, chunk } => migrate_store(cli.keys.clone(), &cli.data, &from, &to, chunk),
        Command::Rebuild => {
            let o = open_existing(&dirs)?;
            let bar = progress(o.registry.tree_head()?.0, "rebuilding");
            let report = o.registry.rebuild(&mut |done, _| bar.set_position(done))?;
            bar.finish_and_clear();
            println!(
                "rebuilt projections from {} leaves ({} projected, {} unreadable because their keys were destroyed)",
                report.leaves, report.projected, report.unreadable
            );
            Ok(())
        }
        Command::Program(fairgate::program::ProgramCommand::Check { file }) => match fairgate::program::check(&file) {
            Ok(summary) => {
                println!("{summary}");
                Ok(())
            }
            Err(errors) => {
                for e in &errors {
                    eprintln!("{e}");
                }
                bail!("{} error(s): the program does not compile", errors.len())
            }
        },
        Command::Program(fairgate::program::ProgramCommand::Impact { file, population: Some(p), json, .. }) => {
            fairgate::program::impact_from_file(&file, &p, json)
        }
        Command::Compliance(ComplianceCommand::Run { on, json }) => {
            fairgate::compliance::run(&open_existing(&dirs)?.registry, on.as_deref(), json)
        }
        Command::Obligations { subject, user, purpose, on, json } => fairgate::compliance::obligations(
            &open_existing(&dirs)?.registry,
            &subject,
            &user,
            &purpose,
            on.as_deref(),
            json,
        ),
        Command::Keys(KeysCommand::Rotate { chunk }) => rotate_keys(&dirs, chunk),
        Command::Keys(KeysCommand::Hsm { module, token, pin_env, pin_file }) => {
            use fairgate_store::hsm::{HsmConfig, Token, CONFIG_FILE};
            let path = dirs.keys.join(CONFIG_FILE);
            if path.exists() {
                bail!("{} exists: edit it, or remove it first", path.display());
            }
            let config = HsmConfig { module, token, pin_env, pin_file };
            Token::open(&config).context("checking the token opens with the PIN")?;
            std::fs::create_dir_all(&dirs.keys)?;
            std::fs::set_permissions(&dirs.keys, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
            std::fs::write(&path, serde_json::to_string_pretty(&config)? + "\n")
                .with_context(|| format!("writing {}", path.display()))?;
            if dirs.keys.join("master.key").exists() {
                println!(
                    "wrote {}: the token opens. The master key in force is still a file: run `fairgate keys rotate` to move to a key made in the token (the file key is then destroyed).",
                    path.display()
                );
            } else {
                println!("wrote {}: the token opens. The first master key will be made in the token.", path.display());
            }
            Ok(())
        }
        Command::Keys(KeysCommand::Status) => {
            let dir = open_key_dir(&dirs)?;
            println!("master key {}", dir.master_key.fingerprint());
            match &dir.next_master_key {
                Some(k) => {
                    println!("a rotation to {} is under way: run `fairgate keys rotate` to finish it", k.fingerprint())
                }
                None => println!("no rotation under way"),
            }
            Ok(())
        }
        Command::Retention(RetentionCommand::Run { on, dry_run, json }) => {
            retention(&open_existing(&dirs)?.registry, on.as_deref(), dry_run, json)
        }
        Command::Notices(NoticesCommand::Send { due_before, user }) => {
            fairgate::compliance::send(&open_existing(&dirs)?.registry, &due_before, &user)
        }
        Command::Biometrics(BiometricsCommand::Compare { a, b, json, faces }) => {
            fairgate::biometrics::compare(&a, &b, json, &faces)
        }
        Command::Biometrics(BiometricsCommand::Evaluate {
            set,
            write_set,
            faces,
            fingers,
            seed,
            impostors,
            det,
            json,
        }) => match (set, write_set) {
            (Some(dir), _) => fairgate::biometrics::evaluate_set(&dir, impostors, det.as_deref(), json, &faces),
            (None, Some(dir)) => fairgate::biometrics::write_set(&dir, fingers, seed),
            (None, None) => fairgate::biometrics::evaluate(fingers, seed, impostors, det.as_deref(), json),
        },
        Command::Notices(NoticesCommand::Deliver { on, smtp, smtp_from, json }) => {
            let m = mailer(&smtp, &smtp_from)?;
            let m: Option<&dyn fairgate_store::registry::notices::Mailer> = match &m {
                Some(m) => Some(m.as_ref()),
                None => None,
            };
            fairgate::compliance::deliver(&open_existing(&dirs)?.registry, on.as_deref(), m, json)
        }
        Command::Excuse { subject, obligation, category, text, approve, user } => fairgate::compliance::excuse(
            &open_existing(&dirs)?.registry,
            &subject,
            &obligation,
            category.as_deref(),
            text.as_deref(),
            approve,
            &user,
        ),
        Command::Determine { subject, obligation, finding, reasons, evidence, user } => {
            fairgate::compliance::determine(
                &open_existing(&dirs)?.registry,
                &subject,
                &obligation,
                &finding,
                &reasons,
                &evidence,
                &user,
            )
        }
        Command::Import { program, file, user, access_codes } => {
            fairgate::import::run(&open_existing(&dirs)?.registry, &program, &file, &user, access_codes.as_deref())
        }
        Command::Expunge(args) => fairgate::expunge::run(&open_existing(&dirs)?.registry, args),
        Command::Authority(AuthorityCommand::Add { id, name, reference }) => {
            let o = open_existing(&dirs)?;
            let a = fairgate_core::expungement::Authority { id, name, reference };
            let r = o.registry.list_authority(
                jiff::Timestamp::now(),
                &fairgate_core::access::Actor::system("operator"),
                &a,
            )?;
            println!("listed {} (leaf {}): {}", a.id, r.leaf_index, a.citation());
            Ok(())
        }
        Command::Authority(AuthorityCommand::List) => {
            for a in open_existing(&dirs)?.registry.authorities()? {
                println!("{:24} {}", a.id, a.citation());
            }
            Ok(())
        }
        Command::Designations(cmd) => fairgate::designations::run(&open_existing(&dirs)?.registry, cmd),
        Command::Places(cmd) => fairgate::places::run(&open_existing(&dirs)?.registry, cmd),
        Command::Program(cmd) => fairgate::program::run(&open_existing(&dirs)?.registry, cmd),
        Command::Stay { rule, stays, exempt, on, json } => stay(&rule, &stays, &exempt, &on, json),
        Command::Overstays { on, user, purpose, csv, page, per_page } => {
            overstays(&dirs, on.as_deref(), &user, &purpose, csv, page, per_page)
        }
    }
}

fn open_key_dir(dirs: &Dirs) -> Result<DataDir> {
    if matches!(dirs.database, Database::Sqlite(_)) && !dirs.data.join("fairgate.db").exists() {
        bail!("{} is not a Fairgate data directory (no fairgate.db): pass --data DIR", dirs.data.display());
    }
    DataDir::open_or_create(&dirs.data, &dirs.keys, &mut rand::rngs::OsRng)
        .with_context(|| format!("opening the key store {}", dirs.keys.display()))
}

struct Rotated {
    report: fairgate_store::registry::keyring::RotationReport,
    resumed: bool,
    completion: Option<fairgate_store::registry::Receipt>,
}

/// Rotate the master key: make (or resume with) `master.key.next`, re-wrap every
/// stored key under it, make it `master.key` (destroying the old one), and record
/// that the erasures certified so far now reach every backup.
fn rotate(dirs: &Dirs, chunk: usize, bar: &indicatif::ProgressBar) -> Result<Rotated> {
    let mut dir = open_key_dir(dirs)?;
    let resumed = dir.next_master_key.is_some();
    dir.begin_rotation(&mut rand::rngs::OsRng).context("writing master.key.next")?;
    let o = open_existing(dirs)?;
    let report = o.registry.rotate_master(
        jiff::Timestamp::now(),
        &fairgate_core::access::Actor::system("operator"),
        chunk,
        &mut |done, total| {
            bar.set_length(total);
            bar.set_position(done);
            true
        },
    )?;
    bar.finish_and_clear();
    if !report.completed {
        bail!("the rotation stopped before the end: run `fairgate keys rotate` again to resume it");
    }
    dir.finish_rotation().context("replacing master.key with master.key.next")?;
    // The old epoch is gone: every backup taken under it reads nothing, so the
    // erasures certified so far now reach every backup.
    let completion = o.registry.complete_erasures(jiff::Timestamp::now(), &report.old_fingerprint)?;
    Ok(Rotated { report, resumed, completion })
}

fn rotate_keys_quietly(dirs: &Dirs, chunk: usize) -> Result<fairgate_store::registry::keyring::RotationReport> {
    Ok(rotate(dirs, chunk, &indicatif::ProgressBar::hidden())?.report)
}

fn rotate_keys(dirs: &Dirs, chunk: usize) -> Result<()> {
    let bar = progress(0, "re-wrapping");
    let Rotated { report, resumed, completion } = rotate(dirs, chunk, &bar)?;
    if let Some(r) = completion {
        println!("erasures certified so far are now complete in every backup (leaf {})", r.leaf_index);
    }
    if resumed {
        println!("resumed the rotation that was under way");
    }
    println!(
        "master key rotated: {} -> {}; {} keys re-wrapped ({} were already).",
        report.old_fingerprint, report.new_fingerprint, report.rewrapped, report.already
    );
    println!("master.key now holds the new key. Back it up, and destroy every backup of the old one.");
    Ok(())
}

fn backup(dirs: &Dirs, to: &Path) -> Result<()> {
    if to.exists() {
        bail!("--to {}: already exists; give a new directory (a backup never overwrites one)", to.display());
    }
    let keys = open_key_dir(dirs)?;
    let o = open_existing(dirs)?;
    std::fs::create_dir_all(to).with_context(|| format!("--to {}", to.display()))?;
    std::fs::set_permissions(to, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
    let fairgate_store::backend::Opened::Sqlite(sqlite) = &o.backend else {
        bail!(
            "fairgate backup copies the SQLite file; a PostgreSQL database is backed up with PostgreSQL's own tools (pg_basebackup and a WAL archive, or pg_dump): docs/privacy.md says how erasure and the key epochs reach those copies"
        );
    };
    sqlite.backup_to(&to.join("fairgate.db")).context("copying the database")?;
    let epoch = keys.master_key.fingerprint();
    let (size, _) = o.registry.tree_head()?;
    let manifest = serde_json::json!({
        "format": "fairgate-backup/v1",
        "tree_size": size,
        "master_key_epoch": epoch,
        "taken_at": jiff::Timestamp::now().round(jiff::Unit::Second)?.to_string(),
    });
    std::fs::write(to.join("backup.json"), serde_json::to_string_pretty(&manifest)? + "\n")?;
    println!(
        "backed up {} leaves to {} (no key copied). It reads only with master key {epoch}: after the next `keys rotate` destroys it, this backup reads nothing; take a new one then.",
        size,
        to.display()
    );
    Ok(())
}

fn restore(dirs: &Dirs, from: &Path) -> Result<()> {
    if let Database::Postgres(_) = dirs.database {
        bail!(
            "fairgate restore writes a SQLite data directory; to move a backup onto PostgreSQL, restore it (without --database) and then run `fairgate migrate-store --from sqlite:DIR --to postgres://…`"
        );
    }
    let src = from.join("fairgate.db");
    if !src.exists() {
        bail!("--from {}: no fairgate.db: give a directory written by `fairgate backup`", from.display());
    }
    let dest = dirs.data.join("fairgate.db");
    if dest.exists() {
        bail!("{} already holds a database: restore into an empty data directory (--data)", dirs.data.display());
    }
    std::fs::create_dir_all(&dirs.data)?;
    std::fs::copy(&src, &dest).with_context(|| format!("copying {} to {}", src.display(), dest.display()))?;
    std::fs::set_permissions(&dest, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    match open_existing(dirs) {
        Ok(o) => {
            println!("restored {} leaves into {}", o.registry.tree_head()?.0, dirs.data.display());
            Ok(())
        }
        Err(e) => {
            let _ = std::fs::remove_file(&dest);
            let epoch = std::fs::read_to_string(from.join("backup.json"))
                .ok()
                .and_then(|m| serde_json::from_str::<serde_json::Value>(&m).ok())
                .and_then(|m| m["master_key_epoch"].as_str().map(str::to_string))
                .unwrap_or_else(|| "unknown".into());
            bail!(
                "this backup was taken under master key {epoch}, which the key store {} cannot read it with: that epoch was destroyed by a key rotation, so the backup reads nothing (erasures reach it). Nothing was restored. ({e:#})",
                dirs.keys.display()
            )
        }
    }
}

fn migrate_store(keys: Option<PathBuf>, data: &Path, from: &str, to: &str, chunk: u64) -> Result<()> {
    let from_db = Database::parse(from).map_err(|e| anyhow::anyhow!("--from {e}"))?;
    let to_db = Database::parse(to).map_err(|e| anyhow::anyhow!("--to {e}"))?;
    if from_db == to_db {
        bail!("--from and --to name the same database: give the database to copy into as --to");
    }
    if let Database::Sqlite(dir) = &from_db {
        if !dir.join("fairgate.db").exists() {
            bail!("--from {}: no fairgate.db there: give the data directory `serve` uses", from_db.display());
        }
    }
    if let Database::Sqlite(dir) = &to_db {
        if dir.join("fairgate.db").exists() && !dir.join("fairgate.db").is_file() {
            bail!("--to {}: fairgate.db is not a file", to_db.display());
        }
    }
    // The key store the source was made with: --keys, else beside the SQLite side's
    // data directory (or --data's).
    let key_data = match (&from_db, &to_db) {
        (Database::Sqlite(d), _) | (_, Database::Sqlite(d)) => d.clone(),
        _ => data.to_path_buf(),
    };
    let keys = keys.unwrap_or_else(|| fairgate_store::datadir::default_keys(&key_data));
    if !keys.join("master.key").exists() {
        bail!(
            "{} holds no master.key: pass --keys with the key store the source database was made with",
            keys.display()
        );
    }
    let source = StoreBackend::open(&from_db).with_context(|| format!("opening --from {}", from_db.display()))?;
    let target = StoreBackend::open(&to_db).with_context(|| format!("opening --to {}", to_db.display()))?;
    let bar = progress(0, "copying");
    let report = fairgate_store::migrate::copy_store(
        source.store().as_ref(),
        target.store().as_ref(),
        chunk,
        &mut |step, done, total| {
            bar.set_message(step.to_string());
            bar.set_length(total);
            bar.set_position(done);
            true
        },
    )
    .context("copying (run the same command again to resume)")?;
    bar.finish_and_clear();
    if report.resumed_at > 0 {
        println!("resumed: the target already held {} leaves", report.resumed_at);
    }
    let rows: u64 = report.tables.iter().map(|(_, n)| n).sum();
    println!(
        "copied {} leaves and {rows} rows of keys, accounts, codes, checkpoints and tree hashes into {}",
        report.leaves_copied,
        to_db.display()
    );
    let dir = DataDir::open_or_create(&key_data, &keys, &mut rand::rngs::OsRng)
        .with_context(|| format!("opening the key store {}", keys.display()))?;
    let registry =
        Registry::open(target.store(), dir.master_keys(), &dir.signing_seed, "fairgate.localhost/log", seed())
            .context("opening the copy (is --keys the key store the source was made with?)")?;
    let bar = progress(report.tree_size, "rebuilding projections");
    registry.rebuild(&mut |done, _| bar.set_position(done))?;
    bar.finish_and_clear();
    // The sealed facts are folded again by the rebuild (new ciphertexts); every
    // other projection must come out row for row the same.
    let (a, b) = (source.store().projection_digest()?, target.store().projection_digest()?);
    let plain = |d: &fairgate_store::store::ProjectionDigest| {
        [
            d.subjects,
            d.documents,
            d.subject_leaves,
            d.registrations,
            d.programs,
            d.tallies,
            d.system_leaves,
            d.imports,
            d.program_subjects,
            d.slot_loads,
            d.queue,
            d.identification_reviews,
            d.work,
        ]
    };
    if plain(&a) != plain(&b) {
        bail!("the rebuilt projections differ from the source's:\n  source {a:?}\n  target {b:?}");
    }
    let verifier = NoteVerifier::parse(&registry.verifier_key())?;
    let check = fairgate_store::audit::verify(target.store().as_ref(), &verifier, &mut |_, _| {})?;
    if !check.ok() {
        bail!("audit verify fails on the copy: {:?}", check.problems);
    }
    let s = source.store();
    let source_root = fairgate_store::tree::frontier(s.as_ref(), s.tree_size()?)?.root();
    if check.root != source_root {
        bail!("the copy's root differs from the source's");
    }
    println!(
        "projections rebuilt ({} people, {} leaves indexed; the same as the source's)",
        b.subjects, b.subject_leaves
    );
    println!(
        "audit verify ok on {}: {} leaves, root {}, {} signed checkpoints, the same root as {}",
        to_db.display(),
        check.tree_size,
        hex(&check.root),
        check.checkpoints_checked,
        from_db.display()
    );
    Ok(())
}

fn audit_verify(dirs: &Dirs) -> Result<()> {
    let o = open_existing(dirs)?;
    let verifier = NoteVerifier::parse(&o.registry.verifier_key())?;
    let bar = progress(o.registry.tree_head()?.0, "verifying");
    let report = fairgate_store::audit::verify(o.store.as_ref(), &verifier, &mut |done, _| bar.set_position(done))?;
    bar.finish_and_clear();
    if report.ok() {
        println!(
            "ok: {} leaves, root {}, {} signed checkpoints verified",
            report.tree_size,
            hex(&report.root),
            report.checkpoints_checked
        );
        return Ok(());
    }
    for p in report.problems.iter().take(20) {
        eprintln!("problem: {}", p.message);
    }
    if report.problems.len() > 20 {
        eprintln!("... and {} more problems", report.problems.len() - 20);
    }
    match report.first_bad_leaf() {
        Some(i) => bail!("the ledger does not verify: first bad leaf index {i}"),
        None => bail!("the ledger does not verify: see the problems above"),
    }
}

fn audit_monitor(
    url: &str,
    state_path: &Path,
    key: Option<&str>,
    depth: fairgate::monitor::Depth,
    quorum: &fairgate::monitor::Quorum,
) -> Result<()> {
    let previous: Option<fairgate::monitor::MonitorState> = match std::fs::read_to_string(state_path) {
        Ok(text) => Some(
            serde_json::from_str(&text)
                .with_context(|| format!("--state {} is not a monitor state file", state_path.display()))?,
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("--state {}", state_path.display())),
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let client = reqwest::Client::builder().timeout(std::time::Duration::from_secs(60)).build()?;
    let (next, report) = runtime.block_on(fairgate::monitor::check(&client, url, previous, key, depth, quorum))?;
    // Write the new state beside the old one, then rename: an interrupted run leaves the old state.
    let tmp = state_path.with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(&next)?).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, state_path).with_context(|| format!("writing {}", state_path.display()))?;
    if report.key_pinned_now {
        println!("pinned verifier key {} (check it against one published out of band)", next.key);
    }
    match report.from {
        None => println!(
            "ok: checkpoint at {} leaves verified; all {} leaves downloaded and hashed to its root",
            report.to, report.leaves_downloaded
        ),
        Some(from) => println!(
            "ok: checkpoint at {} leaves is consistent with the one at {from}; {} new leaves hash to its root",
            report.to, report.leaves_downloaded
        ),
    }
    Ok(())
}

fn overstays(
    dirs: &Dirs,
    on: Option<&str>,
    user: &str,
    purpose: &str,
    csv: bool,
    page: usize,
    per_page: usize,
) -> Result<()> {
    use fairgate_core::access::Purpose;
    use fairgate_server::subjects::check_page;
    let purpose: Purpose = purpose.parse().map_err(|e: String| anyhow::anyhow!("--purpose: {e}"))?;
    check_page(page, per_page).map_err(|e| anyhow::anyhow!("--{}: {}", e.field.replace('_', "-"), e.message))?;
    let on = match on {
        Some(s) => fairgate_core::error::parse_date("on", s).map_err(|e| anyhow::anyhow!("--on: {}", e.message))?,
        None => jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date(),
    };
    let o = open_existing(dirs)?;
    let actor = fairgate::account(&o.registry, user, "--as")?;
    let paging = (!csv).then_some((page, per_page));
    let (rows, total, _) =
        o.registry.read_overstays(jiff::Timestamp::now(), &actor, purpose, on, paging, "fairgate overstays")?;
    if csv {
        println!("{}", fairgate_server::subjects::OVERSTAY_CSV_HEADER);
        for r in &rows {
            println!("{}", fairgate_server::subjects::overstay_csv_line(r));
        }
    } else {
        println!("{total} overstayers on {on}; page {page} ({} shown):", rows.len());
        for r in &rows {
            println!(
                "{}  {:14} {} to {} ({} days){}",
                r.subject,
                r.rule,
                r.overstay.first_day,
                r.overstay.last_day,
                r.overstay.days,
                if r.still_present { ", still present" } else { "" }
            );
        }
    }
    Ok(())
}

fn stay(rule: &str, stays: &[String], exempt: &[String], on: &str, json: bool) -> Result<()> {
    use fairgate_core::stay::{calculate, describe, Period, Rule};
    let rule: Rule = rule.parse().map_err(|e: fairgate_core::FieldError| anyhow::anyhow!("--rule: {}", e.message))?;
    let on = fairgate_core::error::parse_date("on", on).map_err(|e| anyhow::anyhow!("--on: {}", e.message))?;
    let parse = |flag: &str, list: &[String]| -> Result<Vec<Period>> {
        list.iter()
            .enumerate()
            .map(|(i, s)| {
                Period::parse(flag, s).map_err(|e| anyhow::anyhow!("--{flag} {} ({s}): {}", i + 1, e.message))
            })
            .collect()
    };
    let stays_p = parse("stay", stays)?;
    let exempt_p = parse("exempt", exempt)?;
    let answer = calculate(rule, &stays_p, &exempt_p, on).map_err(|e| {
        let lines: Vec<String> =
            e.0.iter()
                .map(|f| {
                    let i: usize = f.field.trim_start_matches("stays[").trim_end_matches(']').parse().unwrap_or(0);
                    format!("--stay {} ({}): {}", i + 1, stays.get(i).map(String::as_str).unwrap_or("?"), f.message)
                })
                .collect();
        anyhow::anyhow!("{}", lines.join("\n"))
    })?;
    if json {
        println!("{}", serde_json::to_string(&answer)?);
    } else {
        println!("{}", describe(rule, &answer));
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn serve(dirs: &Dirs, args: &ServeArgs) -> Result<()> {
    let ServeArgs { listen, demo, origin, secure_cookies, .. } = args;
    let (listen, demo, secure_cookies) = (listen.as_str(), *demo, *secure_cookies);
    let targets = args
        .witness
        .iter()
        .map(|w| fairgate::witness::parse_target(w).map_err(|e| anyhow::anyhow!(e)))
        .collect::<Result<Vec<_>>>()?;
    let mail = mailer(&args.smtp, &args.smtp_from)?;
    let o = open(dirs, origin)?;
    let period = args
        .rotate_every
        .or_else(|| (args.rotate_days > 0).then(|| jiff::SignedDuration::from_hours(24 * i64::from(args.rotate_days))));
    o.registry.schedule_rotation(period)?;
    if o.created {
        println!(
            "created data directory {} and key store {} (master.key and checkpoint.key, mode 0600: keep them apart from the data, and back them up apart)",
            dirs.data.display(),
            dirs.keys.display()
        );
    }
    if demo {
        if o.registry.tree_head()?.0 == 0 && o.registry.accounts()?.is_empty() {
            demo::seed(&o.registry, 10_000)?;
            demo::accounts(&o.registry)?;
        } else {
            println!("demo data not seeded: the database already holds data (reusing it)");
        }
    } else if o.registry.accounts()?.is_empty() {
        println!("no users yet: create one with `fairgate user add NAME --role officer`");
    }
    let face_unavailable = match fairgate_biometrics::face::OnnxFaces::load(&args.faces) {
        Ok(engine) => {
            o.registry.set_face_matcher(Some(std::sync::Arc::new(engine)));
            println!("face matcher: available ({})", args.faces.display());
            None
        }
        Err(e) => {
            println!("face matcher: {e}; faces will be not-checked, fingerprints are compared");
            Some(e.to_string())
        }
    };
    // The 1:N gallery, from the sealed records, before the first registration needs it.
    let started = std::time::Instant::now();
    let g = o.registry.build_gallery(&mut |_, _| {})?;
    println!(
        "1:N gallery: {} people ({} faces, {} fingers) in {:.1} s",
        g.people,
        g.faces,
        g.fingers,
        started.elapsed().as_secs_f64()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("--listen {listen}"))?;
        let addr = listener.local_addr()?;
        // Install the signal handlers before announcing readiness: a SIGTERM that
        // arrives between the two must still stop the server cleanly.
        let shutdown = shutdown_signal()?;
        println!(
            "Fairgate is serving on http://{addr}/ (API description: http://{addr}/openapi.json). Ctrl-C stops it."
        );
        let rotations = period.map(|p| rotation_schedule(dirs, o.registry.clone(), p));
        let mut state = fairgate_server::AppState::new(o.registry.clone());
        // Plain HTTP on loopback (a desk on this machine, the demo) is the one case
        // where a Secure cookie would never be sent back.
        state.secure_cookies = secure_cookies || !addr.ip().is_loopback();
        state.witnesses = targets.len();
        state.face_unavailable = face_unavailable;
        if let Some(m) = mail {
            state = state.with_mailer(m);
        }
        let submitter = (!targets.is_empty()).then(|| {
            let s = fairgate::witness::Submitter::new(o.registry.clone(), targets);
            tokio::spawn(fairgate::witness::submit_forever(s, std::time::Duration::from_secs(2)))
        });
        fairgate_server::serve(listener, state, shutdown).await?;
        if let Some(r) = rotations {
            r.stop();
        }
        if let Some(s) = submitter {
            s.abort();
        }
        // Let another process sign at once rather than when the lease expires.
        o.registry.release_signing_lease()?;
        // Whoever started us may have stopped reading; a closed stdout is no reason to fail.
        let _ = writeln!(std::io::stdout(), "stopped; a final checkpoint was signed");
        Ok(())
    })
}

fn mrz() -> Result<()> {
    use std::io::Read;
    let mut input = String::new();
    std::io::stdin().lock().read_to_string(&mut input).context("reading the zone from standard input")?;
    let today = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date();
    match fairgate_core::mrz::read(&input, today) {
        Ok((reading, failures)) => {
            let view = fairgate_server::documents::MrzReading::new(reading, &failures);
            println!("{}", serde_json::to_string_pretty(&view)?);
            for f in &failures {
                eprintln!("{f}");
            }
            if !failures.is_empty() {
                std::process::exit(1);
            }
            Ok(())
        }
        Err(errors) => {
            let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
            println!("{}", serde_json::to_string_pretty(&serde_json::json!({"valid": false, "errors": messages}))?);
            for m in &messages {
                eprintln!("{m}");
            }
            std::process::exit(1);
        }
    }
}

fn witness_serve(dir: &Path, listen: &str, name: &str, logs: &[String]) -> Result<()> {
    let logs = logs
        .iter()
        .map(|l| fairgate::witness::parse_log(l).map_err(|e| anyhow::anyhow!(e)))
        .collect::<Result<std::collections::HashMap<_, _>>>()?;
    std::fs::create_dir_all(dir).with_context(|| format!("--keys {}", dir.display()))?;
    std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))
        .with_context(|| format!("--keys {}", dir.display()))?;
    let seed = fairgate_store::datadir::key_file(&dir.join("witness.key"), &mut rand::rngs::OsRng)
        .with_context(|| format!("the witness key in {}", dir.display()))?;
    let cosigner = fairgate_ledger::witness::Cosigner::from_seed(name, seed.expose());
    let clock = Box::new(|| jiff::Timestamp::now().as_second().max(0) as u64);
    let witness = Arc::new(fairgate_server::witness::Witness::open(cosigner, logs, dir, clock)?);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("--listen {listen}"))?;
        let addr = listener.local_addr()?;
        let shutdown = shutdown_signal()?;
        println!("witness key: {}", witness.verifier_key());
        println!("Fairgate witness is serving on http://{addr}/ (POST /add-checkpoint). Ctrl-C stops it.");
        fairgate_server::witness::serve(listener, witness, shutdown).await?;
        Ok(())
    })
}

/// The rotation scheduler: a thread that checks, every tenth of the period (at most
/// hourly), whether the epoch in force is older than the period, and then rotates
/// the master key as `fairgate keys rotate` does, beside the serving registry.
struct Rotations {
    stop: std::sync::mpsc::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Rotations {
    fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}

fn rotation_schedule(dirs: &Dirs, registry: Arc<Registry>, period: jiff::SignedDuration) -> Rotations {
    let dirs = Dirs { data: dirs.data.clone(), keys: dirs.keys.clone(), database: dirs.database.clone() };
    let check = period
        .checked_div(10)
        .unwrap_or(period)
        .clamp(jiff::SignedDuration::from_secs(1), jiff::SignedDuration::from_hours(1));
    let check = std::time::Duration::try_from(check).unwrap_or(std::time::Duration::from_secs(3600));
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    let thread = std::thread::spawn(move || loop {
        match stopped.recv_timeout(check) {
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            _ => return,
        }
        match registry.rotation_due(jiff::Timestamp::now()) {
            Ok(false) => continue,
            Ok(true) => {}
            Err(e) => {
                tracing::warn!(error = %e, "could not tell whether the master key is due for rotation");
                continue;
            }
        }
        tracing::info!("the master key epoch has ended: rotating");
        match rotate_keys_quietly(&dirs, 1000) {
            Ok(report) => tracing::info!(
                old = %report.old_fingerprint,
                new = %report.new_fingerprint,
                rewrapped = report.rewrapped,
                "master key rotated on schedule; the old epoch is destroyed"
            ),
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "the scheduled rotation failed; it is tried again at the next check")
            }
        }
    });
    Rotations { stop, thread }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM. The handlers are installed when this is
/// called, not when the future is first polled.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {},
            _ = int.recv() => {},
        }
    })
}

fn retention(registry: &Registry, on: Option<&str>, dry_run: bool, json: bool) -> Result<()> {
    let on = match on {
        Some(s) => fairgate_core::error::parse_date("on", s).map_err(|e| anyhow::anyhow!("--on: {}", e.message))?,
        None => jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date(),
    };
    let report = registry.retention_run(
        jiff::Timestamp::now(),
        &fairgate_core::access::Actor::system("operator"),
        on,
        dry_run,
    )?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    for e in &report.listed {
        let when = if e.due { "due now" } else { "kept until" };
        println!("{}  {when} {}  ({})", e.subject, e.keep_until, e.rule);
    }
    if dry_run {
        let due = report.listed.iter().filter(|e| e.due).count();
        println!("dry run for {on}: {due} would be erased now; {} listed; nothing changed", report.listed.len());
    } else {
        println!("retention run for {on}: {} erased, each with a certificate (see /expungements)", report.erased);
    }
    Ok(())
}
