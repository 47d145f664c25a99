//! A fake [`Remote`] for tests: an in-memory model of one merchant's live
//! state with scriptable faults, a visibility delay for creates and other
//! writers, on tokio's clock (so tests run with paused time and are
//! deterministic). It records every call. Its ids fall as they are made
//! (`new_9999`, `new_9998`, …): the newest sorts first, so no rule that
//! picks by id order can pass its tests.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use super::Remote;
use crate::api::envelope::BodyError;
use crate::api::{ApiError, Failure, Method};
use crate::model::LiveSubscription;
use crate::plan::{Change, Fields};

/// One merchant's subscriptions, changed the way the API changes them.
#[derive(Debug, Clone, Default)]
pub struct Model {
    subscriptions: BTreeMap<String, LiveSubscription>,
    made: u64,
}

impl Model {
    /// A model holding `live`.
    pub fn new(live: &[LiveSubscription]) -> Self {
        Self {
            subscriptions: live.iter().map(|s| (s.id.clone(), s.clone())).collect(),
            made: 0,
        }
    }

    /// Adds a subscription with a fresh id (`new_9999`, `new_9998`, …),
    /// returned.
    pub fn create(&mut self, topic: &str, name: &str, url: &str) -> LiveSubscription {
        self.made += 1;
        let id = format!("new_{:04}", 10_000 - self.made);
        let sub = LiveSubscription {
            id: id.clone(),
            topic: topic.into(),
            name: name.into(),
            callback_url: url.into(),
        };
        self.subscriptions.insert(id, sub.clone());
        sub
    }

    /// Sets name and URL of `id`; false when there is no such id.
    pub fn update(&mut self, id: &str, name: &str, url: &str) -> bool {
        self.subscriptions.get_mut(id).is_some_and(|s| {
            s.name = name.into();
            s.callback_url = url.into();
            true
        })
    }

    /// Removes `id`; false when there is no such id.
    pub fn delete(&mut self, id: &str) -> bool {
        self.subscriptions.remove(id).is_some()
    }

    /// Makes `change`'s call (a create gets a fresh id).
    pub fn apply(&mut self, change: &Change) -> bool {
        match change {
            Change::Create { after } => {
                self.create(&after.topic, &after.name, &after.callback_url);
                true
            }
            Change::Update { id, after, .. } => self.update(id, &after.name, &after.callback_url),
            Change::Delete { id, .. } => self.delete(id),
        }
    }

    /// Every subscription, by id.
    pub fn all(&self) -> Vec<LiveSubscription> {
        self.subscriptions.values().cloned().collect()
    }
}

/// What the fake does to one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status, nothing written.
    Before(u16),
    /// Write, then answer this status (a 500, or a proxy's 503 after it
    /// forwarded the request): the caller cannot know it happened.
    After(u16),
    /// Write, then the connection drops.
    DropAfter,
    /// A list that cannot be trusted to be whole (a repeated id, a
    /// pagination hint): an error, nothing written.
    Untrusted,
}

/// A call the fake received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The method.
    pub method: Method,
    /// The id it named (update, delete) or was given (create).
    pub id: Option<String>,
    /// When it arrived, since the fake was made.
    pub at: Duration,
}

#[derive(Debug)]
struct Inner {
    model: Model,
    /// Creates not yet visible to `list`, and when they become visible.
    hidden: Vec<(Instant, String)>,
    script: HashMap<Method, VecDeque<Fault>>,
    calls: Vec<Call>,
    in_flight: usize,
    max_in_flight: usize,
}

/// The fake remote.
#[derive(Debug)]
pub struct Fake {
    inner: Mutex<Inner>,
    started: Instant,
    /// How long each call takes.
    pub latency: Duration,
    /// How long a create stays invisible to `list`.
    pub visibility: Duration,
    /// How the server rewrites a name before storing it.
    pub normalise_name: fn(&str) -> String,
    /// Whether a create's answer holds the new id (the API's docs leave it open).
    pub answers_ids: bool,
}

impl Fake {
    /// A fake holding `live`, no faults, no latency, creates visible at once.
    pub fn new(live: &[LiveSubscription]) -> Self {
        Self {
            inner: Mutex::new(Inner {
                model: Model::new(live),
                hidden: Vec::new(),
                script: HashMap::new(),
                calls: Vec::new(),
                in_flight: 0,
                max_in_flight: 0,
            }),
            started: Instant::now(),
            latency: Duration::ZERO,
            visibility: Duration::ZERO,
            normalise_name: str::to_owned,
            answers_ids: true,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The next calls of `method` meet `faults`, in order.
    pub fn script(&self, method: Method, faults: &[Fault]) {
        self.lock()
            .script
            .entry(method)
            .or_default()
            .extend(faults.iter().copied());
    }

    /// Another writer changes the state, now.
    pub fn other_writer<T>(&self, change: impl FnOnce(&mut Model) -> T) -> T {
        change(&mut self.lock().model)
    }

    /// Every subscription, visible or not yet.
    pub fn state(&self) -> Vec<LiveSubscription> {
        self.lock().model.all()
    }

    /// The calls received so far.
    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    /// How many calls of `method` were received.
    pub fn count(&self, method: Method) -> usize {
        self.lock().calls.iter().filter(|c| c.method == method).count()
    }

    /// The most calls that were in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.lock().max_in_flight
    }

    /// Runs one call: latency, the scripted fault, the write.
    async fn call<T>(
        &self,
        method: Method,
        write: impl FnOnce(&mut Inner) -> Result<(T, Option<String>), u16>,
    ) -> Result<T, ApiError> {
        {
            let mut inner = self.lock();
            inner.in_flight += 1;
            inner.max_in_flight = inner.max_in_flight.max(inner.in_flight);
        }
        tokio::time::sleep(self.latency).await;
        let mut inner = self.lock();
        inner.in_flight -= 1;
        let fault = inner.script.get_mut(&method).and_then(VecDeque::pop_front);
        // A fault before the write leaves the state as it was.
        let written = match fault {
            Some(Fault::Before(status)) => Err(status),
            Some(Fault::Untrusted) => Err(0),
            _ => write(&mut inner),
        };
        let id = written.as_ref().ok().and_then(|(_, id)| id.clone());
        let at = self.started.elapsed();
        inner.calls.push(Call {
            method: method.clone(),
            id,
            at,
        });
        match (written, fault) {
            (_, Some(Fault::Untrusted)) => {
                let says = "the API returned 1 of 2 subscriptions (`total`: 2)".to_owned();
                Err(error(method, Failure::Body(BodyError::Incomplete(says))))
            }
            (_, Some(Fault::After(status))) => Err(error(method.clone(), status_failure(status))),
            (_, Some(Fault::DropAfter)) => Err(error(method.clone(), Failure::Dropped("fake drop".into()))),
            (Ok((value, _)), _) => Ok(value),
            (Err(status), _) => Err(error(method.clone(), status_failure(status))),
        }
    }
}

fn status_failure(status: u16) -> Failure {
    Failure::Status {
        status: reqwest::StatusCode::from_u16(status).unwrap_or(reqwest::StatusCode::INTERNAL_SERVER_ERROR),
        message: Some("fake".into()),
        retry_after: None,
        gave_up: None,
    }
}

fn error(method: Method, failure: Failure) -> ApiError {
    ApiError {
        method,
        path: "/v2.0/admin/webhook-subscriptions".into(),
        failure,
    }
}

impl Remote for Fake {
    type Error = ApiError;

    async fn list(&self) -> Result<Vec<LiveSubscription>, ApiError> {
        self.call(Method::GET, |inner| {
            let now = Instant::now();
            let hidden: Vec<&String> = inner
                .hidden
                .iter()
                .filter(|(from, _)| *from > now)
                .map(|(_, id)| id)
                .collect();
            let visible = inner
                .model
                .all()
                .into_iter()
                .filter(|s| !hidden.contains(&&s.id))
                .collect();
            Ok((visible, None))
        })
        .await
    }

    async fn create(&self, new: &Fields) -> Result<Option<String>, ApiError> {
        let (visibility, name) = (self.visibility, (self.normalise_name)(&new.name));
        self.call(Method::POST, |inner| {
            let id = inner.model.create(&new.topic, &name, &new.callback_url).id;
            inner.hidden.push((Instant::now() + visibility, id.clone()));
            Ok((self.answers_ids.then(|| id.clone()), Some(id)))
        })
        .await
    }

    async fn update(&self, id: &str, new: &Fields) -> Result<(), ApiError> {
        self.call(Method::PUT, |inner| {
            match inner.model.update(id, &new.name, &new.callback_url) {
                true => Ok(((), Some(id.to_owned()))),
                false => Err(400),
            }
        })
        .await
    }

    async fn delete(&self, id: &str, _topic: &str) -> Result<(), ApiError> {
        self.call(Method::DELETE, |inner| match inner.model.delete(id) {
            true => Ok(((), Some(id.to_owned()))),
            false => Err(400),
        })
        .await
    }
}
