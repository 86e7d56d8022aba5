//! Error codes returned by system calls and by servers.
//!
//! The values are Linux's, so they are familiar and `strerror`-style names
//! can be looked up anywhere. A system call returns `-(errno as i64)`.

/// An error a system call or a server reports to a user program.
#[repr(i64)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Errno {
    /// Operation not permitted.
    EPERM = 1,
    /// No such file or directory.
    ENOENT = 2,
    /// No such process.
    ESRCH = 3,
    /// Interrupted (the process was killed while waiting).
    EINTR = 4,
    /// Input/output error (the disk failed, or the file system is corrupt).
    EIO = 5,
    /// Argument list too long.
    E2BIG = 7,
    /// Not an executable this kernel can load.
    ENOEXEC = 8,
    /// Bad file descriptor.
    EBADF = 9,
    /// No child processes.
    ECHILD = 10,
    /// Try again (the operation would block and the caller asked not to).
    EAGAIN = 11,
    /// Out of memory.
    ENOMEM = 12,
    /// Permission denied.
    EACCES = 13,
    /// Bad address: a user pointer that is not mapped, or not writable.
    EFAULT = 14,
    /// Device or resource busy.
    EBUSY = 16,
    /// File exists.
    EEXIST = 17,
    /// Cross-device link.
    EXDEV = 18,
    /// No such device.
    ENODEV = 19,
    /// Not a directory.
    ENOTDIR = 20,
    /// Is a directory.
    EISDIR = 21,
    /// Invalid argument.
    EINVAL = 22,
    /// Too many open files in the system.
    ENFILE = 23,
    /// Too many open files in this process.
    EMFILE = 24,
    /// File too large.
    EFBIG = 27,
    /// No space left on device.
    ENOSPC = 28,
    /// Illegal seek.
    ESPIPE = 29,
    /// Read-only file system.
    EROFS = 30,
    /// Too many links.
    EMLINK = 31,
    /// Broken pipe: writing to a pipe with no readers.
    EPIPE = 32,
    /// File name too long.
    ENAMETOOLONG = 36,
    /// No such system call.
    ENOSYS = 38,
    /// Directory not empty.
    ENOTEMPTY = 39,
    /// Too many symbolic links met while resolving a path (a loop).
    ELOOP = 40,
}

impl Errno {
    /// Every error code, for decoding.
    pub const ALL: [Errno; 32] = {
        use Errno::*;
        [
            EPERM,
            ENOENT,
            ESRCH,
            EINTR,
            EIO,
            E2BIG,
            ENOEXEC,
            EBADF,
            ECHILD,
            EAGAIN,
            ENOMEM,
            EACCES,
            EFAULT,
            EBUSY,
            EEXIST,
            EXDEV,
            ENODEV,
            ENOTDIR,
            EISDIR,
            EINVAL,
            ENFILE,
            EMFILE,
            EFBIG,
            ENOSPC,
            ESPIPE,
            EROFS,
            EMLINK,
            EPIPE,
            ENAMETOOLONG,
            ENOSYS,
            ENOTEMPTY,
            ELOOP,
        ]
    };

    /// Decodes a positive error number.
    pub fn from_code(code: i64) -> Option<Errno> {
        Self::ALL.iter().copied().find(|e| *e as i64 == code)
    }

    /// Decodes a system-call return value: `Ok(value)` if it is `>= 0`,
    /// otherwise the error (unknown codes become `EIO`).
    pub fn from_return(ret: i64) -> Result<u64, Errno> {
        if ret >= 0 {
            Ok(ret as u64)
        } else {
            Err(Self::from_code(-ret).unwrap_or(Errno::EIO))
        }
    }

    /// The value a system call returns for this error.
    pub fn as_return(self) -> i64 {
        -(self as i64)
    }

    /// A short human-readable description, for error messages.
    pub fn message(self) -> &'static str {
        use Errno::*;
        match self {
            EPERM => "operation not permitted",
            ENOENT => "no such file or directory",
            ESRCH => "no such process",
            EINTR => "interrupted",
            EIO => "input/output error",
            E2BIG => "argument list too long",
            ENOEXEC => "not an executable",
            EBADF => "bad file descriptor",
            ECHILD => "no child processes",
            EAGAIN => "try again",
            ENOMEM => "out of memory",
            EACCES => "permission denied",
            EFAULT => "bad address",
            EBUSY => "device busy",
            EEXIST => "file exists",
            EXDEV => "cross-device link",
            ENODEV => "no such device",
            ENOTDIR => "not a directory",
            EISDIR => "is a directory",
            EINVAL => "invalid argument",
            ENFILE => "too many open files in system",
            EMFILE => "too many open files",
            EFBIG => "file too large",
            ENOSPC => "no space left on device",
            ESPIPE => "illegal seek",
            EROFS => "read-only file system",
            EMLINK => "too many links",
            EPIPE => "broken pipe",
            ENAMETOOLONG => "file name too long",
            ENOSYS => "no such system call",
            ENOTEMPTY => "directory not empty",
            ELOOP => "too many levels of symbolic links",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_values_round_trip() {
        for e in Errno::ALL {
            assert_eq!(Errno::from_return(e.as_return()), Err(e));
            assert!(!e.message().is_empty());
        }
        assert_eq!(Errno::from_return(7), Ok(7));
        assert_eq!(Errno::from_return(-9999), Err(Errno::EIO));
    }
}
