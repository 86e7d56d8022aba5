//! The block map: which disk block holds block `n` of a file.
//!
//! An inode's `i_block` array has 15 pointers. The first 12 point straight
//! at the file's first 12 data blocks. Pointer 12 points at a *single
//! indirect* block: a block full of pointers (`block_size / 4` of them) to
//! the next data blocks. Pointer 13 points at a *double indirect* block whose
//! pointers lead to single indirect blocks, and pointer 14 at a *triple
//! indirect* block, one level deeper. A zero pointer is a *hole*: that part
//! of the file was never written and reads as zeros.
//!
//! ```text
//! i_block[0..12] ──▶ data                      file blocks 0..12
//! i_block[12] ──▶ [ptr; P] ──▶ data              next P blocks
//! i_block[13] ──▶ [ptr; P] ──▶ [ptr; P] ──▶ data next P² blocks
//! i_block[14] ──▶ three levels                   next P³ blocks
//! ```
//!
//! The number of levels is fixed by the format (at most three), so walking
//! the map always ends, whatever the disk says. Every pointer read from disk
//! is checked to be a data block before it is followed.

use super::Ext2;
use super::bytes::{get_u32, put_u32};
use super::error::{FsError, FsResult};
use super::inode::{DIRECT_BLOCKS, DOUBLE_INDIRECT, Inode, SINGLE_INDIRECT, TRIPLE_INDIRECT};
use crate::block::BlockDevice;
use alloc::vec::Vec;

/// Where a file block's pointer lives: the `i_block` slot to start from and
/// the index to follow in each of `depth` indirect blocks.
struct MapPath {
    slot: usize,
    depth: usize,
    indexes: [usize; 3],
}

/// The path to file block `file_block` when indirect blocks hold `per`
/// pointers, or `None` if the map cannot address it.
fn map_path(file_block: u64, per: u64) -> Option<MapPath> {
    let mut n = file_block;
    if n < DIRECT_BLOCKS as u64 {
        return Some(MapPath {
            slot: n as usize,
            depth: 0,
            indexes: [0; 3],
        });
    }
    n -= DIRECT_BLOCKS as u64;
    if n < per {
        return Some(MapPath {
            slot: SINGLE_INDIRECT,
            depth: 1,
            indexes: [n as usize, 0, 0],
        });
    }
    n -= per;
    if n < per * per {
        let indexes = [(n / per) as usize, (n % per) as usize, 0];
        return Some(MapPath {
            slot: DOUBLE_INDIRECT,
            depth: 2,
            indexes,
        });
    }
    n -= per * per;
    if n < per * per * per {
        let indexes = [
            (n / (per * per)) as usize,
            ((n / per) % per) as usize,
            (n % per) as usize,
        ];
        return Some(MapPath {
            slot: TRIPLE_INDIRECT,
            depth: 3,
            indexes,
        });
    }
    None
}

/// What a block newly mapped by `map_block_alloc` will hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Leaf {
    /// A regular file's data: written in place, not journaled.
    Data,
    /// A directory's entries: metadata, journaled.
    Metadata,
}

/// What one [`Ext2::map_block_alloc`] has allocated so far, to be taken
/// back if it fails: at most one block per level (three indirect blocks
/// and the data block), and the one pointer it stored in an indirect block
/// that existed before it (the others are in blocks it allocated itself).
#[derive(Default)]
struct Allocated {
    blocks: [u32; 4],
    count: usize,
    /// The existing indirect block, and the index in it, now pointing at
    /// the first new block below it.
    linked_from: Option<(u32, usize)>,
}

impl<D: BlockDevice> Ext2<D> {
    /// Pointers per indirect block.
    fn pointers_per_block(&self) -> u64 {
        (self.sb.block_size / 4) as u64
    }

    /// Sectors per block (for `i_blocks` accounting).
    pub(crate) fn sectors_per_block(&self) -> u32 {
        (self.sb.block_size / 512) as u32
    }

    /// How many blocks a file can have: what the map can address, capped so
    /// sizes stay below 1 TiB (where `i_blocks` would overflow with 4 KiB
    /// blocks).
    pub(crate) fn max_file_size(&self) -> u64 {
        let per = self.pointers_per_block();
        let blocks = DIRECT_BLOCKS as u64 + per + per * per + per * per * per;
        (blocks * self.sb.block_size as u64).min(1 << 40)
    }

    /// The disk block holding block `file_block` of `inode`, or `None` for a
    /// hole (or a block past what the map can address).
    ///
    /// # Errors
    /// [`FsError::Corrupt`] if a pointer on the way is not a data block;
    /// [`FsError::Cache`] on a disk error.
    pub(crate) fn map_block(&mut self, inode: &Inode, file_block: u64) -> FsResult<Option<u32>> {
        let Some(path) = map_path(file_block, self.pointers_per_block()) else {
            return Ok(None);
        };
        let mut pointer = inode.block[path.slot];
        for &index in &path.indexes[..path.depth] {
            if pointer == 0 {
                return Ok(None);
            }
            self.check_data_block(pointer, "indirect block pointer is not a data block")?;
            pointer = get_u32(self.cache.read(pointer.into())?, index * 4);
        }
        if pointer == 0 {
            return Ok(None);
        }
        self.check_data_block(pointer, "data block pointer is not a data block")?;
        Ok(Some(pointer))
    }

    /// Like [`map_block`](Self::map_block), but fills holes: missing
    /// indirect blocks and the data block are allocated (zero-filled, near
    /// `goal`) and recorded in `inode` (the caller writes the inode back).
    ///
    /// All or nothing: if any step fails (the disk fills up between an
    /// indirect block and the data block, say), the blocks this call
    /// allocated are freed again and `inode` is as it was, so a caller
    /// that then gives up without writing the inode leaks nothing.
    ///
    /// # Errors
    /// [`FsError::FileTooLarge`] past the map's reach; [`FsError::NoSpace`];
    /// [`FsError::Corrupt`]; [`FsError::Cache`].
    ///
    /// Indirect blocks are metadata (journaled); the new data block is
    /// metadata only if `leaf` says so (a directory's block), while a
    /// regular file's data goes to its place directly (ordered mode, see
    /// `journal.rs`).
    pub(crate) fn map_block_alloc(
        &mut self,
        inode: &mut Inode,
        file_block: u64,
        goal: u32,
        leaf: Leaf,
    ) -> FsResult<u32> {
        let path = map_path(file_block, self.pointers_per_block()).ok_or(FsError::FileTooLarge)?;
        let before = (inode.block, inode.sectors);
        let mut made = Allocated::default();
        let result = self.fill_path(inode, &path, goal, leaf, &mut made);
        if result.is_err() {
            (inode.block, inode.sectors) = before;
            self.undo_allocation(&made);
        }
        result
    }

    /// The steps of [`map_block_alloc`](Self::map_block_alloc), noting in
    /// `made` every block allocated and the one pointer stored in a block
    /// that existed before.
    fn fill_path(
        &mut self,
        inode: &mut Inode,
        path: &MapPath,
        goal: u32,
        leaf: Leaf,
        made: &mut Allocated,
    ) -> FsResult<u32> {
        let sectors = self.sectors_per_block();
        let mut pointer = inode.block[path.slot];
        if pointer == 0 {
            let previous = if path.slot > 0 {
                inode.block[path.slot - 1]
            } else {
                0
            };
            let goal = if previous != 0 {
                previous.saturating_add(1)
            } else {
                goal
            };
            pointer = self.alloc_block(goal)?;
            made.blocks[made.count] = pointer;
            made.count += 1;
            if path.depth == 0 && leaf == Leaf::Data {
                self.cache.zeroed(pointer.into())?;
            } else {
                self.cache.zeroed_meta(pointer.into())?;
            }
            inode.block[path.slot] = pointer;
            inode.sectors = inode.sectors.saturating_add(sectors);
        } else {
            self.check_data_block(pointer, "block pointer is not a data block")?;
        }
        for (level, &index) in path.indexes[..path.depth].iter().enumerate() {
            let parent = pointer;
            let entry = get_u32(self.cache.read(parent.into())?, index * 4);
            if entry != 0 {
                self.check_data_block(entry, "block pointer is not a data block")?;
                pointer = entry;
                continue;
            }
            let previous = if index > 0 {
                get_u32(self.cache.read(parent.into())?, (index - 1) * 4)
            } else {
                0
            };
            let goal = if previous != 0 {
                previous.saturating_add(1)
            } else {
                parent.saturating_add(1)
            };
            let parent_is_new = made.blocks[..made.count].contains(&parent);
            pointer = self.alloc_block(goal)?;
            made.blocks[made.count] = pointer;
            made.count += 1;
            if level + 1 == path.depth && leaf == Leaf::Data {
                self.cache.zeroed(pointer.into())?;
            } else {
                self.cache.zeroed_meta(pointer.into())?;
            }
            if !parent_is_new {
                made.linked_from = Some((parent, index));
            }
            put_u32(self.cache.modify_meta(parent.into())?, index * 4, pointer);
            inode.sectors = inode.sectors.saturating_add(sectors);
        }
        Ok(pointer)
    }

    /// Takes back what a failed [`fill_path`](Self::fill_path) allocated:
    /// clears the pointer it stored in an old indirect block and frees its
    /// blocks. Best effort: the call is failing already, and an error here
    /// (a disk that stopped answering) leaves at worst a block that
    /// `e2fsck` reports as marked but unused.
    fn undo_allocation(&mut self, made: &Allocated) {
        if let Some((parent, index)) = made.linked_from
            && let Ok(bytes) = self.cache.modify_meta(parent.into())
        {
            put_u32(bytes, index * 4, 0);
        }
        for &block in made.blocks[..made.count].iter().rev() {
            let _ = self.free_block(block);
        }
    }

    /// Frees every block of `inode` from file block `first` on, including
    /// indirect blocks that no longer map anything, and updates the inode's
    /// pointers and sector count (the caller writes the inode back).
    ///
    /// # Errors
    /// [`FsError::Corrupt`] if a pointer is bad or a block is freed twice;
    /// [`FsError::Cache`]. The inode may then be partly truncated.
    pub(crate) fn free_blocks_from(&mut self, inode: &mut Inode, first: u64) -> FsResult<()> {
        let sectors = self.sectors_per_block();
        for slot in (first.min(DIRECT_BLOCKS as u64) as usize)..DIRECT_BLOCKS {
            let pointer = inode.block[slot];
            if pointer != 0 {
                self.free_block(pointer)?;
                inode.block[slot] = 0;
                inode.sectors = inode.sectors.saturating_sub(sectors);
            }
        }
        let per = self.pointers_per_block();
        let mut base = DIRECT_BLOCKS as u64;
        for (slot, depth) in [
            (SINGLE_INDIRECT, 1u32),
            (DOUBLE_INDIRECT, 2),
            (TRIPLE_INDIRECT, 3),
        ] {
            let span = per.pow(depth);
            let pointer = inode.block[slot];
            if pointer != 0 && first < base + span {
                let start = first.saturating_sub(base);
                self.check_data_block(pointer, "indirect block pointer is not a data block")?;
                self.free_subtree(&mut inode.sectors, pointer, depth, start)?;
                if start == 0 {
                    self.free_block(pointer)?;
                    inode.block[slot] = 0;
                    inode.sectors = inode.sectors.saturating_sub(sectors);
                }
            }
            base += span;
        }
        Ok(())
    }

    /// Frees what the indirect block `block` (of `depth` levels) maps from
    /// its relative file block `start` on. The block itself is not freed; if
    /// `start > 0` its now-unused pointers are cleared.
    fn free_subtree(
        &mut self,
        sectors_used: &mut u32,
        block: u32,
        depth: u32,
        start: u64,
    ) -> FsResult<()> {
        let per = self.pointers_per_block();
        let child_span = per.pow(depth - 1);
        let first_index = (start / child_span) as usize;
        let pointers: Vec<u32> = {
            let bytes = self.cache.read(block.into())?;
            (0..per as usize).map(|i| get_u32(bytes, i * 4)).collect()
        };
        let sectors = self.sectors_per_block();
        let mut cleared = Vec::new();
        for (index, &pointer) in pointers.iter().enumerate().skip(first_index) {
            if pointer == 0 {
                continue;
            }
            let child_start = if index == first_index {
                start % child_span
            } else {
                0
            };
            if depth > 1 {
                self.check_data_block(pointer, "indirect block pointer is not a data block")?;
                self.free_subtree(sectors_used, pointer, depth - 1, child_start)?;
            }
            if child_start == 0 {
                self.free_block(pointer)?;
                *sectors_used = sectors_used.saturating_sub(sectors);
                cleared.push(index);
            }
        }
        if start > 0 && !cleared.is_empty() {
            let bytes = self.cache.modify_meta(block.into())?;
            for index in cleared {
                put_u32(bytes, index * 4, 0);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(file_block: u64) -> Option<(usize, usize, [usize; 3])> {
        map_path(file_block, 256).map(|p| (p.slot, p.depth, p.indexes))
    }

    #[test]
    fn paths_cross_each_level_at_the_right_block() {
        // 1 KiB blocks: 256 pointers per indirect block.
        assert_eq!(path(0), Some((0, 0, [0, 0, 0])));
        assert_eq!(path(11), Some((11, 0, [0, 0, 0])));
        assert_eq!(path(12), Some((SINGLE_INDIRECT, 1, [0, 0, 0])));
        assert_eq!(path(12 + 255), Some((SINGLE_INDIRECT, 1, [255, 0, 0])));
        assert_eq!(path(12 + 256), Some((DOUBLE_INDIRECT, 2, [0, 0, 0])));
        assert_eq!(path(12 + 256 + 257), Some((DOUBLE_INDIRECT, 2, [1, 1, 0])));
        let triple = 12 + 256 + 256 * 256;
        assert_eq!(path(triple - 1), Some((DOUBLE_INDIRECT, 2, [255, 255, 0])));
        assert_eq!(path(triple), Some((TRIPLE_INDIRECT, 3, [0, 0, 0])));
        assert_eq!(
            path(triple + 256 * 256 + 3),
            Some((TRIPLE_INDIRECT, 3, [1, 0, 3]))
        );
        let end = triple + 256 * 256 * 256;
        assert_eq!(path(end - 1), Some((TRIPLE_INDIRECT, 3, [255, 255, 255])));
        assert_eq!(path(end), None);
        assert_eq!(path(u64::MAX), None);
    }
}
