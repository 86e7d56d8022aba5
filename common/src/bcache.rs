//! The buffer cache: LRU, write-back with explicit flush, pinning.
//!
//! Reading the disk is slow, and a file system reads the same few blocks
//! (the superblock, bitmaps, inode-table blocks, directory blocks) over and
//! over. The buffer cache keeps recently used **blocks** — file-system sized,
//! 1024 or 4096 bytes, fixed when the cache is created at mount time — in
//! memory, in front of a [`BlockDevice`] that transfers 512-byte sectors.
//! It plays the part of xv6's `bio.c`.
//!
//! - **Fixed capacity.** At most `capacity` blocks are held. Buffers are
//!   allocated on first use, so a large capacity costs nothing until used.
//! - **LRU replacement.** When a new block must be brought in and the cache
//!   is full, the least recently used *unpinned* buffer is reused.
//! - **Write-back.** [`modify`](BufferCache::modify) marks a buffer dirty; it
//!   reaches the disk when it is evicted or on [`flush`](BufferCache::flush).
//!   Evicting a dirty buffer writes it first.
//! - **Clustering.** Adjacent dirty blocks are written back in one device
//!   request, and a miss right after the previous miss (someone reading
//!   sequentially) reads the next uncached blocks too, in one request.
//! - **Pinning.** A pinned buffer is never evicted. If every buffer is pinned
//!   and a new block is needed, the access fails with
//!   [`CacheError::AllPinned`]; it never panics.
//! - **Held buffers (the journal's).** With [`set_journaling`](BufferCache::set_journaling)
//!   on, [`modify_meta`](BufferCache::modify_meta) and
//!   [`zeroed_meta`](BufferCache::zeroed_meta) mark a buffer *held*: it
//!   belongs to the running transaction and must not reach its place on the
//!   disk before the transaction is committed to the journal
//!   (`crate::fs::journal`). A held buffer is never evicted nor written back;
//!   held buffers do not count against the capacity (the journal bounds
//!   their number), and [`release_held`](BufferCache::release_held) turns
//!   them into ordinary dirty buffers once committed. Without journaling
//!   the `_meta` calls are `modify` and `zeroed`.
//! - **The file system's fault checkpoint.** Every access passes
//!   `common::inject::checkpoint(Fs)`, where a fault injected on purpose
//!   into the file system fires (`docs/fault-isolation.md`).
//!
//! ## Data structures and cost
//!
//! `index` (a `BTreeMap`) maps a block number to the slot holding it:
//! O(log n). The unpinned slots are threaded on an intrusive doubly linked
//! LRU list (`prev`/`next` are slot numbers), so "touch", "evict the least
//! recently used" and "pin" are O(1). A sequential scan of a file therefore
//! costs a constant amount of cache work per block.
//!
//! Because Rust's borrow rules allow only one live reference into the cache
//! at a time, callers get a slice for a single block, use it, and let it go:
//! copy out what you need before asking for the next block. Pinning is for
//! keeping a block *resident*, not for holding a reference.

use crate::block::{BlockDevice, BlockError, SECTOR_SIZE};
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

/// Why a buffer-cache operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheError {
    /// The device failed while reading or writing a block.
    Device(BlockError),
    /// The block number is past the end of the device.
    OutOfRange {
        /// The block asked for.
        block: u64,
        /// How many whole blocks the device holds.
        block_count: u64,
    },
    /// Every buffer is pinned, so no buffer can be reused for a new block.
    AllPinned,
    /// `unpin` was called for a block that is not cached or not pinned.
    NotPinned {
        /// The block in question.
        block: u64,
    },
    /// The cache was created with a block size that is not a power of two
    /// multiple of the sector size, or with capacity zero.
    BadGeometry,
}

impl From<BlockError> for CacheError {
    fn from(err: BlockError) -> CacheError {
        CacheError::Device(err)
    }
}

impl fmt::Display for CacheError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            CacheError::Device(err) => write!(f, "disk error: {err}"),
            CacheError::OutOfRange { block, block_count } => {
                write!(
                    f,
                    "block {block} is past the end of the disk ({block_count} blocks)"
                )
            }
            CacheError::AllPinned => write!(f, "every buffer in the cache is pinned"),
            CacheError::NotPinned { block } => write!(f, "block {block} is not pinned"),
            CacheError::BadGeometry => write!(f, "bad block size or capacity for the cache"),
        }
    }
}

/// Counters for measuring the cache (printed by the throughput example).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Accesses satisfied from memory.
    pub hits: u64,
    /// Accesses that needed a buffer for a block not in the cache.
    pub misses: u64,
    /// Blocks read from the device.
    pub device_reads: u64,
    /// Read requests sent to the device (read-ahead reads several blocks
    /// in one request).
    pub read_requests: u64,
    /// Blocks written to the device.
    pub device_writes: u64,
    /// Write requests sent to the device (adjacent dirty blocks are written
    /// back together).
    pub write_requests: u64,
    /// Buffers reused for a different block.
    pub evictions: u64,
}

/// "No slot" in the LRU links.
const NIL: usize = usize::MAX;

/// The most blocks written back in one device request.
pub const MAX_WRITE_RUN: usize = 32;

/// The most blocks read in one device request when reading ahead.
pub const MAX_READ_RUN: usize = 16;

/// One buffer: a copy of one disk block.
struct Slot {
    /// The block this buffer holds.
    block: u64,
    /// The block's contents. Invariant: `data.len() == block_size`.
    data: Box<[u8]>,
    /// The buffer differs from the disk and must be written before reuse.
    dirty: bool,
    /// How many times the block is pinned. Invariant: a slot is on the LRU
    /// list exactly when `pins == 0 && !held`.
    pins: u32,
    /// The buffer belongs to the running journal transaction: it may not be
    /// written in place (nor evicted) until [`BufferCache::release_held`].
    held: bool,
    /// The next more recently used slot on the LRU list, or `NIL`.
    newer: usize,
    /// The next less recently used slot on the LRU list, or `NIL`.
    older: usize,
}

/// A write-back LRU cache of file-system blocks over a [`BlockDevice`].
pub struct BufferCache<D: BlockDevice> {
    device: D,
    /// Bytes per block; a power of two, at least [`SECTOR_SIZE`].
    block_size: usize,
    /// How many whole blocks fit on the device.
    block_count: u64,
    /// Most buffers ever held.
    capacity: usize,
    /// The buffers; grows up to `capacity`, never shrinks.
    slots: Vec<Slot>,
    /// Block number → slot index, for every cached block.
    index: BTreeMap<u64, usize>,
    /// The most recently used unpinned slot, or `NIL`.
    newest: usize,
    /// The least recently used unpinned slot (the next victim), or `NIL`.
    oldest: usize,
    stats: CacheStats,
    /// Scratch space for gathering a run of blocks into one transfer.
    staging: Vec<u8>,
    /// The block of the last miss, to notice sequential reading.
    last_miss: Option<u64>,
    /// `modify_meta`/`zeroed_meta` hold their buffers.
    journaling: bool,
    /// How many slots are held.
    held_count: usize,
}

impl<D: BlockDevice> BufferCache<D> {
    /// A cache of at most `capacity` blocks of `block_size` bytes over
    /// `device`.
    ///
    /// # Errors
    /// [`CacheError::BadGeometry`] if `block_size` is not a power of two that
    /// is at least [`SECTOR_SIZE`], or `capacity` is zero.
    pub fn new(device: D, block_size: usize, capacity: usize) -> Result<Self, CacheError> {
        if !block_size.is_power_of_two() || block_size < SECTOR_SIZE || capacity == 0 {
            return Err(CacheError::BadGeometry);
        }
        let block_count = device.sector_count() / (block_size / SECTOR_SIZE) as u64;
        Ok(BufferCache {
            device,
            block_size,
            block_count,
            capacity,
            slots: Vec::new(),
            index: BTreeMap::new(),
            newest: NIL,
            oldest: NIL,
            stats: CacheStats::default(),
            staging: Vec::new(),
            last_miss: None,
            journaling: false,
            held_count: 0,
        })
    }

    /// Bytes per block.
    pub fn block_size(&self) -> usize {
        self.block_size
    }

    /// How many whole blocks the device holds.
    pub fn block_count(&self) -> u64 {
        self.block_count
    }

    /// The counters since the cache was created.
    pub fn stats(&self) -> CacheStats {
        self.stats
    }

    /// The device, for reading its properties.
    pub fn device(&self) -> &D {
        &self.device
    }

    /// Reads `block` (from memory if cached) and returns its contents.
    ///
    /// # Errors
    /// [`CacheError::OutOfRange`], [`CacheError::AllPinned`], or
    /// [`CacheError::Device`] if reading the block (or writing back the dirty
    /// buffer it replaces) failed.
    pub fn read(&mut self, block: u64) -> Result<&[u8], CacheError> {
        let slot = self.get(block, Fill::FromDisk)?;
        Ok(&self.slots[slot].data)
    }

    /// Reads `block` and returns its contents for changing; the buffer is
    /// marked dirty and reaches the disk on eviction or [`flush`](Self::flush).
    ///
    /// # Errors
    /// As for [`read`](Self::read).
    pub fn modify(&mut self, block: u64) -> Result<&mut [u8], CacheError> {
        let slot = self.get(block, Fill::FromDisk)?;
        let buffer = &mut self.slots[slot];
        buffer.dirty = true;
        Ok(&mut buffer.data)
    }

    /// Returns a dirty, zero-filled buffer for `block` *without reading the
    /// disk*: for a block that is about to be overwritten entirely (a newly
    /// allocated block, a whole-block file write).
    ///
    /// # Errors
    /// [`CacheError::OutOfRange`], [`CacheError::AllPinned`], or
    /// [`CacheError::Device`] if writing back the buffer it replaces failed.
    pub fn zeroed(&mut self, block: u64) -> Result<&mut [u8], CacheError> {
        let slot = self.get(block, Fill::Zero)?;
        let buffer = &mut self.slots[slot];
        buffer.data.fill(0);
        buffer.dirty = true;
        Ok(&mut buffer.data)
    }

    /// [`modify`](Self::modify) for a metadata block: with journaling on, the
    /// buffer is also held for the running transaction.
    ///
    /// # Errors
    /// As for [`read`](Self::read).
    pub fn modify_meta(&mut self, block: u64) -> Result<&mut [u8], CacheError> {
        let slot = self.get(block, Fill::FromDisk)?;
        self.hold(slot);
        let buffer = &mut self.slots[slot];
        buffer.dirty = true;
        Ok(&mut buffer.data)
    }

    /// [`zeroed`](Self::zeroed) for a metadata block: with journaling on, the
    /// buffer is also held for the running transaction.
    ///
    /// # Errors
    /// As for [`zeroed`](Self::zeroed).
    pub fn zeroed_meta(&mut self, block: u64) -> Result<&mut [u8], CacheError> {
        let slot = self.get(block, Fill::Zero)?;
        self.hold(slot);
        let buffer = &mut self.slots[slot];
        buffer.data.fill(0);
        buffer.dirty = true;
        Ok(&mut buffer.data)
    }

    /// Turns holding on or off (off releases every held buffer).
    pub fn set_journaling(&mut self, on: bool) {
        if !on {
            self.release_held();
        }
        self.journaling = on;
    }

    /// How many buffers the running transaction holds.
    pub fn held_count(&self) -> usize {
        self.held_count
    }

    /// The held blocks, in block order.
    pub fn held_blocks(&self) -> Vec<u64> {
        self.index
            .iter()
            .filter(|&(_, &slot)| self.slots[slot].held)
            .map(|(&block, _)| block)
            .collect()
    }

    /// The contents of `block` if it is cached (no LRU update, no disk).
    pub fn peek(&self, block: u64) -> Option<&[u8]> {
        self.index.get(&block).map(|&slot| &*self.slots[slot].data)
    }

    /// Lets every held buffer go: they stay dirty, and are written in place
    /// like any other dirty buffer from now on.
    pub fn release_held(&mut self) {
        if self.held_count == 0 {
            return;
        }
        let held: Vec<usize> = self
            .index
            .values()
            .copied()
            .filter(|&slot| self.slots[slot].held)
            .collect();
        for slot in held {
            self.slots[slot].held = false;
            if self.slots[slot].pins == 0 {
                self.push_newest(slot);
            }
        }
        self.held_count = 0;
    }

    /// Writes `data` (whole blocks) to the device from block `first` on,
    /// bypassing the cache (cached copies of those blocks are updated): the
    /// journal's own blocks.
    ///
    /// # Errors
    /// [`CacheError::OutOfRange`] or [`CacheError::Device`].
    pub fn write_through(&mut self, first: u64, data: &[u8]) -> Result<(), CacheError> {
        let count = (data.len() / self.block_size) as u64;
        if first.saturating_add(count) > self.block_count
            || !data.len().is_multiple_of(self.block_size)
        {
            return Err(CacheError::OutOfRange {
                block: first.saturating_add(count),
                block_count: self.block_count,
            });
        }
        let sectors = (self.block_size / SECTOR_SIZE) as u64;
        self.device.write_sectors(first * sectors, data)?;
        for i in 0..count {
            if let Some(&slot) = self.index.get(&(first + i)) {
                let bytes = &data[i as usize * self.block_size..][..self.block_size];
                self.slots[slot].data.copy_from_slice(bytes);
            }
        }
        self.stats.device_writes += count;
        self.stats.write_requests += 1;
        Ok(())
    }

    /// Writes every dirty buffer that is not held to its place on the disk,
    /// in block order, without flushing the device.
    ///
    /// # Errors
    /// As for [`flush`](Self::flush).
    pub fn write_back_all(&mut self) -> Result<(), CacheError> {
        let dirty: Vec<usize> = self
            .index
            .values()
            .copied()
            .filter(|&slot| self.slots[slot].dirty && !self.slots[slot].held)
            .collect();
        for slot in dirty {
            // An earlier run may already have written this one.
            if self.slots[slot].dirty {
                self.write_back(slot)?;
            }
        }
        Ok(())
    }

    /// Flushes the device's own write cache: everything written before is
    /// on stable storage when this returns.
    ///
    /// # Errors
    /// [`CacheError::Device`].
    pub fn flush_device(&mut self) -> Result<(), CacheError> {
        self.device.flush()?;
        Ok(())
    }

    /// Holds `slot` for the running transaction (if journaling).
    fn hold(&mut self, slot: usize) {
        if !self.journaling || self.slots[slot].held {
            return;
        }
        if self.slots[slot].pins == 0 {
            self.unlink(slot);
        }
        self.slots[slot].held = true;
        self.held_count += 1;
    }

    /// Brings `block` into the cache (if needed) and pins it: it stays
    /// resident until a matching [`unpin`](Self::unpin). Pins nest.
    ///
    /// # Errors
    /// As for [`read`](Self::read).
    pub fn pin(&mut self, block: u64) -> Result<(), CacheError> {
        let slot = self.get(block, Fill::FromDisk)?;
        if self.slots[slot].pins == 0 && !self.slots[slot].held {
            self.unlink(slot);
        }
        self.slots[slot].pins += 1;
        Ok(())
    }

    /// Undoes one [`pin`](Self::pin) of `block`.
    ///
    /// # Errors
    /// [`CacheError::NotPinned`] if the block is not cached or not pinned.
    pub fn unpin(&mut self, block: u64) -> Result<(), CacheError> {
        let slot = match self.index.get(&block) {
            Some(&slot) if self.slots[slot].pins > 0 => slot,
            _ => return Err(CacheError::NotPinned { block }),
        };
        self.slots[slot].pins -= 1;
        if self.slots[slot].pins == 0 && !self.slots[slot].held {
            self.push_newest(slot);
        }
        Ok(())
    }

    /// Writes every dirty buffer to the device, in block order (so the disk
    /// sees one sweep), then flushes the device. Held buffers are not
    /// written: they wait for their transaction's commit.
    ///
    /// # Errors
    /// [`CacheError::Device`] for the first write that failed; buffers not yet
    /// written stay dirty, so a later flush retries them.
    pub fn flush(&mut self) -> Result<(), CacheError> {
        self.write_back_all()?;
        self.device.flush()?;
        Ok(())
    }

    /// Flushes and returns the device.
    ///
    /// # Errors
    /// As for [`flush`](Self::flush); the cache (and its dirty data) is
    /// dropped either way, so the error is the caller's last word on it.
    pub fn into_device(mut self) -> Result<D, (CacheError, D)> {
        self.release_held();
        match self.flush() {
            Ok(()) => Ok(self.device),
            Err(err) => Err((err, self.device)),
        }
    }

    /// Finds or loads `block` and marks it most recently used; returns its
    /// slot.
    fn get(&mut self, block: u64, fill: Fill) -> Result<usize, CacheError> {
        // The file system's fault checkpoint: every operation passes here.
        crate::inject::checkpoint(crate::abi::inject::Component::Fs);
        if block >= self.block_count {
            return Err(CacheError::OutOfRange {
                block,
                block_count: self.block_count,
            });
        }
        if let Some(&slot) = self.index.get(&block) {
            self.stats.hits += 1;
            if self.slots[slot].pins == 0 && !self.slots[slot].held {
                self.unlink(slot);
                self.push_newest(slot);
            }
            return Ok(slot);
        }
        self.stats.misses += 1;
        if fill == Fill::FromDisk {
            let sequential = block > 0 && self.last_miss == Some(block - 1);
            self.last_miss = Some(block);
            if sequential {
                return self.read_run(block);
            }
        }
        let slot = self.free_slot()?;
        if fill == Fill::FromDisk {
            let first = block * (self.block_size / SECTOR_SIZE) as u64;
            if let Err(err) = self.device.read_sectors(first, &mut self.slots[slot].data) {
                self.release_unfilled(slot);
                return Err(err.into());
            }
            self.stats.device_reads += 1;
            self.stats.read_requests += 1;
        }
        self.install(slot, block);
        Ok(slot)
    }

    /// Read-ahead: after a miss on the block right after the previous miss
    /// (someone is reading sequentially), reads `block` and the uncached
    /// blocks after it — up to [`MAX_READ_RUN`] in all, and at most a
    /// quarter of the cache — in one device request. Returns `block`'s slot.
    fn read_run(&mut self, block: u64) -> Result<usize, CacheError> {
        let limit = MAX_READ_RUN.min(self.capacity / 4).max(1) as u64;
        let mut count = 1;
        while count < limit
            && block + count < self.block_count
            && !self.index.contains_key(&(block + count))
        {
            count += 1;
        }
        // Claim one free slot per block; on failure give back those claimed.
        let mut claimed = Vec::with_capacity(count as usize);
        for _ in 0..count {
            match self.free_slot() {
                Ok(slot) => claimed.push(slot),
                Err(err) => {
                    for slot in claimed {
                        self.release_unfilled(slot);
                    }
                    return Err(err);
                }
            }
        }
        let first = block * (self.block_size / SECTOR_SIZE) as u64;
        self.staging.resize(count as usize * self.block_size, 0);
        if let Err(err) = self.device.read_sectors(first, &mut self.staging) {
            for slot in claimed {
                self.release_unfilled(slot);
            }
            return Err(err.into());
        }
        // Install the blocks after `block` first, so `block` ends up the
        // most recently used.
        for i in (0..count as usize).rev() {
            let slot = claimed[i];
            let bytes = &self.staging[i * self.block_size..(i + 1) * self.block_size];
            self.slots[slot].data.copy_from_slice(bytes);
            self.install(slot, block + i as u64);
        }
        self.last_miss = Some(block + count - 1);
        self.stats.device_reads += count;
        self.stats.read_requests += 1;
        Ok(claimed[0])
    }

    /// Records that `slot` (on no list) now holds a clean copy of `block`,
    /// as the most recently used buffer.
    fn install(&mut self, slot: usize, block: u64) {
        let buffer = &mut self.slots[slot];
        buffer.block = block;
        buffer.dirty = false;
        self.index.insert(block, slot);
        self.push_newest(slot);
    }

    /// Gives back a claimed slot whose read failed: it holds nothing valid,
    /// so it goes unindexed to the old end of the LRU list, to be reused
    /// first.
    fn release_unfilled(&mut self, slot: usize) {
        self.slots[slot].block = u64::MAX;
        self.slots[slot].dirty = false;
        self.push_oldest(slot);
    }

    /// A slot that holds no block and is on no list: a new one while below
    /// capacity, otherwise the least recently used unpinned one (written back
    /// first if dirty).
    fn free_slot(&mut self) -> Result<usize, CacheError> {
        if self.slots.len() < self.capacity + self.held_count {
            self.slots.push(Slot {
                block: u64::MAX,
                data: vec![0; self.block_size].into_boxed_slice(),
                dirty: false,
                pins: 0,
                held: false,
                newer: NIL,
                older: NIL,
            });
            return Ok(self.slots.len() - 1);
        }
        let victim = self.oldest;
        if victim == NIL {
            return Err(CacheError::AllPinned);
        }
        if self.slots[victim].dirty {
            // On failure the victim keeps its block and stays dirty.
            self.write_back(victim)?;
        }
        self.unlink(victim);
        let old_block = self.slots[victim].block;
        if self.index.get(&old_block) == Some(&victim) {
            self.index.remove(&old_block);
            self.stats.evictions += 1;
        }
        Ok(victim)
    }

    /// Writes the dirty buffer in `slot` to the device and marks it clean —
    /// together with the dirty buffers of the blocks right after it, up to
    /// [`MAX_WRITE_RUN`] blocks, in one device request. A file written front
    /// to back is thus written back in large requests, not block by block.
    ///
    /// On failure every buffer of the run stays dirty.
    fn write_back(&mut self, slot: usize) -> Result<(), CacheError> {
        let first_block = self.slots[slot].block;
        let first_sector = first_block * (self.block_size / SECTOR_SIZE) as u64;
        let mut run = 1;
        while run < MAX_WRITE_RUN {
            match self.index.get(&(first_block + run as u64)) {
                Some(&next) if self.slots[next].dirty && !self.slots[next].held => run += 1,
                _ => break,
            }
        }
        if run == 1 {
            self.device
                .write_sectors(first_sector, &self.slots[slot].data)?;
        } else {
            // Gather the run into one buffer (kept between calls).
            self.staging.clear();
            for i in 0..run {
                let next = self.index[&(first_block + i as u64)];
                self.staging.extend_from_slice(&self.slots[next].data);
            }
            self.device.write_sectors(first_sector, &self.staging)?;
        }
        for i in 0..run {
            let next = self
                .index
                .get(&(first_block + i as u64))
                .copied()
                .unwrap_or(slot);
            self.slots[next].dirty = false;
        }
        self.stats.device_writes += run as u64;
        self.stats.write_requests += 1;
        Ok(())
    }

    /// Removes `slot` from the LRU list.
    fn unlink(&mut self, slot: usize) {
        let (newer, older) = (self.slots[slot].newer, self.slots[slot].older);
        if newer == NIL {
            self.newest = older;
        } else {
            self.slots[newer].older = older;
        }
        if older == NIL {
            self.oldest = newer;
        } else {
            self.slots[older].newer = newer;
        }
        self.slots[slot].newer = NIL;
        self.slots[slot].older = NIL;
    }

    /// Puts `slot` (on no list) at the most recently used end.
    fn push_newest(&mut self, slot: usize) {
        self.slots[slot].older = self.newest;
        self.slots[slot].newer = NIL;
        if self.newest == NIL {
            self.oldest = slot;
        } else {
            let old_newest = self.newest;
            self.slots[old_newest].newer = slot;
        }
        self.newest = slot;
    }

    /// Puts `slot` (on no list) at the least recently used end.
    fn push_oldest(&mut self, slot: usize) {
        self.slots[slot].newer = self.oldest;
        self.slots[slot].older = NIL;
        if self.oldest == NIL {
            self.newest = slot;
        } else {
            let old_oldest = self.oldest;
            self.slots[old_oldest].older = slot;
        }
        self.oldest = slot;
    }
}

/// How a newly claimed buffer gets its contents.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fill {
    /// Read the block from the device.
    FromDisk,
    /// The caller overwrites it; skip the read.
    Zero,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block::MemDisk;

    /// A disk of `blocks` 1 KiB blocks where block `b` is filled with byte `b`.
    fn patterned_disk(blocks: usize) -> MemDisk {
        let mut bytes = Vec::new();
        for b in 0..blocks {
            bytes.extend(core::iter::repeat_n(b as u8, 1024));
        }
        MemDisk::from_bytes(bytes)
    }

    #[test]
    fn reads_come_from_the_disk_and_then_from_memory() {
        let mut cache = BufferCache::new(patterned_disk(8), 1024, 4).unwrap();
        assert!(cache.read(5).unwrap().iter().all(|&b| b == 5));
        assert!(cache.read(5).unwrap().iter().all(|&b| b == 5));
        let stats = cache.stats();
        assert_eq!((stats.hits, stats.misses, stats.device_reads), (1, 1, 1));
    }

    #[test]
    fn least_recently_used_block_is_evicted() {
        let mut cache = BufferCache::new(patterned_disk(8), 1024, 2).unwrap();
        cache.read(0).unwrap();
        cache.read(1).unwrap();
        cache.read(0).unwrap(); // 1 is now the oldest
        cache.read(2).unwrap(); // evicts 1
        assert_eq!(cache.stats().evictions, 1);
        let reads = cache.stats().device_reads;
        cache.read(0).unwrap();
        assert_eq!(cache.stats().device_reads, reads, "block 0 stayed cached");
        cache.read(1).unwrap();
        assert_eq!(cache.stats().device_reads, reads + 1, "block 1 was evicted");
    }

    #[test]
    fn dirty_buffers_are_written_on_eviction_and_flush() {
        let mut cache = BufferCache::new(patterned_disk(8), 1024, 1).unwrap();
        cache.modify(3).unwrap()[0] = 0xEE;
        cache.read(4).unwrap(); // evicts dirty 3, writing it
        assert_eq!(cache.stats().device_writes, 1);
        assert_eq!(cache.read(3).unwrap()[0], 0xEE);
        cache.zeroed(6).unwrap()[1] = 9;
        let disk = cache.into_device().ok().unwrap();
        assert_eq!(disk.as_bytes()[3 * 1024], 0xEE);
        assert_eq!(disk.as_bytes()[6 * 1024], 0);
        assert_eq!(disk.as_bytes()[6 * 1024 + 1], 9);
        assert_eq!(disk.as_bytes()[7 * 1024], 7);
    }

    #[test]
    fn pinned_buffers_are_never_evicted_and_full_pinning_is_an_error() {
        let mut cache = BufferCache::new(patterned_disk(8), 1024, 2).unwrap();
        cache.pin(0).unwrap();
        cache.pin(1).unwrap();
        assert_eq!(cache.read(2), Err(CacheError::AllPinned));
        // The pinned blocks are still there.
        assert_eq!(cache.read(0).unwrap()[0], 0);
        cache.unpin(1).unwrap();
        assert_eq!(cache.read(2).unwrap()[0], 2);
        assert_eq!(cache.unpin(1), Err(CacheError::NotPinned { block: 1 }));
        // Block 0 survived all of that.
        let reads = cache.stats().device_reads;
        cache.read(0).unwrap();
        assert_eq!(cache.stats().device_reads, reads);
    }

    #[test]
    fn out_of_range_and_bad_geometry_are_errors() {
        let mut cache = BufferCache::new(patterned_disk(4), 1024, 2).unwrap();
        assert_eq!(
            cache.read(4).err(),
            Some(CacheError::OutOfRange {
                block: 4,
                block_count: 4
            })
        );
        assert!(BufferCache::new(MemDisk::new(8), 1000, 2).is_err());
        assert!(BufferCache::new(MemDisk::new(8), 1024, 0).is_err());
    }

    #[test]
    fn adjacent_dirty_blocks_are_written_in_one_request() {
        let mut cache = BufferCache::new(patterned_disk(8), 1024, 8).unwrap();
        for block in [2, 3, 4, 6] {
            cache.modify(block).unwrap()[0] = 0xD0 + block as u8;
        }
        cache.read(5).unwrap(); // clean: splits the run
        cache.flush().unwrap();
        let stats = cache.stats();
        assert_eq!((stats.device_writes, stats.write_requests), (4, 2));
        let disk = cache.into_device().ok().unwrap();
        for block in [2usize, 3, 4, 6] {
            assert_eq!(disk.as_bytes()[block * 1024], 0xD0 + block as u8);
            assert_eq!(disk.as_bytes()[block * 1024 + 1], block as u8);
        }
        assert_eq!(disk.as_bytes()[5 * 1024], 5);
    }

    #[test]
    fn failed_write_back_keeps_the_data() {
        let mut cache = BufferCache::new(patterned_disk(4), 1024, 1).unwrap();
        cache.modify(2).unwrap()[0] = 0x77;
        cache.device.set_read_only(true);
        assert!(matches!(
            cache.read(3),
            Err(CacheError::Device(BlockError::ReadOnly))
        ));
        assert_eq!(cache.read(2).unwrap()[0], 0x77);
        cache.device.set_read_only(false);
        cache.flush().unwrap();
        assert_eq!(cache.device().as_bytes()[2 * 1024], 0x77);
    }

    #[test]
    fn sequential_reads_are_read_ahead_in_runs() {
        let mut cache = BufferCache::new(patterned_disk(64), 1024, 64).unwrap();
        for block in 0..64 {
            assert!(cache.read(block).unwrap().iter().all(|&b| b == block as u8));
        }
        let stats = cache.stats();
        assert_eq!(stats.device_reads, 64);
        // Block 0 alone, then runs of 16 (a quarter of the cache): 1..17,
        // 17..33, 33..49, 49..64.
        assert_eq!(stats.read_requests, 5);
        // Random access does not read ahead.
        let mut cache = BufferCache::new(patterned_disk(64), 1024, 64).unwrap();
        for block in [5, 9, 2, 40] {
            cache.read(block).unwrap();
        }
        assert_eq!(cache.stats().device_reads, 4);
    }

    #[test]
    fn read_ahead_stops_at_cached_blocks_and_keeps_dirty_data() {
        let mut cache = BufferCache::new(patterned_disk(32), 1024, 32).unwrap();
        cache.modify(5).unwrap()[0] = 0xEE; // cached and dirty
        cache.read(2).unwrap();
        cache.read(3).unwrap(); // sequential: reads 3 and 4, stops at 5
        let stats = cache.stats();
        assert_eq!((stats.device_reads, stats.read_requests), (4, 3));
        assert_eq!(cache.read(5).unwrap()[0], 0xEE);
        assert_eq!(cache.read(4).unwrap()[0], 4);
        assert_eq!(cache.stats().device_reads, 4, "4 was read ahead");
    }

    #[test]
    fn held_buffers_wait_for_release() {
        let mut cache = BufferCache::new(patterned_disk(8), 1024, 1).unwrap();
        cache.set_journaling(true);
        cache.modify_meta(2).unwrap()[0] = 0xAA;
        cache.modify(3).unwrap()[0] = 0xBB; // evicts nothing held
        cache.read(4).unwrap(); // evicts 3 (written), never 2
        assert_eq!(cache.held_count(), 1);
        assert_eq!(cache.held_blocks(), [2]);
        cache.flush().unwrap();
        assert_eq!(cache.device().as_bytes()[2 * 1024], 2, "held: not in place");
        assert_eq!(cache.device().as_bytes()[3 * 1024], 0xBB);
        cache.write_through(6, &[0x66; 1024]).unwrap();
        assert_eq!(cache.device().as_bytes()[6 * 1024], 0x66);
        cache.release_held();
        assert_eq!(cache.held_count(), 0);
        cache.flush().unwrap();
        assert_eq!(cache.device().as_bytes()[2 * 1024], 0xAA);
        // Without journaling, the _meta calls are the plain ones.
        cache.set_journaling(false);
        cache.zeroed_meta(5).unwrap();
        assert_eq!(cache.held_count(), 0);
    }

    proptest::proptest! {
        /// Whatever the access pattern (runs of neighbouring blocks, to
        /// trigger read-ahead and write clustering, with caches of every
        /// size), the cache behaves like the disk it fronts: reads see the
        /// last write, and after a flush the disk holds it.
        #[test]
        fn cache_agrees_with_a_plain_array(
            ops in proptest::collection::vec(
                (0u64..32, 1u64..10, proptest::option::of(0u8..255)),
                1..120,
            ),
            capacity in 1usize..24,
        ) {
            let mut cache = BufferCache::new(MemDisk::new(32 * 2), 1024, capacity).unwrap();
            let mut model = [0u8; 32];
            for (start, run, write) in ops {
                for block in start..(start + run).min(32) {
                    match write {
                        Some(value) => {
                            cache.modify(block).unwrap().fill(value);
                            model[block as usize] = value;
                        }
                        None => {
                            let data = cache.read(block).unwrap();
                            proptest::prop_assert!(data.iter().all(|&b| b == model[block as usize]));
                        }
                    }
                }
            }
            let disk = cache.into_device().ok().unwrap();
            for (block, value) in model.iter().enumerate() {
                proptest::prop_assert!(disk.as_bytes()[block * 1024..][..1024].iter().all(|b| b == value));
            }
        }
    }
}
