//! [`FileSystem`]: the few file-system operations the rules of the file
//! calls need, which each kernel supplies — and the mono-kernel's
//! implementation, on the shared ext2 code itself.
//!
//! Errors are `Errno`s, the language of system calls, because that is what
//! the vfs server gets back from the fs server; `Ext2` speaks [`FsError`],
//! which [`FsError::errno`] translates (the very mapping the fs server
//! uses, so both kernels answer the same `Errno` for the same mistake).

use crate::abi::errno::Errno;
use crate::block::BlockDevice;
use crate::fs::{Ext2, FsError, Ino, InodeKind, Metadata};

/// What a lookup found: the inode and the two facts the rules decide on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    /// The inode number.
    pub ino: Ino,
    /// What kind of object it is.
    pub kind: InodeKind,
    /// For a device, its major number (which driver); 0 otherwise.
    pub major: u32,
}

impl From<&Metadata> for Found {
    fn from(metadata: &Metadata) -> Found {
        Found {
            ino: metadata.ino,
            kind: metadata.kind,
            major: metadata.major,
        }
    }
}

/// The file-system operations the rules in [`crate::file`] are written
/// against. Each kernel implements it once: the mono-kernel with direct
/// calls to `Ext2` under its file-system lock (below), the vfs server with
/// requests to the fs server.
///
/// Every method does one inode-level step and nothing else — no policy:
/// deciding *which* steps a system call takes is the rules' job. A method
/// may wait (for the disk, for a reply) but must run to completion.
pub trait FileSystem {
    /// The inode `path` names, relative to directory `cwd` unless it starts
    /// with `/`. Errors: `ENOENT` if a name is missing (the rules rely on
    /// exactly this errno to decide that `O_CREATE` creates), `ENOTDIR`,
    /// `ENAMETOOLONG`, `EIO`.
    fn lookup(&mut self, cwd: Ino, path: &[u8]) -> Result<Found, Errno>;

    /// The directory that holds the last name of `path`, and that name (a
    /// piece of `path`). Errors as for [`lookup`](Self::lookup); `EINVAL`
    /// for a path with no last name (`/`).
    fn lookup_parent<'p>(&mut self, cwd: Ino, path: &'p [u8]) -> Result<(Ino, &'p [u8]), Errno>;

    /// As [`lookup`](Self::lookup), but a symbolic link named by the last
    /// component of `path` is not followed: what is found is the link
    /// itself (`unlink`, `readlink`).
    fn lookup_link(&mut self, cwd: Ino, path: &[u8]) -> Result<Found, Errno>;

    /// Creates the symbolic link `name` in `dir`, whose target is `target`
    /// (not looked up). Errors as for `create_file`; `ENAMETOOLONG` for a
    /// target of a block or more.
    fn symlink(&mut self, dir: Ino, name: &[u8], target: &[u8]) -> Result<(), Errno>;

    /// Creates an empty regular file `name` in directory `dir`; returns its
    /// inode. Errors: `EEXIST`, `ENOSPC`, `EINVAL` (a bad name)...
    fn create_file(&mut self, dir: Ino, name: &[u8]) -> Result<Ino, Errno>;

    /// Sets the size of regular file `ino`.
    fn truncate(&mut self, ino: Ino, size: u64) -> Result<(), Errno>;

    /// Takes one more reference to `ino` for an open file; the kernel gives
    /// it back (`release_inode`) when the file is closed. An unlinked inode
    /// is freed only when its last reference goes.
    fn open_inode(&mut self, ino: Ino) -> Result<(), Errno>;

    /// Creates directory `name` in `dir`.
    fn mkdir(&mut self, dir: Ino, name: &[u8]) -> Result<(), Errno>;

    /// Creates character device `name` in `dir`.
    fn mknod(&mut self, dir: Ino, name: &[u8], major: u32, minor: u32) -> Result<(), Errno>;

    /// Adds the name `name` in `dir` for inode `target`.
    fn link(&mut self, dir: Ino, name: &[u8], target: Ino) -> Result<(), Errno>;

    /// Removes the name `name` (not a directory's) from `dir`.
    fn unlink(&mut self, dir: Ino, name: &[u8]) -> Result<(), Errno>;

    /// Removes the empty directory `name` from `dir`.
    fn rmdir(&mut self, dir: Ino, name: &[u8]) -> Result<(), Errno>;

    /// Moves `old_name` in `old_dir` to `new_name` in `new_dir`.
    fn rename(
        &mut self,
        old_dir: Ino,
        old_name: &[u8],
        new_dir: Ino,
        new_name: &[u8],
    ) -> Result<(), Errno>;
}

/// The mono-kernel's file system: the shared ext2 code, called directly
/// (the kernel holds its file-system lock around the rules). The inherent
/// methods of `Ext2` are named explicitly (`Ext2::lookup(self, ...)`), as
/// a method call would find them first anyway.
impl<D: BlockDevice> FileSystem for Ext2<D> {
    fn lookup(&mut self, cwd: Ino, path: &[u8]) -> Result<Found, Errno> {
        let ino = Ext2::lookup(self, cwd, path).map_err(FsError::errno)?;
        let metadata = Ext2::stat(self, ino).map_err(FsError::errno)?;
        Ok(Found::from(&metadata))
    }

    fn lookup_parent<'p>(&mut self, cwd: Ino, path: &'p [u8]) -> Result<(Ino, &'p [u8]), Errno> {
        Ext2::lookup_parent(self, cwd, path).map_err(FsError::errno)
    }

    fn lookup_link(&mut self, cwd: Ino, path: &[u8]) -> Result<Found, Errno> {
        let ino = Ext2::lookup_link(self, cwd, path).map_err(FsError::errno)?;
        let metadata = Ext2::stat(self, ino).map_err(FsError::errno)?;
        Ok(Found::from(&metadata))
    }

    fn symlink(&mut self, dir: Ino, name: &[u8], target: &[u8]) -> Result<(), Errno> {
        Ext2::symlink(self, dir, name, target)
            .map(|_| ())
            .map_err(FsError::errno)
    }

    fn create_file(&mut self, dir: Ino, name: &[u8]) -> Result<Ino, Errno> {
        Ext2::create_file(self, dir, name).map_err(FsError::errno)
    }

    fn truncate(&mut self, ino: Ino, size: u64) -> Result<(), Errno> {
        Ext2::truncate(self, ino, size).map_err(FsError::errno)
    }

    fn open_inode(&mut self, ino: Ino) -> Result<(), Errno> {
        Ext2::open_inode(self, ino).map_err(FsError::errno)
    }

    fn mkdir(&mut self, dir: Ino, name: &[u8]) -> Result<(), Errno> {
        Ext2::mkdir(self, dir, name)
            .map(|_| ())
            .map_err(FsError::errno)
    }

    fn mknod(&mut self, dir: Ino, name: &[u8], major: u32, minor: u32) -> Result<(), Errno> {
        Ext2::mknod(self, dir, name, major, minor)
            .map(|_| ())
            .map_err(FsError::errno)
    }

    fn link(&mut self, dir: Ino, name: &[u8], target: Ino) -> Result<(), Errno> {
        Ext2::link(self, dir, name, target).map_err(FsError::errno)
    }

    fn unlink(&mut self, dir: Ino, name: &[u8]) -> Result<(), Errno> {
        Ext2::unlink(self, dir, name).map_err(FsError::errno)
    }

    fn rmdir(&mut self, dir: Ino, name: &[u8]) -> Result<(), Errno> {
        Ext2::rmdir(self, dir, name).map_err(FsError::errno)
    }

    fn rename(
        &mut self,
        old_dir: Ino,
        old_name: &[u8],
        new_dir: Ino,
        new_name: &[u8],
    ) -> Result<(), Errno> {
        Ext2::rename(self, old_dir, old_name, new_dir, new_name).map_err(FsError::errno)
    }
}
