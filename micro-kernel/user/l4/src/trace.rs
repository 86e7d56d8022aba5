//! Tracing from user level: the `trace` system call, and the recorder that
//! lets the shared code's trace points (`common::trace::point`) inside a
//! server record into the kernel's ring.
//!
//! A server calls [`install`] once (`server_lib::start` does): from then
//! on, a trace point reads the trace word of the kernel info page — one
//! load, no system call — and only while tracing is on makes the
//! `trace(RECORD)` call that adds its event, stamped by the kernel with the
//! server's space and thread. The first event a server records in a new
//! session is preceded by its name (`Kind::Name`), so the trace can say
//! whose space this is.

use crate::sys;
use common::abi::micro::{Error, KERNEL_INFO_PAGE, Sys};
use common::abi::syscall::trace_ops;
use common::trace::{self, Kind, Recorder};
use core::sync::atomic::{AtomicU64, Ordering};

/// The trace word: the first word of the kernel info page.
const TRACE_WORD: *const AtomicU64 = KERNEL_INFO_PAGE as *const AtomicU64;

// SAFETY: the kernel maps the kernel info page, read-only, at
// KERNEL_INFO_PAGE in every address space for the space's whole life.
static RECORDER: Recorder = unsafe { Recorder::new(TRACE_WORD, record) };

/// This program's name for traces (up to 8 bytes, packed), and the
/// session it last named itself in.
static NAME: AtomicU64 = AtomicU64::new(0);
static NAMED_IN: AtomicU64 = AtomicU64::new(0);

/// Makes the shared code's trace points in this program record into the
/// kernel's trace, under `name`.
pub fn install(name: &str) {
    NAME.store(trace::pack_name(name.as_bytes()), Ordering::Relaxed);
    trace::install(&RECORDER);
}

/// The recorder: names this program once per session, then records.
fn record(time: u64, kind: Kind, args: [u64; 3]) {
    // SAFETY: see `RECORDER`.
    let session = unsafe { (*TRACE_WORD).load(Ordering::Relaxed) };
    if NAMED_IN.swap(session, Ordering::Relaxed) != session {
        let (_, space) = crate::task::whoami();
        let _ = record_event(time, Kind::Name, [u64::from(space.slot()), 0, NAME.load(Ordering::Relaxed)]);
    }
    let _ = record_event(time, kind, args);
}

/// `trace(RECORD)`: adds one event of this thread's to the kernel's trace.
pub fn record_event(time: u64, kind: Kind, args: [u64; 3]) -> Result<(), Error> {
    let [a0, a1, a2] = args;
    Error::check(sys::call(Sys::Trace, [trace_ops::RECORD, kind as u64, time, a0, a1, a2, 0, 0]).0)
}

/// The raw `trace(op, a, b)` call (ON, OFF, READ): `Ok(result)`.
pub fn control(op: u64, a: u64, b: u64) -> Result<u64, Error> {
    let (rax, out) = sys::call(Sys::Trace, [op, a, b, 0, 0, 0, 0, 0]);
    Error::check(rax).map(|()| out[0])
}

/// The current trace session (0: tracing is off), from the kernel info page.
pub fn session() -> u64 {
    // SAFETY: see `RECORDER`.
    unsafe { (*TRACE_WORD).load(Ordering::Relaxed) }
}
