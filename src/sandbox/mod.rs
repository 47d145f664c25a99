//! The sandbox: a local, Inveterate-compatible server of the
//! webhook-subscriptions API (`inveterate-api.md`), for the end-to-end
//! tests, `invhooks demo` and `invhooks sandbox`, with seeded fault
//! injection, event deliveries and an optional state file. What users see
//! is in README ("Rehearse against the sandbox", "Fault injection", "Test
//! your receiver in CI") and `docs/openapi.yaml`; how it works, and the
//! choices it makes where the real API is silent, in ARCHITECTURE.md
//! "Sandbox".

mod config;
mod deliver;
mod faults;
mod http;
mod injector;
mod keys;
mod lies;
mod persist;
mod request;
mod server;
mod state;
mod stats;
#[cfg(test)]
mod tests;
mod wire;

pub use config::{DeliveryConfig, Ids, SandboxConfig};
pub use faults::{parse_probability, parse_rate_limit, Faults};
pub use server::Sandbox;
pub use stats::{InjectedStats, RequestStats};
