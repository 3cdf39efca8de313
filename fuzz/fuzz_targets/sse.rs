//! libFuzzer target: `tooltape::fuzzing::sse`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tooltape::fuzzing::sse(data));
