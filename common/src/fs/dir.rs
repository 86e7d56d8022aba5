//! Directories: a directory is a file whose blocks hold a list of entries.
//!
//! Each directory block is a chain of variable-length records:
//!
//! ```text
//! offset 0   inode (u32)   0 means "unused record"
//!        4   rec_len (u16) bytes to the next record (a multiple of 4)
//!        6   name_len (u8)
//!        7   file_type (u8, with the `filetype` feature; else name_len's high byte)
//!        8   name (name_len bytes, no NUL), then padding up to rec_len
//! ```
//!
//! The records of a block exactly tile it: the last one's `rec_len` reaches
//! the end of the block. To **add** a name we look for a record with enough
//! slack after its own name and split it; if none has room we append a new
//! block. To **remove** a name we fold its record into the previous one (or,
//! for the first record of a block, set its inode to 0).
//!
//! Directories with the `dir_index` flag carry a hash tree hidden in records
//! that look unused to a linear reader. We read them linearly, and clear the
//! flag whenever we change such a directory, so no stale index remains.
//!
//! Every record is checked before use (see [`EntryIter`]): a corrupt length
//! yields [`FsError::Corrupt`] instead of a wild read or an endless loop.

use super::blockmap::Leaf;
use super::bytes::{get_u16, get_u32, put_u16, put_u32};
use super::error::{FsError, FsResult};
use super::inode::{INDEX_FL, Inode, InodeKind};
use super::superblock::INCOMPAT_FILETYPE;
use super::{Ext2, Ino, NAME_MAX, ROOT_INO};
use crate::block::BlockDevice;
use alloc::vec::Vec;

/// The fixed part of a directory record.
const ENTRY_HEADER: usize = 8;

/// Bytes a record with a `name_len`-byte name needs (header + name, rounded
/// up to 4).
pub(crate) fn record_size(name_len: usize) -> usize {
    (ENTRY_HEADER + name_len).next_multiple_of(4)
}

/// One directory entry, as [`Ext2::read_dir`] returns it.
#[derive(Clone, PartialEq, Eq)]
pub struct DirEntry {
    /// The inode the name refers to.
    pub ino: Ino,
    /// The kind recorded in the entry (`None` if the image does not record
    /// kinds, or records an unknown one; use [`Ext2::stat`] then).
    pub kind: Option<InodeKind>,
    name_len: u8,
    name: [u8; NAME_MAX],
}

impl DirEntry {
    /// The entry's name (1 to 255 bytes, never containing `/` or NUL in a
    /// sound image).
    pub fn name(&self) -> &[u8] {
        &self.name[..self.name_len as usize]
    }
}

impl core::fmt::Debug for DirEntry {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DirEntry")
            .field("ino", &self.ino)
            .field("kind", &self.kind)
            .field("name", &alloc::string::String::from_utf8_lossy(self.name()))
            .finish()
    }
}

/// A record as found in a block (offset within the block, checked fields).
#[derive(Debug, Clone, Copy)]
struct RawEntry {
    offset: usize,
    ino: Ino,
    rec_len: usize,
    name_len: usize,
    file_type: u8,
}

impl RawEntry {
    /// The bytes this record needs; 0 for an unused record.
    fn used(&self) -> usize {
        if self.ino == 0 {
            0
        } else {
            record_size(self.name_len)
        }
    }
}

/// What the entry checks need to know about the file system.
#[derive(Clone, Copy)]
struct EntryRules {
    inodes_count: u32,
    first_ino: u32,
    has_filetype: bool,
}

/// Walks the records of one directory block, checking each, deleted
/// records (inode 0) included: whatever it yields, `offset + rec_len` and
/// the name lie inside the block.
///
/// Termination: every record advances `offset` by `rec_len >= 8`, and the
/// walk stops at the first bad record, so it ends after at most
/// `block.len() / 8` steps.
struct EntryIter<'a> {
    block: &'a [u8],
    offset: usize,
    rules: EntryRules,
}

impl<'a> EntryIter<'a> {
    fn new(block: &'a [u8], rules: EntryRules) -> Self {
        EntryIter {
            block,
            offset: 0,
            rules,
        }
    }

    fn check(&self) -> FsResult<RawEntry> {
        let (block, offset) = (self.block, self.offset);
        let bad = |what| Err(FsError::corrupt(what, offset as u64));
        if offset + ENTRY_HEADER > block.len() {
            return bad("directory entry header runs off the block");
        }
        let ino = get_u32(block, offset);
        let rec_len = get_u16(block, offset + 4) as usize;
        let (name_len, file_type) = if self.rules.has_filetype {
            (block[offset + 6] as usize, block[offset + 7])
        } else {
            (get_u16(block, offset + 6) as usize, 0)
        };
        if rec_len < ENTRY_HEADER || !rec_len.is_multiple_of(4) || offset + rec_len > block.len() {
            return bad("directory entry has a bad rec_len");
        }
        // The name must fit its record in every record, a deleted one
        // (inode 0) too: Linux and e2fsck check the same, and code that
        // looks at a record's name before its inode number must never see
        // bytes past the block. Only a live entry needs a name at all.
        if name_len > NAME_MAX || ENTRY_HEADER + name_len > rec_len || (ino != 0 && name_len == 0) {
            return bad("directory entry name does not fit its record");
        }
        if ino != 0 {
            if ino > self.rules.inodes_count {
                return Err(FsError::corrupt(
                    "directory entry names an inode out of range",
                    ino.into(),
                ));
            }
            if ino < self.rules.first_ino && ino != ROOT_INO {
                return Err(FsError::corrupt(
                    "directory entry names a reserved inode",
                    ino.into(),
                ));
            }
        }
        Ok(RawEntry {
            offset,
            ino,
            rec_len,
            name_len,
            file_type,
        })
    }

    fn name(&self, entry: &RawEntry) -> &'a [u8] {
        &self.block[entry.offset + ENTRY_HEADER..][..entry.name_len]
    }
}

impl Iterator for EntryIter<'_> {
    type Item = FsResult<RawEntry>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.offset >= self.block.len() {
            return None;
        }
        match self.check() {
            Ok(entry) => {
                self.offset += entry.rec_len;
                Some(Ok(entry))
            }
            Err(err) => {
                self.offset = self.block.len();
                Some(Err(err))
            }
        }
    }
}

/// Writes a record at `offset` of `block`.
fn write_record(
    block: &mut [u8],
    offset: usize,
    entry: (Ino, usize, &[u8], u8),
    has_filetype: bool,
) {
    let (ino, rec_len, name, file_type) = entry;
    put_u32(block, offset, ino);
    put_u16(block, offset + 4, rec_len as u16);
    if has_filetype {
        block[offset + 6] = name.len() as u8;
        block[offset + 7] = file_type;
    } else {
        put_u16(block, offset + 6, name.len() as u16);
    }
    block[offset + ENTRY_HEADER..][..name.len()].copy_from_slice(name);
}

/// Where a name was found.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Found {
    /// The disk block holding the record.
    block: u32,
    /// The record.
    entry: RawEntry,
    /// The offset of the previous record in the same block, if any.
    previous: Option<usize>,
}

impl Found {
    /// The inode the name refers to.
    pub(crate) fn ino(&self) -> Ino {
        self.entry.ino
    }
}

/// Checks a name for a new directory entry.
///
/// # Errors
/// [`FsError::InvalidName`] for an empty name, `.`, `..`, or a name with `/`
/// or NUL; [`FsError::NameTooLong`] past 255 bytes.
pub(crate) fn check_new_name(name: &[u8]) -> FsResult<()> {
    if name.is_empty() || name == b"." || name == b".." || name.iter().any(|&b| b == b'/' || b == 0)
    {
        return Err(FsError::InvalidName);
    }
    if name.len() > NAME_MAX {
        return Err(FsError::NameTooLong);
    }
    Ok(())
}

impl<D: BlockDevice> Ext2<D> {
    fn entry_rules(&self) -> EntryRules {
        EntryRules {
            inodes_count: self.sb.inodes_count,
            first_ino: self.sb.first_ino,
            has_filetype: self.sb.feature_incompat & INCOMPAT_FILETYPE != 0,
        }
    }

    /// The number of blocks of directory `dir`.
    ///
    /// # Errors
    /// [`FsError::Corrupt`] if its size is not a whole number of blocks or is
    /// larger than the file system.
    fn dir_block_count(&self, dir: &Inode) -> FsResult<u64> {
        let block_size = self.sb.block_size as u64;
        if !dir.size.is_multiple_of(block_size)
            || dir.size / block_size > u64::from(self.sb.blocks_count)
        {
            return Err(FsError::corrupt(
                "directory size is not a whole number of blocks",
                dir.size,
            ));
        }
        Ok(dir.size / block_size)
    }

    /// The disk block holding block `index` of directory `dir`.
    ///
    /// # Errors
    /// [`FsError::Corrupt`] for a hole (directories have none).
    fn dir_block(&mut self, dir: &Inode, index: u64) -> FsResult<u32> {
        self.map_block(dir, index)?
            .ok_or(FsError::corrupt("directory has a hole", index))
    }

    /// Reads directory inode `dir_ino`, checking it is a directory.
    ///
    /// # Errors
    /// [`FsError::NotDir`]; [`FsError::InvalidArgument`] if not in use.
    pub(crate) fn read_dir_inode(&mut self, dir_ino: Ino) -> FsResult<Inode> {
        let (inode, kind) = self.read_live_inode(dir_ino)?;
        if kind != InodeKind::Dir {
            return Err(FsError::NotDir);
        }
        Ok(inode)
    }

    /// Finds `name` in directory `dir`.
    ///
    /// # Errors
    /// [`FsError::Corrupt`] for a bad record; [`FsError::Cache`].
    pub(crate) fn find_entry(&mut self, dir: &Inode, name: &[u8]) -> FsResult<Option<Found>> {
        let rules = self.entry_rules();
        for index in 0..self.dir_block_count(dir)? {
            let block = self.dir_block(dir, index)?;
            let mut iter = EntryIter::new(self.cache.read(block.into())?, rules);
            let mut previous = None;
            while let Some(entry) = iter.next() {
                let entry = entry?;
                if entry.ino != 0 && iter.name(&entry) == name {
                    return Ok(Some(Found {
                        block,
                        entry,
                        previous,
                    }));
                }
                previous = Some(entry.offset);
            }
        }
        Ok(None)
    }

    /// Looks `name` up in directory `dir_ino`: the inode it names.
    ///
    /// # Errors
    /// [`FsError::NotFound`]; [`FsError::NotDir`] if `dir_ino` is not a
    /// directory; [`FsError::Corrupt`]; [`FsError::Cache`].
    pub fn lookup_in(&mut self, dir_ino: Ino, name: &[u8]) -> FsResult<Ino> {
        let dir = self.read_dir_inode(dir_ino)?;
        match self.find_entry(&dir, name)? {
            Some(found) => Ok(found.ino()),
            None => Err(FsError::NotFound),
        }
    }

    /// Adds the entry `name → ino` to directory `dir_ino` (which must not
    /// already contain `name`), growing it by a block if no block has room.
    ///
    /// # Errors
    /// [`FsError::NoSpace`] if a new block is needed and none is free;
    /// [`FsError::FileTooLarge`] if the directory would pass 4 GiB;
    /// [`FsError::Corrupt`]; [`FsError::Cache`].
    pub(crate) fn add_entry(
        &mut self,
        dir_ino: Ino,
        name: &[u8],
        ino: Ino,
        kind: InodeKind,
    ) -> FsResult<()> {
        self.check_writable()?;
        let rules = self.entry_rules();
        let needed = record_size(name.len());
        let mut dir = self.read_dir_inode(dir_ino)?;
        let blocks = self.dir_block_count(&dir)?;
        let record = (ino, 0, name, kind.dir_type());
        let mut last_block = 0;
        for index in 0..blocks {
            let block = self.dir_block(&dir, index)?;
            last_block = block;
            let mut room = None;
            for entry in EntryIter::new(self.cache.read(block.into())?, rules) {
                let entry = entry?;
                if entry.rec_len - entry.used() >= needed {
                    room = Some(entry);
                    break;
                }
            }
            if let Some(entry) = room {
                let bytes = self.cache.modify_meta(block.into())?;
                let used = entry.used();
                if used > 0 {
                    // Split: the old record keeps what it uses.
                    put_u16(bytes, entry.offset + 4, used as u16);
                }
                let record = (ino, entry.rec_len - used, name, kind.dir_type());
                write_record(bytes, entry.offset + used, record, rules.has_filetype);
                return self.touch_dir(dir_ino, &mut dir);
            }
        }
        // No room: append a block holding just this entry. (A directory's
        // size is 32 bits on disk.)
        if dir.size + self.sb.block_size as u64 > u64::from(u32::MAX) {
            return Err(FsError::FileTooLarge);
        }
        let block = self.map_block_alloc(
            &mut dir,
            blocks,
            last_block.saturating_add(1),
            Leaf::Metadata,
        )?;
        let bytes = self.cache.modify_meta(block.into())?;
        write_record(
            bytes,
            0,
            (record.0, self.sb.block_size, record.2, record.3),
            rules.has_filetype,
        );
        dir.size += self.sb.block_size as u64;
        self.touch_dir(dir_ino, &mut dir)
    }

    /// Records a change to directory `dir_ino`: new times, no stale hash
    /// index.
    fn touch_dir(&mut self, dir_ino: Ino, dir: &mut Inode) -> FsResult<()> {
        dir.flags &= !INDEX_FL;
        dir.mtime = self.now;
        dir.ctime = self.now;
        self.write_inode(dir_ino, dir)
    }

    /// Removes the entry `found` (from [`find_entry`](Self::find_entry)) from
    /// directory `dir_ino`.
    ///
    /// # Errors
    /// [`FsError::Cache`].
    pub(crate) fn remove_entry(&mut self, dir_ino: Ino, found: &Found) -> FsResult<()> {
        self.check_writable()?;
        let bytes = self.cache.modify_meta(found.block.into())?;
        match found.previous {
            Some(previous) => {
                let merged = get_u16(bytes, previous + 4) as usize + found.entry.rec_len;
                put_u16(bytes, previous + 4, merged as u16);
            }
            None => put_u32(bytes, found.entry.offset, 0),
        }
        let mut dir = self.read_dir_inode(dir_ino)?;
        self.touch_dir(dir_ino, &mut dir)
    }

    /// Points the entry `found` of directory `dir_ino` at inode `ino` of
    /// `kind` instead.
    ///
    /// # Errors
    /// [`FsError::Cache`].
    pub(crate) fn retarget_entry(
        &mut self,
        dir_ino: Ino,
        found: &Found,
        ino: Ino,
        kind: InodeKind,
    ) -> FsResult<()> {
        self.check_writable()?;
        let has_filetype = self.entry_rules().has_filetype;
        let bytes = self.cache.modify_meta(found.block.into())?;
        put_u32(bytes, found.entry.offset, ino);
        if has_filetype {
            bytes[found.entry.offset + 7] = kind.dir_type();
        }
        let mut dir = self.read_dir_inode(dir_ino)?;
        self.touch_dir(dir_ino, &mut dir)
    }

    /// Writes the first block of a new directory `ino` (`.` and `..`).
    ///
    /// # Errors
    /// [`FsError::NoSpace`]; [`FsError::Cache`].
    pub(crate) fn init_dir_block(
        &mut self,
        ino: Ino,
        dir: &mut Inode,
        parent: Ino,
        goal: u32,
    ) -> FsResult<()> {
        let has_filetype = self.entry_rules().has_filetype;
        let block = self.map_block_alloc(dir, 0, goal, Leaf::Metadata)?;
        let block_size = self.sb.block_size;
        let bytes = self.cache.modify_meta(block.into())?;
        let dir_type = InodeKind::Dir.dir_type();
        write_record(bytes, 0, (ino, 12, b".", dir_type), has_filetype);
        write_record(
            bytes,
            12,
            (parent, block_size - 12, b"..", dir_type),
            has_filetype,
        );
        dir.size = block_size as u64;
        Ok(())
    }

    /// Does directory `dir` hold nothing but `.` and `..`?
    ///
    /// # Errors
    /// [`FsError::Corrupt`]; [`FsError::Cache`].
    pub(crate) fn dir_is_empty(&mut self, dir: &Inode) -> FsResult<bool> {
        let rules = self.entry_rules();
        for index in 0..self.dir_block_count(dir)? {
            let block = self.dir_block(dir, index)?;
            let mut iter = EntryIter::new(self.cache.read(block.into())?, rules);
            while let Some(entry) = iter.next() {
                let entry = entry?;
                let name = iter.name(&entry);
                if entry.ino != 0 && name != b"." && name != b".." {
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }

    /// Reads the directory entry at or after position `cursor` of directory
    /// `dir_ino` (start with 0) and returns it with the cursor of the next
    /// one, or `None` at the end. Unused records are skipped. A cursor is a
    /// byte offset into the directory, so a kernel can keep it as the open
    /// file's offset; any value is safe to pass.
    ///
    /// # Errors
    /// [`FsError::NotDir`]; [`FsError::InvalidArgument`] if the inode is not
    /// in use; [`FsError::Corrupt`]; [`FsError::Cache`].
    pub fn read_dir(&mut self, dir_ino: Ino, cursor: u64) -> FsResult<Option<(DirEntry, u64)>> {
        let dir = self.read_dir_inode(dir_ino)?;
        let rules = self.entry_rules();
        let block_size = self.sb.block_size as u64;
        let mut index = cursor / block_size;
        let mut skip_below = (cursor % block_size) as usize;
        while index < self.dir_block_count(&dir)? {
            let block = self.dir_block(&dir, index)?;
            let mut iter = EntryIter::new(self.cache.read(block.into())?, rules);
            while let Some(entry) = iter.next() {
                let entry = entry?;
                if entry.ino == 0 || entry.offset < skip_below {
                    continue;
                }
                let name = iter.name(&entry);
                let mut found = DirEntry {
                    ino: entry.ino,
                    kind: InodeKind::from_dir_type(entry.file_type),
                    name_len: name.len() as u8,
                    name: [0; NAME_MAX],
                };
                found.name[..name.len()].copy_from_slice(name);
                let next = index * block_size + (entry.offset + entry.rec_len) as u64;
                return Ok(Some((found, next)));
            }
            index += 1;
            skip_below = 0;
        }
        Ok(None)
    }

    /// Every entry of directory `dir_ino` (including `.` and `..`), in order.
    ///
    /// # Errors
    /// As for [`read_dir`](Self::read_dir).
    pub fn list_dir(&mut self, dir_ino: Ino) -> FsResult<Vec<DirEntry>> {
        let mut entries = Vec::new();
        let mut cursor = 0;
        while let Some((entry, next)) = self.read_dir(dir_ino, cursor)? {
            entries.push(entry);
            cursor = next;
        }
        Ok(entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: EntryRules = EntryRules {
        inodes_count: 100,
        first_ino: 11,
        has_filetype: true,
    };

    #[test]
    fn records_tile_a_block_and_are_checked() {
        let mut block = [0u8; 64];
        write_record(&mut block, 0, (2, 12, b".", 2), true);
        write_record(&mut block, 12, (12, 52, b"hello", 1), true);
        let entries: Vec<RawEntry> = EntryIter::new(&block, RULES).map(|e| e.unwrap()).collect();
        assert_eq!(entries.len(), 2);
        assert_eq!(
            (entries[1].ino, entries[1].name_len, entries[1].used()),
            (12, 5, 16)
        );
    }

    #[test]
    fn corrupt_records_are_errors_not_loops() {
        let mut block = [0u8; 64];
        write_record(&mut block, 0, (12, 0, b"x", 1), true); // rec_len 0
        let results: Vec<_> = EntryIter::new(&block, RULES).collect();
        assert_eq!(results.len(), 1);
        assert!(matches!(results[0], Err(FsError::Corrupt { .. })));
        write_record(&mut block, 0, (12, 128, b"x", 1), true); // runs off the block
        assert!(EntryIter::new(&block, RULES).next().unwrap().is_err());
        write_record(&mut block, 0, (500, 64, b"x", 1), true); // inode out of range
        assert!(EntryIter::new(&block, RULES).next().unwrap().is_err());
        write_record(&mut block, 0, (12, 12, b"abcdefgh", 1), true); // name too long for record
        assert!(EntryIter::new(&block, RULES).next().unwrap().is_err());
    }

    #[test]
    fn deleted_records_are_checked_too() {
        // A deleted record (inode 0) at the end of the block whose name
        // length runs past the block: an error, before anyone reads the name.
        let mut block = [0u8; 64];
        write_record(&mut block, 0, (12, 52, b"live", 1), true);
        write_record(&mut block, 52, (0, 12, b"", 0), true);
        block[52 + 6] = 255;
        let results: Vec<_> = EntryIter::new(&block, RULES).collect();
        assert_eq!(results.len(), 2);
        assert!(results[0].is_ok());
        assert!(matches!(
            results[1],
            Err(FsError::Corrupt {
                what: "directory entry name does not fit its record",
                ..
            })
        ));
        // A deleted record with no name, or with the stale name it had when
        // it was live, is fine.
        write_record(&mut block, 52, (0, 12, b"", 0), true);
        assert!(EntryIter::new(&block, RULES).all(|e| e.is_ok()));
        write_record(&mut block, 52, (0, 12, b"gone", 1), true);
        let deleted = EntryIter::new(&block, RULES).nth(1).unwrap().unwrap();
        assert_eq!((deleted.ino, deleted.name_len), (0, 4));
    }

    #[test]
    fn new_names_are_checked() {
        assert_eq!(check_new_name(b""), Err(FsError::InvalidName));
        assert_eq!(check_new_name(b".."), Err(FsError::InvalidName));
        assert_eq!(check_new_name(b"a/b"), Err(FsError::InvalidName));
        assert_eq!(check_new_name(&[b'x'; 256]), Err(FsError::NameTooLong));
        assert_eq!(check_new_name(&[b'x'; 255]), Ok(()));
    }
}
