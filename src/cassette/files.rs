//! Finding and reading cassette files: discovery that ends on link loops, refuses what is not
//! a regular file, and limits the size.

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::*;

/// Reads a cassette file's text: a regular file of at most `max_bytes`, in UTF-8.
pub(super) fn read_text(path: &Path, max_bytes: u64) -> Result<String, CassetteErrorKind> {
    let meta = std::fs::metadata(path).map_err(CassetteErrorKind::Io)?;
    if !meta.is_file() {
        return Err(CassetteErrorKind::NotRegularFile {
            what: file_kind(&meta),
        });
    }
    if meta.len() > max_bytes {
        return Err(CassetteErrorKind::TooLarge {
            size: Some(meta.len()),
            max: max_bytes,
        });
    }
    let file = std::fs::File::open(path).map_err(CassetteErrorKind::Io)?;
    let mut bytes = Vec::new();
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(CassetteErrorKind::Io)?;
    if bytes.len() as u64 > max_bytes {
        return Err(CassetteErrorKind::TooLarge {
            size: None,
            max: max_bytes,
        });
    }
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let line = 1 + e.as_bytes()[..offset]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        CassetteErrorKind::NotUtf8 { offset, line }
    })
}

/// What a path that is not a regular file is, for an error message.
pub(super) fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    if meta.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    "not a regular file"
}

/// Identifies a file or folder whatever path reaches it: device and inode on Unix, the
/// canonical path elsewhere.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum FileId {
    #[cfg(unix)]
    Inode(u64, u64),
    #[cfg_attr(
        unix,
        expect(dead_code, reason = "the fallback for platforms without inodes")
    )]
    Path(PathBuf),
}

pub(super) fn file_id(path: &Path, meta: &std::fs::Metadata) -> FileId {
    #[cfg(unix)]
    {
        let _ = path;
        use std::os::unix::fs::MetadataExt;
        FileId::Inode(meta.dev(), meta.ino())
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        FileId::Path(std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned()))
    }
}

/// Finds cassette files: each path is a file, or a folder searched recursively for `*.json`
/// (folders named `nonconformant` are skipped: they hold requests, not cassettes). Symbolic
/// links are followed, but each folder and each file is visited once however many links reach
/// it, so a link loop ends. Sorted. Entries that are not regular files are listed too, for
/// the loader to refuse with a clear error (opening a FIFO would block).
///
/// # Errors
/// A path does not exist or a folder cannot be read.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, CassetteError> {
    let mut found = Vec::new();
    let mut seen = HashSet::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| CassetteError {
            path: path.clone(),
            kind: CassetteErrorKind::Io(e),
        })?;
        if meta.is_dir() {
            walk(path, &mut seen, &mut found)?;
        } else if seen.insert(file_id(path, &meta)) {
            found.push(path.clone());
        }
    }
    found.sort();
    found.dedup();
    Ok(found)
}

pub(super) fn walk(
    dir: &Path,
    seen: &mut HashSet<FileId>,
    found: &mut Vec<PathBuf>,
) -> Result<(), CassetteError> {
    let io = |e| CassetteError {
        path: dir.to_owned(),
        kind: CassetteErrorKind::Io(e),
    };
    let meta = std::fs::metadata(dir).map_err(io)?;
    if !seen.insert(file_id(dir, &meta)) {
        return Ok(());
    }
    let entries = std::fs::read_dir(dir).map_err(io)?;
    for entry in entries.flatten() {
        let p = entry.path();
        let is_json = p.extension().is_some_and(|e| e == "json");
        let Ok(meta) = std::fs::metadata(&p) else {
            if is_json {
                found.push(p);
            }
            continue;
        };
        if meta.is_dir() {
            if p.file_name().is_some_and(|n| n == "nonconformant") {
                continue;
            }
            walk(&p, seen, found)?;
        } else if is_json && seen.insert(file_id(&p, &meta)) {
            found.push(p);
        }
    }
    Ok(())
}
