//! The errors the ext2 file system reports, and how they map to `errno`.
//!
//! Every fallible function in [`crate::fs`] returns [`FsError`]. Two kinds of
//! error matter most to a student:
//!
//! - errors in the *request* (no such file, not a directory, name too long,
//!   no space left...), which a kernel turns into an `errno` for the user
//!   program with [`FsError::errno`];
//! - [`FsError::Corrupt`]: something read from the disk makes no sense (a
//!   block number past the end of the disk, a directory entry whose length
//!   runs off its block...). The file system refuses to go on with that
//!   operation rather than guess, and never panics. `what` says what was
//!   wrong, `value` is the offending number, for the log.

use crate::abi::errno::Errno;
use crate::bcache::CacheError;
use core::fmt;

/// Why a file-system operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsError {
    /// No directory entry has that name (or the path is empty).
    NotFound,
    /// A path component, or the directory argument, is not a directory.
    NotDir,
    /// The operation needs a non-directory but got a directory (`unlink` of a
    /// directory, writing a directory, renaming a file over a directory).
    IsDir,
    /// The name already exists.
    Exists,
    /// `rmdir` (or `rename` over a directory) of a directory that has entries.
    NotEmpty,
    /// A name component is longer than 255 bytes.
    NameTooLong,
    /// A name is empty, `.` or `..` where a new name is needed, or contains
    /// `/` or a NUL byte.
    InvalidName,
    /// The request makes no sense: an inode number out of range or not in
    /// use, moving a directory into itself, reading a device inode, releasing
    /// an inode that was not opened...
    InvalidArgument,
    /// Hard links to directories are not allowed.
    LinkToDirectory,
    /// No free blocks are left.
    NoSpace,
    /// No free inodes are left.
    NoInodes,
    /// The write would make the file larger than ext2 can describe.
    FileTooLarge,
    /// The inode already has the most hard links ext2 allows.
    TooManyLinks,
    /// A path met more symbolic links than a lookup follows
    /// (`symlink::MAX_SYMLINKS`): most likely a loop.
    Loop,
    /// The file system is mounted read-only; `reason` says why (an unknown
    /// read-only-compatible feature, or the caller asked).
    ReadOnly {
        /// Why the file system is read-only.
        reason: &'static str,
    },
    /// The image uses an incompatible feature this code does not implement,
    /// so it refuses to mount it.
    Unsupported {
        /// The feature's name, as `dumpe2fs` prints it.
        feature: &'static str,
    },
    /// The on-disk data is inconsistent. `what` describes the problem and
    /// `value` is the offending number (a block, an inode, an offset...).
    Corrupt {
        /// What was found to be wrong.
        what: &'static str,
        /// The offending value.
        value: u64,
    },
    /// The buffer cache or the disk failed.
    Cache(CacheError),
}

impl FsError {
    /// A [`FsError::Corrupt`] with a description and the offending value.
    pub(crate) fn corrupt(what: &'static str, value: u64) -> FsError {
        FsError::Corrupt { what, value }
    }

    /// The `errno` a system call reports for this error.
    pub fn errno(self) -> Errno {
        match self {
            FsError::NotFound => Errno::ENOENT,
            FsError::NotDir => Errno::ENOTDIR,
            FsError::IsDir => Errno::EISDIR,
            FsError::Exists => Errno::EEXIST,
            FsError::NotEmpty => Errno::ENOTEMPTY,
            FsError::NameTooLong => Errno::ENAMETOOLONG,
            FsError::InvalidName | FsError::InvalidArgument => Errno::EINVAL,
            FsError::LinkToDirectory => Errno::EPERM,
            FsError::NoSpace | FsError::NoInodes => Errno::ENOSPC,
            FsError::FileTooLarge => Errno::EFBIG,
            FsError::TooManyLinks => Errno::EMLINK,
            FsError::Loop => Errno::ELOOP,
            FsError::ReadOnly { .. } => Errno::EROFS,
            FsError::Unsupported { .. } => Errno::ENODEV,
            FsError::Corrupt { .. } | FsError::Cache(_) => Errno::EIO,
        }
    }
}

impl From<CacheError> for FsError {
    fn from(err: CacheError) -> FsError {
        FsError::Cache(err)
    }
}

impl fmt::Display for FsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            FsError::ReadOnly { reason } => write!(f, "read-only file system ({reason})"),
            FsError::Unsupported { feature } => {
                write!(f, "unsupported ext2 feature `{feature}`")
            }
            FsError::Corrupt { what, value } => {
                write!(f, "corrupt file system: {what} ({value})")
            }
            FsError::Cache(err) => write!(f, "{err}"),
            other => f.write_str(other.errno().message()),
        }
    }
}

/// Shorthand for results in the file system.
pub type FsResult<T> = Result<T, FsError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map_to_errno_and_print_their_details() {
        assert_eq!(FsError::NotFound.errno(), Errno::ENOENT);
        assert_eq!(FsError::corrupt("bad rec_len", 3).errno(), Errno::EIO);
        let text = alloc::format!("{}", FsError::corrupt("bad rec_len", 3));
        assert!(text.contains("bad rec_len") && text.contains('3'));
        let text = alloc::format!("{}", FsError::Unsupported { feature: "extent" });
        assert!(text.contains("extent"));
    }
}
