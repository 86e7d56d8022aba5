//! The fs server's code as a library: the block device that calls the disk
//! server ([`disk_client`]), one request's handling ([`handler`]), and
//! [`mount`]. The fs server (`main.rs`) runs them in its own address space;
//! the co-location build (`make micro-colocated`) links them into the vfs
//! server instead, which then calls [`handler::handle`] as a function where
//! it would have sent the fs server a message — the same protocol, without
//! the IPC (`docs/performance.md`, "Co-location").
#![no_std]

extern crate alloc;

pub mod disk_client;
pub mod handler;

use common::fs::Ext2;
use disk_client::DiskClient;
use l4::println;

/// Buffer-cache size in file-system blocks (as the monolithic kernel's).
pub const CACHE_BLOCKS: usize = 512;

/// How long (10 ms ticks) to wait for a request while a journal
/// transaction is running, before looking at the commit clock again.
pub const COMMIT_POLL_TICKS: u32 = 50;

/// Mounts the root file system on the disk server (the one `server_lib`'s
/// directory names now), saying on the console what it found; `None` (said
/// too) if there is none to mount.
pub fn mount() -> Option<Ext2<DiskClient>> {
    let Some(client) = DiskClient::connect() else {
        println!("fs: the disk server has no disk");
        return None;
    };
    match Ext2::mount(client, CACHE_BLOCKS) {
        Ok(fs) => {
            println!("fs: {}", fs.journal_status());
            Some(fs)
        }
        Err(error) => {
            println!("fs: cannot mount the root file system: {error}");
            None
        }
    }
}
