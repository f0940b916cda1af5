//! Library side of the `fairgate` binary: the synthetic demo population, the log
//! monitor, the legacy-file reader and the commands, kept here so tests (and
//! `fairgate-bench`) can call them directly.

pub mod biometrics;
pub mod compliance;
pub mod demo;
pub mod designations;
pub mod expunge;
pub mod import;
pub mod monitor;
pub mod places;
pub mod program;
pub mod witness;

/// A progress bar on standard error (hidden when it is not a terminal).
pub fn progress_bar(len: u64, what: &str) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    let bar = if std::io::stderr().is_terminal() {
        indicatif::ProgressBar::new(len)
    } else {
        indicatif::ProgressBar::hidden()
    };
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{msg:12} [{bar:40}] {pos}/{len} ({per_sec}, {eta} left)")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_string());
    bar
}

/// The account a command acts as (`--as USER`, or another flag), as an actor.
/// Whether it may do what it asks is the registry's answer (the core's policy).
pub fn account(
    registry: &fairgate_store::Registry,
    name: &str,
    flag: &str,
) -> anyhow::Result<fairgate_core::access::Actor> {
    let a = registry
        .account(name)?
        .ok_or_else(|| anyhow::anyhow!("{flag}: there is no user named {name}: see `fairgate user list`"))?;
    Ok(a.actor())
}

/// [`account`], refused unless it has `role` (for flags that name a second
/// person, such as `--approved-by`, so the message names the flag).
pub fn account_with_role(
    registry: &fairgate_store::Registry,
    name: &str,
    role: fairgate_core::access::Role,
    flag: &str,
) -> anyhow::Result<fairgate_core::access::Actor> {
    let a = account(registry, name, flag)?;
    if a.role != role {
        anyhow::bail!("{flag}: {name} is {}, and this needs the {} role", a.role.as_str(), role.as_str());
    }
    Ok(a)
}
