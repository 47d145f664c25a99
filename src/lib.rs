//! `invhooks` keeps a merchant's Inveterate webhook subscriptions exactly as
//! a YAML manifest declares them: [`manifest`] and [`api`] give the desired
//! and the live state, [`plan`] diffs them, [`render`] shows it, [`apply`]
//! makes it. ARCHITECTURE.md maps the rest and where I/O may happen.

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

/// This build's version: `0.1.0 (1a2b3c4)` from a checkout (`build.rs`).
pub const VERSION: &str = env!("INVHOOKS_VERSION");

#[cfg(test)]
mod fixtures;
