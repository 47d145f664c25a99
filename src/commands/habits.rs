//! Flags people bring from Terraform (`-auto-approve`, `-out=F`,
//! `--detailed-exitcode` on drift) or from other CLIs (`--api-key K`):
//! a usage error that names what invhooks spells instead of clap's raw
//! parser error. The value of a key flag is never echoed.

use std::ffi::OsString;

use clap::CommandFactory as _;

use super::Helped;
use crate::cli::Cli;

/// Flag names that would carry an API key.
const KEY_FLAGS: [&str; 3] = ["api-key", "key", "token"];

/// The hint for an unknown argument that is a known habit; `None` for any
/// other error (clap's own message is then shown).
pub fn habit(err: &clap::Error, args: &[OsString]) -> Option<anyhow::Error> {
    if err.kind() != clap::error::ErrorKind::UnknownArgument {
        return None;
    }
    let cli = Cli::command();
    let args: Vec<String> = args.iter().map(|a| a.to_string_lossy().into_owned()).collect();
    let at = args.iter().position(|a| cli.find_subcommand(a).is_some())?;
    let sub = cli.find_subcommand(&args[at])?;
    let name = sub.get_name();
    let longs: Vec<&str> = sub.get_arguments().filter_map(|a| a.get_long()).collect();
    args[at + 1..].iter().take_while(|a| *a != "--").find_map(|arg| {
        let dashes = arg.len() - arg.trim_start_matches('-').len();
        let (flag, value) = arg[dashes..].split_once('=').map_or((&arg[dashes..], None), |(f, v)| (f, Some(v)));
        if dashes == 0 || dashes > 2 || longs.contains(&flag) && dashes == 2 {
            return None;
        }
        let (message, help) = if KEY_FLAGS.contains(&flag) && !longs.contains(&flag) {
            (
                format!("`{name}` takes no `--{flag}`: API keys are read from the environment only (a flag shows in process lists and shell history)"),
                "set the key in `INVETERATE_API_KEY`, or in the variable the manifest's `apiKeyEnv` names, and drop the flag".to_owned(),
            )
        } else if name == "drift" && flag == "detailed-exitcode" {
            (
                "`drift` takes no `--detailed-exitcode`: it always exits 2 when live drifted, 0 in sync, 1 on error".to_owned(),
                "drop `--detailed-exitcode`".to_owned(),
            )
        } else if dashes == 1 && flag.len() > 1 && longs.contains(&flag) {
            let shown = match value {
                Some(v) if !KEY_FLAGS.contains(&flag) => format!("--{flag} {}", crate::escape::show(v)),
                _ => format!("--{flag}"),
            };
            (
                format!("unexpected argument `-{flag}`: invhooks flags take two dashes"),
                format!("write `{shown}`"),
            )
        } else {
            return None;
        };
        Some(Helped::wrap(anyhow::anyhow!(message), help))
    })
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;
    use proptest::prelude::*;

    proptest! {
        /// A key given as a flag, in any spelling, is never in the hint.
        #[test]
        fn a_key_flag_value_is_never_echoed(
            key in "[A-Za-z0-9_-]{8,40}",
            command in prop::sample::select(vec!["plan", "apply", "drift", "export", "check", "trigger"]),
            flag in prop::sample::select(vec!["--api-key", "-api-key", "--token", "-key", "--key"]),
            joined in any::<bool>(),
        ) {
            let args: Vec<std::ffi::OsString> = match joined {
                true => vec!["invhooks".into(), command.into(), format!("{flag}={key}").into()],
                false => vec!["invhooks".into(), command.into(), flag.into(), key.clone().into()],
            };
            let Err(err) = crate::cli::Cli::command().try_get_matches_from(&args) else {
                return Err(TestCaseError::fail("parsed"));
            };
            let hint = super::habit(&err, &args).ok_or_else(|| TestCaseError::fail("no hint"))?;
            let shown = crate::commands::report(&hint, false);
            prop_assert!(!shown.contains(&key), "{shown}");
            prop_assert!(shown.contains("environment only"), "{shown}");
        }
    }
}
