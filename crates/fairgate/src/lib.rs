//! Library side of the `fairgate` binary: the synthetic demo population and the
//! benchmarks, and the log monitor, kept here so tests can call them directly.

pub mod bench;
pub mod demo;
pub mod monitor;
