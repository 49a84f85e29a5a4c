//! The signals that end opsdesk normally, shared by the companion server and the workstation:
//! Ctrl-C, SIGTERM (a service manager), SIGHUP (a dropped SSH session) and SIGQUIT. Each is a
//! clean stop (the server drains and checkpoints; the workstation restores the terminal and
//! flushes its cache), never an abrupt exit.

/// Resolves when the process is asked to stop.
pub async fn shutdown() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{Signal, SignalKind, signal};
        async fn recv(s: Option<Signal>) {
            match s {
                Some(mut s) => {
                    s.recv().await;
                }
                None => std::future::pending().await,
            }
        }
        let term = signal(SignalKind::terminate()).ok();
        let hup = signal(SignalKind::hangup()).ok();
        let quit = signal(SignalKind::quit()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            () = recv(term) => {}
            () = recv(hup) => {}
            () = recv(quit) => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
