//! The console server: keyboard and serial input, screen and serial output.
//!
//! It owns COM1 (ports 0x3F8-0x3FF), the 8042 keyboard controller (0x60,
//! 0x64), the VGA cursor registers (0x3D4-0x3D5), the VGA text buffer (root
//! maps physical 0xB8000 at `CONSOLE_VGA_BASE` when it is first touched),
//! and interrupts 1 (keyboard) and 4 (serial), which arrive as messages.
//! All of it is driven by the shared drivers of `common::drivers` — the same
//! `LineDiscipline`, `Keyboard`, `Uart16550` and `VgaText` the monolithic
//! kernel's `console.rs` uses.
//!
//! ## Protocol
//!
//! Two operations of the vfs protocol (`common::abi::proto::vfs`): `Read`
//! returns at most one line, `Write` prints; the descriptor in them is
//! ignored. User programs get here because vfs answers a console
//! descriptor's `Read` or `Write` with a `Redirect` naming this server, and
//! the client's transport sends the very same request on. Any thread may
//! use the console; every other operation is refused with `ENOSYS`.
//!
//! ## Where it waits
//!
//! Nowhere but in its receive. A `Read` that finds no complete line is
//! *parked*: the server remembers `(client, len)` and does not reply. When
//! an input byte makes a line readable (`InputOutcome::readers_may_proceed`,
//! where the monolithic kernel calls `wakeup`), the parked readers are
//! answered in the order they came, as long as lines are there
//! (`readers.rs`, host-tested).

#![no_std]
#![no_main]

extern crate alloc;

use common::abi::errno::Errno;
use common::abi::proto::root::CONSOLE_VGA_BASE;
use common::abi::proto::vfs::VfsRequest;
use common::abi::proto::{Wire, reply};
use common::drivers::console::ConsoleOutput;
use common::drivers::keyboard::Keyboard;
use common::drivers::uart16550::{COM1_BASE, Uart16550};
use common::drivers::vga::{HEIGHT, VgaText, WIDTH};
use common::port::HardwarePorts;
use console::readers::ConsoleInput;
use l4::{ThreadId, println};

/// The keyboard's interrupt line.
const KEYBOARD_IRQ: u8 = 1;
/// COM1's interrupt line.
const SERIAL_IRQ: u8 = 4;

/// The console server's state.
struct Console {
    output: ConsoleOutput<'static, HardwarePorts, HardwarePorts>,
    keyboard: Keyboard<HardwarePorts>,
    /// The line discipline and the parked reads (`readers.rs`).
    input: ConsoleInput,
}

impl Console {
    /// One input byte, from the keyboard or the serial port.
    fn input(&mut self, byte: u8) {
        let outcome = self.input.input(byte);
        self.output.echo(outcome.echo);
        if outcome.readers_may_proceed {
            self.serve_parked();
        }
    }

    /// Answers parked reads while lines are there. A line whose reader is
    /// gone goes to the next reader.
    fn serve_parked(&mut self) {
        while let Some((client, line)) = self.input.next_answer() {
            if server_lib::reply(ThreadId(client), &reply::done_with_bytes(&[], &line)).is_err() {
                self.input.undelivered(line);
            }
        }
    }

    /// A request from a client: the reply, or `None` if it was parked.
    fn request<'a>(&mut self, client: ThreadId, request: VfsRequest<'_>) -> Option<Wire<'a>> {
        match request {
            VfsRequest::Write { data, .. } => {
                self.output.write_bytes(data);
                Some(reply::done(&[data.len() as u64]))
            }
            VfsRequest::Read { len, .. } => {
                self.input.park(client.0, len as usize);
                self.serve_parked();
                None
            }
            _ => Some(reply::failed(Errno::ENOSYS)),
        }
    }
}

/// The VGA text screen root maps for us, if it does.
fn vga() -> Option<VgaText<'static, HardwarePorts>> {
    // SAFETY: root maps the VGA text buffer (80x25 cells of device memory)
    // at CONSOLE_VGA_BASE in this server's space, and nothing else here
    // uses that address: the exclusive 'static borrow is unique.
    let cells =
        unsafe { core::slice::from_raw_parts_mut(CONSOLE_VGA_BASE as *mut u16, WIDTH * HEIGHT) };
    VgaText::new(cells, HardwarePorts).ok()
}

fn main(root: u64) -> ! {
    let _directory = server_lib::start("console", ThreadId(root));
    let mut uart = Uart16550::new(HardwarePorts, COM1_BASE);
    let uart = match uart.init() {
        Ok(()) => Some(uart),
        Err(error) => {
            println!("console: no serial port ({error:?})");
            None
        }
    };
    let mut keyboard = Keyboard::new(HardwarePorts);
    // qboot leaves the 8042's scancode translation off: init turns it on.
    if let Err(error) = keyboard.init() {
        println!("console: keyboard controller not answering ({error:?}); serial input only");
    }
    let mut console = Console {
        output: ConsoleOutput::new(uart, vga()),
        keyboard,
        input: ConsoleInput::new(),
    };
    // Interrupts that came before we were ready: unmask both lines.
    server_lib::acknowledge(KEYBOARD_IRQ);
    server_lib::acknowledge(SERIAL_IRQ);
    let mut request = server_lib::receive();
    loop {
        let mut answer = None;
        match request.irq() {
            Some(KEYBOARD_IRQ) => {
                let byte = console.keyboard.handle_irq();
                server_lib::acknowledge(KEYBOARD_IRQ);
                if let Some(byte) = byte {
                    console.input(byte);
                }
            }
            Some(SERIAL_IRQ) => {
                let mut bytes = [0u8; 16];
                let count = console
                    .output
                    .uart_mut()
                    .map_or(0, |uart| uart.handle_irq(&mut bytes));
                server_lib::acknowledge(SERIAL_IRQ);
                for &byte in &bytes[..count] {
                    console.input(byte);
                }
            }
            Some(other) => server_lib::acknowledge(other),
            None => {
                answer = match VfsRequest::from_wire(&request.wire()) {
                    Err(problem) => Some(reply::malformed(problem)),
                    Ok(parsed) => console.request(request.from, parsed),
                };
            }
        }
        let next = match answer {
            Some(answer) => server_lib::reply_and_receive(request.from, &answer),
            None => server_lib::receive(),
        };
        request = next;
    }
}

l4::server_entry!(main);
