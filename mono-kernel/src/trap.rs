//! Trap dispatch: what the monolithic kernel does with each interrupt and
//! exception. (System calls have their own entry: `syscall.rs`.)
//!
//! The shared entry code (common/src/arch/trap.rs) saves a `TrapFrame` and
//! calls [`trap_handler`]. Interrupts are taken only in user mode or in the
//! scheduler's idle loop, because the kernel runs with interrupts off.
//!
//! - A page fault in **user** mode may be one the kernel resolves: a write
//!   to a page shared copy-on-write since `fork`, the first touch of an
//!   mmap page (`vm::handle_fault`). Then the program goes on at the
//!   faulting instruction.
//! - Any other CPU exception in **user** mode is the program's fault: the
//!   process is killed with a one-line report (`usertrap: ...`), as in xv6.
//! - A CPU exception in **kernel** mode is a kernel bug: the full report is
//!   printed and QEMU stops with a failing exit code.
//! - A device interrupt is passed to its driver; the timer also preempts the
//!   running process (round robin).

use crate::vm::{self, Access};
use crate::{console, disk, sched, sys_proc};
use common::arch::interrupts::{self, Irq};
use common::arch::report::PageFaultCause;
use common::arch::{self, idt, trap::TrapFrame};
use common::drivers::pic::{IRQ_ATA_PRIMARY, IRQ_COM1, IRQ_KEYBOARD, IRQ_TIMER};
use common::kprintln;
use common::trace::{self, Kind};

/// Called by the shared assembly for every interrupt and exception.
#[unsafe(no_mangle)]
extern "C" fn trap_handler(frame: &mut TrapFrame) {
    if frame.vector < 32 {
        if !frame.from_user() {
            arch::report::kernel_exception(frame);
        }
        // CR2 is read once: resolving the fault may sleep (reading a file),
        // and another process's fault would change it meanwhile.
        let address = arch::cpu::read_cr2();
        if frame.vector == idt::PAGE_FAULT {
            trace::point(Kind::PageFault, address, frame.error_code, 0);
            if frame.error_code & RESERVED_BIT == 0
                && vm::handle_fault(
                    &sched::current(),
                    address,
                    Access::from_error_code(frame.error_code),
                )
                .is_ok()
            {
                if sched::current().killed.get() {
                    sys_proc::exit_current(-1);
                }
                return; // the instruction runs again
            }
        }
        user_fault(frame, address);
        sys_proc::exit_current(-1);
    }
    let irq = interrupts::acknowledge(frame.vector);
    if let Irq::Line(line) = irq {
        trace::point(Kind::Interrupt, u64::from(line), 0, 0);
    }
    let preempt = match irq {
        Irq::Line(IRQ_TIMER) => {
            sched::tick();
            true
        }
        Irq::Line(IRQ_KEYBOARD) => {
            console::keyboard_interrupt();
            false
        }
        Irq::Line(IRQ_COM1) => {
            console::serial_interrupt();
            false
        }
        Irq::Line(IRQ_ATA_PRIMARY) => {
            disk::interrupt();
            false
        }
        Irq::Line(_) | Irq::Spurious => false,
        Irq::NotAnIrq => {
            kprintln!("trap: unexpected vector {}", frame.vector);
            false
        }
    };
    if frame.from_user() {
        if sched::current().killed.get() {
            sys_proc::exit_current(-1);
        }
        if preempt {
            // The journal's commit clock, in a running program's context.
            crate::fsys::commit_if_due();
            sched::yield_now();
        }
    }
}

/// A page fault's error-code bit: a reserved bit was set in a page-table
/// entry (a kernel bug, never resolved).
const RESERVED_BIT: u64 = 0x8;

/// Reports a user program's CPU exception on one line (`address`: CR2, for
/// a page fault).
fn user_fault(frame: &TrapFrame, address: u64) {
    let proc = sched::current();
    let (mnemonic, name) = idt::exception_name(frame.vector);
    let name_of = proc.name.borrow();
    if frame.vector == idt::PAGE_FAULT {
        kprintln!(
            "usertrap: pid {} ({}): {mnemonic} {name} at {:#x} ({}), rip {:#x}: killed",
            proc.pid,
            name_of,
            address,
            PageFaultCause(frame.error_code),
            frame.rip
        );
    } else {
        kprintln!(
            "usertrap: pid {} ({}): {mnemonic} {name}, rip {:#x}: killed",
            proc.pid,
            name_of,
            frame.rip
        );
    }
}
