//! Blocking and non-blocking pipe ends (lab `pipe`): what a read or a write
//! does when the pipe answers `WouldBlock`.
//!
//! The pipe itself never waits ([`super::Pipe`] returns `WouldBlock` as a
//! value); *whether the caller then waits* is a property of the open file
//! the caller used, its [`Mode`]. `pipe()` makes blocking ends, `pipe2(fds,
//! O_NONBLOCK)` non-blocking ones. Like the offset of a file, the mode
//! belongs to the open file (the mono-kernel's `File`, the vfs server's
//! `OpenFile`), so `dup` and `fork` share it.
//!
//! The rule is POSIX's, written once here and obeyed by both kernels:
//!
//! | end | the pipe says `WouldBlock` after `done` bytes | the call |
//! |---|---|---|
//! | blocking | any | waits (mono: sleeps on the pipe; vfs: parks the request), then tries again |
//! | non-blocking | `done == 0` | fails with `EAGAIN` |
//! | non-blocking | `done > 0` (a write larger than `PIPE_BUF`, partly in) | returns `done` |
//!
//! A read has always moved nothing when the pipe says `WouldBlock` (a read
//! that finds bytes returns them at once), so a non-blocking read gives
//! `EAGAIN`. End of file and `EPIPE` are not "would block": they are the
//! same for both modes.

use crate::abi::errno::Errno;
use crate::abi::fs::pipe_flags::{O_NONBLOCK, PIPE2_KNOWN};

/// Whether an open pipe end waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// A read of an empty pipe, or a write to a full one, waits.
    #[default]
    Blocking,
    /// It returns at once: `EAGAIN`, or what it moved.
    NonBlocking,
}

/// What a read or write the pipe answered `WouldBlock` does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blocked {
    /// Wait until the pipe's `Wakeup` lets this side go on, then try again.
    Wait,
    /// Return to the program now, with this result: the bytes moved so
    /// far, or an error.
    Return(Result<usize, Errno>),
}

impl Mode {
    /// The mode `pipe2(fds, flags)` gives both ends: `EINVAL` for a flag
    /// `pipe2` does not know (checked before anything is made).
    pub fn from_pipe2_flags(flags: u64) -> Result<Mode, Errno> {
        if flags & !u64::from(PIPE2_KNOWN) != 0 {
            return Err(Errno::EINVAL);
        }
        Ok(if flags & u64::from(O_NONBLOCK) != 0 {
            Mode::NonBlocking
        } else {
            Mode::Blocking
        })
    }

    /// What a call on an end of this mode does when the pipe answers
    /// `WouldBlock` after it moved `done` bytes (always 0 for a read). See
    /// the table at the top of this file.
    pub fn when_blocked(self, done: usize) -> Blocked {
        // LAB pipe BEGIN
        match self {
            Mode::Blocking => Blocked::Wait,
            Mode::NonBlocking if done > 0 => Blocked::Return(Ok(done)),
            Mode::NonBlocking => Blocked::Return(Err(Errno::EAGAIN)),
        }
        // LAB pipe STUB
        //~ let _ = done;
        //~ Blocked::Wait
        // LAB pipe END
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipe::{PIPE_BUF, PIPE_SIZE, Pipe, PipeRead, PipeWrite};

    #[test]
    fn pipe2_flags_are_checked() {
        assert_eq!(Mode::from_pipe2_flags(0), Ok(Mode::Blocking));
        assert_eq!(
            Mode::from_pipe2_flags(u64::from(O_NONBLOCK)),
            Ok(Mode::NonBlocking)
        );
        assert_eq!(Mode::from_pipe2_flags(1), Err(Errno::EINVAL));
        assert_eq!(Mode::from_pipe2_flags(1 << 40), Err(Errno::EINVAL));
    }

    #[test]
    fn lab_pipe_a_blocking_end_always_waits() {
        for done in [0, 1, PIPE_SIZE] {
            assert_eq!(Mode::Blocking.when_blocked(done), Blocked::Wait);
        }
    }

    #[test]
    fn lab_pipe_a_non_blocking_end_never_waits() {
        assert_eq!(
            Mode::NonBlocking.when_blocked(0),
            Blocked::Return(Err(Errno::EAGAIN))
        );
        assert_eq!(
            Mode::NonBlocking.when_blocked(600),
            Blocked::Return(Ok(600))
        );
    }

    /// The rule driven by a real pipe, as a kernel's write loop drives it:
    /// an atomic write that does not fit is `EAGAIN`, a large one returns
    /// what fitted.
    #[test]
    fn lab_pipe_a_non_blocking_write_loop_stops_where_the_pipe_is_full() {
        fn write_all(pipe: &mut Pipe, mode: Mode, len: usize) -> Result<usize, Errno> {
            let data = vec![7u8; len];
            let mut done = 0;
            while done < len {
                match pipe.write(&data[done..]) {
                    PipeWrite::Wrote(n) => done += n,
                    PipeWrite::BrokenPipe => return Err(Errno::EPIPE),
                    PipeWrite::WouldBlock => match mode.when_blocked(done) {
                        Blocked::Return(result) => return result,
                        Blocked::Wait => panic!("a non-blocking write waited"),
                    },
                }
            }
            Ok(done)
        }
        let mut pipe = Pipe::new();
        let mode = Mode::NonBlocking;
        assert_eq!(
            write_all(&mut pipe, mode, PIPE_SIZE - 100),
            Ok(PIPE_SIZE - 100)
        );
        assert_eq!(write_all(&mut pipe, mode, PIPE_BUF), Err(Errno::EAGAIN));
        assert_eq!(write_all(&mut pipe, mode, 1000), Ok(100));
        assert_eq!(write_all(&mut pipe, mode, 1), Err(Errno::EAGAIN));
        let mut buf = [0u8; 10];
        assert_eq!(pipe.read(&mut buf), PipeRead::Read(10));
        assert_eq!(pipe.read(&mut []), PipeRead::Read(0));
    }
}
