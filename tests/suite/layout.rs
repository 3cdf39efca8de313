//! The house rules of the source tree, checked: only `src/provider/` knows which provider it
//! handles, and no source file grows past what one reader can hold.

use std::path::{Path, PathBuf};

use tooltape::provider::Provider;

use crate::support::root;

/// The most lines a source file may have, its unit tests included.
const MAX_LINES: usize = 800;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

/// `Provider::OpenAiChat`, … for every variant, from the cassette ids (so a new provider is
/// covered without editing this test).
fn variant_names() -> Vec<String> {
    Provider::ALL
        .iter()
        .map(|p| format!("Provider::{p:?}"))
        .collect()
}

#[test]
fn no_line_outside_src_provider_names_a_provider_variant() {
    let src = root().join("src");
    let provider_dir = src.join("provider");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let variants = variant_names();
    let mut offending = Vec::new();
    for file in files.iter().filter(|f| !f.starts_with(&provider_dir)) {
        let text = std::fs::read_to_string(file).expect("a readable source file");
        for (n, line) in text.lines().enumerate() {
            if variants.iter().any(|v| line.contains(v.as_str())) {
                offending.push(format!(
                    "{}:{}: {}",
                    file.strip_prefix(root()).unwrap_or(file).display(),
                    n + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(
        offending.is_empty(),
        "only src/provider/ may name a provider; read the codec's facts instead:\n{}",
        offending.join("\n")
    );
}

#[test]
fn the_variant_grep_finds_the_variants_it_looks_for() {
    let registry = std::fs::read_to_string(root().join("src/provider/registry.rs"))
        .expect("the registry is readable");
    for v in variant_names() {
        assert!(registry.contains(&v), "`{v}` is not in the registry");
    }
}

#[test]
fn no_source_file_is_over_800_lines() {
    let mut files = Vec::new();
    for dir in ["src", "tests", "benches"] {
        rust_files(&root().join(dir), &mut files);
    }
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let n = std::fs::read_to_string(f).ok()?.lines().count();
            (n > MAX_LINES).then(|| {
                format!(
                    "{}: {n} lines",
                    f.strip_prefix(root()).unwrap_or(f).display()
                )
            })
        })
        .collect();
    assert!(
        long.is_empty(),
        "split these files by concept (at most {MAX_LINES} lines each):\n{}",
        long.join("\n")
    );
}

#[test]
fn every_file_and_folder_of_the_suite_is_a_declared_module() {
    // A test file that `main.rs` does not declare is never compiled, so its tests never run.
    let dir = root().join("tests/suite");
    let main = std::fs::read_to_string(dir.join("main.rs")).expect("tests/suite/main.rs");
    let mut undeclared = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("tests/suite") {
        let path = entry.expect("entry").path();
        let module = if path.is_dir() {
            path.join("mod.rs")
                .is_file()
                .then(|| path.file_name().unwrap().to_string_lossy().into_owned())
        } else {
            path.extension()
                .is_some_and(|e| e == "rs")
                .then(|| path.file_stem().unwrap().to_string_lossy().into_owned())
                .filter(|m| m != "main")
        };
        if let Some(m) = module
            && !main.lines().any(|l| l.trim() == format!("mod {m};"))
        {
            undeclared.push(m);
        }
    }
    assert!(
        undeclared.is_empty(),
        "tests/suite/main.rs does not declare {undeclared:?}"
    );
}
