//! Shared by the binary's tests: a served `fairgate` child process.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

/// A served child process, killed if the test fails before stopping it (a live
/// server would hold the test's output open and hang the run).
pub struct Serving(pub std::process::Child);

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start `fairgate --data DIR/data --keys DIR/keys serve --listen 127.0.0.1:0 EXTRA…` and wait until it
/// serves. Returns the child, its base URL (ending in `/`) and everything it printed
/// until then; its later output is read and dropped, as a terminal would.
pub fn serve(data: &Path, extra: &[&str]) -> (Serving, String, Vec<String>) {
    let mut child = Serving(
        Command::new(env!("CARGO_BIN_EXE_fairgate"))
            .arg("--data")
            .arg(data.join("data"))
            .arg("--keys")
            .arg(data.join("keys"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    let url = loop {
        let line = lines.next().expect("serve exited before it served").unwrap();
        printed.push(line.clone());
        if let Some(rest) = line.strip_prefix("Fairgate is serving on ") {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    (child, url, printed)
}
