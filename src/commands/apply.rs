//! `invhooks apply`: plan, show, check safety, confirm, execute (in waves:
//! `waves.rs`), report.

use std::io::IsTerminal as _;
use std::time::Duration;

use anyhow::Context as _;

use super::context::Sink;
use super::fetch::fetch;
use super::saved;
use super::{interrupts, Context, Target};
use crate::apply::gate::{self, Gate, Switches};
use crate::apply::waves::{Rollout, WaveGate};
use crate::apply::{ApplyOptions, RunReport};
use crate::cli::{ApplyArgs, Format};
use crate::exit::Exit;
use crate::plan::Plan;
use crate::render::{markdown, report, text};

/// What an interrupt before the first call prints (exit 1).
const CANCELLED: &str = "apply cancelled; nothing was changed";

/// Runs `apply`; an interrupt before the calls cancels it (exit 1).
pub async fn run(ctx: &Context, args: ApplyArgs) -> anyhow::Result<Exit> {
    let again = "interrupted again: exiting now; the report is not printed. Re-run `invhooks plan` to see where things stand";
    let watch =
        interrupts::watch(ctx, &ctx.stop, again).context("cannot watch for interrupts (SIGINT, SIGTERM)")?;
    let prepared = prepare(ctx, &args).await;
    if ctx.stop.requested() {
        ctx.warn(CANCELLED);
        return Ok(Exit::Error);
    }
    let Some((targets, plan)) = prepared? else {
        return Ok(Exit::Refused);
    };
    let shown = text::render(&plan, ctx.color, &ctx.keys());
    match args.format {
        Format::Text => ctx.out(&shown),
        Format::Json | Format::Markdown => ctx.status(shown.trim_end()),
    }
    let switches = Switches {
        force: args.force,
        auto_approve: args.auto_approve,
        interactive: std::io::stdin().is_terminal(),
        keep_going: args.keep_going,
    };
    let (refused, ask) = match gate::decide(&plan, switches) {
        // A gate beyond `converge` probes even a fleet with nothing to
        // change: re-running never skips a gate that failed.
        Gate::NothingToDo if args.wave_gate != WaveGate::Converge => (Vec::new(), false),
        Gate::NothingToDo => {
            let labels = plan.merchants.iter().map(|m| m.merchant.clone()).collect();
            let run = RunReport::new(Vec::new(), Vec::new(), Rollout::whole(labels));
            step_summary(ctx, &args, &plan, Ok(&run));
            return Ok(Exit::Success);
        }
        Gate::Refused(reasons) => {
            ctx.refuse(&refusal(&plan, &reasons));
            step_summary(ctx, &args, &plan, Err(&reasons));
            return Ok(Exit::Refused);
        }
        Gate::Confirm(refused) => (refused, true),
        Gate::Go(refused) => (refused, false),
    };
    for r in &refused {
        let (merchant, reason) = (&r.merchant, &r.reason);
        ctx.refuse(&[format!(
            "merchant `{merchant}`: {reason}; skipped (`--keep-going`), the other merchants are applied"
        )]);
    }
    if (ask && !confirm(ctx).await?) || ctx.stop.requested() {
        ctx.warn(CANCELLED);
        return Ok(Exit::Error);
    }
    watch.notice(
        "interrupted: starting no new calls; finishing the calls in flight (each bounded by --timeout), then the report. Interrupt again to exit at once",
    );

    let options = ApplyOptions {
        parallelism: usize::from(args.parallelism),
        wait: Duration::from_secs(u64::from(args.wait)),
        ..ApplyOptions::default()
    };
    let run = super::waves::roll_out(ctx, &args, &targets, &plan, refused, options).await?;
    let keys = ctx.keys();
    ctx.out(&match args.format {
        Format::Text => format!("\n{}", report::render(&run, ctx.color, &keys)),
        Format::Json => report::json(&run, &keys),
        Format::Markdown => markdown::apply_summary(&plan, Ok(&run), markdown::GITHUB_COMMENT_LIMIT, &keys),
    });
    step_summary(ctx, &args, &plan, Ok(&run));
    // Exit 3 when a merchant was refused (`--keep-going`), 1 for anything
    // else short of success.
    Ok(match (run.refused.is_empty(), run.succeeded()) {
        (false, _) => Exit::Refused,
        (true, true) => Exit::Success,
        (true, false) => Exit::Error,
    })
}

/// What stderr says when the gate refuses the whole plan.
fn refusal(plan: &Plan, reasons: &[String]) -> Vec<String> {
    if reasons == [gate::NO_TERMINAL] {
        return [
            "apply asks for `yes` on a terminal and stdin is not one; nothing was changed",
            "an answer piped in (`echo yes |`) is refused on purpose: nobody has read the plan",
            "help: pass `--auto-approve` to apply without asking (CI, scripts)",
        ]
        .map(String::from)
        .to_vec();
    }
    let others = plan.merchants.iter().filter(|m| !m.changes.is_empty()).count() > reasons.len();
    let keep_going = match others {
        true => ", or with `--keep-going` to apply the other merchants and skip these",
        false => "",
    };
    let mut lines = vec!["apply refused by a safety threshold; nothing was changed".to_owned()];
    lines.extend(reasons.iter().cloned());
    lines.push(format!(
        "help: check the manifest, or re-run with `--force` if this is intended{keep_going}"
    ));
    lines
}

/// The targets and the plan, saved or fresh; `None` when a saved one is refused (said).
async fn prepare(ctx: &Context, args: &ApplyArgs) -> anyhow::Result<Option<(Vec<Target>, Plan)>> {
    let Some(path) = &args.plan else {
        let reads = usize::from(args.merchant_parallelism) * usize::from(args.parallelism);
        return Ok(Some(
            fetch(ctx, &args.manifests.files, &args.select, reads).await?,
        ));
    };
    // A saved plan: its changes exactly, or a refusal if live moved.
    Ok(match saved::load(ctx, path).await? {
        Ok(ready) => Some(ready),
        Err(reasons) => {
            ctx.refuse(&reasons);
            step_summary(ctx, args, &Plan::default(), Err(&reasons));
            None
        }
    })
}

/// Appends the run's Markdown summary to `$GITHUB_STEP_SUMMARY` when set.
fn step_summary(ctx: &Context, args: &ApplyArgs, plan: &Plan, result: Result<&RunReport, &[String]>) {
    ctx.step_summary(args.no_step_summary, || {
        markdown::apply_summary(plan, result, markdown::GITHUB_COMMENT_LIMIT, &ctx.keys())
    });
}

/// Asks for `yes`; an interrupt is a no. Read on a thread an interrupt
/// leaves behind, so the prompt never holds the run.
async fn confirm(ctx: &Context) -> anyhow::Result<bool> {
    ctx.emit(Sink::Stderr, "\nApply these changes? Only `yes` is accepted: ")?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut answer = String::new();
        let _ = tx.send(std::io::stdin().read_line(&mut answer).map(|_| answer));
    });
    match ctx.stop.or(rx).await {
        Ok(Ok(answer)) => Ok(answer?.trim() == "yes"),
        Ok(Err(_)) => Ok(false),
        Err(_) => {
            let _ = ctx.emit(Sink::Stderr, "\n");
            Ok(false)
        }
    }
}
