//! `invhooks check` (docs/commands/check.md): which callback URLs to probe,
//! how an answer is judged, what probing found. Pure but for [`probe`].

pub mod probe;
pub mod render;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

use serde::Serialize;

use crate::model::{Location, MerchantManifest};
use crate::plan::{Fields, Plan};
use crate::secret::{Keys, Masked, Masking};

/// A step of a probe, in the order they run (TLS for https only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Step {
    Dns,
    Tcp,
    Tls,
    Http,
}

/// Why a probe or a test event failed (no secret: `TCP: connection refused`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepFailure {
    #[error("{}: {_1}", ["DNS", "TCP", "TLS", "HTTP"][*_0 as usize])]
    At(Step, String),
    #[error("HTTP {_0}")]
    Status(u16),
}

impl StepFailure {
    pub fn step(&self) -> Step {
        match self {
            Self::At(step, _) => *step,
            Self::Status(_) => Step::Http,
        }
    }
}

/// A status as a probe's result: the receiver is there for anything below
/// 500 but 404 and 410 (one that only takes signed POSTs answers 401 or 405).
pub fn judge(status: u16) -> Result<u16, StepFailure> {
    let reachable = status < 500 && status != 404 && status != 410;
    reachable.then_some(status).ok_or(StepFailure::Status(status))
}

/// A subscription that uses a callback URL (`location`: not for a plan's).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct User {
    pub merchant: String,
    pub topic: String,
    pub name: String,
    #[serde(skip)]
    pub location: Option<Location>,
}

impl fmt::Display for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.merchant, self.topic, self.name)
    }
}

/// One distinct callback URL (real) and its subscriptions, sorted; its path
/// shown only when every one of them says `maskPathSecrets: false`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callback {
    pub url: String,
    pub users: Vec<User>,
    pub masking: Masking,
}

impl Callback {
    /// The URL as reports show it: no key to mask (validation refuses one).
    pub fn shown(&self) -> String {
        Masked::url(&self.url, self.masking, &Keys::none()).into_string()
    }
}

/// Every desired callback URL of `manifests`, each once, sorted by URL.
pub fn callbacks<'a>(manifests: impl IntoIterator<Item = &'a MerchantManifest>) -> Vec<Callback> {
    group(manifests.into_iter().flat_map(|m| {
        m.subscriptions.iter().map(|s| {
            let user = User {
                merchant: m.label.clone(),
                topic: s.topic.clone(),
                name: s.name.clone(),
                location: Some(s.location.clone()),
            };
            (s.callback_url.clone(), user, s.masking)
        })
    }))
}

/// The callback URLs `plan` would start delivering to: those of creates,
/// and of updates that change the URL.
pub fn planned_callbacks(plan: &Plan) -> Vec<Callback> {
    group(plan.merchants.iter().flat_map(|m| {
        m.changes.iter().filter_map(|c| {
            let moved = |after: &&Fields| c.before().is_none_or(|b| b.callback_url != after.callback_url);
            let url = &c.after().filter(moved)?.callback_url;
            let user = User {
                merchant: m.merchant.clone(),
                topic: c.topic().to_owned(),
                name: c.name().to_owned(),
                location: None,
            };
            Some((url.clone(), user, c.masking()))
        })
    }))
}

fn group(entries: impl Iterator<Item = (String, User, Masking)>) -> Vec<Callback> {
    let mut by_url: BTreeMap<String, (BTreeSet<User>, Masking)> = BTreeMap::new();
    for (url, user, masking) in entries {
        let (users, shared) = by_url.entry(url).or_insert((BTreeSet::new(), masking));
        users.insert(user);
        if masking == Masking::Full {
            *shared = Masking::Full;
        }
    }
    let callbacks = by_url.into_iter().map(|(url, (users, masking))| {
        let users = users.into_iter().collect();
        Callback { url, users, masking }
    });
    callbacks.collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub user: User,
    pub result: Result<u16, StepFailure>,
}

impl Delivery {
    pub fn accepted(&self) -> bool {
        matches!(self.result, Ok(s) if (200..300).contains(&s))
    }
}

/// What checking one callback URL found (`deliveries`: `--send-test-event`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackReport {
    pub callback: Callback,
    pub result: Result<u16, StepFailure>,
    pub latency: Duration,
    pub deliveries: Vec<Delivery>,
}

impl CallbackReport {
    /// Reachable, and every test event sent was accepted.
    pub fn ok(&self) -> bool {
        self.result.is_ok() && self.deliveries.iter().all(Delivery::accepted)
    }
}

#[cfg(test)]
mod tests;
