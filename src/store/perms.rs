//! Who may read the data directory: only the account the bot runs as. The directory and every directory in it
//! are `0700`, every file `0600`. The store creates its own files with those modes and tightens what sled (or an
//! earlier version) created with the process's umask.

use std::fs::{DirBuilder, OpenOptions, Permissions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Mode of the data directory and of every directory in it.
pub const DIR_MODE: u32 = 0o700;
/// Mode of every file in the data directory.
pub const FILE_MODE: u32 = 0o600;

/// Creates `dir` (and missing parents) as `0700`, and makes an existing one `0700`.
pub fn private_dir(dir: &Path) -> io::Result<()> {
    DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)?;
    set_mode(dir, DIR_MODE)
}

/// Options that create a file readable by the owner only.
pub fn private_file() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.mode(FILE_MODE);
    options
}

/// Takes group and other permissions away from the files and directories in `dir`, and in every directory below
/// it when `recursive`. Symbolic links are left alone.
pub fn tighten(dir: &Path, recursive: bool) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            // Removed meanwhile (a retired log segment, a replaced snapshot).
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        let mode = meta.permissions().mode() & 0o777;
        if meta.is_dir() {
            if mode != DIR_MODE {
                set_mode(&path, DIR_MODE)?;
            }
            if recursive {
                tighten(&path, true)?;
            }
        } else if meta.is_file() && mode & 0o077 != 0 {
            set_mode(&path, mode & 0o700)?;
        }
    }
    Ok(())
}

fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    match std::fs::set_permissions(path, Permissions::from_mode(mode)) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn an_existing_tree_loses_group_and_other_permissions() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("data");
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("a"), b"x").unwrap();
        std::fs::write(dir.join("sub/b"), b"x").unwrap();
        std::fs::set_permissions(dir.join("a"), Permissions::from_mode(0o644)).unwrap();
        std::fs::set_permissions(dir.join("sub/b"), Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&dir, Permissions::from_mode(0o755)).unwrap();

        private_dir(&dir).unwrap();
        tighten(&dir, true).unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join("sub")), 0o700);
        assert_eq!(mode(&dir.join("a")), 0o600);
        assert_eq!(mode(&dir.join("sub/b")), 0o700, "owner bits are kept");
    }
}
