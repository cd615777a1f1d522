//! One writer per journal file, and a file that stays put: the file's lock (`flock`, held for
//! the journal's life, released by the operating system however the process ends), the check
//! before each change that the path still names the file held, and the copy written back when it
//! does not ([`JournalError::Moved`]).

use std::{
    collections::BTreeSet,
    fs::File,
    path::{Path, PathBuf},
    sync::Mutex,
};

use chrono::Utc;

use super::Db;
use crate::journal::{JournalError, went};

/// The journal file's lock: an open descriptor holding `flock(LOCK_EX)`, and the file's identity
/// (device, inode) when it was taken.
pub(super) struct FileLock {
    _file: File,
    path: PathBuf,
    id: (u64, u64),
}

/// The (device, inode) of the journal files this process holds: a second open in this process
/// is refused from the path's `stat` alone, without opening (and then closing) a descriptor of a
/// file SQLite holds here, which would drop SQLite's POSIX locks on it.
static HELD: Mutex<BTreeSet<(u64, u64)>> = Mutex::new(BTreeSet::new());

impl Drop for FileLock {
    fn drop(&mut self) {
        HELD.lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.id);
    }
}

#[cfg(unix)]
fn file_id(m: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (m.dev(), m.ino())
}

#[cfg(not(unix))]
fn file_id(m: &std::fs::Metadata) -> (u64, u64) {
    // Without inodes: the creation time stands in for the identity.
    let t = m
        .created()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .unwrap_or_default();
    (t.as_secs(), u64::from(t.subsec_nanos()))
}

pub(super) fn io_error(what: &str, e: std::io::Error) -> JournalError {
    // The io error's text names no path.
    JournalError::Storage(format!("{what}: {e}"))
}

impl FileLock {
    /// Takes the lock on the journal file at `path` (creating it, mode 0600), or fails with
    /// [`JournalError::InUse`] (another run holds it) or [`JournalError::SavedBeside`] (an
    /// earlier run's saved journal is beside it) having read and written nothing.
    pub(super) fn take(path: &Path) -> Result<FileLock, JournalError> {
        if let Some(saved) = saved_beside(path) {
            return Err(JournalError::SavedBeside {
                saved: saved.display().to_string(),
                saved_at: saved,
            });
        }
        let held = |id| HELD.lock().unwrap_or_else(|e| e.into_inner()).contains(&id);
        if let Ok(m) = std::fs::metadata(path)
            && held(file_id(&m))
        {
            return Err(JournalError::InUse);
        }
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(true).create(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options
            .open(path)
            .map_err(|e| io_error("cannot open or create the file", e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Err(JournalError::InUse),
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(io_error("cannot lock the file", e));
            }
        }
        let id = file_id(
            &file
                .metadata()
                .map_err(|e| io_error("cannot read the file's metadata", e))?,
        );
        if !HELD.lock().unwrap_or_else(|e| e.into_inner()).insert(id) {
            // Another open in this process won the race: this descriptor is not SQLite's.
            return Err(JournalError::InUse);
        }
        Ok(FileLock {
            _file: file,
            path: path.to_owned(),
            id,
        })
    }
}

impl Db {
    /// Whether the journal's path still names the file this journal holds; when it does not,
    /// saves what the journal holds (see [`JournalError::Moved`]) and fails, now and on every
    /// later call.
    pub(super) fn check_file(&mut self) -> Result<(), JournalError> {
        if self.moved.is_none()
            && let Some(lock) = &self.lock
        {
            let mut what = match std::fs::metadata(&lock.path) {
                Ok(m) if file_id(&m) == lock.id => return Ok(()),
                Ok(_) => "replaced",
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => "deleted",
                Err(e) => return Err(io_error("cannot read the journal's path", e)),
            };
            let path = lock.path.clone();
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "journal".into());
            // The copy is written under a new name beside the path, which no one else writes
            // (created new, then filled): a file that takes the journal's path meanwhile (a
            // replacement made as a delete and then a write) can neither make the copy fail nor
            // be written into, and no run can open a half-written copy at the journal's path.
            let beside = path.with_file_name(format!(
                "{name}.saved-{}-{}",
                Utc::now().format("%Y%m%dT%H%M%SZ"),
                std::process::id()
            ));
            if what == "deleted" {
                // The journal's own -wal and -shm, if left: beside the copy written back they
                // would be replayed into it.
                for suffix in ["-wal", "-shm"] {
                    let mut side = path.clone().into_os_string();
                    side.push(suffix);
                    let _ = std::fs::remove_file(side);
                }
            }
            let went = self.rows().map(|e| went(&e)).unwrap_or(0);
            let saved = match self.save_to(&beside) {
                Ok(()) if what == "deleted" => match put_back(&beside, &path) {
                    Ok(()) => Some(path),
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        // Another file took the path after it was found deleted: it was
                        // replaced, and the copy stays beside it.
                        what = "replaced";
                        Some(beside)
                    }
                    Err(e) => {
                        let error = io_error("cannot put the copy back at its path", e);
                        tracing::error!(what, %error, "outbox: the journal was saved beside its path");
                        Some(beside)
                    }
                },
                Ok(()) => Some(beside),
                Err(e) => {
                    // Said (the crate's own words and the storage's kind), so that a copy that
                    // could not be written can be looked into.
                    tracing::error!(what, error = %e, "outbox: the journal could not be saved");
                    None
                }
            };
            tracing::error!(what, "outbox: the journal file changed under the run");
            self.moved = Some((what, saved, went));
        }
        match &self.moved {
            None => Ok(()),
            Some((what, saved_at, went)) => Err(JournalError::Moved {
                what,
                saved: saved_at.as_ref().map_or_else(
                    || "nowhere: it could not be written (this run's journal is lost; look in Hero's list of sent messages before sending any row again)".to_owned(),
                    |p| p.display().to_string(),
                ),
                saved_at: saved_at.clone(),
                went: *went,
            }),
        }
    }

    /// Writes a copy of the journal to `target`, a new file (mode 0600) that must not exist.
    fn save_to(&self, target: &Path) -> Result<(), JournalError> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        // An empty file: VACUUM INTO fills it, keeping its mode. It is another inode than the
        // journal's, so closing it touches none of SQLite's locks.
        drop(
            options
                .open(target)
                .map_err(|e| io_error("cannot create the copy", e))?,
        );
        let target = target
            .to_str()
            .ok_or_else(|| JournalError::Storage("the copy's path is not UTF-8".into()))?;
        self.conn.execute("VACUUM INTO ?1", [target])?;
        Ok(())
    }
}

/// Puts the copy at `copy` back at the journal's `path` (found deleted) in one step: linked there
/// only if the path is still free (`AlreadyExists` when another file took it), then its other
/// name removed.
fn put_back(copy: &Path, path: &Path) -> std::io::Result<()> {
    std::fs::hard_link(copy, path)?;
    // Should this fail, both names hold the same journal, and the name left beside it keeps
    // every run from starting afresh at the path until a person looks ([`saved_beside`]).
    let _ = std::fs::remove_file(copy);
    Ok(())
}

/// A journal an earlier run saved beside `path` (`NAME.saved-*`, see [`JournalError::Moved`]),
/// if one is there.
fn saved_beside(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?.to_string_lossy().into_owned();
    let prefix = format!("{name}.saved-");
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .ok()?
        .flatten()
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            // SQLite's own files beside a saved journal are not journals.
            n.starts_with(&prefix) && !["-wal", "-shm", "-journal"].iter().any(|s| n.ends_with(s))
        })
        .map(|e| e.path())
        .collect();
    found.sort();
    found.pop()
}

#[cfg(test)]
mod tests {
    use super::put_back;

    /// A copy is put back only at a free path: a file that took the path meanwhile is left as
    /// it is, and the copy stays beside it.
    #[test]
    fn a_copy_is_put_back_only_where_no_file_took_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let (copy, path) = (dir.path().join("j.db.saved-1"), dir.path().join("j.db"));
        std::fs::write(&copy, b"the journal").unwrap();
        std::fs::write(&path, b"another file").unwrap();
        let e = put_back(&copy, &path).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&path).unwrap(), b"another file");
        assert_eq!(std::fs::read(&copy).unwrap(), b"the journal");

        std::fs::remove_file(&path).unwrap();
        put_back(&copy, &path).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"the journal");
        assert!(!copy.exists(), "one name left");
    }
}
