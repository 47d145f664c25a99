//! The `invhooks` binary: parse, run, map the result to an exit code.

use std::io::{IsTerminal as _, Write as _};

use clap::Parser;
use invhooks::cli::{Cli, ColorChoice};
use invhooks::commands::{self, colour};
use invhooks::exit::Exit;

fn main() -> std::process::ExitCode {
    commands::install_panic_hook();
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let stderr_tty = std::io::stderr().is_terminal();
    let env = |name: &str| std::env::var(name).ok();
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(err) => {
            if let Some(hint) = commands::habit(&err, &args) {
                report(&hint, colour(ColorChoice::Auto, stderr_tty, &env));
                return Exit::Error.into();
            }
            let _ = err.print();
            // Usage errors exit 1, not clap's 2: 2 means "changes present".
            return if err.use_stderr() {
                Exit::Error
            } else {
                Exit::Success
            }
            .into();
        }
    };
    let color = colour(cli.global.color, stderr_tty, &env);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(err) => {
            report(
                &anyhow::Error::new(err).context("could not start the async runtime"),
                color,
            );
            return Exit::Error.into();
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(exit) => exit.into(),
        Err(err) => {
            report(&err, color);
            Exit::Error.into()
        }
    }
}

/// The final error on stderr. A closed stderr (`… 2>&1 | head`) loses it
/// and changes nothing else: the exit code is the run's own, never a panic.
fn report(err: &anyhow::Error, color: bool) {
    let _ = std::io::stderr().write_all(commands::report(err, color).as_bytes());
}
