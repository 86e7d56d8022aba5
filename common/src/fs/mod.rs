//! The ext2 file system (revision 1).
//!
//! Diptych stores its files in ext2, the classic Linux file system, so real
//! tools are the oracle: images are built on the host with `mke2fs -d`, and
//! `e2fsck -fn` must find them clean after anything this code does.
//!
//! ## Layers
//!
//! ```text
//!   kernel (system call) / fs server (IPC dispatch)
//!        │  lookup, read, write, create, unlink, rename, ...
//!   Ext2<D>              this module: inodes, directories, allocation
//!        │  read / modify block b
//!   BufferCache<D>       crate::bcache: LRU, write-back, pinning
//!        │  read_sectors / write_sectors
//!   D: BlockDevice       crate::block: ATA driver, IPC to the disk server, MemDisk...
//! ```
//!
//! ## Files of this module, one concept each
//!
//! | file            | concept                                                   |
//! |-----------------|-----------------------------------------------------------|
//! | `error.rs`      | [`FsError`] and its `errno` mapping                       |
//! | `bytes.rs`      | little-endian field access                                |
//! | `superblock.rs` | global parameters and feature checks                      |
//! | `group.rs`      | group descriptors, bitmaps, block and inode allocation    |
//! | `inode.rs`      | the on-disk inode, [`InodeKind`], [`Metadata`]             |
//! | `blockmap.rs`   | file block → disk block: direct and indirect blocks       |
//! | `dir.rs`        | directory entries: find, add, remove, iterate             |
//! | `path.rs`       | path lookup                                               |
//! | `file.rs`       | read, write, truncate                                     |
//! | `namespace.rs`  | create, mkdir, mknod, link, unlink, rmdir, rename         |
//! | `open.rs`       | references held by the kernel; freeing unlinked inodes     |
//! | `journal.rs`    | the ext3 (JBD2) journal: transactions, commit, recovery    |
//! | `host_tools.rs` | host only: driving `mke2fs`, `e2fsck`, `debugfs` in tests  |
//!
//! ## Using it from a kernel
//!
//! ```no_run
//! # use common::block::BlockDevice;
//! # use common::fs::{Ext2, FsError, Ino, ROOT_INO};
//! # fn example<D: BlockDevice>(disk: D, cwd: Ino) -> Result<(), FsError> {
//! let mut fs = Ext2::mount(disk, 256)?; // cache up to 256 blocks
//! let ino = fs.lookup(ROOT_INO, b"/etc/motd")?;
//! let mut buf = [0u8; 512];
//! let n = fs.read(ino, 0, &mut buf)?;
//! let (dir, name) = fs.lookup_parent(cwd, b"notes.txt")?;
//! let file = fs.create_file(dir, name)?;
//! fs.write(file, 0, &buf[..n])?;
//! fs.sync()?; // write back the cache
//! # Ok(())
//! # }
//! ```
//!
//! Inodes are named by number ([`Ino`]); every method takes `&mut self` and
//! runs to completion (the file system is single-threaded code: the
//! monolithic kernel holds one lock around it, the microkernel's fs server is
//! one thread). An inode a process has open, or uses as its working
//! directory, should be held with [`Ext2::open_inode`] and let go with
//! [`Ext2::release_inode`]: an unlinked inode is freed only when the last
//! reference goes (xv6's rule).
//!
//! ## Untrusted disks
//!
//! A disk image is input like any other. Every number read from it is
//! checked before use (block and inode numbers in range, directory entry
//! lengths, sizes, link counts, the depth of indirect blocks, cycles when
//! walking up a directory tree). Bad data yields [`FsError::Corrupt`]; no
//! image can make this code panic or loop forever.

mod blockmap;
mod bytes;
mod dir;
mod error;
mod file;
mod group;
#[cfg(any(test, feature = "std"))]
pub mod host_tools;
mod inode;
mod journal;
mod namespace;
mod open;
mod path;
mod records;
mod superblock;
mod symlink;

pub use dir::DirEntry;
pub use error::{FsError, FsResult};
pub use inode::{InodeKind, Metadata};
pub use journal::{COMMIT_INTERVAL_MS, JournalStats, JournalStatus};
pub use symlink::{FAST_SYMLINK_MAX, MAX_SYMLINKS};

use crate::bcache::{BufferCache, CacheStats};
use crate::block::{BlockDevice, SECTOR_SIZE};
use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;
use group::GroupDesc;
use journal::Journal;
use superblock::{INCOMPAT_RECOVER, SUPERBLOCK_OFFSET, SUPERBLOCK_SIZE, Superblock};

/// An inode number. Inode 0 means "no inode"; the root directory is
/// [`ROOT_INO`].
pub type Ino = u32;

/// The inode number of the root directory.
pub const ROOT_INO: Ino = 2;

/// The longest name a directory entry can hold, in bytes.
pub const NAME_MAX: usize = 255;

/// The most hard links an inode may have (Linux's `EXT2_LINK_MAX`).
pub const LINK_MAX: u16 = 32000;

/// A mounted ext2 file system on a block device `D`.
pub struct Ext2<D: BlockDevice> {
    /// All block access goes through the cache.
    cache: BufferCache<D>,
    /// The superblock; free counts are kept up to date in memory and written
    /// back by [`Ext2::sync`].
    sb: Superblock,
    /// The group descriptors, kept in memory like the superblock.
    /// Invariant: `groups.len() == sb.group_count`.
    groups: Vec<GroupDesc>,
    /// The superblock or a group descriptor changed since the last sync.
    metadata_dirty: bool,
    /// `Some(reason)` when writes are refused.
    read_only: Option<&'static str>,
    /// Inode → number of references the kernel holds
    /// ([`Ext2::open_inode`]). Invariant: no zero counts are stored.
    open_counts: BTreeMap<Ino, u32>,
    /// Seconds since 1970 stamped into inodes; supplied by the kernel.
    now: u32,
    /// The journal, when metadata changes go through it (`journal.rs`).
    journal: Option<Journal>,
    /// Why an image's journal is not used, if it has one that is not.
    journal_unused: Option<&'static str>,
}

impl<D: BlockDevice> Ext2<D> {
    /// Mounts the ext2 file system on `device`, caching up to `cache_blocks`
    /// blocks (at least 16 are used). If the image has a read-only-compatible
    /// feature this code does not implement, it is mounted read-only (see
    /// [`Ext2::read_only_reason`]).
    ///
    /// An ext3 image (`has_journal`) is journaled: its journal is replayed
    /// first if the last session did not end cleanly, `needs_recovery` is
    /// set while it is mounted, and metadata changes go through the journal
    /// (see [`Ext2::journal_status`] and `journal.rs`).
    ///
    /// # Errors
    /// - [`FsError::Unsupported`] naming an incompatible feature (such as
    ///   `extent`, `64bit`, `meta_bg`, or `needs_recovery` without a journal
    ///   this code can replay);
    /// - [`FsError::Corrupt`] if the superblock or a group descriptor is
    ///   impossible, the file system is larger than the device, or the root
    ///   inode is not a directory;
    /// - [`FsError::Cache`] if the device cannot be read.
    pub fn mount(device: D, cache_blocks: usize) -> FsResult<Ext2<D>> {
        Self::mount_inner(device, cache_blocks, None, None)
    }

    /// Mounts the file system read-only: every change is refused with
    /// [`FsError::ReadOnly`] and nothing is ever written to the device.
    ///
    /// # Errors
    /// As for [`Ext2::mount`].
    pub fn mount_read_only(device: D, cache_blocks: usize) -> FsResult<Ext2<D>> {
        Self::mount_inner(device, cache_blocks, Some("mounted read-only"), None)
    }

    /// Mounts; `recovered` is how many transactions an earlier pass of the
    /// same mount replayed, if there was one (recovery changes the disk
    /// under everything read so far, so the mount starts again from the
    /// superblock).
    fn mount_inner(
        mut device: D,
        cache_blocks: usize,
        read_only: Option<&'static str>,
        recovered: Option<u32>,
    ) -> FsResult<Ext2<D>> {
        let replayed_already = recovered.is_some();
        let mut raw = vec![0u8; SUPERBLOCK_SIZE];
        device
            .read_sectors(SUPERBLOCK_OFFSET / SECTOR_SIZE as u64, &mut raw)
            .map_err(|e| FsError::Cache(e.into()))?;
        let mut sb = Superblock::parse(&raw)?;
        let cache = BufferCache::new(device, sb.block_size, cache_blocks.max(16))?;
        if u64::from(sb.blocks_count) > cache.block_count() {
            return Err(FsError::corrupt(
                "file system is larger than the disk",
                sb.blocks_count.into(),
            ));
        }
        let read_only = read_only.or(sb.unsupported_ro_compat());
        let mut fs = Ext2 {
            cache,
            sb: sb.clone(),
            groups: Vec::new(),
            metadata_dirty: false,
            read_only,
            open_counts: BTreeMap::new(),
            now: 0,
            journal: None,
            journal_unused: None,
        };
        fs.groups = fs.load_groups()?;
        // The superblock's free counts are a summary of the descriptors';
        // trust the descriptors (as Linux does) and keep the two in step.
        sb.free_blocks_count = fs.groups.iter().map(|g| u32::from(g.free_blocks)).sum();
        sb.free_inodes_count = fs.groups.iter().map(|g| u32::from(g.free_inodes)).sum();
        if sb.free_blocks_count != fs.sb.free_blocks_count
            || sb.free_inodes_count != fs.sb.free_inodes_count
        {
            fs.metadata_dirty = true;
        }
        fs.sb = sb;
        let root = fs.read_inode(ROOT_INO)?;
        if root.kind() != Some(InodeKind::Dir) || root.links_count < 2 {
            return Err(FsError::corrupt(
                "root inode is not a directory",
                root.mode.into(),
            ));
        }
        if !fs.sb.has_journal() {
            return Ok(fs);
        }
        let needs_recovery = fs.sb.feature_incompat & INCOMPAT_RECOVER != 0;
        let loaded = match fs.load_journal(fs.sb.journal_inum) {
            // A damaged journal inode is not used, unless it must be.
            Err(FsError::Corrupt { .. }) if !needs_recovery => {
                Ok(Err("the journal inode is damaged"))
            }
            other => other,
        };
        let mut journal = match loaded? {
            Ok(journal) => journal,
            Err(_) if needs_recovery => {
                return Err(FsError::Unsupported {
                    feature: "needs_recovery",
                });
            }
            Err(reason) => {
                fs.journal_unused = Some(reason);
                return Ok(fs);
            }
        };
        if Self::journal_needs_recovery(&journal) {
            if replayed_already {
                // The replay's "journal empty" did not stick: do not loop.
                return Err(FsError::corrupt(
                    "journal still needs recovery after replay",
                    0,
                ));
            }
            if fs.read_only.is_some() {
                return Err(FsError::Unsupported {
                    feature: "needs_recovery",
                });
            }
            let replayed = fs.recover(&mut journal)?;
            let device = fs
                .cache
                .into_device()
                .map_err(|(err, _)| FsError::Cache(err))?;
            return Self::mount_inner(device, cache_blocks, read_only, Some(replayed));
        }
        if fs.read_only.is_some() {
            fs.journal_unused = Some("mounted read-only");
            return Ok(fs);
        }
        // In use from now on: a crash leaves `needs_recovery` for the next
        // mount (and for e2fsck) to see, as ext3 does.
        journal.recovered = recovered.unwrap_or(0);
        fs.sb.feature_incompat |= INCOMPAT_RECOVER;
        fs.store_superblock()?;
        fs.metadata_dirty = false;
        fs.store_groups()?;
        fs.cache.flush()?;
        fs.cache.set_journaling(true);
        fs.journal = Some(journal);
        Ok(fs)
    }

    /// Sets the time (seconds since 1970) stamped into inodes from now on.
    /// The file system has no clock of its own: time is an input.
    pub fn set_clock(&mut self, seconds_since_1970: u32) {
        self.now = seconds_since_1970;
    }

    /// `Some(reason)` if the file system refuses changes.
    pub fn read_only_reason(&self) -> Option<&'static str> {
        self.read_only
    }

    /// Bytes per block (1024 or 4096 for the images we build).
    pub fn block_size(&self) -> usize {
        self.sb.block_size
    }

    /// Free blocks and free inodes, as `df` would report them.
    pub fn free_counts(&self) -> (u32, u32) {
        (self.sb.free_blocks_count, self.sb.free_inodes_count)
    }

    /// The block device, for reading its properties (tests count the writes
    /// a recording device saw).
    pub fn device(&self) -> &D {
        self.cache.device()
    }

    /// The buffer cache's counters.
    pub fn cache_stats(&self) -> CacheStats {
        self.cache.stats()
    }

    /// Writes every change to the disk: the superblock and group descriptors
    /// (if they changed), then every dirty buffer, then a device flush.
    /// With a journal, this is a commit of the running transaction: when it
    /// returns, every operation so far survives a power cut.
    ///
    /// Inodes that are unlinked but still open are not freed by `sync`; they
    /// are freed by [`Ext2::release_inode`]. (`e2fsck` reports them as
    /// unattached inodes until then.)
    ///
    /// # Errors
    /// [`FsError::Cache`] if a write failed; the unwritten buffers stay dirty
    /// and a later `sync` retries them.
    pub fn sync(&mut self) -> FsResult<()> {
        if self.read_only.is_some() {
            return Ok(());
        }
        if self.journal.is_some() {
            return self.commit();
        }
        if self.metadata_dirty {
            self.store_superblock()?;
            self.store_groups()?;
            self.metadata_dirty = false;
        }
        self.cache.flush()?;
        Ok(())
    }

    /// Syncs and gives the device back.
    ///
    /// # Errors
    /// As for [`Ext2::sync`]; the device is lost with the error only if the
    /// final flush fails.
    pub fn unmount(mut self) -> FsResult<D> {
        if self.journal.is_some() {
            self.close_journal()?;
        }
        self.sync()?;
        self.cache
            .into_device()
            .map_err(|(err, _)| FsError::Cache(err))
    }

    /// Writes the in-memory superblock fields into its block in the cache.
    fn store_superblock(&mut self) -> FsResult<()> {
        let block_size = self.sb.block_size as u64;
        let block = SUPERBLOCK_OFFSET / block_size;
        let offset = (SUPERBLOCK_OFFSET % block_size) as usize;
        let bytes = self.cache.modify_meta(block)?;
        self.sb.store(&mut bytes[offset..offset + SUPERBLOCK_SIZE]);
        Ok(())
    }

    /// The start of an operation that may change the disk: fails with
    /// [`FsError::ReadOnly`] if changes are refused, and commits the running
    /// transaction first if it is full ([`Ext2::begin_op`]).
    fn start_op(&mut self) -> FsResult<()> {
        self.check_writable()?;
        self.begin_op()
    }

    /// Fails with [`FsError::ReadOnly`] if changes are refused. Every
    /// mutating operation calls this before doing anything.
    fn check_writable(&self) -> FsResult<()> {
        match self.read_only {
            Some(reason) => Err(FsError::ReadOnly { reason }),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::host_tools::{ScratchDir, e2fsck, mke2fs};
    use super::*;
    use crate::block::FileDisk;

    /// A fresh empty image of `size_kib` KiB in a scratch directory.
    fn fresh_image(block_size: u32, size_kib: u64) -> (ScratchDir, std::path::PathBuf) {
        let scratch = ScratchDir::new("fs-unit");
        let image = scratch.path().join("disk.img");
        mke2fs(&image, block_size, size_kib, None, &[]).unwrap();
        (scratch, image)
    }

    fn mount(image: &std::path::Path) -> Ext2<FileDisk> {
        Ext2::mount(FileDisk::open(image).unwrap(), 64).unwrap()
    }

    fn names(fs: &mut Ext2<FileDisk>, dir: Ino) -> Vec<String> {
        let mut names: Vec<String> = fs
            .list_dir(dir)
            .unwrap()
            .iter()
            .map(|e| String::from_utf8_lossy(e.name()).into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn create_write_read_and_check_with_e2fsck() {
        for block_size in [1024, 4096] {
            let (_scratch, image) = fresh_image(block_size, 8192);
            let mut fs = mount(&image);
            assert_eq!(fs.read_only_reason(), None);
            let dir = fs.mkdir(ROOT_INO, b"docs").unwrap();
            let file = fs.create_file(dir, b"hello.txt").unwrap();
            assert_eq!(fs.write(file, 0, b"hello, world").unwrap(), 12);
            assert_eq!(fs.lookup(ROOT_INO, b"/docs/hello.txt").unwrap(), file);
            assert_eq!(fs.lookup(dir, b"../docs/./hello.txt").unwrap(), file);
            let mut buf = [0u8; 64];
            assert_eq!(fs.read(file, 0, &mut buf).unwrap(), 12);
            assert_eq!(&buf[..12], b"hello, world");
            assert_eq!(names(&mut fs, dir), [".", "..", "hello.txt"]);
            assert_eq!(fs.stat(dir).unwrap().links, 2);
            assert_eq!(fs.stat(ROOT_INO).unwrap().links, 4); // ., .., lost+found, docs
            fs.unmount().unwrap();
            e2fsck(&image).unwrap();
        }
    }

    #[test]
    fn namespace_operations_keep_the_image_clean() {
        let (_scratch, image) = fresh_image(1024, 4096);
        let mut fs = mount(&image);
        let a = fs.mkdir(ROOT_INO, b"a").unwrap();
        let b = fs.mkdir(ROOT_INO, b"b").unwrap();
        let sub = fs.mkdir(a, b"sub").unwrap();
        let f = fs.create_file(sub, b"f").unwrap();
        fs.write(f, 5000, b"data after a hole").unwrap();
        fs.link(b, b"f-link", f).unwrap();
        assert_eq!(fs.stat(f).unwrap().links, 2);
        fs.rename(a, b"sub", b, b"moved").unwrap();
        assert_eq!(fs.lookup(ROOT_INO, b"/b/moved/f").unwrap(), f);
        assert_eq!(fs.lookup(sub, b"..").unwrap(), b);
        assert_eq!(fs.stat(a).unwrap().links, 2);
        assert_eq!(fs.stat(b).unwrap().links, 3);
        assert_eq!(
            fs.rename(ROOT_INO, b"b", sub, b"x"),
            Err(FsError::InvalidArgument)
        );
        assert_eq!(fs.rmdir(ROOT_INO, b"b"), Err(FsError::NotEmpty));
        let dev = fs.mknod(ROOT_INO, b"console", 4, 1).unwrap();
        let st = fs.stat(dev).unwrap();
        assert_eq!((st.kind, st.major, st.minor), (InodeKind::CharDevice, 4, 1));
        fs.unlink(b, b"f-link").unwrap();
        // A directory may replace an empty directory.
        fs.rename(b, b"moved", ROOT_INO, b"a").unwrap();
        assert_eq!(fs.lookup(ROOT_INO, b"/a").unwrap(), sub);
        assert_eq!(fs.lookup(sub, b"..").unwrap(), ROOT_INO);
        assert_eq!(fs.stat(b).unwrap().links, 2);
        fs.rmdir(ROOT_INO, b"b").unwrap();
        assert_eq!(fs.stat(ROOT_INO).unwrap().links, 4); // ., .., lost+found, a
        let mut buf = [0xFFu8; 6000];
        assert_eq!(fs.read(f, 0, &mut buf).unwrap(), 5017);
        assert!(buf[..5000].iter().all(|&x| x == 0));
        fs.unmount().unwrap();
        e2fsck(&image).unwrap();
    }
}
