//! `invhooks` keeps a merchant's Inveterate webhook subscriptions exactly as
//! a YAML manifest declares them.
//!
//! The modules read as the pipeline:
//! manifest files → [`manifest`] → desired state ─┐
//! Inveterate API → [`api`] → live state ─────────┴→ [`plan`] → [`render`] / [`apply`]
//!
//! The core ([`model`], [`topic`], [`manifest`] validation, [`policy`],
//! [`plan`], [`render`], [`secret`], [`callback_url`], [`delivery`],
//! [`check`]'s model, [`doctor`]'s report and list reading) is pure: no
//! network, no clock, no randomness. I/O lives at the edges: [`api`],
//! [`sandbox`], [`check::probe`], [`doctor::write`], and the CLI ([`cli`],
//! [`commands`]).

pub mod api;
pub mod apply;
pub mod callback_url;
pub mod check;
pub mod cli;
pub mod commands;
pub mod delivery;
pub mod digest;
pub mod doctor;
pub mod escape;
pub mod exit;
pub mod manifest;
pub mod model;
pub mod plan;
pub mod policy;
pub mod render;
pub mod sandbox;
pub mod saved;
pub mod secret;
pub mod select;
pub mod stop;
pub mod topic;

/// This build's version: the package version, and the git commit when
/// built from a checkout (`0.1.0 (1a2b3c4)`; see `build.rs`).
pub const VERSION: &str = env!("INVHOOKS_VERSION");

#[cfg(test)]
mod fixtures;
