//! The fuzz targets (`tooltape::fuzzing`, run coverage-guided by `scripts/fuzz.sh`), replayed on
//! every input kept in `fuzz/regressions/`, on seeds from the fixtures, and on a short,
//! deterministic run of mutations of those seeds: none may panic.

use tooltape::fuzzing;

use crate::support::{fixture_files, root};

type Target = fn(&[u8]);

const TARGETS: [(&str, Target); 3] = [
    ("cassette", fuzzing::cassette),
    ("sse", fuzzing::sse),
    ("request", fuzzing::request),
];

/// Seeds per target, as `scripts/fuzz-seeds.py` writes them.
fn seeds(target: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for path in fixture_files() {
        let raw = std::fs::read(&path).unwrap();
        let cassette = tooltape::Cassette::load(&path).unwrap();
        match target {
            "cassette" => out.push(raw),
            "request" => out.extend(
                cassette
                    .file
                    .interactions
                    .iter()
                    .map(|i| serde_json::to_vec(&i.request.body).unwrap()),
            ),
            _ => out.extend(
                cassette
                    .file
                    .interactions
                    .iter()
                    .map(|i| match &i.response.body {
                        tooltape::cassette::ResponseBody::Sse { frames } => {
                            [b"\x03".as_slice(), frames.concat().as_bytes()].concat()
                        }
                        tooltape::cassette::ResponseBody::Json { text } => {
                            [b"\x00".as_slice(), text.as_bytes()].concat()
                        }
                    }),
            ),
        }
    }
    out
}

/// xorshift64*: a deterministic stream of numbers for the mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n.max(1) as u64)).unwrap()
    }
}

/// One mutation of `input`, libFuzzer-style: flip, replace, insert or delete bytes, insert an
/// interesting token, truncate, or splice in part of `other`.
fn mutate(rng: &mut Rng, input: &[u8], other: &[u8]) -> Vec<u8> {
    const TOKENS: &[&[u8]] = &[
        b"\"",
        b"{",
        b"}",
        b"[",
        b"]",
        b",",
        b":",
        b"null",
        b"-1",
        b"1e999",
        b"\"\\u0000\"",
        b"\n\n",
        b"data: ",
        b"event: ",
        b"[DONE]",
        b"\xff",
        b"\xc3",
        b"\"tool_calls\"",
        b"\"tool_use\"",
        b"\"index\": 4294967296",
        b"\"status\": 101",
    ];
    let mut out = input.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(7) {
            0 if !out.is_empty() => {
                let i = at.min(out.len() - 1);
                out[i] ^= 1 << rng.below(8);
            }
            1 if !out.is_empty() => {
                let i = at.min(out.len() - 1);
                out[i] = u8::try_from(rng.below(256)).unwrap();
            }
            2 => {
                let token = TOKENS[rng.below(TOKENS.len())];
                out.splice(at..at, token.iter().copied());
            }
            3 => {
                let end = (at + rng.below(16)).min(out.len());
                out.drain(at..end);
            }
            4 => out.truncate(at),
            5 if !other.is_empty() => {
                let from = rng.below(other.len());
                let len = rng.below(other.len() - from + 1);
                out.splice(at..at, other[from..from + len].iter().copied());
            }
            _ => {
                let end = (at + rng.below(64)).min(out.len());
                let copy = out[at..end].to_vec();
                out.splice(at..at, copy);
            }
        }
    }
    out
}

#[test]
fn every_kept_fuzz_input_runs_without_a_panic() {
    for (name, target) in TARGETS {
        let dir = root().join("fuzz/regressions").join(name);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.file_name().is_some_and(|n| n == ".gitkeep") {
                continue;
            }
            let data = std::fs::read(&path).unwrap();
            target(&data);
        }
    }
}

#[test]
fn a_short_seeded_fuzz_run_finds_no_panic() {
    let per_seed: usize = std::env::var("TOOLTAPE_FUZZ_MUTATIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(12);
    let mut rng = Rng(0x7001_7a9e);
    for (name, target) in TARGETS {
        let seeds = seeds(name);
        assert!(!seeds.is_empty(), "{name}: no seeds");
        for (i, seed) in seeds.iter().enumerate() {
            target(seed);
            let other = &seeds[(i + 1) % seeds.len()];
            for _ in 0..per_seed {
                let input = mutate(&mut rng, seed, other);
                let caught = std::panic::catch_unwind(|| target(&input));
                if caught.is_err() {
                    let dir = std::env::temp_dir().join("tooltape-fuzz-crash");
                    std::fs::create_dir_all(&dir).unwrap();
                    let file = dir.join(format!("{name}-{i}"));
                    std::fs::write(&file, &input).unwrap();
                    panic!(
                        "{name} panicked on a mutation of seed {i}; the input is in {} (keep it in fuzz/regressions/{name}/)",
                        file.display()
                    );
                }
            }
        }
    }
}
