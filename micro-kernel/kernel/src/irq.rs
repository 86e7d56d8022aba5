//! Interrupts as messages.
//!
//! A driver thread attaches to an interrupt line (`irq_attach`, IO privilege
//! needed). When the line fires, the kernel masks it at the PIC and sends the
//! thread a message from the pseudo-thread `ThreadId::irq(n)` with label
//! `label::INTERRUPT` and MR0 = n — delivered at once if the thread waits
//! in a receive that accepts it, otherwise kept pending until it does. The
//! thread acknowledges by sending anything to `ThreadId::irq(n)` (which
//! never blocks); only then is the line unmasked, so a slow driver is never
//! flooded and the device code in `common/` runs unchanged in a server.
//!
//! The timer (IRQ 0) is special: the kernel needs every tick for time slices
//! and timeouts, so its line is never masked. A thread attached to it gets
//! one message per tick while it keeps acknowledging; ticks that arrive
//! before the acknowledgement are dropped.

use crate::global::Kernel;
use crate::ipc;
use crate::slot::ThreadSlot;
use crate::thread::{IpcKind, ThreadState};
use common::abi::micro::{Error, ThreadId, privilege};
use common::arch::interrupts;
use common::drivers::pic::{IRQ_CASCADE, IRQ_LINES, IRQ_TIMER};

/// The attachment state of the 16 PIC lines.
pub struct IrqTable {
    /// The attached thread of each line (NIL: none).
    owner: [ThreadId; IRQ_LINES as usize],
    /// Bit n: line n fired but was not delivered yet.
    pending: u16,
    /// Delivered but not acknowledged yet.
    in_service: [bool; IRQ_LINES as usize],
}

impl IrqTable {
    /// No line attached.
    pub const fn new() -> IrqTable {
        IrqTable { owner: [ThreadId::NIL; IRQ_LINES as usize], pending: 0, in_service: [false; IRQ_LINES as usize] }
    }
}

impl Default for IrqTable {
    fn default() -> Self {
        Self::new()
    }
}

/// `irq_attach(irq, thread)` by `caller` (NIL detaches).
pub fn attach(k: &mut Kernel, caller: ThreadSlot, irq: u64, thread: ThreadId) -> Result<(), Error> {
    let space = k.threads.get(caller).space;
    if k.spaces.get(space).privileges & privilege::IO == 0 {
        return Err(Error::NoPermission);
    }
    if irq >= IRQ_LINES as u64 || irq == IRQ_CASCADE as u64 {
        return Err(Error::InvalidArgument);
    }
    let line = irq as usize;
    if thread != ThreadId::NIL && k.threads.lookup(thread).is_none() {
        return Err(Error::NoSuchThread);
    }
    let owner = k.irqs.owner[line];
    if thread != ThreadId::NIL && owner != thread && k.threads.lookup(owner).is_some() {
        return Err(Error::Busy);
    }
    k.irqs.owner[line] = thread;
    k.irqs.pending &= !(1 << line);
    k.irqs.in_service[line] = false;
    if irq as u8 != IRQ_TIMER {
        if thread == ThreadId::NIL {
            interrupts::mask(irq as u8);
        } else {
            interrupts::unmask(irq as u8);
        }
    }
    Ok(())
}

/// IRQ `irq` fired (its EOI has been sent): deliver or record it.
pub fn fired(k: &mut Kernel, irq: u8) {
    let line = irq as usize;
    let Some(owner) = k.threads.lookup(k.irqs.owner[line]) else {
        k.irqs.owner[line] = ThreadId::NIL;
        if irq != IRQ_TIMER {
            interrupts::mask(irq);
        }
        return;
    };
    if k.irqs.pending & (1 << line) != 0 || k.irqs.in_service[line] {
        return; // the timer's dropped tick; other lines are masked meanwhile
    }
    if irq != IRQ_TIMER {
        interrupts::mask(irq);
    }
    let thread = k.threads.get(owner);
    let from = ThreadId::irq(irq);
    let accepts = thread.state == ThreadState::ReceiveBlocked
        && thread.ipc_kind == IpcKind::Normal
        && (thread.partner == ThreadId::ANY || thread.partner == from);
    if accepts {
        ipc::deliver_interrupt(k, owner, irq);
        k.irqs.in_service[line] = true;
        crate::sched::make_ready(k, owner);
    } else {
        k.irqs.pending |= 1 << line;
    }
}

/// In a receive by `slot` from `from`: takes a pending interrupt it accepts.
pub fn take_pending(k: &mut Kernel, slot: ThreadSlot, from: ThreadId) -> Option<u8> {
    let me = k.threads.id(slot);
    (0..IRQ_LINES).find(|&irq| {
        let line = irq as usize;
        let wanted = from == ThreadId::ANY || from == ThreadId::irq(irq);
        if wanted && k.irqs.pending & (1 << line) != 0 && k.irqs.owner[line] == me {
            k.irqs.pending &= !(1 << line);
            k.irqs.in_service[line] = true;
            true
        } else {
            false
        }
    })
}

/// A send to `ThreadId::irq(irq)` by `slot`: the acknowledgement.
pub fn acknowledge(k: &mut Kernel, slot: ThreadSlot, irq: u8) -> Result<(), Error> {
    let line = irq as usize;
    if line >= IRQ_LINES as usize || k.irqs.owner[line] != k.threads.id(slot) {
        return Err(Error::NoPermission);
    }
    if k.irqs.in_service[line] {
        k.irqs.in_service[line] = false;
        if irq != IRQ_TIMER {
            interrupts::unmask(irq);
        }
    }
    Ok(())
}

/// Detaches every line attached to a thread that is being destroyed.
pub fn forget_thread(k: &mut Kernel, id: ThreadId) {
    for irq in 0..IRQ_LINES {
        if k.irqs.owner[irq as usize] == id {
            k.irqs.owner[irq as usize] = ThreadId::NIL;
            k.irqs.pending &= !(1 << irq);
            k.irqs.in_service[irq as usize] = false;
            if irq != IRQ_TIMER {
                interrupts::mask(irq);
            }
        }
    }
}

/// Whether an interrupt is pending for thread `id` (the fast path's check:
/// almost always no line is pending at all, which costs one comparison).
pub fn has_pending(k: &Kernel, id: ThreadId) -> bool {
    k.irqs.pending != 0
        && (0..IRQ_LINES as usize).any(|line| k.irqs.pending & (1 << line) != 0 && k.irqs.owner[line] == id)
}
