//! `SleepLock<T>`: a lock that a process may hold while it sleeps.
//!
//! The file system is single-threaded code (`&mut Ext2`), but a file-system
//! call can sleep in the middle — waiting for the disk — and while it sleeps
//! other processes run and may make file-system calls of their own. A
//! `RefCell` would panic there; a spin lock would spin forever on one CPU.
//! A sleep lock makes the second caller *sleep* until the first is done,
//! which serialises all file-system calls (`docs/design.md`, rule 9; xv6
//! has the same type in `sleeplock.c`).

use crate::proc::Channel;
use crate::sched;
use core::cell::{Cell, UnsafeCell};
use core::ops::{Deref, DerefMut};

/// A value guarded by a lock whose holder may sleep.
pub struct SleepLock<T> {
    held: Cell<bool>,
    value: UnsafeCell<T>,
}

impl<T> SleepLock<T> {
    /// A new, unlocked lock around `value`.
    pub const fn new(value: T) -> Self {
        SleepLock {
            held: Cell::new(false),
            value: UnsafeCell::new(value),
        }
    }

    /// Waits until the lock is free, then takes it. While no process runs
    /// (at boot) the lock cannot be contended, so it is taken at once.
    pub fn lock(&self) -> SleepLockGuard<'_, T> {
        while self.held.get() {
            sched::sleep(Channel::of(self));
        }
        self.held.set(true);
        SleepLockGuard { lock: self }
    }
}

impl<T> SleepLock<T> {
    /// Takes the lock if it is free, without sleeping: for the scheduler's
    /// idle loop, which has no process to put to sleep.
    pub fn try_lock(&self) -> Option<SleepLockGuard<'_, T>> {
        if self.held.get() {
            return None;
        }
        self.held.set(true);
        Some(SleepLockGuard { lock: self })
    }
}

/// Access to the value while the lock is held; unlocks when dropped.
pub struct SleepLockGuard<'a, T> {
    lock: &'a SleepLock<T>,
}

impl<T> Deref for SleepLockGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: `held` is true while this guard exists, and every other
        // access goes through `lock`, which waits until `held` is false: this
        // guard is the only way to the value.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> DerefMut for SleepLockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` makes this borrow unique.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T> Drop for SleepLockGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.held.set(false);
        sched::wakeup(Channel::of(self.lock));
    }
}
