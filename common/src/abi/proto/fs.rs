//! The fs server's protocol (`micro-kernel/user/fs`): inode-level
//! operations on the ext2 file system, for the vfs server only.
//!
//! The fs server holds no per-process state: the vfs server turns a user's
//! `open("a/b", ...)` into `Lookup { cwd } + "a/b"`, then works with the
//! inode number it got back. Names and paths travel as the message's bytes.
//! Every request that changes the file system ends with `Ext2::sync` in
//! the server, so the disk is consistent between requests.
//!
//! | request          | words                      | bytes            | reply words (`REPLY_OK`)        |
//! |------------------|----------------------------|------------------|---------------------------------|
//! | `Lookup`         | cwd                        | path             | [`InodeInfo`] (4 words)          |
//! | `LookupParent`   | cwd                        | path             | dir, offset of the last name    |
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
//! | `Rename`         | old dir, new dir, old name length | old name ++ new name | —                   |
//! | `ReadDir`        | dir, cursor, len (≤ 4096)  | —                | next cursor (+ `getdents` records) |
//! | `OpenInode`      | ino                        | —                | —                                |
//! | `ReleaseInode`   | ino                        | —                | —                                |
//!
//! Errors are the `Errno` the monolithic kernel returns for the same
//! `FsError` (`FsError::errno`).

use super::{ProtoError, Wire};
use crate::abi::fs::Stat;
use crate::fs::{InodeKind, Metadata};

/// First label of this protocol.
pub const LABEL_BASE: u64 = 0x300;

/// The most bytes one `Read` or `ReadDir` returns.
pub use super::MAX_TRANSFER;

/// The request labels, in the order of the table above.
const LABELS: [u64; 16] = {
    let mut labels = [0; 16];
    let mut i = 0;
    while i < 16 {
        labels[i] = LABEL_BASE + i as u64;
        i += 1;
    }
    labels
};

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
    /// Move a name in `old_dir` to a name in `new_dir`: `names` is the old
    /// name followed by the new one, the first `old_len` bytes being the old.
    Rename {
        old_dir: u32,
        new_dir: u32,
        names: &'a [u8],
        old_len: usize,
    },
    /// Directory records from `cursor`, at most `len` bytes.
    ReadDir { dir: u32, cursor: u64, len: u64 },
    /// One more reference to an inode (an open file).
    OpenInode { ino: u32 },
    /// One reference fewer; frees an unlinked inode with the last one.
    ReleaseInode { ino: u32 },
}

fn bool_word(wire: &Wire<'_>, index: usize) -> Result<bool, ProtoError> {
    match wire.word(index)? {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(ProtoError::BadValue(index)),
    }
}

impl<'a> FsRequest<'a> {
    /// The message for this request.
    pub fn to_wire(&self) -> Wire<'a> {
        use FsRequest::*;
        let (index, words, bytes): (usize, &[u64], Option<&'a [u8]>) = match *self {
            Lookup { cwd, path } => (0, &[cwd as u64], Some(path)),
            LookupParent { cwd, path } => (1, &[cwd as u64], Some(path)),
            Read { ino, offset, len } => (2, &[ino as u64, offset, len], None),
            Write {
                ino,
                offset,
                append,
                data,
            } => (3, &[ino as u64, offset, append as u64], Some(data)),
            Truncate { ino, size } => (4, &[ino as u64, size], None),
            Stat { ino } => (5, &[ino as u64], None),
            Create { dir, name } => (6, &[dir as u64], Some(name)),
            Mkdir { dir, name } => (7, &[dir as u64], Some(name)),
            Mknod {
                dir,
                major,
                minor,
                name,
            } => (8, &[dir as u64, major as u64, minor as u64], Some(name)),
            Link { dir, target, name } => (9, &[dir as u64, target as u64], Some(name)),
            Unlink { dir, name } => (10, &[dir as u64], Some(name)),
            Rmdir { dir, name } => (11, &[dir as u64], Some(name)),
            Rename {
                old_dir,
                new_dir,
                names,
                old_len,
            } => (
                12,
                &[old_dir as u64, new_dir as u64, old_len as u64],
                Some(names),
            ),
            ReadDir { dir, cursor, len } => (13, &[dir as u64, cursor, len], None),
            OpenInode { ino } => (14, &[ino as u64], None),
            ReleaseInode { ino } => (15, &[ino as u64], None),
        };
        let wire = Wire::new(LABELS[index], words);
        match bytes {
            Some(bytes) => wire.with_bytes(bytes),
            None => wire,
        }
    }

    /// Decodes and validates a request.
    pub fn from_wire(wire: &Wire<'a>) -> Result<FsRequest<'a>, ProtoError> {
        use FsRequest::*;
        let label = wire.label;
        if !(LABEL_BASE..LABEL_BASE + LABELS.len() as u64).contains(&label) {
            return Err(ProtoError::UnknownLabel(label));
        }
        Ok(match label - LABEL_BASE {
            0 => Lookup {
                cwd: wire.word_u32(0)?,
                path: wire.bytes()?,
            },
            1 => LookupParent {
                cwd: wire.word_u32(0)?,
                path: wire.bytes()?,
            },
            2 => Read {
                ino: wire.word_u32(0)?,
                offset: wire.word(1)?,
                len: wire.length(2)?,
            },
            3 => Write {
                ino: wire.word_u32(0)?,
                offset: wire.word(1)?,
                append: bool_word(wire, 2)?,
                data: wire.bytes()?,
            },
            4 => Truncate {
                ino: wire.word_u32(0)?,
                size: wire.word(1)?,
            },
            5 => Stat {
                ino: wire.word_u32(0)?,
            },
            6 => Create {
                dir: wire.word_u32(0)?,
                name: wire.bytes()?,
            },
            7 => Mkdir {
                dir: wire.word_u32(0)?,
                name: wire.bytes()?,
            },
            8 => Mknod {
                dir: wire.word_u32(0)?,
                major: wire.word_u32(1)?,
                minor: wire.word_u32(2)?,
                name: wire.bytes()?,
            },
            9 => Link {
                dir: wire.word_u32(0)?,
                target: wire.word_u32(1)?,
                name: wire.bytes()?,
            },
            10 => Unlink {
                dir: wire.word_u32(0)?,
                name: wire.bytes()?,
            },
            11 => Rmdir {
                dir: wire.word_u32(0)?,
                name: wire.bytes()?,
            },
            12 => {
                let names = wire.bytes()?;
                let old_len = usize::try_from(wire.word(2)?)
                    .ok()
                    .filter(|&split| split <= names.len())
                    .ok_or(ProtoError::BadValue(2))?;
                Rename {
                    old_dir: wire.word_u32(0)?,
                    new_dir: wire.word_u32(1)?,
                    names,
                    old_len,
                }
            }
            13 => ReadDir {
                dir: wire.word_u32(0)?,
                cursor: wire.word(1)?,
                len: wire.length(2)?,
            },
            14 => OpenInode {
                ino: wire.word_u32(0)?,
            },
            _ => ReleaseInode {
                ino: wire.word_u32(0)?,
            },
        })
    }
}

/// Splits a `Rename`'s `names` into the old and the new name (`None` if
/// `old_len` lies outside them; decoded requests are always in range).
pub fn split_names(names: &[u8], old_len: usize) -> Option<(&[u8], &[u8])> {
    names.split_at_checked(old_len)
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
        ];
        for request in requests {
            assert_eq!(FsRequest::from_wire(&request.to_wire()), Ok(request));
        }
        let rename = Rename {
            old_dir: 2,
            new_dir: 3,
            names: b"oldnewer",
            old_len: 3,
        };
        assert_eq!(FsRequest::from_wire(&rename.to_wire()), Ok(rename));
        assert_eq!(
            split_names(b"oldnewer", 3),
            Some((&b"old"[..], &b"newer"[..]))
        );
        assert_eq!(split_names(b"ab", 3), None);
    }

    #[test]
    fn bad_requests_are_refused() {
        let label = |index: u64| LABEL_BASE + index;
        // No path.
        assert_eq!(
            FsRequest::from_wire(&Wire::new(label(0), &[2])),
            Err(ProtoError::MissingBytes)
        );
        // Inode numbers must fit 32 bits.
        assert_eq!(
            FsRequest::from_wire(&Wire::new(label(5), &[1 << 40])),
            Err(ProtoError::BadValue(0))
        );
        // Reads are at most 4 KiB.
        assert_eq!(
            FsRequest::from_wire(&Wire::new(label(2), &[5, 0, 4097])),
            Err(ProtoError::BadValue(2))
        );
        // `append` is a boolean.
        assert_eq!(
            FsRequest::from_wire(&Wire::new(label(3), &[5, 0, 2]).with_bytes(b"x")),
            Err(ProtoError::BadValue(2))
        );
        // The rename split must lie inside the bytes.
        assert_eq!(
            FsRequest::from_wire(&Wire::new(label(12), &[2, 2, 9]).with_bytes(b"ab")),
            Err(ProtoError::BadValue(2))
        );
        assert_eq!(
            FsRequest::from_wire(&Wire::new(label(16), &[])),
            Err(ProtoError::UnknownLabel(label(16)))
        );
        assert_eq!(
            FsRequest::from_wire(&Wire::new(label(14), &[])),
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
