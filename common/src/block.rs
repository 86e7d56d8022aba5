//! The block-device interface the buffer cache and file system are written against.
//!
//! A *block device* is a disk seen as an array of fixed-size **sectors** of
//! [`SECTOR_SIZE`] (512) bytes, numbered from 0 — the unit an ATA disk reads
//! and writes. Everything above this layer (the buffer cache in
//! [`crate::bcache`], ext2 in [`crate::fs`]) talks to the disk only through the
//! [`BlockDevice`] trait, so the same file-system code runs over
//!
//! - the ATA PIO driver in the monolithic kernel (which sleeps on the disk
//!   interrupt inside `read_sectors`),
//! - an IPC client in the microkernel's fs server (which calls the disk server
//!   inside `read_sectors`),
//! - [`MemDisk`], a disk in a `Vec` (tests, and RAM disks on bare metal), and
//! - `FileDisk`, a disk image file on the host (tests and host tools only).
//!
//! ## Waiting inside a block device
//!
//! The rule of the shared code is that it never blocks (`docs/design.md`,
//! "the rule of the shared code"). The block device is the one documented
//! exception (rule 8): the file system calls it synchronously so fs code
//! reads as straight-line code, like xv6's. The *implementation* of the
//! trait, which lives in each kernel, may wait. Nothing in `common/` knows
//! or cares.

use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

/// The size of one sector, the unit of every block-device transfer, in bytes.
pub const SECTOR_SIZE: usize = 512;

/// Why a block-device transfer failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockError {
    /// The buffer length is not a non-zero multiple of [`SECTOR_SIZE`].
    BadLength {
        /// The length that was passed.
        len: usize,
    },
    /// The request reaches past the last sector of the device.
    OutOfRange {
        /// The first sector requested.
        first: u64,
        /// How many sectors were requested.
        count: u64,
        /// How many sectors the device has.
        sector_count: u64,
    },
    /// The device reported a failure (a media error, a timeout, a dead disk
    /// server...). `code` is device-specific and only useful in a log.
    Device {
        /// A device-specific error code.
        code: u32,
    },
    /// The device cannot be written (a read-only image, a write-protected
    /// disk).
    ReadOnly,
}

impl fmt::Display for BlockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            BlockError::BadLength { len } => {
                write!(f, "buffer length {len} is not a multiple of {SECTOR_SIZE}")
            }
            BlockError::OutOfRange {
                first,
                count,
                sector_count,
            } => write!(
                f,
                "sectors {first}..{} are past the end of a {sector_count}-sector device",
                first.saturating_add(count)
            ),
            BlockError::Device { code } => write!(f, "device error (code {code})"),
            BlockError::ReadOnly => write!(f, "device is read-only"),
        }
    }
}

/// A disk: an array of 512-byte sectors that can be read and written.
///
/// Buffers passed to [`read_sectors`](BlockDevice::read_sectors) and
/// [`write_sectors`](BlockDevice::write_sectors) must have a length that is a
/// non-zero multiple of [`SECTOR_SIZE`]; a transfer of `buf.len() / 512`
/// sectors starts at sector `first`. Implementations should use
/// [`check_request`] to validate both rules before touching the hardware.
///
/// Implementations may wait internally (sleep on an interrupt, make an IPC
/// call): this is the one place the shared code lets its environment block.
///
/// A request may cover many sectors: the buffer cache reads ahead and
/// writes back runs of up to 32 file-system blocks (128 KiB with 4 KiB
/// blocks) in one call. An implementation whose hardware or transport has a
/// smaller limit (256 sectors per ATA command, one page per IPC message)
/// splits the request itself.
pub trait BlockDevice {
    /// The number of sectors on the device.
    fn sector_count(&self) -> u64;

    /// Reads `buf.len() / SECTOR_SIZE` sectors starting at sector `first`.
    ///
    /// # Errors
    /// - [`BlockError::BadLength`] if `buf.len()` is not a non-zero multiple
    ///   of [`SECTOR_SIZE`];
    /// - [`BlockError::OutOfRange`] if the request reaches past the end;
    /// - [`BlockError::Device`] if the hardware failed. The contents of `buf`
    ///   are then unspecified.
    fn read_sectors(&mut self, first: u64, buf: &mut [u8]) -> Result<(), BlockError>;

    /// Writes `buf.len() / SECTOR_SIZE` sectors starting at sector `first`.
    ///
    /// # Errors
    /// As for [`read_sectors`](BlockDevice::read_sectors), plus
    /// [`BlockError::ReadOnly`] if the device cannot be written.
    fn write_sectors(&mut self, first: u64, buf: &[u8]) -> Result<(), BlockError>;

    /// Makes every completed write durable (a disk cache flush). The default
    /// does nothing, which is right for devices without a volatile cache.
    ///
    /// # Errors
    /// [`BlockError::Device`] if the device failed to flush.
    fn flush(&mut self) -> Result<(), BlockError> {
        Ok(())
    }
}

/// Checks a transfer of `len` bytes starting at sector `first` against a
/// device of `sector_count` sectors, and returns the number of sectors.
///
/// # Errors
/// [`BlockError::BadLength`] or [`BlockError::OutOfRange`], as documented on
/// [`BlockDevice::read_sectors`].
pub fn check_request(sector_count: u64, first: u64, len: usize) -> Result<u64, BlockError> {
    if len == 0 || !len.is_multiple_of(SECTOR_SIZE) {
        return Err(BlockError::BadLength { len });
    }
    let count = (len / SECTOR_SIZE) as u64;
    match first.checked_add(count) {
        Some(end) if end <= sector_count => Ok(count),
        _ => Err(BlockError::OutOfRange {
            first,
            count,
            sector_count,
        }),
    }
}

/// A mutable reference to a device is a device, so code can lend a disk to a
/// file system and get it back afterwards.
impl<D: BlockDevice + ?Sized> BlockDevice for &mut D {
    fn sector_count(&self) -> u64 {
        (**self).sector_count()
    }
    fn read_sectors(&mut self, first: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        (**self).read_sectors(first, buf)
    }
    fn write_sectors(&mut self, first: u64, buf: &[u8]) -> Result<(), BlockError> {
        (**self).write_sectors(first, buf)
    }
    fn flush(&mut self) -> Result<(), BlockError> {
        (**self).flush()
    }
}

/// A disk held in memory: for tests, and usable as a RAM disk on bare metal.
#[derive(Clone)]
pub struct MemDisk {
    /// The disk contents. Invariant: `bytes.len()` is a multiple of
    /// [`SECTOR_SIZE`].
    bytes: Vec<u8>,
    /// When set, writes fail with [`BlockError::ReadOnly`].
    read_only: bool,
}

impl MemDisk {
    /// A zero-filled disk of `sectors` sectors.
    pub fn new(sectors: usize) -> MemDisk {
        MemDisk {
            bytes: vec![0; sectors * SECTOR_SIZE],
            read_only: false,
        }
    }

    /// A disk holding `bytes` (a disk image). A partial last sector is
    /// padded with zeros.
    pub fn from_bytes(mut bytes: Vec<u8>) -> MemDisk {
        let padded = bytes.len().div_ceil(SECTOR_SIZE) * SECTOR_SIZE;
        bytes.resize(padded, 0);
        MemDisk {
            bytes,
            read_only: false,
        }
    }

    /// Makes later writes fail with [`BlockError::ReadOnly`] (or succeed
    /// again), to test how the layers above handle a read-only disk.
    pub fn set_read_only(&mut self, read_only: bool) {
        self.read_only = read_only;
    }

    /// The disk contents.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The disk contents, by value.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

impl fmt::Debug for MemDisk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemDisk")
            .field("sectors", &self.sector_count())
            .field("read_only", &self.read_only)
            .finish()
    }
}

impl BlockDevice for MemDisk {
    fn sector_count(&self) -> u64 {
        (self.bytes.len() / SECTOR_SIZE) as u64
    }

    fn read_sectors(&mut self, first: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        check_request(self.sector_count(), first, buf.len())?;
        // The check above guarantees the range lies inside `bytes`.
        let start = first as usize * SECTOR_SIZE;
        buf.copy_from_slice(&self.bytes[start..start + buf.len()]);
        Ok(())
    }

    fn write_sectors(&mut self, first: u64, buf: &[u8]) -> Result<(), BlockError> {
        check_request(self.sector_count(), first, buf.len())?;
        if self.read_only {
            return Err(BlockError::ReadOnly);
        }
        let start = first as usize * SECTOR_SIZE;
        self.bytes[start..start + buf.len()].copy_from_slice(buf);
        Ok(())
    }
}

/// One event a [`RecordingDisk`] saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiskEvent {
    /// A write of `data` from sector `first` on.
    Write {
        /// The first sector written.
        first: u64,
        /// The bytes written (a multiple of [`SECTOR_SIZE`]).
        data: Vec<u8>,
    },
    /// A cache flush: every write before it is on stable storage.
    Flush,
}

/// A disk in memory that records every write and flush, for power-cut
/// tests: replaying a prefix of [`events`](RecordingDisk::events) onto the
/// starting image gives the disk as a power cut at that moment leaves it
/// (with writes reaching the disk in the order issued), and any subset of
/// the writes after the last flush gives one where the disk reordered them.
#[derive(Clone, Debug)]
pub struct RecordingDisk {
    disk: MemDisk,
    events: Vec<DiskEvent>,
}

impl RecordingDisk {
    /// Records on top of `disk`.
    pub fn new(disk: MemDisk) -> RecordingDisk {
        RecordingDisk {
            disk,
            events: Vec::new(),
        }
    }

    /// Every write and flush so far, in order.
    pub fn events(&self) -> &[DiskEvent] {
        &self.events
    }

    /// The disk as it is now (every write applied).
    pub fn disk(&self) -> &MemDisk {
        &self.disk
    }

    /// Applies `event` to an image `bytes` (a write is copied in; a flush
    /// changes nothing).
    pub fn apply(bytes: &mut [u8], event: &DiskEvent) {
        if let DiskEvent::Write { first, data } = event {
            let start = *first as usize * SECTOR_SIZE;
            bytes[start..start + data.len()].copy_from_slice(data);
        }
    }
}

impl BlockDevice for RecordingDisk {
    fn sector_count(&self) -> u64 {
        self.disk.sector_count()
    }

    fn read_sectors(&mut self, first: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        self.disk.read_sectors(first, buf)
    }

    fn write_sectors(&mut self, first: u64, buf: &[u8]) -> Result<(), BlockError> {
        self.disk.write_sectors(first, buf)?;
        self.events.push(DiskEvent::Write {
            first,
            data: buf.to_vec(),
        });
        Ok(())
    }

    fn flush(&mut self) -> Result<(), BlockError> {
        self.events.push(DiskEvent::Flush);
        Ok(())
    }
}

#[cfg(any(test, feature = "std"))]
pub use self::file_disk::FileDisk;

/// A disk image file on the host. Host-only (tests and tools).
#[cfg(any(test, feature = "std"))]
mod file_disk {
    use super::{BlockDevice, BlockError, SECTOR_SIZE, check_request};
    use std::fs::{File, OpenOptions};
    use std::io;
    use std::os::unix::fs::FileExt;
    use std::path::Path;

    /// A block device backed by a disk image file on the host.
    #[derive(Debug)]
    pub struct FileDisk {
        file: File,
        /// The image length in whole sectors, fixed when the file is opened.
        sectors: u64,
        read_only: bool,
    }

    impl FileDisk {
        /// Opens an existing image for reading and writing. A partial last
        /// sector is ignored.
        ///
        /// # Errors
        /// Whatever the host reports opening or measuring the file.
        pub fn open(path: impl AsRef<Path>) -> io::Result<FileDisk> {
            let file = OpenOptions::new().read(true).write(true).open(path)?;
            let sectors = file.metadata()?.len() / SECTOR_SIZE as u64;
            Ok(FileDisk {
                file,
                sectors,
                read_only: false,
            })
        }

        /// Opens an existing image for reading only; writes then fail with
        /// [`BlockError::ReadOnly`].
        ///
        /// # Errors
        /// Whatever the host reports opening or measuring the file.
        pub fn open_read_only(path: impl AsRef<Path>) -> io::Result<FileDisk> {
            let file = File::open(path)?;
            let sectors = file.metadata()?.len() / SECTOR_SIZE as u64;
            Ok(FileDisk {
                file,
                sectors,
                read_only: true,
            })
        }

        /// Creates (or truncates) an image of `sectors` zero sectors. The file
        /// is sparse, so a large image costs no disk space until written.
        ///
        /// # Errors
        /// Whatever the host reports creating or sizing the file.
        pub fn create(path: impl AsRef<Path>, sectors: u64) -> io::Result<FileDisk> {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(true)
                .open(path)?;
            file.set_len(sectors * SECTOR_SIZE as u64)?;
            Ok(FileDisk {
                file,
                sectors,
                read_only: false,
            })
        }
    }

    /// Host I/O errors become device errors carrying the OS error number.
    fn device_error(err: &io::Error) -> BlockError {
        BlockError::Device {
            code: err.raw_os_error().unwrap_or(0) as u32,
        }
    }

    impl BlockDevice for FileDisk {
        fn sector_count(&self) -> u64 {
            self.sectors
        }

        fn read_sectors(&mut self, first: u64, buf: &mut [u8]) -> Result<(), BlockError> {
            check_request(self.sectors, first, buf.len())?;
            self.file
                .read_exact_at(buf, first * SECTOR_SIZE as u64)
                .map_err(|e| device_error(&e))
        }

        fn write_sectors(&mut self, first: u64, buf: &[u8]) -> Result<(), BlockError> {
            check_request(self.sectors, first, buf.len())?;
            if self.read_only {
                return Err(BlockError::ReadOnly);
            }
            self.file
                .write_all_at(buf, first * SECTOR_SIZE as u64)
                .map_err(|e| device_error(&e))
        }

        fn flush(&mut self) -> Result<(), BlockError> {
            if self.read_only {
                return Ok(());
            }
            self.file.sync_data().map_err(|e| device_error(&e))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mem_disk_round_trips_sectors() {
        let mut disk = MemDisk::new(8);
        let data: Vec<u8> = (0..1024).map(|i| (i % 251) as u8).collect();
        disk.write_sectors(3, &data).unwrap();
        let mut back = vec![0; 1024];
        disk.read_sectors(3, &mut back).unwrap();
        assert_eq!(back, data);
        // Neighbouring sectors are untouched.
        let mut before = vec![0xAA; 512];
        disk.read_sectors(2, &mut before).unwrap();
        assert!(before.iter().all(|&b| b == 0));
    }

    #[test]
    fn bad_lengths_and_ranges_are_refused() {
        let mut disk = MemDisk::new(4);
        let mut odd = vec![0; 100];
        assert_eq!(
            disk.read_sectors(0, &mut odd),
            Err(BlockError::BadLength { len: 100 })
        );
        assert_eq!(
            disk.write_sectors(0, &[]),
            Err(BlockError::BadLength { len: 0 })
        );
        let mut two = vec![0; 1024];
        assert!(matches!(
            disk.read_sectors(3, &mut two),
            Err(BlockError::OutOfRange {
                first: 3,
                count: 2,
                sector_count: 4
            })
        ));
        assert!(matches!(
            disk.read_sectors(u64::MAX, &mut two),
            Err(BlockError::OutOfRange { .. })
        ));
    }

    #[test]
    fn read_only_mem_disk_refuses_writes() {
        let mut disk = MemDisk::from_bytes(vec![7; 700]);
        assert_eq!(disk.sector_count(), 2);
        disk.set_read_only(true);
        assert_eq!(disk.write_sectors(0, &[0; 512]), Err(BlockError::ReadOnly));
        let mut back = vec![0; 512];
        disk.read_sectors(1, &mut back).unwrap();
        assert_eq!(&back[..188], &[7; 188][..]);
        assert!(back[188..].iter().all(|&b| b == 0));
    }

    #[test]
    fn file_disk_round_trips_through_the_file() {
        let dir = std::env::temp_dir().join(format!("diptych-filedisk-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("disk.img");
        let mut disk = FileDisk::create(&path, 16).unwrap();
        assert_eq!(disk.sector_count(), 16);
        disk.write_sectors(15, &[0x5A; 512]).unwrap();
        disk.flush().unwrap();
        drop(disk);
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes.len(), 16 * 512);
        assert!(bytes[15 * 512..].iter().all(|&b| b == 0x5A));
        let mut disk = FileDisk::open_read_only(&path).unwrap();
        assert_eq!(disk.write_sectors(0, &[0; 512]), Err(BlockError::ReadOnly));
        assert!(matches!(
            disk.read_sectors(16, &mut [0; 512]),
            Err(BlockError::OutOfRange { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
