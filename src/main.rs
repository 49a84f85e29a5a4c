//! `opsdesk`: parse the command line, set up logging, hand over to the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = opsdesk::cli::Cli::parse();
    // The server logs to stderr; `OPSDESK_LOG` sets the filter (e.g. `debug`, `opsdesk=trace`).
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("OPSDESK_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(
            std::env::var_os("NO_COLOR").is_none()
                && std::io::IsTerminal::is_terminal(&std::io::stderr()),
        )
        .init();
    match opsdesk::cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("opsdesk: {e:#}");
            ExitCode::from(2)
        }
    }
}
