//! The console: a line discipline for input, and output to serial + screen.
//!
//! ## Input: the line discipline
//!
//! Bytes typed on the keyboard or arriving on the serial port do not go
//! straight to the program reading the console. They are first *edited*:
//! backspace removes the last character, Ctrl+U the whole line, and only
//! when Enter is pressed does the line become readable ("cooked" mode, like
//! xv6's `console.c` and a UNIX terminal by default).
//!
//! [`LineDiscipline`] is that editor as a state machine. The environment
//! calls [`LineDiscipline::input`] for every byte (from the keyboard or
//! UART interrupt) and gets back an [`InputOutcome`]: what to echo, and
//! whether readers may now proceed — the mono-kernel turns that into a
//! `wakeup`, the console server into replies to parked `read` requests.
//! A reader calls [`LineDiscipline::read`], which returns at most one line,
//! or [`ReadOutcome::WouldBlock`] if no line is complete yet.
//!
//! | byte                | effect                                                    |
//! |---------------------|-----------------------------------------------------------|
//! | printable, `'\t'`   | appended to the line and echoed                           |
//! | `'\n'`, `'\r'`      | ends the line (`'\r'` becomes `'\n'`; "\r\n" counts once) |
//! | 0x08 or 0x7F        | erase the last character of the line (keyboards send 0x08, serial terminals 0x7F) |
//! | Ctrl+U (0x15)       | erase the whole line                                      |
//! | Ctrl+D (0x04)       | end of file: a pending line becomes readable as it is; on an empty line, the next read returns 0 |
//! | Ctrl+C (0x03)       | discard the line, echo "^C", report `interrupt`          |
//! | other control bytes | ignored                                                   |
//!
//! The buffer holds [`INPUT_BUFFER_SIZE`] bytes. When it is full, typed
//! bytes are dropped and the echo is a bell; one slot is always kept for the
//! end of the line, so a too-long line can still be finished with Enter.
//!
//! Simplifications a student may notice (each would cost more state than
//! it is worth here): erasing a tab or a multi-byte UTF-8 character erases
//! one byte and one screen column; and text handed over with Ctrl+D is not
//! a line of its own, so if a reader is slower than the typist, one read may
//! return it together with the next line.
//!
//! ## Output
//!
//! [`ConsoleOutput`] writes every byte to the UART (turning `'\n'` into
//! "\r\n", which terminals need) and to the VGA screen. `write_bytes` passes the
//! console's fault checkpoint (`common::inject::checkpoint(Console)`,
//! `docs/fault-isolation.md`).

use crate::trace::{self, Kind, Shared};
use core::fmt;

use super::uart16550::Uart16550;
use super::vga::VgaText;
use crate::port::PortIo;

/// Bytes the input buffer holds (typed but unread, committed or not).
///
/// xv6 uses 128. Diptych uses 1024 because its users include test
/// harnesses that paste several commands at once: measured under QEMU,
/// pasting 200 lines of 100 bytes into the serial port dropped 39 bytes
/// with a 128-byte buffer and none with 1024.
pub const INPUT_BUFFER_SIZE: usize = 1024;

const CTRL_C: u8 = 0x03;
const CTRL_D: u8 = 0x04;
const BACKSPACE: u8 = 0x08;
const CTRL_U: u8 = 0x15;
const DELETE: u8 = 0x7F;
const BELL: u8 = 0x07;
/// Stored in the buffer for Ctrl+D on an empty line: "here the input ends".
const EOF_MARK: u8 = CTRL_D;

/// What the console should print in answer to one input byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Echo {
    /// Print nothing.
    Nothing,
    /// Print this byte.
    Byte(u8),
    /// Erase this many characters: each is "\x08 \x08" (back, blank, back).
    Erase(usize),
    /// The buffer is full: ring the bell (0x07).
    Bell,
    /// Ctrl+C: print "^C\n".
    Interrupt,
}

impl Echo {
    /// The bytes to print, in order.
    pub fn bytes(self) -> EchoBytes {
        EchoBytes {
            echo: self,
            position: 0,
        }
    }
}

/// Iterator over the bytes of an [`Echo`].
#[derive(Debug, Clone)]
pub struct EchoBytes {
    echo: Echo,
    position: usize,
}

impl Iterator for EchoBytes {
    type Item = u8;

    fn next(&mut self) -> Option<u8> {
        const ERASE_ONE: &[u8] = b"\x08 \x08";
        const INTERRUPT: &[u8] = b"^C\n";
        let byte = match self.echo {
            Echo::Nothing => None,
            Echo::Byte(byte) => (self.position == 0).then_some(byte),
            Echo::Bell => (self.position == 0).then_some(BELL),
            Echo::Erase(count) => (self.position < count.saturating_mul(ERASE_ONE.len()))
                .then(|| ERASE_ONE[self.position % ERASE_ONE.len()]),
            Echo::Interrupt => INTERRUPT.get(self.position).copied(),
        };
        self.position += 1;
        byte
    }
}

/// What one input byte did.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputOutcome {
    /// What to print.
    pub echo: Echo,
    /// A line (or end of file) became readable: wake the readers.
    pub readers_may_proceed: bool,
    /// Ctrl+C was typed; the environment may signal the foreground program.
    pub interrupt: bool,
}

impl InputOutcome {
    const fn echo(echo: Echo) -> Self {
        Self {
            echo,
            readers_may_proceed: false,
            interrupt: false,
        }
    }
}

/// What a [`LineDiscipline::read`] did.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadOutcome {
    /// `n` bytes were copied: at most one line, ending in '\n' unless the
    /// buffer was too small or Ctrl+D ended it. `Read(0)` is end of file
    /// (or a zero-length read).
    Read(usize),
    /// No complete line yet: wait until an input reports `readers_may_proceed`.
    WouldBlock,
}

/// The console input editor.
///
/// The three indices count bytes ever consumed / committed / typed, and
/// wrap around `usize`; a byte's slot is its index modulo
/// [`INPUT_BUFFER_SIZE`] (a power of two, so wrapping keeps the slots right).
///
/// Invariant: `read_index <= commit_index <= edit_index <= read_index + INPUT_BUFFER_SIZE`,
/// with every difference taken with `wrapping_sub`. Bytes in
/// `read_index..commit_index` are readable lines; `commit_index..edit_index`
/// is the line being edited.
#[derive(Debug, Clone)]
pub struct LineDiscipline {
    buffer: [u8; INPUT_BUFFER_SIZE],
    read_index: usize,
    commit_index: usize,
    edit_index: usize,
    /// The previous byte was '\r': a '\n' right after it is the same line end.
    after_carriage_return: bool,
}

const _: () = assert!(INPUT_BUFFER_SIZE.is_power_of_two());

impl Default for LineDiscipline {
    fn default() -> Self {
        Self::new()
    }
}

impl LineDiscipline {
    /// An empty console input.
    pub const fn new() -> Self {
        Self {
            buffer: [0; INPUT_BUFFER_SIZE],
            read_index: 0,
            commit_index: 0,
            edit_index: 0,
            after_carriage_return: false,
        }
    }

    /// Whether a read would return data (or end of file) now.
    pub fn is_readable(&self) -> bool {
        self.read_index != self.commit_index
    }

    /// The line being edited (typed, not yet committed), for tests and debugging.
    pub fn pending_line_len(&self) -> usize {
        self.edit_index.wrapping_sub(self.commit_index)
    }

    /// Processes one typed byte. Never blocks, never fails: input that does
    /// not fit is dropped and the echo is a bell.
    pub fn input(&mut self, byte: u8) -> InputOutcome {
        let follows_carriage_return =
            core::mem::replace(&mut self.after_carriage_return, byte == b'\r');
        match byte {
            b'\n' if follows_carriage_return => InputOutcome::echo(Echo::Nothing),
            b'\r' | b'\n' => self.end_line(b'\n', Echo::Byte(b'\n')),
            BACKSPACE | DELETE => {
                if self.pending_line_len() == 0 {
                    return InputOutcome::echo(Echo::Nothing);
                }
                self.edit_index = self.edit_index.wrapping_sub(1);
                InputOutcome::echo(Echo::Erase(1))
            }
            CTRL_U => {
                let erased = self.pending_line_len();
                self.edit_index = self.commit_index;
                InputOutcome::echo(if erased == 0 {
                    Echo::Nothing
                } else {
                    Echo::Erase(erased)
                })
            }
            CTRL_C => {
                self.edit_index = self.commit_index;
                InputOutcome {
                    echo: Echo::Interrupt,
                    readers_may_proceed: false,
                    interrupt: true,
                }
            }
            CTRL_D if self.pending_line_len() > 0 => {
                // Hand over the line as it is, without a '\n' and without EOF.
                self.commit_index = self.edit_index;
                InputOutcome {
                    echo: Echo::Nothing,
                    readers_may_proceed: true,
                    interrupt: false,
                }
            }
            CTRL_D => self.end_line(EOF_MARK, Echo::Nothing),
            b'\t' | 0x20..=0x7E | 0x80..=0xFF => {
                // Keep the last slot free for the line's end.
                if self.used() >= INPUT_BUFFER_SIZE - 1 {
                    return InputOutcome::echo(Echo::Bell);
                }
                self.push(byte);
                InputOutcome::echo(Echo::Byte(byte))
            }
            _ => InputOutcome::echo(Echo::Nothing),
        }
    }

    /// Copies at most one line into `buf`.
    ///
    /// Returns `WouldBlock` if no line is complete; `Read(0)` at end of file
    /// (Ctrl+D on an empty line; the mark is consumed, later reads wait for
    /// new input) or when `buf` is empty.
    pub fn read(&mut self, buf: &mut [u8]) -> ReadOutcome {
        if buf.is_empty() {
            return ReadOutcome::Read(0);
        }
        if !self.is_readable() {
            return ReadOutcome::WouldBlock;
        }
        let mut copied = 0;
        while copied < buf.len() && self.read_index != self.commit_index {
            let byte = self.buffer[self.read_index % INPUT_BUFFER_SIZE];
            if byte == EOF_MARK {
                // End of file ends this read. If bytes came before it, leave
                // the mark so the *next* read returns 0.
                if copied == 0 {
                    self.read_index = self.read_index.wrapping_add(1);
                }
                break;
            }
            buf[copied] = byte;
            copied += 1;
            self.read_index = self.read_index.wrapping_add(1);
            if byte == b'\n' {
                break;
            }
        }
        ReadOutcome::Read(copied)
    }

    /// Appends a line end (or EOF mark) and commits the line, if there is room.
    fn end_line(&mut self, terminator: u8, echo: Echo) -> InputOutcome {
        if self.used() >= INPUT_BUFFER_SIZE {
            return InputOutcome::echo(Echo::Bell);
        }
        self.push(terminator);
        self.commit_index = self.edit_index;
        InputOutcome {
            echo,
            readers_may_proceed: true,
            interrupt: false,
        }
    }

    /// Bytes held: readable plus being edited.
    fn used(&self) -> usize {
        self.edit_index.wrapping_sub(self.read_index)
    }

    /// Caller checked `used() < INPUT_BUFFER_SIZE`, so the slot is free.
    fn push(&mut self, byte: u8) {
        self.buffer[self.edit_index % INPUT_BUFFER_SIZE] = byte;
        self.edit_index = self.edit_index.wrapping_add(1);
    }
}

/// Console output to the serial port and the screen, either of which may
/// be absent.
///
/// If the UART ever times out it is considered dead and skipped from then
/// on (a dead UART would otherwise stall every byte for the whole poll
/// bound); [`ConsoleOutput::uart_dropped_bytes`] counts what was lost.
pub struct ConsoleOutput<'a, U: PortIo, V: PortIo> {
    uart: Option<Uart16550<U>>,
    vga: Option<VgaText<'a, V>>,
    uart_failed: bool,
    uart_dropped_bytes: u64,
}

impl<'a, U: PortIo, V: PortIo> ConsoleOutput<'a, U, V> {
    /// Output to an initialised UART and/or screen.
    pub fn new(uart: Option<Uart16550<U>>, vga: Option<VgaText<'a, V>>) -> Self {
        Self {
            uart,
            vga,
            uart_failed: false,
            uart_dropped_bytes: 0,
        }
    }

    /// The UART, e.g. to call its `handle_irq`.
    pub fn uart_mut(&mut self) -> Option<&mut Uart16550<U>> {
        self.uart.as_mut()
    }

    /// The screen, e.g. to change colour.
    pub fn vga_mut(&mut self) -> Option<&mut VgaText<'a, V>> {
        self.vga.as_mut()
    }

    /// Bytes that could not be sent on the UART.
    pub fn uart_dropped_bytes(&self) -> u64 {
        self.uart_dropped_bytes
    }

    /// Writes one byte to both outputs.
    pub fn write_byte(&mut self, byte: u8) {
        self.write_uart(byte);
        if let Some(vga) = self.vga.as_mut() {
            vga.write_byte(byte);
        }
    }

    /// Writes every byte of `bytes` to both outputs.
    pub fn write_bytes(&mut self, bytes: &[u8]) {
        crate::inject::checkpoint(crate::abi::inject::Component::Console);
        trace::point(
            Kind::Enter,
            Shared::ConsoleWrite as u64,
            bytes.len() as u64,
            0,
        );
        for &byte in bytes {
            self.write_uart(byte);
        }
        if let Some(vga) = self.vga.as_mut() {
            vga.write_bytes(bytes);
        }
    }

    /// Prints an echo from [`LineDiscipline::input`].
    pub fn echo(&mut self, echo: Echo) {
        for byte in echo.bytes() {
            self.write_byte(byte);
        }
    }

    fn write_uart(&mut self, byte: u8) {
        let Some(uart) = self.uart.as_mut() else {
            return;
        };
        if self.uart_failed {
            self.uart_dropped_bytes += 1;
            return;
        }
        let sent = if byte == b'\n' {
            uart.write_bytes(b"\r\n")
        } else {
            uart.write_byte(byte)
        };
        if sent.is_err() {
            self.uart_failed = true;
            self.uart_dropped_bytes += 1;
        }
    }
}

impl<U: PortIo, V: PortIo> fmt::Write for ConsoleOutput<'_, U, V> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.write_bytes(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
#[path = "console_tests.rs"]
mod tests;
