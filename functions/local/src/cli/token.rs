//! Staff tokens signed here with the local JWT secret (STOCKROOM_JWT_SECRET, or
//! the documented local default). A deployed API only accepts them when it
//! was given the same secret: the CLI never fetches a deployment's secret.
//! These are service tokens (no `sid`): for automation, not revocable one by
//! one, so they live at most STOCKROOM_STAFF_TOKEN_MAX_HOURS (never over 24).
//! People sign in by mail link instead (`POST /auth/staff/link`).

use anyhow::{Context, bail};
use clap::Args;
use secrecy::ExposeSecret;
use shared::config::{Config, LOCAL_JWT_SECRET, Place};
use shared::domain::Timestamp;
use shared::http::auth::{Role, mint};

#[derive(Args, Debug)]
pub struct TokenArgs {
    /// admin, inventory_manager or customer_service.
    #[arg(long, default_value = "admin", value_parser = parse_role)]
    pub role: Role,
    /// Who the token names (the ledger's actor is `staff:<sub>`).
    #[arg(long, default_value = "local-operator")]
    pub sub: String,
    /// Hours until it expires (1 to STOCKROOM_STAFF_TOKEN_MAX_HOURS: 12 by default, 24 at most).
    #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(i64).range(1..=720))]
    pub hours: i64,
}

fn parse_role(s: &str) -> Result<Role, String> {
    serde_json::from_value(serde_json::Value::from(s))
        .map_err(|_| format!("'{s}' is not a role: admin, inventory_manager or customer_service"))
}

pub fn print(args: &TokenArgs) -> anyhow::Result<()> {
    let sub = args.sub.trim();
    if sub.is_empty() || sub.len() > 128 || sub.chars().any(char::is_control) {
        bail!("--sub must be 1 to 128 printable characters");
    }
    let cfg = config()?;
    if cfg.secrets.jwt_secret.expose_secret() != LOCAL_JWT_SECRET {
        eprintln!("note: signed with STOCKROOM_JWT_SECRET from the environment, not the local default");
    }
    if args.hours > cfg.limits.staff_token_max_hours {
        bail!(
            "--hours {} is over the {} h a staff token may live (STOCKROOM_STAFF_TOKEN_MAX_HOURS)",
            args.hours,
            cfg.limits.staff_token_max_hours
        );
    }
    let exp = Timestamp::system_now().secs() + args.hours * 3600;
    println!("{}", mint(&cfg.secrets.jwt_secret, sub, args.role, exp).context("signing the token")?);
    Ok(())
}

/// The token `--url` of a local stack gets when none is given.
pub fn auto_admin() -> anyhow::Result<String> {
    let cfg = config()?;
    let exp = Timestamp::system_now().secs() + 10 * 60;
    mint(&cfg.secrets.jwt_secret, "stockroom-cli", Role::Admin, exp).context("signing a local admin token")
}

fn config() -> anyhow::Result<Config> {
    Ok(Config::from_env(Place::Local)?)
}
