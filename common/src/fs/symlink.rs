//! Symbolic links (lab `fs`): making them, and reading their target.
//!
//! A symbolic link is an inode of kind `Symlink` whose contents are a path,
//! its *target*. ext2 stores the target in one of two ways, and `e2fsck`
//! checks that a link uses the right one for its length:
//!
//! - a **fast** symlink, for a target of fewer than 60 bytes
//!   ([`FAST_SYMLINK_MAX`] or less): the bytes are kept in the inode itself,
//!   in the 60 bytes of `i_block` where a file keeps its block pointers,
//!   followed by zeros. The inode has no blocks (`i_blocks` is 0), which is
//!   how a reader tells the two kinds apart
//!   (`Inode::has_block_pointers`).
//! - a **slow** symlink, for a longer target: one data block, as a file's
//!   first block, holding the target followed by zeros. A target must be
//!   shorter than a block (`NameTooLong` otherwise).
//!
//! In both the size is the target's length; the target has no NUL byte
//! and is not empty. `Ext2::read` reads either kind (its contents are its
//! target); `Ext2::readlink` is the same, for a symlink only. Path lookup
//! follows links (`path.rs`), at most [`MAX_SYMLINKS`] times per lookup.

use super::error::{FsError, FsResult};
use super::inode::{Inode, InodeKind};
use super::{Ext2, Ino};
use crate::block::BlockDevice;
// LAB fs BEGIN
use alloc::vec;
use alloc::vec::Vec;
// LAB fs STUB
// LAB fs END

/// The longest target stored in the inode itself (a fast symlink): the 60
/// bytes of `i_block`, less one, as Linux and `e2fsck` have it.
pub const FAST_SYMLINK_MAX: usize = 59;

/// The most symbolic links one lookup follows (POSIX's `SYMLOOP_MAX` is at
/// least 8); one more is [`FsError::Loop`] (`ELOOP`). This bounds the walk
/// whatever the disk holds: a link to itself is an error, not a hang.
pub const MAX_SYMLINKS: u32 = 8;

impl<D: BlockDevice> Ext2<D> {
    /// Creates the symbolic link `name` in directory `dir`, whose target is
    /// `target`, and returns its inode. The target is stored as it is: it is
    /// not looked up, and may name nothing.
    ///
    /// # Errors
    /// As for [`create_file`](Self::create_file); plus
    /// [`FsError::NotFound`] for an empty target,
    /// [`FsError::InvalidName`] for a target with a NUL byte,
    /// [`FsError::NameTooLong`] for one of a block or more.
    pub fn symlink(&mut self, dir: Ino, name: &[u8], target: &[u8]) -> FsResult<Ino> {
        // LAB fs BEGIN
        if target.is_empty() {
            return Err(FsError::NotFound);
        }
        if target.contains(&0) {
            return Err(FsError::InvalidName);
        }
        if target.len() >= self.sb.block_size {
            return Err(FsError::NameTooLong);
        }
        // A link's permissions are never checked; Linux makes them 0777.
        self.create_node(dir, name, InodeKind::Symlink, 0o777, (0, 0), target)
        // LAB fs STUB
        //~ let _ = (dir, name, target);
        //~ Err(FsError::InvalidArgument)
        // LAB fs END
    }

    /// Stores `target` in the new symlink `inode` (number `ino`), fast or
    /// slow by its length; called by `create_node` before the inode is
    /// written and named. On an error the caller discards the inode.
    pub(crate) fn store_link_target(
        &mut self,
        ino: Ino,
        inode: &mut Inode,
        target: &[u8],
    ) -> FsResult<()> {
        // LAB fs BEGIN
        if target.len() <= FAST_SYMLINK_MAX {
            let mut bytes = [0u8; 60];
            bytes[..target.len()].copy_from_slice(target);
            for (pointer, word) in inode.block.iter_mut().zip(bytes.chunks_exact(4)) {
                *pointer = u32::from_le_bytes([word[0], word[1], word[2], word[3]]);
            }
        } else {
            // One zeroed data block, as a file's block 0 (`write_blocks`
            // allocates it and counts it in `i_blocks`).
            let written = self
                .write_blocks(ino, inode, 0, target)
                .map_err(|(_, error)| error)?;
            debug_assert_eq!(written, target.len());
        }
        inode.size = target.len() as u64;
        Ok(())
        // LAB fs STUB
        //~ let _ = (ino, inode, target);
        //~ Err(FsError::InvalidArgument)
        // LAB fs END
    }

    /// Reads the target of symlink `ino` into `buf` and returns its length
    /// (cut at `buf.len()`, as `readlink` does).
    ///
    /// # Errors
    /// [`FsError::InvalidArgument`] if `ino` is not a symlink; as for
    /// [`read`](Self::read).
    pub fn readlink(&mut self, ino: Ino, buf: &mut [u8]) -> FsResult<usize> {
        let (_, kind) = self.read_live_inode(ino)?;
        if kind != InodeKind::Symlink {
            return Err(FsError::InvalidArgument);
        }
        self.read_file(ino, 0, buf)
    }

    // LAB fs BEGIN
    /// The whole target of symlink `ino` (at most a block), for path lookup.
    pub(crate) fn link_target(&mut self, ino: Ino) -> FsResult<Vec<u8>> {
        let mut target = vec![0u8; self.sb.block_size];
        let len = self.readlink(ino, &mut target)?;
        target.truncate(len);
        Ok(target)
    }
    // LAB fs STUB
    // LAB fs END
}
