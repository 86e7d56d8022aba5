//! `print!`/`println!` through the kernel's debug console (`debug_print`).
//!
//! For root tasks and early servers, before a console server exists. Text
//! is sent in pieces of at most `MAX_PIECE` bytes.

use crate::sys;
use common::abi::micro::{Error, Sys};
use core::fmt;

const MAX_PIECE: usize = 256;

/// Prints `text` on the kernel console.
pub fn debug_print(text: &str) -> Result<(), Error> {
    for piece in text.as_bytes().chunks(MAX_PIECE) {
        debug_print_raw(piece.as_ptr() as u64, piece.len() as u64)?;
    }
    Ok(())
}

/// The raw call (tests pass bad pointers through it).
pub fn debug_print_raw(pointer: u64, length: u64) -> Result<(), Error> {
    Error::check(sys::call(Sys::DebugPrint, [pointer, length, 0, 0, 0, 0, 0, 0]).0)
}

/// A `fmt::Write` that prints through [`debug_print`].
pub struct DebugConsole;

impl fmt::Write for DebugConsole {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        debug_print(text).map_err(|_| fmt::Error)
    }
}

/// Collects formatted text and prints it in as few calls as possible, so a
/// line from `println!` reaches the console in one piece.
struct Buffered {
    bytes: [u8; MAX_PIECE],
    len: usize,
}

impl Buffered {
    fn flush(&mut self) {
        if self.len > 0 {
            let _ = debug_print_raw(self.bytes.as_ptr() as u64, self.len as u64);
            self.len = 0;
        }
    }
}

impl fmt::Write for Buffered {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        for &byte in text.as_bytes() {
            if self.len == MAX_PIECE {
                self.flush();
            }
            self.bytes[self.len] = byte;
            self.len += 1;
        }
        Ok(())
    }
}

#[doc(hidden)]
pub fn _print(args: fmt::Arguments) {
    let mut out = Buffered { bytes: [0; MAX_PIECE], len: 0 };
    let _ = fmt::Write::write_fmt(&mut out, args);
    out.flush();
}

/// Prints to the kernel console.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => ($crate::print::_print(format_args!($($arg)*)));
}

/// Prints a line to the kernel console.
#[macro_export]
macro_rules! println {
    () => ($crate::print!("\n"));
    ($($arg:tt)*) => ($crate::print::_print(format_args!("{}\n", format_args!($($arg)*))));
}
