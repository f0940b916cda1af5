//! `fairgate import --program ID FILE`: read a legacy file (CSV with a header row,
//! or JSON lines), check every row first, and write all of it or nothing. Shows
//! rows per second and the time left; an interrupted import resumes where it
//! stopped when run again on the same file.

use std::path::Path;

use anyhow::{bail, Context, Result};
use fairgate_core::import::{parse_rows, FileKind, ImportRow};
use fairgate_store::store::StoreError;
use fairgate_store::{Registry, RegistryError};

/// How many times an import resumes after another process's write got in the way.
const CONFLICT_RETRIES: u32 = 50;
use sha2::Digest;

/// A parsed file: its SHA-256 (hex), its rows with their line numbers, and every
/// problem found as `FILE:LINE: message`.
pub type Parsed = (String, Vec<(u64, ImportRow)>, Vec<String>);

/// Parse a file into (line, row), or every problem as `FILE:LINE: message`.
pub fn read_rows(path: &Path) -> Result<Parsed> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let hash = sha2::Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect::<String>();
    let name = path.display().to_string();
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    let kind = match ext.as_str() {
        "csv" => FileKind::Csv,
        "jsonl" | "ndjson" | "json" => FileKind::JsonLines,
        _ => bail!("{name}: the file must end in .csv (with a header row) or .jsonl (one JSON object per line)"),
    };
    let (rows, errors) = parse_rows(&name, kind, &bytes).map_err(anyhow::Error::msg)?;
    Ok((hash, rows, errors))
}

/// Create `path` for the access codes: a new file (never overwrite one), readable
/// by its owner only, since each line is a credential to someone's records.
fn codes_file(path: &Path) -> Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path).with_context(|| format!("--access-codes: cannot create {} (it must not exist yet)", path.display()))
}

pub fn run(registry: &Registry, program: &str, path: &Path, user: &str, codes: Option<&Path>) -> Result<()> {
    let actor = crate::account(registry, user, "--as")?;
    // Before anything is written, so a bad path costs nothing.
    let mut codes_out = codes.map(codes_file).transpose()?;
    let (hash, rows, mut errors) = read_rows(path)?;
    let now = jiff::Timestamp::now();
    let name = path.display().to_string();
    let mut valid = Vec::with_capacity(rows.len());
    for (line, row) in rows {
        match row.validate(&registry.places(), now) {
            Ok((s, r)) => valid.push((line, s, r)),
            Err(e) => {
                for fe in e.0 {
                    errors.push(format!("{name}:{line}: {}: {}", fe.field, fe.message));
                }
            }
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.split(':').nth(1).and_then(|n| n.parse::<u64>().ok()).unwrap_or(0));
        for e in &errors {
            eprintln!("{e}");
        }
        bail!(
            "{} problem(s) in {name}: nothing was written; correct the rows above and run the import again",
            errors.len()
        );
    }
    let bar = crate::progress_bar(valid.len() as u64, "importing");
    // A server beside this command writes too: when it appends while a batch is
    // being committed, the batch is refused (nothing of it is written) and the
    // import resumes from the last batch written, as a second run would.
    let total = valid.len() as u64;
    let through = registry.import_through(&hash)?;
    let before = valid.iter().filter(|(line, _, _)| *line <= through).count() as u64;
    let mut resumed = 0;
    let mut report = loop {
        match registry.import_rows(now, &actor, program, &hash, valid.clone(), &mut |done, _| {
            bar.set_position(done);
            true
        }) {
            Ok(r) => break r,
            Err(RegistryError::Store(StoreError::Conflict { .. })) if resumed < CONFLICT_RETRIES => {
                resumed += 1;
                bar.println("another process wrote meanwhile: resuming the import from the last batch written");
            }
            Err(e) => return Err(e.into()),
        }
    };
    // Rows written by a pass that was then refused count as written by this command.
    report.already = before;
    report.written = total - before;
    bar.finish_and_clear();
    if let Some(out) = codes_out.as_mut() {
        use std::io::Write;
        let mut w = std::io::BufWriter::new(out);
        writeln!(w, "line,registration_number,access_code")?;
        for (line, number, code) in &report.access_codes {
            writeln!(w, "{line},{number},{code}")?;
        }
        w.flush()?;
        eprintln!("wrote {} portal access code(s) to {}", report.access_codes.len(), codes.unwrap_or(path).display());
    }
    println!(
        "imported {} row(s) into {program}: {} new people, {} rows joined people already known by document number{}",
        report.written,
        report.subjects_created,
        report.merged,
        if report.already > 0 {
            format!("; {} row(s) were already written by an earlier run", report.already)
        } else {
            String::new()
        }
    );
    Ok(())
}
