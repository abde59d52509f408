//! The database's files are as private as the key files: the database, its WAL and its shared-memory file are
//! created 0600 (SQLite gives the WAL and `-shm` files the mode of the database file) in a folder created 0700, and
//! files an older version left readable are tightened at every open. They hold sealed personal data, blind
//! indexes and the audit log: nobody but the server's user has any business reading them.

use std::path::{Path, PathBuf};

use crate::error::{StoreError, StoreResult};

/// The database file and the two SQLite keeps beside it.
pub(crate) fn files_of(path: &Path) -> [PathBuf; 3] {
    let with = |suffix: &str| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    [path.to_path_buf(), with("-wal"), with("-shm")]
}

/// Creates the folder (0700) and the database file (0600) if missing, and makes the existing files 0600.
pub(crate) fn make_private(path: &Path) -> StoreResult<()> {
    let err = |what: &Path, e: std::io::Error| StoreError::Config(format!("cannot create {}: {e}", what.display()));
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt as _;
            builder.mode(0o700); // only for folders created here; existing ones are the operator's
        }
        builder.create(dir).map_err(|e| err(dir, e))?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    // An empty file is an empty database to SQLite.
    match opts.open(path) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(err(path, e)),
    }
    #[cfg(unix)]
    for file in files_of(path) {
        use std::os::unix::fs::PermissionsExt as _;
        match std::fs::metadata(&file) {
            Ok(m) if m.permissions().mode() & 0o077 != 0 => {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).map_err(|e| {
                    StoreError::Config(format!("cannot make {} private (chmod 600): {e}", file.display()))
                })?;
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;
    use crate::traits::RateLimitStore as _;

    /// The file's permission bits (0 when it does not exist: a missing file fails the test too).
    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).map_or(0, |m| m.permissions().mode() & 0o777)
    }

    #[tokio::test]
    async fn the_database_and_its_wal_and_shm_files_are_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data").join("realname.db");
        let store = super::super::SqliteStore::open(&path).await.unwrap();
        // A write, so that the WAL and the shared-memory file exist.
        store.rate_hit("k", 60_000, 1).await.unwrap();
        for file in files_of(&path) {
            assert_eq!(mode(&file), 0o600, "{}", file.display());
        }
        assert_eq!(mode(&dir.path().join("data")), 0o700);
        drop(store);
        // Files an older version left readable to others are tightened at the next open.
        for file in files_of(&path).iter().filter(|f| f.exists()) {
            std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        let store = super::super::SqliteStore::open(&path).await.unwrap();
        store.rate_hit("k", 60_000, 2).await.unwrap();
        for file in files_of(&path) {
            assert_eq!(mode(&file), 0o600, "{} after reopening", file.display());
        }
    }
}
