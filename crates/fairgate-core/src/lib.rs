//! Fairgate's domain core: the types of the domain (subjects, travel documents,
//! registrations, interviews, crossings, places, events) and the pure rules that
//! validate and relate them.
//!
//! This crate does no I/O, never reads the clock, never draws randomness and is not
//! async. Callers pass in "now", random bytes and time zones, so every rule can be
//! tested with fixed inputs.

pub mod access;
pub mod an2k;
pub mod appointment;
pub mod capture;
pub mod cbeff;
pub mod correction;
pub mod crossing;
pub mod delivery;
pub mod designation;
pub mod document;
pub mod error;
pub mod event;
pub mod expungement;
pub mod face;
pub mod finger_image;
pub mod i18n;
pub mod ids;
pub mod import;
pub mod law_enforcement;
pub mod matching;
pub mod minutiae;
pub mod mrz;
pub mod obligation;
pub mod place;
pub mod plan;
pub mod policy;
pub mod program;
pub mod record;
pub mod registration;
pub mod report;
pub mod retention;
pub mod stay;
pub mod subject;
pub mod timeline;

pub use error::{FieldError, Invalid};
