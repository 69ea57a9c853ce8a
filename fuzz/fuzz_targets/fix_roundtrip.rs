//! See `tests/fuzz_checks.rs`: the property is checked there, and the test
//! suite replays every input that ever failed it.
#![no_main]

#[path = "../../tests/fuzz_checks.rs"]
#[allow(dead_code)]
mod checks;

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| checks::fix_roundtrip(bytes));
