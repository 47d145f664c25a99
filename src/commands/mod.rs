//! One module per subcommand: wiring, not logic. [`run`] resolves the clap arguments
//! into a [`Context`] once and dispatches; `fetch` turns manifests into [`Target`]s.

mod apply;
mod check;
mod context;
mod doctor;
mod error;
mod export;
mod fetch;
mod init;
mod interrupts;
mod plan;
mod sandbox;
mod saved;
mod trigger;
mod validate;

use clap::CommandFactory as _;

use crate::cli::{Cli, Command};
use crate::exit::Exit;
use crate::render::first;

pub use self::context::{colour, Context};
pub use self::error::{habit, install_panic_hook, print_usage_error, report, Helped};
pub use self::fetch::{api_key, load, process_env, Target};

/// Runs the parsed command line; errors are reported by the caller.
pub async fn run(cli: Cli) -> anyhow::Result<Exit> {
    let ctx = Context::new(&cli)?;
    match cli.command {
        Command::Plan(args) => plan::run(&ctx, args).await,
        Command::Apply(args) => apply::run(&ctx, args).await,
        Command::Drift(args) => plan::drift(&ctx, args).await,
        Command::Validate(args) => validate::run(&ctx, &args),
        Command::Check(args) => check::run(&ctx, args).await,
        Command::Show(args) => plan::show(&ctx, &args),
        Command::Export(args) => export::run(&ctx, args).await,
        Command::Trigger(args) => trigger::run(&ctx, args).await,
        Command::Doctor(args) => doctor::run(&ctx, args).await,
        Command::Topics { format } => Ok(validate::topics(&ctx, format)),
        Command::Schema => {
            let schema = serde_json::to_string_pretty(&crate::manifest::schema())?;
            ctx.out(&format!("{schema}\n"));
            Ok(Exit::Success)
        }
        Command::Sandbox(args) => sandbox::run(&ctx, args).await,
        Command::Demo => sandbox::demo(&ctx).await,
        Command::Init(args) => init::run(&ctx, args).await,
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "invhooks", &mut script);
            ctx.out(&String::from_utf8_lossy(&script));
            Ok(Exit::Success)
        }
    }
}
