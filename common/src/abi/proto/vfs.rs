//! The vfs server's protocol (`micro-kernel/user/vfs`): file descriptors,
//! open files, pipes and working directories, for user programs (through
//! `ulib`'s micro back end) and for the proc server.
//!
//! The caller is the sender thread id the kernel delivers, never a field in
//! the message: vfs maps it to a process with the table proc keeps it told
//! about (`ProcessCreated`, `ProcessExited`). Only the proc thread may send
//! the last five requests.
//!
//! | request          | words               | bytes           | reply words (`REPLY_OK`)   |
//! |------------------|---------------------|-----------------|----------------------------|
//! | `Open`           | flags               | path            | fd                         |
//! | `Read`           | fd, len (≤ 4096)    | —               | the bytes (none at end of file); word 0 = 1 for a file (read on while replies are full), absent for a pipe |
//! | `Write`          | fd                  | data (≤ 4096)   | bytes written              |
//! | `Close`          | fd                  | —               | —                          |
//! | `Dup`            | fd                  | —               | new fd                     |
//! | `Pipe`           | —                   | —               | read fd, write fd          |
//! | `Fstat`          | fd                  | —               | a `Stat` in 4 words ([`stat_to_words`]) |
//! | `Getdents`       | fd, len (≤ 4096)    | —               | — (the records)            |
//! | `Chdir`          | —                   | path            | —                          |
//! | `Mkdir`          | —                   | path            | —                          |
//! | `Mknod`          | major, minor        | path            | —                          |
//! | `Unlink`         | —                   | path            | —                          |
//! | `Link`           | old path length     | old ++ new path | —                          |
//! | `Rename`         | old path length     | old ++ new path | —                          |
//! | `ProcessCreated` | pid, thread, parent | —               | —                          |
//! | `ProcessExited`  | pid                 | —               | —                          |
//! | `ExecOpen`       | pid                 | path            | handle, size               |
//! | `ExecRead`       | handle, offset, len | —               | — (the bytes)              |
//! | `ExecClose`      | handle              | —               | —                          |
//!
//! `Read` and `Write` of a console descriptor are answered with
//! `REPLY_REDIRECT` (see `reply.rs`) naming the console server: the client
//! sends the same request there (`console.rs`). vfs thus never waits for
//! the console. A `Read` of an empty pipe, or a `Write` to a full one, is
//! *parked*: vfs replies when the pipe lets it proceed.
//!
//! Numbers are checked as the monolithic kernel checks its system-call
//! arguments: flags, major and minor must fit 32 bits (`EINVAL`); a
//! descriptor is any `u64` (negative ones arrive sign-extended) and the
//! server answers `EBADF` for one it does not know.

use super::{ProtoError, Wire};
use crate::abi::fs::Stat;

/// First label of this protocol.
pub const LABEL_BASE: u64 = 0x400;

/// The most bytes one `Read`, `Write`, `Getdents` or `ExecRead` moves.
pub use super::MAX_TRANSFER;

/// A request to the vfs server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VfsRequest<'a> {
    /// `open(path, flags)`.
    Open { flags: u32, path: &'a [u8] },
    /// `read(fd, len)`.
    Read { fd: u64, len: u64 },
    /// `write(fd, data)`.
    Write { fd: u64, data: &'a [u8] },
    /// `close(fd)`.
    Close { fd: u64 },
    /// `dup(fd)`.
    Dup { fd: u64 },
    /// `pipe()`.
    Pipe,
    /// `fstat(fd)`.
    Fstat { fd: u64 },
    /// `getdents(fd, len)`.
    Getdents { fd: u64, len: u64 },
    /// `chdir(path)`.
    Chdir { path: &'a [u8] },
    /// `mkdir(path)`.
    Mkdir { path: &'a [u8] },
    /// `mknod(path, major, minor)`.
    Mknod {
        major: u32,
        minor: u32,
        path: &'a [u8],
    },
    /// `unlink(path)`.
    Unlink { path: &'a [u8] },
    /// `link(old, new)`: `paths` is old ++ new, `old_len` bytes of old.
    Link { paths: &'a [u8], old_len: usize },
    /// `rename(old, new)`, encoded like `Link`.
    Rename { paths: &'a [u8], old_len: usize },
    /// proc: process `pid` runs as `thread`; `parent` 0 for the first.
    ProcessCreated { pid: u64, thread: u64, parent: u64 },
    /// proc: process `pid` is gone.
    ProcessExited { pid: u64 },
    /// proc: open `path` (relative to `pid`'s cwd) to load it.
    ExecOpen { pid: u64, path: &'a [u8] },
    /// proc: read from an exec handle.
    ExecRead { handle: u64, offset: u64, len: u64 },
    /// proc: done loading.
    ExecClose { handle: u64 },
}

const COUNT: u64 = 19;

fn split(wire: &Wire<'_>, bytes: &[u8]) -> Result<usize, ProtoError> {
    usize::try_from(wire.word(0)?)
        .ok()
        .filter(|&split| split <= bytes.len())
        .ok_or(ProtoError::BadValue(0))
}

impl<'a> VfsRequest<'a> {
    /// The message for this request.
    pub fn to_wire(&self) -> Wire<'a> {
        use VfsRequest::*;
        let (index, words, bytes): (u64, &[u64], Option<&'a [u8]>) = match *self {
            Open { flags, path } => (0, &[flags as u64], Some(path)),
            Read { fd, len } => (1, &[fd, len], None),
            Write { fd, data } => (2, &[fd], Some(data)),
            Close { fd } => (3, &[fd], None),
            Dup { fd } => (4, &[fd], None),
            Pipe => (5, &[], None),
            Fstat { fd } => (6, &[fd], None),
            Getdents { fd, len } => (7, &[fd, len], None),
            Chdir { path } => (8, &[], Some(path)),
            Mkdir { path } => (9, &[], Some(path)),
            Mknod { major, minor, path } => (10, &[major as u64, minor as u64], Some(path)),
            Unlink { path } => (11, &[], Some(path)),
            Link { paths, old_len } => (12, &[old_len as u64], Some(paths)),
            Rename { paths, old_len } => (13, &[old_len as u64], Some(paths)),
            ProcessCreated {
                pid,
                thread,
                parent,
            } => (14, &[pid, thread, parent], None),
            ProcessExited { pid } => (15, &[pid], None),
            ExecOpen { pid, path } => (16, &[pid], Some(path)),
            ExecRead {
                handle,
                offset,
                len,
            } => (17, &[handle, offset, len], None),
            ExecClose { handle } => (18, &[handle], None),
        };
        let wire = Wire::new(LABEL_BASE + index, words);
        match bytes {
            Some(bytes) => wire.with_bytes(bytes),
            None => wire,
        }
    }

    /// Decodes and validates a request.
    pub fn from_wire(wire: &Wire<'a>) -> Result<VfsRequest<'a>, ProtoError> {
        use VfsRequest::*;
        let label = wire.label;
        if !(LABEL_BASE..LABEL_BASE + COUNT).contains(&label) {
            return Err(ProtoError::UnknownLabel(label));
        }
        Ok(match label - LABEL_BASE {
            0 => Open {
                flags: wire.word_u32(0)?,
                path: wire.bytes()?,
            },
            1 => Read {
                fd: wire.word(0)?,
                len: wire.length(1)?,
            },
            2 => {
                let data = wire.bytes()?;
                if data.len() as u64 > MAX_TRANSFER {
                    return Err(ProtoError::BadValue(0));
                }
                Write {
                    fd: wire.word(0)?,
                    data,
                }
            }
            3 => Close { fd: wire.word(0)? },
            4 => Dup { fd: wire.word(0)? },
            5 => Pipe,
            6 => Fstat { fd: wire.word(0)? },
            7 => Getdents {
                fd: wire.word(0)?,
                len: wire.length(1)?,
            },
            8 => Chdir {
                path: wire.bytes()?,
            },
            9 => Mkdir {
                path: wire.bytes()?,
            },
            10 => Mknod {
                major: wire.word_u32(0)?,
                minor: wire.word_u32(1)?,
                path: wire.bytes()?,
            },
            11 => Unlink {
                path: wire.bytes()?,
            },
            12 | 13 => {
                let paths = wire.bytes()?;
                let old_len = split(wire, paths)?;
                if label - LABEL_BASE == 12 {
                    Link { paths, old_len }
                } else {
                    Rename { paths, old_len }
                }
            }
            14 => ProcessCreated {
                pid: wire.word(0)?,
                thread: wire.word(1)?,
                parent: wire.word(2)?,
            },
            15 => ProcessExited { pid: wire.word(0)? },
            16 => ExecOpen {
                pid: wire.word(0)?,
                path: wire.bytes()?,
            },
            17 => ExecRead {
                handle: wire.word(0)?,
                offset: wire.word(1)?,
                len: wire.length(2)?,
            },
            _ => ExecClose {
                handle: wire.word(0)?,
            },
        })
    }
}

/// A `Stat` in four reply words.
pub fn stat_to_words(stat: &Stat) -> [u64; 4] {
    [
        stat.ino as u64 | (stat.kind as u64) << 32,
        stat.nlink as u64 | (stat.dev as u64) << 32,
        stat.size,
        stat.major as u64 | (stat.minor as u64) << 32,
    ]
}

/// The `Stat` in an `Fstat` reply.
pub fn stat_from_wire(wire: &Wire<'_>) -> Result<Stat, ProtoError> {
    let (first, second, devices) = (wire.word(0)?, wire.word(1)?, wire.word(3)?);
    Ok(Stat {
        dev: (second >> 32) as u32,
        ino: first as u32,
        kind: (first >> 32) as u32,
        nlink: second as u32,
        size: wire.word(2)?,
        major: devices as u32,
        minor: (devices >> 32) as u32,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip() {
        use VfsRequest::*;
        let requests = [
            Open {
                flags: 0x241,
                path: b"/README",
            },
            Read { fd: 3, len: 4096 },
            Write {
                fd: u64::MAX,
                data: b"hello",
            },
            Close { fd: 1 },
            Dup { fd: 0 },
            Pipe,
            Fstat { fd: 2 },
            Getdents { fd: 3, len: 512 },
            Chdir { path: b".." },
            Mkdir { path: b"d" },
            Mknod {
                major: 1,
                minor: 0,
                path: b"console",
            },
            Unlink { path: b"f" },
            Link {
                paths: b"ab",
                old_len: 1,
            },
            Rename {
                paths: b"oldnew",
                old_len: 3,
            },
            ProcessCreated {
                pid: 2,
                thread: 0x1_0005,
                parent: 1,
            },
            ProcessExited { pid: 2 },
            ExecOpen {
                pid: 1,
                path: b"/bin/sh",
            },
            ExecRead {
                handle: 1,
                offset: 4096,
                len: 4096,
            },
            ExecClose { handle: 1 },
        ];
        for request in requests {
            assert_eq!(VfsRequest::from_wire(&request.to_wire()), Ok(request));
        }
    }

    #[test]
    fn bad_requests_are_refused() {
        let decode = |label: u64, words: &[u64]| {
            VfsRequest::from_wire(&Wire::new(LABEL_BASE + label, words))
        };
        assert_eq!(decode(0, &[1 << 32]), Err(ProtoError::BadValue(0)));
        assert_eq!(decode(0, &[0]), Err(ProtoError::MissingBytes));
        assert_eq!(decode(1, &[3, 4097]), Err(ProtoError::BadValue(1)));
        assert_eq!(decode(1, &[3]), Err(ProtoError::MissingWord(1)));
        assert_eq!(decode(10, &[1, 1 << 33]), Err(ProtoError::BadValue(1)));
        assert_eq!(
            decode(COUNT, &[]),
            Err(ProtoError::UnknownLabel(LABEL_BASE + COUNT))
        );
        let link = Wire::new(LABEL_BASE + 12, &[3]).with_bytes(b"ab");
        assert_eq!(VfsRequest::from_wire(&link), Err(ProtoError::BadValue(0)));
        let big = [0u8; 4097];
        let write = Wire::new(LABEL_BASE + 2, &[1]).with_bytes(&big);
        assert_eq!(VfsRequest::from_wire(&write), Err(ProtoError::BadValue(0)));
    }

    #[test]
    fn stat_round_trips() {
        let stat = Stat {
            dev: 1,
            ino: 77,
            kind: 4,
            nlink: 1,
            size: 12345,
            major: 1,
            minor: 9,
        };
        let words = stat_to_words(&stat);
        assert_eq!(stat_from_wire(&Wire::new(0, &words)), Ok(stat));
        assert_eq!(
            stat_from_wire(&Wire::new(0, &words[..3])),
            Err(ProtoError::MissingWord(3))
        );
    }
}
