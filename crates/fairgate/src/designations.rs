//! `fairgate designations stats`: designation rates per officer and per place, by
//! nationality and sex, for auditors watching for profiling.

use anyhow::Result;

use fairgate_core::designation::{Stats, UnitStats};
use fairgate_store::Registry;

#[derive(clap::Subcommand)]
pub enum DesignationsCommand {
    /// Designation rates per officer and per place, by nationality and sex. A group
    /// is flagged when it has 30 or more people, is designated at least 1.25 times as
    /// often as the rest, and p < 0.01. Groups under 10 people are not shown.
    Stats {
        /// The auditor account acting.
        #[arg(long = "as", value_name = "USER")]
        user: String,
        #[arg(long)]
        json: bool,
    },
}

fn unit_text(kind: &str, u: &UnitStats, name: &str, out: &mut String) {
    out.push_str(&format!(
        "{kind} {name}: {} designated of {} recorded ({:.1} %){}\n",
        u.designated,
        u.encountered,
        u.rate * 100.0,
        if u.flagged { "  FLAGGED" } else { "" }
    ));
    for g in &u.groups {
        let ratio = g.ratio_to_rest.map_or("-".to_string(), |r| format!("{r:.2}x"));
        out.push_str(&format!(
            "    {:12} {:10} {:>6} {:>6} {:>6.1}% {:>8} p={:.2e}{}\n",
            g.attribute,
            g.value,
            g.population,
            g.selected,
            g.rate * 100.0,
            ratio,
            g.p_value,
            if g.flagged { "  FLAGGED" } else { "" }
        ));
    }
}

/// The statistics as text, with officers named by account where known.
pub fn stats_text(s: &Stats, name_of: &dyn Fn(&str) -> String) -> String {
    let mut out = String::new();
    for u in &s.officers {
        unit_text("officer", u, &name_of(&u.unit), &mut out);
    }
    for u in &s.places {
        unit_text("place", u, &u.unit, &mut out);
    }
    out.push_str(if s.flagged {
        "FLAGGED: at least one officer or place designates one group far more often than the rest.\n"
    } else {
        "nothing flagged\n"
    });
    out
}

pub fn run(registry: &Registry, cmd: DesignationsCommand) -> Result<()> {
    let DesignationsCommand::Stats { user, json } = cmd;
    let actor = crate::account(registry, &user, "--as")?;
    let stats = registry.designation_stats(&actor)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&stats)?);
    } else {
        let users = registry.account_names()?;
        let name_of = |id: &str| users.iter().find(|(i, _)| i == id).map_or(id.to_string(), |(_, n)| n.clone());
        print!("{}", stats_text(&stats, &name_of));
    }
    Ok(())
}
