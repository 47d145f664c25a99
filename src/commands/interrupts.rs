//! SIGINT and SIGTERM (CI runners send SIGTERM when a job is cancelled):
//! the first requests a [`Stop`] (no request starts, every wait ends, then
//! the report), the second exits at once with 130 (128 + SIGINT). The
//! handlers are in place when [`watch`] returns and serve both signals, so
//! none is lost in between.

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
    /// What the first interrupt prints from now on (nothing by default:
    /// the code that waits on the stop says what happened).
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

/// Requests `stop` on the first interrupt; on the second prints `again`
/// and exits. `doctor --write` passes a stop of its own: its client must
/// still send the throwaway's cleanup after the first interrupt.
pub fn watch_for(ctx: &Context, stop: &Stop, again: String) -> std::io::Result<Watch> {
    let mut signals = Signals::register()?;
    let notice: Arc<Mutex<Option<&'static str>>> = Arc::default();
    let (ctx, stop, shown) = (ctx.clone(), stop.clone(), Arc::clone(&notice));
    let task = tokio::spawn(async move {
        signals.next().await;
        stop.request();
        if let Some(text) = *shown.lock().unwrap_or_else(PoisonError::into_inner) {
            ctx.warn(text);
        }
        signals.next().await;
        ctx.warn(&again);
        std::process::exit(130);
    });
    Ok(Watch { task, notice })
}

/// The process's SIGINT and SIGTERM (Ctrl-C elsewhere), registered once.
struct Signals {
    #[cfg(unix)]
    streams: [tokio::signal::unix::Signal; 2],
    #[cfg(windows)]
    ctrl_c: tokio::signal::windows::CtrlC,
}

impl Signals {
    fn register() -> std::io::Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Signals {
                streams: [signal(SignalKind::terminate())?, signal(SignalKind::interrupt())?],
            })
        }
        #[cfg(windows)]
        Ok(Signals {
            ctrl_c: tokio::signal::windows::ctrl_c()?,
        })
    }

    /// The next signal (pending forever if the streams end).
    async fn next(&mut self) {
        #[cfg(unix)]
        {
            let [term, int] = &mut self.streams;
            tokio::select! {
                Some(()) = term.recv() => {},
                Some(()) = int.recv() => {},
                else => std::future::pending().await,
            }
        }
        #[cfg(windows)]
        if self.ctrl_c.recv().await.is_none() {
            std::future::pending::<()>().await;
        }
    }
}
