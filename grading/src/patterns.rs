//! The contract between the kernels and the grader: what a kernel prints on
//! its serial console, and the exit values it writes to QEMU's debug-exit port.
//!
//! Everything the harness looks for in a kernel's output is named here, in one
//! place, and documented again in `docs/grading.md`. A kernel author who
//! changes a message must change the matching constant (and the docs) in the
//! same commit; a test that hard-codes one of these strings elsewhere is a bug.
//!
//! Constants whose name ends in `_REGEX` are regular expressions in the syntax
//! of the `regex` crate; the others are literal text. The harness removes
//! carriage returns from the serial stream, so `\n` ends a line.

use std::time::Duration;

/// The value a kernel writes to the isa-debug-exit port to power off after a
/// clean shutdown. QEMU then exits with status `(0x10 << 1) | 1 = 33`.
pub const GUEST_EXIT_SUCCESS: u32 = 0x10;

/// The value a kernel writes to the isa-debug-exit port after a panic or a
/// fatal CPU exception. QEMU then exits with status `(0x11 << 1) | 1 = 35`.
pub const GUEST_EXIT_FAILURE: u32 = 0x11;

/// The I/O port of QEMU's `isa-debug-exit` device (`iobase=0xf4,iosize=0x04`).
pub const DEBUG_EXIT_PORT: u16 = 0xf4;

/// The exit status of the QEMU process after the guest wrote `value` to the
/// isa-debug-exit port.
pub const fn qemu_status_for_guest_exit(value: u32) -> i32 {
    ((value << 1) | 1) as i32
}

/// The boot banner, printed once early in boot by both kernels. The capture
/// group names the kernel. Every test waits for it before doing anything else.
///
/// Example: `Diptych mono-kernel 0.1.0 (x86_64)`.
pub const BOOT_BANNER_REGEX: &str = r"Diptych (mono|micro)-kernel";

/// Free physical memory, printed after the frame allocator is set up, after
/// the banner and before [`INTERRUPTS_LIVE`]. The capture is a decimal number
/// of KiB.
///
/// Example: `free memory: 250112 KiB`.
pub const FREE_MEMORY_REGEX: &str = r"free memory: (\d+) KiB";

/// Printed once the timer interrupt has fired at least once and the keyboard
/// interrupt line is unmasked and its handler installed.
pub const INTERRUPTS_LIVE: &str = "interrupts: timer ok, keyboard ok";

/// The start of a kernel panic report (mono: Rust `panic!` in the kernel;
/// micro: a panic in the microkernel itself). After printing the report the
/// kernel writes [`GUEST_EXIT_FAILURE`] to the debug-exit port.
pub const KERNEL_PANIC: &str = "KERNEL PANIC";

/// The start of the report of an unexpected CPU exception in kernel mode.
/// After printing the report the kernel writes [`GUEST_EXIT_FAILURE`].
pub const CPU_EXCEPTION: &str = "CPU EXCEPTION";

/// The start of the micro-kernel's root task's report of a server that
/// crashed, got stuck or ended (`micro-kernel/user/root/src/supervisor.rs`).
/// Root restarts it, and its clients may never notice: a test that did not
/// ask for the failure (fault injection) must still fail on it, or a bug
/// that crashes a server would hide behind the restart.
///
/// Example: `root: server failure: the fs server crashed (#PF page fault
/// at 0x18 (not-present, read, user), rip 0x3014df0); restarting it`.
pub const SERVER_FAILURE: &str = "root: server failure:";

/// The fatal-error banners. Seeing any of them in the serial output fails a
/// test at once (unless the test expects a crash).
pub const FATAL_BANNERS: [&str; 3] = [KERNEL_PANIC, CPU_EXCEPTION, SERVER_FAILURE];

/// The kernel command line that asks a kernel to make a deliberate page fault
/// in kernel mode right after boot, to show its fault report. The harness
/// passes it with `-append` (PVH hands it to the kernel in `hvm_start_info`).
pub const FAULT_TEST_CMDLINE: &str = "fault-test";

/// The first line of the page-fault report.
///
/// Example: `CPU EXCEPTION: #PF page fault (error code 0x2)`.
pub const PAGE_FAULT_REPORT: &str = "CPU EXCEPTION: #PF page fault";

/// The faulting address in a page-fault report, in hexadecimal.
///
/// Example: `CR2=0xdeadbeef000`.
pub const FAULT_CR2_REGEX: &str = r"CR2=(0x[0-9a-fA-F]+)";

/// The faulting instruction address in a fault report, in hexadecimal.
///
/// Example: `RIP=0xffffffff80012345`.
pub const FAULT_RIP_REGEX: &str = r"RIP=(0x[0-9a-fA-F]+)";

/// The heading of the stack backtrace in a fault or panic report; one frame
/// address per following line.
pub const BACKTRACE_HEADING: &str = "backtrace";

/// One frame of a backtrace: `#N 0xADDRESS`, one per line after
/// [`BACKTRACE_HEADING`], innermost first.
///
/// Example: `  #0 0xffffffff8010a2c4`.
pub const BACKTRACE_FRAME_REGEX: &str = r"(?m)^\s*#\d+ 0x[0-9a-fA-F]+";

/// The shell prompt: `$ ` at the start of a line.
pub const PROMPT_REGEX: &str = r"(?m)^\$ ";

/// How long a kernel may take from QEMU start to the boot banner.
/// Generous: TCG on a loaded two-core CI machine is slow.
pub const BOOT_TIMEOUT: Duration = Duration::from_secs(30);

/// The default time one shell command may take to finish.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// The default time limit of one whole test, boot included.
pub const TEST_TIME_LIMIT: Duration = Duration::from_secs(300);

/// How long one usertest run alone (`usertests NAME`, boot included) may
/// take under TCG.
pub const USERTEST_TIME_LIMIT: Duration = Duration::from_secs(120);

/// How long a test's host command (`cargo test ...`) may take.
pub const HOST_COMMAND_TIME_LIMIT: Duration = Duration::from_secs(600);

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;

    #[test]
    fn exit_statuses_match_qemu_formula() {
        assert_eq!(qemu_status_for_guest_exit(GUEST_EXIT_SUCCESS), 33);
        assert_eq!(qemu_status_for_guest_exit(GUEST_EXIT_FAILURE), 35);
    }

    #[test]
    fn documented_examples_match_the_patterns() {
        let banner = Regex::new(BOOT_BANNER_REGEX).unwrap();
        let caps = banner
            .captures("Diptych micro-kernel 0.1.0 (x86_64)")
            .unwrap();
        assert_eq!(&caps[1], "micro");
        assert!(!banner.is_match("Diptych kernel"));

        let memory = Regex::new(FREE_MEMORY_REGEX).unwrap();
        assert_eq!(
            &memory.captures("free memory: 250112 KiB").unwrap()[1],
            "250112"
        );

        let cr2 = Regex::new(FAULT_CR2_REGEX).unwrap();
        assert_eq!(
            &cr2.captures("CR2=0xdeadbeef000 ").unwrap()[1],
            "0xdeadbeef000"
        );
        let rip = Regex::new(FAULT_RIP_REGEX).unwrap();
        assert!(rip.is_match("RIP=0xffffffff80012345"));
        assert!(!rip.is_match("RIP=?"));

        let frame = Regex::new(BACKTRACE_FRAME_REGEX).unwrap();
        assert!(frame.is_match("backtrace (innermost first):\n  #0 0xffffffff8010a2c4\n"));
        assert!(!frame.is_match("backtrace: (none)"));

        let prompt = Regex::new(PROMPT_REGEX).unwrap();
        assert!(prompt.is_match("init: starting sh\n$ "));
        assert!(!prompt.is_match("cost: 5$ each"));
    }
}
