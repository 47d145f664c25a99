//! `invhooks sandbox`: the local Inveterate-compatible server, until Ctrl-C.

use super::Context;
use crate::cli::SandboxArgs;
use crate::exit::Exit;
use crate::sandbox::{Faults, Sandbox, SandboxConfig};

/// Runs `sandbox`.
pub async fn run(ctx: &Context, args: SandboxArgs) -> anyhow::Result<Exit> {
    let config = SandboxConfig {
        api_keys: args.api_keys.clone(),
        state_file: args.state.clone(),
        faults: Faults::default(),
    };
    let sandbox = Sandbox::start(args.listen, config).await?;
    ctx.status(&format!(
        "sandbox: serving the webhook-subscriptions API on {} for {} merchant key(s); Ctrl-C stops it\n  \
         export INVETERATE_BASE_URL={}",
        sandbox.base_url(),
        args.api_keys.len(),
        sandbox.base_url()
    ));
    sandbox.run_until_ctrl_c().await?;
    Ok(Exit::Success)
}
