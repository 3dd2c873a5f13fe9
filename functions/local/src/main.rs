//! `stockroom`: the operator CLI, and the local stack. With no subcommand
//! (`cargo run` at the workspace root) it serves the whole shop on
//! 127.0.0.1:3000 (env PORT), data under ./.stockroom (env STOCKROOM_DATA).
//! `stockroom --help` lists the staff commands.

use std::process::ExitCode;

use clap::Parser;
use local::cli::{Cli, Command};
use shared::config::{Config, Place};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let serving = matches!(cli.command, None | Some(Command::Serve));
    // The stack logs at info; staff commands keep stderr for their errors.
    let default_filter = if serving { "info" } else { "warn" };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| default_filter.into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = if serving { serve().await } else { local::cli::run(cli).await };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line: the context chain, no backtrace.
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve() -> anyhow::Result<()> {
    let cfg = Config::from_env(Place::Local)?;
    let running = local::start(cfg).await?;
    println!("Stockroom listening on {} (Ctrl-C to stop)", running.url());
    tokio::signal::ctrl_c().await?;
    running.stop().await;
    Ok(())
}
