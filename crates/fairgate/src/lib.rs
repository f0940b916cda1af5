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
