//! The mapping database: for every physical frame, the tree of who mapped
//! it to whom.
//!
//! L4 builds address spaces recursively: a space that has a page can *map*
//! it to another (both then have it; the receiver's mapping is a child of
//! the sender's), *grant* it (the mapping moves; its children stay), and
//! *unmap* it (every mapping derived from it, in every space, recursively,
//! disappears). The tree per frame is what makes unmap possible:
//!
//! ```text
//!   frame 0x1234:   root: (root task, 0x100_0001_2000, rwx)      <- boot
//!                     └─ (server A, 0x5000, rw)                  <- A got it mapped
//!                          ├─ (client B, 0x9000, r)              <- A mapped it on
//!                          └─ (client C, 0x7000, rw)
//! ```
//!
//! Unmapping A's page removes B's and C's mappings too; unmapping the root
//! task's removes all three.
//!
//! The roots are the root task's window mappings, made at boot ("sigma0
//! inside the root task", see `boot_root.rs`): every frame a user thread can
//! ever see has exactly one root node. Nodes live in a fixed pool, linked by
//! 32-bit indices (first child, next/previous sibling, parent), so the
//! database needs no heap and every walk is iterative (no recursion that a
//! deep chain of mappings could overflow).
//!
//! Finding the node of a mapping — which `(space, page)` maps which node —
//! goes through a hash table ([`PageIndex`]), not the frame's tree: a frame
//! can have tens of thousands of mappings, and a walk of its tree per map
//! or unmap would keep the kernel busy (with interrupts off) for seconds.
//!
//! Each node records its depth (a root is 0, its children 1, ...), and no
//! node is deeper than [`MAX_MAP_DEPTH`]: `Memory::check` refuses to map on
//! from a node that deep. So the walks *up* a tree, from a node to its
//! root, take at most `MAX_MAP_DEPTH` steps; walks *down* (unmap) visit
//! each node they remove once, and every node was paid for by a map.

use crate::page_index::PageIndex;
use crate::slot::{MAX_SPACES, SpaceSlot};
pub use common::abi::micro::MAX_MAP_DEPTH;
use common::mm::addr::PAGE_SHIFT;
use common::mm::frame::MAX_FRAMES;
use common::mm::{PhysAddr, PhysFrame};

/// Nodes in the pool (the root task's window is limited to fit).
pub const MAX_NODES: usize = 96 * 1024;
/// "No node". Index 0 is never handed out, so that an all-zero pool is an
/// empty one and the database costs nothing in the kernel file (it is `.bss`).
pub const NONE: u32 = 0;

/// One mapping of one frame into one space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MapNode {
    /// The space holding the mapping.
    pub space: SpaceSlot,
    /// `rights::*` bits the mapping grants.
    pub rights: u8,
    /// Steps from the tree's root (0 for the root), at most [`MAX_MAP_DEPTH`].
    pub depth: u8,
    /// The frame number.
    pub frame: u32,
    /// The virtual page number (address >> 12) in `space`.
    pub vpage: u64,
    /// Tree links; `NONE` where absent. A root's `parent` is `NONE`.
    pub parent: u32,
    pub first_child: u32,
    pub next_sibling: u32,
    pub prev_sibling: u32,
}

impl MapNode {
    /// The mapped frame. (Any `u32` frame number is a valid frame: it lies
    /// below 2^44 bytes, far under the 2^52 of physical addresses.)
    pub fn physical_frame(&self) -> PhysFrame {
        PhysFrame::containing_address(PhysAddr::new((self.frame as u64) << PAGE_SHIFT))
    }
}

/// A free node. (Its `space` means nothing; slot 0 keeps the pool all
/// zeroes, so it stays in `.bss`.)
const EMPTY_NODE: MapNode = MapNode {
    space: SpaceSlot::new(0),
    rights: 0,
    depth: 0,
    frame: 0,
    vpage: 0,
    parent: NONE,
    first_child: NONE,
    next_sibling: NONE,
    prev_sibling: NONE,
};

/// The database: a node pool, a free list, and each frame's root.
pub struct MapDb {
    nodes: [MapNode; MAX_NODES],
    /// Head of the free list (linked through `next_sibling`).
    free_head: u32,
    /// Nodes never used yet start at this index (the free list starts empty).
    fresh: u32,
    /// Number of nodes in use.
    pub used: u32,
    /// The root node of each frame, or `NONE`.
    roots: [u32; MAX_FRAMES],
    /// Which node maps `(space, vpage)`: every node in use, by its key.
    index: PageIndex,
    /// How many nodes in use each space holds (its quota's count).
    per_space: [u32; MAX_SPACES],
}

/// The pool is exhausted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolFull;

/// A node to be removed on its own still has children.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HasChildren;

impl MapDb {
    /// An empty database.
    pub const fn new() -> MapDb {
        MapDb {
            nodes: [EMPTY_NODE; MAX_NODES],
            free_head: NONE,
            fresh: 1,
            used: 0,
            roots: [NONE; MAX_FRAMES],
            index: PageIndex::new(),
            per_space: [0; MAX_SPACES],
        }
    }

    /// Free nodes left.
    pub fn free_nodes(&self) -> u32 {
        MAX_NODES as u32 - 1 - self.used
    }

    /// How many mappings space `space` holds.
    pub fn nodes_of(&self, space: SpaceSlot) -> u32 {
        self.per_space[space.index()]
    }

    /// The node at `index`.
    pub fn node(&self, index: u32) -> &MapNode {
        &self.nodes[index as usize]
    }

    fn allocate(&mut self, node: MapNode) -> Result<u32, PoolFull> {
        let index = if self.free_head != NONE {
            let index = self.free_head;
            self.free_head = self.nodes[index as usize].next_sibling;
            index
        } else if (self.fresh as usize) < MAX_NODES {
            self.fresh += 1;
            self.fresh - 1
        } else {
            return Err(PoolFull);
        };
        self.nodes[index as usize] = node;
        self.used += 1;
        self.per_space[node.space.index()] += 1;
        self.index.insert(index, node.space, node.vpage);
        Ok(index)
    }

    /// Records the root mapping of `frame` (boot only: the root task's window).
    pub fn add_root(&mut self, frame: u32, space: SpaceSlot, vpage: u64, rights: u8) -> Result<u32, PoolFull> {
        let index = self.allocate(MapNode { space, rights, frame, vpage, ..EMPTY_NODE })?;
        self.roots[frame as usize] = index;
        Ok(index)
    }

    /// Whether mapping `index` may be mapped on: its children would be no
    /// deeper than [`MAX_MAP_DEPTH`].
    pub fn may_map_on(&self, index: u32) -> bool {
        self.nodes[index as usize].depth < MAX_MAP_DEPTH
    }

    /// Records that the mapping `parent` was mapped on to (`space`, `vpage`).
    /// The caller has made sure that it [may](MapDb::may_map_on).
    pub fn add_child(&mut self, parent: u32, space: SpaceSlot, vpage: u64, rights: u8) -> Result<u32, PoolFull> {
        let frame = self.nodes[parent as usize].frame;
        let old_first = self.nodes[parent as usize].first_child;
        debug_assert!(self.may_map_on(parent), "a mapping deeper than MAX_MAP_DEPTH");
        let depth = self.nodes[parent as usize].depth + 1;
        let index = self.allocate(MapNode {
            space,
            rights,
            depth,
            frame,
            vpage,
            parent,
            next_sibling: old_first,
            ..EMPTY_NODE
        })?;
        if old_first != NONE {
            self.nodes[old_first as usize].prev_sibling = index;
        }
        self.nodes[parent as usize].first_child = index;
        Ok(index)
    }

    /// The node of the mapping of `frame` at (`space`, `vpage`), if recorded.
    pub fn find(&self, frame: u32, space: SpaceSlot, vpage: u64) -> Option<u32> {
        let index = self.index.find(space, vpage, |node| self.key_of(node))?;
        (self.nodes[index as usize].frame == frame).then_some(index)
    }

    /// A node's key in the index.
    fn key_of(&self, index: u32) -> (SpaceSlot, u64) {
        let node = &self.nodes[index as usize];
        (node.space, node.vpage)
    }

    /// The node after `at` in a pre-order walk of the tree under `top`
    /// (start the walk with `at = top`), or `None` when the walk is done.
    /// Iterative: it follows the links, never recursing.
    pub fn next_in_subtree(&self, top: u32, at: u32) -> Option<u32> {
        let node = &self.nodes[at as usize];
        if node.first_child != NONE {
            return Some(node.first_child);
        }
        // Climb until a node with a next sibling, never leaving the subtree.
        let mut at = at;
        while at != top {
            let node = &self.nodes[at as usize];
            if node.next_sibling != NONE {
                return Some(node.next_sibling);
            }
            at = node.parent;
        }
        None
    }

    /// Changes the rights recorded for node `index`.
    pub fn set_rights(&mut self, index: u32, rights: u8) {
        self.nodes[index as usize].rights = rights;
    }

    /// Removes mappings derived from `top` (not `top` itself), leaves first,
    /// so a tree of any depth needs no recursion. Before removing each one
    /// it calls `removing(space, vpage)`, which clears the page-table entry
    /// (or records it) and returns `false` to stop early (that node stays).
    pub fn revoke_descendants(&mut self, top: u32, mut removing: impl FnMut(SpaceSlot, u64) -> bool) {
        loop {
            let mut at = self.nodes[top as usize].first_child;
            if at == NONE {
                return;
            }
            while self.nodes[at as usize].first_child != NONE {
                at = self.nodes[at as usize].first_child;
            }
            let node = self.nodes[at as usize];
            if !removing(node.space, node.vpage) {
                return;
            }
            // A leaf: the walk above went down until there was no child.
            self.unlink(at);
        }
    }

    /// Removes mapping `top` and every mapping derived from it, leaves
    /// first, calling `removing(space, vpage)` for each (`top` last). It
    /// cannot fail, and it leaves no node behind whose parent is gone.
    pub fn remove_subtree(&mut self, top: u32, mut removing: impl FnMut(SpaceSlot, u64)) {
        self.revoke_descendants(top, |space, vpage| {
            removing(space, vpage);
            true
        });
        let node = self.nodes[top as usize];
        removing(node.space, node.vpage);
        // A leaf: `revoke_descendants` ran to the end (we never stopped it).
        self.unlink(top);
    }

    /// Unlinks and frees node `index` if it has no children. A node with
    /// children is refused and stays: freeing it would orphan them —
    /// mappings no unmap could reach any more (use [`MapDb::remove_subtree`]).
    pub fn remove_leaf(&mut self, index: u32) -> Result<(), HasChildren> {
        if self.nodes[index as usize].first_child != NONE {
            return Err(HasChildren);
        }
        self.unlink(index);
        Ok(())
    }

    /// Unlinks and frees node `index`. Only for a node without children
    /// (every caller knows it has none).
    fn unlink(&mut self, index: u32) {
        let node = self.nodes[index as usize];
        let nodes = &self.nodes;
        self.index.remove(index, node.space, node.vpage, |other| {
            let other = &nodes[other as usize];
            (other.space, other.vpage)
        });
        if node.prev_sibling != NONE {
            self.nodes[node.prev_sibling as usize].next_sibling = node.next_sibling;
        } else if node.parent != NONE {
            self.nodes[node.parent as usize].first_child = node.next_sibling;
        } else {
            self.roots[node.frame as usize] = NONE;
        }
        if node.next_sibling != NONE {
            self.nodes[node.next_sibling as usize].prev_sibling = node.prev_sibling;
        }
        self.nodes[index as usize] = MapNode { next_sibling: self.free_head, ..EMPTY_NODE };
        self.free_head = index;
        self.used -= 1;
        self.per_space[node.space.index()] -= 1;
    }

    /// Moves mapping `index` to (`space`, `vpage`) with `rights` (a grant):
    /// the mappings derived from it stay derived from it.
    pub fn move_to(&mut self, index: u32, space: SpaceSlot, vpage: u64, rights: u8) {
        let old = self.nodes[index as usize];
        let nodes = &self.nodes;
        self.index.remove(index, old.space, old.vpage, |other| {
            let other = &nodes[other as usize];
            (other.space, other.vpage)
        });
        self.per_space[old.space.index()] -= 1;
        self.per_space[space.index()] += 1;
        let node = &mut self.nodes[index as usize];
        node.space = space;
        node.vpage = vpage;
        node.rights = rights;
        self.index.insert(index, space, vpage);
    }

    /// Every node in use, as `(index, node)`, tree by tree (for tests that
    /// compare whole databases).
    #[cfg(test)]
    pub fn nodes_in_use(&self) -> std::vec::Vec<(u32, MapNode)> {
        let mut nodes = std::vec::Vec::new();
        for &root in self.roots.iter().filter(|&&root| root != NONE) {
            let mut at = Some(root);
            while let Some(index) = at {
                nodes.push((index, self.nodes[index as usize]));
                at = self.next_in_subtree(root, index);
            }
        }
        nodes
    }
}

impl Default for MapDb {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::boxed::Box;
    use std::vec::Vec;

    /// Space slot `n`.
    const fn s(n: u16) -> SpaceSlot {
        SpaceSlot::new(n)
    }

    /// The database is 4 MiB: build it on the heap, on a thread with a
    /// stack big enough for the temporary.
    fn with_db(test: impl FnOnce(&mut MapDb) + Send + 'static) {
        std::thread::Builder::new()
            .stack_size(64 << 20)
            .spawn(move || {
                let mut db = Box::new(MapDb::new());
                test(&mut db);
            })
            .unwrap()
            .join()
            .unwrap();
    }

    /// One frame mapped 60,000 times (one program mapping the same page
    /// over and over into a large window): every mapping is found at once.
    /// (With a walk of the frame's tree per find this took about 1.8e9
    /// node visits.)
    #[test]
    fn a_frame_with_many_mappings_is_searched_in_constant_time() {
        with_db(|db| {
            let root = db.add_root(7, s(0), 0x100, 7).unwrap();
            let mut nodes = Vec::new();
            for page in 0..60_000u64 {
                nodes.push(db.add_child(root, s(1), 0x10_0000 + page, 7).unwrap());
            }
            let probes_before = crate::page_index::probes();
            for (page, &node) in nodes.iter().enumerate() {
                assert_eq!(db.find(7, s(1), 0x10_0000 + page as u64), Some(node));
            }
            let probes = crate::page_index::probes() - probes_before;
            assert!(probes <= 4 * nodes.len() as u64, "{probes} probes for {} finds", nodes.len());
            assert_eq!(db.find(8, s(1), 0x10_0000), None, "right page, wrong frame");
        });
    }

    /// Random maps, grants and unmaps: the index always agrees with the
    /// trees (every node in use is found under its key; removed ones not).
    #[test]
    fn the_index_agrees_with_the_trees() {
        with_db(|db| {
            let mut seed = 0x2545_f491_4f6c_dd1du64;
            let mut next = move || {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed
            };
            let roots: Vec<u32> =
                (0..8).map(|frame| db.add_root(frame, s(0), 1000 + frame as u64, 7).unwrap()).collect();
            let mut live: Vec<u32> = roots.clone();
            for _ in 0..20_000 {
                let pick = live[(next() % live.len() as u64) as usize];
                match next() % 3 {
                    0 | 1 => {
                        let (space, vpage) = (s((next() % 5 + 1) as u16), next() % 300);
                        if db.nodes_in_use().iter().any(|(_, n)| (n.space, n.vpage) == (space, vpage)) {
                            continue; // a space maps a page at most once
                        }
                        if next() % 4 == 0 && !roots.contains(&pick) {
                            db.move_to(pick, space, vpage, 3);
                        } else {
                            live.push(db.add_child(pick, space, vpage, 7).unwrap());
                        }
                    }
                    _ if !roots.contains(&pick) => {
                        let mut gone = Vec::new();
                        db.remove_subtree(pick, |space, vpage| gone.push((space, vpage)));
                        live = db.nodes_in_use().into_iter().map(|(index, _)| index).collect();
                        for (space, vpage) in gone {
                            for frame in 0..8 {
                                assert_eq!(db.find(frame, space, vpage), None, "a removed mapping is found");
                            }
                        }
                    }
                    _ => {}
                }
                if next() % 50 == 0 {
                    for (index, node) in db.nodes_in_use() {
                        assert_eq!(db.find(node.frame, node.space, node.vpage), Some(index));
                    }
                }
            }
        });
    }

    #[test]
    fn find_locates_every_mapping_of_a_frame() {
        with_db(|db| {
            let root = db.add_root(7, s(0), 0x100, 7).unwrap();
            let b = db.add_child(root, s(1), 0x5, 3).unwrap();
            let c = db.add_child(b, s(2), 0x9, 1).unwrap();
            let d = db.add_child(root, s(3), 0x7, 3).unwrap();
            assert_eq!(db.find(7, s(0), 0x100), Some(root));
            assert_eq!(db.find(7, s(1), 0x5), Some(b));
            assert_eq!(db.find(7, s(2), 0x9), Some(c));
            assert_eq!(db.find(7, s(3), 0x7), Some(d));
            assert_eq!(db.find(7, s(2), 0x5), None, "right space, wrong page");
            assert_eq!(db.find(8, s(0), 0x100), None, "another frame");
            assert_eq!(db.find(u32::MAX, s(0), 0), None, "a frame number out of range");
        });
    }

    #[test]
    fn revoking_removes_all_descendants_and_only_them() {
        with_db(|db| {
            let root = db.add_root(1, s(0), 10, 7).unwrap();
            let other = db.add_root(2, s(0), 11, 7).unwrap();
            let b = db.add_child(root, s(1), 20, 7).unwrap();
            db.add_child(b, s(2), 30, 7).unwrap();
            db.add_child(b, s(3), 40, 7).unwrap();
            db.add_child(other, s(4), 50, 7).unwrap();
            let used = db.used;
            let mut removed = Vec::new();
            db.revoke_descendants(root, |space, page| {
                removed.push((space.number(), page));
                true
            });
            removed.sort();
            assert_eq!(removed, [(1, 20), (2, 30), (3, 40)]);
            assert_eq!(db.used, used - 3);
            assert_eq!(db.find(1, s(0), 10), Some(root), "the revoked node itself stays");
            assert!(db.find(2, s(4), 50).is_some(), "another frame's tree is untouched");
        });
    }

    #[test]
    fn revoking_a_very_deep_chain_needs_no_recursion() {
        with_db(|db| {
            let root = db.add_root(3, s(0), 1, 7).unwrap();
            let mut at = root;
            for depth in 0..50_000u64 {
                at = db.add_child(at, s((depth % 60) as u16), depth + 2, 7).unwrap();
            }
            let mut count = 0;
            db.revoke_descendants(root, |_, _| {
                count += 1;
                true
            });
            assert_eq!(count, 50_000);
            assert_eq!(db.used, 1);
        });
    }

    #[test]
    fn revoking_stops_when_asked_and_resumes() {
        with_db(|db| {
            let root = db.add_root(4, s(0), 1, 7).unwrap();
            for page in 0..10 {
                db.add_child(root, s(1), page + 100, 7).unwrap();
            }
            let mut batch = 0;
            db.revoke_descendants(root, |_, _| {
                batch += 1;
                batch <= 4
            });
            assert_eq!(db.used, 1 + 6, "four removed, the fifth refused");
            db.revoke_descendants(root, |_, _| true);
            assert_eq!(db.used, 1);
        });
    }

    #[test]
    fn a_granted_node_keeps_its_children() {
        with_db(|db| {
            let root = db.add_root(5, s(0), 1, 7).unwrap();
            let b = db.add_child(root, s(1), 2, 7).unwrap();
            let c = db.add_child(b, s(2), 3, 1).unwrap();
            db.move_to(b, s(9), 42, 3);
            assert_eq!(db.find(5, s(1), 2), None, "gone from the granter");
            assert_eq!(db.find(5, s(9), 42), Some(b));
            assert_eq!(db.node(b).rights, 3);
            assert_eq!(db.node(c).parent, b);
            db.revoke_descendants(root, |_, _| true);
            assert_eq!(db.find(5, s(2), 3), None, "unmap still reaches through the grant");
        });
    }

    #[test]
    fn removed_nodes_are_reused_and_the_pool_reports_exhaustion() {
        with_db(|db| {
            let root = db.add_root(6, s(0), 1, 7).unwrap();
            let child = db.add_child(root, s(1), 2, 7).unwrap();
            db.remove_leaf(child).unwrap();
            let again = db.add_child(root, s(1), 3, 7).unwrap();
            assert_eq!(again, child, "the free list hands the node out again");
            let mut made = 2;
            while db.add_child(root, s(2), made as u64, 7).is_ok() {
                made += 1;
            }
            assert_eq!(made, MAX_NODES - 1, "every node but NONE (index 0) was usable");
            assert_eq!(db.free_nodes(), 0);
            assert_eq!(db.add_root(9, s(0), 0, 7), Err(PoolFull));
            db.remove_leaf(root + 1).unwrap();
            assert_eq!(db.free_nodes(), 1);
        });
    }

    #[test]
    fn a_subtree_walk_visits_each_descendant_once() {
        with_db(|db| {
            let root = db.add_root(11, s(0), 1, 7).unwrap();
            let other = db.add_root(12, s(0), 2, 7).unwrap();
            db.add_child(other, s(5), 5, 7).unwrap();
            let b = db.add_child(root, s(1), 2, 7).unwrap();
            let c = db.add_child(b, s(2), 3, 7).unwrap();
            let d = db.add_child(b, s(3), 4, 7).unwrap();
            let e = db.add_child(root, s(4), 5, 7).unwrap();
            let mut seen = Vec::new();
            let mut at = b;
            while let Some(next) = db.next_in_subtree(b, at) {
                seen.push(next);
                at = next;
            }
            seen.sort();
            let mut expected = std::vec![c, d];
            expected.sort();
            assert_eq!(seen, expected, "only b's descendants, not b's sibling {e}");
            db.set_rights(c, 1);
            assert_eq!(db.node(c).rights, 1);
        });
    }

    #[test]
    fn removing_a_root_clears_the_frame() {
        with_db(|db| {
            let root = db.add_root(10, s(0), 1, 7).unwrap();
            db.remove_leaf(root).unwrap();
            assert_eq!(db.find(10, s(0), 1), None);
            assert_eq!(db.used, 0);
        });
    }

    #[test]
    fn a_node_with_children_is_never_removed_alone() {
        with_db(|db| {
            let root = db.add_root(13, s(0), 1, 7).unwrap();
            let b = db.add_child(root, s(1), 2, 7).unwrap();
            let c = db.add_child(b, s(2), 3, 7).unwrap();
            assert_eq!(db.remove_leaf(b), Err(HasChildren), "b still has c");
            assert_eq!((db.used, db.node(c).parent), (3, b), "nothing changed");
            assert_eq!(db.find(13, s(1), 2), Some(b));
        });
    }

    #[test]
    fn removing_a_subtree_removes_the_node_and_all_its_descendants() {
        with_db(|db| {
            let root = db.add_root(14, s(0), 1, 7).unwrap();
            let b = db.add_child(root, s(1), 2, 7).unwrap();
            db.add_child(b, s(2), 3, 7).unwrap();
            let d = db.add_child(root, s(3), 4, 7).unwrap();
            let mut removed = Vec::new();
            db.remove_subtree(b, |space, vpage| removed.push((space.number(), vpage)));
            assert_eq!(removed, [(2, 3), (1, 2)], "descendants first, the node itself last");
            assert_eq!(db.used, 2);
            assert_eq!(db.node(root).first_child, d, "its sibling stays linked");
            assert_eq!(db.find(14, s(2), 3), None);
        });
    }
}
