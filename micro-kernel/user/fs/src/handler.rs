//! One fs request: decode, run the shared ext2 code, tell the journal's
//! clock (`Ext2::end_op`), encode the reply.
//!
//! Each arm is the inode-level half of a monolithic-kernel system call
//! (`mono-kernel/src/sys_file.rs`); the other half — descriptors, offsets,
//! the working directory — is the vfs server's.

use alloc::vec::Vec;
use common::abi::errno::Errno;
use common::abi::proto::Wire;
use common::abi::proto::fs::{FsRequest, InodeInfo};
use common::abi::proto::reply;
use common::block::BlockDevice;
use common::fs::{Ext2, FsError};
use l4::println;

/// Handles one request from vfs. Results that are bytes are put in `out`,
/// which the reply borrows.
pub fn handle<'a, D: BlockDevice>(
    fs: &mut Ext2<D>,
    wire: &Wire<'_>,
    out: &'a mut Vec<u8>,
) -> Wire<'a> {
    let request = match FsRequest::from_wire(wire) {
        Ok(request) => request,
        Err(problem) => return reply::malformed(problem),
    };
    let modifies = !matches!(
        request,
        FsRequest::Lookup { .. }
            | FsRequest::LookupParent { .. }
            // LAB fs BEGIN
            | FsRequest::LookupLink { .. }
            // LAB fs STUB
            // LAB fs END
            | FsRequest::Read { .. }
            | FsRequest::Stat { .. }
            | FsRequest::ReadDir { .. }
            | FsRequest::OpenInode { .. }
    );
    let result = run(fs, request, out);
    // After a change (also a failed request, which may have done part of
    // its work): on ext3 the journal's group-commit clock, on ext2 a
    // write-back of everything (`Ext2::end_op`).
    if modifies && let Err(error) = fs.end_op(now_ms()) {
        println!("fs: writing changes to the disk failed: {error}");
    }
    match result {
        Ok((words, 0)) => reply::done(&words[..]),
        Ok((words, _)) => reply::done_with_bytes(&words[..], out),
        Err(error) => reply::failed(error),
    }
}

/// The kernel's clock for the journal, in milliseconds (10 ms ticks).
pub fn now_ms() -> u64 {
    l4::task::system_clock().saturating_mul(10)
}

/// Up to four reply words.
type Words = Vec<u64>;

/// Runs `request`; returns the reply words and whether `out` holds bytes
/// (non-zero second value).
fn run<D: BlockDevice>(
    fs: &mut Ext2<D>,
    request: FsRequest<'_>,
    out: &mut Vec<u8>,
) -> Result<(Words, usize), Errno> {
    use FsRequest::*;
    let no_bytes = |words: Words| Ok((words, 0));
    match request {
        Lookup { cwd, path } => {
            let ino = fs.lookup(cwd, path).map_err(FsError::errno)?;
            let metadata = fs.stat(ino).map_err(FsError::errno)?;
            no_bytes(InodeInfo::from_metadata(&metadata).to_words().to_vec())
        }
        LookupParent { cwd, path } => {
            let (dir, name) = fs.lookup_parent(cwd, path).map_err(FsError::errno)?;
            // `name` is a piece of `path`: say where, so vfs can cut it out.
            let offset = name.as_ptr() as usize - path.as_ptr() as usize;
            no_bytes(alloc::vec![dir as u64, offset as u64, name.len() as u64])
        }
        Read { ino, offset, len } => {
            out.resize(len as usize, 0);
            let count = fs.read(ino, offset, out).map_err(FsError::errno)?;
            out.truncate(count);
            Ok((Vec::new(), 1))
        }
        Write {
            ino,
            offset,
            append,
            data,
        } => {
            let offset = if append {
                fs.stat(ino).map_err(FsError::errno)?.size
            } else {
                offset
            };
            let written = fs.write(ino, offset, data).map_err(FsError::errno)?;
            no_bytes(alloc::vec![written as u64, offset])
        }
        Truncate { ino, size } => {
            fs.truncate(ino, size).map_err(FsError::errno)?;
            no_bytes(Vec::new())
        }
        Stat { ino } => {
            let metadata = fs.stat(ino).map_err(FsError::errno)?;
            no_bytes(InodeInfo::from_metadata(&metadata).to_words().to_vec())
        }
        Create { dir, name } => {
            let ino = fs.create_file(dir, name).map_err(FsError::errno)?;
            no_bytes(alloc::vec![ino as u64])
        }
        Mkdir { dir, name } => {
            let ino = fs.mkdir(dir, name).map_err(FsError::errno)?;
            no_bytes(alloc::vec![ino as u64])
        }
        Mknod {
            dir,
            major,
            minor,
            name,
        } => {
            let ino = fs.mknod(dir, name, major, minor).map_err(FsError::errno)?;
            no_bytes(alloc::vec![ino as u64])
        }
        Link { dir, target, name } => {
            fs.link(dir, name, target).map_err(FsError::errno)?;
            no_bytes(Vec::new())
        }
        Unlink { dir, name } => {
            fs.unlink(dir, name).map_err(FsError::errno)?;
            no_bytes(Vec::new())
        }
        Rmdir { dir, name } => {
            fs.rmdir(dir, name).map_err(FsError::errno)?;
            no_bytes(Vec::new())
        }
        // LAB fs BEGIN
        LookupLink { cwd, path } => {
            let ino = fs.lookup_link(cwd, path).map_err(FsError::errno)?;
            let metadata = fs.stat(ino).map_err(FsError::errno)?;
            no_bytes(InodeInfo::from_metadata(&metadata).to_words().to_vec())
        }
        Symlink { dir, name, target } => {
            let ino = fs.symlink(dir, name, target).map_err(FsError::errno)?;
            no_bytes(alloc::vec![ino as u64])
        }
        // LAB fs STUB
        // LAB fs END
        Rename {
            old_dir,
            new_dir,
            old_name,
            new_name,
        } => {
            fs.rename(old_dir, old_name, new_dir, new_name)
                .map_err(FsError::errno)?;
            no_bytes(Vec::new())
        }
        ReadDir { dir, cursor, len } => {
            out.clear();
            let next = fs.read_dir_records(dir, cursor, len as usize, out)?;
            Ok((alloc::vec![next], 1))
        }
        OpenInode { ino } => {
            fs.open_inode(ino).map_err(FsError::errno)?;
            no_bytes(Vec::new())
        }
        ReleaseInode { ino } => {
            fs.release_inode(ino).map_err(FsError::errno)?;
            no_bytes(Vec::new())
        }
        Sync => {
            fs.sync().map_err(FsError::errno)?;
            no_bytes(Vec::new())
        }
        Fsync { ino } => {
            fs.fsync(ino).map_err(FsError::errno)?;
            no_bytes(Vec::new())
        }
    }
}
