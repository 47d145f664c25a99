//! SIGINT and SIGTERM during `apply` (CI runners send SIGTERM when a job is
//! cancelled): the first asks apply to start no new call and finish what is
//! in flight, then report; the second exits at once with 130.

use crate::apply::Stop;

use super::Context;

/// Exit code after a second interrupt (128 + SIGINT), as shells use.
pub const EXIT_INTERRUPTED: i32 = 130;

/// Watches for interrupts until dropped.
#[derive(Debug)]
pub struct Watch(pub(super) tokio::task::JoinHandle<()>);

impl Drop for Watch {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Requests `stop` on the first interrupt, exits on the second.
pub fn watch(ctx: Context, stop: Stop) -> Watch {
    Watch(tokio::spawn(async move {
        if signal().await.is_err() {
            return;
        }
        stop.request();
        ctx.warn(
            "interrupted: starting no new calls; finishing the calls in flight (each bounded by --timeout), \
             then the report. Interrupt again to exit at once",
        );
        if signal().await.is_ok() {
            ctx.warn("interrupted again: exiting now; the report is not printed. Re-run `invhooks plan` to see where things stand");
            std::process::exit(EXIT_INTERRUPTED);
        }
    }))
}

/// The next SIGINT or SIGTERM.
pub(super) async fn signal() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        tokio::select! {
            _ = term.recv() => Ok(()),
            _ = int.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}
