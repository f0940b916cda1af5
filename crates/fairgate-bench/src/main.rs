//! `fairgate-bench`: run one of Fairgate's benchmarks with its baseline and print the
//! figures (BENCHMARKS.md says what each measures and records the results).

use clap::{Parser, Subcommand};
use fairgate_bench as bench;

/// Fairgate's benchmarks. Each prints its figures next to a baseline measured in the
/// same run; `--json` prints one JSON object instead.
#[derive(Parser)]
#[command(name = "fairgate-bench", version)]
struct Cli {
    #[command(subcommand)]
    command: BenchCommand,
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Append crossing events (encrypted, hashed, projected, committed) and compare
    /// with a bare SQLite insert of rows of the same size.
    Ingest(bench::IngestArgs),
    /// Build a log of synthetic leaves, then time inclusion proofs (from the store
    /// and over HTTP) and `audit verify`, against bare SHA-256 on this machine.
    Log(bench::LogArgs),
    /// Time one stay calculation over a long history, against the naive day-by-day one.
    Stay(bench::StayArgs),
    /// Build a population of travellers, then time the overstay sweep over all of
    /// them, against the same sweep with the naive day-by-day calculator.
    Sweep(bench::SweepArgs),
    /// The daily compliance run over a whole population, against reading the rows alone.
    Compliance(bench::ComplianceArgs),
    /// A legacy import of synthetic rows, against checking them alone.
    Import(bench::ImportArgs),
    /// A program-wide expungement of a population, against expunging people one at a time.
    Expunge(bench::ExpungeArgs),
    /// Read machine-readable zones (every check digit and field), against splitting
    /// the same zones into fields by position alone.
    Mrz(bench::MrzArgs),
    /// Parse and seal ten-finger ISO/IEC 19794-2 minutiae records, against copying
    /// the same bytes.
    Biometrics(bench::BiometricsArgs),
    /// The capacity plan of a call-in over many offices (booking, shortfalls, the
    /// queue simulation and a phased schedule), against the same plan without the
    /// simulation.
    Plan(bench::PlanArgs),
    /// One-finger 1:1 fingerprint comparison (MCC, LSS-R) over the generated set,
    /// per comparison, against computing the cylinder-pair matrix alone.
    Matching(bench::MatchingArgs),
    /// 1:N at enrolment at scale: a gallery of a million people (a face and two
    /// fingers each), the exact face scan against a plain scalar loop, the finger
    /// shortlist and its MCC, and whole registrations through the registry.
    Identification(bench::IdentificationArgs),
    /// The web desks' budgets at demo scale: every page's server-side time over
    /// loopback (p50 and max; budget 50 ms) and what a first visit transfers beyond
    /// the cached design-system files (budget 150 KB), against `GET /healthz`.
    Pages(bench::PagesArgs),
    /// An open-loop load test of a real `fairgate serve` over loopback: crossings,
    /// logged reads and passport look-ups at fixed arrival rates over a prepared
    /// database (a million people by default), each beside `GET /healthz` at the
    /// same rate; latency from each request's intended send time.
    Http(bench::http::HttpArgs),
}

fn main() {
    let result = match Cli::parse().command {
        BenchCommand::Ingest(args) => bench::ingest(&args),
        BenchCommand::Log(args) => bench::log(&args),
        BenchCommand::Stay(args) => bench::stay(&args),
        BenchCommand::Sweep(args) => bench::sweep(&args),
        BenchCommand::Compliance(args) => bench::compliance(&args),
        BenchCommand::Import(args) => bench::import(&args),
        BenchCommand::Expunge(args) => bench::expunge(&args),
        BenchCommand::Mrz(args) => bench::mrz(&args),
        BenchCommand::Biometrics(args) => bench::biometrics(&args),
        BenchCommand::Plan(args) => bench::plan(&args),
        BenchCommand::Matching(args) => bench::matching(&args),
        BenchCommand::Identification(args) => bench::identification(&args),
        BenchCommand::Pages(args) => bench::pages(&args),
        BenchCommand::Http(args) => bench::http::http(&args),
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
