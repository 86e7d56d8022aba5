//! File contents: read, write and truncate.
//!
//! A read or write is cut into pieces, one per file block: for each piece
//! the block map ([`super::blockmap`]) says which disk block to use, and the
//! buffer cache supplies its bytes. Holes (never-written blocks) read as
//! zeros; writing into a hole allocates the block (and any indirect blocks
//! on the way to it). A write past the end extends the file; the gap, if
//! any, is a hole.
//!
//! Invariant kept by `write` and `truncate`: every byte of a file's blocks
//! past its size is zero, so extending a file never exposes old data.

use super::blockmap::Leaf;
use super::error::{FsError, FsResult};
use super::inode::{Inode, InodeKind};
use super::superblock::RO_COMPAT_LARGE_FILE;
use super::{Ext2, Ino};
use crate::block::BlockDevice;
use crate::trace::{self, Kind, Shared};

impl<D: BlockDevice> Ext2<D> {
    /// Reads up to `buf.len()` bytes of file `ino` from byte `offset` and
    /// returns how many were read (0 at or past the end). Works on regular
    /// files and symbolic links (whose contents are their target).
    ///
    /// # Errors
    /// - [`FsError::IsDir`] for a directory (use [`Ext2::read_dir`]);
    /// - [`FsError::InvalidArgument`] for a device, fifo or socket (the
    ///   kernel handles those), or an inode not in use;
    /// - [`FsError::Corrupt`], [`FsError::Cache`].
    pub fn read(&mut self, ino: Ino, offset: u64, buf: &mut [u8]) -> FsResult<usize> {
        trace::point(
            Kind::Enter,
            Shared::FsRead as u64,
            u64::from(ino),
            buf.len() as u64,
        );
        let result = self.read_file(ino, offset, buf);
        trace::point(Kind::Exit, Shared::FsRead as u64, trace_result(&result), 0);
        result
    }

    /// [`Ext2::read`], without its trace points.
    pub(super) fn read_file(&mut self, ino: Ino, offset: u64, buf: &mut [u8]) -> FsResult<usize> {
        let (inode, kind) = self.read_live_inode(ino)?;
        match kind {
            InodeKind::File => {}
            InodeKind::Symlink if !inode.has_block_pointers(self.sb.block_size) => {
                return Ok(read_fast_symlink(&inode, offset, buf));
            }
            InodeKind::Symlink => {}
            InodeKind::Dir => return Err(FsError::IsDir),
            _ => return Err(FsError::InvalidArgument),
        }
        if offset >= inode.size {
            return Ok(0);
        }
        let len = buf
            .len()
            .min((inode.size - offset).min(usize::MAX as u64) as usize);
        let block_size = self.sb.block_size;
        let mut done = 0;
        while done < len {
            let position = offset + done as u64;
            let within = (position % block_size as u64) as usize;
            let chunk = (block_size - within).min(len - done);
            let target = &mut buf[done..done + chunk];
            match self.map_block(&inode, position / block_size as u64)? {
                Some(block) => {
                    target.copy_from_slice(&self.cache.read(block.into())?[within..within + chunk])
                }
                None => target.fill(0),
            }
            done += chunk;
        }
        Ok(len)
    }

    /// Writes `data` to file `ino` at byte `offset`, extending the file if
    /// needed, and returns how many bytes were written. If the disk fills up
    /// part-way, the bytes written so far are kept and counted (a short
    /// write); only a write that could store nothing is an error.
    ///
    /// # Errors
    /// - [`FsError::IsDir`] for a directory; [`FsError::InvalidArgument`] for
    ///   anything but a regular file, or an inode not in use;
    /// - [`FsError::FileTooLarge`] if `offset` is at or past the largest
    ///   possible size;
    /// - [`FsError::NoSpace`] if not even one byte fit;
    /// - [`FsError::ReadOnly`], [`FsError::Corrupt`], [`FsError::Cache`].
    pub fn write(&mut self, ino: Ino, offset: u64, data: &[u8]) -> FsResult<usize> {
        trace::point(
            Kind::Enter,
            Shared::FsWrite as u64,
            u64::from(ino),
            data.len() as u64,
        );
        let result = self.write_file(ino, offset, data);
        trace::point(Kind::Exit, Shared::FsWrite as u64, trace_result(&result), 0);
        result
    }

    /// [`Ext2::write`], without its trace points.
    fn write_file(&mut self, ino: Ino, offset: u64, data: &[u8]) -> FsResult<usize> {
        self.start_op()?;
        let (mut inode, kind) = self.read_live_inode(ino)?;
        match kind {
            InodeKind::File => {}
            InodeKind::Dir => return Err(FsError::IsDir),
            _ => return Err(FsError::InvalidArgument),
        }
        if data.is_empty() {
            return Ok(0);
        }
        let max = self.max_file_size();
        if offset >= max {
            return Err(FsError::FileTooLarge);
        }
        let len = data
            .len()
            .min((max - offset.min(max)).min(usize::MAX as u64) as usize);
        let result = self.write_blocks(ino, &mut inode, offset, &data[..len]);
        // Whatever happened, blocks may have been allocated: store the inode.
        let written = match result {
            Ok(n) => n,
            Err((0, err)) => {
                self.write_inode(ino, &inode)?;
                return Err(err);
            }
            Err((n, _)) => n,
        };
        let end = offset + written as u64;
        if end > inode.size {
            inode.size = end;
            if end > i32::MAX as u64 && self.sb.feature_ro_compat & RO_COMPAT_LARGE_FILE == 0 {
                self.sb.feature_ro_compat |= RO_COMPAT_LARGE_FILE;
                self.metadata_dirty = true;
            }
        }
        inode.mtime = self.now;
        inode.ctime = self.now;
        self.write_inode(ino, &inode)?;
        Ok(written)
    }

    /// The block-by-block loop of [`write`](Self::write). On error returns
    /// how many bytes were written before it.
    pub(super) fn write_blocks(
        &mut self,
        ino: Ino,
        inode: &mut Inode,
        offset: u64,
        data: &[u8],
    ) -> Result<usize, (usize, FsError)> {
        let block_size = self.sb.block_size;
        let group = (ino - 1) / self.sb.inodes_per_group;
        let mut goal = self.sb.group_first_block(group);
        let mut done = 0;
        while done < data.len() {
            let position = offset + done as u64;
            let within = (position % block_size as u64) as usize;
            let chunk = (block_size - within).min(data.len() - done);
            let file_block = position / block_size as u64;
            let block = self
                .map_block_alloc(inode, file_block, goal, Leaf::Data)
                .map_err(|e| (done, e))?;
            // A whole-block write need not read the old contents.
            let bytes = if chunk == block_size {
                self.cache.zeroed(block.into())
            } else {
                self.cache.modify(block.into())
            }
            .map_err(|e| (done, e.into()))?;
            bytes[within..within + chunk].copy_from_slice(&data[done..done + chunk]);
            goal = block.saturating_add(1);
            done += chunk;
        }
        Ok(done)
    }

    /// Sets the size of file `ino` to `size`. Shrinking frees the blocks
    /// past the new end (including indirect blocks) and zeroes the rest of
    /// the last block; growing leaves a hole that reads as zeros.
    ///
    /// # Errors
    /// - [`FsError::IsDir`]; [`FsError::InvalidArgument`] for anything but a
    ///   regular file, or an inode not in use;
    /// - [`FsError::FileTooLarge`] if `size` is larger than ext2 allows;
    /// - [`FsError::ReadOnly`], [`FsError::Corrupt`], [`FsError::Cache`].
    pub fn truncate(&mut self, ino: Ino, size: u64) -> FsResult<()> {
        self.start_op()?;
        let (mut inode, kind) = self.read_live_inode(ino)?;
        match kind {
            InodeKind::File => {}
            InodeKind::Dir => return Err(FsError::IsDir),
            _ => return Err(FsError::InvalidArgument),
        }
        if size > self.max_file_size() {
            return Err(FsError::FileTooLarge);
        }
        if size < inode.size {
            let block_size = self.sb.block_size as u64;
            let keep_blocks = size.div_ceil(block_size);
            let freed = self.free_blocks_from(&mut inode, keep_blocks);
            if freed.is_ok() && !size.is_multiple_of(block_size) {
                // Zero the tail of the new last block (the invariant above).
                // Through the journal: done in place before the commit, a
                // power cut could leave the old size over zeroed bytes.
                if let Some(block) = self.map_block(&inode, size / block_size)? {
                    let within = (size % block_size) as usize;
                    self.cache.modify_meta(block.into())?[within..].fill(0);
                }
            }
            inode.size = size;
            self.write_inode(ino, &inode)?;
            freed?;
        } else {
            inode.size = size;
        }
        if size > i32::MAX as u64 && self.sb.feature_ro_compat & RO_COMPAT_LARGE_FILE == 0 {
            self.sb.feature_ro_compat |= RO_COMPAT_LARGE_FILE;
            self.metadata_dirty = true;
        }
        inode.mtime = self.now;
        inode.ctime = self.now;
        self.write_inode(ino, &inode)
    }
}

/// Reads the target of a short symlink, stored in `i_block` itself.
fn read_fast_symlink(inode: &Inode, offset: u64, buf: &mut [u8]) -> usize {
    let mut target = [0u8; 60];
    for (i, pointer) in inode.block.iter().enumerate() {
        target[i * 4..i * 4 + 4].copy_from_slice(&pointer.to_le_bytes());
    }
    let size = (inode.size as usize).min(target.len());
    let start = (offset.min(size as u64)) as usize;
    let n = buf.len().min(size - start);
    buf[..n].copy_from_slice(&target[start..start + n]);
    n
}

/// What a trace's `Exit` event says of a byte count: the count, or
/// `u64::MAX` for an error.
fn trace_result(result: &FsResult<usize>) -> u64 {
    result.as_ref().map_or(u64::MAX, |&count| count as u64)
}

#[cfg(test)]
mod tests {
    use super::super::host_tools::{e2fsck_bytes, mke2fs_bytes};
    use super::super::{Ext2, FsError, ROOT_INO};
    use crate::block::MemDisk;

    fn fresh(size_kib: u64) -> Ext2<MemDisk> {
        let image = mke2fs_bytes(1024, size_kib, &[]).unwrap();
        Ext2::mount(MemDisk::from_bytes(image), 32).unwrap()
    }

    #[test]
    fn holes_read_as_zeros_and_reads_stop_at_the_end() {
        let mut fs = fresh(1024);
        let file = fs.create_file(ROOT_INO, b"f").unwrap();
        fs.write(file, 10_000, b"xyz").unwrap();
        let mut buf = [0xAAu8; 20_000];
        assert_eq!(fs.read(file, 0, &mut buf).unwrap(), 10_003);
        assert!(buf[..10_000].iter().all(|&b| b == 0));
        assert_eq!(&buf[10_000..10_003], b"xyz");
        assert_eq!(fs.read(file, 10_003, &mut buf).unwrap(), 0);
        assert_eq!(fs.read(file, u64::MAX, &mut buf).unwrap(), 0);
        // Only the written block (and no indirect block) was allocated.
        assert_eq!(fs.stat(file).unwrap().sectors, 2);
        assert_eq!(fs.write(file, 0, b"").unwrap(), 0);
        assert_eq!(fs.stat(file).unwrap().size, 10_003);
    }

    #[test]
    fn a_full_disk_gives_a_short_write_then_no_space() {
        let mut fs = fresh(256);
        let file = fs.create_file(ROOT_INO, b"big").unwrap();
        let data = vec![0x42u8; 1 << 20];
        let written = fs.write(file, 0, &data).unwrap();
        assert!(
            written > 100 * 1024 && written < data.len(),
            "wrote {written}"
        );
        assert_eq!(fs.write(file, written as u64, &data), Err(FsError::NoSpace));
        assert_eq!(fs.stat(file).unwrap().size, written as u64);
        // A directory needs a block: refused, and its inode is given back.
        let free_inodes = fs.free_counts().1;
        assert_eq!(fs.mkdir(ROOT_INO, b"d"), Err(FsError::NoSpace));
        assert_eq!(fs.free_counts(), (0, free_inodes));
        // An empty file needs none.
        fs.create_file(ROOT_INO, b"empty").unwrap();
        // Freeing space makes writing possible again, and the image is sound.
        fs.truncate(file, 1000).unwrap();
        assert_eq!(fs.write(file, 1000, &data[..50_000]).unwrap(), 50_000);
        let disk = fs.unmount().unwrap();
        e2fsck_bytes(disk.as_bytes()).unwrap();
    }

    #[test]
    fn wrong_kinds_and_read_only_mounts_are_refused() {
        let image = mke2fs_bytes(1024, 512, &[]).unwrap();
        let mut fs = Ext2::mount(MemDisk::from_bytes(image.clone()), 32).unwrap();
        let dir = fs.mkdir(ROOT_INO, b"d").unwrap();
        let dev = fs.mknod(ROOT_INO, b"tty", 4, 0).unwrap();
        assert_eq!(fs.write(dir, 0, b"x"), Err(FsError::IsDir));
        assert_eq!(fs.read(dir, 0, &mut [0; 4]), Err(FsError::IsDir));
        assert_eq!(fs.write(dev, 0, b"x"), Err(FsError::InvalidArgument));
        assert_eq!(fs.truncate(dev, 0), Err(FsError::InvalidArgument));
        assert_eq!(fs.read(0, 0, &mut [0; 4]), Err(FsError::InvalidArgument));
        assert_eq!(
            fs.read(99_999, 0, &mut [0; 4]),
            Err(FsError::InvalidArgument)
        );
        let file = fs.create_file(ROOT_INO, b"f").unwrap();
        assert_eq!(fs.truncate(file, 1 << 50), Err(FsError::FileTooLarge));
        assert_eq!(fs.write(file, 1 << 50, b"x"), Err(FsError::FileTooLarge));

        let mut disk = MemDisk::from_bytes(image);
        disk.set_read_only(true);
        let mut fs = Ext2::mount_read_only(disk, 32).unwrap();
        assert!(matches!(
            fs.create_file(ROOT_INO, b"x"),
            Err(FsError::ReadOnly { .. })
        ));
        assert!(fs.lookup(ROOT_INO, b"/lost+found").is_ok());
        fs.sync().unwrap();
    }
}
