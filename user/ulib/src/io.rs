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

/// Reads a file descriptor in chunks and splits the bytes into lines.
pub struct LineReader {
    /// Where the bytes come from.
    fd: Fd,
    /// Bytes read but not yet handed out: `chunk[start..end]`.
    chunk: Vec<u8>,
    /// Invariant: `start <= end <= chunk.len()`.
    start: usize,
    end: usize,
    /// Set once `read` has returned 0.
    at_eof: bool,
}

impl LineReader {
    /// Bytes requested from the kernel per `read`.
    pub const CHUNK_SIZE: usize = 1024;

    /// A reader over `fd`.
    pub fn new(fd: Fd) -> LineReader {
        LineReader {
            fd,
            chunk: alloc::vec![0; Self::CHUNK_SIZE],
            start: 0,
            end: 0,
            at_eof: false,
        }
    }

    /// Puts the next line (with its newline, if it had one) into `line`.
    /// Returns `false` at end of input.
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
            let n = read(self.fd, &mut self.chunk)?;
            self.start = 0;
            self.end = n;
            if n == 0 {
                self.at_eof = true;
            }
        }
    }
}
