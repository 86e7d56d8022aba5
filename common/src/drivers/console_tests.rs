//! Host tests for the console line discipline and console output.

use super::*;
use crate::drivers::fake_ports::FakePorts;
use crate::drivers::uart16550::COM1_BASE;
use crate::drivers::vga::{HEIGHT, WIDTH};
use alloc::vec;
use alloc::vec::Vec;
use proptest::prelude::*;

/// Types `bytes`, returning everything echoed and whether any input woke readers.
fn type_bytes(console: &mut LineDiscipline, bytes: &[u8]) -> (Vec<u8>, bool) {
    let mut echoed = Vec::new();
    let mut woke = false;
    for &byte in bytes {
        let outcome = console.input(byte);
        echoed.extend(outcome.echo.bytes());
        woke |= outcome.readers_may_proceed;
    }
    (echoed, woke)
}

/// Reads once with a buffer of `size` bytes.
fn read_once(console: &mut LineDiscipline, size: usize) -> Option<Vec<u8>> {
    let mut buf = vec![0; size];
    match console.read(&mut buf) {
        ReadOutcome::Read(n) => Some(buf[..n].to_vec()),
        ReadOutcome::WouldBlock => None,
    }
}

#[test]
fn a_line_is_readable_only_after_enter() {
    let mut console = LineDiscipline::new();
    let (echo, woke) = type_bytes(&mut console, b"ls");
    assert_eq!(echo, b"ls");
    assert!(!woke);
    assert_eq!(read_once(&mut console, 64), None);
    let (echo, woke) = type_bytes(&mut console, b"\n");
    assert_eq!(echo, b"\n");
    assert!(woke);
    assert_eq!(read_once(&mut console, 64).unwrap(), b"ls\n");
    assert_eq!(read_once(&mut console, 64), None, "consumed");
}

#[test]
fn one_line_per_read_and_small_buffers() {
    let mut console = LineDiscipline::new();
    let _ = type_bytes(&mut console, b"first\nsecond\n");
    assert_eq!(read_once(&mut console, 64).unwrap(), b"first\n");
    assert_eq!(read_once(&mut console, 4).unwrap(), b"seco");
    assert_eq!(read_once(&mut console, 4).unwrap(), b"nd\n");
    assert_eq!(read_once(&mut console, 0).unwrap(), b"", "zero-length read");
}

#[test]
fn backspace_and_delete_erase_one_character() {
    let mut console = LineDiscipline::new();
    let (echo, _) = type_bytes(&mut console, b"cax\x08t\x7f\x7fat\n");
    assert_eq!(echo, b"cax\x08 \x08t\x08 \x08\x08 \x08at\n");
    assert_eq!(read_once(&mut console, 64).unwrap(), b"cat\n");
}

#[test]
fn backspace_cannot_erase_a_committed_line() {
    let mut console = LineDiscipline::new();
    let (echo, _) = type_bytes(&mut console, b"a\n\x08\x08b\n");
    assert_eq!(echo, b"a\nb\n");
    assert_eq!(read_once(&mut console, 64).unwrap(), b"a\n");
    assert_eq!(read_once(&mut console, 64).unwrap(), b"b\n");
}

#[test]
fn ctrl_u_kills_the_line() {
    let mut console = LineDiscipline::new();
    let outcome = type_bytes(&mut console, b"rm -rf");
    assert_eq!(outcome.0, b"rm -rf");
    let kill = console.input(CTRL_U);
    assert_eq!(kill.echo, Echo::Erase(6));
    assert_eq!(kill.echo.bytes().count(), 18);
    assert_eq!(console.input(CTRL_U).echo, Echo::Nothing);
    let _ = type_bytes(&mut console, b"ls\n");
    assert_eq!(read_once(&mut console, 64).unwrap(), b"ls\n");
}

#[test]
fn ctrl_d_on_an_empty_line_is_end_of_file() {
    let mut console = LineDiscipline::new();
    let outcome = console.input(CTRL_D);
    assert!(outcome.readers_may_proceed);
    assert_eq!(outcome.echo, Echo::Nothing);
    assert_eq!(read_once(&mut console, 64).unwrap(), b"", "EOF reads 0");
    assert_eq!(read_once(&mut console, 64), None, "the EOF is consumed");
}

#[test]
fn ctrl_d_after_text_hands_over_the_text() {
    let mut console = LineDiscipline::new();
    let (_, woke) = type_bytes(&mut console, b"abc\x04");
    assert!(woke);
    assert_eq!(read_once(&mut console, 64).unwrap(), b"abc");
    assert_eq!(
        read_once(&mut console, 64),
        None,
        "no EOF after pushed text"
    );
    let _ = type_bytes(&mut console, b"\x04");
    assert_eq!(read_once(&mut console, 64).unwrap(), b"");
}

#[test]
fn lines_before_an_eof_are_read_first() {
    let mut console = LineDiscipline::new();
    let _ = type_bytes(&mut console, b"x\n\x04");
    assert_eq!(read_once(&mut console, 64).unwrap(), b"x\n");
    assert_eq!(read_once(&mut console, 64).unwrap(), b"");
}

#[test]
fn carriage_returns_end_lines_once() {
    let mut console = LineDiscipline::new();
    let (echo, _) = type_bytes(&mut console, b"a\rb\r\nc\n\n");
    assert_eq!(echo, b"a\nb\nc\n\n");
    for expected in [&b"a\n"[..], b"b\n", b"c\n", b"\n"] {
        assert_eq!(read_once(&mut console, 64).unwrap(), expected);
    }
    assert_eq!(read_once(&mut console, 64), None);
}

#[test]
fn ctrl_c_discards_the_line_and_reports_it() {
    let mut console = LineDiscipline::new();
    let _ = type_bytes(&mut console, b"sleep 100");
    let outcome = console.input(CTRL_C);
    assert!(outcome.interrupt);
    assert!(!outcome.readers_may_proceed);
    assert_eq!(outcome.echo.bytes().collect::<Vec<_>>(), b"^C\n");
    assert_eq!(console.pending_line_len(), 0);
    let _ = type_bytes(&mut console, b"ok\n");
    assert_eq!(read_once(&mut console, 64).unwrap(), b"ok\n");
}

#[test]
fn other_control_bytes_are_ignored() {
    let mut console = LineDiscipline::new();
    let (echo, _) = type_bytes(&mut console, b"a\x1b\x00\x01b\tc\n");
    assert_eq!(echo, b"ab\tc\n");
    assert_eq!(read_once(&mut console, 64).unwrap(), b"ab\tc\n");
}

#[test]
fn an_overlong_line_rings_the_bell_but_can_still_end() {
    let mut console = LineDiscipline::new();
    let typed = INPUT_BUFFER_SIZE + 72;
    let (echo, _) = type_bytes(&mut console, &vec![b'x'; typed]);
    let bells = echo.iter().filter(|&&b| b == BELL).count();
    assert_eq!(bells, typed - (INPUT_BUFFER_SIZE - 1));
    let (_, woke) = type_bytes(&mut console, b"\n");
    assert!(woke, "the reserved slot takes the newline");
    let line = read_once(&mut console, 2 * INPUT_BUFFER_SIZE).unwrap();
    assert_eq!(line.len(), INPUT_BUFFER_SIZE);
    assert_eq!(line.last(), Some(&b'\n'));
}

#[test]
fn a_full_buffer_of_unread_lines_refuses_everything() {
    let mut console = LineDiscipline::new();
    for _ in 0..INPUT_BUFFER_SIZE / 2 {
        let _ = type_bytes(&mut console, b"y\n");
    }
    assert_eq!(console.input(b'z').echo, Echo::Bell);
    assert_eq!(console.input(b'\n'), InputOutcome::echo(Echo::Bell));
    assert_eq!(console.input(CTRL_D).echo, Echo::Bell);
    // Reading one line makes room again.
    assert_eq!(read_once(&mut console, 64).unwrap(), b"y\n");
    let _ = type_bytes(&mut console, b"\n");
    assert!(console.is_readable());
}

#[test]
fn the_buffer_wraps_around_many_times() {
    let mut console = LineDiscipline::new();
    for n in 0..1000 {
        let line = alloc::format!("line {n}\n");
        let _ = type_bytes(&mut console, line.as_bytes());
        assert_eq!(read_once(&mut console, 64).unwrap(), line.as_bytes());
    }
}

/// A simple model of the line discipline: the committed bytes and the
/// edit line as plain vectors, following the rules in the module doc.
#[derive(Default)]
struct Model {
    committed: std::collections::VecDeque<u8>,
    line: Vec<u8>,
    after_cr: bool,
}

impl Model {
    fn input(&mut self, byte: u8) {
        let after_cr = core::mem::replace(&mut self.after_cr, byte == b'\r');
        let used = self.committed.len() + self.line.len();
        let line_ends = matches!(byte, b'\r' | b'\n') || (byte == CTRL_D && self.line.is_empty());
        match byte {
            b'\n' if after_cr => {}
            _ if line_ends && used < INPUT_BUFFER_SIZE => {
                self.line
                    .push(if byte == CTRL_D { EOF_MARK } else { b'\n' });
                self.committed.extend(self.line.drain(..));
            }
            _ if line_ends => {} // full: dropped
            CTRL_D => self.committed.extend(self.line.drain(..)),
            BACKSPACE | DELETE => {
                self.line.pop();
            }
            CTRL_U | CTRL_C => self.line.clear(),
            b'\t' | 0x20..=0x7E | 0x80..=0xFF if used < INPUT_BUFFER_SIZE - 1 => {
                self.line.push(byte)
            }
            _ => {}
        }
    }

    fn read(&mut self, size: usize) -> Option<Vec<u8>> {
        if size == 0 {
            return Some(Vec::new());
        }
        if self.committed.is_empty() {
            return None;
        }
        if self.committed.front() == Some(&EOF_MARK) {
            self.committed.pop_front();
            return Some(Vec::new());
        }
        let mut out = Vec::new();
        while out.len() < size {
            match self.committed.front() {
                Some(&EOF_MARK) | None => break,
                Some(&byte) => {
                    out.push(byte);
                    self.committed.pop_front();
                    if byte == b'\n' {
                        break;
                    }
                }
            }
        }
        Some(out)
    }
}

/// Input bytes biased towards the interesting ones.
fn console_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        4 => prop::sample::select(vec![b'a', b'b', b'\t', 0xC3]),
        2 => Just(b'\n'),
        1 => prop::sample::select(vec![b'\r', BACKSPACE, DELETE, CTRL_U, CTRL_D, CTRL_C, 0x1B]),
        1 => any::<u8>(),
    ]
}

#[derive(Debug, Clone)]
enum Op {
    Type(Vec<u8>),
    Read(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => prop::collection::vec(console_byte(), 0..40).prop_map(Op::Type),
        // Long pastes, to reach the full-buffer cases.
        1 => prop::collection::vec(console_byte(), 0..2 * INPUT_BUFFER_SIZE).prop_map(Op::Type),
        4 => (0usize..200).prop_map(Op::Read),
    ]
}

proptest! {
    #[test]
    fn agrees_with_the_model(ops in prop::collection::vec(op(), 0..60)) {
        let mut console = LineDiscipline::new();
        let mut model = Model::default();
        for op in ops {
            match op {
                Op::Type(bytes) => {
                    for byte in bytes {
                        let was_readable = console.is_readable();
                        let outcome = console.input(byte);
                        model.input(byte);
                        // "Wakeup as data": reported exactly when data was committed.
                        if outcome.readers_may_proceed {
                            prop_assert!(console.is_readable());
                        } else {
                            prop_assert_eq!(console.is_readable(), was_readable);
                        }
                    }
                }
                Op::Read(size) => prop_assert_eq!(read_once(&mut console, size), model.read(size)),
            }
            prop_assert_eq!(console.pending_line_len(), model.line.len());
        }
    }
}

fn console_output<'a>(cells: &'a mut [u16]) -> ConsoleOutput<'a, FakePorts, FakePorts> {
    let mut uart_ports = FakePorts::new();
    uart_ports.set_default(COM1_BASE + 5, 0x20); // transmitter always ready
    let uart = Uart16550::new(uart_ports, COM1_BASE);
    let mut vga = VgaText::new(cells, FakePorts::new()).unwrap();
    vga.clear();
    ConsoleOutput::new(Some(uart), Some(vga))
}

#[test]
fn output_goes_to_serial_with_crlf_and_to_the_screen() {
    use core::fmt::Write;
    let mut cells = vec![0u16; WIDTH * HEIGHT];
    let mut out = console_output(&mut cells);
    write!(out, "$ ").unwrap();
    out.write_bytes(b"hi\n");
    let serial = out.uart_mut().unwrap().ports_mut().writes_to(COM1_BASE);
    assert_eq!(serial, b"$ hi\r\n");
    let vga = out.vga_mut().unwrap();
    assert_eq!(vga.cell(0, 2).unwrap().0, b'h');
    assert_eq!(vga.position(), (1, 0));
}

#[test]
fn echoed_erase_removes_the_character_on_screen() {
    let mut cells = vec![0u16; WIDTH * HEIGHT];
    let mut out = console_output(&mut cells);
    let mut console = LineDiscipline::new();
    for byte in *b"ab\x7f" {
        out.echo(console.input(byte).echo);
    }
    let vga = out.vga_mut().unwrap();
    assert_eq!(vga.cell(0, 1).unwrap().0, b' ');
    assert_eq!(vga.position(), (0, 1));
    let serial = out.uart_mut().unwrap().ports_mut().writes_to(COM1_BASE);
    assert_eq!(serial, b"ab\x08 \x08");
}

#[test]
fn a_dead_uart_is_skipped_and_the_screen_keeps_working() {
    let mut cells = vec![0u16; WIDTH * HEIGHT];
    let mut uart_ports = FakePorts::new();
    uart_ports.set_default(COM1_BASE + 5, 0); // transmitter never ready
    let mut vga = VgaText::new(&mut cells, FakePorts::new()).unwrap();
    vga.clear();
    let mut out = ConsoleOutput::new(Some(Uart16550::new(uart_ports, COM1_BASE)), Some(vga));
    out.write_bytes(b"abc");
    assert_eq!(out.uart_dropped_bytes(), 3);
    let polls = out
        .uart_mut()
        .unwrap()
        .ports_mut()
        .read_count(COM1_BASE + 5);
    assert_eq!(
        polls,
        crate::drivers::uart16550::TRANSMIT_POLL_LIMIT as usize,
        "only the first byte waited"
    );
    assert_eq!(out.vga_mut().unwrap().cell(0, 2).unwrap().0, b'c');
}

#[test]
fn output_without_devices_is_harmless() {
    let mut out: ConsoleOutput<'_, FakePorts, FakePorts> = ConsoleOutput::new(None, None);
    out.write_bytes(b"nobody listens\n");
    out.echo(Echo::Erase(3));
    assert_eq!(out.uart_dropped_bytes(), 0);
}
