//! Library side of the `fairgate` binary: the synthetic demo population and the
//! benchmarks, the log monitor and the program commands, kept here so tests can call them directly.

pub mod bench;
pub mod demo;
pub mod designations;
pub mod monitor;
pub mod program;
