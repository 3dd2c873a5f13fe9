//! `bench listing N`: N stock files copied into `unused/` by hand (as an
//! upload or an operator would), then whole listings in pages of 1,000
//! through the embedded `Files` adapter: the first (which reads each
//! directory once), a second on the unchanged tree, and one after a file is
//! copied in by hand. Prints each scan's time, the slowest page and the
//! first and last pages, and the peak RSS.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use shared::adapters::embedded::{DirFiles, STOCK_PREFIXES};
use shared::ports::Files;

use super::{mib, proc_kib};

pub async fn run(n: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir().context("temp dir")?;
    let root = dir.path().join("files");
    for prefix in STOCK_PREFIXES {
        std::fs::create_dir_all(root.join(prefix))?;
    }
    let t = Instant::now();
    for i in 0..n {
        let name = format!("acct-{:08x}-{i:07}.session", (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32);
        std::fs::write(root.join("unused").join(name), b"session")?;
    }
    println!("bench listing: {n} files under unused/ in {}; setup {:.1} s", root.display(), t.elapsed().as_secs_f64());
    let files = DirFiles::open(&root)?;
    for label in ["scan 1 (reads the directory)", "scan 2 (unchanged)", "scan 3 (after a copy by hand)"] {
        if label.starts_with("scan 3") {
            std::fs::write(root.join("unused/acct-by-hand.session"), b"session")?;
        }
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        let (t, mut after, mut pages, mut keys) = (Instant::now(), None::<String>, Vec::new(), 0);
        loop {
            let p = Instant::now();
            let page = files.list("unused/", after.as_deref(), 1000).await?;
            pages.push(p.elapsed());
            keys += page.keys.len();
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        let want = n + usize::from(label.starts_with("scan 3"));
        if keys != want {
            bail!("{label}: listed {keys} keys, expected {want}");
        }
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let slowest = pages.iter().max().copied().unwrap_or_default();
        let (first, last) = (pages[0], pages[pages.len() - 1]);
        println!(
            "{label}: {keys} keys in {} pages, {:.3} s; page first {:.2} ms, last {:.2} ms, slowest {:.2} ms; peak RSS {:.1} MiB",
            pages.len(),
            t.elapsed().as_secs_f64(),
            ms(first),
            ms(last),
            ms(slowest),
            mib(proc_kib("VmHWM:") * 1024)
        );
    }
    Ok(())
}
