//! The `stockroom` operator CLI: staff commands over the HTTP API of a local
//! stack or a deployed one, plus `upload` (straight into the stock store) and
//! `token` (signs locally).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

mod client;
mod ledger;
mod table;
mod token;
mod upload;

pub use client::Api;

#[derive(Parser, Debug)]
#[command(name = "stockroom", version, about = "Stockroom: the local shop and the staff command line")]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    /// With no command, serves the shop (like `stockroom serve`).
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Args, Debug)]
pub struct Global {
    /// Base URL of the Stockroom API.
    #[arg(long, global = true, env = "STOCKROOM_URL", default_value = "http://127.0.0.1:3000")]
    pub url: String,
    /// Staff bearer token. When absent and --url is local (127.0.0.1,
    /// localhost, ::1), a 10-minute admin token is minted from the local JWT
    /// secret (STOCKROOM_JWT_SECRET, or the documented local default).
    #[arg(long, global = true, env = "STOCKROOM_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Print the API's JSON as it came instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the whole shop on 127.0.0.1:$PORT (default 3000), data under
    /// $STOCKROOM_DATA (default ./.stockroom); STOCKROOM_BACKEND=aws for AWS.
    Serve,
    /// Stock overview (GET /admin/stock): files per state, counted from storage.
    Stock,
    /// Upload the session files of DIR to unused/ in the stock store, then
    /// run a reconcile through the API so they are adopted as stock.
    ///
    /// The store is the one the local stack uses: the directory under
    /// $STOCKROOM_DATA, or the S3 bucket with STOCKROOM_BACKEND=aws (standard
    /// AWS environment plus STOCKROOM_BUCKET). A file is skipped when a file
    /// of the same name is already in stock under any prefix with the same
    /// size (the store exposes no content hash), or when it has the same
    /// SHA-256 as another file of DIR. A same-name file of another size is a
    /// conflict: never overwritten, reported, and the exit status is 1.
    Upload(UploadArgs),
    /// Stock ledger (GET /admin/ledger), newest first, every page up to --limit.
    Ledger(LedgerArgs),
    /// Run the reconcile job now (POST /admin/reconcile) and print its report.
    Reconcile,
    /// Run the expiry job now (POST /admin/expire) and print its report.
    Expire,
    /// Print a staff token signed with the local JWT secret (STOCKROOM_JWT_SECRET
    /// or the local default). Only the token goes to stdout.
    Token(token::TokenArgs),
}

#[derive(Args, Debug)]
pub struct UploadArgs {
    /// Directory of session files (not recursive).
    pub dir: PathBuf,
    /// Only upload; the stack adopts the files at its next scan or start.
    #[arg(long)]
    pub no_reconcile: bool,
}

#[derive(Args, Debug)]
pub struct LedgerArgs {
    /// Only entries of this kind (restock, sale, release, revoke, refund, ban,
    /// freeze, unfreeze, write_off, reconcile).
    #[arg(long)]
    pub kind: Option<String>,
    /// Only entries about this file.
    #[arg(long)]
    pub file: Option<String>,
    /// Only entries with this reference (order, subscription, reconcile run).
    #[arg(long)]
    pub reference: Option<String>,
    /// From this time on (RFC 3339, as the API takes it).
    #[arg(long)]
    pub since: Option<String>,
    /// Up to this time (RFC 3339).
    #[arg(long)]
    pub until: Option<String>,
    /// At most this many entries in all (default: every page).
    #[arg(long)]
    pub limit: Option<u64>,
    /// CSV instead of a table.
    #[arg(long, conflicts_with = "json")]
    pub csv: bool,
}

/// Runs one staff command (`serve` is the binary's own).
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let g = cli.global;
    match cli.command {
        None | Some(Command::Serve) => anyhow::bail!("serve is run by the binary"),
        Some(Command::Token(args)) => token::print(&args),
        Some(Command::Stock) => {
            let v = Api::connect(&g)?.get("/admin/stock", &[]).await?;
            table::print_report(&v, g.json, &["unused", "reserved", "available", "assigned", "banned", "frozen"]);
            Ok(())
        }
        Some(Command::Reconcile) => {
            let v = Api::connect(&g)?.post("/admin/reconcile").await?;
            table::print_report(&v, g.json, &["scanned", "adopted", "repaired"]);
            Ok(())
        }
        Some(Command::Expire) => {
            let v = Api::connect(&g)?.post("/admin/expire").await?;
            table::print_report(&v, g.json, &[]);
            Ok(())
        }
        Some(Command::Ledger(args)) => ledger::run(&Api::connect(&g)?, &args, g.json).await,
        Some(Command::Upload(args)) => upload::run(&g, &args).await,
    }
}
