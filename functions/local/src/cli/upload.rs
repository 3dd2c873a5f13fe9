//! `stockroom upload DIR`: puts the session files of DIR under `unused/` in
//! the stock store (the local directory tree, or S3 with
//! STOCKROOM_BACKEND=aws), then asks the API for a reconcile, which adopts
//! them as stock. Writing the store directly (not through the stack) is what
//! the stack expects: storage is the truth and reconcile adopts new files.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};
use shared::config::{Config, Place};
use shared::domain::{Judged, StockPattern, sidecar_of};
use shared::ports::{FileError, Files};

use super::{Api, Global, UploadArgs, table};

#[derive(Default)]
struct Tally {
    uploaded: u64,
    in_stock: u64,
    same_content: u64,
    conflicts: u64,
    /// Not stock: no match for the stock pattern, a bad name, a stray journal.
    not_stock: u64,
    journals: u64,
}

/// One upload: the store, what is in it, and what this run did.
struct Upload<'a> {
    files: &'a dyn Files,
    stored: HashMap<String, String>,
    pattern: StockPattern,
    /// Content hash -> the first file with it.
    seen: HashMap<[u8; 32], String>,
    /// Session files uploaded by this run: their journals go up too.
    uploaded: HashSet<String>,
    tally: Tally,
    bar: ProgressBar,
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
    let mut up = Upload {
        files: files.as_ref(),
        stored,
        pattern: cfg.stock_pattern.clone(),
        seen: HashMap::new(),
        uploaded: HashSet::new(),
        tally: Tally::default(),
        bar,
    };
    for path in &paths {
        let shown = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        up.bar.set_message(shown.clone());
        up.one(path, &shown).await?;
        up.bar.inc(1);
    }
    up.bar.finish_and_clear();
    let tally = up.tally;
    println!(
        "uploaded {}, already in stock {}, same content as another file {}, conflicts {}, not stock {}, journals {}",
        tally.uploaded, tally.in_stock, tally.same_content, tally.conflicts, tally.not_stock, tally.journals
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

impl Upload<'_> {
    async fn one(&mut self, path: &Path, shown: &str) -> anyhow::Result<()> {
        let name = match self.pattern.judge(shown) {
            Judged::Stock(name) => name,
            // Went up with its session file (paths are sorted: that came
            // first), or that is in stock already.
            Judged::Sidecar { of } if self.uploaded.contains(&of) || self.stored.contains_key(&of) => return Ok(()),
            Judged::Sidecar { of } => {
                self.bar.suspend(|| eprintln!("skipped {shown}: the journal of {of}, which was not uploaded now"));
                self.tally.not_stock += 1;
                return Ok(());
            }
            Judged::Junk(why) => {
                self.bar.suspend(|| eprintln!("skipped {shown}: not stock ({why}; STOCKROOM_STOCK_PATTERN)"));
                self.tally.not_stock += 1;
                return Ok(());
            }
        };
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let hash: [u8; 32] = Sha256::digest(&bytes).into();
        if let Some(first) = self.seen.get(&hash) {
            self.bar.suspend(|| eprintln!("skipped {name}: same content as {first}"));
            self.tally.same_content += 1;
            return Ok(());
        }
        self.seen.insert(hash, name.to_string());
        if let Some(key) = self.stored.get(name.as_str()) {
            // Never a second copy of a name: a file that moved since the listing
            // (head finds nothing) is still in stock.
            match self.files.head(key).await.with_context(|| format!("checking {key}"))? {
                Some(meta) if meta.size != bytes.len() as u64 => {
                    let size = meta.size;
                    self.bar
                        .suspend(|| eprintln!("conflict {name}: {key} has {size} bytes, this file {}", bytes.len()));
                    self.tally.conflicts += 1;
                }
                _ => self.tally.in_stock += 1,
            }
            return Ok(());
        }
        // The journal first: whoever sees the session file sees its journal.
        let journal = path.with_file_name(sidecar_of(name.as_str()));
        if journal.is_file() {
            self.journal(&journal, &sidecar_of(name.as_str())).await?;
        }
        match self.files.put(&format!("unused/{name}"), bytes, true).await {
            Ok(()) => {
                self.tally.uploaded += 1;
                self.uploaded.insert(name.to_string());
            }
            Err(FileError::Exists(_)) => self.tally.in_stock += 1,
            Err(e) => return Err(anyhow::Error::new(e).context(format!("uploading {name}"))),
        }
        Ok(())
    }

    /// A journal goes up beside the session file this run uploads.
    async fn journal(&mut self, path: &Path, name: &str) -> anyhow::Result<()> {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        match self.files.put(&format!("unused/{name}"), bytes, true).await {
            Ok(()) | Err(FileError::Exists(_)) => self.tally.journals += 1,
            Err(e) => return Err(anyhow::Error::new(e).context(format!("uploading {name}"))),
        }
        Ok(())
    }
}
