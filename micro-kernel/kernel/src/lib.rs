//! The part of the microkernel that is a pure data structure — the mapping
//! database — kept in a library so it can be unit-tested on the host
//! (`cargo test --lib --target x86_64-unknown-linux-gnu` in this folder, or
//! `make micro-test-host`). The kernel binary (`main.rs`) uses it like its
//! own module.
#![cfg_attr(not(test), no_std)]

pub mod mapdb;
