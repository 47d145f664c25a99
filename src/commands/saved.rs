//! Saved plans at the edges: `plan --out FILE` writes one (mode 0600,
//! atomically), `apply --plan FILE` reads one, re-reads every merchant's
//! live state and hands back the saved plan only if nothing moved.
//! The file's model and checks are [`crate::saved`].

use std::io::Read;
use std::path::Path;

use anyhow::Context as _;

use super::context::Sink;
use super::{api_key, fetch, Context, Helped, Target};
use crate::plan::Plan;
use crate::saved::{self, PlanFileError, SavedPlan};

/// Largest plan file read.
const MAX_PLAN_BYTES: u64 = 64 * 1024 * 1024;

/// Writes the saved plan of `plan` (computed from `targets`) to `path`:
/// bound to each merchant's key by a salted digest, and holding no key
/// (a live value with the key in it gets a placeholder that `apply --plan`
/// fills in again).
pub fn write(ctx: &Context, path: &Path, targets: &[Target], plan: &Plan) -> anyhow::Result<()> {
    let mut files = Vec::with_capacity(targets.len());
    for t in targets {
        let bytes = std::fs::read(&t.manifest.file).with_context(|| {
            format!(
                "could not read `{}` again to record its digest",
                t.manifest.file.display()
            )
        })?;
        files.push(saved::sha256(&bytes));
    }
    let key_salt = salt();
    let manifests: Vec<_> = targets.iter().map(|t| t.manifest.clone()).collect();
    let live: Vec<_> = targets.iter().map(|t| t.live.clone()).collect();
    let key_digests: Vec<_> = targets.iter().map(|t| t.key.digest(&key_salt)).collect();
    let sources = saved::Sources {
        manifests: &manifests,
        live: &live,
        files: &files,
        key_digests: &key_digests,
        key_salt: &key_salt,
    };
    let doc = saved::build(crate::VERSION, ctx.base_url.as_str(), sources, plan);
    let text = targets.iter().fold(doc.to_json(), |text, t| {
        t.key
            .hide(&text, &saved::key_placeholder(&t.manifest.api_key_env))
    });
    ctx.emit(Sink::Private(path), &text)
        .with_context(|| format!("could not write the plan to `{}`", path.display()))?;
    ctx.status(&format!(
        "saved the plan to {} (real callback URLs: keep it private); apply it with `invhooks apply --plan {}`",
        path.display(),
        path.display()
    ));
    Ok(())
}

/// 16 random bytes as hex: the salt of a plan's key digests.
fn salt() -> String {
    use rand::Rng as _;
    let bytes: [u8; 16] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What `apply --plan` found.
#[derive(Debug)]
pub enum Prepared {
    /// Live state is as saved: apply `plan` to `targets`.
    Ready {
        /// One target per merchant, its manifest rebuilt from the file.
        targets: Vec<Target>,
        /// The saved plan, exactly.
        plan: Plan,
    },
    /// Refused before any change: why, one line each.
    Refused(Vec<String>),
}

/// Reads a saved plan and checks it is still fresh ([`crate::saved`]
/// decides: the same base URL, and for every merchant the same live
/// fingerprint). Nothing is written.
pub async fn load(ctx: &Context, path: &Path) -> anyhow::Result<Prepared> {
    let shown = path.display().to_string();
    let replan = saved::replan(&shown);
    let text = read_plan(path).map_err(|e| {
        let help = if e.kind() == std::io::ErrorKind::NotFound {
            format!("pass the file `invhooks plan --out FILE` wrote, or {replan}")
        } else {
            replan.clone()
        };
        Helped::wrap(
            anyhow::Error::new(e).context(format!("cannot read plan file `{shown}`")),
            help,
        )
    })?;
    // Keys the plan holds placeholders for, back in place before the checks.
    let mut text = text;
    for env in saved::placeholders(&text) {
        let key = api_key(&env, &format!("plan {shown}"))?;
        text = key.restore(&text, &saved::key_placeholder(&env));
    }
    let loaded = SavedPlan::parse(&text, crate::VERSION).map_err(|e| {
        let help = match &e {
            PlanFileError::JsonOutput => format!(
                "`--format json` masks secrets and is for reading; save an appliable plan with `invhooks plan --out {shown}`"
            ),
            PlanFileError::Version { .. } => {
                format!("apply it with the invhooks version that wrote it, or {replan}")
            }
            _ => replan.clone(),
        };
        Helped::wrap(anyhow::anyhow!("cannot use plan file `{shown}`: {e}"), help)
    })?;
    if let Some(reasons) = loaded.other_base_url(ctx.base_url.as_str(), &shown) {
        return Ok(Prepared::Refused(reasons));
    }
    let mut digests = Vec::with_capacity(loaded.merchants.len());
    for m in &loaded.merchants {
        let who = format!("merchant `{}` in plan {shown}", m.manifest.label);
        digests.push(api_key(&m.manifest.api_key_env, &who)?.digest(&loaded.key_salt));
    }
    if let Some(reasons) = loaded.other_key(&digests, &shown) {
        return Ok(Prepared::Refused(reasons));
    }
    ctx.status(&format!(
        "applying saved plan {shown} (written by invhooks {}, manifests {})",
        loaded.tool_version,
        short(&loaded.manifest_digest)
    ));
    let manifests = loaded.merchants.iter().map(|m| m.manifest.clone()).collect();
    let targets = fetch::targets(ctx, manifests, |m| {
        format!("merchant `{}` in plan {shown}", m.label)
    })
    .await?;
    let fresh: Vec<_> = targets.iter().map(|t| t.live.clone()).collect();
    if let Some(reasons) = loaded.stale(&fresh, &shown) {
        return Ok(Prepared::Refused(reasons));
    }
    Ok(Prepared::Ready {
        targets,
        plan: loaded.plan(),
    })
}

fn read_plan(path: &Path) -> std::io::Result<String> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_PLAN_BYTES + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_PLAN_BYTES {
        return Err(std::io::Error::other("larger than 64 MiB"));
    }
    String::from_utf8(bytes)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8 text"))
}

/// `sha256:1a2b3c4d5e6f` from a full digest.
fn short(digest: &str) -> &str {
    digest.get(..19).unwrap_or(digest)
}
