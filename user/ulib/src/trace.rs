//! Tracing from a user program: switch the kernel's trace on and off, and
//! read the events it recorded (`common::trace`, `docs/trace.md`).
//!
//! The same calls on both kernels: the mono-kernel's ring holds what its
//! trace points recorded; the microkernel's holds the kernel's events and
//! the servers' (which record into it while tracing is on).

use crate::{Errno, sys};
use alloc::vec::Vec;
use common::abi::syscall::trace_ops;
use common::trace::{EVENT_WORDS, Event};

/// Forgets what was recorded and starts recording.
pub fn on() -> Result<(), Errno> {
    // SAFETY: ON takes no pointer.
    unsafe { sys::trace(trace_ops::ON, 0, 0) }.map(|_| ())
}

/// Stops recording; returns how many events the trace holds.
pub fn off() -> Result<u64, Errno> {
    // SAFETY: OFF takes no pointer.
    unsafe { sys::trace(trace_ops::OFF, 0, 0) }
}

/// Reads the next events (at most `max`), in the order they happened; an
/// empty vector when all were read.
pub fn read(max: usize) -> Result<Vec<Event>, Errno> {
    let mut bytes = alloc::vec![0u8; max * trace_ops::EVENT_BYTES];
    // SAFETY: `bytes` is ours and has the length given.
    let count = unsafe {
        sys::trace(
            trace_ops::READ,
            bytes.as_mut_ptr() as u64,
            bytes.len() as u64,
        )?
    };
    let mut events = Vec::with_capacity(count as usize);
    for record in bytes
        .chunks_exact(trace_ops::EVENT_BYTES)
        .take(count as usize)
    {
        let mut words = [0u64; EVENT_WORDS];
        for (word, chunk) in words.iter_mut().zip(record.chunks_exact(8)) {
            let mut le = [0u8; 8];
            le.copy_from_slice(chunk);
            *word = u64::from_le_bytes(le);
        }
        // The kernel wrote these words; a malformed one is skipped.
        if let Some(event) = Event::from_words(&words) {
            events.push(event);
        }
    }
    Ok(events)
}
