//! Saved plans at the edges: `plan --out FILE` writes one, `apply --plan FILE`
//! hands it back only if live has not moved; the file's model and checks are [`crate::saved`].

use std::io::ErrorKind::NotFound;
use std::path::Path;

use anyhow::Context as _;

use super::context::{read_text, Sink};
use super::{api_key, fetch, Context, Helped, Target};
use crate::model::{LiveSubscription, MerchantManifest};
use crate::plan::Plan;
use crate::saved::{self, Loaded, PlanFileError, SavedMerchant, SavedPlan};

/// Largest plan file read.
const MAX_PLAN_BYTES: u64 = 64 << 20;

/// Writes the saved plan of `targets`, bound to each key by a salted digest, holding no key.
pub fn write(ctx: &Context, path: &Path, targets: &[Target]) -> anyhow::Result<()> {
    let (key_salt, limits) = (format!("{:032x}", rand::random::<u128>()), ctx.thresholds());
    let merchants = (targets.iter())
        .map(|t| {
            let file = &t.manifest.file;
            let bytes = std::fs::read(file)
                .with_context(|| format!("could not read `{}` again to record its digest", file.display()))?;
            let (sha, digest) = (crate::digest::sha256(&bytes), t.key.digest(&key_salt));
            let live = without_key(t);
            Ok(SavedMerchant::new(&t.manifest, live, sha, digest, &limits))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let doc = SavedPlan::new(crate::VERSION, ctx.base_url.as_str(), key_salt, merchants);
    let shown = path.display();
    ctx.emit(Sink::Private(path, true), &crate::render::json::pretty(&doc))
        .with_context(|| format!("could not write the plan to `{shown}`"))?;
    ctx.status(&format!(
        "saved the plan to {shown} (real callback URLs: keep it private); apply it with `invhooks apply --plan {shown}`"
    ));
    Ok(())
}

/// Refuses `--out PATH` before any request when `PATH` exists and is not a saved plan.
pub fn may_replace(path: &Path) -> anyhow::Result<()> {
    if std::fs::symlink_metadata(path).is_err_and(|e| e.kind() == NotFound) {
        return Ok(());
    }
    use PlanFileError::{Damaged, Inconsistent, Version};
    let why = match read_text(path, MAX_PLAN_BYTES).map(|text| SavedPlan::parse(&text, crate::VERSION)) {
        Ok(Ok(_) | Err(Version { .. } | Damaged(_) | Inconsistent(_))) => return Ok(()),
        Ok(Err(e)) => e.to_string(),
        Err(e) => e.to_string(),
    };
    let shown = path.display();
    Err(Helped::msg(
        format!("`{shown}` exists and is not a saved plan ({why}); nothing was written"),
        "`--out` replaces only a saved plan: choose a new file, e.g. `--out plan.json`",
    ))
}

/// A target's live list as saved plans hold it: the key replaced by its placeholder.
fn without_key(t: &Target) -> Vec<LiveSubscription> {
    let placeholder = saved::key_placeholder(&t.manifest.api_key_env);
    let hide = |v: &str| t.key.hide(v, &placeholder);
    (t.live.iter())
        .map(|s| LiveSubscription {
            id: hide(&s.id),
            topic: hide(&s.topic),
            name: hide(&s.name),
            callback_url: hide(&s.callback_url),
        })
        .collect()
}

/// The saved plan (exactly) and its targets if still fresh ([`crate::saved`] decides), else why not.
pub async fn load(ctx: &Context, path: &Path) -> anyhow::Result<Result<(Vec<Target>, Plan), Vec<String>>> {
    // A policy file with problems stops it first, as it stops `plan`.
    ctx.policy().map_err(|d| fetch::problems(ctx, &d))?;
    let shown = path.display().to_string();
    let loaded = read(path, "apply")?;
    if let Some(reasons) = loaded.other_base_url(ctx.base_url.as_str(), &shown) {
        return Ok(Err(reasons));
    }
    let who = |m: &MerchantManifest| format!("merchant `{}` in plan {shown}", m.label);
    let digests = (loaded.merchants.iter())
        .map(|m| Ok(api_key(&m.manifest.api_key_env, &who(&m.manifest))?.digest(&loaded.file.key_salt)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if let Some(reasons) = loaded.other_key(&digests, &shown) {
        return Ok(Err(reasons));
    }
    let (version, digest) = (&loaded.file.tool_version, &loaded.file.manifest_digest);
    let digest = digest.get(..19).unwrap_or(digest);
    ctx.status(&format!(
        "applying saved plan {shown} (written by invhooks {version}, manifests {digest})"
    ));
    let manifests: Vec<_> = loaded.merchants.iter().map(|m| m.manifest.clone()).collect();
    manifests.iter().try_for_each(|m| recheck(m, &shown))?;
    fetch::police(ctx, &manifests, true).map_err(|d| fetch::problems(ctx, &d))?;
    let targets = fetch::targets(ctx, manifests, fetch::READS_IN_FLIGHT, who).await?;
    // Compared as saved: with each key replaced by its placeholder.
    let fresh: Vec<_> = targets.iter().map(without_key).collect();
    if let Some(reasons) = loaded.stale(&fresh, &shown, &ctx.keys()) {
        return Ok(Err(reasons));
    }
    // The saved changes exactly, their safety judged by this run's thresholds.
    let mut plan = loaded.plan();
    for (m, saved) in plan.merchants.iter_mut().zip(&loaded.merchants) {
        m.safety = ctx.thresholds().trip(&m.summary, &saved.manifest, &saved.live);
    }
    Ok(Ok((targets, plan)))
}

/// A plan file edited by hand cannot send what no manifest may hold.
fn recheck(m: &MerchantManifest, shown: &str) -> anyhow::Result<()> {
    let found = crate::manifest::problems_by_entry(&m.file, &crate::manifest::as_written(m)?);
    if found.is_empty() {
        return Ok(());
    }
    let show = crate::escape::show;
    let lines = found
        .iter()
        .map(|(entry, d)| match entry.and_then(|i| m.subscriptions.get(i)) {
            Some(s) => {
                let (at, name, topic) = (&s.location, show(&s.name), show(&s.topic));
                format!("- {at}: `{name}` on `{topic}`: {}", d.message)
            }
            None => format!("- merchant `{}`: {}", show(&m.label), d.message),
        });
    let lines: String = super::first(20, lines).map(|l| format!("\n  {l}")).collect();
    Err(Helped::msg(
        format!("plan file `{shown}` holds entries no manifest may hold (edited after `invhooks plan --out`?); nothing was sent:{lines}"),
        saved::replan(shown),
    ))
}

/// Reads and checks a saved plan for `command` (`apply` or `show`: the advice differs).
pub fn read(path: &Path, command: &str) -> anyhow::Result<Loaded> {
    let shown = path.display().to_string();
    let replan = match command {
        "apply" => saved::replan(&shown),
        _ => format!("re-create it with `invhooks plan --out {shown}`"),
    };
    // A file that is no saved plan is never suggested as `--out`: it may be a manifest.
    let elsewhere = "leave it as it is (it may be a manifest) and save a plan to a new file: `invhooks plan --out plan.json`";
    let text = read_text(path, MAX_PLAN_BYTES).map_err(|e| {
        let help = match e.kind() {
            NotFound => format!("pass the file `invhooks plan --out FILE` wrote, or {replan}"),
            _ => elsewhere.to_owned(),
        };
        let what = format!("cannot read plan file `{shown}`");
        Helped::wrap(anyhow::Error::new(e).context(what), help)
    })?;
    SavedPlan::parse(&text, crate::VERSION).map_err(|e| {
        let help = match &e {
            PlanFileError::JsonOutput => "`--format json` masks secrets and is for reading; save an appliable plan to a new file with `invhooks plan --out plan.json`".to_owned(),
            PlanFileError::Version { .. } => format!("{command} it with the invhooks version that wrote it, or {replan}"),
            PlanFileError::NotJson(_) | PlanFileError::Foreign => elsewhere.to_owned(),
            PlanFileError::Damaged(_) | PlanFileError::Inconsistent(_) => replan.clone(),
        };
        Helped::msg(format!("cannot use plan file `{shown}`: {e}"), help)
    })
}
