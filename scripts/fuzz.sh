#!/usr/bin/env bash
# Coverage-guided fuzzing on the stable toolchain: libFuzzer (the libfuzzer-sys crate, built from
# its C++ source) linked into targets compiled with rustc's stable SanitizerCoverage flags, the
# instrumentation cargo-fuzz adds, without cargo-fuzz's nightly-only sanitizer flags.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]   run each target (default: all) for SECONDS (default 60)
#
# Seeds come from fixtures/ (cassettes, their recorded SSE streams and request bodies, made by
# scripts/fuzz-seeds.py) and from fuzz/regressions/. A crash is written to fuzz/artifacts/TARGET/;
# copy it into fuzz/regressions/TARGET/ and `cargo test --test suite fuzz` replays it forever.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(cassette sse request)

python3 scripts/fuzz-seeds.py fuzz/seeds
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cllvm-args=-sanitizer-coverage-stack-depth \
--cfg fuzzing -Cdebug-assertions -Coverflow-checks"
# An explicit --target keeps RUSTFLAGS off build scripts and proc macros, as cargo-fuzz does.
host=$(rustc -vV | sed -n 's/^host: //p')
cargo build --release --manifest-path fuzz/Cargo.toml --bins --target "$host"
for t in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t" "fuzz/regressions/$t"
  echo "== $t for ${seconds}s"
  "fuzz/target/$host/release/$t" "fuzz/corpus/$t" "fuzz/seeds/$t" "fuzz/regressions/$t" \
    -max_total_time="$seconds" -max_len=262144 -rss_limit_mb=2048 -timeout=10 \
    -artifact_prefix="fuzz/artifacts/$t/" -print_final_stats=1
done
