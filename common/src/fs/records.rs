//! Directory listings in the user ABI's format: what `getdents` returns.
//!
//! Both kernels answer `getdents(fd, buf, len)` with the same byte layout
//! (`abi::fs::DirentHeader` followed by the name, each record padded to a
//! multiple of 8 bytes). The monolithic kernel calls this from its system
//! call, the microkernel's fs server from its request handler, so the format
//! is produced in one place.

use super::{Ext2, Ino};
use crate::abi::errno::Errno;
use crate::abi::fs::{DIRENT_HEADER_SIZE, DirentHeader};
use crate::block::BlockDevice;
use alloc::vec::Vec;

impl<D: BlockDevice> Ext2<D> {
    /// Appends to `out` the `getdents` records of directory `dir`, starting
    /// at `cursor` (0, or a value this function returned), using at most
    /// `max_len` bytes; returns the cursor after the last record copied
    /// (unchanged at the end of the directory, with nothing appended).
    ///
    /// Errors: `EINVAL` if not even one record fits in `max_len`; otherwise
    /// the errno of the underlying `read_dir` failure (`ENOTDIR`, `EIO`...).
    pub fn read_dir_records(
        &mut self,
        dir: Ino,
        mut cursor: u64,
        max_len: usize,
        out: &mut Vec<u8>,
    ) -> Result<u64, Errno> {
        let start = out.len();
        while let Some((entry, next)) = self.read_dir(dir, cursor).map_err(|e| e.errno())? {
            let name = entry.name();
            let rec_len = (DIRENT_HEADER_SIZE + name.len()).next_multiple_of(8);
            if out.len() - start + rec_len > max_len {
                if out.len() == start {
                    return Err(Errno::EINVAL);
                }
                break;
            }
            let header = DirentHeader {
                ino: entry.ino,
                rec_len: rec_len as u16,
                name_len: name.len() as u8,
                kind: entry.kind.map_or(0, |kind| kind.abi_type() as u8),
            };
            out.extend_from_slice(&header.ino.to_le_bytes());
            out.extend_from_slice(&header.rec_len.to_le_bytes());
            out.push(header.name_len);
            out.push(header.kind);
            out.extend_from_slice(name);
            out.resize(start + (out.len() - start).next_multiple_of(8), 0);
            cursor = next;
        }
        Ok(cursor)
    }
}

#[cfg(test)]
mod tests {
    use crate::abi::errno::Errno;
    use crate::abi::fs::DIRENT_HEADER_SIZE;
    use crate::block::MemDisk;
    use crate::fs::{Ext2, ROOT_INO};
    use alloc::vec::Vec;

    fn fresh_fs() -> Ext2<MemDisk> {
        let image = crate::fs::host_tools::mke2fs_bytes(1024, 1024, &[]).expect("mke2fs");
        Ext2::mount(MemDisk::from_bytes(image), 64).expect("mount")
    }

    #[test]
    fn records_list_every_entry_and_resume_at_the_cursor() {
        let mut fs = fresh_fs();
        for name in [&b"alpha"[..], b"b", b"a-rather-long-name-for-a-file"] {
            fs.create_file(ROOT_INO, name).unwrap();
        }
        let mut names = Vec::new();
        let mut cursor = 0;
        loop {
            let mut out = Vec::new();
            // Room for about one record per call: exercises resuming.
            cursor = fs.read_dir_records(ROOT_INO, cursor, 48, &mut out).unwrap();
            if out.is_empty() {
                break;
            }
            let mut at = 0;
            while at < out.len() {
                let rec_len = u16::from_le_bytes([out[at + 4], out[at + 5]]) as usize;
                let name_len = out[at + 6] as usize;
                assert_eq!(rec_len % 8, 0);
                assert!(DIRENT_HEADER_SIZE + name_len <= rec_len);
                names.push(
                    out[at + DIRENT_HEADER_SIZE..at + DIRENT_HEADER_SIZE + name_len].to_vec(),
                );
                at += rec_len;
            }
        }
        for expected in [
            &b"."[..],
            b"..",
            b"lost+found",
            b"alpha",
            b"b",
            b"a-rather-long-name-for-a-file",
        ] {
            assert!(
                names.iter().any(|n| n == expected),
                "{:?} missing",
                core::str::from_utf8(expected)
            );
        }
    }

    #[test]
    fn a_buffer_too_small_for_one_record_is_einval() {
        let mut fs = fresh_fs();
        let mut out = Vec::new();
        assert_eq!(
            fs.read_dir_records(ROOT_INO, 0, 4, &mut out),
            Err(Errno::EINVAL)
        );
        assert!(out.is_empty());
    }
}
