//! The parts of the microkernel that are pure data structures, kept in a
//! library so they can be unit-tested on the host
//! (`cargo test --lib --target x86_64-unknown-linux-gnu` in this folder):
//!
//! - [`mapdb`]: the mapping database (the tree of mappings per frame);
//! - [`elf`]: the checked ELF64 reader for the root task.
//!
//! The kernel binary (`main.rs`) uses them like its own modules.
#![cfg_attr(not(test), no_std)]

pub mod elf;
pub mod mapdb;
