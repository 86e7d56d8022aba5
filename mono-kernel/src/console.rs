//! The console device (`/dev/console`, major `common::abi::fs::CONSOLE_MAJOR`,
//! which `common::file::open` recognises): keyboard and serial input
//! through the shared line discipline, output to the screen and serial port.
//!
//! Input arrives by interrupt (IRQ 1 keyboard, IRQ 4 serial). Each byte goes
//! to the shared `LineDiscipline`, which says what to echo and whether a
//! line is now readable; if so the handler wakes the readers. A `read` that
//! finds no complete line sleeps until then — the mono-kernel's way of
//! waiting for the shared code's "would block".

use crate::global::Global;
use crate::proc::Channel;
use crate::sched;
use common::abi::errno::Errno;
use common::arch::kconsole;
use common::drivers::console::{LineDiscipline, ReadOutcome};
use common::drivers::keyboard::Keyboard;
use common::port::HardwarePorts;
use core::cell::RefCell;

struct Console {
    input: RefCell<LineDiscipline>,
    keyboard: RefCell<Keyboard<HardwarePorts>>,
}

static CONSOLE: Global<Console> = Global::new(Console {
    input: RefCell::new(LineDiscipline::new()),
    keyboard: RefCell::new(Keyboard::new(HardwarePorts)),
});

fn readers_channel() -> Channel {
    Channel::of(&CONSOLE.input)
}

/// Sets up the keyboard controller (scancode translation on: the qboot
/// firmware leaves it off). Call before unmasking IRQ 1.
pub fn init_keyboard() {
    if let Err(error) = CONSOLE.keyboard.borrow_mut().init() {
        common::kprintln!(
            "console: keyboard controller not answering ({error:?}); serial input only"
        );
    }
}

/// IRQ 1: a key event.
pub fn keyboard_interrupt() {
    let byte = CONSOLE.keyboard.borrow_mut().handle_irq();
    if let Some(byte) = byte {
        input(byte);
    }
}

/// IRQ 4: the serial port received bytes.
pub fn serial_interrupt() {
    let mut buf = [0u8; 16];
    let mut count = 0;
    kconsole::with_console(|console| count = console.receive(&mut buf));
    for &byte in &buf[..count] {
        input(byte);
    }
}

fn input(byte: u8) {
    let outcome = CONSOLE.input.borrow_mut().input(byte);
    kconsole::with_console(|console| console.echo(outcome.echo));
    if outcome.readers_may_proceed {
        sched::wakeup(readers_channel());
    }
}

/// Reads at most one line into `buf`, sleeping until one is typed.
/// Returns 0 at end of file (Ctrl+D on an empty line). `EINTR` if the
/// process is killed while waiting.
pub fn read(buf: &mut [u8]) -> Result<usize, Errno> {
    loop {
        let outcome = CONSOLE.input.borrow_mut().read(buf);
        match outcome {
            ReadOutcome::Read(n) => return Ok(n),
            ReadOutcome::WouldBlock => {
                if sched::current().killed.get() {
                    return Err(Errno::EINTR);
                }
                sched::sleep(readers_channel());
            }
        }
    }
}

/// Writes `bytes` to the screen and the serial port.
pub fn write(bytes: &[u8]) {
    kconsole::with_console(|console| console.write_bytes(bytes));
}
