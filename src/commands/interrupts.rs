//! SIGINT and SIGTERM (a cancelled CI job): the first requests a [`Stop`] (no
//! request starts, every wait ends, then the report), the second exits 130.

use std::sync::{Arc, Mutex, PoisonError};

use super::Context;
use crate::stop::Stop;

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

/// Requests `stop` on the first interrupt, prints `again` and exits on the second;
/// `doctor --write` passes its own stop, so its client still cleans up.
pub fn watch(ctx: &Context, stop: &Stop, again: &str) -> std::io::Result<Watch> {
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
    let (ctx, stop, shown, again) = (ctx.clone(), stop.clone(), Arc::clone(&notice), again.to_owned());
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
