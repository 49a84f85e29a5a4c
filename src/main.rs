//! `opsdesk`: parse the command line, set up logging, hand over to the library.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = opsdesk::cli::Cli::parse();
    // `OPSDESK_LOG` sets the filter (e.g. `debug`, `opsdesk=trace`). The workstation owns the
    // terminal, so when it runs (no subcommand, on a terminal) logs go to a file; everything
    // else logs to stderr.
    let filter = || EnvFilter::try_from_env("OPSDESK_LOG").unwrap_or_else(|_| "info".into());
    let workstation = cli.command.is_none() && std::io::stdout().is_terminal();
    match workstation.then(opsdesk::cli::log_file).flatten() {
        Some(file) => tracing_subscriber::fmt()
            .with_env_filter(filter())
            .with_writer(std::sync::Mutex::new(file))
            .with_ansi(false)
            .init(),
        None if workstation => tracing_subscriber::fmt()
            .with_env_filter(filter())
            .with_writer(std::io::sink)
            .init(),
        None => tracing_subscriber::fmt()
            .with_env_filter(filter())
            .with_writer(std::io::stderr)
            .with_ansi(std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal())
            .init(),
    }
    match opsdesk::cli::run(cli) {
        Ok(code) => code,
        // The reader went away (`opsdesk report weekly | head`): what it wanted it has.
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("opsdesk: {e:#}");
            ExitCode::from(2)
        }
    }
}
