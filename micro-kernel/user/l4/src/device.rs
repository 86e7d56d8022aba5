//! Devices at user level: interrupts as messages, I/O ports.
//!
//! A driver attaches its thread to an IRQ line, then receives
//! `label::INTERRUPT` messages from `ThreadId::irq(line)` and acknowledges
//! each by [`acknowledge`] (a send to the same id), which unmasks the line.

use crate::sys;
use common::abi::micro::{Error, SpaceId, Sys, ThreadId};

/// Delivers interrupt line `irq` to `thread` (`ThreadId::NIL` detaches).
/// Needs the IO privilege.
pub fn irq_attach(irq: u8, thread: ThreadId) -> Result<(), Error> {
    Error::check(sys::call(Sys::IrqAttach, [irq as u64, thread.0, 0, 0, 0, 0, 0, 0]).0)
}

/// Acknowledges interrupt `irq` (the line is unmasked again).
pub fn acknowledge(irq: u8) -> Result<(), Error> {
    crate::ipc::send(ThreadId::irq(irq), &crate::Message::default(), crate::Timeout::Zero)
}

/// Lets `space` use I/O ports `first..first + count`.
pub fn ioport_grant(space: SpaceId, first: u16, count: u32) -> Result<(), Error> {
    Error::check(sys::call(Sys::IoPortGrant, [space.0, first as u64, count as u64, 0, 0, 0, 0, 0]).0)
}
