//! `invhooks init` (docs/commands/init.md): `webhooks.yaml`, the CI files of `examples/` and
//! the policy template with the manifest's hosts; all or nothing.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::context::Sink;
use super::{Context, Helped};
use crate::cli::{Ci, InitArgs};
use crate::exit::Exit;
use crate::manifest::{self, Diagnostics};

const MANIFEST: &str = "webhooks.yaml";
const TEMPLATE: &str = include_str!("../../examples/invhooks-policy.yaml");
const POLICY: (&str, &str) = ("invhooks-policy.yaml", TEMPLATE);
const PLAN: &str = include_str!("../../examples/github-actions/plan.yml");
const APPLY: &str = include_str!("../../examples/github-actions/apply.yml");
const DRIFT: &str = include_str!("../../examples/github-actions/drift.yml");
const GITHUB: [(&str, &str); 3] = [
    (".github/workflows/invhooks-plan.yml", PLAN),
    (".github/workflows/invhooks-apply.yml", APPLY),
    (".github/workflows/invhooks-drift.yml", DRIFT),
];
const GITLAB: [(&str, &str); 1] = [(".gitlab-ci.yml", include_str!("../../examples/gitlab-ci.yml"))];

pub async fn run(ctx: &Context, args: InitArgs) -> anyhow::Result<Exit> {
    let ci: &[(&str, &str)] = match args.ci {
        Ci::Github => &GITHUB,
        Ci::Gitlab => &GITLAB,
        Ci::None => &[],
    };
    let at = |name: &str| match args.dir == Path::new(".") {
        true => PathBuf::from(name),
        false => args.dir.join(name),
    };
    let names = ([MANIFEST, POLICY.0].into_iter()).chain(ci.iter().map(|(name, _)| *name));
    let existing: Vec<String> = (names.map(at))
        .filter(|path| std::fs::symlink_metadata(path).is_ok())
        .map(|path| format!("`{}`", path.display()))
        .collect();
    if !args.force && !existing.is_empty() {
        let verb = if existing.len() == 1 { "exists" } else { "exist" };
        return Err(Helped::msg(
            format!("{} already {verb}; nothing was written", existing.join(", ")),
            "pass `--force` to replace what exists, or `--dir DIR` to scaffold another directory",
        ));
    }
    let shown = at(MANIFEST).display().to_string();
    let key = manifest::DEFAULT_API_KEY_ENV;
    let (manifest, _, left_out) = match args.from_live {
        true => super::export::one(ctx, args.merchant.clone(), key, "init --from-live", &shown).await?,
        false => (example(args.merchant.as_deref()), String::new(), 0),
    };
    let policy = checked_policy(&at(MANIFEST), &manifest, &at(POLICY.0), args.merchant.as_deref())?;
    let files = [(MANIFEST, manifest.as_str()), (POLICY.0, policy.as_str())];
    for (name, text) in files.into_iter().chain(ci.iter().copied()) {
        let path = at(name);
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
        (dir.map_or(Ok(()), std::fs::create_dir_all))
            .and_then(|()| ctx.emit(Sink::Private(&path, args.force), text))
            .with_context(|| format!("could not write `{}`", path.display()))?;
        ctx.out(&format!("wrote {}\n", path.display()));
    }
    if left_out > 0 {
        ctx.refuse(&[
            format!("{left_out} live subscription(s) left out of `{shown}`, each named above: a manifest cannot hold them as they are"),
            "help: `invhooks plan` would delete them; add their entries by hand (or fix them in Inveterate and run `init --from-live --force`) before you apply".to_owned(),
        ]);
        return Ok(Exit::Error);
    }
    ctx.out(&next(&args));
    Ok(Exit::Success)
}

/// The example manifest, labelled `label` if given (quoted: one YAML scalar).
fn example(label: Option<&str>) -> String {
    let example = super::sandbox::EXAMPLE.to_owned();
    let Some(label) = label else { return example };
    let line = format!("merchant: {}\n", serde_json::Value::from(label));
    example.replacen("merchant: acme-eu\n", &line, 1)
}

/// The policy template allowing exactly `manifest`'s hosts, once the manifest validates under it.
fn checked_policy(
    file: &Path,
    manifest: &str,
    policy_file: &Path,
    label: Option<&str>,
) -> anyhow::Result<String> {
    let loaded = manifest::load_str(file, manifest, &|_| None).map_err(|d| {
        let help = "fix what is named (live, or the `--merchant` label), or start from the example without `--from-live`";
        let shown = file.display();
        Helped::msg(format!("{d}\n`{shown}` would not validate as written; nothing was written"), help)
    })?;
    let labelled = label.is_none_or(|l| l == loaded.label);
    anyhow::ensure!(labelled, "the manifest's label is not `--merchant`'s");
    let host = |url: &str| Some(format!("\"{}\"", url::Url::parse(url).ok()?.host_str()?));
    let hosts: BTreeSet<String> = (loaded.subscriptions.iter())
        .filter_map(|s| host(&s.callback_url))
        .collect();
    let hosts = hosts.into_iter().collect::<Vec<_>>().join(", ");
    let allowed = match hosts.is_empty() {
        true => "# allowedCallbackHosts: [\"hooks.example.com\"]   # your receivers' hosts".to_owned(),
        false => format!("allowedCallbackHosts: [{hosts}]   # the hosts {MANIFEST} delivers to"),
    };
    let text: String = (POLICY.1.lines())
        .map(|line| match line.starts_with("allowedCallbackHosts:") {
            true => format!("{allowed}\n"),
            false => format!("{line}\n"),
        })
        .collect();
    let policy = crate::policy::parse(policy_file, &text).map_err(|d| anyhow::anyhow!("{d}"))?;
    let found = policy.check(std::slice::from_ref(&loaded));
    anyhow::ensure!(found.is_empty(), "{}", Diagnostics(found));
    Ok(text)
}

/// The command to run next, and what the CI files still need.
fn next(args: &InitArgs) -> String {
    let cd = match args.dir == Path::new(".") {
        true => String::new(),
        false => format!("cd {} && ", crate::escape::show(&args.dir.display().to_string())),
    };
    let (policy, key) = (POLICY.0, manifest::DEFAULT_API_KEY_ENV);
    let mut text = match args.from_live {
        true => format!("next: `{cd}invhooks plan --policy {policy}` (with `{key}` set): it reports no changes\n"),
        false => format!("next: edit {MANIFEST} to declare your webhooks, then `{cd}invhooks validate --policy {policy}`\n"),
    };
    text.push_str(match args.ci {
        Ci::Github => "then: in .github/workflows/invhooks-*.yml replace `YOUR_ORG/invhooks` with the repository you take invhooks from, and add the repository secret `INVETERATE_API_KEY`\n",
        Ci::Gitlab => "then: in .gitlab-ci.yml replace `YOUR_ORG` with the repository you take invhooks from, and set the CI/CD variables listed at its top\n",
        Ci::None => "",
    });
    text
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use proptest::prelude::*;

    proptest! {
        /// Whatever `--merchant` says, `init` writes a manifest that
        /// validates under its policy with exactly that label, or refuses.
        #[test]
        fn the_scaffold_validates_with_the_label_given_or_is_refused(label in prop_oneof!["[ -~]{0,30}", any::<String>()]) {
            let manifest = super::example(Some(&label));
            let file = Path::new("webhooks.yaml");
            if let Ok(policy) = super::checked_policy(file, &manifest, Path::new("p.yaml"), Some(&label)) {
                let loaded = crate::manifest::load_str(file, &manifest, &|_| None).map_err(|d| TestCaseError::fail(d.to_string()))?;
                prop_assert_eq!(&loaded.label, &label);
                let policy = crate::policy::parse(Path::new("p.yaml"), &policy).map_err(|d| TestCaseError::fail(d.to_string()))?;
                prop_assert!(policy.check(&[loaded]).is_empty());
            }
        }
    }

    #[test]
    fn a_plain_label_is_accepted() {
        let manifest = super::example(Some("acme-us"));
        let policy = super::checked_policy(
            Path::new("w.yaml"),
            &manifest,
            Path::new("p.yaml"),
            Some("acme-us"),
        );
        assert!(policy.is_ok(), "{policy:?}");
    }
}
