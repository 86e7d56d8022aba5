//! File-system types user programs see: open flags, `Stat`, directory
//! entries, the descriptor limit and the device numbers (console, null).

/// Open descriptors per process: `open`, `dup` and `pipe` fail with
/// `EMFILE` when all are taken. Both kernels' descriptor tables
/// (`common::file::FdTable`) have this many slots.
pub const MAX_OPEN_FILES: usize = 16;

/// The console's device major number: opening a character device with this
/// major gives a console descriptor (on the micro-kernel, one whose reads and
/// writes the vfs server redirects to the console server). `init` creates
/// `/dev/console` with it if the disk has none.
pub const CONSOLE_MAJOR: u32 = 1;

/// The console's device minor number (not checked by `open`: every minor of
/// [`CONSOLE_MAJOR`] is the console).
pub const CONSOLE_MINOR: u32 = 0;

/// The null device's major number: reading a character device with this
/// major returns end of file at once, and writing one accepts and discards
/// every byte (`/dev/null`). Neither kernel asks the file system (or, on
/// the micro-kernel, any server but vfs) to do it. Every minor is the null
/// device.
pub const NULL_MAJOR: u32 = 3;

/// Flags for `open`. Values follow Linux so they look familiar.
pub mod open_flags {
    /// Open for reading only.
    pub const O_RDONLY: u32 = 0x000;
    /// Open for writing only.
    pub const O_WRONLY: u32 = 0x001;
    /// Open for reading and writing.
    pub const O_RDWR: u32 = 0x002;
    /// Create the file if it does not exist.
    pub const O_CREATE: u32 = 0x040;
    /// Truncate the file to length 0.
    pub const O_TRUNC: u32 = 0x200;
    /// Every write appends to the end of the file.
    pub const O_APPEND: u32 = 0x400;
    /// The mask of access-mode bits.
    pub const O_ACCMODE: u32 = 0x003;
    /// Every flag `open` understands; others are rejected with `EINVAL`.
    pub const O_KNOWN: u32 = O_WRONLY | O_RDWR | O_CREATE | O_TRUNC | O_APPEND;
}

/// Flags for `pipe2(fds, flags)` (lab `pipe`). The value follows Linux.
pub mod pipe_flags {
    /// Both ends are non-blocking: a read of an empty pipe, or a write to a
    /// full one, fails with `EAGAIN` instead of waiting.
    pub const O_NONBLOCK: u32 = 0x800;
    /// Every flag `pipe2` understands; others are rejected with `EINVAL`.
    pub const PIPE2_KNOWN: u32 = O_NONBLOCK;
}

/// What kind of object an inode is.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileType {
    /// A directory.
    Dir = 1,
    /// A regular file.
    File = 2,
    /// A character device (such as `/dev/console`).
    Device = 3,
    /// A pipe (only ever seen through `fstat` on a pipe fd).
    Pipe = 4,
    /// A symbolic link (shown by `ls`; not followed).
    Symlink = 5,
}

/// What `fstat` fills in.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stat {
    /// Device number of the file system (0: the root disk).
    pub dev: u32,
    /// Inode number.
    pub ino: u32,
    /// [`FileType`] as a number.
    pub kind: u32,
    /// Number of hard links.
    pub nlink: u32,
    /// Size in bytes.
    pub size: u64,
    /// For devices: major number.
    pub major: u32,
    /// For devices: minor number.
    pub minor: u32,
}

/// Bytes of a [`Stat`] in memory (`repr(C)`, no padding).
pub const STAT_BYTES: usize = 32;

const _: () = assert!(core::mem::size_of::<Stat>() == STAT_BYTES);

impl Stat {
    /// The `Stat` as it lies in a user program's memory (little-endian, in
    /// field order): what a kernel or a server copies out for `fstat`.
    pub fn to_bytes(&self) -> [u8; STAT_BYTES] {
        let mut bytes = [0u8; STAT_BYTES];
        let fields: [&[u8]; 7] = [
            &self.dev.to_le_bytes(),
            &self.ino.to_le_bytes(),
            &self.kind.to_le_bytes(),
            &self.nlink.to_le_bytes(),
            &self.size.to_le_bytes(),
            &self.major.to_le_bytes(),
            &self.minor.to_le_bytes(),
        ];
        let mut at = 0;
        for field in fields {
            bytes[at..at + field.len()].copy_from_slice(field);
            at += field.len();
        }
        bytes
    }

    /// The `Stat` in `bytes` (the inverse of [`Stat::to_bytes`]).
    pub fn from_bytes(bytes: &[u8; STAT_BYTES]) -> Stat {
        let u32_at = |at: usize| {
            u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
        };
        let mut size = [0u8; 8];
        size.copy_from_slice(&bytes[16..24]);
        Stat {
            dev: u32_at(0),
            ino: u32_at(4),
            kind: u32_at(8),
            nlink: u32_at(12),
            size: u64::from_le_bytes(size),
            major: u32_at(24),
            minor: u32_at(28),
        }
    }
}

/// The fixed header of one record returned by `getdents`; `name_len` bytes of
/// name follow it, and the record is padded to `rec_len` bytes.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DirentHeader {
    /// Inode number of the entry.
    pub ino: u32,
    /// Length of this whole record, header + name + padding (a multiple of 8).
    pub rec_len: u16,
    /// Length of the name in bytes.
    pub name_len: u8,
    /// [`FileType`] as a number (0 if unknown).
    pub kind: u8,
}

/// The size of [`DirentHeader`] in bytes.
pub const DIRENT_HEADER_SIZE: usize = core::mem::size_of::<DirentHeader>();
