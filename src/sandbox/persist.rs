//! The state file: its records, its format (documented in the module
//! above), reading it back with checks, and writing it atomically (a
//! temporary file in the same directory, then a rename) without ever going
//! back to an older state.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::{bail, ensure, Context};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::model::LiveSubscription;

/// The state file format this code reads and writes: merchants under
/// their merchant id (a digest of the key, see `keys`). Format 1 kept them
/// as `merchant-N`, the N-th `--api-key`, and is refused.
const STATE_VERSION: u32 = 2;

/// Merchant id → id → subscription.
pub(crate) type Merchants = BTreeMap<String, BTreeMap<String, Record>>;

/// One stored subscription, as in the state file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Record {
    pub(crate) id: String,
    pub(crate) topic: String,
    pub(crate) name: String,
    pub(crate) callback_url: String,
    pub(crate) created_at: String,
    pub(crate) updated_at: String,
    /// A subscription created under a visibility delay is left out of GET
    /// until this instant. Not persisted: after a restart it is visible.
    #[serde(skip)]
    pub(crate) hidden_until: Option<tokio::time::Instant>,
}

impl Record {
    /// The subscription as the API shows it to `merchant`.
    pub(crate) fn to_json(&self, merchant: &str) -> Value {
        json!({
            "id": self.id,
            "topic": self.topic,
            "callbackUrl": self.callback_url,
            "name": self.name,
            "merchantId": merchant,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
        })
    }

    /// The subscription as the reconciler models it.
    pub(crate) fn to_live(&self) -> LiveSubscription {
        LiveSubscription {
            id: self.id.clone(),
            topic: self.topic.clone(),
            name: self.name.clone(),
            callback_url: self.callback_url.clone(),
        }
    }
}

/// The state file, field for field (documented in the module above).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct StateFile {
    version: u32,
    next_id: u64,
    clock: u64,
    merchants: BTreeMap<String, Vec<Record>>,
}

/// The state file's view of the state, borrowed: serialised exactly as
/// [`StateFile`] without copying a record.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StateFileRef<'a> {
    version: u32,
    next_id: u64,
    clock: u64,
    merchants: BTreeMap<&'a str, Records<'a>>,
}

/// One merchant's records, in id order, as a JSON array.
struct Records<'a>(&'a BTreeMap<String, Record>);

impl Serialize for Records<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.values())
    }
}

/// What a state file held, checked: ids unique, `next_id` past every id.
#[derive(Debug)]
pub(crate) struct Loaded {
    pub(crate) next_id: u64,
    pub(crate) clock: u64,
    pub(crate) merchants: Merchants,
}

/// Reads and checks the state file at `path`.
pub(crate) fn read(path: &Path) -> anyhow::Result<Loaded> {
    let context = || format!("cannot load sandbox state file `{}`", path.display());
    let text = std::fs::read_to_string(path).with_context(context)?;
    let file: StateFile = serde_json::from_str(&text).with_context(context)?;
    restore(file).with_context(context)
}

fn restore(file: StateFile) -> anyhow::Result<Loaded> {
    ensure!(
        file.version != 1,
        "this state file is format 1, which named merchants by the order of `--api-key` \
         (restarting with the keys reordered showed one merchant's subscriptions to another); \
         delete the file and start again: format {STATE_VERSION} names each merchant by a digest of its key"
    );
    ensure!(
        file.version == STATE_VERSION,
        "unsupported state file version {} (expected {STATE_VERSION})",
        file.version
    );
    let mut next_id = file.next_id.max(1);
    let mut seen = HashMap::new();
    let mut merchants = Merchants::new();
    for (merchant, records) in file.merchants {
        let mut by_id = BTreeMap::new();
        for record in records {
            if let Some(other) = seen.insert(record.id.clone(), merchant.clone()) {
                bail!(
                    "subscription id `{}` appears twice (in `{other}` and `{merchant}`)",
                    record.id
                );
            }
            if let Some(n) = record.id.strip_prefix("wh_").and_then(|n| n.parse::<u64>().ok()) {
                next_id = next_id.max(n.saturating_add(1));
            }
            by_id.insert(record.id.clone(), record);
        }
        merchants.insert(merchant, by_id);
    }
    Ok(Loaded {
        next_id,
        clock: file.clock,
        merchants,
    })
}

/// The state file's text: pretty JSON, keys sorted, a final newline.
pub(crate) fn render(next_id: u64, clock: u64, merchants: &Merchants) -> anyhow::Result<String> {
    let file = StateFileRef {
        version: STATE_VERSION,
        next_id,
        clock,
        merchants: merchants
            .iter()
            .map(|(merchant, records)| (merchant.as_str(), Records(records)))
            .collect(),
    };
    let mut text = serde_json::to_string_pretty(&file).context("cannot serialise the sandbox state")?;
    text.push('\n');
    Ok(text)
}

/// The logical clock of the state the file holds (`None`: not written
/// yet), shared by the store and its snapshots.
#[derive(Debug, Clone, Default)]
pub(crate) struct Written(Arc<Mutex<Option<u64>>>);

impl Written {
    /// A file that holds the state at `clock`.
    pub(crate) fn at(clock: u64) -> Written {
        Written(Arc::new(Mutex::new(Some(clock))))
    }

    /// Whether the file holds the state at `clock` or a later one.
    pub(crate) fn holds(&self, clock: u64) -> bool {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some_and(|written| written >= clock)
    }
}

/// The state file's text at one point of the logical clock, ready to be
/// written ([`Snapshot::write`]) after the store's lock is released.
#[derive(Debug)]
pub(crate) struct Snapshot {
    path: PathBuf,
    text: String,
    clock: u64,
    written: Written,
}

impl Snapshot {
    /// The text of the state at `clock`, to be written to `path`.
    pub(crate) fn new(path: PathBuf, text: String, clock: u64, written: &Written) -> Snapshot {
        Snapshot {
            path,
            text,
            clock,
            written: written.clone(),
        }
    }

    /// Writes the file atomically, unless it already holds this state or a
    /// later one (snapshots can finish out of order; the file never goes
    /// back in time).
    pub(crate) fn write(self) -> anyhow::Result<()> {
        let mut written = self.written.0.lock().unwrap_or_else(PoisonError::into_inner);
        if written.is_some_and(|clock| clock >= self.clock) {
            return Ok(());
        }
        write_atomically(&self.path, self.text.as_bytes())
            .with_context(|| format!("cannot write sandbox state file `{}`", self.path.display()))?;
        *written = Some(self.clock);
        Ok(())
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut temp = tempfile::NamedTempFile::new_in(dir)?;
    temp.write_all(bytes)?;
    temp.as_file().sync_all()?;
    temp.persist(path)?;
    Ok(())
}
