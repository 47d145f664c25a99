//! A local, Inveterate-compatible server of the webhook-subscriptions API, with
//! seeded faults, deliveries and a state file (docs/sandbox.md, ARCHITECTURE.md).

mod config;
mod deliver;
mod faults;
mod keys;
mod server;
mod store;
mod wire;

pub use config::{DeliveryConfig, Faults, Ids, SandboxConfig};
pub use faults::{InjectedStats, RequestStats};
pub use server::Sandbox;

/// Locks `mutex`; a panic elsewhere never makes it unusable.
fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests;
