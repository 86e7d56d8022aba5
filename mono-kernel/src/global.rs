//! `Global<T>`: kernel-wide state on a single CPU, without locks.
//!
//! The monolithic kernel runs on one CPU with interrupts disabled whenever it
//! is in kernel mode (they are taken in user mode and in the idle loop). So
//! between two context switches the kernel is ordinary single-threaded code,
//! and shared state needs no locks — only Rust's usual rules within one
//! thread: `Cell` for small values, `RefCell` for larger ones.
//!
//! A `static` must be `Sync`, which `Cell`/`RefCell` are not, because Rust
//! cannot know about our one CPU. `Global<T>` states that fact in one place.
//! The rule that keeps it true: **never hold a `RefCell` borrow across a
//! context switch (`sched::sleep`, `sched::yield_now`)**, since another
//! process may then borrow the same cell. Interrupt handlers run only in
//! user mode or the idle loop, where no kernel borrow is live.

use core::ops::Deref;

/// A value shared by all kernel code on the one CPU.
pub struct Global<T>(T);

// SAFETY: one CPU, and kernel code never runs concurrently with itself:
// interrupts are disabled in kernel mode except in the scheduler's idle loop,
// which holds no references into any `Global`. See the module comment.
unsafe impl<T> Sync for Global<T> {}

impl<T> Global<T> {
    /// Wraps `value` for use in a `static`.
    pub const fn new(value: T) -> Self {
        Global(value)
    }
}

impl<T> Deref for Global<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}
