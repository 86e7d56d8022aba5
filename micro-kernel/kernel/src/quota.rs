//! Quotas: how much of the kernel's own resources one space may hold.
//!
//! The kernel has fixed pools — thread slots, mapping-database nodes, and
//! frames for page tables — and every space draws on them. Without a limit
//! one user process could take them all (create threads in a loop, or map
//! pages all over its address space), and then the servers could no longer
//! create a process or answer a page fault: the whole system would stop
//! for one program. So each resource follows one rule, [`may_take`]:
//!
//! - an *ordinary* space (no `privilege::RESERVES`: a user process) may
//!   hold at most its quota, and may not take the last free units of a
//!   pool: those are kept back for the servers;
//! - a *trusted* space (with `privilege::RESERVES`: root and the servers
//!   root starts) may take anything that is free.
//!
//! The numbers are in `common::abi::micro::quota`, where user code can see
//! them. Each resource is charged to the space it ends up in: a thread to
//! its space, a mapping and the page tables that hold it to the space that
//! receives the mapping.

/// One pool's state as a request sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pool {
    /// Units free in the pool now.
    pub free: u32,
    /// Units an ordinary space may never take (kept for trusted spaces).
    pub reserved: u32,
    /// Units one ordinary space may hold.
    pub per_space: u32,
}

/// Whether a space that holds `held` units of `pool` may take `wanted` more.
pub fn may_take(pool: Pool, trusted: bool, held: u32, wanted: u32) -> bool {
    if trusted {
        return pool.free >= wanted;
    }
    let within_quota = held.checked_add(wanted).is_some_and(|total| total <= pool.per_space);
    let leaves_reserve = wanted.checked_add(pool.reserved).is_some_and(|needed| pool.free >= needed);
    within_quota && leaves_reserve
}

#[cfg(test)]
mod tests {
    use super::*;

    const POOL: Pool = Pool { free: 100, reserved: 10, per_space: 20 };

    #[test]
    fn an_ordinary_space_is_held_to_its_quota() {
        assert!(may_take(POOL, false, 0, 20));
        assert!(may_take(POOL, false, 19, 1));
        assert!(!may_take(POOL, false, 20, 1));
        assert!(!may_take(POOL, false, 0, 21));
        assert!(!may_take(POOL, false, u32::MAX, 1));
    }

    #[test]
    fn an_ordinary_space_leaves_the_reserve() {
        let low = Pool { free: 12, ..POOL };
        assert!(may_take(low, false, 0, 2));
        assert!(!may_take(low, false, 0, 3));
        let empty = Pool { free: 10, ..POOL };
        assert!(!may_take(empty, false, 0, 1));
    }

    #[test]
    fn a_trusted_space_may_take_everything_free() {
        assert!(may_take(POOL, true, 1000, 100));
        assert!(!may_take(POOL, true, 0, 101));
        let empty = Pool { free: 10, ..POOL };
        assert!(may_take(empty, true, 0, 10));
    }
}
