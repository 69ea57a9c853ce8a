//! Writing a fixed text over its file without ever leaving it half written.
//!
//! The new text goes to a temporary file beside the one it replaces, is
//! flushed to disk, takes the old file's permissions (and owner, where the
//! process may set it), and is renamed over it: a full disk, a file-size
//! limit or a crash leaves the old file whole. A symbolic link stays a link:
//! the file it points to is replaced. Right before the rename, the file is
//! read again, and if it is no longer the text the fixes were computed from
//! (an editor saved it, another tool appended a document), nothing is written.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::source::SourceFile;

/// Why a file was not written; it is as it was.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("cannot write the fixes: {0}")]
    Io(#[from] std::io::Error),
    #[error("the file changed while it was being fixed; nothing was written: run again")]
    Changed,
}

/// Replaces the file `original` was read from with `text`, keeping a UTF-8
/// byte order mark the file had.
pub fn replace_file(path: &Path, original: &SourceFile, text: &str) -> Result<(), WriteError> {
    // The file a symbolic link points to is the one to replace.
    let target = fs::canonicalize(path)?;
    let metadata = fs::metadata(&target)?;
    let bom = read_unchanged(&target, original)?;
    let temporary = temporary_beside(&target)?;
    let written = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temporary)?;
        if bom {
            file.write_all("\u{feff}".as_bytes())?;
        }
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        fs::set_permissions(&temporary, metadata.permissions())?;
        keep_owner(&file, &metadata);
        Ok::<_, WriteError>(())
    })()
    .and_then(|()| {
        // Checked again as late as possible: a change made while the fixes
        // were computed must not be lost.
        read_unchanged(&target, original)?;
        fs::rename(&temporary, &target)?;
        Ok(())
    });
    if written.is_err() {
        let _ = fs::remove_file(&temporary);
        return written;
    }
    // The rename is durable once the folder is flushed too.
    if let Some(dir) = target.parent() {
        let _ = File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(())
}

/// Whether the file still holds the text that was read (and starts with a
/// byte order mark); `Changed` when it does not.
fn read_unchanged(path: &Path, original: &SourceFile) -> Result<bool, WriteError> {
    let bytes = fs::read(path)?;
    let (bom, body) = match bytes.strip_prefix("\u{feff}".as_bytes()) {
        Some(rest) => (true, rest),
        None => (false, &bytes[..]),
    };
    if body != original.text().as_bytes() {
        return Err(WriteError::Changed);
    }
    Ok(bom)
}

/// A new, unused name in `target`'s folder.
fn temporary_beside(target: &Path) -> std::io::Result<PathBuf> {
    let dir = target.parent().unwrap_or(Path::new("."));
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    for attempt in 0..100u32 {
        let candidate = dir.join(format!(
            ".{name}.rollsafe-{}-{attempt}.tmp",
            std::process::id()
        ));
        if fs::symlink_metadata(&candidate).is_err() {
            return Ok(candidate);
        }
    }
    Err(std::io::Error::other(
        "no free name for a temporary file beside it",
    ))
}

/// Gives the new file the old one's owner and group where the process may
/// (as root, fixing someone else's checkout); elsewhere it is already the
/// process's own, as the old one was.
#[cfg(unix)]
fn keep_owner(file: &File, metadata: &fs::Metadata) {
    use std::os::unix::fs::MetadataExt;
    let _ = std::os::unix::fs::fchown(file, Some(metadata.uid()), Some(metadata.gid()));
}

#[cfg(not(unix))]
fn keep_owner(_file: &File, _metadata: &fs::Metadata) {}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("rollsafe-write-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        dir
    }

    #[test]
    fn replaces_the_file_and_keeps_its_mode_and_byte_order_mark() {
        let dir = scratch("mode");
        let path = dir.join("m.yaml");
        fs::write(&path, "\u{feff}a: 1\n").unwrap_or_else(|e| panic!("{e}"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o640))
                .unwrap_or_else(|e| panic!("{e}"));
        }
        let original = SourceFile::new("m.yaml", "a: 1\n".to_owned());
        replace_file(&path, &original, "a: 2\n").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            fs::read_to_string(&path).ok().as_deref(),
            Some("\u{feff}a: 2\n")
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path)
                .map(|m| m.permissions().mode() & 0o777)
                .ok();
            assert_eq!(mode, Some(0o640));
        }
        let leftovers = fs::read_dir(&dir).map(|d| d.count()).unwrap_or_default();
        assert_eq!(leftovers, 1, "no temporary file is left behind");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_changed_file_is_not_overwritten() {
        let dir = scratch("changed");
        let path = dir.join("m.yaml");
        fs::write(&path, "a: 1\n---\nb: 2\n").unwrap_or_else(|e| panic!("{e}"));
        let original = SourceFile::new("m.yaml", "a: 1\n".to_owned());
        assert!(matches!(
            replace_file(&path, &original, "a: 2\n"),
            Err(WriteError::Changed)
        ));
        assert_eq!(
            fs::read_to_string(&path).ok().as_deref(),
            Some("a: 1\n---\nb: 2\n")
        );
        let _ = fs::remove_dir_all(&dir);
    }

    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_stays_a_link() {
        let dir = scratch("link");
        let real = dir.join("real.yaml");
        let link = dir.join("link.yaml");
        fs::write(&real, "a: 1\n").unwrap_or_else(|e| panic!("{e}"));
        std::os::unix::fs::symlink(&real, &link).unwrap_or_else(|e| panic!("{e}"));
        let original = SourceFile::new("link.yaml", "a: 1\n".to_owned());
        replace_file(&link, &original, "a: 2\n").unwrap_or_else(|e| panic!("{e}"));
        assert!(fs::symlink_metadata(&link).is_ok_and(|m| m.file_type().is_symlink()));
        assert_eq!(fs::read_to_string(&real).ok().as_deref(), Some("a: 2\n"));
        let _ = fs::remove_dir_all(&dir);
    }
}
