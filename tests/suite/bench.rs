//! The speed bench (`scripts/bench.py`, `benches/peers.rs`) is run by a person, never by the
//! tests; this only checks that its script still parses (`cargo clippy --all-targets`, which CI
//! runs, builds the helper).

use std::process::Command;

use crate::support::root;

#[test]
fn the_bench_script_parses_and_explains_itself() {
    let out = Command::new(crate::python::python())
        .arg(root().join("scripts/bench.py"))
        .arg("--help")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("--connections") && text.contains("llmposter"),
        "{text}"
    );
}
