//! The report printed when the kernel itself takes a CPU exception.
//!
//! A fault in kernel code is a kernel bug, so the report gives a student
//! everything needed to find it without a debugger:
//!
//! ```text
//! CPU EXCEPTION: #PF page fault (vector 14) in kernel mode
//!   error code 0x2 (not-present, write, kernel)
//!   CR2=0x0000000000000008 (the address that faulted)
//!   RIP=0xffffffff8010a2c4 RSP=... RFLAGS=...
//!   rax=... (all general-purpose registers)
//! backtrace (innermost first; `make addr2line ADDR=...` names them):
//!   #0 0xffffffff8010a2c4
//!   #1 0xffffffff8010b0e1
//! ```
//!
//! The backtrace walks the chain of saved frame pointers (every crate is built
//! with `-C force-frame-pointers=yes`): `[rbp]` is the caller's rbp and
//! `[rbp+8]` the return address. Each step is checked — the pointer must be
//! aligned and inside the kernel's higher half — and the walk is bounded, so a
//! corrupt stack gives a short backtrace, never a second fault.

use super::idt::{PAGE_FAULT, exception_name};
use super::trap::TrapFrame;
use core::fmt::{self, Write};

/// The most frames a backtrace prints.
pub const MAX_BACKTRACE_FRAMES: usize = 16;

/// Writes the full exception report for `frame` to `out`.
pub fn write_exception_report(out: &mut dyn Write, frame: &TrapFrame) -> fmt::Result {
    let (mnemonic, name) = exception_name(frame.vector);
    let mode = if frame.from_user() { "user" } else { "kernel" };
    writeln!(
        out,
        "\nCPU EXCEPTION: {mnemonic} {name} (vector {}) in {mode} mode",
        frame.vector
    )?;
    write!(out, "  error code {:#x}", frame.error_code)?;
    if frame.vector == PAGE_FAULT {
        write!(out, " ({})", PageFaultCause(frame.error_code))?;
        writeln!(out)?;
        writeln!(
            out,
            "  CR2={:#018x} (the address that faulted)",
            super::cpu::read_cr2()
        )?;
    } else {
        writeln!(out)?;
    }
    writeln!(
        out,
        "  RIP={:#018x} RSP={:#018x} RFLAGS={:#x} CS={:#x} SS={:#x}",
        frame.rip, frame.rsp, frame.rflags, frame.cs, frame.ss
    )?;
    writeln!(
        out,
        "  rax={:#018x} rbx={:#018x} rcx={:#018x} rdx={:#018x}",
        frame.rax, frame.rbx, frame.rcx, frame.rdx
    )?;
    writeln!(
        out,
        "  rsi={:#018x} rdi={:#018x} rbp={:#018x}",
        frame.rsi, frame.rdi, frame.rbp
    )?;
    writeln!(
        out,
        "  r8 ={:#018x} r9 ={:#018x} r10={:#018x} r11={:#018x}",
        frame.r8, frame.r9, frame.r10, frame.r11
    )?;
    writeln!(
        out,
        "  r12={:#018x} r13={:#018x} r14={:#018x} r15={:#018x}",
        frame.r12, frame.r13, frame.r14, frame.r15
    )?;
    if !frame.from_user() {
        writeln!(
            out,
            "backtrace (innermost first; `make addr2line ADDR=...` names them):"
        )?;
        writeln!(out, "  #0 {:#018x}", frame.rip)?;
        write_backtrace_from(out, frame.rbp, 1)?;
    }
    Ok(())
}

/// Writes the return addresses found by walking frame pointers from `rbp`,
/// numbering them from `first_index`.
pub fn write_backtrace_from(out: &mut dyn Write, mut rbp: u64, first_index: usize) -> fmt::Result {
    for index in first_index..first_index + MAX_BACKTRACE_FRAMES {
        if rbp < super::KERNEL_BASE || !rbp.is_multiple_of(8) || rbp > u64::MAX - 16 {
            break;
        }
        // SAFETY: `rbp` is an aligned higher-half address; the kernel's higher
        // half maps all of the first 1 GiB, so both words are readable.
        let (caller_rbp, return_address) =
            unsafe { (*(rbp as *const u64), *((rbp + 8) as *const u64)) };
        if return_address == 0 {
            break;
        }
        writeln!(out, "  #{index} {return_address:#018x}")?;
        if caller_rbp <= rbp {
            break; // stacks grow down, so callers' frames are higher: stop on a loop
        }
        rbp = caller_rbp;
    }
    Ok(())
}

/// Decodes a page fault's error code: `not-present, write, kernel` etc.
pub struct PageFaultCause(pub u64);

impl fmt::Display for PageFaultCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let code = self.0;
        let present = if code & 1 != 0 {
            "protection violation"
        } else {
            "not-present"
        };
        let access = if code & 16 != 0 {
            "instruction fetch"
        } else if code & 2 != 0 {
            "write"
        } else {
            "read"
        };
        let mode = if code & 4 != 0 { "user" } else { "kernel" };
        write!(f, "{present}, {access}, {mode}")?;
        if code & 8 != 0 {
            write!(f, ", reserved bit set")?;
        }
        Ok(())
    }
}

/// The end of a CPU exception in kernel mode: prints the report and stops
/// QEMU with the failure status. Both kernels' trap handlers call this.
pub fn kernel_exception(frame: &TrapFrame) -> ! {
    // SAFETY: this path never returns to the interrupted code, so a console
    // lock it may have held will never be released by it.
    unsafe { super::kconsole::force_unlock() };
    super::kconsole::with_console(|console| {
        let _ = write_exception_report(console, frame);
    });
    super::qemu::exit(super::qemu::ExitCode::Failure);
}

/// The end of a kernel panic: prints `KERNEL PANIC: <message>` and a
/// backtrace, then stops QEMU with the failure status. Both kernels'
/// `#[panic_handler]`s call this.
pub fn kernel_panic(info: &core::panic::PanicInfo) -> ! {
    // SAFETY: as in `kernel_exception`: we never return to the panicking code.
    unsafe { super::kconsole::force_unlock() };
    crate::kprintln!("\nKERNEL PANIC: {info}");
    super::kconsole::with_console(|console| {
        let _ = writeln!(
            console,
            "backtrace (innermost first; `make addr2line ADDR=...` names them):"
        );
        let _ = write_backtrace_from(console, super::cpu::read_rbp(), 0);
    });
    super::qemu::exit(super::qemu::ExitCode::Failure);
}

/// The `fault-test` boot option: a deliberate page fault in kernel mode, so
/// students (and the grader) can see the report. Does not return: the fault
/// ends in [`kernel_exception`].
pub fn deliberate_page_fault() -> ! {
    crate::kprintln!("fault-test: reading address 0x8 on purpose");
    let unmapped = core::ptr::without_provenance::<u64>(0x8);
    // SAFETY: not safe at all, on purpose: nothing is mapped at 0x8 (the
    // boot identity map is gone), so this read page-faults in kernel mode.
    let value = unsafe { core::ptr::read_volatile(unmapped) };
    crate::kprintln!("fault-test: read {value:#x}?! no fault happened");
    super::qemu::exit(super::qemu::ExitCode::Failure);
}
