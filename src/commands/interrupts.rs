//! SIGINT and SIGTERM (a cancelled CI job): the first requests a [`Stop`] (no
//! request starts, every wait ends, then the report), the second exits 130.

use std::sync::{Arc, Mutex, PoisonError};

use super::Context;
use crate::stop::Stop;

/// What the first interrupt prints while apply's calls run.
pub const WHILE_APPLYING: &str = "interrupted: starting no new calls; finishing the calls in flight \
     (each bounded by --timeout), then the report. Interrupt again to exit at once";

/// Watches for interrupts until dropped.
#[derive(Debug)]
pub struct Watch {
    task: tokio::task::JoinHandle<()>,
    notice: Arc<Mutex<Option<&'static str>>>,
}

impl Watch {
    /// What the first interrupt prints from now on (by default nothing).
    pub fn notice(&self, text: &'static str) {
        *self.notice.lock().unwrap_or_else(PoisonError::into_inner) = Some(text);
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Requests the run's stop (`ctx.stop`) on the first interrupt.
pub fn watch(ctx: &Context) -> std::io::Result<Watch> {
    let again = "interrupted again: exiting now; the report is not printed. Re-run `invhooks plan` to see where things stand";
    watch_for(ctx, &ctx.stop, again.to_owned())
}

/// Requests `stop` on the first interrupt, prints `again` and exits on the second;
/// `doctor --write` passes its own stop, so its client still cleans up.
pub fn watch_for(ctx: &Context, stop: &Stop, again: String) -> std::io::Result<Watch> {
    // Registered here, before the task runs, so that no signal is lost; the
    // next signal is pending forever if the streams end.
    #[cfg(unix)]
    let mut next = {
        use tokio::signal::unix::{signal, SignalKind};
        let (mut term, mut int) = (signal(SignalKind::terminate())?, signal(SignalKind::interrupt())?);
        async move || {
            tokio::select! {
                Some(()) = term.recv() => {},
                Some(()) = int.recv() => {},
                else => std::future::pending().await,
            }
        }
    };
    #[cfg(windows)]
    let mut next = {
        let mut ctrl_c = tokio::signal::windows::ctrl_c()?;
        async move || {
            if ctrl_c.recv().await.is_none() {
                std::future::pending::<()>().await;
            }
        }
    };
    let notice: Arc<Mutex<Option<&'static str>>> = Arc::default();
    let (ctx, stop, shown) = (ctx.clone(), stop.clone(), Arc::clone(&notice));
    let task = tokio::spawn(async move {
        next().await;
        stop.request();
        if let Some(text) = *shown.lock().unwrap_or_else(PoisonError::into_inner) {
            ctx.warn(text);
        }
        next().await;
        ctx.warn(&again);
        std::process::exit(130);
    });
    Ok(Watch { task, notice })
}
