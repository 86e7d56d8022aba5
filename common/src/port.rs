//! x86 I/O-port access, as a trait.
//!
//! Drivers in [`crate::drivers`] talk to their hardware only through
//! [`PortIo`], so the same driver code runs
//! - in the monolithic kernel (ring 0, where `in`/`out` always work),
//! - in a microkernel server (ring 3, where `in`/`out` work only for ports the
//!   kernel granted through the TSS I/O bitmap), and
//! - in host unit tests, against a fake device that records what was written.

/// Byte- and word-wide access to x86 I/O ports.
pub trait PortIo {
    /// Reads one byte from `port`.
    fn read_u8(&mut self, port: u16) -> u8;
    /// Writes one byte to `port`.
    fn write_u8(&mut self, port: u16, value: u8);
    /// Reads one 16-bit word from `port`.
    fn read_u16(&mut self, port: u16) -> u16;
    /// Writes one 16-bit word to `port`.
    fn write_u16(&mut self, port: u16, value: u16);
}

/// The real `in`/`out` instructions (through the `x86` crate).
///
/// Using it outside ring 0 raises a general-protection fault unless the
/// kernel granted the port (the microkernel's I/O-port grant).
#[derive(Debug, Default, Clone, Copy)]
pub struct HardwarePorts;

// One-line calls into the `x86` crate's `inb`/`outb`/`inw`/`outw`. They are
// plain `unsafe fn`s with no privilege check of their own, so they work in
// ring 3 too, where the CPU checks the TSS I/O bitmap. Unlike the hand-written
// versions they replaced, the crate's `asm!` is not `nomem`: the compiler
// finishes every store before an `out`. That is more than the PIO drivers
// here need, and exactly what a driver that starts a DMA transfer with an
// `out` (the device then reads memory the CPU just wrote) would need.
#[cfg(target_arch = "x86_64")]
impl PortIo for HardwarePorts {
    fn read_u8(&mut self, port: u16) -> u8 {
        // SAFETY: `in` reads a device register, not memory the program owns.
        // Whether this code may touch the port is the CPU's I/O permission
        // check (ring 0, or the port granted in the TSS bitmap); if not, the
        // instruction faults instead of doing anything.
        unsafe { x86::io::inb(port) }
    }

    fn write_u8(&mut self, port: u16, value: u8) {
        // SAFETY: as in `read_u8`: `out` writes a device register.
        unsafe { x86::io::outb(port, value) }
    }

    fn read_u16(&mut self, port: u16) -> u16 {
        // SAFETY: as in `read_u8`.
        unsafe { x86::io::inw(port) }
    }

    fn write_u16(&mut self, port: u16, value: u16) {
        // SAFETY: as in `read_u8`.
        unsafe { x86::io::outw(port, value) }
    }
}
