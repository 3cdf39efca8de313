//! Helpers shared by the test modules.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tooltape::cassette::{self, Cassette};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every bundled cassette file.
pub fn fixture_files() -> Vec<PathBuf> {
    cassette::discover(&[root().join("fixtures")]).expect("fixtures/ is readable")
}

/// Loads a cassette below `fixtures/`, panicking with the error.
pub fn load(rel: &str) -> Arc<Cassette> {
    let path = root().join("fixtures").join(rel);
    Arc::new(Cassette::load(&path).unwrap_or_else(|e| panic!("{e}")))
}

/// Loads any cassette path.
pub fn load_path(path: &Path) -> Arc<Cassette> {
    Arc::new(Cassette::load(path).unwrap_or_else(|e| panic!("{e}")))
}

/// The path of the built `tooltape` binary.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_tooltape"))
}

/// The settings every snapshot is taken with: files in `snapshots/`, named by the test (or the
/// given name) alone, without the asserted expression. Starts from the current settings so
/// that `insta::glob!`'s per-file suffix and input file are kept.
pub fn snapshot_settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(root().join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings
}
