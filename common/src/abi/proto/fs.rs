//! The fs server's protocol (`micro-kernel/user/fs`): inode-level
//! operations on the ext2 file system, for the vfs server only.
//!
//! The fs server holds no per-process state: the vfs server turns a user's
//! `open("a/b", ...)` into `Lookup { cwd } + "a/b"`, then works with the
//! inode number it got back. Names and paths travel as the message's bytes.
//! Every request that changes the file system ends with `Ext2::sync` in
//! the server, so the disk is consistent between requests.
//!
//! | request          | words                      | bytes            | reply words (`Done`)            |
//! |------------------|----------------------------|------------------|---------------------------------|
//! | `Lookup`         | cwd                        | path             | [`InodeInfo`] (4 words)          |
//! | `LookupParent`   | cwd                        | path             | dir, offset and length of the last name |
//! | `Read`           | ino, offset, len (≤ 4096)  | —                | — (the bytes read)               |
//! | `Write`          | ino, offset, append        | data             | bytes written, offset used       |
//! | `Truncate`       | ino, size                  | —                | —                                |
//! | `Stat`           | ino                        | —                | [`InodeInfo`]                    |
//! | `Create`         | dir                        | name             | new ino                          |
//! | `Mkdir`          | dir                        | name             | new ino                          |
//! | `Mknod`          | dir, major, minor          | name             | new ino                          |
//! | `Link`           | dir, target ino            | name             | —                                |
//! | `Unlink`         | dir                        | name             | —  (not for directories)         |
//! | `Rmdir`          | dir                        | name             | —                                |
//! | `Rename`         | old dir, new dir           | old name, new name | —                             |
//! | `ReadDir`        | dir, cursor, len (≤ 4096)  | —                | next cursor (+ `getdents` records) |
//! | `OpenInode`      | ino                        | —                | —                                |
//! | `ReleaseInode`   | ino                        | —                | —                                |
//! | `Sync`           | —                          | —                | —                                |
//! | `Fsync`          | ino                        | —                | —                                |
//! | `LookupLink`     | cwd                        | path             | as `Lookup`, the last name not followed (lab `fs`) |
//! | `Symlink`        | dir                        | name, target     | new ino (lab `fs`)               |
//!
//! Errors are the `Errno` the monolithic kernel returns for the same
//! `FsError` (`FsError::errno`).

use super::{ProtoError, Wire};

/// The most bytes one `Read` or `ReadDir` returns.
pub use super::MAX_TRANSFER;
use crate::abi::fs::Stat;
use crate::fs::{InodeKind, Metadata};

super::operations! {
    /// The fs server's operations.
    pub enum FsOp from 0x300 {
        Lookup,
        LookupParent,
        Read,
        Write,
        Truncate,
        Stat,
        Create,
        Mkdir,
        Mknod,
        Link,
        Unlink,
        Rmdir,
        Rename,
        ReadDir,
        OpenInode,
        ReleaseInode,
        Sync,
        Fsync,
        // LAB fs BEGIN
        LookupLink,
        Symlink,
        // LAB fs STUB
        // LAB fs END
    }
}

/// A request to the fs server. Inode numbers are `u64` on the wire and
/// checked to fit an ext2 inode number (`u32`) when decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsRequest<'a> {
    /// Resolve `path` from directory `cwd`.
    Lookup { cwd: u32, path: &'a [u8] },
    /// Resolve all but the last name of `path` from `cwd`.
    LookupParent { cwd: u32, path: &'a [u8] },
    /// Read up to `len` bytes at `offset`.
    Read { ino: u32, offset: u64, len: u64 },
    /// Write `data` at `offset` (at the end of the file if `append`).
    Write {
        ino: u32,
        offset: u64,
        append: bool,
        data: &'a [u8],
    },
    /// Set the size.
    Truncate { ino: u32, size: u64 },
    /// Describe an inode.
    Stat { ino: u32 },
    /// Create a regular file `name` in `dir`.
    Create { dir: u32, name: &'a [u8] },
    /// Create a directory.
    Mkdir { dir: u32, name: &'a [u8] },
    /// Create a character device.
    Mknod {
        dir: u32,
        major: u32,
        minor: u32,
        name: &'a [u8],
    },
    /// Add a name for `target`.
    Link {
        dir: u32,
        target: u32,
        name: &'a [u8],
    },
    /// Remove a name (not of a directory).
    Unlink { dir: u32, name: &'a [u8] },
    /// Remove an empty directory.
    Rmdir { dir: u32, name: &'a [u8] },
    /// Move `old_name` in `old_dir` to `new_name` in `new_dir`.
    Rename {
        old_dir: u32,
        new_dir: u32,
        old_name: &'a [u8],
        new_name: &'a [u8],
    },
    /// Directory records from `cursor`, at most `len` bytes.
    ReadDir { dir: u32, cursor: u64, len: u64 },
    /// One more reference to an inode (an open file).
    OpenInode { ino: u32 },
    /// One reference fewer; frees an unlinked inode with the last one.
    ReleaseInode { ino: u32 },
    /// Commit the journal: every change so far is on the disk.
    Sync,
    /// The changes to `ino` are on the disk (the journal commits).
    Fsync { ino: u32 },
    // LAB fs BEGIN
    /// As `Lookup`, but a symbolic link at the end of `path` is not followed.
    LookupLink { cwd: u32, path: &'a [u8] },
    /// Create the symbolic link `name` in `dir`, with contents `target`.
    Symlink {
        dir: u32,
        name: &'a [u8],
        target: &'a [u8],
    },
    // LAB fs STUB
    // LAB fs END
}

impl<'a> FsRequest<'a> {
    /// The operation.
    pub fn op(&self) -> FsOp {
        use FsRequest::*;
        match self {
            Lookup { .. } => FsOp::Lookup,
            LookupParent { .. } => FsOp::LookupParent,
            Read { .. } => FsOp::Read,
            Write { .. } => FsOp::Write,
            Truncate { .. } => FsOp::Truncate,
            Stat { .. } => FsOp::Stat,
            Create { .. } => FsOp::Create,
            Mkdir { .. } => FsOp::Mkdir,
            Mknod { .. } => FsOp::Mknod,
            Link { .. } => FsOp::Link,
            Unlink { .. } => FsOp::Unlink,
            Rmdir { .. } => FsOp::Rmdir,
            Rename { .. } => FsOp::Rename,
            ReadDir { .. } => FsOp::ReadDir,
            OpenInode { .. } => FsOp::OpenInode,
            ReleaseInode { .. } => FsOp::ReleaseInode,
            Sync => FsOp::Sync,
            Fsync { .. } => FsOp::Fsync,
            // LAB fs BEGIN
            LookupLink { .. } => FsOp::LookupLink,
            Symlink { .. } => FsOp::Symlink,
            // LAB fs STUB
            // LAB fs END
        }
    }

    /// The message for this request.
    pub fn to_wire(&self) -> Wire<'a> {
        use FsRequest::*;
        let wire = |words: &[u64]| Wire::new(self.op().label(), words);
        match *self {
            Lookup { cwd, path } | LookupParent { cwd, path } => {
                wire(&[cwd as u64]).with_bytes(path)
            }
            Read { ino, offset, len } => wire(&[ino as u64, offset, len]),
            Write {
                ino,
                offset,
                append,
                data,
            } => wire(&[ino as u64, offset, append as u64]).with_bytes(data),
            Truncate { ino, size } => wire(&[ino as u64, size]),
            Stat { ino } | OpenInode { ino } | ReleaseInode { ino } | Fsync { ino } => {
                wire(&[ino as u64])
            }
            Sync => wire(&[]),
            Create { dir, name }
            | Mkdir { dir, name }
            | Unlink { dir, name }
            | Rmdir { dir, name } => wire(&[dir as u64]).with_bytes(name),
            Mknod {
                dir,
                major,
                minor,
                name,
            } => wire(&[dir as u64, major as u64, minor as u64]).with_bytes(name),
            Link { dir, target, name } => wire(&[dir as u64, target as u64]).with_bytes(name),
            Rename {
                old_dir,
                new_dir,
                old_name,
                new_name,
            } => wire(&[old_dir as u64, new_dir as u64])
                .with_bytes(old_name)
                .with_bytes(new_name),
            ReadDir { dir, cursor, len } => wire(&[dir as u64, cursor, len]),
            // LAB fs BEGIN
            Symlink { dir, name, target } => {
                wire(&[dir as u64]).with_bytes(name).with_bytes(target)
            }
            LookupLink { cwd, path } => wire(&[cwd as u64]).with_bytes(path),
            // LAB fs STUB
            // LAB fs END
        }
    }

    /// Decodes and validates a request.
    pub fn from_wire(wire: &Wire<'a>) -> Result<FsRequest<'a>, ProtoError> {
        use FsRequest::*;
        Ok(match wire.operation(FsOp::from_label)? {
            FsOp::Lookup => Lookup {
                cwd: wire.word_u32(0)?,
                path: wire.bytes()?,
            },
            FsOp::LookupParent => LookupParent {
                cwd: wire.word_u32(0)?,
                path: wire.bytes()?,
            },
            FsOp::Read => Read {
                ino: wire.word_u32(0)?,
                offset: wire.word(1)?,
                len: wire.length(2)?,
            },
            FsOp::Write => Write {
                ino: wire.word_u32(0)?,
                offset: wire.word(1)?,
                append: wire.word_bool(2)?,
                data: wire.bytes()?,
            },
            FsOp::Truncate => Truncate {
                ino: wire.word_u32(0)?,
                size: wire.word(1)?,
            },
            FsOp::Stat => Stat {
                ino: wire.word_u32(0)?,
            },
            FsOp::Create => Create {
                dir: wire.word_u32(0)?,
                name: wire.bytes()?,
            },
            FsOp::Mkdir => Mkdir {
                dir: wire.word_u32(0)?,
                name: wire.bytes()?,
            },
            FsOp::Mknod => Mknod {
                dir: wire.word_u32(0)?,
                major: wire.word_u32(1)?,
                minor: wire.word_u32(2)?,
                name: wire.bytes()?,
            },
            FsOp::Link => Link {
                dir: wire.word_u32(0)?,
                target: wire.word_u32(1)?,
                name: wire.bytes()?,
            },
            FsOp::Unlink => Unlink {
                dir: wire.word_u32(0)?,
                name: wire.bytes()?,
            },
            FsOp::Rmdir => Rmdir {
                dir: wire.word_u32(0)?,
                name: wire.bytes()?,
            },
            FsOp::Rename => Rename {
                old_dir: wire.word_u32(0)?,
                new_dir: wire.word_u32(1)?,
                old_name: wire.item(0)?,
                new_name: wire.item(1)?,
            },
            FsOp::ReadDir => ReadDir {
                dir: wire.word_u32(0)?,
                cursor: wire.word(1)?,
                len: wire.length(2)?,
            },
            FsOp::OpenInode => OpenInode {
                ino: wire.word_u32(0)?,
            },
            FsOp::ReleaseInode => ReleaseInode {
                ino: wire.word_u32(0)?,
            },
            FsOp::Sync => Sync,
            FsOp::Fsync => Fsync {
                ino: wire.word_u32(0)?,
            },
            // LAB fs BEGIN
            FsOp::LookupLink => LookupLink {
                cwd: wire.word_u32(0)?,
                path: wire.bytes()?,
            },
            FsOp::Symlink => Symlink {
                dir: wire.word_u32(0)?,
                name: wire.item(0)?,
                target: wire.item(1)?,
            },
            // LAB fs STUB
            // LAB fs END
        })
    }
}

/// What `Lookup` and `Stat` return about an inode, in four words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InodeInfo {
    /// The inode number.
    pub ino: u32,
    /// Its kind.
    pub kind: InodeKind,
    /// Size in bytes.
    pub size: u64,
    /// Hard links.
    pub links: u16,
    /// Device numbers (0 unless a device).
    pub major: u32,
    /// Device minor number.
    pub minor: u32,
}

impl InodeInfo {
    /// From the file system's metadata.
    pub fn from_metadata(metadata: &Metadata) -> InodeInfo {
        InodeInfo {
            ino: metadata.ino,
            kind: metadata.kind,
            size: metadata.size,
            links: metadata.links,
            major: metadata.major,
            minor: metadata.minor,
        }
    }

    /// The four reply words.
    pub fn to_words(&self) -> [u64; 4] {
        [
            self.ino as u64 | u64::from(self.kind.dir_type()) << 32,
            self.size,
            self.links as u64,
            self.major as u64 | (self.minor as u64) << 32,
        ]
    }

    /// Decodes the reply words of `Lookup` or `Stat`.
    pub fn from_wire(wire: &Wire<'_>) -> Result<InodeInfo, ProtoError> {
        let first = wire.word(0)?;
        // The wire code is ext2's directory-entry type byte (1..=7).
        let kind = u8::try_from(first >> 32)
            .ok()
            .and_then(InodeKind::from_dir_type)
            .ok_or(ProtoError::BadValue(0))?;
        let links = u16::try_from(wire.word(2)?).map_err(|_| ProtoError::BadValue(2))?;
        let devices = wire.word(3)?;
        Ok(InodeInfo {
            ino: first as u32,
            kind,
            size: wire.word(1)?,
            links,
            major: devices as u32,
            minor: (devices >> 32) as u32,
        })
    }

    /// The `Stat` a user program sees (device 0: the root disk).
    pub fn to_stat(&self) -> Stat {
        Stat {
            dev: 0,
            ino: self.ino,
            kind: self.kind.abi_type() as u32,
            nlink: self.links as u32,
            size: self.size,
            major: self.major,
            minor: self.minor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip() {
        use FsRequest::*;
        let requests = [
            Lookup {
                cwd: 2,
                path: b"/bin/sh",
            },
            LookupParent {
                cwd: 12,
                path: b"a/b",
            },
            Read {
                ino: 5,
                offset: 4096,
                len: 4096,
            },
            Write {
                ino: 5,
                offset: 1,
                append: true,
                data: b"hello",
            },
            Truncate { ino: 5, size: 0 },
            Stat { ino: 5 },
            Create { dir: 2, name: b"f" },
            Mkdir { dir: 2, name: b"d" },
            Mknod {
                dir: 2,
                major: 1,
                minor: 0,
                name: b"console",
            },
            Link {
                dir: 2,
                target: 5,
                name: b"g",
            },
            Unlink { dir: 2, name: b"g" },
            Rmdir { dir: 2, name: b"d" },
            ReadDir {
                dir: 2,
                cursor: 24,
                len: 512,
            },
            OpenInode { ino: 5 },
            ReleaseInode { ino: 5 },
            Sync,
            Fsync { ino: 5 },
            // LAB fs BEGIN
            LookupLink {
                cwd: 2,
                path: b"a/link",
            },
            Symlink {
                dir: 2,
                name: b"link",
                target: b"/etc/motd",
            },
            // LAB fs STUB
            // LAB fs END
        ];
        let rename = Rename {
            old_dir: 2,
            new_dir: 3,
            old_name: b"old",
            new_name: b"newer",
        };
        assert_eq!(
            requests.len() + 1,
            FsOp::ALL.len(),
            "one example per operation"
        );
        for request in requests.into_iter().chain([rename]) {
            assert_eq!(FsRequest::from_wire(&request.to_wire()), Ok(request));
        }
    }

    #[test]
    fn bad_requests_are_refused() {
        let label = |op: FsOp| op.label();
        // No path.
        assert_eq!(
            FsRequest::from_wire(&Wire::new(label(FsOp::Lookup), &[2])),
            Err(ProtoError::MissingBytes)
        );
        // Inode numbers must fit 32 bits.
        assert_eq!(
            FsRequest::from_wire(&Wire::new(label(FsOp::Stat), &[1 << 40])),
            Err(ProtoError::BadValue(0))
        );
        // Reads are at most 4 KiB.
        assert_eq!(
            FsRequest::from_wire(&Wire::new(label(FsOp::Read), &[5, 0, 4097])),
            Err(ProtoError::BadValue(2))
        );
        // `append` is a boolean.
        assert_eq!(
            FsRequest::from_wire(&Wire::new(label(FsOp::Write), &[5, 0, 2]).with_bytes(b"x")),
            Err(ProtoError::BadValue(2))
        );
        // A rename needs both names.
        assert_eq!(
            FsRequest::from_wire(&Wire::new(label(FsOp::Rename), &[2, 2]).with_bytes(b"ab")),
            Err(ProtoError::MissingBytes)
        );
        let unknown = FsOp::ALL[FsOp::ALL.len() - 1].label() + 1;
        assert_eq!(
            FsRequest::from_wire(&Wire::new(unknown, &[])),
            Err(ProtoError::UnknownLabel(unknown))
        );
        assert_eq!(
            FsRequest::from_wire(&Wire::new(label(FsOp::OpenInode), &[])),
            Err(ProtoError::MissingWord(0))
        );
    }

    #[test]
    fn inode_info_round_trips_and_rejects_bad_kinds() {
        let info = InodeInfo {
            ino: 12,
            kind: InodeKind::CharDevice,
            size: 1 << 33,
            links: 3,
            major: 1,
            minor: 7,
        };
        let words = info.to_words();
        assert_eq!(InodeInfo::from_wire(&Wire::new(0, &words)), Ok(info));
        let stat = info.to_stat();
        assert_eq!(
            (stat.ino, stat.nlink, stat.major, stat.minor),
            (12, 3, 1, 7)
        );
        let bad_kind = [12 | 9 << 32, 0, 1, 0];
        assert_eq!(
            InodeInfo::from_wire(&Wire::new(0, &bad_kind)),
            Err(ProtoError::BadValue(0))
        );
        assert_eq!(
            InodeInfo::from_wire(&Wire::new(0, &[1 << 32, 0, 1 << 20, 0])),
            Err(ProtoError::BadValue(2))
        );
    }
}
