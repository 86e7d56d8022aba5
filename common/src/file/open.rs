//! `open(path, flags)`: the flags ([`OpenFlags`]), the rules ([`open`]),
//! and what they decided to open ([`Opened`]).

use super::fd_table::FdTable;
use super::file_system::{FileSystem, Found};
use super::kind::FileKind;
use super::names::check_path;
use crate::abi::errno::Errno;
use crate::abi::fs::open_flags::{
    O_ACCMODE, O_APPEND, O_CREATE, O_KNOWN, O_RDONLY, O_TRUNC, O_WRONLY,
};
use crate::abi::fs::{CONSOLE_MAJOR, NULL_MAJOR};
use crate::fs::{Ino, InodeKind};

/// The flags of an `open`, checked. Only [`OpenFlags::parse`] makes one,
/// so holding one means the flags were valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenFlags {
    /// Reads are allowed (`O_RDONLY` or `O_RDWR`).
    pub readable: bool,
    /// Writes are allowed (`O_WRONLY` or `O_RDWR`).
    pub writable: bool,
    /// `O_CREATE`: create a regular file if the path names nothing.
    pub create: bool,
    /// `O_TRUNC`: empty the file (only a regular file opened for writing).
    pub truncate: bool,
    /// `O_APPEND`: every write goes to the end of the file.
    pub append: bool,
}

impl OpenFlags {
    /// Checks the `flags` argument of `open` (a 64-bit system-call argument
    /// on the mono-kernel, 32 bits in the vfs protocol). Errors: `EINVAL`
    /// for a flag outside [`O_KNOWN`] (including any bit above the 32nd)
    /// and for an access mode of 3 (both `O_WRONLY` and `O_RDWR`).
    ///
    /// A kernel checks the flags before it reads the path, so a call with
    /// bad flags *and* a bad path pointer reports `EINVAL`.
    pub fn parse(flags: u64) -> Result<OpenFlags, Errno> {
        if flags & !u64::from(O_KNOWN) != 0 {
            return Err(Errno::EINVAL);
        }
        // Only the bits of O_KNOWN are set now, so this loses nothing.
        let flags = flags as u32;
        let (readable, writable) = match flags & O_ACCMODE {
            O_RDONLY => (true, false),
            O_WRONLY => (false, true),
            O_ACCMODE => return Err(Errno::EINVAL),
            _ => (true, true), // O_RDWR
        };
        Ok(OpenFlags {
            readable,
            writable,
            create: flags & O_CREATE != 0,
            truncate: flags & O_TRUNC != 0,
            append: flags & O_APPEND != 0,
        })
    }
}

/// What [`open`] opened: the open file description a kernel installs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opened {
    /// The inode. `open` took an `open_inode` reference to it: the kernel's
    /// open file owns that reference and releases it when it is closed (or
    /// at once, if it cannot install the file after all).
    pub ino: Ino,
    /// It is the console device (a character device with
    /// [`CONSOLE_MAJOR`]), not a file or directory.
    pub console: bool,
    /// It is the null device (a character device with [`NULL_MAJOR`]).
    pub null: bool,
    /// Opened for reading.
    pub readable: bool,
    /// Opened for writing.
    pub writable: bool,
    /// Every write goes to the end (`O_APPEND`).
    pub append: bool,
}

impl Opened {
    /// The kind of open file to install: [`FileKind::Console`],
    /// [`FileKind::Null`] or [`FileKind::Inode`] (`open` never makes a pipe).
    pub fn kind<P>(&self) -> FileKind<P> {
        if self.console {
            FileKind::Console(self.ino)
        } else if self.null {
            FileKind::Null(self.ino)
        } else {
            FileKind::Inode(self.ino)
        }
    }
}

/// `open(path, flags)` for a process whose working directory is `cwd` and
/// whose descriptor table is `descriptors`; the kernel installs what it
/// returns at the lowest free descriptor.
///
/// The rules, in order:
/// 1. the path is checked ([`check_path`]: `ENOENT`, `ENAMETOOLONG`);
/// 2. a full descriptor table is `EMFILE` — before anything is looked up,
///    created or truncated, so a failed `open` changes nothing;
/// 3. the path is looked up; if it names nothing (`ENOENT`) and `O_CREATE`
///    is set, a regular file is created in its parent directory;
/// 4. a directory opened for writing is `EISDIR`; a character device with
///    the console's major number is the console, one with the null
///    device's is the null device; any other device (and a named pipe) is
///    `ENODEV`; anything else opens as an inode;
/// 5. `O_TRUNC` empties a regular file opened for writing (it is ignored
///    otherwise);
/// 6. the inode is held open (`open_inode`).
///
/// Errors are the file system's for each step (`ENOTDIR`, `EEXIST`,
/// `ENOSPC`, `EIO`...).
pub fn open<F: FileSystem + ?Sized, T>(
    fs: &mut F,
    descriptors: &FdTable<T>,
    cwd: Ino,
    path: &[u8],
    flags: OpenFlags,
) -> Result<Opened, Errno> {
    let path = check_path(path)?;
    if !descriptors.has_free() {
        return Err(Errno::EMFILE);
    }
    let found = match fs.lookup(cwd, path) {
        Ok(found) => found,
        Err(Errno::ENOENT) if flags.create => {
            let (dir, name) = fs.lookup_parent(cwd, path)?;
            let ino = fs.create_file(dir, name)?;
            // Just created: an empty regular file, no device numbers.
            Found {
                ino,
                kind: InodeKind::File,
                major: 0,
            }
        }
        Err(errno) => return Err(errno),
    };
    let (console, null) = match found.kind {
        InodeKind::Dir if flags.writable => return Err(Errno::EISDIR),
        InodeKind::CharDevice if found.major == CONSOLE_MAJOR => (true, false),
        InodeKind::CharDevice if found.major == NULL_MAJOR => (false, true),
        InodeKind::CharDevice | InodeKind::BlockDevice | InodeKind::Fifo => {
            return Err(Errno::ENODEV);
        }
        InodeKind::File | InodeKind::Dir | InodeKind::Symlink | InodeKind::Socket => (false, false),
    };
    if flags.truncate && flags.writable && found.kind == InodeKind::File {
        fs.truncate(found.ino, 0)?;
    }
    fs.open_inode(found.ino)?;
    Ok(Opened {
        ino: found.ino,
        console,
        null,
        readable: flags.readable,
        writable: flags.writable,
        append: flags.append,
    })
}
