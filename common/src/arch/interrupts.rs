//! The interrupt hardware both kernels share: the 8259 PICs, the 100 Hz PIT
//! tick, and the boot-time self-test that proves interrupts really arrive.
//!
//! A kernel calls [`init`] once, unmasks the lines it handles, and from its
//! `trap_handler` calls [`acknowledge`] for every IRQ vector (it counts the
//! interrupt, recognises spurious ones and sends the end-of-interrupt).
//!
//! [`self_test`] is what lets the boot banner say "timer ok, keyboard ok"
//! honestly: it waits for two timer ticks, and it asks the PS/2 controller to
//! pretend a key byte arrived (controller command 0xD2, "write keyboard
//! output buffer"), which raises a real IRQ 1 — so the banner reports
//! interrupts that were observed, not assumed.

use crate::drivers::keyboard;
use crate::drivers::pic::{self, Pics};
use crate::drivers::pit;
use crate::port::{HardwarePorts, PortIo};
use core::sync::atomic::{AtomicU64, Ordering};
use spin::Mutex;

// SAFETY (for `Pics::new`): this is the only `Pics`; every kernel reaches the
// PICs through this module.
static PICS: Mutex<Pics> = Mutex::new(unsafe { Pics::new() });

/// How many times each IRQ line has fired since boot.
static IRQ_COUNTS: [AtomicU64; 16] = [const { AtomicU64::new(0) }; 16];

/// Remaps the PICs (IRQ n → vector 32 + n, everything masked but the
/// cascade) and starts the PIT at 100 Hz. Unmask lines with [`unmask`].
pub fn init() {
    super::lapic::enable_virtual_wire();
    PICS.lock().init();
    // 100 Hz is a valid frequency for the PIT, so this cannot fail.
    let _ = pit::set_frequency(&mut HardwarePorts, pit::TICK_HZ);
}

/// Lets IRQ line `irq` (0..16) through to the CPU.
pub fn unmask(irq: u8) {
    let _ = PICS.lock().unmask(irq);
}

/// Blocks IRQ line `irq` (0..16).
pub fn mask(irq: u8) {
    let _ = PICS.lock().mask(irq);
}

/// What the trap handler should do with an IRQ vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Irq {
    /// A real interrupt on this line; its end-of-interrupt has been sent.
    Line(u8),
    /// A spurious interrupt (the PIC withdrew it): ignore it.
    Spurious,
    /// The vector is not a PIC line.
    NotAnIrq,
}

/// Classifies trap `vector`; for a real IRQ counts it and sends the
/// end-of-interrupt, so the handler only has to do the device's work.
///
/// Sending EOI before the device work is fine on one CPU with interrupts
/// off in the kernel: the next interrupt cannot be taken until we return.
pub fn acknowledge(vector: u64) -> Irq {
    let Some(irq) = u8::try_from(vector).ok().and_then(pic::vector_irq) else {
        return Irq::NotAnIrq;
    };
    let mut pics = PICS.lock();
    if pics.check_spurious(irq) {
        return Irq::Spurious;
    }
    let _ = pics.end_of_interrupt(irq);
    IRQ_COUNTS[irq as usize].fetch_add(1, Ordering::Relaxed);
    Irq::Line(irq)
}

/// How many interrupts line `irq` has delivered since boot.
pub fn count(irq: u8) -> u64 {
    IRQ_COUNTS
        .get(irq as usize)
        .map_or(0, |c| c.load(Ordering::Relaxed))
}

/// What the boot-time self-test observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SelfTest {
    /// Two timer interrupts arrived.
    pub timer: bool,
    /// The injected keyboard interrupt arrived.
    pub keyboard: bool,
}

impl SelfTest {
    /// "ok" or "MISSING", for the banner.
    pub fn word(ok: bool) -> &'static str {
        if ok { "ok" } else { "MISSING" }
    }
}

/// Bound on the busy-wait in [`self_test`]: far more than two 10 ms ticks
/// take under the slowest emulator, but finite, so a dead timer is reported
/// instead of hanging the boot.
const SELF_TEST_SPINS: u64 = 200_000_000;

/// Checks that timer and keyboard interrupts are delivered. The timer and
/// keyboard lines must be unmasked, and the kernel's `trap_handler` must call
/// [`acknowledge`] (and, for the keyboard, read the byte from port 0x60).
/// Interrupts are enabled during the test and disabled again afterwards.
pub fn self_test() -> SelfTest {
    let ticks_before = count(pic::IRQ_TIMER);
    let keys_before = count(pic::IRQ_KEYBOARD);
    inject_keyboard_byte();
    super::cpu::enable_interrupts();
    let mut result = SelfTest {
        timer: false,
        keyboard: false,
    };
    for _ in 0..SELF_TEST_SPINS {
        result.timer = count(pic::IRQ_TIMER) >= ticks_before + 2;
        result.keyboard = count(pic::IRQ_KEYBOARD) > keys_before;
        if result.timer && result.keyboard {
            break;
        }
        core::hint::spin_loop();
    }
    super::cpu::disable_interrupts();
    result
}

/// Asks the PS/2 controller to place a byte in its output buffer as if the
/// keyboard had sent it, which raises IRQ 1. The byte is 0xB9, the release
/// code of the space bar: harmless if a keyboard decoder sees it.
fn inject_keyboard_byte() {
    const WRITE_KEYBOARD_OUTPUT: u8 = 0xD2;
    const INPUT_BUFFER_FULL: u8 = 1 << 1;
    let mut ports = HardwarePorts;
    let wait_input_empty = |ports: &mut HardwarePorts| {
        for _ in 0..100_000 {
            if ports.read_u8(keyboard::STATUS_PORT) & INPUT_BUFFER_FULL == 0 {
                return;
            }
        }
    };
    wait_input_empty(&mut ports);
    ports.write_u8(keyboard::STATUS_PORT, WRITE_KEYBOARD_OUTPUT);
    wait_input_empty(&mut ports);
    ports.write_u8(keyboard::DATA_PORT, 0xB9);
}
