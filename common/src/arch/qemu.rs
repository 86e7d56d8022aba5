//! Leaving QEMU with an exit status, through the `isa-debug-exit` device.
//!
//! QEMU is started with `-device isa-debug-exit,iobase=0xf4,iosize=0x04`.
//! Writing a value `v` to port 0xf4 makes QEMU exit with status `(v << 1) | 1`,
//! so the grading harness learns how the kernel ended without parsing text.

use crate::port::{HardwarePorts, PortIo};

/// The port of QEMU's `isa-debug-exit` device.
pub const DEBUG_EXIT_PORT: u16 = 0xf4;

/// How the kernel ended, as the harness sees it.
#[repr(u8)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// Orderly shutdown: QEMU exits with status 33.
    Success = 0x10,
    /// The kernel died (panic or CPU exception): QEMU exits with status 35.
    Failure = 0x11,
}

/// Exits QEMU. On real hardware (no debug-exit device) this halts instead.
pub fn exit(code: ExitCode) -> ! {
    HardwarePorts.write_u8(DEBUG_EXIT_PORT, code as u8);
    super::cpu::halt_forever()
}
