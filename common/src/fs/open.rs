//! Inode references held by the kernel, and freeing inodes.
//!
//! An inode has two kinds of users: *names* (directory entries, counted in
//! the on-disk link count) and *references* from the running system (open
//! files, working directories), which only the kernel knows about. Unix
//! lets a program keep using a file after its last name is removed; the
//! inode and its blocks are freed only when the last reference goes too
//! (xv6's `iput`). The kernel reports references with
//! [`Ext2::open_inode`] and [`Ext2::release_inode`]; the counts live in
//! memory only.

use super::bytes::{get_u32, put_u32};
use super::error::{FsError, FsResult};
use super::inode::{Inode, InodeKind};
use super::{Ext2, Ino};
use crate::block::BlockDevice;

/// Magic number at the start of an extended-attribute block.
const XATTR_MAGIC: u32 = 0xEA02_0000;

impl<D: BlockDevice> Ext2<D> {
    /// Records one more reference to inode `ino` (a file was opened, a
    /// process changed into a directory). While referenced, the inode is not
    /// freed even if its last name is removed.
    ///
    /// # Errors
    /// [`FsError::InvalidArgument`] if `ino` is out of range or not in use;
    /// [`FsError::Corrupt`], [`FsError::Cache`].
    pub fn open_inode(&mut self, ino: Ino) -> FsResult<()> {
        self.read_live_inode(ino)?;
        let count = self.open_counts.entry(ino).or_insert(0);
        *count = count.saturating_add(1);
        Ok(())
    }

    /// Takes again a reference the kernel held before this file system
    /// was mounted: the micro-kernel's vfs server, when root has restarted
    /// the fs server under it, re-opens every inode it holds on the new
    /// copy (`docs/fault-isolation.md`). As [`Ext2::open_inode`], but an
    /// inode whose last name was removed while it was held is accepted too
    /// (it is still allocated on the disk: the old copy would have freed it
    /// with the last reference), so that it is freed when the reference
    /// goes, as it would have been.
    ///
    /// # Errors
    /// [`FsError::InvalidArgument`] if `ino` is out of range or free;
    /// [`FsError::Corrupt`], [`FsError::Cache`].
    pub fn reopen_inode(&mut self, ino: Ino) -> FsResult<()> {
        self.read_orphan(ino)?;
        let count = self.open_counts.entry(ino).or_insert(0);
        *count = count.saturating_add(1);
        Ok(())
    }

    /// Inode `ino` if it is in use, with or without names.
    fn read_orphan(&mut self, ino: Ino) -> FsResult<(Inode, Ino)> {
        if ino < self.sb.first_ino && ino != super::ROOT_INO {
            return Err(FsError::InvalidArgument);
        }
        let inode = self.read_inode(ino)?;
        if inode.mode == 0 {
            return Err(FsError::InvalidArgument);
        }
        Ok((inode, ino))
    }

    /// Drops one reference to inode `ino`. When the last reference goes and
    /// the inode has no names left, it is freed with its blocks.
    ///
    /// A reference this mount never saw is one taken on an earlier mount
    /// that crashed before it answered the release (the micro-kernel's fs
    /// server, restarted by root, gets the release again from vfs, which
    /// has taken every reference it still holds again first, with
    /// [`Ext2::reopen_inode`]): nobody holds the inode, so it is freed if it
    /// has no names, as the earlier mount would have done.
    ///
    /// # Errors
    /// [`FsError::InvalidArgument`] if `ino` is not open and has names, or
    /// is free; [`FsError::Corrupt`], [`FsError::Cache`] from freeing it.
    pub fn release_inode(&mut self, ino: Ino) -> FsResult<()> {
        match self.open_counts.get_mut(&ino) {
            Some(count) => {
                *count -= 1;
                if *count > 0 {
                    return Ok(());
                }
            }
            None => {
                let (inode, _) = self.read_orphan(ino)?;
                if inode.links_count != 0 {
                    return Err(FsError::InvalidArgument);
                }
            }
        }
        self.open_counts.remove(&ino);
        if self.read_only.is_some() {
            return Ok(());
        }
        self.begin_op()?;
        let inode = self.read_inode(ino)?;
        self.free_if_unused(ino, inode)
    }

    /// How many references the kernel holds on `ino`.
    pub fn open_count(&self, ino: Ino) -> u32 {
        self.open_counts.get(&ino).copied().unwrap_or(0)
    }

    /// Frees `ino` if it has no names and no references.
    pub(crate) fn free_if_unused(&mut self, ino: Ino, inode: Inode) -> FsResult<()> {
        if inode.links_count == 0 && inode.mode != 0 && !self.open_counts.contains_key(&ino) {
            self.free_inode_now(ino, inode)?;
        }
        Ok(())
    }

    /// Frees inode `ino` and everything it owns: data and indirect blocks,
    /// its extended-attribute block (if this was the last user), and its
    /// bit in the inode bitmap.
    ///
    /// # Errors
    /// [`FsError::Corrupt`] if a block is freed twice or the attribute
    /// block is not one; [`FsError::Cache`].
    pub(crate) fn free_inode_now(&mut self, ino: Ino, mut inode: Inode) -> FsResult<()> {
        let was_dir = inode.kind() == Some(InodeKind::Dir);
        if inode.has_block_pointers(self.sb.block_size) {
            self.free_blocks_from(&mut inode, 0)?;
        }
        if inode.file_acl != 0 {
            self.release_xattr_block(inode.file_acl)?;
            inode.file_acl = 0;
        }
        // A free inode has mode 0, so e2fsck does not mistake it for a
        // deleted file with a missing deletion time; the deletion time is set
        // only if it cannot be mistaken for an orphan-list link.
        inode.mode = 0;
        inode.links_count = 0;
        inode.size = 0;
        inode.sectors = 0;
        inode.block = [0; 15];
        inode.dtime = if self.now >= self.sb.inodes_count {
            self.now
        } else {
            0
        };
        self.write_inode(ino, &inode)?;
        self.free_inode_bit(ino, was_dir)
    }

    /// Drops one user of a shared extended-attribute block, freeing it when
    /// none is left.
    fn release_xattr_block(&mut self, block: u32) -> FsResult<()> {
        self.check_data_block(block, "extended-attribute block is not a data block")?;
        let bytes = self.cache.modify_meta(block.into())?;
        if get_u32(bytes, 0) != XATTR_MAGIC {
            return Err(FsError::corrupt(
                "bad extended-attribute block magic",
                block.into(),
            ));
        }
        let users = get_u32(bytes, 4);
        if users > 1 {
            put_u32(bytes, 4, users - 1);
            return Ok(());
        }
        self.free_block(block)
    }
}
