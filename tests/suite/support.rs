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
