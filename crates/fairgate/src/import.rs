//! `fairgate import --program ID FILE`: read a legacy file (CSV with a header row,
//! or JSON lines), check every row first, and write all of it or nothing. Shows
//! rows per second and the time left; an interrupted import resumes where it
//! stopped when run again on the same file.

use std::path::Path;

use anyhow::{bail, Context, Result};
use fairgate_core::import::ImportRow;
use fairgate_store::Registry;
use sha2::Digest;

/// A parsed file: its SHA-256 (hex), its rows with their line numbers, and every
/// problem found as `FILE:LINE: message`.
pub type Parsed = (String, Vec<(u64, ImportRow)>, Vec<String>);

/// Parse a file into (line, row), or every problem as `FILE:LINE: message`.
pub fn read_rows(path: &Path) -> Result<Parsed> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let hash = sha2::Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect::<String>();
    let name = path.display().to_string();
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "csv" => {
            let mut r = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(bytes.as_slice());
            let headers =
                r.headers().with_context(|| format!("{name}: the first line must be the header row"))?.clone();
            for rec in r.records() {
                match rec {
                    Ok(rec) => {
                        let line = rec.position().map_or(0, |p| p.line());
                        match rec.deserialize::<ImportRow>(Some(&headers)) {
                            Ok(row) => rows.push((line, row)),
                            Err(e) => errors.push(format!("{name}:{line}: {e}")),
                        }
                    }
                    Err(e) => errors.push(format!("{name}:{}: {e}", e.position().map_or(0, |p| p.line()))),
                }
            }
        }
        "jsonl" | "ndjson" | "json" => {
            let text = String::from_utf8(bytes).with_context(|| format!("{name} is not UTF-8"))?;
            for (i, l) in text.lines().enumerate() {
                if l.trim().is_empty() {
                    continue;
                }
                match serde_json::from_str::<ImportRow>(l) {
                    Ok(row) => rows.push((i as u64 + 1, row)),
                    Err(e) => errors.push(format!("{name}:{}: {e}", i + 1)),
                }
            }
        }
        _ => bail!("{name}: the file must end in .csv (with a header row) or .jsonl (one JSON object per line)"),
    }
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
    let report = registry.import_rows(now, &actor, program, &hash, valid, &mut |done, _| {
        bar.set_position(done);
        true
    })?;
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
