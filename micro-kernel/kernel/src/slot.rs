//! Slot numbers: which entry of the thread table, which entry of the space
//! table.
//!
//! Both tables are indexed by small numbers, and both numbers fit a `u16`.
//! As bare `u16`s they could be mixed up — a thread slot passed where a
//! space slot belongs compiles and then reads the wrong table entry. So each
//! has its own type: a [`ThreadSlot`] cannot be passed for a [`SpaceSlot`]
//! or the other way round. Both are `#[repr(transparent)]` wrappers of a
//! `u16`, so they cost nothing at run time: the compiled code is the same
//! as with the bare number.
//!
//! A slot is only a table position. The ids user threads see
//! (`common::abi::micro::{ThreadId, SpaceId}`) add a generation, so a stale
//! id never reaches a slot's next occupant; the tables' `lookup` functions
//! turn a checked id into a slot, and `id` turns a slot back into an id.

/// A position in the thread table (`thread.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(transparent)]
pub struct ThreadSlot(u16);

impl ThreadSlot {
    /// "No thread": the end of an intrusive list (ready queues, send
    /// queues) and the scheduler's `current` while nothing runs. Never a
    /// real slot (the table is far smaller than `u16::MAX` entries).
    pub const NONE: ThreadSlot = ThreadSlot(u16::MAX);

    /// Slot number `number` (the caller keeps it below the table's size).
    pub const fn new(number: u16) -> ThreadSlot {
        ThreadSlot(number)
    }

    /// The slot number, as it appears in a thread id.
    pub const fn number(self) -> u16 {
        self.0
    }

    /// The slot as an index into the thread table.
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

/// How many address spaces can exist at once (the size of `space.rs`'s table).
pub const MAX_SPACES: usize = 128;

/// A position in the address-space table (`space.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct SpaceSlot(u16);

impl SpaceSlot {
    /// Slot number `number` (the caller keeps it below the table's size).
    pub const fn new(number: u16) -> SpaceSlot {
        SpaceSlot(number)
    }

    /// The slot number, as it appears in a space id.
    pub const fn number(self) -> u16 {
        self.0
    }

    /// The slot as an index into the space table.
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_plain_numbers_at_run_time() {
        assert_eq!(core::mem::size_of::<ThreadSlot>(), 2);
        assert_eq!(core::mem::size_of::<SpaceSlot>(), 2);
        assert_eq!(ThreadSlot::new(7).index(), 7);
        assert_eq!(SpaceSlot::new(7).number(), 7);
        assert_ne!(ThreadSlot::new(0), ThreadSlot::NONE);
    }
}
