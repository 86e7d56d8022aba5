//! The two kernel entry points the shared assembly calls
//! (`common/src/arch/trap.rs`): [`trap_handler`] for interrupts and
//! exceptions, [`syscall_handler`] for the `syscall` instruction.
//!
//! Both end in `sched::return_to_user`, which returns (to the same thread)
//! or switches to another one. An interrupt taken while the kernel idles
//! (kernel mode) only records what happened; the idle loop then decides.

use crate::global::kernel;
use crate::{fastpath, fault, irq, sched, syscall, timeout};
use common::abi::micro::Sys;
use common::arch::interrupts::{self, Irq};
use common::arch::{self, trap::TrapFrame};
use common::drivers::keyboard::DATA_PORT;
use common::drivers::pic::{IRQ_KEYBOARD, IRQ_TIMER};
use common::kprintln;
use common::port::{HardwarePorts, PortIo};
use common::trace::Kind;

/// Called by the shared assembly for every interrupt and exception.
#[unsafe(no_mangle)]
extern "C" fn trap_handler(frame: &mut TrapFrame) {
    let from_user = frame.from_user();
    let vector = frame.vector;
    if vector < 32 {
        if !from_user {
            arch::report::kernel_exception(frame);
        }
        let k = kernel();
        let slot = k.sched.current;
        fault::user_exception(k, slot);
        sched::return_to_user(k);
        return;
    }
    let k = kernel();
    let irq = interrupts::acknowledge(vector);
    if let Irq::Line(line) = irq {
        crate::trace::here(Kind::Interrupt, [u64::from(line), 0, 0]);
    }
    match irq {
        Irq::Line(IRQ_TIMER) => {
            timeout::tick(k);
            irq::fired(k, IRQ_TIMER);
        }
        Irq::Line(IRQ_KEYBOARD) if !k.booted => {
            // The boot self-test's injected key: drain it (no driver yet).
            let _ = HardwarePorts.read_u8(DATA_PORT);
        }
        Irq::Line(line) => irq::fired(k, line),
        Irq::Spurious => {}
        Irq::NotAnIrq => kprintln!("micro: unexpected interrupt vector {vector}"),
    }
    if from_user {
        sched::return_to_user(k);
    }
}

/// Called by the shared assembly for every `syscall` instruction.
///
/// The fast path and the rest are separate functions, each with its own
/// stack frame: inlined into one, every IPC would pay for setting up the
/// frame the slowest system call needs.
#[unsafe(no_mangle)]
extern "C" fn syscall_handler(frame: &mut TrapFrame) {
    if frame.rax == Sys::Ipc as u64 && fastpath::try_ipc(kernel(), frame) {
        // A send alone, delivered: whoever the scheduler picks runs next.
        sched::return_to_user(kernel());
        return;
    }
    system_call();
}

/// Any system call but a fast-path IPC.
#[inline(never)]
fn system_call() {
    let k = kernel();
    let slot = k.sched.current;
    syscall::dispatch(k, slot);
    sched::return_to_user(k);
}
