//! Whether a saved plan still applies: the same base URL, and for every
//! merchant the same live state as when it was saved. Pure decisions over
//! the loaded plan and freshly read lists; the reasons are the lines the
//! user reads when `apply --plan` refuses.

use std::collections::{HashMap, HashSet};

use super::{live_fingerprint, Loaded};
use crate::model::LiveSubscription;
use crate::render::view::{url_note, LiveView};
use crate::secret::{mask_url, Keys};

/// Live changes listed per stale merchant.
const MAX_STALE_LINES: usize = 10;

impl Loaded {
    /// Why the plan, read from `shown`, cannot be applied against
    /// `base_url`; `None` when it was made against the same one.
    pub fn other_base_url(&self, base_url: &str, shown: &str) -> Option<Vec<String>> {
        (self.base_url != base_url).then(|| {
            vec![
                format!(
                    "plan `{shown}` was computed against `{}`, but this run talks to `{}`; nothing was changed",
                    mask_url(&self.base_url),
                    mask_url(base_url)
                ),
                format!("use the same --base-url / INVETERATE_BASE_URL as the plan, or {}", replan(shown)),
            ]
        })
    }

    /// Why the plan cannot be applied with these keys: `digests` holds each
    /// merchant's key digest with [`Loaded::key_salt`], in plan order;
    /// `None` when every key is the one the plan was made with.
    pub fn other_key(&self, digests: &[String], shown: &str) -> Option<Vec<String>> {
        let mut reasons: Vec<String> = self
            .merchants
            .iter()
            .zip(digests)
            .filter(|(m, digest)| m.key_digest != **digest)
            .map(|(m, _)| {
                format!(
                    "plan `{shown}` was saved for another API key: merchant `{}` (`{}`); nothing was changed",
                    m.manifest.label, m.manifest.api_key_env
                )
            })
            .collect();
        if reasons.is_empty() {
            return None;
        }
        reasons.push(format!(
            "apply a plan with the key it was made with, or {}",
            replan(shown)
        ));
        Some(reasons)
    }

    /// Why the plan is stale given `fresh`, each merchant's live list now
    /// (in the plan's merchant order), `keys` masked; `None` when nothing
    /// moved.
    pub fn stale(&self, fresh: &[Vec<LiveSubscription>], shown: &str, keys: &Keys) -> Option<Vec<String>> {
        let mut stale = Vec::new();
        for (m, live) in self.merchants.iter().zip(fresh) {
            if live_fingerprint(live) == m.fingerprint {
                continue;
            }
            stale.push(format!(
                "merchant `{}`: live subscriptions changed since the plan was saved:",
                m.manifest.label
            ));
            stale.extend(
                live_changes(&m.live, live, MAX_STALE_LINES, keys)
                    .into_iter()
                    .map(|line| format!("  {line}")),
            );
        }
        if stale.is_empty() {
            return None;
        }
        let mut reasons = vec![format!(
            "plan is stale: `{shown}` no longer matches live state; nothing was changed"
        )];
        reasons.extend(stale);
        reasons.push(format!(
            "re-plan with `invhooks plan --out {shown}`, review it, then run `invhooks apply --plan {shown}`"
        ));
        Some(reasons)
    }
}

/// The advice for a plan that cannot be used: make a new one.
pub fn replan(shown: &str) -> String {
    format!("re-create it with `invhooks plan --out {shown}`, then run `invhooks apply --plan {shown}`")
}

/// How live state moved since a plan was saved, one line per subscription
/// (masked values), for the "plan is stale" message. At most `max` lines.
pub fn live_changes(
    saved: &[LiveSubscription],
    now: &[LiveSubscription],
    max: usize,
    keys: &Keys,
) -> Vec<String> {
    let before: HashMap<&str, &LiveSubscription> = saved.iter().map(|s| (s.id.as_str(), s)).collect();
    let after: HashSet<&str> = now.iter().map(|s| s.id.as_str()).collect();
    let mut lines = Vec::new();
    for s in now {
        let v = LiveView::of(s, keys);
        match before.get(s.id.as_str()).copied() {
            None => lines.push(format!("added {} {} [{}] {}", v.topic, v.name, v.id, v.url)),
            Some(o) if o != s => {
                let was = LiveView::of(o, keys);
                let what = if o.callback_url != s.callback_url {
                    if was.url == v.url {
                        format!(
                            "callback URL {} ({})",
                            v.url,
                            url_note(&o.callback_url, &s.callback_url)
                        )
                    } else {
                        format!("callback URL {} → {}", was.url, v.url)
                    }
                } else {
                    format!("was {} {}", was.topic, was.name)
                };
                lines.push(format!("changed {} {} [{}]: {what}", v.topic, v.name, v.id));
            }
            Some(_) => {}
        }
    }
    for o in saved.iter().filter(|o| !after.contains(o.id.as_str())) {
        let v = LiveView::of(o, keys);
        lines.push(format!("removed {} {} [{}]", v.topic, v.name, v.id));
    }
    lines.sort();
    if lines.len() > max {
        let more = lines.len() - max;
        lines.truncate(max);
        lines.push(format!("and {more} more"));
    }
    lines
}
