//! `doctor --write`: create, rename and delete (twice) a throwaway through
//! [`Remote`], timing GET. Every write names an id held by [`Ours`]; it always
//! ends by deleting them and saying what is left.

use std::collections::BTreeSet;
use std::time::Duration;

use tokio::time::Instant;

use super::{list::REPORT, Check, Measured};
use crate::api::ApiError;
use crate::apply::{ApplyOptions, CallError as _, Remote, Stop};
use crate::model::LiveSubscription;
use crate::plan::Fields;
use crate::secret::Masking;

/// How often the list is read while waiting for GET to show a change.
const POLL: Duration = Duration::from_millis(250);

/// The throwaway, and the ids it learned, saw listed and deleted.
#[derive(Debug, Clone, Default)]
pub struct Ours {
    pub name: String,
    renamed: String,
    topic: String,
    url: String,
    ids: BTreeSet<String>,
    /// Only for these does a 400 or 404 to a DELETE mean gone (else: not yet visible).
    seen: BTreeSet<String>,
    gone: BTreeSet<String>,
}

impl Ours {
    /// `invhooks-doctor-<random>` on `topic`, delivering to `url`.
    pub fn new(random: u64, topic: &str, url: &str) -> Self {
        let name = format!("invhooks-doctor-{:012x}", random & 0xffff_ffff_ffff);
        Self {
            renamed: format!("{name}-renamed"),
            name,
            topic: topic.to_owned(),
            url: url.to_owned(),
            ..Self::default()
        }
    }

    /// The ids `live` lists under our names, now ours.
    fn learn(&mut self, live: &[LiveSubscription]) -> BTreeSet<String> {
        let ours =
            |s: &&LiveSubscription| s.topic == self.topic && [&self.name, &self.renamed].contains(&&s.name);
        let listed: BTreeSet<String> = live.iter().filter(ours).map(|s| s.id.clone()).collect();
        self.ids.extend(listed.iter().cloned());
        self.seen.extend(listed.iter().cloned());
        listed
    }

    fn left(&self) -> Vec<String> {
        self.ids.difference(&self.gone).cloned().collect()
    }
}

struct Trip<'a, R> {
    remote: &'a R,
    ours: Ours,
    limit: Duration,
    stop: &'a Stop,
    /// Why a create may exist without a known id (unknown outcome, no id in its answer).
    maybe: Option<&'static str>,
    checks: Vec<Check>,
}

/// The round trip's checks, ending with `cleanup` (which runs even after a
/// stop); GET may take `limit` to show a change.
pub async fn round_trip<R: Remote<Error = ApiError>>(
    remote: &R,
    ours: Ours,
    limit: Duration,
    stop: &Stop,
    m: &mut Measured,
) -> Vec<Check> {
    let mut trip = Trip {
        remote,
        ours,
        limit,
        stop,
        maybe: None,
        checks: Vec::new(),
    };
    if trip.steps(m).await.is_none() && stop.requested() {
        let help = "re-run `invhooks doctor --write` for the checks it did not reach";
        let check = Check::fail("interrupted", "interrupted before the round trip finished", help);
        trip.checks.push(check);
    }
    trip.cleanup().await;
    trip.checks
}

impl<R: Remote<Error = ApiError>> Trip<'_, R> {
    async fn steps(&mut self, m: &mut Measured) -> Option<()> {
        let o = self.ours.clone();
        let (topic, name, renamed, url) = (&o.topic, &o.name, &o.renamed, &o.url);
        self.go()?;
        let fields = |name: &String| Fields {
            topic: topic.clone(),
            name: name.clone(),
            callback_url: url.clone(),
            masking: Masking::Full,
        };
        let created = self.remote.create(&fields(name)).await;
        self.maybe = match &created {
            Err(e) if e.outcome_unknown() => Some("a create of unknown outcome"),
            Ok(None) => Some("a create answered without an id"),
            _ => None,
        };
        let id = self.done("create", created)?;
        let said = match &id {
            Some(id) => format!("created `{name}` on `{topic}` (id `{id}`)"),
            None => format!("created `{name}` on `{topic}`; the answer held no id, so GET finds it by name"),
        };
        self.ours.ids.extend(id);
        self.checks.push(Check::ok("create", said));
        let took = self.poll("visibility", |_, listed| !listed.is_empty()).await?;
        self.checks.push(visibility(took, m));

        let id = self.ours.seen.first().cloned()?;
        self.go()?;
        let put = self.remote.update(&id, &fields(renamed)).await;
        self.done("rename", put)?;
        let renamed_shown =
            |live: &[LiveSubscription], _: &_| live.iter().any(|s| s.id == id && s.name == *renamed);
        let shown = after(self.poll("rename", renamed_shown).await?);
        let said = format!("renamed to `{renamed}` with PUT; GET showed the new name {shown}");
        self.checks.push(Check::ok("rename", said));

        self.go()?;
        let deleted = self.remote.delete(&id, topic).await;
        self.done("delete", deleted)?;
        self.ours.gone.insert(id.clone());
        let gone = after(self.poll("delete", |_, listed| !listed.contains(&id)).await?);
        let said = format!("deleted with DELETE; GET stopped listing it {gone}");
        self.checks.push(Check::ok("delete", said));
        let again = self.remote.delete(&id, topic).await;
        self.checks.push(delete_again(again, m));
        Some(())
    }

    fn go(&self) -> Option<()> {
        (!self.stop.requested()).then_some(())
    }

    /// The value of a call, or `None` with a failed `step`.
    fn done<T>(&mut self, step: &'static str, result: Result<T, ApiError>) -> Option<T> {
        let failed = |e: ApiError| Check::fail(step, e.to_string(), advice(&e));
        result.map_err(|e| self.checks.push(failed(e))).ok()
    }

    /// Reads the list until `done(live, ids of ours listed)`: when the read
    /// that saw it started (zero: the first read).
    async fn poll(
        &mut self,
        step: &'static str,
        done: impl Fn(&[LiveSubscription], &BTreeSet<String>) -> bool,
    ) -> Option<Duration> {
        let (started, mut took) = (Instant::now(), Duration::ZERO);
        loop {
            let live = self.remote.list().await;
            let live = self.done(step, live)?;
            if done(&live, &self.ours.learn(&live)) {
                return Some(took);
            }
            if started.elapsed() >= self.limit {
                let said = format!("GET did not show the change within {} s", self.limit.as_secs());
                let help = format!("apply's verification waits for GET to agree: {REPORT}");
                self.checks.push(Check::fail(step, said, help));
                return None;
            }
            tokio::time::sleep(POLL).await;
            self.go()?;
            took = started.elapsed();
        }
    }

    /// Deletes what is left, then reads the list (the truth, whatever DELETE said); two rounds at most.
    async fn cleanup(&mut self) {
        if self.ours.ids.is_empty() && self.maybe.is_none() {
            return;
        }
        for _ in 0..2 {
            for id in self.ours.left() {
                let deleted = self.remote.delete(&id, &self.ours.topic).await;
                if deleted.map_or_else(|e| e.is_not_found() && self.ours.seen.contains(&id), |()| true) {
                    self.ours.gone.insert(id);
                }
            }
            let Ok(live) = self.remote.list().await else { break };
            let listed = self.ours.learn(&live);
            self.ours.gone.retain(|id| !listed.contains(id));
            if self.ours.left().is_empty() {
                break;
            }
        }
        let o = &self.ours;
        let what = format!("`{}` on `{}`", o.name, o.topic);
        let left: Vec<String> = o.left().iter().map(|id| format!("`{id}`")).collect();
        let check = if !left.is_empty() {
            let said = format!("left behind: {what}, id {}", left.join(", "));
            let help = "delete it in the Inveterate admin (Webhooks); no other subscription has its name";
            Check::fail("cleanup", said, help)
        } else if let Some(why) = self.maybe.filter(|_| o.ids.is_empty()) {
            let said = format!("{why} may yet appear as {what}");
            let help = "look for it in the Inveterate admin (Webhooks) in a few minutes and delete it";
            Check::fail("cleanup", said, help)
        } else {
            Check::ok("cleanup", format!("nothing left behind: `{}` is deleted", o.name))
        };
        self.checks.push(check);
    }
}

/// The `visibility` check, suggesting `--wait` of twice `took` plus 5 s.
fn visibility(took: Duration, m: &mut Measured) -> Check {
    let wait = (took.as_secs_f64() * 2.0).ceil() as u64 + 5;
    let default = ApplyOptions::default().wait.as_secs();
    m.visible_after_ms = Some(u64::try_from(took.as_millis()).unwrap_or(u64::MAX));
    m.suggested_wait = Some(wait);
    let said = format!("GET listed it {}", after(took));
    if wait <= default {
        let said = format!("{said}; apply's default `--wait {default}` covers it (`--wait {wait}` would do)");
        return Check::ok("visibility", said);
    }
    let help = format!("pass `--wait {wait}` to apply, or its verification ends before creates show");
    Check::warn("visibility", said, help)
}

/// What a second DELETE of a gone id means for apply (a success is 200).
fn delete_again(result: Result<(), ApiError>, m: &mut Measured) -> Check {
    let name = "delete_again";
    let Err(e) = result else {
        m.gone_status = Some(200);
        let said = "deleting an id already gone succeeds: apply's delete of it is done";
        return Check::ok(name, said);
    };
    m.gone_status = e.status();
    let said = format!("an id already gone answers {}", e.failure);
    if e.is_not_found() {
        let read = "apply reads a 400 or 404 for an id a fresh read no longer lists as `done (already gone)`";
        return Check::ok(name, format!("{said}: {read}"));
    }
    let said = format!("{said}: apply would report that delete as failed");
    Check::warn(name, said, format!("so apply learns this answer, {REPORT}"))
}

fn advice(e: &ApiError) -> String {
    match e.status() {
        _ if e.outcome_unknown() => "the call may have happened: the cleanup looks for it by name".into(),
        Some(400) => {
            "the API took no action; its message says why (for a create: --topic, --callback-url)".into()
        }
        Some(401 | 403) => "the key was refused for a write: use a key allowed to manage webhooks".into(),
        _ => format!("check the network and --timeout and re-run; if it stays, {REPORT}"),
    }
}

/// `at once`, or `after 312 ms`.
fn after(took: Duration) -> String {
    match took.as_millis() {
        0 => "at once".to_owned(),
        ms => format!("after {ms} ms"),
    }
}
