//! `fairgate places`: list, add, change and close ports and offices (ledger events,
//! by an administrator account). A place is given as a JSON file with the fields of
//! `POST /places` (docs/offices.md); `add --demo` adds the demo's synthetic ones.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use fairgate_core::place::{ClosureInput, Place, PlaceInput, PlaceKind};
use fairgate_store::Registry;

#[derive(clap::Subcommand)]
pub enum PlacesCommand {
    /// Every port and office, with hours, desks, service area and closures.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Add a port or office from a JSON file (the body of POST /places), or the
    /// demo's eight ports and three offices with --demo.
    Add {
        #[arg(required_unless_present = "demo")]
        file: Option<PathBuf>,
        /// Add the demo's synthetic ports and offices (those not there yet).
        #[arg(long, conflicts_with = "file")]
        demo: bool,
        /// The administrator account acting.
        #[arg(long = "as", value_name = "USER")]
        user: String,
    },
    /// Change a place from a JSON file: its whole definition (closures stay).
    Edit {
        file: PathBuf,
        #[arg(long = "as", value_name = "USER")]
        user: String,
    },
    /// Close a place from one day until another (inclusive), or for good without
    /// --until, with the reason published beside it.
    Close {
        code: String,
        /// YYYY-MM-DD, the first day closed.
        #[arg(long)]
        from: String,
        /// YYYY-MM-DD, the last day closed; leave out to close for good.
        #[arg(long)]
        until: Option<String>,
        #[arg(long)]
        reason: String,
        #[arg(long = "as", value_name = "USER")]
        user: String,
    },
}

fn read_input(file: &Path) -> Result<PlaceInput> {
    let text = std::fs::read_to_string(file).with_context(|| format!("{}: cannot read it", file.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{}: not a place (see docs/offices.md for the fields)", file.display()))
}

fn invalid(e: fairgate_store::RegistryError) -> anyhow::Error {
    match e {
        fairgate_store::RegistryError::Invalid(i) => anyhow::anyhow!(
            "{}",
            i.0.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("\n")
        ),
        other => other.into(),
    }
}

/// One line per place, then its closures.
pub fn list_text(places: &[Place]) -> String {
    let mut out = String::new();
    for p in places {
        let kind = match p.kind {
            PlaceKind::Port => "port",
            PlaceKind::Office => "office",
        };
        out.push_str(&format!("{:8} {:6} {} ({})\n", p.code, kind, p.name, p.zone));
        if p.kind == PlaceKind::Office {
            let days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
            let hours: Vec<String> =
                p.hours.iter().zip(days).filter_map(|(h, d)| h.map(|h| format!("{d} {h}"))).collect();
            out.push_str(&format!(
                "         {}; {} desk(s); {}; serves {}; minutes: registration {}, re-registration {}, interview {}\n",
                p.address,
                p.desks,
                hours.join(", "),
                p.service_area.join(" "),
                p.minutes.registration,
                p.minutes.re_registration,
                p.minutes.interview
            ));
        }
        for c in &p.closures {
            let until = c.until.map_or("for good".to_string(), |u| format!("to {u}"));
            out.push_str(&format!("         closed {} {}: {}\n", c.from, until, c.reason));
        }
    }
    out
}

pub fn run(registry: &Registry, cmd: PlacesCommand) -> Result<()> {
    let now = jiff::Timestamp::now();
    match cmd {
        PlacesCommand::List { json } => {
            let places = registry.place_list()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&places)?);
            } else if places.is_empty() {
                println!("no places yet: an administrator adds them with `fairgate places add FILE --as USER`");
            } else {
                print!("{}", list_text(&places));
            }
        }
        PlacesCommand::Add { file, demo, user } => {
            let actor = crate::account(registry, &user, "--as")?;
            if demo {
                let n = registry.add_places(now, &actor, &fairgate_core::place::default_places()).map_err(invalid)?;
                println!("added {n} demo place(s)");
            } else if let Some(file) = file {
                let input = read_input(&file)?;
                let r = registry.set_place(now, &actor, &input, false).map_err(invalid)?;
                println!("added {} (leaf {})", input.code.trim().to_uppercase(), r.leaf_index);
            }
        }
        PlacesCommand::Edit { file, user } => {
            let actor = crate::account(registry, &user, "--as")?;
            let input = read_input(&file)?;
            let r = registry.set_place(now, &actor, &input, true).map_err(invalid)?;
            println!("changed {} (leaf {})", input.code.trim().to_uppercase(), r.leaf_index);
        }
        PlacesCommand::Close { code, from, until, reason, user } => {
            let actor = crate::account(registry, &user, "--as")?;
            let input = ClosureInput { from, until, reason };
            let r = registry.close_place(now, &actor, &code, &input).map_err(invalid)?;
            println!(
                "closed {} (leaf {}); {} appointment(s) moved to the nearest open office, with new notices",
                code.trim().to_uppercase(),
                r.receipt.leaf_index,
                r.moved
            );
        }
    }
    Ok(())
}
