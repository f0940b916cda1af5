//! Library side of the `fairgate` binary: the synthetic demo population and the
//! benchmarks, the log monitor and the program commands, kept here so tests can call them directly.

pub mod bench;
pub mod compliance;
pub mod demo;
pub mod designations;
pub mod expunge;
pub mod import;
pub mod monitor;
pub mod program;

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
pub fn account(
    store: &dyn fairgate_store::Store,
    name: &str,
    flag: &str,
) -> anyhow::Result<fairgate_core::access::Actor> {
    let a = store
        .user_by_name(name)?
        .ok_or_else(|| anyhow::anyhow!("{flag}: there is no user named {name}: see `fairgate user list`"))?;
    let role: fairgate_core::access::Role =
        a.role.parse().map_err(|e: String| anyhow::anyhow!("{flag}: the stored role of {name}: {e}"))?;
    Ok(fairgate_core::access::Actor::new(a.id, role, a.agency))
}

/// [`account`], refused unless it has `role`.
pub fn account_with_role(
    store: &dyn fairgate_store::Store,
    name: &str,
    role: fairgate_core::access::Role,
    flag: &str,
) -> anyhow::Result<fairgate_core::access::Actor> {
    let a = account(store, name, flag)?;
    if a.role != role {
        anyhow::bail!("{flag}: {name} is {}, and this needs the {} role", a.role.as_str(), role.as_str());
    }
    Ok(a)
}
