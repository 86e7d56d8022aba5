//! The microkernel's test root task.
//!
//! The kernel starts it (with `-append roottest`) as the root task: it owns
//! all free memory and every privilege. It checks each rule of the kernel
//! (issue 5) from user level, printing one line per check,
//!
//! ```text
//! micro-test ipc-call-reply: ok
//! micro-test unmap-recursive: FAILED C could still read the page
//! ...
//! micro-tests: 25 passed, 0 failed
//! ```
//!
//! then measures IPC round trips (`bench ipc-roundtrip-spaces: N ticks`)
//! and leaves QEMU with success only if every check passed. The grading
//! harness (`grading/src/suites/micro_kernel.rs`) expects each name.
//!
//! | file        | what                                                        |
//! |-------------|-------------------------------------------------------------|
//! | `main.rs`   | start, running the checks, the summary, leaving QEMU        |
//! | `support.rs`| page allocator over the window, threads, spaces, `Reason`    |
//! | `pager.rs`  | the pager thread that serves the child spaces' page faults  |
//! | `worker.rs` | the program run in child spaces, driven by command messages |
//! | `tests.rs`  | the checks                                                  |
//! | `bench.rs`  | the IPC round-trip benchmarks                               |

#![no_std]
#![no_main]
// A failure reason is a small text buffer carried by value (there is no heap).
#![allow(clippy::result_large_err)]

mod bench;
mod pager;
mod support;
mod tests;
mod worker;

use common::port::{HardwarePorts, PortIo};
use l4::println;

/// A check: its name (what the harness looks for) and its function.
type Check = (&'static str, fn() -> support::Outcome);

/// The checks, in the order they run.
const CHECKS: &[Check] = &[
    ("threads-exregs", tests::threads_exregs),
    ("priorities", tests::priorities),
    ("yield", tests::yield_to_equal_priority),
    ("ipc-ping-pong", tests::ping_pong),
    ("ipc-call-reply", tests::call_reply),
    ("ipc-sender-id", tests::sender_id),
    ("ipc-receive-any-order", tests::receive_any_order),
    ("ipc-timeout-zero", tests::timeout_zero),
    ("ipc-timeout-relative", tests::timeout_relative),
    ("ipc-timeout-never", tests::timeout_never),
    ("ipc-timeout-after-fast-send", tests::timeout_after_fast_send),
    ("ipc-priorities", tests::ipc_respects_priorities),
    ("ipc-long-message", tests::long_message),
    ("ipc-system-call-faults", tests::system_call_faults),
    ("map-share", tests::map_share),
    ("map-rights", tests::map_rights),
    ("unmap-recursive", tests::unmap_recursive),
    ("unmap-write", tests::unmap_write_only),
    ("map-depth", tests::map_depth),
    ("grant", tests::grant),
    ("pager", tests::pager_serves_fault),
    ("pager-fault-ahead", tests::pager_fault_ahead),
    ("exception", tests::exception_to_handler),
    ("fault-kill", tests::fault_without_handler_kills),
    ("timer-irq", tests::timer_irq),
    ("ioport-allowed", tests::ioport_allowed),
    ("ioport-denied", tests::ioport_denied),
    ("bad-args-ipc", tests::bad_args_ipc),
    ("bad-args-memory", tests::bad_args_memory),
    ("bad-args-threads", tests::bad_args_threads),
    ("bad-args-calls", tests::bad_args_calls),
    ("device-memory", tests::device_memory),
    ("fuzz-syscalls", tests::fuzz_syscalls),
    ("exhaustion", tests::exhaustion),
    ("quota-threads", tests::quota_threads),
    ("quota-page-tables", tests::quota_page_tables),
    ("quota-mappings", tests::quota_mappings),
    ("space-destroy", tests::space_destroy),
];

fn main(boot: l4::BootInfo) -> ! {
    support::init(&boot);
    pager::start();
    println!("micro-tests: starting {} checks", CHECKS.len());
    let mut failed = 0;
    for (name, check) in CHECKS {
        match check() {
            Ok(()) => println!("micro-test {name}: ok"),
            Err(reason) => {
                failed += 1;
                println!("micro-test {name}: FAILED {}", reason.as_str());
            }
        }
    }
    println!("micro-tests: {} passed, {} failed", CHECKS.len() - failed, failed);
    bench::run();
    exit_qemu(failed == 0)
}

l4::entry!(main);

/// Leaves QEMU through its debug-exit device (port 0xf4), which the root
/// task may use because it may grant itself any port.
fn exit_qemu(success: bool) -> ! {
    const DEBUG_EXIT_PORT: u16 = 0xf4;
    let (_, space) = l4::task::whoami();
    let _ = l4::device::ioport_grant(space, DEBUG_EXIT_PORT, 1);
    HardwarePorts.write_u8(DEBUG_EXIT_PORT, if success { 0x10 } else { 0x11 });
    loop {
        l4::ipc::sleep(100);
    }
}
