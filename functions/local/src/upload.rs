//! `cargo run -- upload DIR`: puts every file of DIR under `unused/` in the
//! configured store (the directory tree, or the S3 bucket), skipping names
//! already there. The stock scan then adopts them as new stock.

use std::path::Path;

use shared::config::Config;
use shared::domain::FileName;
use shared::ports::FileError;

pub async fn upload(cfg: &Config, dir: &Path) -> anyhow::Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", dir.display()))?;
    let files = crate::backend::files(cfg).await?;
    let (mut uploaded, mut skipped, mut refused) = (0, 0, 0);
    for entry in entries {
        let path = entry?.path();
        if !path.is_file() {
            continue;
        }
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let Ok(name) = FileName::parse(name) else {
            eprintln!("skipped {}: not a valid stock file name", path.display());
            refused += 1;
            continue;
        };
        let bytes = std::fs::read(&path)?;
        match files.put(&format!("unused/{name}"), bytes, true).await {
            Ok(()) => uploaded += 1,
            Err(FileError::Exists(_)) => skipped += 1,
            Err(e) => return Err(anyhow::Error::new(e).context(format!("uploading {name}"))),
        }
    }
    println!("uploaded {uploaded}, already there {skipped}, bad names {refused}");
    println!("the stock scan adopts new files within STOCKROOM_JOBS_EVERY_SECS, or now: POST /admin/reconcile");
    Ok(())
}
