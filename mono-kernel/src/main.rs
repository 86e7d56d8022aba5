//! # Diptych mono-kernel
//!
//! The monolithic kernel, in the tradition of UNIX and xv6: the shared drivers,
//! file system and pipe code from `common/` are linked straight in and called
//! from system calls and interrupt handlers.
//!
//! Boot: QEMU enters `_start32` (common/src/arch/boot.rs), which switches to
//! 64-bit mode in the higher half and calls [`kernel_start`] here.

#![no_std]
#![no_main]

extern crate alloc;

mod console;
mod disk;
mod exec;
mod file;
mod fsys;
mod global;
mod heap;
mod inject;
mod memory;
mod proc;
mod rtc;
mod sched;
mod sleeplock;
mod switch;
mod sys_file;
mod sys_proc;
mod syscall;
mod trace;
mod trap;
mod vm;

use common::arch::{self, qemu};
use common::drivers::pic::{IRQ_ATA_PRIMARY, IRQ_COM1, IRQ_KEYBOARD, IRQ_TIMER};
use common::kprintln;

/// The Rust entry point, called by the shared boot code on the boot stack.
#[unsafe(no_mangle)]
extern "C" fn kernel_start(start_info_phys: u64) -> ! {
    heap::init();
    trace::init();
    // SAFETY: `start_info_phys` is what QEMU passed in ebx, untouched since.
    let boot_info = unsafe { arch::boot::bring_up_cpu(start_info_phys) };
    memory::init(&boot_info);

    arch::interrupts::init();
    console::init_keyboard();
    arch::interrupts::unmask(IRQ_TIMER);
    arch::interrupts::unmask(IRQ_KEYBOARD);
    let interrupts = arch::interrupts::self_test();
    let free_kib = memory::free_frames() as u64 * 4;
    arch::kconsole::print_banner("mono-kernel", free_kib, interrupts);

    if boot_info.has_flag("fault-test") {
        arch::report::deliberate_page_fault();
    }
    if boot_info.has_flag(common::abi::inject::COMMAND_LINE_FLAG) {
        inject::allow();
    }
    arch::interrupts::unmask(IRQ_COM1);
    arch::interrupts::unmask(IRQ_ATA_PRIMARY);
    if let Err(problem) = fsys::mount_root() {
        kprintln!("boot: cannot mount the root file system: {problem}");
        qemu::exit(qemu::ExitCode::Failure);
    }
    start_init();
    sched::run();
}

/// Creates the first process, running `/bin/init`.
fn start_init() {
    let args = [b"init".to_vec()];
    let program = match exec::load(common::fs::ROOT_INO, b"/bin/init", &args) {
        Ok(program) => program,
        Err(errno) => {
            kprintln!("boot: cannot load /bin/init: {}", errno.message());
            qemu::exit(qemu::ExitCode::Failure);
        }
    };
    let mut frame = arch::trap::TrapFrame::new_user(program.entry, program.stack_pointer);
    frame.rdi = program.argc;
    frame.rsi = program.argv;
    let files = file::FdTable::new();
    // Every process holds its working directory, init too.
    if let Err(errno) = fsys::hold_inode(common::fs::ROOT_INO) {
        kprintln!("boot: cannot hold the root directory: {}", errno.message());
        qemu::exit(qemu::ExitCode::Failure);
    }
    if let Err(errno) = sys_proc::spawn(
        &frame,
        0,
        "init".into(),
        program.vm,
        files,
        common::fs::ROOT_INO,
    ) {
        kprintln!("boot: cannot start init: {}", errno.message());
        qemu::exit(qemu::ExitCode::Failure);
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    arch::report::kernel_panic(info)
}
