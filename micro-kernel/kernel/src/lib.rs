//! The parts of the microkernel that are pure data structures — the slot
//! types and the mapping database — kept in a library so they can be
//! unit-tested on the host (`cargo test --lib --target x86_64-unknown-linux-gnu`
//! in this folder, or `make micro-test-host`). The kernel binary (`main.rs`)
//! uses them like its own modules.
#![cfg_attr(not(test), no_std)]

pub mod mapdb;
pub mod slot;
