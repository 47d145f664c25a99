//! `invhooks completions SHELL`: a completion script on stdout, generated
//! from the same clap definitions the binary parses with.

use clap::CommandFactory;

use super::Context;
use crate::cli::{Cli, Shell};
use crate::exit::Exit;

/// Runs `completions`.
pub fn run(ctx: &Context, shell: Shell) -> Exit {
    let shell = match shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
        Shell::Powershell => clap_complete::Shell::PowerShell,
    };
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "invhooks", &mut script);
    ctx.out(&String::from_utf8_lossy(&script));
    Exit::Success
}
