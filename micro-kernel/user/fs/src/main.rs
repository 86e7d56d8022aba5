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
//! Every request that changes something ends with `Ext2::end_op` (as every
//! file-system call in the monolithic kernel does, `fsys.rs`): on an ext3
//! image the journal's group-commit clock, on ext2 a write-back. While a
//! journal transaction is running, the server waits for the next request
//! with a timeout ([`COMMIT_POLL_TICKS`]), and on the timeout calls
//! `Ext2::tick`, so the transaction commits within the commit interval even
//! when no request comes. Errors are the same `Errno` values the monolithic
//! kernel returns (`FsError::errno`).
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

use common::abi::errno::Errno;
use common::abi::proto::reply;
use fs::{COMMIT_POLL_TICKS, handler, mount};
use l4::{ThreadId, println};

fn main(root: u64) -> ! {
    let root = ThreadId(root);
    let directory = server_lib::start("fs", root);
    let vfs = ThreadId(directory.vfs);
    let mut fs = mount(ThreadId(directory.disk));
    let mut request = server_lib::receive();
    loop {
        if request.irq().is_some() {
            request = server_lib::receive(); // not ours; never attached
            continue;
        }
        let mut out = alloc::vec::Vec::new();
        let answer = if request.from != vfs {
            reply::failed(Errno::EPERM)
        } else {
            match fs.as_mut() {
                None => reply::failed(Errno::EIO),
                Some(fs) => handler::handle(fs, &request.wire(), &mut out),
            }
        };
        let pending = fs.as_ref().is_some_and(|fs| fs.commit_pending());
        if !pending {
            request = server_lib::reply_and_receive(request.from, &answer);
            continue;
        }
        // A transaction is running: reply, and wait with a timeout so the
        // commit clock is looked at even if no request comes.
        let mut next = server_lib::reply_and_receive_for(request.from, &answer, COMMIT_POLL_TICKS);
        request = loop {
            if let Some(next) = next {
                break next;
            }
            let Some(fs) = fs.as_mut() else {
                break server_lib::receive();
            };
            if let Err(error) = fs.tick(handler::now_ms()) {
                println!("fs: committing the journal failed: {error}");
            }
            if !fs.commit_pending() {
                break server_lib::receive();
            }
            next = server_lib::receive_for(COMMIT_POLL_TICKS);
        };
    }
}

l4::server_entry!(main);
