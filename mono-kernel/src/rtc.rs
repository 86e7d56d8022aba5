//! The real-time clock in the mono-kernel: the `time` system call.
//!
//! The driver is the shared one, `common::drivers::rtc`, over the real
//! ports: here, in ring 0, `in` and `out` always work. The kernel keeps
//! one `Rtc` in a `Global` (one CPU, interrupts off in the kernel: no
//! other code can select a CMOS register between this call's `out` to
//! port 0x70 and its `in` from 0x71). A reading waits at most a few
//! milliseconds for an update to end, with interrupts off, as the disk
//! driver's waits do. The micro-kernel runs the same driver as a server
//! of its own (`micro-kernel/user/rtc`).

// LAB driver BEGIN
use crate::global::Global;
use common::abi::errno::Errno;
use common::drivers::rtc::Rtc;
use common::port::HardwarePorts;
use core::cell::RefCell;

/// The clock.
static CLOCK: Global<RefCell<Rtc<HardwarePorts>>> =
    Global::new(RefCell::new(Rtc::new(HardwarePorts)));

/// `time()`: seconds since 1970-01-01 00:00:00 UTC, or `EIO` if the
/// clock cannot be read.
pub fn time() -> Result<u64, Errno> {
    CLOCK
        .borrow_mut()
        .unix_seconds()
        .map_err(|error| error.errno())
}
// LAB driver STUB
// LAB driver END
