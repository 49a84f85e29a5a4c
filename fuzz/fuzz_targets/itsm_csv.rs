#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| opsdesk::fuzz::itsm_csv(data));
