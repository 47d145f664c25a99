//! SIGINT and SIGTERM (a cancelled CI job): the first requests a [`Stop`] (no
//! request starts, every wait ends, then the report), the second exits 130.

use std::sync::{Arc, OnceLock};

use anyhow::Context as _;

use super::Context;
use crate::stop::Stop;

/// Watches for interrupts until dropped.
#[derive(Debug)]
pub struct Watch {
    task: tokio::task::JoinHandle<()>,
    notice: Arc<OnceLock<&'static str>>,
}

impl Watch {
    /// What the first interrupt prints from now on (by default nothing; set once).
    pub fn notice(&self, text: &'static str) {
        let _ = self.notice.set(text);
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Requests `stop` (doctor's own, so its cleanup still runs) on the first interrupt; exits on the second.
pub fn watch(ctx: &Context, stop: &Stop, again: &str) -> anyhow::Result<Watch> {
    const CANNOT: &str = "cannot watch for interrupts (SIGINT, SIGTERM)";
    // Registered here, before the task runs, so that no signal is lost; the
    // next signal is pending forever if the streams end.
    #[cfg(unix)]
    let mut next = {
        use tokio::signal::unix::{signal, SignalKind};
        let listen = |kind| signal(kind).context(CANNOT);
        let (mut term, mut int) = (listen(SignalKind::terminate())?, listen(SignalKind::interrupt())?);
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
        let mut ctrl_c = tokio::signal::windows::ctrl_c().context(CANNOT)?;
        async move || {
            if ctrl_c.recv().await.is_none() {
                std::future::pending::<()>().await;
            }
        }
    };
    let notice: Arc<OnceLock<&'static str>> = Arc::default();
    let (ctx, stop, shown, again) = (ctx.clone(), stop.clone(), Arc::clone(&notice), again.to_owned());
    let task = tokio::spawn(async move {
        next().await;
        stop.request();
        if let Some(text) = shown.get() {
            ctx.warn(text);
        }
        next().await;
        ctx.warn(&again);
        std::process::exit(130);
    });
    Ok(Watch { task, notice })
}
