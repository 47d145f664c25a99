//! `invhooks completions SHELL`: a completion script on stdout, generated
//! from the same clap definitions the binary parses with.

use clap::CommandFactory;

use super::Context;
use crate::cli::Cli;
use crate::exit::Exit;

/// Runs `completions`.
pub fn run(ctx: &Context, shell: clap_complete::Shell) -> Exit {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "invhooks", &mut script);
    ctx.out(&String::from_utf8_lossy(&script));
    Exit::Success
}
