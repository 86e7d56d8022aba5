//! Block groups: group descriptors, bitmaps, and allocation of blocks and
//! inodes.
//!
//! ext2 divides the disk into *block groups* of `blocks_per_group` blocks.
//! Each group has a descriptor (in the table right after the superblock)
//! that says where the group's **block bitmap**, **inode bitmap** and slice
//! of the **inode table** are, and how many blocks and inodes in the group
//! are free. A set bit in a bitmap means "in use".
//!
//! Allocation keeps four things in step, which `e2fsck` checks: the bitmap
//! bit, the descriptor's free count (and `bg_used_dirs_count` for
//! directories), and the superblock's free count.
//!
//! Policy (simple, and good for sequential files): a block is allocated at or
//! after a *goal* — usually the block after the file's previous block — so a
//! file written front to back ends up contiguous. An inode is allocated in its
//! parent directory's group if possible.

use super::bytes::{get_u16, get_u32, put_u16, put_u32};
use super::error::{FsError, FsResult};
use super::{Ext2, Ino};
use crate::block::BlockDevice;
use alloc::vec::Vec;

/// Bytes per group descriptor (without the `64bit` feature).
pub(crate) const DESCRIPTOR_SIZE: usize = 32;

/// One group descriptor: where the group's metadata is and what is free.
#[derive(Debug, Clone)]
pub(crate) struct GroupDesc {
    pub block_bitmap: u32,
    pub inode_bitmap: u32,
    pub inode_table: u32,
    pub free_blocks: u16,
    pub free_inodes: u16,
    pub used_dirs: u16,
}

impl GroupDesc {
    fn parse(bytes: &[u8]) -> GroupDesc {
        GroupDesc {
            block_bitmap: get_u32(bytes, 0),
            inode_bitmap: get_u32(bytes, 4),
            inode_table: get_u32(bytes, 8),
            free_blocks: get_u16(bytes, 12),
            free_inodes: get_u16(bytes, 14),
            used_dirs: get_u16(bytes, 16),
        }
    }

    fn store(&self, bytes: &mut [u8]) {
        put_u32(bytes, 0, self.block_bitmap);
        put_u32(bytes, 4, self.inode_bitmap);
        put_u32(bytes, 8, self.inode_table);
        put_u16(bytes, 12, self.free_blocks);
        put_u16(bytes, 14, self.free_inodes);
        put_u16(bytes, 16, self.used_dirs);
    }
}

/// The index of the first clear bit in `bitmap` in `from..end`, if any.
/// Whole bytes of ones are skipped eight bits at a time.
fn find_clear_bit(bitmap: &[u8], from: usize, end: usize) -> Option<usize> {
    let mut bit = from;
    while bit < end {
        let byte = bitmap[bit / 8];
        if byte == 0xFF && bit.is_multiple_of(8) {
            bit += 8;
            continue;
        }
        if byte & (1 << (bit % 8)) == 0 {
            return Some(bit);
        }
        bit += 1;
    }
    None
}

impl<D: BlockDevice> Ext2<D> {
    /// Reads and checks the group-descriptor table (called by mount).
    ///
    /// # Errors
    /// [`FsError::Corrupt`] if a descriptor points outside the file system or
    /// claims more free blocks or inodes than its group has;
    /// [`FsError::Cache`] if a block cannot be read.
    pub(super) fn load_groups(&mut self) -> FsResult<Vec<GroupDesc>> {
        let sb = &self.sb;
        let per_block = sb.block_size / DESCRIPTOR_SIZE;
        let table_start = u64::from(sb.first_data_block) + 1;
        let itable_blocks = sb.inode_table_blocks();
        let mut groups = Vec::with_capacity(sb.group_count as usize);
        for group in 0..sb.group_count {
            let block = table_start + (group as usize / per_block) as u64;
            let offset = (group as usize % per_block) * DESCRIPTOR_SIZE;
            let bytes = self.cache.read(block)?;
            let desc = GroupDesc::parse(&bytes[offset..offset + DESCRIPTOR_SIZE]);
            let in_fs = |b: u32| b >= sb.first_data_block && b < sb.blocks_count;
            if !in_fs(desc.block_bitmap) {
                return Err(FsError::corrupt(
                    "block bitmap outside the file system",
                    desc.block_bitmap.into(),
                ));
            }
            if !in_fs(desc.inode_bitmap) {
                return Err(FsError::corrupt(
                    "inode bitmap outside the file system",
                    desc.inode_bitmap.into(),
                ));
            }
            let table_end = u64::from(desc.inode_table) + u64::from(itable_blocks);
            if !in_fs(desc.inode_table) || table_end > u64::from(sb.blocks_count) {
                return Err(FsError::corrupt(
                    "inode table outside the file system",
                    desc.inode_table.into(),
                ));
            }
            if u32::from(desc.free_blocks) > sb.blocks_in_group(group) {
                return Err(FsError::corrupt(
                    "group claims too many free blocks",
                    group.into(),
                ));
            }
            if u32::from(desc.free_inodes) > sb.inodes_per_group
                || u32::from(desc.used_dirs) > sb.inodes_per_group
            {
                return Err(FsError::corrupt(
                    "group claims too many inodes",
                    group.into(),
                ));
            }
            groups.push(desc);
        }
        Ok(groups)
    }

    /// Writes the in-memory descriptors into the table's blocks in the cache.
    pub(super) fn store_groups(&mut self) -> FsResult<()> {
        let per_block = self.sb.block_size / DESCRIPTOR_SIZE;
        let table_start = u64::from(self.sb.first_data_block) + 1;
        for (group, desc) in self.groups.iter().enumerate() {
            let block = table_start + (group / per_block) as u64;
            let offset = (group % per_block) * DESCRIPTOR_SIZE;
            let bytes = self.cache.modify_meta(block)?;
            desc.store(&mut bytes[offset..offset + DESCRIPTOR_SIZE]);
        }
        Ok(())
    }

    /// The group holding block `block` (which must be in the file system).
    fn group_of_block(&self, block: u32) -> u32 {
        (block - self.sb.first_data_block) / self.sb.blocks_per_group
    }

    /// Is `block` a block that may hold file data or an indirect block? It
    /// must lie inside the file system and not on its group's superblock
    /// copy, descriptor table, bitmaps or inode table.
    ///
    /// # Errors
    /// [`FsError::Corrupt`] (with `what`) if it may not.
    pub(super) fn check_data_block(&self, block: u32, what: &'static str) -> FsResult<()> {
        let sb = &self.sb;
        if block < sb.first_data_block || block >= sb.blocks_count {
            return Err(FsError::corrupt(what, block.into()));
        }
        let group = self.group_of_block(block);
        let desc = &self.groups[group as usize];
        let first = sb.group_first_block(group);
        let prefix = if sb.group_has_superblock(group) {
            1 + sb.descriptor_blocks() + u32::from(sb.reserved_gdt_blocks)
        } else {
            0
        };
        let table_end = desc.inode_table.saturating_add(sb.inode_table_blocks());
        if block < first.saturating_add(prefix)
            || block == desc.block_bitmap
            || block == desc.inode_bitmap
            || (block >= desc.inode_table && block < table_end)
        {
            return Err(FsError::corrupt(what, block.into()));
        }
        Ok(())
    }

    /// Allocates a free block, preferring `goal` or the first free block
    /// after it, and returns its number. The block's contents are not
    /// touched; callers get a zeroed buffer with `cache.zeroed`.
    ///
    /// # Errors
    /// - [`FsError::NoSpace`] if no block is free;
    /// - [`FsError::Corrupt`] if the bitmap offers a metadata block;
    /// - [`FsError::Cache`] if a bitmap cannot be read.
    pub(super) fn alloc_block(&mut self, goal: u32) -> FsResult<u32> {
        self.check_writable()?;
        if self.sb.free_blocks_count == 0 {
            return Err(FsError::NoSpace);
        }
        let sb = &self.sb;
        let goal = if goal >= sb.first_data_block && goal < sb.blocks_count {
            goal
        } else {
            sb.first_data_block
        };
        let start_group = self.group_of_block(goal);
        // Visit every group once, starting with the goal's group from the
        // goal; finally revisit the goal's group from its start.
        for step in 0..=self.sb.group_count {
            let group = (start_group + step) % self.sb.group_count;
            if self.groups[group as usize].free_blocks == 0 {
                continue;
            }
            let from = if step == 0 {
                ((goal - self.sb.first_data_block) % self.sb.blocks_per_group) as usize
            } else {
                0
            };
            let end = self.sb.blocks_in_group(group) as usize;
            let bitmap_block = self.groups[group as usize].block_bitmap;
            // Skip blocks the running transaction freed (journal.rs).
            let mut from = from;
            let found = loop {
                let found = find_clear_bit(self.cache.read(bitmap_block.into())?, from, end);
                match found {
                    Some(bit) if !self.reusable(self.sb.group_first_block(group) + bit as u32) => {
                        from = bit + 1
                    }
                    other => break other,
                }
            };
            let Some(bit) = found else { continue };
            let block = self.sb.group_first_block(group) + bit as u32;
            self.check_data_block(block, "block bitmap marks a metadata block free")?;
            self.cache.modify_meta(bitmap_block.into())?[bit / 8] |= 1 << (bit % 8);
            self.groups[group as usize].free_blocks -= 1;
            self.sb.free_blocks_count -= 1;
            self.metadata_dirty = true;
            return Ok(block);
        }
        Err(FsError::NoSpace)
    }

    /// Marks `block` free.
    ///
    /// # Errors
    /// [`FsError::Corrupt`] if the block is not a data block or is already
    /// free (a block pointed to twice); [`FsError::Cache`] on a disk error.
    pub(super) fn free_block(&mut self, block: u32) -> FsResult<()> {
        self.check_writable()?;
        self.check_data_block(block, "freeing a block that is not a data block")?;
        let group = self.group_of_block(block);
        let bit = ((block - self.sb.first_data_block) % self.sb.blocks_per_group) as usize;
        let bitmap_block = self.groups[group as usize].block_bitmap;
        let bitmap = self.cache.modify_meta(bitmap_block.into())?;
        if bitmap[bit / 8] & (1 << (bit % 8)) == 0 {
            return Err(FsError::corrupt(
                "freeing a block that is already free",
                block.into(),
            ));
        }
        bitmap[bit / 8] &= !(1 << (bit % 8));
        self.note_freed(block);
        let desc = &mut self.groups[group as usize];
        desc.free_blocks = desc.free_blocks.saturating_add(1);
        self.sb.free_blocks_count = self.sb.free_blocks_count.saturating_add(1);
        self.metadata_dirty = true;
        Ok(())
    }

    /// Allocates a free inode, preferring the group of inode `near` (the
    /// parent directory), and returns its number. The caller initialises it.
    ///
    /// # Errors
    /// [`FsError::NoInodes`] if none is free; [`FsError::Cache`] on a disk
    /// error.
    pub(super) fn alloc_inode(&mut self, near: Ino, is_dir: bool) -> FsResult<Ino> {
        self.check_writable()?;
        if self.sb.free_inodes_count == 0 {
            return Err(FsError::NoInodes);
        }
        let per_group = self.sb.inodes_per_group;
        let start_group = near.saturating_sub(1) / per_group % self.sb.group_count;
        for step in 0..self.sb.group_count {
            let group = (start_group + step) % self.sb.group_count;
            if self.groups[group as usize].free_inodes == 0 {
                continue;
            }
            // Inodes below first_ino are reserved (root, resize inode...).
            let from = if group == 0 {
                (self.sb.first_ino - 1) as usize
            } else {
                0
            };
            let bitmap_block = self.groups[group as usize].inode_bitmap;
            let found = find_clear_bit(
                self.cache.read(bitmap_block.into())?,
                from,
                per_group as usize,
            );
            let Some(bit) = found else { continue };
            self.cache.modify_meta(bitmap_block.into())?[bit / 8] |= 1 << (bit % 8);
            let desc = &mut self.groups[group as usize];
            desc.free_inodes -= 1;
            if is_dir {
                desc.used_dirs = desc.used_dirs.saturating_add(1);
            }
            self.sb.free_inodes_count -= 1;
            self.metadata_dirty = true;
            return Ok(group * per_group + bit as u32 + 1);
        }
        Err(FsError::NoInodes)
    }

    /// Marks inode `ino` free in its bitmap and the counts.
    ///
    /// # Errors
    /// [`FsError::Corrupt`] if it is already free; [`FsError::Cache`] on a
    /// disk error.
    pub(super) fn free_inode_bit(&mut self, ino: Ino, was_dir: bool) -> FsResult<()> {
        self.check_writable()?;
        let group = (ino - 1) / self.sb.inodes_per_group;
        let bit = ((ino - 1) % self.sb.inodes_per_group) as usize;
        let bitmap_block = self.groups[group as usize].inode_bitmap;
        let bitmap = self.cache.modify_meta(bitmap_block.into())?;
        if bitmap[bit / 8] & (1 << (bit % 8)) == 0 {
            return Err(FsError::corrupt(
                "freeing an inode that is already free",
                ino.into(),
            ));
        }
        bitmap[bit / 8] &= !(1 << (bit % 8));
        let desc = &mut self.groups[group as usize];
        desc.free_inodes = desc.free_inodes.saturating_add(1);
        if was_dir {
            desc.used_dirs = desc.used_dirs.saturating_sub(1);
        }
        self.sb.free_inodes_count = self.sb.free_inodes_count.saturating_add(1);
        self.metadata_dirty = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clear_bits_are_found_across_full_bytes() {
        let bitmap = [0xFF, 0xFF, 0b1110_1111, 0x00];
        assert_eq!(find_clear_bit(&bitmap, 0, 32), Some(20));
        assert_eq!(find_clear_bit(&bitmap, 21, 32), Some(24));
        assert_eq!(find_clear_bit(&bitmap, 0, 20), None);
        assert_eq!(find_clear_bit(&[0xFF; 4], 3, 32), None);
    }
}
