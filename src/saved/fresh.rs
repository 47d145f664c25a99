//! Whether a saved plan still applies: the same base URL and key, and for
//! every merchant the same live state as when it was saved. The reasons are
//! the lines the user reads when `apply --plan` refuses.

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
        let (was, now) = (mask_url(&self.base_url), mask_url(base_url));
        (self.base_url != base_url).then(|| {
            vec![
                format!("plan `{shown}` was computed against `{was}`, but this run talks to `{now}`; nothing was changed"),
                format!("use the same --base-url / INVETERATE_BASE_URL as the plan, or {}", replan(shown)),
            ]
        })
    }

    /// Why the plan cannot be applied with these keys (`digests`: each
    /// merchant's with [`Loaded::key_salt`], in plan order); `None` when
    /// every key is the one the plan was made with.
    pub fn other_key(&self, digests: &[String], shown: &str) -> Option<Vec<String>> {
        let others = self
            .merchants
            .iter()
            .zip(digests)
            .filter(|(m, digest)| m.key_digest != **digest);
        let mut reasons: Vec<String> = others
            .map(|(m, _)| {
                let (label, env) = (&m.manifest.label, &m.manifest.api_key_env);
                format!("plan `{shown}` was saved for another API key: merchant `{label}` (`{env}`); nothing was changed")
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
    /// (in plan order), `keys` masked; `None` when nothing moved.
    pub fn stale(&self, fresh: &[Vec<LiveSubscription>], shown: &str, keys: &Keys) -> Option<Vec<String>> {
        let mut reasons = vec![format!(
            "plan is stale: `{shown}` no longer matches live state; nothing was changed"
        )];
        for (m, live) in self.merchants.iter().zip(fresh) {
            if live_fingerprint(live) != live_fingerprint(&m.live) {
                let label = &m.manifest.label;
                reasons.push(format!(
                    "merchant `{label}`: live subscriptions changed since the plan was saved:"
                ));
                let lines = live_changes(&m.live, live, MAX_STALE_LINES, keys);
                reasons.extend(lines.into_iter().map(|line| format!("  {line}")));
            }
        }
        reasons.push(format!(
            "re-plan with `invhooks plan --out {shown}`, review it, then run `invhooks apply --plan {shown}`"
        ));
        (reasons.len() > 2).then_some(reasons)
    }
}

/// The advice for a plan that cannot be used: make a new one.
pub fn replan(shown: &str) -> String {
    format!("re-create it with `invhooks plan --out {shown}`, then run `invhooks apply --plan {shown}`")
}

/// How live state moved since a plan was saved, one line per subscription
/// (masked values), at most `max` and then "and N more".
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
        let Some(&o) = before.get(s.id.as_str()) else {
            lines.push(format!("added {} {} [{}] {}", v.topic, v.name, v.id, v.url));
            continue;
        };
        if o == s {
            continue;
        }
        let was = LiveView::of(o, keys);
        let what = if o.callback_url == s.callback_url {
            format!("was {} {}", was.topic, was.name)
        } else if was.url == v.url {
            format!(
                "callback URL {} ({})",
                v.url,
                url_note(&o.callback_url, &s.callback_url)
            )
        } else {
            format!("callback URL {} → {}", was.url, v.url)
        };
        lines.push(format!("changed {} {} [{}]: {what}", v.topic, v.name, v.id));
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
