//! Fairgate's biometric algorithms, kept out of the pure core because they decode
//! images or compute heavily: whether a face record holds a usable portrait
//! (`portrait`), the fingerprint matcher (`fingerprint`, Minutia Cylinder-Code), the
//! generated evaluation set and its error rates (`evaluation`), and the generated
//! faces and fingerprints the demo seeds (`synthetic`). What a score means (the
//! threshold, the decision, the referral) is the core's (`fairgate_core::matching`).

pub mod evaluation;
pub mod face;
pub mod fingerprint;
pub mod index;
pub mod portrait;
pub mod synthetic;

pub use portrait::{check_portrait, Portrait, PortraitRefusal};
