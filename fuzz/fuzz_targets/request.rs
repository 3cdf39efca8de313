//! libFuzzer target: `tooltape::fuzzing::request`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tooltape::fuzzing::request(data));
