//! `cargo run`: the whole shop on 127.0.0.1:3000 (env PORT), data under
//! ./.stockroom (env STOCKROOM_DATA).
//! `cargo run -- token [admin|inventory_manager|customer_service]` prints a
//! staff token signed with the configured (local) JWT secret.
//! `cargo run -- upload DIR` adds the files of DIR to `unused/`.

use shared::config::{Config, Place};
use shared::domain::Timestamp;
use shared::http::auth::{Role, mint};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let cfg = Config::from_env(Place::Local)?;
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("token") {
        let role: Role =
            serde_json::from_value(serde_json::Value::from(args.get(1).map(String::as_str).unwrap_or("admin")))
                .map_err(|_| anyhow::anyhow!("role must be admin, inventory_manager or customer_service"))?;
        println!("{}", mint(&cfg.jwt_secret, "local-operator", role, Timestamp::system_now().secs() + 12 * 3600)?);
        return Ok(());
    }
    if args.first().map(String::as_str) == Some("upload") {
        let dir = args.get(1).ok_or_else(|| anyhow::anyhow!("usage: upload DIR"))?;
        return local::upload(&cfg, std::path::Path::new(dir)).await;
    }
    let running = local::start(cfg).await?;
    println!("Stockroom listening on {} (Ctrl-C to stop)", running.url());
    tokio::signal::ctrl_c().await?;
    running.stop().await;
    Ok(())
}
