//! The process server's bookkeeping, kept free of system calls so that it
//! can be tested on the host (`cargo test -p proc --lib --target
//! x86_64-unknown-linux-gnu`). The server (`main.rs` and the modules it
//! declares) does the IPC and the memory copies; these modules decide.
//!
//! | module     | what it is                                                    |
//! |------------|---------------------------------------------------------------|
//! | [`frames`] | the frame pool's bookkeeping: reference counts, free list     |
//! | [`memory`] | one process's memory map: regions, pages, what a fault means  |
//! | [`table`]  | the process table: pids, parents, zombies, who waits for whom |
#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod frames;
pub mod memory;
pub mod table;
