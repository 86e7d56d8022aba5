//! The ext2 superblock: the file system's global parameters, and the feature
//! flags that decide whether this code may mount an image.
//!
//! The superblock always sits at byte 1024 of the disk, whatever the block
//! size, and is 1024 bytes long. It says how big blocks are, how many blocks
//! and inodes there are, how they are divided into *block groups*, how many
//! are free, and which optional features the image uses.
//!
//! ## Features
//!
//! ext2 grew by adding feature flags in three sets:
//!
//! - **compat**: safe to ignore entirely (`ext_attr`, `resize_inode`,
//!   `dir_index`, `has_journal`...). We accept any.
//! - **incompat**: the on-disk format changes; code that does not understand
//!   the feature must not mount. We support `filetype` (a type byte in each
//!   directory entry) and `flex_bg` (a group's bitmaps and inode table may
//!   live in another group — we always read their location from the group
//!   descriptor, so nothing else changes). Everything else is refused with
//!   [`FsError::Unsupported`] naming the feature.
//! - **ro_compat**: reading is safe but writing could break the image. We
//!   support `sparse_super` (backup superblocks only in groups 0, 1 and
//!   powers of 3, 5, 7) and `large_file` (file sizes above 2 GiB); any other
//!   makes the mount read-only.

use super::bytes::{get_u16, get_u32, put_u32};
use super::error::{FsError, FsResult};

/// The superblock's byte offset on the disk.
pub(crate) const SUPERBLOCK_OFFSET: u64 = 1024;
/// The superblock's size in bytes.
pub(crate) const SUPERBLOCK_SIZE: usize = 1024;
/// `s_magic` of every ext2/3/4 file system.
const EXT2_MAGIC: u16 = 0xEF53;
/// The inode size of revision 0 file systems.
const GOOD_OLD_INODE_SIZE: u16 = 128;
/// The first non-reserved inode of revision 0 file systems.
const GOOD_OLD_FIRST_INO: u32 = 11;

/// compat: the file system has a journal (ext3).
pub(crate) const COMPAT_HAS_JOURNAL: u32 = 0x0004;
/// incompat: the journal must be replayed before the file system is used
/// (set while a journaled file system is mounted, like ext3 does).
pub(crate) const INCOMPAT_RECOVER: u32 = 0x0004;
/// incompat: directory entries carry a file-type byte.
pub(crate) const INCOMPAT_FILETYPE: u32 = 0x0002;
/// incompat: group metadata may be placed outside its group.
pub(crate) const INCOMPAT_FLEX_BG: u32 = 0x0200;
/// The incompat features this code implements.
const INCOMPAT_SUPPORTED: u32 = INCOMPAT_FILETYPE | INCOMPAT_FLEX_BG;
/// Every incompat feature and its name, for the error message.
const INCOMPAT_NAMES: [(u32, &str); 14] = [
    (0x0001, "compression"),
    (0x0004, "needs_recovery"),
    (0x0008, "journal_dev"),
    (0x0010, "meta_bg"),
    (0x0040, "extent"),
    (0x0080, "64bit"),
    (0x0100, "mmp"),
    (0x0400, "ea_inode"),
    (0x1000, "dirdata"),
    (0x2000, "metadata_csum_seed"),
    (0x4000, "large_dir"),
    (0x8000, "inline_data"),
    (0x10000, "encrypt"),
    (0x20000, "casefold"),
];

/// ro_compat: backup superblocks only in some groups.
pub(crate) const RO_COMPAT_SPARSE_SUPER: u32 = 0x0001;
/// ro_compat: regular files may be 2 GiB or larger.
pub(crate) const RO_COMPAT_LARGE_FILE: u32 = 0x0002;
/// The ro_compat features this code implements.
const RO_COMPAT_SUPPORTED: u32 = RO_COMPAT_SPARSE_SUPER | RO_COMPAT_LARGE_FILE;

/// The superblock fields this code uses, checked for sanity.
#[derive(Debug, Clone)]
pub(crate) struct Superblock {
    pub inodes_count: u32,
    pub blocks_count: u32,
    pub free_blocks_count: u32,
    pub free_inodes_count: u32,
    pub first_data_block: u32,
    /// Bytes per block: 1024 << s_log_block_size.
    pub block_size: usize,
    pub blocks_per_group: u32,
    pub inodes_per_group: u32,
    /// The first inode number ordinary files may use.
    pub first_ino: u32,
    /// Bytes per on-disk inode.
    pub inode_size: u16,
    pub feature_compat: u32,
    pub feature_incompat: u32,
    pub feature_ro_compat: u32,
    /// The journal's inode (`s_journal_inum`), 0 if none.
    pub journal_inum: u32,
    /// Blocks reserved after the group-descriptor table for online resizing.
    pub reserved_gdt_blocks: u16,
    /// Number of block groups (derived).
    pub group_count: u32,
}

impl Superblock {
    /// Parses and checks the 1024 superblock bytes.
    ///
    /// # Errors
    /// - [`FsError::Corrupt`] if the magic number is wrong or a parameter is
    ///   impossible (block size, group sizes, counts that do not add up);
    /// - [`FsError::Unsupported`] for an incompat feature we do not implement.
    pub(crate) fn parse(bytes: &[u8]) -> FsResult<Superblock> {
        let magic = get_u16(bytes, 56);
        if magic != EXT2_MAGIC {
            return Err(FsError::corrupt(
                "bad superblock magic number",
                magic.into(),
            ));
        }
        let rev_level = get_u32(bytes, 76);
        let (first_ino, inode_size, incompat, ro_compat) = match rev_level {
            0 => (GOOD_OLD_FIRST_INO, GOOD_OLD_INODE_SIZE, 0, 0),
            1 => (
                get_u32(bytes, 84),
                get_u16(bytes, 88),
                get_u32(bytes, 96),
                get_u32(bytes, 100),
            ),
            other => return Err(FsError::corrupt("unknown revision level", other.into())),
        };
        let compat = if rev_level == 0 {
            0
        } else {
            get_u32(bytes, 92)
        };
        // A journal that needs recovery is the journal code's business
        // (fs/journal.rs); without a journal it cannot be recovered.
        let refused = if compat & COMPAT_HAS_JOURNAL != 0 {
            incompat & !INCOMPAT_RECOVER
        } else {
            incompat
        };
        if let Some(&(_, name)) = INCOMPAT_NAMES.iter().find(|(bit, _)| refused & bit != 0) {
            return Err(FsError::Unsupported { feature: name });
        }
        if refused & !INCOMPAT_SUPPORTED != 0 {
            return Err(FsError::Unsupported {
                feature: "unknown incompat feature",
            });
        }
        let log_block_size = get_u32(bytes, 24);
        // Block sizes above 4 KiB need a special rec_len encoding in
        // directories, which this code does not implement.
        if log_block_size > 2 {
            return Err(FsError::Unsupported {
                feature: "block size above 4096 bytes",
            });
        }
        let block_size = 1024usize << log_block_size;
        let superblock = Superblock {
            inodes_count: get_u32(bytes, 0),
            blocks_count: get_u32(bytes, 4),
            free_blocks_count: get_u32(bytes, 12),
            free_inodes_count: get_u32(bytes, 16),
            first_data_block: get_u32(bytes, 20),
            block_size,
            blocks_per_group: get_u32(bytes, 32),
            inodes_per_group: get_u32(bytes, 40),
            first_ino,
            inode_size,
            feature_compat: compat,
            feature_incompat: incompat,
            feature_ro_compat: ro_compat,
            journal_inum: if rev_level == 0 {
                0
            } else {
                get_u32(bytes, 0xE0)
            },
            reserved_gdt_blocks: if rev_level == 0 {
                0
            } else {
                get_u16(bytes, 0xCE)
            },
            group_count: 0,
        };
        superblock.check()
    }

    /// Checks the parameters against each other and fills in `group_count`.
    fn check(mut self) -> FsResult<Superblock> {
        let bits_per_block = (self.block_size * 8) as u32;
        let expected_first = if self.block_size == 1024 { 1 } else { 0 };
        if self.first_data_block != expected_first {
            return Err(FsError::corrupt(
                "bad first data block",
                self.first_data_block.into(),
            ));
        }
        if self.blocks_per_group == 0 || self.blocks_per_group > bits_per_block {
            return Err(FsError::corrupt(
                "bad blocks per group",
                self.blocks_per_group.into(),
            ));
        }
        if self.inodes_per_group == 0 || self.inodes_per_group > bits_per_block {
            return Err(FsError::corrupt(
                "bad inodes per group",
                self.inodes_per_group.into(),
            ));
        }
        if self.blocks_count <= self.first_data_block {
            return Err(FsError::corrupt(
                "bad block count",
                self.blocks_count.into(),
            ));
        }
        let size = self.inode_size as usize;
        if !size.is_power_of_two() || size < GOOD_OLD_INODE_SIZE as usize || size > self.block_size
        {
            return Err(FsError::corrupt("bad inode size", size as u64));
        }
        let group_count =
            (self.blocks_count - self.first_data_block).div_ceil(self.blocks_per_group);
        if u64::from(self.inodes_per_group) * u64::from(group_count) != u64::from(self.inodes_count)
        {
            return Err(FsError::corrupt(
                "inode count disagrees with group count",
                self.inodes_count.into(),
            ));
        }
        if self.first_ino < 3 || self.first_ino > self.inodes_count {
            return Err(FsError::corrupt("bad first inode", self.first_ino.into()));
        }
        self.group_count = group_count;
        Ok(self)
    }

    /// Does the file system have a journal (`has_journal`)?
    pub(crate) fn has_journal(&self) -> bool {
        self.feature_compat & COMPAT_HAS_JOURNAL != 0
    }

    /// The name of the first ro_compat feature we do not implement, if any:
    /// the file system must then be mounted read-only.
    pub(crate) fn unsupported_ro_compat(&self) -> Option<&'static str> {
        const NAMES: [(u32, &str); 8] = [
            (0x0004, "unknown ro_compat feature btree_dir"),
            (0x0008, "unknown ro_compat feature huge_file"),
            (0x0010, "unknown ro_compat feature uninit_bg"),
            (0x0020, "unknown ro_compat feature dir_nlink"),
            (0x0040, "unknown ro_compat feature extra_isize"),
            (0x0100, "unknown ro_compat feature quota"),
            (0x0200, "unknown ro_compat feature bigalloc"),
            (0x0400, "unknown ro_compat feature metadata_csum"),
        ];
        let unknown = self.feature_ro_compat & !RO_COMPAT_SUPPORTED;
        if unknown == 0 {
            return None;
        }
        Some(
            NAMES
                .iter()
                .find(|(bit, _)| unknown & bit != 0)
                .map_or("unknown ro_compat feature", |&(_, name)| name),
        )
    }

    /// Does block group `group` hold a copy of the superblock and group
    /// descriptors? All groups do, unless `sparse_super` limits the copies to
    /// groups 0, 1 and powers of 3, 5 and 7.
    pub(crate) fn group_has_superblock(&self, group: u32) -> bool {
        if self.feature_ro_compat & RO_COMPAT_SPARSE_SUPER == 0 || group <= 1 {
            return true;
        }
        [3u32, 5, 7].iter().any(|&base| {
            let mut power = base;
            while power < group {
                power = power.saturating_mul(base);
            }
            power == group
        })
    }

    /// Blocks taken by the group-descriptor table (32 bytes per group).
    pub(crate) fn descriptor_blocks(&self) -> u32 {
        (self.group_count as usize * super::group::DESCRIPTOR_SIZE).div_ceil(self.block_size) as u32
    }

    /// Blocks taken by one group's slice of the inode table.
    pub(crate) fn inode_table_blocks(&self) -> u32 {
        (self.inodes_per_group as usize * self.inode_size as usize).div_ceil(self.block_size) as u32
    }

    /// The first block of block group `group`.
    pub(crate) fn group_first_block(&self, group: u32) -> u32 {
        self.first_data_block + group * self.blocks_per_group
    }

    /// The number of blocks in group `group` (the last one may be short).
    pub(crate) fn blocks_in_group(&self, group: u32) -> u32 {
        let first = self.group_first_block(group);
        (self.blocks_count - first).min(self.blocks_per_group)
    }

    /// Writes the fields this code changes (free counts, features) into the
    /// on-disk superblock bytes, leaving every other field as it was.
    pub(crate) fn store(&self, bytes: &mut [u8]) {
        put_u32(bytes, 12, self.free_blocks_count);
        put_u32(bytes, 16, self.free_inodes_count);
        if get_u32(bytes, 76) >= 1 {
            put_u32(bytes, 96, self.feature_incompat);
            put_u32(bytes, 100, self.feature_ro_compat);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::bytes::put_u16;
    use super::*;

    /// A valid 1 KiB-block superblock: 8192 blocks, 1 group, 2048 inodes.
    fn sample() -> [u8; SUPERBLOCK_SIZE] {
        let mut bytes = [0u8; SUPERBLOCK_SIZE];
        put_u32(&mut bytes, 0, 2048);
        put_u32(&mut bytes, 4, 8192);
        put_u32(&mut bytes, 20, 1);
        put_u32(&mut bytes, 32, 8192);
        put_u32(&mut bytes, 40, 2048);
        put_u16(&mut bytes, 56, EXT2_MAGIC);
        put_u32(&mut bytes, 76, 1);
        put_u32(&mut bytes, 84, 11);
        put_u16(&mut bytes, 88, 256);
        put_u32(&mut bytes, 96, INCOMPAT_FILETYPE);
        put_u32(
            &mut bytes,
            100,
            RO_COMPAT_SPARSE_SUPER | RO_COMPAT_LARGE_FILE,
        );
        bytes
    }

    #[test]
    fn sample_superblock_parses() {
        let sb = Superblock::parse(&sample()).unwrap();
        assert_eq!(
            (sb.block_size, sb.group_count, sb.inode_size),
            (1024, 1, 256)
        );
        assert_eq!(sb.unsupported_ro_compat(), None);
        assert_eq!(sb.inode_table_blocks(), 512);
    }

    #[test]
    fn incompatible_features_are_named() {
        let mut bytes = sample();
        put_u32(&mut bytes, 96, INCOMPAT_FILETYPE | 0x0040);
        assert_eq!(
            Superblock::parse(&bytes).unwrap_err(),
            FsError::Unsupported { feature: "extent" }
        );
        put_u32(&mut bytes, 96, 0x0004);
        assert_eq!(
            Superblock::parse(&bytes).unwrap_err(),
            FsError::Unsupported {
                feature: "needs_recovery"
            }
        );
        // With a journal, recovery is possible: the mount decides.
        put_u32(&mut bytes, 92, COMPAT_HAS_JOURNAL);
        assert!(Superblock::parse(&bytes).unwrap().has_journal());
    }

    #[test]
    fn unknown_ro_compat_features_force_read_only() {
        let mut bytes = sample();
        put_u32(&mut bytes, 100, 0x0400 | RO_COMPAT_SPARSE_SUPER);
        let sb = Superblock::parse(&bytes).unwrap();
        assert!(
            sb.unsupported_ro_compat()
                .unwrap()
                .contains("metadata_csum")
        );
    }

    #[test]
    fn impossible_parameters_are_corruption() {
        let mut bytes = sample();
        put_u32(&mut bytes, 40, 0);
        assert!(matches!(
            Superblock::parse(&bytes),
            Err(FsError::Corrupt { .. })
        ));
        let mut bytes = sample();
        put_u16(&mut bytes, 56, 0x1234);
        assert!(matches!(
            Superblock::parse(&bytes),
            Err(FsError::Corrupt { .. })
        ));
        let mut bytes = sample();
        put_u32(&mut bytes, 24, 40);
        assert!(matches!(
            Superblock::parse(&bytes),
            Err(FsError::Unsupported { .. })
        ));
    }

    #[test]
    fn sparse_super_backups_are_in_powers_of_3_5_7() {
        let sb = Superblock::parse(&sample()).unwrap();
        let with_backup: alloc::vec::Vec<u32> =
            (0..60).filter(|&g| sb.group_has_superblock(g)).collect();
        assert_eq!(with_backup, [0, 1, 3, 5, 7, 9, 25, 27, 49]);
    }
}
