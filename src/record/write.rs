//! Writing a cassette so that an interruption leaves the previous file or none: the text goes
//! to a temporary file in the same folder, is flushed to disk, then renamed over the target.

use std::io::Write;
use std::path::Path;

use super::error::ImportErrorKind;

/// Writes `text` to `path` atomically; an existing file is replaced only with `force`.
///
/// # Errors
/// The file exists (without `force`), or the folder or file cannot be written.
pub fn write_atomic(path: &Path, text: &str, force: bool) -> Result<(), ImportErrorKind> {
    let fail = |e: std::io::Error| ImportErrorKind::Write(path.to_owned(), e);
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(fail)?;
    if !force && path.exists() {
        return Err(ImportErrorKind::Exists(path.to_owned()));
    }
    let stem = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{stem}."))
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(fail)?;
    tmp.write_all(text.as_bytes()).map_err(fail)?;
    tmp.as_file().sync_all().map_err(fail)?;
    if force {
        tmp.persist(path).map_err(|e| fail(e.error))?;
    } else {
        tmp.persist_noclobber(path).map_err(|e| {
            if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                ImportErrorKind::Exists(path.to_owned())
            } else {
                fail(e.error)
            }
        })?;
    }
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_existing_file_is_kept_without_force_and_replaced_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/c.json");
        write_atomic(&path, "one", false).unwrap();
        let err = write_atomic(&path, "two", false).unwrap_err();
        assert!(matches!(err, ImportErrorKind::Exists(_)), "{err}");
        assert!(err.to_string().contains("--force"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "one");
        write_atomic(&path, "three", true).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "three");
        let left: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file is left behind");
    }
}
