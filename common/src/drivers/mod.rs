//! Device drivers, written once for both kernels.
//!
//! Each driver owns its device's registers through [`crate::port::PortIo`]
//! (or a memory buffer, for VGA) and never waits: interrupts are inputs
//! (`handle_irq`), and what a driver cannot do yet it reports as a value.
//!
//! | module          | device                                              |
//! |-----------------|-----------------------------------------------------|
//! | [`uart16550`]   | COM1 serial port (the test console)                 |
//! | [`vga`]         | VGA text mode 80x25                                 |
//! | [`keyboard`]    | PS/2 keyboard (scancode set 1, US layout)           |
//! | [`pic`]         | the 8259 interrupt controller pair (kernel only)    |
//! | [`pit`]         | the 8254 timer, channel 0                           |
//! | [`ata`]         | ATA PIO disk (QEMU's primary IDE)                   |
//! | [`console`]     | the console line discipline, and console output     |
//! | [`rtc`]         | the CMOS real-time clock: the date and time         |
//!
//! Host tests drive them against `fake_ports::FakePorts` (host builds only),
//! a recording, scriptable port bus; the ATA tests use a fake drive with
//! real protocol behaviour, the clock's a fake CMOS (`fake_cmos::FakeCmos`)
//! that updates and ticks on request. `docs/drivers.md` is the chapter for
//! students.

pub mod ata;
pub mod console;
#[cfg(any(test, feature = "std"))]
pub mod fake_cmos;
#[cfg(any(test, feature = "std"))]
pub mod fake_ports;
pub mod keyboard;
pub mod pic;
pub mod pit;
pub mod rtc;
pub mod uart16550;
pub mod vga;
