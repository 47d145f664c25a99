//! How errors reach the user (`error:`, `caused by:`, `help:`, keys redacted,
//! crashes included), and hints for flags brought from Terraform or other CLIs.

use std::ffi::OsString;
use std::fmt;
use std::io::Write as _;
use std::path::Path;

use clap::error::{ContextKind, ContextValue};
use clap::CommandFactory as _;

use crate::api::redact_known;
use crate::cli::Cli;
use crate::render::github::defuse;

/// An error with a suggestion of what to do next.
#[derive(Debug)]
pub struct Helped {
    pub error: anyhow::Error,
    pub help: String,
}

impl Helped {
    pub fn wrap(error: anyhow::Error, help: impl Into<String>) -> anyhow::Error {
        let help = help.into();
        anyhow::Error::new(Helped { error, help })
    }

    pub fn msg(message: impl Into<String>, help: impl Into<String>) -> anyhow::Error {
        Self::wrap(anyhow::Error::msg(message.into()), help)
    }
}

impl fmt::Display for Helped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.error)
    }
}

impl std::error::Error for Helped {
    // The wrapped error is this one's text: the chain goes on with its cause.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error.source()
    }
}

/// An error as `error:`, `caused by:` lines and the first `help:` in its chain.
pub fn report(err: &anyhow::Error, color: bool) -> String {
    let head = err.to_string();
    let label = if head.starts_with("error:") { "" } else { "error: " };
    let causes: String = (err.chain().skip(1))
        .map(|c| format!("\n  caused by: {c}"))
        .collect();
    let help = err.chain().find_map(|c| c.downcast_ref::<Helped>());
    let help = help.map(|h| format!("\n  help: {}", h.help)).unwrap_or_default();
    let text = redact_known(&format!("{label}{head}{causes}{help}\n"));
    paint_labels(&defuse(&text), color)
}

/// `text` with each line's leading `error:` or `warning:` coloured when `color`.
pub(super) fn paint_labels(text: &str, color: bool) -> String {
    use anstyle::{AnsiColor, Style};
    if !color {
        return text.to_owned();
    }
    let paint = |line: &str| {
        for (label, hue) in [("error:", AnsiColor::Red), ("warning:", AnsiColor::Yellow)] {
            if let Some(rest) = line.strip_prefix(label) {
                let style = Style::new().bold().fg_color(Some(hue.into()));
                return format!("{}{label}{}{rest}", style.render(), style.render_reset());
            }
        }
        line.to_owned()
    };
    text.split_inclusive('\n').map(paint).collect()
}

/// A crash is reported as a bug, keys redacted: even a bug that formats a key cannot print it.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let message = (payload.downcast_ref::<&str>().copied())
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("(no message)");
        let at = (info.location()).map_or_else(String::new, |l| format!(" at {}:{}", l.file(), l.line()));
        let backtrace = std::backtrace::Backtrace::capture();
        let backtrace = match backtrace.status() {
            std::backtrace::BacktraceStatus::Captured => format!("\n{backtrace}"),
            _ => String::new(),
        };
        let report = redact_known(&format!(
            "error: invhooks crashed{at}: {message}\n  help: this is a bug; please report it with the command you ran (API keys are redacted from this message){backtrace}\n"
        ));
        let _ = std::io::stderr().lock().write_all(defuse(&report).as_bytes());
    }));
}

/// Prints clap's own message: help and version on stdout; a usage error on stderr with the
/// default key variable's value masked, as clap echoes an argument it does not take.
pub fn print_usage_error(err: &clap::Error, color: bool) {
    if !err.use_stderr() {
        let _ = err.print();
        return;
    }
    if let Ok(key) = std::env::var(crate::manifest::DEFAULT_API_KEY_ENV) {
        crate::api::ApiKey::new(key.trim().to_owned());
    }
    let _ = std::io::stderr().write_all(usage_text(err, color).as_bytes());
}

/// clap's message as [`print_usage_error`] writes it: every key read so far masked. A message
/// that holds one is written without colour: a colour code beside a short key would hide it
/// from the whole-word match.
fn usage_text(err: &clap::Error, color: bool) -> String {
    let plain = err.render().to_string();
    let masked = redact_known(&plain);
    let text = match color && masked == plain {
        true => err.render().ansi().to_string(),
        false => masked,
    };
    defuse(&text).into_owned()
}

/// Flag names that would carry an API key.
const KEY_FLAGS: [&str; 3] = ["api-key", "key", "token"];

/// The hint for an argument that is a known habit: after clap's "unknown argument" (`None`:
/// clap's message), or after a parse (`error: None`) that read one as short flags with a value
/// (`-force` as `-f orce`, `-format` as `-f ormat`).
pub fn habit(error: Option<&clap::Error>, args: &[OsString]) -> Option<anyhow::Error> {
    if error.is_some_and(|e| e.kind() != clap::error::ErrorKind::UnknownArgument) {
        return None;
    }
    // After a parse only `-word` can be a habit: no other line builds the command's model.
    let one_dash = |a: &OsString| {
        a.to_str()
            .is_some_and(|a| a.len() > 2 && a.starts_with('-') && !a.starts_with("--"))
    };
    if error.is_none() && !args.iter().any(one_dash) {
        return None;
    }
    let cli = Cli::command();
    let args: Vec<String> = args.iter().map(|a| a.to_string_lossy().into_owned()).collect();
    let (at, sub) = args
        .iter()
        .enumerate()
        .find_map(|(i, a)| Some((i, cli.find_subcommand(a)?)))?;
    let name = sub.get_name();
    let longs: Vec<&str> = sub.get_arguments().filter_map(|a| a.get_long()).collect();
    // A manifest or saved plan where no argument is taken: the flag to pass it with.
    if let Some(ContextValue::String(arg)) = error.and_then(|e| e.get(ContextKind::InvalidArg)) {
        let manifest = [".yaml", ".yml"].iter().any(|e| arg.ends_with(e)) || Path::new(arg).is_dir();
        let takes = match (manifest, arg.ends_with(".json")) {
            _ if arg.starts_with('-') => None,
            (true, _) if longs.contains(&"file") => Some(("manifests", "-f")),
            (_, true) if longs.contains(&"plan") => Some(("a saved plan", "--plan")),
            _ => None,
        };
        if let Some((what, flag)) = takes {
            let message = format!("`{name}` reads {what} from `{flag} PATH`, not from its arguments");
            let help = format!("write `{flag} {}`", crate::escape::show(arg));
            return Some(Helped::msg(message, help));
        }
    }
    args[at + 1..].iter().take_while(|a| *a != "--").find_map(|arg| {
        let flag = arg.trim_start_matches('-');
        let dashes = arg.len() - flag.len();
        let (flag, value) = flag.split_once('=').map_or((flag, None), |(f, v)| (f, Some(v)));
        let (known, key) = (longs.contains(&flag), KEY_FLAGS.contains(&flag));
        let (message, help) = match dashes {
            1 | 2 if key && !known => (
                format!("`{name}` takes no `--{flag}`: API keys are read from the environment only (a flag shows in process lists and shell history)"),
                "set the key in `INVETERATE_API_KEY`, or in the variable the manifest's `apiKeyEnv` names, and drop the flag".to_owned(),
            ),
            1 | 2 if name == "drift" && flag == "detailed-exitcode" => (
                "`drift` takes no `--detailed-exitcode`: it always exits 2 when live drifted, 0 in sync, 1 on error".to_owned(),
                "drop `--detailed-exitcode`".to_owned(),
            ),
            1 if flag.len() > 1 && known => {
                let value = value.filter(|_| !key).map(|v| format!(" {}", crate::escape::show(v)));
                let shown = format!("--{flag}{}", value.unwrap_or_default());
                (format!("unexpected argument `-{flag}`: invhooks flags take two dashes"), format!("write `{shown}`"))
            }
            _ => return None,
        };
        Some(Helped::msg(message, help))
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
            let hint = super::habit(Some(&err), &args).ok_or_else(|| TestCaseError::fail("no hint"))?;
            let shown = crate::commands::report(&hint, false);
            prop_assert!(!shown.contains(&key), "{shown}");
            prop_assert!(shown.contains("environment only"), "{shown}");
        }

        /// A known key where clap takes no argument is masked in clap's echo, colour on or off.
        #[test]
        fn clap_never_echoes_a_known_key(
            key in "[A-Za-z0-9_]{8,40}",
            command in prop::sample::select(vec!["plan", "apply", "drift", "validate", "check", "topics"]),
            at_end in any::<bool>(),
            color in any::<bool>(),
        ) {
            crate::api::ApiKey::new(key.clone());
            let mut args: Vec<std::ffi::OsString> = vec!["invhooks".into(), command.into(), "-q".into()];
            args.insert(if at_end { 3 } else { 2 }, key.clone().into());
            let Err(err) = crate::cli::Cli::command().try_get_matches_from(&args) else {
                return Err(TestCaseError::fail("parsed"));
            };
            let shown = super::usage_text(&err, color);
            prop_assert!(!shown.contains(&key), "{shown}");
            prop_assert!(shown.contains("***"), "{shown}");
        }
    }
}
