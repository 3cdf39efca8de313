//! libFuzzer target: `tooltape::fuzzing::cassette`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tooltape::fuzzing::cassette(data));
