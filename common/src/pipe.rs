//! The pipe: a bounded byte queue between writers and readers, as a state
//! machine with POSIX semantics (xv6's `pipe.c` is the model).
//!
//! A pipe has a ring buffer of [`PIPE_SIZE`] bytes and counts how many file
//! descriptors refer to its read end and to its write end (`fork` and `dup`
//! add references, `close` and `exit` drop them). The rules:
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
//! as at most two contiguous slices, so the kernel can copy straight between
//! user memory and the ring, and a failed copy (a bad user pointer) changes
//! nothing. [`Pipe::write`] and [`Pipe::read`] are the same for plain slices.

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
    pub const NONE: Self = Self { readers: false, writers: false };
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
        Wakeup { readers: matches!(self, Self::Wrote(n) if n > 0), writers: false }
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
        Wakeup { readers: false, writers: matches!(self, Self::Read(n) if n > 0) }
    }
}

/// A misuse of the reference counts (an environment bug, reported, not panicked on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PipeError {
    /// That end has no references left: nothing to close or duplicate.
    EndClosed,
    /// The reference count would overflow.
    TooManyReferences,
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
    readers: u32,
    writers: u32,
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
            .field("readers", &self.readers)
            .field("writers", &self.writers)
            .finish_non_exhaustive()
    }
}

impl Pipe {
    /// An empty pipe with one reader and one writer: the two descriptors
    /// `pipe()` returns. The ring is allocated on the heap directly (never
    /// on a small kernel stack).
    pub fn new() -> Self {
        Self { ring: vec![0; PIPE_SIZE].into_boxed_slice(), bytes_read: 0, bytes_written: 0, readers: 1, writers: 1 }
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

    /// Open references to the read end.
    pub fn readers(&self) -> u32 {
        self.readers
    }

    /// Open references to the write end.
    pub fn writers(&self) -> u32 {
        self.writers
    }

    /// Both ends are closed: the environment may free the pipe.
    pub fn is_unused(&self) -> bool {
        self.readers == 0 && self.writers == 0
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
    pub fn write_with<E>(
        &mut self,
        len: usize,
        mut copy_in: impl FnMut(usize, &mut [u8]) -> Result<(), E>,
    ) -> Result<PipeWrite, E> {
        if len == 0 {
            return Ok(PipeWrite::Wrote(0));
        }
        if self.readers == 0 {
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
    pub fn read_with<E>(
        &mut self,
        len: usize,
        mut copy_out: impl FnMut(usize, &[u8]) -> Result<(), E>,
    ) -> Result<PipeRead, E> {
        if len == 0 {
            return Ok(PipeRead::Read(0));
        }
        let available = self.len();
        if available == 0 {
            return Ok(if self.writers == 0 { PipeRead::EndOfFile } else { PipeRead::WouldBlock });
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

    /// One more reference to the read end (`dup`, `fork`).
    pub fn add_reader(&mut self) -> Result<(), PipeError> {
        Self::add_reference(&mut self.readers)
    }

    /// One more reference to the write end (`dup`, `fork`).
    pub fn add_writer(&mut self) -> Result<(), PipeError> {
        Self::add_reference(&mut self.writers)
    }

    /// Drops a reference to the read end. When the last one goes, waiting
    /// writers may proceed (to fail with EPIPE).
    pub fn close_reader(&mut self) -> Result<Wakeup, PipeError> {
        let last = Self::drop_reference(&mut self.readers)?;
        Ok(Wakeup { readers: false, writers: last })
    }

    /// Drops a reference to the write end. When the last one goes, waiting
    /// readers may proceed (to drain the data, then see end of file).
    pub fn close_writer(&mut self) -> Result<Wakeup, PipeError> {
        let last = Self::drop_reference(&mut self.writers)?;
        Ok(Wakeup { readers: last, writers: false })
    }

    /// An end can only be duplicated while someone holds it.
    fn add_reference(count: &mut u32) -> Result<(), PipeError> {
        if *count == 0 {
            return Err(PipeError::EndClosed);
        }
        *count = count.checked_add(1).ok_or(PipeError::TooManyReferences)?;
        Ok(())
    }

    /// Returns whether that was the last reference.
    fn drop_reference(count: &mut u32) -> Result<bool, PipeError> {
        *count = count.checked_sub(1).ok_or(PipeError::EndClosed)?;
        Ok(*count == 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::VecDeque;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    /// Reads up to `n` bytes, returning them (or the non-data outcome).
    fn read_n(pipe: &mut Pipe, n: usize) -> Result<Vec<u8>, PipeRead> {
        let mut buf = vec![0; n];
        match pipe.read(&mut buf) {
            PipeRead::Read(got) => Ok(buf[..got].to_vec()),
            other => Err(other),
        }
    }

    /// A pipe with both counters at `start` (to test wrapping at the top of usize).
    fn pipe_with_counters(start: usize) -> Pipe {
        let mut pipe = Pipe::new();
        pipe.bytes_read = start;
        pipe.bytes_written = start;
        pipe
    }

    #[test]
    fn bytes_come_out_in_order_and_wake_the_other_side() {
        let mut pipe = Pipe::new();
        let wrote = pipe.write(b"hello");
        assert_eq!(wrote, PipeWrite::Wrote(5));
        assert_eq!(wrote.wakeup(), Wakeup { readers: true, writers: false });
        let mut buf = [0; 16];
        let read = pipe.read(&mut buf);
        assert_eq!(read, PipeRead::Read(5));
        assert_eq!(read.wakeup(), Wakeup { readers: false, writers: true });
        assert_eq!(&buf[..5], b"hello");
    }

    #[test]
    fn read_returns_what_is_there() {
        let mut pipe = Pipe::new();
        let _ = pipe.write(b"abc");
        assert_eq!(read_n(&mut pipe, 2).unwrap(), b"ab");
        assert_eq!(read_n(&mut pipe, 100).unwrap(), b"c");
        assert_eq!(read_n(&mut pipe, 100), Err(PipeRead::WouldBlock));
        assert_eq!(PipeRead::WouldBlock.wakeup(), Wakeup::NONE);
    }

    #[test]
    fn large_writes_are_partial_and_a_full_pipe_blocks() {
        let mut pipe = Pipe::new();
        assert_eq!(pipe.write(&[1; PIPE_SIZE - 1000]), PipeWrite::Wrote(PIPE_SIZE - 1000));
        assert_eq!(pipe.write(&[2; 2000]), PipeWrite::Wrote(1000));
        assert_eq!(pipe.free_space(), 0);
        assert_eq!(pipe.write(&[3; 2000]), PipeWrite::WouldBlock);
        assert_eq!(pipe.write(b"x"), PipeWrite::WouldBlock);
        assert_eq!(PipeWrite::WouldBlock.wakeup(), Wakeup::NONE);
        assert_eq!(pipe.len(), PIPE_SIZE, "nothing was written while full");
    }

    #[test]
    fn small_writes_are_atomic() {
        let mut pipe = Pipe::new();
        let _ = pipe.write(&[0; PIPE_SIZE - 200]);
        assert_eq!(pipe.write(&[1; 300]), PipeWrite::WouldBlock, "300 <= PIPE_BUF: all or nothing");
        assert_eq!(pipe.write(&[1; 200]), PipeWrite::Wrote(200));
        let _ = read_n(&mut pipe, 200);
        assert_eq!(pipe.write(&[2; PIPE_BUF + 1]), PipeWrite::Wrote(200), "above PIPE_BUF: partial is fine");
    }

    #[test]
    fn end_of_file_only_after_the_data_is_drained() {
        let mut pipe = Pipe::new();
        let _ = pipe.write(b"last words");
        assert_eq!(pipe.close_writer(), Ok(Wakeup { readers: true, writers: false }));
        assert_eq!(read_n(&mut pipe, 4).unwrap(), b"last");
        assert_eq!(read_n(&mut pipe, 100).unwrap(), b" words");
        assert_eq!(read_n(&mut pipe, 100), Err(PipeRead::EndOfFile));
        assert_eq!(read_n(&mut pipe, 100), Err(PipeRead::EndOfFile), "EOF stays");
    }

    #[test]
    fn eof_waits_for_every_writer() {
        let mut pipe = Pipe::new();
        pipe.add_writer().unwrap(); // fork: parent and child both hold the write end
        assert_eq!(pipe.close_writer(), Ok(Wakeup::NONE));
        assert_eq!(read_n(&mut pipe, 1), Err(PipeRead::WouldBlock));
        assert_eq!(pipe.close_writer(), Ok(Wakeup { readers: true, writers: false }));
        assert_eq!(read_n(&mut pipe, 1), Err(PipeRead::EndOfFile));
    }

    #[test]
    fn broken_pipe_after_every_reader_closes() {
        let mut pipe = Pipe::new();
        pipe.add_reader().unwrap();
        assert_eq!(pipe.close_reader(), Ok(Wakeup::NONE));
        assert_eq!(pipe.write(b"ok"), PipeWrite::Wrote(2));
        assert_eq!(pipe.close_reader(), Ok(Wakeup { readers: false, writers: true }));
        assert_eq!(pipe.write(b"lost"), PipeWrite::BrokenPipe);
        assert_eq!(PipeWrite::BrokenPipe.wakeup(), Wakeup::NONE);
        assert_eq!(pipe.len(), 2, "a broken-pipe write adds nothing");
        // Even a full pipe reports EPIPE, not would-block: the writer must not sleep forever.
        let mut full = Pipe::new();
        let _ = full.write(&[0; PIPE_SIZE]);
        let _ = full.close_reader();
        assert_eq!(full.write(b"x"), PipeWrite::BrokenPipe);
    }

    #[test]
    fn zero_length_operations_do_nothing() {
        let mut pipe = Pipe::new();
        assert_eq!(pipe.read(&mut []), PipeRead::Read(0));
        assert_eq!(pipe.write(&[]), PipeWrite::Wrote(0));
        assert_eq!(PipeWrite::Wrote(0).wakeup(), Wakeup::NONE);
        assert!(pipe.is_empty());
    }

    #[test]
    fn reference_count_misuse_is_an_error_not_a_panic() {
        let mut pipe = Pipe::new();
        assert!(!pipe.is_unused());
        let _ = pipe.close_reader().unwrap();
        assert_eq!(pipe.close_reader(), Err(PipeError::EndClosed));
        assert_eq!(pipe.add_reader(), Err(PipeError::EndClosed), "a closed end cannot be duplicated");
        let _ = pipe.close_writer().unwrap();
        assert_eq!(pipe.close_writer(), Err(PipeError::EndClosed));
        assert!(pipe.is_unused());
        let mut busy = Pipe::new();
        busy.writers = u32::MAX;
        assert_eq!(busy.add_writer(), Err(PipeError::TooManyReferences));
        assert_eq!(busy.writers(), u32::MAX);
    }

    #[test]
    fn data_wraps_around_the_ring() {
        let mut pipe = Pipe::new();
        let _ = pipe.write(&[0; PIPE_SIZE - 3]);
        let _ = read_n(&mut pipe, PIPE_SIZE - 3);
        assert_eq!(pipe.write(b"wrapped!"), PipeWrite::Wrote(8)); // 3 at the end, 5 at the start
        assert_eq!(read_n(&mut pipe, 100).unwrap(), b"wrapped!");
    }

    #[test]
    fn counters_wrap_around_usize() {
        let mut pipe = pipe_with_counters(usize::MAX - 5);
        for round in 0..3u8 {
            let data: Vec<u8> = (0..100).map(|i| i ^ round).collect();
            assert_eq!(pipe.write(&data), PipeWrite::Wrote(100));
            assert_eq!(pipe.len(), 100);
            assert_eq!(read_n(&mut pipe, 1000).unwrap(), data);
        }
        assert!(pipe.bytes_written < 1000, "the counter did wrap");
    }

    #[test]
    fn chunked_copy_sees_at_most_two_chunks_with_offsets() {
        let mut pipe = pipe_with_counters(PIPE_SIZE - 10);
        let mut calls = Vec::new();
        let outcome = pipe.write_with(30, |offset, chunk| {
            calls.push((offset, chunk.len()));
            chunk.fill(offset as u8);
            Ok::<(), ()>(())
        });
        assert_eq!(outcome, Ok(PipeWrite::Wrote(30)));
        assert_eq!(calls, [(0, 10), (10, 20)]);
        let mut seen = Vec::new();
        let outcome = pipe.read_with(30, |offset, chunk| {
            seen.push((offset, chunk.to_vec()));
            Ok::<(), ()>(())
        });
        assert_eq!(outcome, Ok(PipeRead::Read(30)));
        assert_eq!(seen, [(0, vec![0; 10]), (10, vec![10; 20])]);
    }

    #[test]
    fn a_failed_copy_changes_nothing() {
        let mut pipe = pipe_with_counters(PIPE_SIZE - 10);
        // The second chunk faults (a bad user page): the write must not count.
        let result = pipe.write_with(30, |offset, _| if offset == 0 { Ok(()) } else { Err("EFAULT") });
        assert_eq!(result, Err("EFAULT"));
        assert!(pipe.is_empty());
        let _ = pipe.write(b"keep me");
        let result = pipe.read_with(7, |_, _| Err("EFAULT"));
        assert_eq!(result, Err("EFAULT"));
        assert_eq!(read_n(&mut pipe, 7).unwrap(), b"keep me");
    }

    /// One step of the property test.
    #[derive(Debug, Clone)]
    enum Op {
        Write(usize),
        Read(usize),
        AddReader,
        AddWriter,
        CloseReader,
        CloseWriter,
    }

    /// Lengths around the interesting boundaries: tiny, PIPE_BUF, PIPE_SIZE.
    fn length() -> impl Strategy<Value = usize> {
        prop_oneof![0usize..16, PIPE_BUF - 100..PIPE_BUF + 100, PIPE_SIZE - 600..PIPE_SIZE + 600]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            8 => length().prop_map(Op::Write),
            6 => length().prop_map(Op::Read),
            1 => Just(Op::AddReader),
            1 => Just(Op::AddWriter),
            1 => Just(Op::CloseReader),
            1 => Just(Op::CloseWriter),
        ]
    }

    proptest! {
        /// Random operation sequences agree with a VecDeque and two counters.
        #[test]
        fn agrees_with_a_vecdeque_model(start in prop_oneof![Just(0usize), Just(usize::MAX - 3000), any::<usize>()],
                                        ops in prop::collection::vec(op(), 1..80)) {
            let mut pipe = pipe_with_counters(start);
            let mut model: VecDeque<u8> = VecDeque::new();
            let (mut readers, mut writers) = (1u32, 1u32);
            let mut next_byte = 0u8;
            for op in ops {
                match op {
                    Op::Write(len) => {
                        let data: Vec<u8> = (0..len).map(|_| { next_byte = next_byte.wrapping_add(1); next_byte }).collect();
                        let free = PIPE_SIZE - model.len();
                        let expected = if len == 0 {
                            PipeWrite::Wrote(0)
                        } else if readers == 0 {
                            PipeWrite::BrokenPipe
                        } else if free == 0 || (len <= PIPE_BUF && free < len) {
                            PipeWrite::WouldBlock
                        } else {
                            PipeWrite::Wrote(len.min(free))
                        };
                        if let PipeWrite::Wrote(n) = expected {
                            model.extend(&data[..n]);
                        }
                        prop_assert_eq!(pipe.write(&data), expected);
                    }
                    Op::Read(len) => {
                        let got = read_n(&mut pipe, len);
                        let expected = if len == 0 {
                            Ok(Vec::new())
                        } else if model.is_empty() {
                            Err(if writers == 0 { PipeRead::EndOfFile } else { PipeRead::WouldBlock })
                        } else {
                            let n = len.min(model.len());
                            Ok(model.drain(..n).collect())
                        };
                        prop_assert_eq!(got, expected);
                    }
                    Op::AddReader => {
                        let expected = if readers == 0 { Err(PipeError::EndClosed) } else { readers += 1; Ok(()) };
                        prop_assert_eq!(pipe.add_reader(), expected);
                    }
                    Op::AddWriter => {
                        let expected = if writers == 0 { Err(PipeError::EndClosed) } else { writers += 1; Ok(()) };
                        prop_assert_eq!(pipe.add_writer(), expected);
                    }
                    Op::CloseReader => {
                        let expected = if readers == 0 { Err(PipeError::EndClosed) } else {
                            readers -= 1;
                            Ok(Wakeup { readers: false, writers: readers == 0 })
                        };
                        prop_assert_eq!(pipe.close_reader(), expected);
                    }
                    Op::CloseWriter => {
                        let expected = if writers == 0 { Err(PipeError::EndClosed) } else {
                            writers -= 1;
                            Ok(Wakeup { readers: writers == 0, writers: false })
                        };
                        prop_assert_eq!(pipe.close_writer(), expected);
                    }
                }
                // The invariant, checked after every step.
                prop_assert!(pipe.len() <= PIPE_SIZE);
                prop_assert_eq!(pipe.len(), model.len());
                prop_assert_eq!((pipe.readers(), pipe.writers()), (readers, writers));
            }
        }
    }
}
