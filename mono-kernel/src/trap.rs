//! Trap dispatch: what the monolithic kernel does with each interrupt,
//! exception and system call.
//!
//! The shared entry code (common/src/arch/trap.rs) saves a `TrapFrame` and
//! calls [`trap_handler`] or [`syscall_handler`].

use common::arch::interrupts::{self, Irq};
use common::arch::{self, qemu, trap::TrapFrame};
use common::drivers::pic::{IRQ_KEYBOARD, IRQ_TIMER};
use common::port::{HardwarePorts, PortIo};

/// Called by the shared assembly for every interrupt and exception.
#[unsafe(no_mangle)]
extern "C" fn trap_handler(frame: &mut TrapFrame) {
    if frame.vector < 32 {
        kernel_fault(frame);
    }
    match interrupts::acknowledge(frame.vector) {
        Irq::Line(IRQ_TIMER) => {}
        Irq::Line(IRQ_KEYBOARD) => {
            let _ = HardwarePorts.read_u8(common::drivers::keyboard::DATA_PORT);
        }
        Irq::Line(_) | Irq::Spurious => {}
        Irq::NotAnIrq => common::kprintln!("trap: unexpected vector {}", frame.vector),
    }
}

/// A CPU exception in kernel mode is a kernel bug: report it and stop.
fn kernel_fault(frame: &TrapFrame) -> ! {
    // SAFETY: this path never returns to the interrupted code.
    unsafe { arch::kconsole::force_unlock() };
    arch::kconsole::with_console(|console| {
        let _ = arch::report::write_exception_report(console, frame);
    });
    qemu::exit(qemu::ExitCode::Failure);
}

/// Called by the shared assembly for every `syscall` instruction.
#[unsafe(no_mangle)]
extern "C" fn syscall_handler(frame: &mut TrapFrame) {
    frame.rax = common::abi::errno::Errno::ENOSYS.as_return() as u64;
}
