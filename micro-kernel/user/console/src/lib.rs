//! The console server's input side, apart from IPC: the shared line
//! discipline plus the reads waiting for a line ([`readers`]). Plain data,
//! tested on the host; `main.rs` turns it into replies.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod readers;
