//! The fs server: the ext2 file system, at user level.
//!
//! It runs the shared `common::fs::Ext2` — the very code the monolithic
//! kernel links in — over a [`DiskClient`], a block device whose every
//! transfer is a call to the disk server. It keeps no per-process state:
//! the vfs server owns descriptors, offsets and working directories, and
//! asks for inode-level operations (`common::abi::proto::fs`). Only vfs may
//! call it (`EPERM` for anyone else): fs trusts vfs to have checked who may
//! do what, as the monolithic kernel's file-system layer trusts its system
//! calls.
//!
//! **Every reply is durable.** A request that changed something is
//! committed before its reply goes out (`Ext2::sync`: on an ext3 image the
//! journal's running transaction commits, on ext2 everything is written
//! back). So what fs has answered is on the disk, and when the server
//! crashes, root's new copy mounts the disk — replaying the journal — and
//! finds everything its clients were told was done; the request the old
//! copy was working on was not answered, and vfs sends it again
//! (`docs/fault-isolation.md`). The buffer cache is lost with the crash,
//! nothing else. (The mono-kernel, which cannot lose its file system
//! without losing everything, commits in groups, every 5 s.) Errors are
//! the same `Errno` values the monolithic kernel returns (`FsError::errno`).
//!
//! ## Where it waits
//!
//! Only inside the block device, for the disk server's replies. It is one
//! thread, so requests are served one at a time — which is exactly the
//! single-threaded discipline `Ext2` needs (`&mut self`), the job the
//! monolithic kernel's sleep lock does.

#![no_std]
#![no_main]

extern crate alloc;

mod disk_client;
mod handler;

use common::abi::errno::Errno;
use common::abi::proto::reply;
use common::fs::Ext2;
use disk_client::DiskClient;
use l4::{ThreadId, println};
use server_lib::Server;

/// Buffer-cache size in file-system blocks (as the monolithic kernel's).
const CACHE_BLOCKS: usize = 512;

fn main(root: u64) -> ! {
    let root = ThreadId(root);
    server_lib::start("fs", root);
    let mut fs = match DiskClient::connect() {
        None => {
            println!("fs: the disk server has no disk");
            None
        }
        Some(disk) => match Ext2::mount(disk, CACHE_BLOCKS) {
            Ok(fs) => {
                println!("fs: {}", fs.journal_status());
                Some(fs)
            }
            Err(error) => {
                println!("fs: cannot mount the root file system: {error}");
                None
            }
        },
    };
    let mut request = server_lib::receive();
    loop {
        if request.irq().is_some() {
            request = server_lib::receive(); // not ours; never attached
            continue;
        }
        let mut out = alloc::vec::Vec::new();
        let answer = if !server_lib::sender_is(Server::Vfs, request.from) {
            reply::failed(Errno::EPERM)
        } else {
            match fs.as_mut() {
                None => reply::failed(Errno::EIO),
                Some(fs) => handler::handle(fs, &request.wire(), &mut out),
            }
        };
        request = server_lib::reply_and_receive(request.from, &answer);
    }
}

l4::server_entry!(main);
