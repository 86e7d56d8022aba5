//! IPC round-trip benchmarks: `call` + `reply-and-receive`, between two
//! address spaces and between two threads of one space; and, for scale, a
//! null system call (`system_clock`).
//!
//! The time-stamp counter is read around `ITERATIONS` round trips after a
//! warm-up (so the server's pages are mapped). Under QEMU with
//! `-icount shift=0` the TSC counts guest instructions, so the figures are
//! deterministic path lengths.

use crate::support::{self, PRIORITY};
use l4::println;
use l4::{Message, ThreadId, Timeout};

const ITERATIONS: u64 = 10_000;
const WARM_UP: u64 = 100;

use support::rdtsc;

/// The server: replies with the request, forever.
extern "C" fn echo_server(_: u64) -> ! {
    let mut request = l4::ipc::receive(ThreadId::ANY, Timeout::Never);
    loop {
        request = match request {
            Ok(message) => l4::ipc::reply_and_receive(message.from, &Message { tag: message.tag, mr: message.mr }),
            Err(_) => l4::ipc::receive(ThreadId::ANY, Timeout::Never),
        };
    }
}

/// Average ticks per round trip to `server`, or None if an IPC failed.
fn measure(server: ThreadId) -> Option<u64> {
    let message = Message::new(1, &[1, 2]);
    for _ in 0..WARM_UP {
        l4::ipc::call(server, &message).ok()?;
    }
    let start = rdtsc();
    for _ in 0..ITERATIONS {
        l4::ipc::call(server, &message).ok()?;
    }
    Some((rdtsc() - start) / ITERATIONS)
}

/// Average ticks per `system_clock` call: the cost of entering and leaving
/// the kernel, the floor under every IPC.
fn measure_null_call() -> u64 {
    for _ in 0..WARM_UP {
        l4::task::system_clock();
    }
    let start = rdtsc();
    for _ in 0..ITERATIONS {
        core::hint::black_box(l4::task::system_clock());
    }
    (rdtsc() - start) / ITERATIONS
}

/// Runs the benchmarks and prints `bench NAME: N ticks`.
pub fn run() {
    // The fuzz check may have switched tracing on (it makes random system
    // calls, `trace` among them): the figures are for tracing off.
    let _ = l4::trace::control(common::abi::syscall::trace_ops::OFF, 0, 0);
    report("null-syscall", Some(measure_null_call()));
    match support::spawn_in_new_space(echo_server, 0, 0, support::main_thread()) {
        Ok((space, server)) => {
            report("ipc-roundtrip-spaces", measure(server));
            let _ = l4::task::space_destroy(space);
        }
        Err(error) => println!("bench ipc-roundtrip-spaces: FAILED to start the server: {error:?}"),
    }
    match support::spawn_local(echo_server, 0, PRIORITY) {
        Ok(server) => {
            report("ipc-roundtrip-threads", measure(server));
            let _ = l4::task::thread_destroy(server);
        }
        Err(error) => {
            println!("bench ipc-roundtrip-threads: FAILED to start the server: {error:?}")
        }
    }
}

fn report(name: &str, ticks: Option<u64>) {
    match ticks {
        Some(ticks) => println!("bench {name}: {ticks} ticks"),
        None => println!("bench {name}: FAILED (an IPC returned an error)"),
    }
}
