//! The `invhooks` binary: parse, run, map the result to an exit code.

use std::io::Write as _;

use clap::Parser;
use invhooks::{cli::Cli, commands, exit::Exit};

fn main() -> std::process::ExitCode {
    commands::install_panic_hook();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
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
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(err) => {
            report(&anyhow::Error::new(err).context("could not start the async runtime"));
            return Exit::Error.into();
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(exit) => exit.into(),
        Err(err) => {
            report(&err);
            Exit::Error.into()
        }
    }
}

/// The final error on stderr. A closed stderr (`… 2>&1 | head`) loses it
/// and changes nothing else: the exit code is the run's own, never a panic.
fn report(err: &anyhow::Error) {
    let _ = std::io::stderr().write_all(commands::report(err).as_bytes());
}
