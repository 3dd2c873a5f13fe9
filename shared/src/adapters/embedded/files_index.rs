//! A sorted in-memory copy of each directory of the stock tree, so that a
//! listing page costs O(page) instead of re-reading and sorting the whole
//! directory for every page (quadratic in the number of files per scan).
//!
//! Storage stays the truth. A directory's copy is trusted only while the
//! directory's own status (mtime, ctime, size, inode, links) is what it was
//! when the copy was made; POSIX updates a directory's mtime and ctime on
//! every entry created, removed or renamed in it, so a file copied in by hand,
//! or written by another process, changes the status and the next page
//! re-reads that directory (once). The adapter's own writes update the copy
//! and take the directory's new status as their own, but only when the status
//! before the write matched the copy (otherwise someone else changed the
//! directory first, and the copy is re-read).
//!
//! Timestamps have a granularity (a clock tick, or a second on some file
//! systems), so a change made in the same tick as a read, or between one of
//! our writes and its status read, may leave the status unchanged. A copy
//! made while the directory's timestamps were that recent is "racy" (as in
//! git's index): it is re-read by a later page once `RACY_REREAD` (or ten
//! times the last read's cost, whichever is more) has passed since its last
//! read, so such a change is listed within about a second. A directory nobody
//! touches is never racy and is read once.
//!
//! Every `DirFiles` opened on the same root in one process shares one index.

use std::collections::{BTreeSet, HashMap};
use std::io::{self, ErrorKind};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::time::{Duration, Instant, SystemTime};

/// How close to a read (or our write) a directory timestamp must be for the
/// copy to count as racy: above the coarsest common timestamp granularity.
const RACY_WINDOW: Duration = Duration::from_secs(2);
/// The least time between two re-reads of a racy copy.
const RACY_REREAD: Duration = Duration::from_secs(1);

/// The status of a directory that changes when its entries do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct DirStat {
    modified: Option<SystemTime>,
    len: u64,
    #[cfg(unix)]
    unix: (u64, u64, i64, i64, u64),
}

impl DirStat {
    fn of(meta: &std::fs::Metadata) -> Self {
        #[cfg(unix)]
        use std::os::unix::fs::MetadataExt;
        DirStat {
            modified: meta.modified().ok(),
            len: meta.len(),
            #[cfg(unix)]
            unix: (meta.dev(), meta.ino(), meta.ctime(), meta.ctime_nsec(), meta.nlink()),
        }
    }

    /// Whether a change in the same timestamp tick as `at` could leave this
    /// status as it is.
    fn racy_at(&self, at: SystemTime) -> bool {
        #[cfg(unix)]
        let changed = {
            let (secs, nanos) = (self.unix.2, self.unix.3);
            let ctime = u64::try_from(secs).ok().map(|s| {
                SystemTime::UNIX_EPOCH
                    + Duration::from_secs(s)
                    + Duration::from_nanos(u64::try_from(nanos).unwrap_or(0))
            });
            self.modified.max(ctime)
        };
        #[cfg(not(unix))]
        let changed = self.modified;
        match changed {
            Some(t) => at.duration_since(t).map_or(true, |age| age < RACY_WINDOW),
            None => true,
        }
    }
}

/// The status of the directory at `path`; None when there is no directory.
fn dir_stat(path: &Path) -> io::Result<Option<DirStat>> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => Ok(Some(DirStat::of(&meta))),
        Ok(_) => Ok(None),
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => Ok(None),
        Err(e) => Err(e),
    }
}

/// One directory's entries: file names as they are, subdirectories as
/// `name/`, so that byte order of entries is byte order of the keys under
/// them. Names starting with '.' (our temporary files) and names that are not
/// UTF-8 are left out.
pub(super) struct Snapshot {
    pub(super) names: BTreeSet<Box<str>>,
    stat: DirStat,
    racy: bool,
    stale: bool,
    read_at: Instant,
    read_cost: Duration,
}

impl Snapshot {
    fn read(path: &Path, stat: DirStat) -> io::Result<Self> {
        let (wall, read_at) = (SystemTime::now(), Instant::now());
        let mut names = Vec::new();
        for entry in std::fs::read_dir(path)? {
            let entry = entry?;
            let Ok(name) = entry.file_name().into_string() else { continue };
            if name.starts_with('.') {
                continue;
            }
            let kind = entry.file_type()?;
            if kind.is_dir() {
                names.push(format!("{name}/").into_boxed_str());
            } else if kind.is_file() {
                names.push(name.into_boxed_str());
            }
        }
        // Sorted first, the set is built in one pass rather than by inserts.
        names.sort_unstable();
        let names = BTreeSet::from_iter(names);
        // `stat` was taken before the read: if the directory changed during
        // it, the next page sees a different status and reads it again.
        Ok(Snapshot { names, stat, racy: stat.racy_at(wall), stale: false, read_at, read_cost: read_at.elapsed() })
    }

    fn trusted(&self, now: DirStat) -> bool {
        let reread_after = RACY_REREAD.max(self.read_cost * 10);
        !self.stale && self.stat == now && !(self.racy && self.read_at.elapsed() >= reread_after)
    }
}

#[derive(Default)]
pub(super) struct Dir {
    snap: Option<Snapshot>,
}

/// An entry that an operation leaves present or absent in a directory.
pub(super) struct Change {
    /// The directory's key prefix: "" for the root, else ending in '/'.
    pub dir: String,
    /// The entry: a file name, or `name/` for a subdirectory.
    pub entry: String,
    pub present: bool,
}

impl Change {
    /// The entries a file at `key` needs: the file in its directory and each
    /// directory on the way in its parent.
    pub fn file_present(key: &str, out: &mut Vec<Change>) {
        let mut dir = 0;
        while let Some(slash) = key[dir..].find('/') {
            let end = dir + slash + 1;
            out.push(Change { dir: key[..dir].to_string(), entry: key[dir..end].to_string(), present: true });
            dir = end;
        }
        out.push(Change { dir: key[..dir].to_string(), entry: key[dir..].to_string(), present: true });
    }

    pub fn file_absent(key: &str) -> Change {
        let dir = key.rfind('/').map_or(0, |i| i + 1);
        Change { dir: key[..dir].to_string(), entry: key[dir..].to_string(), present: false }
    }
}

pub(super) struct Index {
    root: PathBuf,
    dirs: Mutex<HashMap<String, Arc<Mutex<Dir>>>>,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index").field("root", &self.root).finish_non_exhaustive()
    }
}

/// Locks a directory; a panic while it was held leaves its copy unknown.
pub(super) fn lock(dir: &Mutex<Dir>) -> MutexGuard<'_, Dir> {
    match dir.lock() {
        Ok(guard) => guard,
        Err(poisoned) => {
            let mut guard = poisoned.into_inner();
            guard.snap = None;
            dir.clear_poison();
            guard
        }
    }
}

impl Index {
    /// The index of the tree at `root`, shared by everyone in this process
    /// who opened the same directory.
    pub fn shared(root: &Path) -> Arc<Index> {
        static OPEN: OnceLock<Mutex<HashMap<PathBuf, Weak<Index>>>> = OnceLock::new();
        let key = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
        let mut open = OPEN.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner());
        open.retain(|_, index| index.strong_count() > 0);
        if let Some(index) = open.get(&key).and_then(Weak::upgrade) {
            return index;
        }
        let index = Arc::new(Index { root: root.to_path_buf(), dirs: Mutex::default() });
        open.insert(key, Arc::downgrade(&index));
        index
    }

    pub fn dir(&self, dir_key: &str) -> Arc<Mutex<Dir>> {
        let mut dirs = self.dirs.lock().unwrap_or_else(|p| p.into_inner());
        dirs.entry(dir_key.to_string()).or_default().clone()
    }

    /// The directory's entries, read again unless the copy can be trusted;
    /// None when there is no such directory.
    pub fn fresh<'a>(&self, dir_key: &str, dir: &'a mut Dir) -> io::Result<Option<&'a Snapshot>> {
        let path = self.root.join(dir_key);
        let Some(now) = dir_stat(&path)? else {
            dir.snap = None;
            return Ok(None);
        };
        if !dir.snap.as_ref().is_some_and(|snap| snap.trusted(now)) {
            // Dropped before the new copy is read, so memory stays flat.
            dir.snap = None;
            dir.snap = match Snapshot::read(&path, now) {
                Ok(snap) => Some(snap),
                Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => return Ok(None),
                Err(e) => return Err(e),
            };
        }
        Ok(dir.snap.as_ref())
    }

    /// Runs one of our own writes with the directories it changes locked,
    /// then brings their copies up to date: on success `changes` are applied
    /// and each directory's new status is taken as the copy's when its status
    /// before the write matched; otherwise the copy is read again by the next
    /// page. A failure that left a directory's status as the copy has it
    /// leaves the copy; any other failure has it read again.
    pub fn write<T, E>(&self, changes: &[Change], op: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
        let mut keys: Vec<&str> = changes.iter().map(|c| c.dir.as_str()).collect();
        keys.sort_unstable();
        keys.dedup();
        // Always in key order, and a listing holds one directory at a time:
        // no deadlock.
        let dirs: Vec<Arc<Mutex<Dir>>> = keys.iter().map(|k| self.dir(k)).collect();
        let mut guards: Vec<MutexGuard<'_, Dir>> = dirs.iter().map(|d| lock(d)).collect();
        let before: Vec<Option<DirStat>> = keys.iter().map(|k| dir_stat(&self.root.join(k)).ok().flatten()).collect();
        let result = op();
        let wall = SystemTime::now();
        for (i, (key, guard)) in keys.iter().zip(guards.iter_mut()).enumerate() {
            let Some(snap) = guard.snap.as_mut() else { continue };
            let after = dir_stat(&self.root.join(key)).ok().flatten();
            let matched = !snap.stale && before[i] == Some(snap.stat);
            if result.is_err() {
                // A failed write (a key taken, a file not found) that left the
                // status as it was changed nothing here.
                snap.stale |= !matched || after != before[i];
                continue;
            }
            // Removals first: a move onto itself leaves the file present.
            for present in [false, true] {
                for c in changes.iter().filter(|c| c.dir == *key && c.present == present) {
                    if present {
                        snap.names.insert(c.entry.as_str().into());
                    } else {
                        snap.names.remove(c.entry.as_str());
                    }
                }
            }
            match after {
                Some(after) if matched => {
                    snap.stat = after;
                    snap.racy |= after.racy_at(wall);
                }
                _ => snap.stale = true,
            }
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A change the directory's status does not show (the same tick) is
    /// missing from the copy until the copy, being racy, is read again;
    /// a copy made long after the last change is trusted.
    #[test]
    fn a_racy_copy_is_read_again() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a"), b"x").unwrap();
        let index = Index::shared(dir.path());
        let d = index.dir("");
        let mut guard = lock(&d);
        let snap = index.fresh("", &mut guard).unwrap().unwrap();
        assert!(snap.racy, "read in the tick of its last change");
        // What a change in the same tick would leave: a copy without "a".
        let snap = guard.snap.as_mut().unwrap();
        snap.names.clear();
        assert!(index.fresh("", &mut guard).unwrap().unwrap().names.is_empty(), "trusted for now");
        guard.snap.as_mut().unwrap().read_at -= RACY_REREAD;
        let names = &index.fresh("", &mut guard).unwrap().unwrap().names;
        assert_eq!(names.iter().map(|n| &**n).collect::<Vec<_>>(), ["a"], "read again");
        // Once its timestamps are old, a copy is trusted until they change.
        let old = SystemTime::now() - RACY_WINDOW * 2;
        std::fs::File::open(dir.path()).unwrap().set_modified(old).unwrap();
        let snap = guard.snap.as_mut().unwrap();
        snap.stat = dir_stat(dir.path()).unwrap().unwrap();
        snap.racy = snap.stat.racy_at(SystemTime::now());
        #[cfg(unix)]
        assert!(snap.racy, "ctime is still new");
        snap.racy = false;
        snap.read_at -= RACY_REREAD * 10;
        snap.names.clear();
        assert!(index.fresh("", &mut guard).unwrap().unwrap().names.is_empty(), "trusted");
        drop(guard);
        // Our own write keeps the copy and takes the new status.
        let write = [Change { dir: String::new(), entry: "b".into(), present: true }];
        index.write(&write, || std::fs::write(dir.path().join("b"), b"y")).unwrap();
        let snap = lock(&d).snap.take().unwrap();
        assert!(!snap.stale && snap.racy);
        assert_eq!(snap.names.iter().map(|n| &**n).collect::<Vec<_>>(), ["b"], "updated, not read again");
        assert_eq!(Some(snap.stat), dir_stat(dir.path()).unwrap());
        lock(&d).snap = Some(snap);
        // Someone else changed the directory first: read again at the next page.
        std::fs::write(dir.path().join("c"), b"z").unwrap();
        index.write(&[Change::file_absent("b")], || std::fs::remove_file(dir.path().join("b"))).unwrap();
        let mut guard = lock(&d);
        assert!(guard.snap.as_ref().unwrap().stale);
        let names = &index.fresh("", &mut guard).unwrap().unwrap().names;
        assert_eq!(names.iter().map(|n| &**n).collect::<Vec<_>>(), ["a", "c"]);
        drop(guard);
        // A write refused before it touched anything keeps the copy; one
        // that failed after changing the directory has it read again.
        let refused: io::Result<()> = Err(ErrorKind::AlreadyExists.into());
        index.write(&[Change::file_absent("a")], || refused).unwrap_err();
        assert!(!lock(&d).snap.as_ref().unwrap().stale);
        // (Past the timestamp tick of the last read, so the change shows.)
        std::thread::sleep(Duration::from_millis(50));
        index
            .write(&[Change::file_absent("a")], || {
                std::fs::write(dir.path().join("d"), b"w")?;
                Err::<(), io::Error>(ErrorKind::Other.into())
            })
            .unwrap_err();
        assert!(lock(&d).snap.as_ref().unwrap().stale);
    }
}
