//! The sandbox's data in memory: every merchant's subscriptions (by
//! merchant id, see `keys`), the id counter and the logical clock. The
//! file they are kept in is `persist`. No HTTP here.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use tokio::time::Instant;

use super::config::Ids;
use super::persist::{self, Merchants, Record, Snapshot, Written};

/// The logical clock's zero: 2024-01-01T00:00:00Z, in Unix seconds.
const EPOCH_UNIX: u64 = 1_704_067_200;

/// All the sandbox's mutable state, behind one mutex.
pub(crate) struct Store {
    /// Number of the next id: `wh_{next_id:06}`, or drawn from it.
    next_id: u64,
    /// How ids are made from `next_id`.
    ids: Ids,
    /// What random ids are drawn from (`--seed`).
    seed: u64,
    /// Logical clock: ticks once per write.
    clock: u64,
    /// Merchant id → id → subscription.
    merchants: Merchants,
    /// Where the state is persisted, if anywhere.
    path: Option<PathBuf>,
    /// The logical clock of the state the file holds: every change ticks
    /// the clock, so it tells whether a change is on disk.
    written: Written,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("next_id", &self.next_id)
            .field("clock", &self.clock)
            .field("merchants", &self.merchants)
            .field("path", &self.path)
            .finish()
    }
}

impl Store {
    /// Loads `path` if it exists; a missing file is written at once, so an
    /// unwritable path fails at start. New ids are made as `ids` says.
    pub(crate) fn open(path: Option<PathBuf>, ids: Ids, seed: u64) -> anyhow::Result<Store> {
        let mut store = Store {
            next_id: 1,
            ids,
            seed,
            clock: 0,
            merchants: BTreeMap::new(),
            path: None,
            written: Written::default(),
        };
        if let Some(path) = path {
            if path.exists() {
                store.load(&path)?;
                store.path = Some(path);
                store.written = Written::at(store.clock);
            } else {
                store.path = Some(path);
                store.save()?;
            }
        }
        Ok(store)
    }

    /// A merchant's subscriptions, sorted by id, hidden ones included.
    pub(crate) fn list(&self, merchant: &str) -> impl Iterator<Item = &Record> {
        self.merchants
            .get(merchant)
            .into_iter()
            .flat_map(BTreeMap::values)
    }

    /// A merchant's subscriptions that GET shows at `now`, sorted by id:
    /// those not hidden by a visibility delay. The one place that filters.
    pub(crate) fn list_visible(&self, merchant: &str, now: Instant) -> impl Iterator<Item = &Record> {
        self.list(merchant)
            .filter(move |record| record.hidden_until.is_none_or(|until| until <= now))
    }

    /// Hides the merchant's subscription `id` from GET until `until`.
    pub(crate) fn hide_until(&mut self, merchant: &str, id: &str, until: Instant) {
        if let Some(record) = self.merchants.get_mut(merchant).and_then(|m| m.get_mut(id)) {
            record.hidden_until = Some(until);
        }
    }

    /// Creates a subscription with the next id; no validation.
    pub(crate) fn create(&mut self, merchant: &str, topic: &str, name: &str, url: &str) -> Record {
        let id = self.new_id();
        let now = self.tick();
        let record = Record {
            id: id.clone(),
            topic: topic.to_owned(),
            name: name.to_owned(),
            callback_url: url.to_owned(),
            created_at: now.clone(),
            updated_at: now,
            hidden_until: None,
        };
        self.merchants
            .entry(merchant.to_owned())
            .or_default()
            .insert(id, record.clone());
        record
    }

    /// Updates the merchant's subscription `id` if its topic is `topic`;
    /// `None` (and no change) otherwise.
    pub(crate) fn update(
        &mut self,
        merchant: &str,
        id: &str,
        topic: &str,
        name: Option<&str>,
        url: Option<&str>,
    ) -> Option<Record> {
        self.find(merchant, id, topic)?;
        let now = self.tick();
        let record = self.merchants.get_mut(merchant)?.get_mut(id)?;
        if let Some(name) = name {
            name.clone_into(&mut record.name);
        }
        if let Some(url) = url {
            url.clone_into(&mut record.callback_url);
        }
        record.updated_at = now;
        Some(record.clone())
    }

    /// Deletes the merchant's subscription `id` if its topic is `topic`;
    /// `None` (and no change) otherwise.
    pub(crate) fn delete(&mut self, merchant: &str, id: &str, topic: &str) -> Option<Record> {
        self.find(merchant, id, topic)?;
        self.tick();
        self.merchants.get_mut(merchant)?.remove(id)
    }

    /// The next id no merchant has (one counter for the whole server).
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

    fn find(&self, merchant: &str, id: &str, topic: &str) -> Option<&Record> {
        self.merchants
            .get(merchant)?
            .get(id)
            .filter(|record| record.topic == topic)
    }

    /// Advances the logical clock; returns the new time as RFC 3339.
    fn tick(&mut self) -> String {
        self.clock += 1;
        timestamp(self.clock)
    }

    /// Writes the state file, if there is one: a temporary file in the same
    /// directory, then a rename, so a reader never sees half a file.
    pub(crate) fn save(&self) -> anyhow::Result<()> {
        match self.snapshot(self.clock)? {
            Some(snapshot) => snapshot.write(),
            None => Ok(()),
        }
    }

    /// The logical clock: it ticks with every change.
    pub(crate) fn clock(&self) -> u64 {
        self.clock
    }

    /// The state file's text now, if there is a state file and it does not
    /// hold the state at clock `at` or later yet; write it with
    /// [`Snapshot::write`] once the lock is released.
    pub(crate) fn snapshot(&self, at: u64) -> anyhow::Result<Option<Snapshot>> {
        let Some(path) = &self.path else {
            return Ok(None);
        };
        if self.written.holds(at) {
            return Ok(None);
        }
        let text = persist::render(self.next_id, self.clock, &self.merchants)?;
        Ok(Some(Snapshot::new(path.clone(), text, self.clock, &self.written)))
    }

    fn load(&mut self, path: &Path) -> anyhow::Result<()> {
        let loaded = persist::read(path)?;
        self.next_id = loaded.next_id;
        self.clock = loaded.clock;
        self.merchants = loaded.merchants;
        Ok(())
    }
}

/// The `n`-th random id of `seed`: UUID-shaped (version 4), from a
/// labelled SHA-256, so ids follow no order and the seed gives them all.
fn random_id(seed: u64, n: u64) -> String {
    let digest = crate::digest::sha256_json(&("invhooks-sandbox-id", seed, n));
    let h = &digest["sha256:".len()..];
    format!(
        "{}-{}-4{}-8{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

/// The logical clock's reading `tick` as RFC 3339: the epoch plus `tick`
/// seconds.
fn timestamp(tick: u64) -> String {
    crate::delivery::rfc3339(EPOCH_UNIX.saturating_add(tick))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn timestamps_count_seconds_from_2024() {
        assert_eq!(timestamp(0), "2024-01-01T00:00:00Z");
        assert_eq!(timestamp(61), "2024-01-01T00:01:01Z");
        assert_eq!(timestamp(60 * 86_400), "2024-03-01T00:00:00Z");
        assert_eq!(timestamp(366 * 86_400 + 3599), "2025-01-01T00:59:59Z");
    }

    #[test]
    fn update_and_delete_need_the_matching_topic() {
        let mut store = Store::open(None, Ids::Sequential, 0).unwrap();
        let rec = store.create("merchant-1", "customer.updated", "crm", "https://a");
        assert_eq!(rec.id, "wh_000001");
        assert!(store
            .update("merchant-1", &rec.id, "customer.ordered", Some("x"), None)
            .is_none());
        assert!(store.delete("merchant-1", &rec.id, "customer.ordered").is_none());
        assert!(store.delete("merchant-2", &rec.id, "customer.updated").is_none());
        let updated = store.update("merchant-1", &rec.id, "customer.updated", None, Some("https://b"));
        assert_eq!(updated.unwrap().callback_url, "https://b");
        assert!(store.delete("merchant-1", &rec.id, "customer.updated").is_some());
        assert_eq!(store.list("merchant-1").count(), 0);
    }

    #[test]
    fn the_state_file_never_goes_back_to_an_older_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let mut store = Store::open(Some(path.clone()), Ids::Sequential, 0).unwrap();
        store.create("merchant-1", "customer.updated", "a", "https://a");
        let older = store.snapshot(store.clock()).unwrap().unwrap();
        store.create("merchant-1", "customer.updated", "b", "https://b");
        let newer = store.snapshot(store.clock()).unwrap().unwrap();
        newer.write().unwrap();
        assert!(
            store.snapshot(store.clock()).unwrap().is_none(),
            "already written"
        );
        older.write().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"b\""), "{text}");
        assert!(text.contains("\"clock\": 2"), "{text}");
    }

    #[test]
    fn random_ids_are_unique_seeded_and_in_no_order() {
        let ids = |seed| {
            let mut store = Store::open(None, Ids::Random, seed).unwrap();
            (0..200)
                .map(|i| store.create(&format!("m{}", i % 3), "t", "n", "https://a").id)
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
        let mut store = Store::open(None, Ids::Sequential, 0).unwrap();
        let a = store.create("merchant-1", "customer.updated", "a", "https://a");
        let b = store.create("merchant-1", "customer.updated", "b", "https://b");
        let now = Instant::now();
        let later = now + std::time::Duration::from_secs(1);
        store.hide_until("merchant-1", &b.id, later);
        let ids = |at| -> Vec<String> {
            store
                .list_visible("merchant-1", at)
                .map(|r| r.id.clone())
                .collect()
        };
        assert_eq!(ids(now), ["wh_000001"]);
        assert_eq!(ids(later), [a.id, b.id]);
        assert_eq!(store.list("merchant-1").count(), 2);
    }
}
