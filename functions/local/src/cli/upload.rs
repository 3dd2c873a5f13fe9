//! `stockroom upload DIR`: puts the session files of DIR under `unused/` in
//! the stock store (the local directory tree, or S3 with
//! STOCKROOM_BACKEND=aws), then asks the API for a reconcile, which adopts
//! them as stock. Writing the store directly (not through the stack) is what
//! the stack expects: storage is the truth and reconcile adopts new files.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};
use shared::config::{Config, Place};
use shared::domain::FileName;
use shared::ports::{FileError, Files};

use super::{Api, Global, UploadArgs, table};

#[derive(Default)]
struct Tally {
    uploaded: u64,
    in_stock: u64,
    same_content: u64,
    conflicts: u64,
    bad_names: u64,
}

pub async fn run(g: &Global, args: &UploadArgs) -> anyhow::Result<()> {
    let paths = session_files(&args.dir)?;
    // Find the token before uploading, so a bad --url/--token fails first.
    let api = if args.no_reconcile { None } else { Some(Api::connect(g)?) };
    let cfg = Config::from_env(Place::Local)?;
    let files = crate::backend::files(&cfg).await.context("opening the stock store")?;
    let stored = names_in_store(files.as_ref()).await?;

    let bar = ProgressBar::new(paths.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut tally = Tally::default();
    let mut seen: HashMap<[u8; 32], String> = HashMap::new();
    for path in &paths {
        let shown = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        bar.set_message(shown.clone());
        upload_one(files.as_ref(), &stored, &mut seen, &mut tally, path, &shown, &bar).await?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    println!(
        "uploaded {}, already in stock {}, same content as another file {}, conflicts {}, bad names {}",
        tally.uploaded, tally.in_stock, tally.same_content, tally.conflicts, tally.bad_names
    );
    if let Some(api) = api {
        let report = api.post("/admin/reconcile").await.map_err(|e| {
            anyhow!("{e:#}; the {} uploaded files are adopted when the stack starts or reconciles", tally.uploaded)
        })?;
        let field = |k: &str| report.get(k).map(table::cell).unwrap_or_default();
        println!(
            "reconcile adopted {} new files (scanned {}, repaired {}, errors {})",
            field("adopted"),
            field("scanned"),
            field("repaired"),
            field("errors")
        );
        if g.json {
            println!("{report}");
        }
    }
    if tally.conflicts > 0 {
        bail!("{} files not uploaded: a different file of the same name is in stock", tally.conflicts);
    }
    Ok(())
}

/// Regular files of `dir`, by name. Subdirectories are not entered.
fn session_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let meta = std::fs::metadata(dir).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => anyhow!("no such directory: {}", dir.display()),
        _ => anyhow!("cannot read {}: {e}", dir.display()),
    })?;
    if !meta.is_dir() {
        bail!("not a directory: {}", dir.display());
    }
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry.with_context(|| format!("reading {}", dir.display()))?.path();
        if path.is_file() {
            paths.push(path);
        }
    }
    paths.sort();
    Ok(paths)
}

/// Every stock file's name -> its key, over all prefixes (unused/, assigned/
/// of every user, banned/, frozen/, ...): a name is one file wherever it is.
async fn names_in_store(files: &dyn Files) -> anyhow::Result<HashMap<String, String>> {
    let mut names = HashMap::new();
    let mut after: Option<String> = None;
    loop {
        let page = files.list("", after.as_deref(), 1000).await.context("listing the stock store")?;
        for key in page.keys {
            let name = key.rsplit('/').next().unwrap_or(&key).to_string();
            names.insert(name, key);
        }
        match page.next {
            Some(k) => after = Some(k),
            None => return Ok(names),
        }
    }
}

async fn upload_one(
    files: &dyn Files,
    stored: &HashMap<String, String>,
    seen: &mut HashMap<[u8; 32], String>,
    tally: &mut Tally,
    path: &Path,
    shown: &str,
    bar: &ProgressBar,
) -> anyhow::Result<()> {
    let Ok(name) = FileName::parse(shown) else {
        bar.suspend(|| eprintln!("skipped {shown}: not a valid stock file name"));
        tally.bad_names += 1;
        return Ok(());
    };
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let hash: [u8; 32] = Sha256::digest(&bytes).into();
    if let Some(first) = seen.get(&hash) {
        bar.suspend(|| eprintln!("skipped {name}: same content as {first}"));
        tally.same_content += 1;
        return Ok(());
    }
    seen.insert(hash, name.to_string());
    if let Some(key) = stored.get(name.as_str()) {
        // Never a second copy of a name: a file that moved since the listing
        // (head finds nothing) is still in stock.
        match files.head(key).await.with_context(|| format!("checking {key}"))? {
            Some(meta) if meta.size != bytes.len() as u64 => {
                bar.suspend(|| eprintln!("conflict {name}: {key} has {} bytes, this file {}", meta.size, bytes.len()));
                tally.conflicts += 1;
            }
            _ => tally.in_stock += 1,
        }
        return Ok(());
    }
    match files.put(&format!("unused/{name}"), bytes, true).await {
        Ok(()) => tally.uploaded += 1,
        Err(FileError::Exists(_)) => tally.in_stock += 1,
        Err(e) => return Err(anyhow::Error::new(e).context(format!("uploading {name}"))),
    }
    Ok(())
}
