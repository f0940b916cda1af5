//! Fairgate's biometric algorithms, kept out of the pure core because they decode
//! images: whether a face record holds a usable portrait (`portrait`), and the
//! generated faces and fingerprints the demo seeds (`synthetic`). Matching comes
//! here too (see the matching issue).

pub mod portrait;
pub mod synthetic;

pub use portrait::{check_portrait, Portrait, PortraitRefusal};
