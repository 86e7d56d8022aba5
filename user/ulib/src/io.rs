//! Printing and reading lines.
//!
//! `print!`, `println!` (file descriptor 1) and `eprint!`, `eprintln!`
//! (file descriptor 2) format into a [`FormatBuffer`] on the stack, so each
//! call normally becomes exactly one `write` system call (see
//! [`crate::fmtbuf`]). Errors while printing are ignored, as in C's
//! `printf`: a program whose output is gone has no better place to report it.
//!
//! [`LineReader`] reads a file descriptor in chunks and hands out one line at
//! a time (grep, wc); [`read_line`] reads byte by byte and stops right after
//! the newline, never consuming input that belongs to someone else — which is
//! what the shell needs, because its children inherit the same input.

use crate::Errno;
use crate::file::{Fd, read, write_all};
use crate::fmtbuf::FormatBuffer;
use alloc::vec::Vec;
use core::fmt;

/// Bytes of stack used to assemble one print.
const PRINT_BUFFER_SIZE: usize = 512;

/// Formats `args` and writes the text to `fd`, in one `write` if it fits in
/// [`PRINT_BUFFER_SIZE`] bytes. Used by the printing macros.
pub fn print_to(fd: Fd, args: fmt::Arguments) {
    let mut storage = [0u8; PRINT_BUFFER_SIZE];
    let mut buffer = FormatBuffer::new(&mut storage, |bytes: &[u8]| {
        // Printing errors are deliberately ignored (see the module comment).
        let _ = write_all(fd, bytes);
    });
    let _ = fmt::Write::write_fmt(&mut buffer, args);
    buffer.flush();
}

/// Prints to standard output (fd 1).
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => { $crate::io::print_to($crate::Fd::STDOUT, format_args!($($arg)*)) };
}

/// Prints to standard output (fd 1), then a newline.
#[macro_export]
macro_rules! println {
    () => { $crate::io::print_to($crate::Fd::STDOUT, format_args!("\n")) };
    ($($arg:tt)*) => {
        $crate::io::print_to($crate::Fd::STDOUT, format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// Prints to standard error (fd 2).
#[macro_export]
macro_rules! eprint {
    ($($arg:tt)*) => { $crate::io::print_to($crate::Fd::STDERR, format_args!($($arg)*)) };
}

/// Prints to standard error (fd 2), then a newline.
#[macro_export]
macro_rules! eprintln {
    () => { $crate::io::print_to($crate::Fd::STDERR, format_args!("\n")) };
    ($($arg:tt)*) => {
        $crate::io::print_to($crate::Fd::STDERR, format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// Prints to any file descriptor: `fprintln!(fd, "x = {}", x)`.
#[macro_export]
macro_rules! fprintln {
    ($fd:expr, $($arg:tt)*) => {
        $crate::io::print_to($fd, format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// Reads one line from `fd` into `line` (cleared first), one byte at a time,
/// stopping after the newline, at end of input, or after `max` bytes.
///
/// Returns the number of bytes read (including the newline, if any); `0`
/// means end of input. Reading byte by byte is slow, but it never takes
/// bytes past the newline away from another process sharing the input.
pub fn read_line(fd: Fd, line: &mut Vec<u8>, max: usize) -> Result<usize, Errno> {
    line.clear();
    let mut byte = [0u8; 1];
    while line.len() < max {
        if read(fd, &mut byte)? == 0 {
            break;
        }
        line.push(byte[0]);
        if byte[0] == b'\n' {
            break;
        }
    }
    Ok(line.len())
}

/// Something bytes can be read from: a file descriptor, or (in tests) a
/// fake that hands out prepared chunks.
pub trait ByteSource {
    /// Reads up to `buf.len()` bytes; 0 means end of input.
    fn read_into(&mut self, buf: &mut [u8]) -> Result<usize, Errno>;
}

impl ByteSource for Fd {
    fn read_into(&mut self, buf: &mut [u8]) -> Result<usize, Errno> {
        read(*self, buf)
    }
}

/// Reads a source (normally a file descriptor) in chunks and splits the
/// bytes into lines.
pub struct LineReader<S: ByteSource = Fd> {
    /// Where the bytes come from.
    source: S,
    /// Bytes read but not yet handed out: `chunk[start..end]`.
    chunk: Vec<u8>,
    /// Invariant: `start <= end <= chunk.len()`.
    start: usize,
    end: usize,
    /// Set once the source has reported end of input.
    at_eof: bool,
}

impl<S: ByteSource> LineReader<S> {
    /// Bytes requested from the source per read.
    pub const CHUNK_SIZE: usize = 1024;

    /// A reader over `source` (for example an `Fd`).
    pub fn new(source: S) -> LineReader<S> {
        LineReader {
            source,
            chunk: alloc::vec![0; Self::CHUNK_SIZE],
            start: 0,
            end: 0,
            at_eof: false,
        }
    }

    /// Puts the next line (with its newline, if it had one) into `line`.
    /// Returns `false` at end of input. A last line without a newline is
    /// still returned.
    pub fn next_line(&mut self, line: &mut Vec<u8>) -> Result<bool, Errno> {
        line.clear();
        loop {
            if self.start < self.end {
                let pending = &self.chunk[self.start..self.end];
                if let Some(newline) = pending.iter().position(|&b| b == b'\n') {
                    line.extend_from_slice(&pending[..=newline]);
                    self.start += newline + 1;
                    return Ok(true);
                }
                line.extend_from_slice(pending);
                self.start = self.end;
            }
            if self.at_eof {
                return Ok(!line.is_empty());
            }
            let n = self
                .source
                .read_into(&mut self.chunk)?
                .min(self.chunk.len());
            self.start = 0;
            self.end = n;
            if n == 0 {
                self.at_eof = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::VecDeque;

    /// Hands out prepared chunks, then end of input (or an error).
    struct Chunks {
        chunks: VecDeque<Result<Vec<u8>, Errno>>,
    }

    impl Chunks {
        fn new(parts: &[&[u8]]) -> Chunks {
            Chunks {
                chunks: parts.iter().map(|p| Ok(p.to_vec())).collect(),
            }
        }
    }

    impl ByteSource for Chunks {
        fn read_into(&mut self, buf: &mut [u8]) -> Result<usize, Errno> {
            match self.chunks.pop_front() {
                None => Ok(0),
                Some(Err(e)) => Err(e),
                Some(Ok(mut chunk)) => {
                    if chunk.len() > buf.len() {
                        let rest = chunk.split_off(buf.len());
                        self.chunks.push_front(Ok(rest));
                    }
                    buf[..chunk.len()].copy_from_slice(&chunk);
                    Ok(chunk.len())
                }
            }
        }
    }

    fn all_lines(source: Chunks) -> Vec<Vec<u8>> {
        let mut reader = LineReader::new(source);
        let mut lines = Vec::new();
        let mut line = Vec::new();
        while reader.next_line(&mut line).unwrap() {
            lines.push(line.clone());
        }
        lines
    }

    #[test]
    fn lines_split_across_chunks() {
        let lines = all_lines(Chunks::new(&[b"ab", b"c\nde", b"f\n\ng"]));
        assert_eq!(
            lines,
            [
                b"abc\n".to_vec(),
                b"def\n".to_vec(),
                b"\n".to_vec(),
                b"g".to_vec()
            ]
        );
    }

    #[test]
    fn empty_input_has_no_lines() {
        assert!(all_lines(Chunks::new(&[])).is_empty());
    }

    #[test]
    fn a_line_longer_than_a_chunk() {
        let long = alloc::vec![b'x'; 3 * LineReader::<Fd>::CHUNK_SIZE + 5];
        let mut input = long.clone();
        input.push(b'\n');
        let lines = all_lines(Chunks::new(&[&input]));
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].len(), long.len() + 1);
    }

    #[test]
    fn errors_are_passed_on() {
        let mut source = Chunks::new(&[b"partial"]);
        source.chunks.push_back(Err(Errno::EIO));
        let mut reader = LineReader::new(source);
        let mut line = Vec::new();
        assert_eq!(reader.next_line(&mut line), Err(Errno::EIO));
    }
}
