//! The vfs server's protocol (`micro-kernel/user/vfs`): file descriptors,
//! open files, pipes and working directories, for user programs (through
//! `ulib`'s micro back end) and for the proc server.
//!
//! The caller is the sender thread id the kernel delivers, never a field in
//! the message: vfs maps it to a process with the table proc keeps it told
//! about (`ProcessCreated`, `ProcessExited`). Only the proc thread may send
//! `ProcessCreated`, `ProcessExited`, the three `Exec*` requests and
//! `MapOpen`.
//!
//! | request          | words               | byte items      | reply (`Done`)             |
//! |------------------|---------------------|-----------------|----------------------------|
//! | `Open`           | flags               | path            | word: fd                   |
//! | `Read`           | fd, len (≤ 4096)    | —               | the bytes (none at end of file); word 0 = 1 for a file (read on while replies are full), none for a pipe or the console |
//! | `Write`          | fd                  | data (≤ 4096)   | word: bytes written        |
//! | `Close`          | fd                  | —               | —                          |
//! | `Dup`            | fd                  | —               | word: new fd               |
//! | `Pipe`           | —                   | —               | bytes: read fd, write fd (two `i32`, as `pipe(fds)` stores them) |
//! | `Fstat`          | fd                  | —               | bytes: a `Stat` ([`Stat::to_bytes`]) |
//! | `Getdents`       | fd, len (≤ 4096)    | —               | bytes: the records         |
//! | `Chdir`          | —                   | path            | —                          |
//! | `Mkdir`          | —                   | path            | —                          |
//! | `Mknod`          | major, minor        | path            | —                          |
//! | `Unlink`         | —                   | path            | —                          |
//! | `Link`           | —                   | old path, new path | —                       |
//! | `Rename`         | —                   | old path, new path | —                       |
//! | `ProcessCreated` | pid, thread, parent | —               | —                          |
//! | `ProcessExited`  | pid                 | —               | —                          |
//! | `ExecOpen`       | pid                 | path            | words: handle, size        |
//! | `ExecRead`       | handle, offset, len | —               | bytes: what was read       |
//! | `ExecClose`      | handle              | —               | —                          |
//! | `Sync`           | —                   | —               | —                          |
//! | `Fsync`          | fd                  | —               | —                          |
//! | `MapOpen`        | pid, fd             | —               | words: handle, size        |
//! | `Pipe2`          | flags               | —               | as `Pipe` (lab `pipe`)     |
//! | `Symlink`        | —                   | target, path    | — (lab `fs`)               |
//! | `Readlink`       | len (≤ 4096)        | path            | bytes: the target, cut at len (lab `fs`) |
//!
//! A *handle* is a file proc holds open by itself, whatever becomes of the
//! name or the descriptor it came from: `ExecOpen` opens one by path, to
//! load a program; `MapOpen` by one of process `pid`'s descriptors, for
//! `mmap` (`EBADF` for a descriptor it does not have, `ENODEV` if it is
//! not a regular file, `EACCES` if it was not opened for reading). Both
//! are read with `ExecRead` and given back with `ExecClose`.
//!
//! Results a system call stores through a pointer (`read`'s data, `fstat`'s
//! `Stat`, `pipe`'s two descriptors, `getdents`' records) come back as
//! *bytes*, which the kernel copies straight into the memory the caller
//! named as its receive area, checking it: so a bad pointer is `EFAULT`,
//! found by the kernel, as on the monolithic kernel. Paths travel as
//! *string* items (`abi::micro::STRING`): the kernel copies up to the NUL,
//! at most `MAX_PATH + 1` bytes, so a path with no NUL by then arrives
//! `MAX_PATH + 1` bytes long and is refused with `ENAMETOOLONG`.
//!
//! `Read` and `Write` of a console descriptor are answered with a
//! `Redirect` (`reply.rs`) naming the console server: the client's
//! transport sends the same request there, and the console server answers
//! it (it serves exactly these two operations of this protocol). vfs thus
//! never waits for the console. A `Read` of an empty pipe, or a `Write` to
//! a full one, is *parked*: vfs replies when the pipe lets it proceed.
//!
//! Numbers are checked as the monolithic kernel checks its system-call
//! arguments: flags, major and minor must fit 32 bits (`EINVAL`); a
//! descriptor is any `u64` (negative ones arrive sign-extended) and the
//! server answers `EBADF` for one it does not know.

use super::{MAX_TRANSFER, ProtoError, Wire};

super::operations! {
    /// The vfs server's operations.
    pub enum VfsOp from 0x400 {
        Open,
        Read,
        Write,
        Close,
        Dup,
        Pipe,
        Fstat,
        Getdents,
        Chdir,
        Mkdir,
        Mknod,
        Unlink,
        Link,
        Rename,
        ProcessCreated,
        ProcessExited,
        ExecOpen,
        ExecRead,
        ExecClose,
        Sync,
        Fsync,
        MapOpen,
        // LAB pipe BEGIN
        Pipe2,
        // LAB pipe STUB
        // LAB pipe END
        // LAB fs BEGIN
        Symlink,
        Readlink,
        // LAB fs STUB
        // LAB fs END
    }
}

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
    /// `link(old, new)`.
    Link { old: &'a [u8], new: &'a [u8] },
    /// `rename(old, new)`.
    Rename { old: &'a [u8], new: &'a [u8] },
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
    /// `sync()`.
    Sync,
    /// `fsync(fd)`.
    Fsync { fd: u64 },
    /// proc: open the file behind process `pid`'s descriptor `fd`, for `mmap`.
    MapOpen { pid: u64, fd: u64 },
    // LAB pipe BEGIN
    /// `pipe2(flags)` (`abi::fs::pipe_flags`; vfs checks them).
    Pipe2 { flags: u32 },
    // LAB pipe STUB
    // LAB pipe END
    // LAB fs BEGIN
    /// `symlink(target, path)`.
    Symlink { target: &'a [u8], path: &'a [u8] },
    /// `readlink(path, len)`.
    Readlink { len: u64, path: &'a [u8] },
    // LAB fs STUB
    // LAB fs END
}

impl<'a> VfsRequest<'a> {
    /// The operation.
    pub fn op(&self) -> VfsOp {
        use VfsRequest::*;
        match self {
            Open { .. } => VfsOp::Open,
            Read { .. } => VfsOp::Read,
            Write { .. } => VfsOp::Write,
            Close { .. } => VfsOp::Close,
            Dup { .. } => VfsOp::Dup,
            Pipe => VfsOp::Pipe,
            Fstat { .. } => VfsOp::Fstat,
            Getdents { .. } => VfsOp::Getdents,
            Chdir { .. } => VfsOp::Chdir,
            Mkdir { .. } => VfsOp::Mkdir,
            Mknod { .. } => VfsOp::Mknod,
            Unlink { .. } => VfsOp::Unlink,
            Link { .. } => VfsOp::Link,
            Rename { .. } => VfsOp::Rename,
            ProcessCreated { .. } => VfsOp::ProcessCreated,
            ProcessExited { .. } => VfsOp::ProcessExited,
            ExecOpen { .. } => VfsOp::ExecOpen,
            ExecRead { .. } => VfsOp::ExecRead,
            ExecClose { .. } => VfsOp::ExecClose,
            Sync => VfsOp::Sync,
            Fsync { .. } => VfsOp::Fsync,
            MapOpen { .. } => VfsOp::MapOpen,
            // LAB pipe BEGIN
            Pipe2 { .. } => VfsOp::Pipe2,
            // LAB pipe STUB
            // LAB pipe END
            // LAB fs BEGIN
            Symlink { .. } => VfsOp::Symlink,
            Readlink { .. } => VfsOp::Readlink,
            // LAB fs STUB
            // LAB fs END
        }
    }

    /// The message for this request.
    pub fn to_wire(&self) -> Wire<'a> {
        use VfsRequest::*;
        let wire = |words: &[u64]| Wire::new(self.op().label(), words);
        match *self {
            Open { flags, path } => wire(&[flags as u64]).with_bytes(path),
            Read { fd, len } => wire(&[fd, len]),
            Write { fd, data } => wire(&[fd]).with_bytes(data),
            Close { fd } | Dup { fd } | Fstat { fd } | Fsync { fd } => wire(&[fd]),
            Pipe | Sync => wire(&[]),
            Getdents { fd, len } => wire(&[fd, len]),
            Chdir { path } | Mkdir { path } | Unlink { path } => wire(&[]).with_bytes(path),
            Mknod { major, minor, path } => wire(&[major as u64, minor as u64]).with_bytes(path),
            Link { old, new } | Rename { old, new } => wire(&[]).with_bytes(old).with_bytes(new),
            ProcessCreated {
                pid,
                thread,
                parent,
            } => wire(&[pid, thread, parent]),
            ProcessExited { pid } => wire(&[pid]),
            ExecOpen { pid, path } => wire(&[pid]).with_bytes(path),
            ExecRead {
                handle,
                offset,
                len,
            } => wire(&[handle, offset, len]),
            ExecClose { handle } => wire(&[handle]),
            MapOpen { pid, fd } => wire(&[pid, fd]),
            // LAB pipe BEGIN
            Pipe2 { flags } => wire(&[flags as u64]),
            // LAB pipe STUB
            // LAB pipe END
            // LAB fs BEGIN
            Symlink { target, path } => wire(&[]).with_bytes(target).with_bytes(path),
            Readlink { len, path } => wire(&[len]).with_bytes(path),
            // LAB fs STUB
            // LAB fs END
        }
    }

    /// Decodes and validates a request.
    pub fn from_wire(wire: &Wire<'a>) -> Result<VfsRequest<'a>, ProtoError> {
        use VfsRequest::*;
        Ok(match wire.operation(VfsOp::from_label)? {
            VfsOp::Open => Open {
                flags: wire.word_u32(0)?,
                path: wire.bytes()?,
            },
            VfsOp::Read => Read {
                fd: wire.word(0)?,
                len: wire.length(1)?,
            },
            VfsOp::Write => {
                let data = wire.bytes()?;
                if data.len() as u64 > MAX_TRANSFER {
                    return Err(ProtoError::BadValue(0));
                }
                Write {
                    fd: wire.word(0)?,
                    data,
                }
            }
            VfsOp::Close => Close { fd: wire.word(0)? },
            VfsOp::Dup => Dup { fd: wire.word(0)? },
            VfsOp::Pipe => Pipe,
            VfsOp::Fstat => Fstat { fd: wire.word(0)? },
            VfsOp::Getdents => Getdents {
                fd: wire.word(0)?,
                len: wire.length(1)?,
            },
            VfsOp::Chdir => Chdir {
                path: wire.bytes()?,
            },
            VfsOp::Mkdir => Mkdir {
                path: wire.bytes()?,
            },
            VfsOp::Mknod => Mknod {
                major: wire.word_u32(0)?,
                minor: wire.word_u32(1)?,
                path: wire.bytes()?,
            },
            VfsOp::Unlink => Unlink {
                path: wire.bytes()?,
            },
            VfsOp::Link => Link {
                old: wire.item(0)?,
                new: wire.item(1)?,
            },
            VfsOp::Rename => Rename {
                old: wire.item(0)?,
                new: wire.item(1)?,
            },
            VfsOp::ProcessCreated => ProcessCreated {
                pid: wire.word(0)?,
                thread: wire.word(1)?,
                parent: wire.word(2)?,
            },
            VfsOp::ProcessExited => ProcessExited { pid: wire.word(0)? },
            VfsOp::ExecOpen => ExecOpen {
                pid: wire.word(0)?,
                path: wire.bytes()?,
            },
            VfsOp::ExecRead => ExecRead {
                handle: wire.word(0)?,
                offset: wire.word(1)?,
                len: wire.length(2)?,
            },
            VfsOp::ExecClose => ExecClose {
                handle: wire.word(0)?,
            },
            VfsOp::Sync => Sync,
            VfsOp::Fsync => Fsync { fd: wire.word(0)? },
            VfsOp::MapOpen => MapOpen {
                pid: wire.word(0)?,
                fd: wire.word(1)?,
            },
            // LAB pipe BEGIN
            VfsOp::Pipe2 => Pipe2 {
                flags: wire.word_u32(0)?,
            },
            // LAB pipe STUB
            // LAB pipe END
            // LAB fs BEGIN
            VfsOp::Symlink => Symlink {
                target: wire.item(0)?,
                path: wire.item(1)?,
            },
            VfsOp::Readlink => Readlink {
                len: wire.length(0)?,
                path: wire.bytes()?,
            },
            // LAB fs STUB
            // LAB fs END
        })
    }
}

/// The bytes of a `Pipe` reply: the two descriptors as `pipe(fds)` stores
/// them (`fds[0]` the read end, `fds[1]` the write end, each an `i32`).
pub fn pipe_fds_to_bytes(read_fd: u64, write_fd: u64) -> [u8; 8] {
    let mut bytes = [0u8; 8];
    bytes[..4].copy_from_slice(&(read_fd as i32).to_le_bytes());
    bytes[4..].copy_from_slice(&(write_fd as i32).to_le_bytes());
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::fs::{STAT_BYTES, Stat};

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
                old: b"a",
                new: b"b",
            },
            Rename {
                old: b"old",
                new: b"new",
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
            Sync,
            Fsync { fd: 3 },
            MapOpen {
                pid: 2,
                fd: u64::MAX,
            },
            // LAB pipe BEGIN
            Pipe2 { flags: 0x800 },
            // LAB pipe STUB
            // LAB pipe END
            // LAB fs BEGIN
            Symlink {
                target: b"/etc/motd",
                path: b"motd",
            },
            Readlink {
                len: 100,
                path: b"motd",
            },
            // LAB fs STUB
            // LAB fs END
        ];
        assert_eq!(
            requests.len(),
            VfsOp::ALL.len(),
            "one example per operation"
        );
        for request in requests {
            assert_eq!(VfsRequest::from_wire(&request.to_wire()), Ok(request));
        }
    }

    #[test]
    fn bad_requests_are_refused() {
        let decode =
            |op: VfsOp, words: &[u64]| VfsRequest::from_wire(&Wire::new(op.label(), words));
        assert_eq!(
            decode(VfsOp::Open, &[1 << 32]),
            Err(ProtoError::BadValue(0))
        );
        assert_eq!(decode(VfsOp::Open, &[0]), Err(ProtoError::MissingBytes));
        assert_eq!(
            decode(VfsOp::Read, &[3, 4097]),
            Err(ProtoError::BadValue(1))
        );
        assert_eq!(decode(VfsOp::Read, &[3]), Err(ProtoError::MissingWord(1)));
        assert_eq!(
            decode(VfsOp::Mknod, &[1, 1 << 33]),
            Err(ProtoError::BadValue(1))
        );
        let unknown = VfsOp::ALL[VfsOp::ALL.len() - 1].label() + 1;
        assert_eq!(
            VfsRequest::from_wire(&Wire::new(unknown, &[])),
            Err(ProtoError::UnknownLabel(unknown))
        );
        let link = Wire::new(VfsOp::Link.label(), &[]).with_bytes(b"only one path");
        assert_eq!(VfsRequest::from_wire(&link), Err(ProtoError::MissingBytes));
        let big = [0u8; 4097];
        let write = Wire::new(VfsOp::Write.label(), &[1]).with_bytes(&big);
        assert_eq!(VfsRequest::from_wire(&write), Err(ProtoError::BadValue(0)));
    }

    #[test]
    fn stat_bytes_are_the_stat_in_memory() {
        let stat = Stat {
            dev: 1,
            ino: 77,
            kind: 4,
            nlink: 1,
            size: 12345,
            major: 1,
            minor: 9,
        };
        let bytes = stat.to_bytes();
        assert_eq!(Stat::from_bytes(&bytes), stat);
        // SAFETY: Stat is repr(C) plain data of STAT_BYTES bytes.
        let in_memory: [u8; STAT_BYTES] = unsafe { core::mem::transmute(stat) };
        assert_eq!(bytes, in_memory, "what a program reads through its pointer");
    }

    #[test]
    fn pipe_bytes_are_two_ints() {
        let bytes = pipe_fds_to_bytes(3, 4);
        assert_eq!(bytes, [3, 0, 0, 0, 4, 0, 0, 0]);
    }
}
