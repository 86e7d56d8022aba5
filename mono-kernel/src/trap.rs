//! Trap dispatch: what the monolithic kernel does with each interrupt,
//! exception and system call.
//!
//! The shared entry code (common/src/arch/trap.rs) saves a `TrapFrame` and
//! calls [`trap_handler`] or [`syscall_handler`].

use common::arch::{self, qemu, trap::TrapFrame};
use common::kprintln;

/// Called by the shared assembly for every interrupt and exception.
#[unsafe(no_mangle)]
extern "C" fn trap_handler(frame: &mut TrapFrame) {
    if frame.vector < 32 {
        // SAFETY: this path never returns to the interrupted code.
        unsafe { arch::kconsole::force_unlock() };
        arch::kconsole::with_console(|console| {
            let _ = arch::report::write_exception_report(console, frame);
        });
        qemu::exit(qemu::ExitCode::Failure);
    }
    kprintln!("unexpected interrupt vector {}", frame.vector);
}

/// Called by the shared assembly for every `syscall` instruction.
#[unsafe(no_mangle)]
extern "C" fn syscall_handler(frame: &mut TrapFrame) {
    frame.rax = common::abi::errno::Errno::ENOSYS.as_return() as u64;
}
