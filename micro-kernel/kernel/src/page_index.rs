//! The page index: which mapping-database node maps a given page of a
//! given space — a hash table, so that finding a mapping costs the same
//! however many mappings its frame has.
//!
//! The mapping database (`mapdb.rs`) keeps one tree per frame. Finding the
//! node of a mapping by walking its frame's tree costs as many steps as the
//! frame has mappings, and a program can give one frame tens of thousands
//! of mappings (mapping the same page over and over into a large receive
//! window): every map, grant and unmap would then spend seconds in the
//! kernel, with interrupts off. The index answers in a step or two.
//!
//! It is an open-addressing table with linear probing over
//! [`SLOTS`] entries, each the index of a node (or empty). A node's key is
//! its own `(space, vpage)`, read from the node itself, so the table stores
//! nothing else. Deleting shifts the entries that follow back into the gap
//! (no tombstones, so probe chains never grow stale).
//!
//! Invariant: the table holds exactly the nodes in use, each once, and no
//! two nodes in use have the same `(space, vpage)` (a space maps a page at
//! most once: a new mapping first removes the old one).

use crate::slot::SpaceSlot;

/// Entries of the table: a power of two, at least twice the most nodes
/// that can be in use, so probe chains stay short.
pub const SLOTS: usize = 256 * 1024;

/// An empty entry (node index 0 is never a node in use).
const EMPTY: u32 = 0;

const _: () = assert!(SLOTS.is_power_of_two() && SLOTS >= 2 * crate::mapdb::MAX_NODES);

/// The table.
pub struct PageIndex {
    slots: [u32; SLOTS],
}

/// The home slot of key `(space, vpage)` (Fibonacci hashing).
fn home(space: SpaceSlot, vpage: u64) -> usize {
    let key = vpage ^ (u64::from(space.number()) << 48);
    (key.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - SLOTS.trailing_zeros())) as usize
}

impl PageIndex {
    /// An empty index (all zeroes: it lives in `.bss`).
    pub const fn new() -> PageIndex {
        PageIndex { slots: [EMPTY; SLOTS] }
    }

    /// The node whose key is `(space, vpage)`, if any. `key_of` reads a
    /// node's key (from the database's pool).
    pub fn find(&self, space: SpaceSlot, vpage: u64, key_of: impl Fn(u32) -> (SpaceSlot, u64)) -> Option<u32> {
        let mut at = home(space, vpage);
        loop {
            #[cfg(test)]
            PROBES.with(|probes| probes.set(probes.get() + 1));
            let node = self.slots[at];
            if node == EMPTY {
                return None;
            }
            if key_of(node) == (space, vpage) {
                return Some(node);
            }
            at = (at + 1) % SLOTS;
        }
    }

    /// Adds `node`, whose key is `(space, vpage)` (not in the index yet).
    /// The table never fills: it has room for twice the nodes there can be.
    pub fn insert(&mut self, node: u32, space: SpaceSlot, vpage: u64) {
        let mut at = home(space, vpage);
        while self.slots[at] != EMPTY {
            at = (at + 1) % SLOTS;
        }
        self.slots[at] = node;
    }

    /// Removes `node`, whose key is `(space, vpage)`, and moves back the
    /// entries of its probe chain that came after it, so every entry stays
    /// reachable from its home slot. `key_of` as in [`PageIndex::find`].
    pub fn remove(&mut self, node: u32, space: SpaceSlot, vpage: u64, key_of: impl Fn(u32) -> (SpaceSlot, u64)) {
        let mut gap = home(space, vpage);
        while self.slots[gap] != node {
            if self.slots[gap] == EMPTY {
                return; // not in the index: nothing to remove
            }
            gap = (gap + 1) % SLOTS;
        }
        self.slots[gap] = EMPTY;
        // Backward shift: an entry after the gap may move into it if its
        // home is not between the gap and where it sits now.
        let mut at = (gap + 1) % SLOTS;
        while self.slots[at] != EMPTY {
            let entry = self.slots[at];
            let (entry_space, entry_vpage) = key_of(entry);
            let entry_home = home(entry_space, entry_vpage);
            // Distance from home to `at`, and from home to the gap, going forward.
            let from_home = (at + SLOTS - entry_home) % SLOTS;
            let to_gap = (gap + SLOTS - entry_home) % SLOTS;
            if to_gap <= from_home {
                self.slots[gap] = entry;
                self.slots[at] = EMPTY;
                gap = at;
            }
            at = (at + 1) % SLOTS;
        }
    }
}

#[cfg(test)]
std::thread_local! {
    /// Entries [`PageIndex::find`] looked at, on this thread (for tests
    /// that check a search stays short).
    static PROBES: core::cell::Cell<u64> = const { core::cell::Cell::new(0) };
}

/// Entries looked at by finds on this thread so far.
#[cfg(test)]
pub fn probes() -> u64 {
    PROBES.with(|probes| probes.get())
}

impl Default for PageIndex {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::boxed::Box;
    use std::collections::HashMap;
    use std::vec::Vec;

    /// A random sequence of inserts and removes agrees with a HashMap, and
    /// every key stays findable (the backward shift keeps chains intact).
    #[test]
    fn agrees_with_a_hash_map() {
        std::thread::Builder::new()
            .stack_size(16 << 20)
            .spawn(|| {
                let mut index = Box::new(PageIndex::new());
                // Node n's key lives in `keys[n]`.
                let mut keys: Vec<(SpaceSlot, u64)> = std::vec![(SpaceSlot::new(0), 0); 5000];
                let mut model: HashMap<(SpaceSlot, u64), u32> = HashMap::new();
                let mut seed = 0x1234_5678_9abc_def1u64;
                let mut next = || {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    seed
                };
                for step in 0..100_000u64 {
                    let node = (next() % 4999 + 1) as u32;
                    let key_of = |n: u32| keys[n as usize];
                    if model.values().any(|&n| n == node) {
                        let key = keys[node as usize];
                        index.remove(node, key.0, key.1, key_of);
                        model.remove(&key);
                    } else {
                        // Few spaces, clustered pages: many collisions.
                        let key = (SpaceSlot::new((next() % 3) as u16), next() % 64 + (step % 7) * 4096);
                        if model.contains_key(&key) {
                            continue;
                        }
                        keys[node as usize] = key;
                        index.insert(node, key.0, key.1);
                        model.insert(key, node);
                    }
                    if step % 997 == 0 {
                        for (&key, &node) in &model {
                            assert_eq!(index.find(key.0, key.1, |n| keys[n as usize]), Some(node));
                        }
                    }
                }
                assert_eq!(index.find(SpaceSlot::new(9), 1, |n| keys[n as usize]), None);
            })
            .unwrap()
            .join()
            .unwrap();
    }
}
