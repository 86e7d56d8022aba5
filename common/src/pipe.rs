//! The pipe: a bounded byte queue between writers and readers, as a state
//! machine with POSIX semantics (xv6's `pipe.c` is the model).
//!
//! A pipe has a ring buffer of [`PIPE_SIZE`] bytes and two ends, each open
//! or closed. An end is one *open file* (xv6's `struct file`): `dup` and
//! `fork` share that open file among descriptors, and the kernel closes the
//! end when the last descriptor to it goes (the mono-kernel when the last
//! `Rc<File>` is dropped, the vfs server when an open file's count reaches
//! zero). So the pipe itself needs no reference counts. The rules:
//!
//! - **read** returns what is there (at least one byte, at most what was
//!   asked). An empty pipe gives *end of file* if no writer is left, and
//!   *would block* otherwise. So EOF comes only after the data is drained.
//! - **write** copies as much as fits and reports how much: a partial write
//!   is normal, and the caller writes the rest later. With no reader left it
//!   fails with *broken pipe* (`EPIPE`). A write of at most [`PIPE_BUF`]
//!   bytes is *atomic* (POSIX): it goes in whole or waits, so short writes
//!   from several processes never interleave.
//!
//! Nothing here waits. "Would block" is a returned value, and each result
//! says who may now proceed ([`Wakeup`]): the mono-kernel turns that into
//! `sleep`/`wakeup` on the pipe, the microkernel's pipe server into parked
//! requests and replies (see `docs/pipe.md`). Both must tolerate spurious
//! wakeups: a woken process simply tries again.
//!
//! The data path is the "chunked copy": [`Pipe::write_with`] and
//! [`Pipe::read_with`] hand the caller the free (or filled) part of the ring
//! as at most two contiguous slices, so a kernel can copy straight between
//! user memory and the ring, and a failed copy (a bad user pointer) changes
//! nothing. The mono-kernel passes a closure that copies through the
//! process's page tables (`sys_file.rs`, `pipe_read` and `pipe_write`);
//! the vfs server, whose client's bytes have already arrived in a message,
//! uses [`Pipe::write`] and [`Pipe::read`], which do the same for plain
//! slices.

mod mode;

pub use mode::{Blocked, Mode};

use crate::trace::{self, Kind, Shared};
use alloc::boxed::Box;
use alloc::vec;
use core::fmt;

/// Bytes a pipe holds. One page: big enough that `producer | consumer`
/// moves data in page-sized steps (fewer sleeps, and fewer IPC round trips
/// in the microkernel), small enough to allocate for every pipe. A power of
/// two, so the wrapping counters below index the ring correctly.
pub const PIPE_SIZE: usize = 4096;

/// Writes up to this many bytes are atomic (the POSIX minimum, 512).
pub const PIPE_BUF: usize = 512;

const _: () = assert!(PIPE_SIZE.is_power_of_two() && PIPE_BUF <= PIPE_SIZE);

/// Who may proceed after an operation: the environment wakes (mono) or
/// replies to (micro) whoever waits on this pipe for that.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Wakeup {
    /// Readers waiting for data or EOF may now proceed.
    pub readers: bool,
    /// Writers waiting for space or EPIPE may now proceed.
    pub writers: bool,
}

impl Wakeup {
    /// Nobody needs waking.
    pub const NONE: Self = Self {
        readers: false,
        writers: false,
    };
}

/// What a write did.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PipeWrite {
    /// `n` bytes were written, maybe fewer than asked (write the rest after
    /// waiting). `Wrote(0)` only for a zero-length write.
    Wrote(usize),
    /// Full (or not enough room for an atomic write): nothing was written.
    WouldBlock,
    /// No reader is left: nothing was written (`EPIPE`).
    BrokenPipe,
}

impl PipeWrite {
    /// Who this write lets proceed: readers, if bytes arrived.
    pub fn wakeup(self) -> Wakeup {
        Wakeup {
            readers: matches!(self, Self::Wrote(n) if n > 0),
            writers: false,
        }
    }
}

/// What a read did.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PipeRead {
    /// `n` bytes were read: all there were, up to the amount asked.
    /// `Read(0)` only for a zero-length read.
    Read(usize),
    /// Empty, and no writer is left: end of file (the read returns 0).
    EndOfFile,
    /// Empty, but writers exist: wait for data.
    WouldBlock,
}

impl PipeRead {
    /// Who this read lets proceed: writers, if space was freed.
    pub fn wakeup(self) -> Wakeup {
        Wakeup {
            readers: false,
            writers: matches!(self, Self::Read(n) if n > 0),
        }
    }
}

/// A misuse of the ends (an environment bug, reported, not panicked on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PipeError {
    /// That end is closed already.
    EndClosed,
}

/// One pipe.
///
/// `bytes_read` and `bytes_written` count every byte that ever went through
/// and wrap around `usize`; a byte's slot in the ring is its count modulo
/// [`PIPE_SIZE`]. Since `PIPE_SIZE` divides 2^64, wrapping never moves a
/// slot, and `bytes_written.wrapping_sub(bytes_read)` is the number of
/// bytes in the pipe even after the counters wrap.
///
/// Invariant: `bytes_read <= bytes_written <= bytes_read + PIPE_SIZE`
/// (in wrapping arithmetic: `0 <= bytes_written - bytes_read <= PIPE_SIZE`).
pub struct Pipe {
    ring: Box<[u8]>,
    bytes_read: usize,
    bytes_written: usize,
    /// The read end is open.
    reader_open: bool,
    /// The write end is open.
    writer_open: bool,
}

impl Default for Pipe {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Pipe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pipe")
            .field("len", &self.len())
            .field("reader_open", &self.reader_open)
            .field("writer_open", &self.writer_open)
            .finish_non_exhaustive()
    }
}

impl Pipe {
    /// An empty pipe with both ends open: the two descriptors `pipe()`
    /// returns. The ring is allocated on the heap directly (never
    /// on a small kernel stack).
    pub fn new() -> Self {
        Self {
            ring: vec![0; PIPE_SIZE].into_boxed_slice(),
            bytes_read: 0,
            bytes_written: 0,
            reader_open: true,
            writer_open: true,
        }
    }

    /// Bytes waiting to be read.
    pub fn len(&self) -> usize {
        self.bytes_written.wrapping_sub(self.bytes_read)
    }

    /// Whether no bytes are waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes that could be written now.
    pub fn free_space(&self) -> usize {
        PIPE_SIZE - self.len()
    }

    /// Whether the read end is open.
    pub fn reader_open(&self) -> bool {
        self.reader_open
    }

    /// Whether the write end is open.
    pub fn writer_open(&self) -> bool {
        self.writer_open
    }

    /// Both ends are closed: the environment may free the pipe.
    pub fn is_unused(&self) -> bool {
        !self.reader_open && !self.writer_open
    }

    /// Writes from `src`. See [`write_with`](Self::write_with) for the rules.
    pub fn write(&mut self, src: &[u8]) -> PipeWrite {
        let Ok(outcome) = self.write_with(src.len(), |offset, chunk| {
            chunk.copy_from_slice(&src[offset..offset + chunk.len()]);
            Ok::<(), core::convert::Infallible>(())
        });
        outcome
    }

    /// Writes up to `len` bytes, which `copy_in(offset, chunk)` supplies:
    /// it must fill `chunk` with source bytes `offset..offset + chunk.len()`.
    /// It is called at most twice (the free space may wrap around the ring).
    ///
    /// Returns, checking in this order:
    /// - `Wrote(0)` if `len == 0`;
    /// - `BrokenPipe` if no reader is left;
    /// - `WouldBlock` if the pipe is full, or `len <= PIPE_BUF` and it does
    ///   not all fit (atomic writes);
    /// - `Wrote(n)`, `1 <= n <= len`, otherwise.
    ///
    /// If `copy_in` fails, its error is returned and the pipe is unchanged
    /// (check, then commit: the bytes count only once all are copied).
    ///
    /// (`#[inline]`: every pipe write of both kernels runs this; marked, it is
    /// inlined into each caller whatever else changes in this crate.)
    #[inline]
    pub fn write_with<E>(
        &mut self,
        len: usize,
        copy_in: impl FnMut(usize, &mut [u8]) -> Result<(), E>,
    ) -> Result<PipeWrite, E> {
        trace::point(
            Kind::Enter,
            Shared::PipeWrite as u64,
            len as u64,
            self.len() as u64,
        );
        let outcome = self.write_ring(len, copy_in);
        let wrote = match outcome {
            Ok(PipeWrite::Wrote(n)) => n as u64,
            _ => u64::MAX,
        };
        trace::point(
            Kind::Exit,
            Shared::PipeWrite as u64,
            wrote,
            self.len() as u64,
        );
        outcome
    }

    /// [`Pipe::write_with`], without its trace points.
    #[inline(always)]
    fn write_ring<E>(
        &mut self,
        len: usize,
        mut copy_in: impl FnMut(usize, &mut [u8]) -> Result<(), E>,
    ) -> Result<PipeWrite, E> {
        if len == 0 {
            return Ok(PipeWrite::Wrote(0));
        }
        if !self.reader_open {
            return Ok(PipeWrite::BrokenPipe);
        }
        let free = self.free_space();
        if free == 0 || (len <= PIPE_BUF && free < len) {
            return Ok(PipeWrite::WouldBlock);
        }
        let count = len.min(free);
        let start = self.bytes_written % PIPE_SIZE;
        let first = count.min(PIPE_SIZE - start);
        copy_in(0, &mut self.ring[start..start + first])?;
        if first < count {
            copy_in(first, &mut self.ring[..count - first])?;
        }
        // Commit. count <= free keeps bytes_written - bytes_read <= PIPE_SIZE.
        self.bytes_written = self.bytes_written.wrapping_add(count);
        Ok(PipeWrite::Wrote(count))
    }

    /// Reads into `dst`. See [`read_with`](Self::read_with) for the rules.
    pub fn read(&mut self, dst: &mut [u8]) -> PipeRead {
        let Ok(outcome) = self.read_with(dst.len(), |offset, chunk| {
            dst[offset..offset + chunk.len()].copy_from_slice(chunk);
            Ok::<(), core::convert::Infallible>(())
        });
        outcome
    }

    /// Reads up to `len` bytes, handing them to `copy_out(offset, chunk)`:
    /// `chunk` is destination bytes `offset..offset + chunk.len()`. It is
    /// called at most twice.
    ///
    /// Returns `Read(0)` if `len == 0`; `Read(n)`, `1 <= n <= len`, if the
    /// pipe holds data (even with no writers left); otherwise `EndOfFile`
    /// if no writer is left, else `WouldBlock`.
    ///
    /// If `copy_out` fails, its error is returned and the bytes stay in the
    /// pipe.
    ///
    /// (`#[inline]`: every pipe read of both kernels runs this; marked, it is
    /// inlined into each caller whatever else changes in this crate.)
    #[inline]
    pub fn read_with<E>(
        &mut self,
        len: usize,
        copy_out: impl FnMut(usize, &[u8]) -> Result<(), E>,
    ) -> Result<PipeRead, E> {
        trace::point(
            Kind::Enter,
            Shared::PipeRead as u64,
            len as u64,
            self.len() as u64,
        );
        let outcome = self.read_ring(len, copy_out);
        let read = match outcome {
            Ok(PipeRead::Read(n)) => n as u64,
            _ => u64::MAX,
        };
        trace::point(Kind::Exit, Shared::PipeRead as u64, read, self.len() as u64);
        outcome
    }

    /// [`Pipe::read_with`], without its trace points.
    #[inline(always)]
    fn read_ring<E>(
        &mut self,
        len: usize,
        mut copy_out: impl FnMut(usize, &[u8]) -> Result<(), E>,
    ) -> Result<PipeRead, E> {
        if len == 0 {
            return Ok(PipeRead::Read(0));
        }
        let available = self.len();
        if available == 0 {
            return Ok(if !self.writer_open {
                PipeRead::EndOfFile
            } else {
                PipeRead::WouldBlock
            });
        }
        let count = len.min(available);
        let start = self.bytes_read % PIPE_SIZE;
        let first = count.min(PIPE_SIZE - start);
        copy_out(0, &self.ring[start..start + first])?;
        if first < count {
            copy_out(first, &self.ring[..count - first])?;
        }
        // Commit. count <= available keeps bytes_read <= bytes_written.
        self.bytes_read = self.bytes_read.wrapping_add(count);
        Ok(PipeRead::Read(count))
    }

    /// Closes the read end: waiting writers may proceed (to fail with
    /// `EPIPE`). `EndClosed` if it was closed already.
    pub fn close_reader(&mut self) -> Result<Wakeup, PipeError> {
        Self::close(&mut self.reader_open)?;
        Ok(Wakeup {
            readers: false,
            writers: true,
        })
    }

    /// Closes the write end: waiting readers may proceed (to drain the
    /// data, then see end of file). `EndClosed` if it was closed already.
    pub fn close_writer(&mut self) -> Result<Wakeup, PipeError> {
        Self::close(&mut self.writer_open)?;
        Ok(Wakeup {
            readers: true,
            writers: false,
        })
    }

    /// Marks an end closed; an end closes only once.
    fn close(open: &mut bool) -> Result<(), PipeError> {
        if !*open {
            return Err(PipeError::EndClosed);
        }
        *open = false;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
