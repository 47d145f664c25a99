//! `invhooks check` (README "Probe callbacks"): which callback URLs to
//! probe, what a probe found, and how results read. The model and the
//! decisions are pure; [`probe`] is the network edge (DNS, TCP, TLS, one
//! HTTP exchange), [`render`] turns results into text, JSON and Markdown.

pub mod probe;
pub mod render;

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::Serialize;

use crate::model::{Location, MerchantManifest};
use crate::plan::{Change, Plan};
use crate::secret::{Keys, Masked, Masking};

/// A step of a probe, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Step {
    /// Resolving the host name.
    Dns,
    /// Opening a TCP connection.
    Tcp,
    /// The TLS handshake, certificate verified (https only).
    Tls,
    /// Sending a request and reading the status line.
    Http,
}

impl Step {
    /// How the step is named in messages: `DNS`, `TCP`, `TLS`, `HTTP`.
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Dns => "DNS",
            Step::Tcp => "TCP",
            Step::Tls => "TLS",
            Step::Http => "HTTP",
        }
    }
}

/// Why a probe (or a test event) failed: the first failing step and what
/// went wrong, e.g. `TCP: connection refused`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The step that failed.
    pub step: Step,
    /// What went wrong, lowercase, no secret.
    pub message: String,
    /// The status, when the failure is an HTTP answer (`HTTP 404`).
    pub status: Option<u16>,
}

impl Failure {
    /// A failure at `step`.
    pub fn new(step: Step, message: impl Into<String>) -> Self {
        Self {
            step,
            message: message.into(),
            status: None,
        }
    }

    /// An answer whose status means the receiver is not there.
    pub fn status(status: u16) -> Self {
        Self {
            step: Step::Http,
            message: format!("status {status}"),
            status: Some(status),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.status {
            Some(status) => write!(f, "HTTP {status}"),
            None => write!(f, "{}: {}", self.step.as_str(), self.message),
        }
    }
}

/// Whether an HTTP status means the receiver is there: anything below 500
/// except 404 and 410 (a receiver that only accepts signed POSTs still
/// answers a probe, with 401 or 405).
pub fn reachable(status: u16) -> bool {
    status < 500 && status != 404 && status != 410
}

/// A status as a probe result: reachable, or a failure at the HTTP step.
pub fn judge(status: u16) -> Result<u16, Failure> {
    if reachable(status) {
        Ok(status)
    } else {
        Err(Failure::status(status))
    }
}

/// A subscription that uses a callback URL.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct User {
    /// The merchant's label.
    pub merchant: String,
    /// Event topic.
    pub topic: String,
    /// Subscription name.
    pub name: String,
    /// Where it is declared, when known.
    pub location: Option<Location>,
}

/// One distinct callback URL and every subscription that uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callback {
    /// The URL, real value (shown masked: [`Callback::shown`]).
    pub url: String,
    /// The subscriptions delivering to it, sorted.
    pub users: Vec<User>,
    /// How it is masked: the path as written only when every entry
    /// delivering to it says `maskPathSecrets: false`.
    pub masking: Masking,
}

impl Callback {
    /// The URL as messages and reports show it. A declared URL holds no
    /// key (validation refuses one), so only its secret parts are masked.
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
            let masking = c.masking();
            let url = match c {
                Change::Create { after } => &after.callback_url,
                Change::Update { before, after, .. } if before.callback_url != after.callback_url => {
                    &after.callback_url
                }
                _ => return None,
            };
            let user = User {
                merchant: m.merchant.clone(),
                topic: c.topic().to_owned(),
                name: c.name().to_owned(),
                location: None,
            };
            Some((url.clone(), user, masking))
        })
    }))
}

fn group(entries: impl Iterator<Item = (String, User, Masking)>) -> Vec<Callback> {
    let mut by_url: BTreeMap<String, (Vec<User>, Masking)> = BTreeMap::new();
    for (url, user, masking) in entries {
        let (users, merged) = by_url.entry(url).or_insert((Vec::new(), masking));
        users.push(user);
        if masking == Masking::Full {
            *merged = Masking::Full;
        }
    }
    by_url
        .into_iter()
        .map(|(url, (mut users, masking))| {
            users.sort();
            users.dedup();
            Callback { url, users, masking }
        })
        .collect()
}

/// What a test event POSTed to a callback came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The subscription the event was for.
    pub user: User,
    /// The receiver's status (2xx accepted), or why there was none.
    pub result: Result<u16, Failure>,
}

impl Delivery {
    /// Whether the receiver accepted the event (a 2xx answer).
    pub fn accepted(&self) -> bool {
        matches!(self.result, Ok(s) if (200..300).contains(&s))
    }
}

/// What probing one callback URL found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The URL and its users.
    pub callback: Callback,
    /// The HTTP status of the probe, or the first failing step.
    pub result: Result<u16, Failure>,
    /// From the first step to the answer (or the failure).
    pub latency: Duration,
    /// Test events sent (`--send-test-event`), one per user.
    pub deliveries: Vec<Delivery>,
}

impl Outcome {
    /// Reachable, and every test event sent was accepted.
    pub fn ok(&self) -> bool {
        self.result.is_ok() && self.deliveries.iter().all(Delivery::accepted)
    }
}

#[cfg(test)]
mod tests;
