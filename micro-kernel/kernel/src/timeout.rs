//! Time: the tick count and IPC timeouts.
//!
//! An IPC phase that may block carries a timeout: zero (fail at once if the
//! partner is not ready), never (wait as long as it takes), or a number of
//! ticks. A blocked thread with a finite timeout has a `deadline` (the tick
//! at which it gives up); [`tick`] runs on every timer interrupt and wakes
//! the threads whose deadline has come, with `SendTimeout` or
//! `ReceiveTimeout`. That is all `sleep()` needs: a receive with a relative
//! timeout from a partner that never sends — the thread's own id (a thread
//! cannot send to itself while it receives), as `l4::ipc::sleep` does.
//!
//! With at most `MAX_THREADS` threads a linear scan per tick (100 Hz) is
//! cheaper and simpler than a sorted timer list.
//!
//! The same scan keeps each thread's `running_ticks`: the ticks that found
//! it on the CPU since it last waited in an IPC (a tick that finds it
//! waiting sets it back to 0). The root task's watchdog reads it through
//! `exchange_registers`: a server that has run for many ticks without ever
//! waiting is stuck in a loop (`docs/fault-isolation.md`).

use crate::global::Kernel;
use crate::ipc;
use crate::thread::{ThreadState, ThreadTable};
use common::abi::micro::{Error, TIMEOUT_NEVER};

/// The deadline for a timeout of `ticks` starting now (0: no deadline).
pub fn deadline(k: &Kernel, ticks: u32) -> u64 {
    if ticks == TIMEOUT_NEVER { 0 } else { k.ticks + ticks as u64 }
}

/// One timer tick: advance time, expire deadlines, count down the slice.
pub fn tick(k: &mut Kernel) {
    k.ticks += 1;
    for slot in ThreadTable::every_slot() {
        let thread = k.threads.get(slot);
        if thread.running_ticks != 0 && matches!(thread.state, ThreadState::SendBlocked | ThreadState::ReceiveBlocked) {
            thread.running_ticks = 0; // it waited since it last ran
        }
        if thread.deadline == 0 || thread.deadline > k.ticks {
            continue;
        }
        match thread.state {
            ThreadState::SendBlocked => ipc::abort(k, slot, Error::SendTimeout),
            ThreadState::ReceiveBlocked => ipc::abort(k, slot, Error::ReceiveTimeout),
            _ => thread.deadline = 0,
        }
    }
    let current = k.sched.current;
    if current != crate::thread::NO_SLOT {
        let thread = k.threads.get(current);
        thread.running_ticks = thread.running_ticks.saturating_add(1);
        thread.time_left = thread.time_left.saturating_sub(1);
        if thread.time_left == 0 {
            k.sched.need_resched = true;
        }
    }
}
