//! The parts of the microkernel that need no hardware — the slot types, the
//! mapping database and its page index, and map/grant/unmap on page tables (reached through
//! traits, so `FakeRam` can stand in for physical memory) — kept in a
//! library so they can be unit-tested on the host
//! (`cargo test --lib --target x86_64-unknown-linux-gnu` in this folder, or
//! `make micro-test-host`). The kernel binary (`main.rs`) uses them like its
//! own modules.
#![cfg_attr(not(test), no_std)]

pub mod mapdb;
pub mod mapping;
pub mod page_index;
pub mod quota;
pub mod slot;
