//! The sandbox's data ([`Store`]) and the [`StateFile`] that keeps it, written atomically and never
//! back to an older state.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{bail, ensure, Context};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::time::Instant;

use super::lock;
use super::Ids;
use crate::model::LiveSubscription;

/// 2024-01-01T00:00:00Z, the logical clock's zero.
const EPOCH_UNIX: u64 = 1_704_067_200;
/// Merchants under their merchant id; format 1 (`merchant-N`) is refused.
const STATE_VERSION: u32 = 2;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Stored {
    pub(crate) id: String,
    pub(crate) topic: String,
    pub(crate) name: String,
    pub(crate) callback_url: String,
    created_at: String,
    updated_at: String,
    /// Out of GET's list until then (a visibility delay); not persisted.
    #[serde(skip)]
    hidden_until: Option<Instant>,
}

impl Stored {
    pub(crate) fn to_json(&self, merchant: &str) -> Value {
        let mut json = serde_json::to_value(self).unwrap_or_default();
        json["merchantId"] = json!(merchant);
        json
    }

    pub(crate) fn to_live(&self) -> LiveSubscription {
        LiveSubscription {
            id: self.id.clone(),
            topic: self.topic.clone(),
            name: self.name.clone(),
            callback_url: self.callback_url.clone(),
        }
    }
}

/// The state file: records owned when read, borrowed when written.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Format<M> {
    version: u32,
    next_id: u64,
    clock: u64,
    merchants: BTreeMap<String, M>,
}

pub(crate) struct Store {
    /// Number of the next id: `wh_{next_id:06}`, or drawn from it.
    next_id: u64,
    ids: Ids,
    seed: u64,
    /// Ticks once per write: the state file's version of the data.
    pub(super) clock: u64,
    merchants: BTreeMap<String, BTreeMap<String, Stored>>,
}

impl Store {
    pub(crate) fn new(ids: Ids, seed: u64) -> Store {
        Store {
            next_id: 1,
            ids,
            seed,
            clock: 0,
            merchants: BTreeMap::new(),
        }
    }

    /// Sorted by id: all, or those GET shows at `visible_at`.
    pub(crate) fn list(&self, merchant: &str, visible_at: Option<Instant>) -> impl Iterator<Item = &Stored> {
        let shown = move |r: &&Stored| visible_at.is_none_or(|now| r.hidden_until.is_none_or(|t| t <= now));
        let records = self.merchants.get(merchant).map(BTreeMap::values);
        records.into_iter().flatten().filter(shown)
    }

    /// No validation: callers check first.
    pub(crate) fn create(
        &mut self,
        merchant: &str,
        (topic, name, callback_url): (&str, &str, &str),
        hidden_until: Option<Instant>,
    ) -> Stored {
        let id = self.new_id();
        self.clock += 1;
        let now = timestamp(self.clock);
        let record = Stored {
            id: id.clone(),
            topic: topic.to_owned(),
            name: name.to_owned(),
            callback_url: callback_url.to_owned(),
            created_at: now.clone(),
            updated_at: now,
            hidden_until,
        };
        let records = self.merchants.entry(merchant.to_owned()).or_default();
        records.insert(id, record.clone());
        record
    }

    /// `None`, and no change, unless the merchant has `id` with `topic` (also `delete`).
    pub(crate) fn update(
        &mut self,
        merchant: &str,
        id: &str,
        topic: &str,
        name: Option<String>,
        url: Option<String>,
    ) -> Option<Stored> {
        let record = self.merchants.get_mut(merchant)?.get_mut(id);
        let record = record.filter(|r| r.topic == topic)?;
        self.clock += 1;
        record.name = name.unwrap_or_else(|| std::mem::take(&mut record.name));
        record.callback_url = url.unwrap_or_else(|| std::mem::take(&mut record.callback_url));
        record.updated_at = timestamp(self.clock);
        Some(record.clone())
    }

    pub(crate) fn delete(&mut self, merchant: &str, id: &str, topic: &str) -> Option<Stored> {
        let records = self.merchants.get_mut(merchant)?;
        records.get(id).filter(|r| r.topic == topic)?;
        self.clock += 1;
        records.remove(id)
    }

    fn new_id(&mut self) -> String {
        loop {
            let n = self.next_id;
            self.next_id = n.wrapping_add(1);
            let id = match self.ids {
                Ids::Sequential => format!("wh_{n:06}"),
                Ids::Random => random_id(self.seed, n),
            };
            if !self.merchants.values().any(|m| m.contains_key(&id)) {
                return id;
            }
        }
    }

    /// The state file's text: pretty JSON, keys sorted, a final newline.
    pub(crate) fn render(&self) -> anyhow::Result<String> {
        let merchants = self.merchants.iter();
        let file = Format {
            version: STATE_VERSION,
            next_id: self.next_id,
            clock: self.clock,
            merchants: merchants
                .map(|(m, records)| (m.clone(), records.values().collect::<Vec<_>>()))
                .collect(),
        };
        let mut text = serde_json::to_string_pretty(&file).context("cannot serialise the sandbox state")?;
        text.push('\n');
        Ok(text)
    }

    /// Checks the format, that ids are unique, the counter past every `wh_N`.
    fn restore(&mut self, text: &str) -> anyhow::Result<()> {
        let file: Format<Vec<Stored>> = serde_json::from_str(text)?;
        ensure!(
            file.version == STATE_VERSION,
            "this state file is format {}, not {STATE_VERSION} (format 1 named merchants by the order of \
             `--api-key`; {STATE_VERSION} by a digest of each key); delete the file and start again",
            file.version
        );
        let mut seen = HashMap::new();
        self.next_id = file.next_id.max(1);
        self.clock = file.clock;
        for (merchant, records) in file.merchants {
            let by_id = self.merchants.entry(merchant.clone()).or_default();
            for record in records {
                if let Some(other) = seen.insert(record.id.clone(), merchant.clone()) {
                    bail!(
                        "subscription id `{}` appears twice (in `{other}` and `{merchant}`)",
                        record.id
                    );
                }
                if let Some(n) = record.id.strip_prefix("wh_").and_then(|n| n.parse::<u64>().ok()) {
                    self.next_id = self.next_id.max(n.saturating_add(1));
                }
                by_id.insert(record.id.clone(), record);
            }
        }
        Ok(())
    }
}

pub(crate) struct StateFile {
    path: PathBuf,
    /// The clock of the state the file holds; one writer at a time, the others mostly find theirs written.
    written: tokio::sync::Mutex<u64>,
}

impl StateFile {
    /// Loads `path` into `store`, or writes it at once (fails at start).
    pub(crate) fn open(path: PathBuf, store: &mut Store) -> anyhow::Result<StateFile> {
        if path.exists() {
            let context = || format!("cannot load sandbox state file `{}`", path.display());
            let text = std::fs::read_to_string(&path).with_context(context)?;
            store.restore(&text).with_context(context)?;
        } else {
            replace(&path, &store.render()?)?;
        }
        let written = tokio::sync::Mutex::new(store.clock);
        Ok(StateFile { path, written })
    }

    /// The file holds the change at `clock` (or a later state, never an older one) before it is answered.
    pub(crate) async fn commit(&self, store: &Mutex<Store>, clock: u64) -> anyhow::Result<()> {
        let mut written = self.written.lock().await;
        if *written < clock {
            let store = lock(store);
            let (clock, text) = (store.clock, store.render()?);
            drop(store);
            replace(&self.path, &text)?;
            *written = clock;
        }
        Ok(())
    }
}

/// A temporary file, then a rename: a reader never sees half a file.
fn replace(path: &Path, text: &str) -> anyhow::Result<()> {
    let dir = path.parent().filter(|dir| !dir.as_os_str().is_empty());
    let replace = || -> std::io::Result<()> {
        let mut temp = tempfile::NamedTempFile::new_in(dir.unwrap_or(Path::new(".")))?;
        temp.write_all(text.as_bytes())?;
        temp.as_file().sync_all()?;
        temp.persist(path)?;
        Ok(())
    };
    replace().with_context(|| format!("cannot write sandbox state file `{}`", path.display()))
}

/// The `n`-th id of `seed`: UUID-shaped (version 4), in no order.
fn random_id(seed: u64, n: u64) -> String {
    let digest = crate::digest::sha256_json(&("invhooks-sandbox-id", seed, n));
    let h = &digest["sha256:".len()..];
    let (a, b, c, d, e) = (&h[0..8], &h[8..12], &h[13..16], &h[17..20], &h[20..32]);
    format!("{a}-{b}-4{c}-8{d}-{e}")
}

fn timestamp(tick: u64) -> String {
    crate::delivery::rfc3339(EPOCH_UNIX.saturating_add(tick))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const SUB: (&str, &str, &str) = ("customer.updated", "crm", "https://a");

    #[test]
    fn timestamps_count_seconds_from_2024() {
        assert_eq!(timestamp(0), "2024-01-01T00:00:00Z");
        assert_eq!(timestamp(61), "2024-01-01T00:01:01Z");
        assert_eq!(timestamp(60 * 86_400), "2024-03-01T00:00:00Z");
        assert_eq!(timestamp(366 * 86_400 + 3599), "2025-01-01T00:59:59Z");
    }

    #[test]
    fn update_and_delete_need_the_matching_topic() {
        let mut store = Store::new(Ids::Sequential, 0);
        let rec = store.create("merchant-1", SUB, None);
        assert_eq!(rec.id, "wh_000001");
        let id = rec.id.as_str();
        assert!(store
            .update("merchant-1", id, "customer.ordered", Some("x".into()), None)
            .is_none());
        assert!(store.delete("merchant-1", id, "customer.ordered").is_none());
        assert!(store.delete("merchant-2", id, "customer.updated").is_none());
        let updated = store.update(
            "merchant-1",
            id,
            "customer.updated",
            None,
            Some("https://b".into()),
        );
        assert_eq!(updated.unwrap().callback_url, "https://b");
        assert!(store.delete("merchant-1", id, "customer.updated").is_some());
        assert_eq!(store.list("merchant-1", None).count(), 0);
    }

    #[tokio::test]
    async fn the_state_file_never_goes_back_to_an_older_state() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let mut store = Store::new(Ids::Sequential, 0);
        let file = StateFile::open(path.clone(), &mut store).unwrap();
        store.create("merchant-1", ("customer.updated", "a", "https://a"), None);
        store.create("merchant-1", ("customer.updated", "b", "https://b"), None);
        let store = Mutex::new(store);
        file.commit(&store, 2).await.unwrap();
        // A late writer of the change at clock 1 finds it written.
        std::fs::write(&path, "late").unwrap();
        file.commit(&store, 1).await.unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "late");
        lock(&store).create("merchant-1", ("customer.updated", "c", "https://c"), None);
        file.commit(&store, 1).await.unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "late",
            "the file holds 2"
        );
        file.commit(&store, 3).await.unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"c\"") && text.contains("\"clock\": 3"), "{text}");
    }

    #[test]
    fn random_ids_are_unique_seeded_and_in_no_order() {
        let ids = |seed| {
            let mut store = Store::new(Ids::Random, seed);
            (0..200)
                .map(|i| store.create(&format!("m{}", i % 3), SUB, None).id)
                .collect::<Vec<_>>()
        };
        let a = ids(7);
        assert_eq!(a, ids(7), "the seed gives the same ids");
        assert_ne!(a, ids(8));
        let unique: std::collections::BTreeSet<&String> = a.iter().collect();
        assert_eq!(unique.len(), a.len());
        assert!(a.windows(2).any(|w| w[0] > w[1]) && a.windows(2).any(|w| w[0] < w[1]));
        assert!(
            a.iter().all(|id| id.len() == 36 && id.as_bytes()[14] == b'4'),
            "{a:?}"
        );
    }

    #[test]
    fn hidden_records_are_listed_only_once_visible() {
        let mut store = Store::new(Ids::Sequential, 0);
        let now = Instant::now();
        let later = now + std::time::Duration::from_secs(1);
        let a = store.create("merchant-1", SUB, None);
        let b = store.create("merchant-1", SUB, Some(later));
        let ids = |at| -> Vec<String> { store.list("merchant-1", Some(at)).map(|r| r.id.clone()).collect() };
        assert_eq!(ids(now), ["wh_000001"]);
        assert_eq!(ids(later), [a.id, b.id]);
        assert_eq!(store.list("merchant-1", None).count(), 2);
    }
}
