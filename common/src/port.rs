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

/// The real `in`/`out` instructions.
///
/// Using it outside ring 0 raises a general-protection fault unless the
/// kernel granted the port (the microkernel's I/O-port grant).
#[derive(Debug, Default, Clone, Copy)]
pub struct HardwarePorts;

#[cfg(target_arch = "x86_64")]
impl PortIo for HardwarePorts {
    fn read_u8(&mut self, port: u16) -> u8 {
        let value: u8;
        // SAFETY: `in` reads a device register; it touches no memory. Whether
        // this code may touch the port is the kernel's I/O permission check.
        unsafe {
            core::arch::asm!("in al, dx", out("al") value, in("dx") port, options(nomem, nostack, preserves_flags))
        };
        value
    }

    fn write_u8(&mut self, port: u16, value: u8) {
        // SAFETY: as in `read_u8`: `out` writes a device register, no memory.
        unsafe {
            core::arch::asm!("out dx, al", in("dx") port, in("al") value, options(nomem, nostack, preserves_flags))
        };
    }

    fn read_u16(&mut self, port: u16) -> u16 {
        let value: u16;
        // SAFETY: as in `read_u8`.
        unsafe {
            core::arch::asm!("in ax, dx", out("ax") value, in("dx") port, options(nomem, nostack, preserves_flags))
        };
        value
    }

    fn write_u16(&mut self, port: u16, value: u16) {
        // SAFETY: as in `read_u8`.
        unsafe {
            core::arch::asm!("out dx, ax", in("dx") port, in("ax") value, options(nomem, nostack, preserves_flags))
        };
    }
}
