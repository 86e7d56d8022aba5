//! Decoding the directory records that `getdents` returns.
//!
//! `getdents(fd, buf, len)` fills `buf` with a sequence of records, each a
//! [`DirentHeader`] (inode, record length, name length, type) followed by the
//! name and padding up to `rec_len` bytes (see `common::abi::fs`). This module
//! walks such a buffer. It trusts nothing: a record whose lengths do not fit
//! the buffer ends the walk with `EIO` instead of reading out of bounds.

use crate::Errno;
use common::abi::fs::{DIRENT_HEADER_SIZE, DirentHeader, FileType};

/// One directory entry, borrowed from the buffer it was decoded from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawDirent<'a> {
    /// Inode number.
    pub ino: u32,
    /// The type byte (`FileType` as a number, 0 if the kernel did not say).
    pub kind: u8,
    /// The name bytes (not NUL-terminated).
    pub name: &'a [u8],
}

impl RawDirent<'_> {
    /// The entry's type, if the kernel reported a known one.
    pub fn file_type(&self) -> Option<FileType> {
        file_type_from_number(self.kind as u32)
    }
}

/// Decodes a `FileType` number (as found in `Stat::kind` or a directory record).
pub fn file_type_from_number(n: u32) -> Option<FileType> {
    match n {
        1 => Some(FileType::Dir),
        2 => Some(FileType::File),
        3 => Some(FileType::Device),
        4 => Some(FileType::Pipe),
        5 => Some(FileType::Symlink),
        _ => None,
    }
}

/// An iterator over the records in one `getdents` buffer.
pub struct DirentRecords<'a> {
    /// The bytes `getdents` returned (exactly its return value long).
    buf: &'a [u8],
    /// Offset of the next record. Invariant: `offset <= buf.len()`.
    offset: usize,
}

impl<'a> DirentRecords<'a> {
    /// Walks `buf`, which holds exactly the bytes `getdents` reported.
    pub fn new(buf: &'a [u8]) -> DirentRecords<'a> {
        DirentRecords { buf, offset: 0 }
    }
}

impl<'a> Iterator for DirentRecords<'a> {
    type Item = Result<RawDirent<'a>, Errno>;

    fn next(&mut self) -> Option<Self::Item> {
        let rest = &self.buf[self.offset..];
        if rest.is_empty() {
            return None;
        }
        if rest.len() < DIRENT_HEADER_SIZE {
            self.offset = self.buf.len();
            return Some(Err(Errno::EIO));
        }
        let header = DirentHeader {
            ino: u32::from_ne_bytes([rest[0], rest[1], rest[2], rest[3]]),
            rec_len: u16::from_ne_bytes([rest[4], rest[5]]),
            name_len: rest[6],
            kind: rest[7],
        };
        let rec_len = header.rec_len as usize;
        let name_end = DIRENT_HEADER_SIZE + header.name_len as usize;
        if rec_len < name_end || rec_len > rest.len() {
            // A malformed record: stop rather than read past the buffer.
            self.offset = self.buf.len();
            return Some(Err(Errno::EIO));
        }
        self.offset += rec_len;
        Some(Ok(RawDirent {
            ino: header.ino,
            kind: header.kind,
            name: &rest[DIRENT_HEADER_SIZE..name_end],
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn record(ino: u32, kind: u8, name: &[u8]) -> Vec<u8> {
        let rec_len = (DIRENT_HEADER_SIZE + name.len()).div_ceil(8) * 8;
        let mut r = Vec::new();
        r.extend_from_slice(&ino.to_ne_bytes());
        r.extend_from_slice(&(rec_len as u16).to_ne_bytes());
        r.push(name.len() as u8);
        r.push(kind);
        r.extend_from_slice(name);
        r.resize(rec_len, 0);
        r
    }

    #[test]
    fn walks_several_records() {
        let mut buf = record(2, 1, b".");
        buf.extend(record(2, 1, b".."));
        buf.extend(record(12, 2, b"README"));
        let entries: Vec<_> = DirentRecords::new(&buf).map(|r| r.unwrap()).collect();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[2].name, b"README");
        assert_eq!(entries[2].ino, 12);
        assert_eq!(entries[2].file_type(), Some(FileType::File));
        assert_eq!(entries[1].name, b"..");
    }

    #[test]
    fn malformed_records_end_with_eio() {
        let mut buf = record(5, 2, b"abc");
        buf[4] = 200; // rec_len larger than the buffer
        let mut it = DirentRecords::new(&buf);
        assert_eq!(it.next(), Some(Err(Errno::EIO)));
        assert_eq!(it.next(), None);

        let mut short = record(5, 2, b"abcdefgh");
        short[6] = 40; // name_len beyond rec_len
        assert_eq!(DirentRecords::new(&short).next(), Some(Err(Errno::EIO)));

        assert_eq!(DirentRecords::new(&[1, 2, 3]).next(), Some(Err(Errno::EIO)));
        assert_eq!(DirentRecords::new(&[]).next(), None);
    }
}
