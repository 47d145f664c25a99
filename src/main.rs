//! The `invhooks` binary: parse, run, map the result to an exit code.

use std::io::{IsTerminal as _, Write as _};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser;
use invhooks::cli::{Cli, ColorChoice};
use invhooks::commands::{self, colour};
use invhooks::exit::Exit;

fn main() -> ExitCode {
    commands::install_panic_hook();
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let env = |name: &str| std::env::var(name).ok();
    let color = |choice| colour(choice, std::io::stderr().is_terminal(), &env);
    let parsed = Cli::try_parse_from(&args);
    if let Some(hint) = commands::habit(parsed.as_ref().err(), &args) {
        return report(&hint, color(parsed.map_or(ColorChoice::Auto, |c| c.global.color)));
    }
    let cli = match parsed {
        Ok(cli) => cli,
        Err(err) => {
            commands::print_usage_error(&err, color(ColorChoice::Auto));
            // Usage errors exit 1, not clap's 2: 2 means "changes present".
            return Exit::Error.when(err.use_stderr()).into();
        }
    };
    let color = color(cli.global.color);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build();
    let runtime = runtime.context("could not start the async runtime");
    match runtime.and_then(|rt| rt.block_on(commands::run(cli))) {
        Ok(exit) => exit.into(),
        Err(err) => report(&err, color),
    }
}

/// The final error on stderr, exit 1. A closed stderr (`… 2>&1 | head`)
/// loses it and changes nothing else: never a panic.
fn report(err: &anyhow::Error, color: bool) -> ExitCode {
    let _ = std::io::stderr().write_all(commands::report(err, color).as_bytes());
    Exit::Error.into()
}
