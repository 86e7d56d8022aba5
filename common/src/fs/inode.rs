//! The on-disk inode: what a file *is* (type, size, link count, where its
//! blocks are), and the [`Metadata`] the kernel sees for `stat`.
//!
//! Inodes live in the inode tables, `inode_size` bytes each (128 or 256).
//! Inode `n` (numbering starts at 1) is entry `(n - 1) % inodes_per_group` of
//! group `(n - 1) / inodes_per_group`'s table. We read the fields we use from
//! the first 128 bytes and, when writing, change only those fields, so
//! anything else in the record (extended attributes in a large inode, fields
//! of later ext4 versions) is preserved.

use super::bytes::{get_u16, get_u32, put_u16, put_u32};
use super::error::{FsError, FsResult};
use super::{Ext2, Ino};
use crate::block::BlockDevice;

/// Mode bits that give the file type.
const S_IFMT: u16 = 0xF000;
const S_IFSOCK: u16 = 0xC000;
const S_IFLNK: u16 = 0xA000;
const S_IFREG: u16 = 0x8000;
const S_IFBLK: u16 = 0x6000;
const S_IFDIR: u16 = 0x4000;
const S_IFCHR: u16 = 0x2000;
const S_IFIFO: u16 = 0x1000;

/// Inode flag: the directory has a hashed (`dir_index`) index. We read such
/// directories linearly and clear the flag when we change one.
pub(crate) const INDEX_FL: u32 = 0x1000;

/// Pointers in `i_block`: 12 direct, then single, double, triple indirect.
pub(crate) const DIRECT_BLOCKS: usize = 12;
pub(crate) const SINGLE_INDIRECT: usize = 12;
pub(crate) const DOUBLE_INDIRECT: usize = 13;
pub(crate) const TRIPLE_INDIRECT: usize = 14;

/// What kind of object an inode is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InodeKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A character device (`major`/`minor` in [`Metadata`]).
    CharDevice,
    /// A block device.
    BlockDevice,
    /// A symbolic link (its target is its contents; not followed).
    Symlink,
    /// A named pipe.
    Fifo,
    /// A Unix-domain socket.
    Socket,
}

impl InodeKind {
    /// The kind encoded in the top bits of `i_mode`, if valid.
    pub(crate) fn from_mode(mode: u16) -> Option<InodeKind> {
        Some(match mode & S_IFMT {
            S_IFREG => InodeKind::File,
            S_IFDIR => InodeKind::Dir,
            S_IFCHR => InodeKind::CharDevice,
            S_IFBLK => InodeKind::BlockDevice,
            S_IFLNK => InodeKind::Symlink,
            S_IFIFO => InodeKind::Fifo,
            S_IFSOCK => InodeKind::Socket,
            _ => return None,
        })
    }

    /// The type bits of `i_mode` for this kind.
    pub(crate) fn mode_bits(self) -> u16 {
        match self {
            InodeKind::File => S_IFREG,
            InodeKind::Dir => S_IFDIR,
            InodeKind::CharDevice => S_IFCHR,
            InodeKind::BlockDevice => S_IFBLK,
            InodeKind::Symlink => S_IFLNK,
            InodeKind::Fifo => S_IFIFO,
            InodeKind::Socket => S_IFSOCK,
        }
    }

    /// The kind a directory entry's type byte names (`filetype` feature).
    pub fn from_dir_type(byte: u8) -> Option<InodeKind> {
        Some(match byte {
            1 => InodeKind::File,
            2 => InodeKind::Dir,
            3 => InodeKind::CharDevice,
            4 => InodeKind::BlockDevice,
            5 => InodeKind::Fifo,
            6 => InodeKind::Socket,
            7 => InodeKind::Symlink,
            _ => return None,
        })
    }

    /// The directory-entry type byte for this kind.
    pub fn dir_type(self) -> u8 {
        match self {
            InodeKind::File => 1,
            InodeKind::Dir => 2,
            InodeKind::CharDevice => 3,
            InodeKind::BlockDevice => 4,
            InodeKind::Fifo => 5,
            InodeKind::Socket => 6,
            InodeKind::Symlink => 7,
        }
    }

    /// The ABI's [`FileType`](crate::abi::fs::FileType) for `stat`. Kinds the
    /// ABI does not name map to their nearest relative.
    pub fn abi_type(self) -> crate::abi::fs::FileType {
        use crate::abi::fs::FileType;
        match self {
            InodeKind::File | InodeKind::Socket => FileType::File,
            InodeKind::Dir => FileType::Dir,
            InodeKind::CharDevice | InodeKind::BlockDevice => FileType::Device,
            InodeKind::Symlink => FileType::Symlink,
            InodeKind::Fifo => FileType::Pipe,
        }
    }
}

/// What `stat` reports about an inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metadata {
    /// The inode number.
    pub ino: Ino,
    /// The kind of object.
    pub kind: InodeKind,
    /// Permission bits (`0o755`...), the low 12 bits of `i_mode`.
    pub permissions: u16,
    /// Size in bytes.
    pub size: u64,
    /// Number of hard links (directory entries naming the inode).
    pub links: u16,
    /// For devices, the major number; 0 otherwise.
    pub major: u32,
    /// For devices, the minor number; 0 otherwise.
    pub minor: u32,
    /// Disk space used, in 512-byte sectors (data + indirect blocks).
    pub sectors: u64,
    /// Last modification time, seconds since 1970.
    pub mtime: u32,
}

impl Metadata {
    /// The ABI `Stat` a system call returns; `dev` is the kernel's device
    /// number for this file system.
    pub fn to_stat(&self, dev: u32) -> crate::abi::fs::Stat {
        crate::abi::fs::Stat {
            dev,
            ino: self.ino,
            kind: self.kind.abi_type() as u32,
            nlink: self.links.into(),
            size: self.size,
            major: self.major,
            minor: self.minor,
        }
    }
}

/// The fields of an on-disk inode this code uses.
#[derive(Debug, Clone)]
pub(crate) struct Inode {
    pub mode: u16,
    pub size: u64,
    pub atime: u32,
    pub ctime: u32,
    pub mtime: u32,
    pub dtime: u32,
    pub links_count: u16,
    /// Disk space in 512-byte sectors, including indirect blocks and the
    /// extended-attribute block.
    pub sectors: u32,
    pub flags: u32,
    /// `i_block`: 12 direct pointers and three indirect ones — or, for
    /// devices and short symlinks, other data.
    pub block: [u32; 15],
    /// The extended-attribute block, or 0.
    pub file_acl: u32,
}

impl Inode {
    /// Decodes an inode record (at least 128 bytes).
    fn parse(bytes: &[u8]) -> Inode {
        let mode = get_u16(bytes, 0);
        let size_low = u64::from(get_u32(bytes, 4));
        // For regular files, i_dir_acl holds the high 32 bits of the size.
        let size_high = if mode & S_IFMT == S_IFREG {
            u64::from(get_u32(bytes, 108))
        } else {
            0
        };
        let mut block = [0u32; 15];
        for (i, pointer) in block.iter_mut().enumerate() {
            *pointer = get_u32(bytes, 40 + 4 * i);
        }
        Inode {
            mode,
            size: size_low | (size_high << 32),
            atime: get_u32(bytes, 8),
            ctime: get_u32(bytes, 12),
            mtime: get_u32(bytes, 16),
            dtime: get_u32(bytes, 20),
            links_count: get_u16(bytes, 26),
            sectors: get_u32(bytes, 28),
            flags: get_u32(bytes, 32),
            block,
            file_acl: get_u32(bytes, 104),
        }
    }

    /// Encodes the fields we use into an inode record, leaving the rest.
    fn store(&self, bytes: &mut [u8]) {
        put_u16(bytes, 0, self.mode);
        put_u32(bytes, 4, self.size as u32);
        put_u32(bytes, 8, self.atime);
        put_u32(bytes, 12, self.ctime);
        put_u32(bytes, 16, self.mtime);
        put_u32(bytes, 20, self.dtime);
        put_u16(bytes, 26, self.links_count);
        put_u32(bytes, 28, self.sectors);
        put_u32(bytes, 32, self.flags);
        for (i, pointer) in self.block.iter().enumerate() {
            put_u32(bytes, 40 + 4 * i, *pointer);
        }
        put_u32(bytes, 104, self.file_acl);
        let high = if self.mode & S_IFMT == S_IFREG {
            (self.size >> 32) as u32
        } else {
            0
        };
        put_u32(bytes, 108, high);
    }

    /// The kind of object, or `None` for an invalid mode.
    pub(crate) fn kind(&self) -> Option<InodeKind> {
        InodeKind::from_mode(self.mode)
    }

    /// Does `i_block` hold block pointers? Not for devices, fifos, sockets,
    /// or "fast" symlinks whose target is stored in `i_block` itself (a
    /// symlink with no data blocks besides an extended-attribute block).
    pub(crate) fn has_block_pointers(&self, block_size: usize) -> bool {
        match self.kind() {
            Some(InodeKind::File) | Some(InodeKind::Dir) => true,
            Some(InodeKind::Symlink) => {
                let ea_sectors = if self.file_acl != 0 {
                    (block_size / 512) as u32
                } else {
                    0
                };
                self.sectors > ea_sectors
            }
            _ => false,
        }
    }

    /// The device numbers of a device inode, decoded the way Linux stores
    /// them: the old 8:8 encoding in `i_block[0]`, or, if that is zero, the
    /// new 12:20 encoding in `i_block[1]`.
    pub(crate) fn device_numbers(&self) -> (u32, u32) {
        if self.block[0] != 0 {
            let old = self.block[0];
            ((old >> 8) & 0xFF, old & 0xFF)
        } else {
            let new = self.block[1];
            (
                (new & 0xF_FF00) >> 8,
                (new & 0xFF) | ((new >> 12) & 0xF_FF00),
            )
        }
    }

    /// Stores device numbers as Linux (and `debugfs`) expect: the old
    /// encoding when both fit in 8 bits, else the new one.
    pub(crate) fn set_device_numbers(&mut self, major: u32, minor: u32) {
        if major < 256 && minor < 256 {
            self.block[0] = (major << 8) | minor;
            self.block[1] = 0;
        } else {
            self.block[0] = 0;
            self.block[1] = (minor & 0xFF) | (major << 8) | ((minor & !0xFF) << 12);
        }
    }
}

impl<D: BlockDevice> Ext2<D> {
    /// The block and byte offset of inode `ino`'s record.
    ///
    /// # Errors
    /// [`FsError::InvalidArgument`] if `ino` is 0 or past the last inode.
    fn inode_location(&self, ino: Ino) -> FsResult<(u64, usize)> {
        if ino == 0 || ino > self.sb.inodes_count {
            return Err(FsError::InvalidArgument);
        }
        let index = (ino - 1) % self.sb.inodes_per_group;
        let group = (ino - 1) / self.sb.inodes_per_group;
        let byte = index as usize * self.sb.inode_size as usize;
        let table = self.groups[group as usize].inode_table;
        let block = u64::from(table) + (byte / self.sb.block_size) as u64;
        Ok((block, byte % self.sb.block_size))
    }

    /// Reads inode `ino`.
    ///
    /// # Errors
    /// [`FsError::InvalidArgument`] for a bad number; [`FsError::Cache`].
    pub(crate) fn read_inode(&mut self, ino: Ino) -> FsResult<Inode> {
        let (block, offset) = self.inode_location(ino)?;
        let bytes = self.cache.read(block)?;
        Ok(Inode::parse(&bytes[offset..offset + 128]))
    }

    /// Reads inode `ino` and checks that it is in use and has a valid type:
    /// for inode numbers the caller passed in.
    ///
    /// # Errors
    /// [`FsError::InvalidArgument`] if the inode is reserved for the file
    /// system's own use (below `first_ino`, except the root: the resize
    /// inode, the journal...), or not in use (mode 0, or no links and not
    /// held open); [`FsError::Corrupt`] for an invalid type.
    pub(crate) fn read_live_inode(&mut self, ino: Ino) -> FsResult<(Inode, InodeKind)> {
        if ino < self.sb.first_ino && ino != super::ROOT_INO {
            return Err(FsError::InvalidArgument);
        }
        let inode = self.read_inode(ino)?;
        if inode.mode == 0 || (inode.links_count == 0 && !self.open_counts.contains_key(&ino)) {
            return Err(FsError::InvalidArgument);
        }
        let kind = inode.kind().ok_or(FsError::corrupt(
            "inode has an invalid file type",
            ino.into(),
        ))?;
        Ok((inode, kind))
    }

    /// Writes inode `ino`'s fields back (into the cache).
    ///
    /// # Errors
    /// [`FsError::InvalidArgument`] for a bad number; [`FsError::Cache`].
    pub(crate) fn write_inode(&mut self, ino: Ino, inode: &Inode) -> FsResult<()> {
        self.check_writable()?;
        let (block, offset) = self.inode_location(ino)?;
        let bytes = self.cache.modify_meta(block)?;
        inode.store(&mut bytes[offset..offset + 128]);
        Ok(())
    }

    /// Clears inode `ino`'s whole record and returns a fresh in-memory inode
    /// of `kind` with `permissions`, one link, and the current time. In large
    /// inodes `i_extra_isize` is set the way `mke2fs` sets it.
    ///
    /// # Errors
    /// [`FsError::InvalidArgument`] for a bad number; [`FsError::Cache`].
    pub(crate) fn init_inode(
        &mut self,
        ino: Ino,
        kind: InodeKind,
        permissions: u16,
    ) -> FsResult<Inode> {
        let (block, offset) = self.inode_location(ino)?;
        let size = self.sb.inode_size as usize;
        let bytes = self.cache.modify_meta(block)?;
        let record = &mut bytes[offset..offset + size];
        record.fill(0);
        if size >= 160 {
            put_u16(record, 128, 32);
        }
        let now = self.now;
        Ok(Inode {
            mode: kind.mode_bits() | (permissions & 0o7777),
            size: 0,
            atime: now,
            ctime: now,
            mtime: now,
            dtime: 0,
            links_count: 1,
            sectors: 0,
            flags: 0,
            block: [0; 15],
            file_acl: 0,
        })
    }

    /// `stat`: the metadata of inode `ino`.
    ///
    /// # Errors
    /// [`FsError::InvalidArgument`] if `ino` is out of range or not in use;
    /// [`FsError::Corrupt`] if its type is invalid; [`FsError::Cache`].
    pub fn stat(&mut self, ino: Ino) -> FsResult<Metadata> {
        let (inode, kind) = self.read_live_inode(ino)?;
        let (major, minor) = match kind {
            InodeKind::CharDevice | InodeKind::BlockDevice => inode.device_numbers(),
            _ => (0, 0),
        };
        Ok(Metadata {
            ino,
            kind,
            permissions: inode.mode & 0o7777,
            size: inode.size,
            links: inode.links_count,
            major,
            minor,
            sectors: inode.sectors.into(),
            mtime: inode.mtime,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inode_records_round_trip_and_keep_unknown_fields() {
        let mut bytes = [0xA5u8; 256];
        let mut inode = Inode::parse(&bytes);
        inode.mode = S_IFREG | 0o644;
        inode.size = 0x1_2345_6789;
        inode.block[14] = 77;
        inode.store(&mut bytes);
        let back = Inode::parse(&bytes);
        assert_eq!(
            (back.size, back.block[14], back.kind()),
            (0x1_2345_6789, 77, Some(InodeKind::File))
        );
        assert_eq!(bytes[128], 0xA5, "bytes past the fields we use are kept");
    }

    #[test]
    fn device_numbers_use_linux_encodings() {
        let mut inode = Inode::parse(&[0u8; 128]);
        inode.set_device_numbers(4, 5);
        assert_eq!(inode.block[0], 0x0405);
        assert_eq!(inode.device_numbers(), (4, 5));
        inode.set_device_numbers(300, 70000);
        assert_eq!(inode.block[0], 0);
        assert_eq!(inode.device_numbers(), (300, 70000));
    }

    #[test]
    fn modes_and_directory_types_agree() {
        for kind in [
            InodeKind::File,
            InodeKind::Dir,
            InodeKind::CharDevice,
            InodeKind::BlockDevice,
            InodeKind::Symlink,
            InodeKind::Fifo,
            InodeKind::Socket,
        ] {
            assert_eq!(InodeKind::from_mode(kind.mode_bits() | 0o644), Some(kind));
            assert_eq!(InodeKind::from_dir_type(kind.dir_type()), Some(kind));
        }
        assert_eq!(InodeKind::from_mode(0xE000), None);
    }
}
