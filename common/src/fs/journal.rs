//! The journal: ext3's write-ahead log (the JBD2 format) in the journal
//! inode, with group commit and recovery at mount.
//!
//! A file-system operation changes several metadata blocks — a bitmap, a
//! group descriptor, an inode, a directory block. Written in place one by
//! one, a power cut between two of those writes leaves an image that
//! `e2fsck` must repair. The journal makes the set atomic, exactly as xv6's
//! log does (`begin_op`/`end_op`, `log_write`, `commit`), but in the format
//! Linux's ext3 and `e2fsck` read, so the recovery is checked by the real
//! tool and not only by our own word.
//!
//! ## Transactions (what the rest of the file system sees)
//!
//! Every change to a metadata block goes through the buffer cache's
//! `modify_meta`/`zeroed_meta`: with journaling on, the buffer is *held* by
//! the running transaction and never written in place or evicted until the
//! transaction commits. A regular file's data blocks use `modify`/`zeroed`
//! and are written in place like before (ext3's `data=ordered`: before the
//! commit, never after it). Operations join the running transaction; each
//! public operation starts with [`Ext2::begin_op`], which commits first when
//! the transaction is full, so a transaction always holds whole operations.
//!
//! The transaction commits (**group commit**):
//! - when it is full (a quarter of the journal) at the start of an operation;
//! - when it is older than [`COMMIT_INTERVAL_MS`]: time is an input, the
//!   kernels call [`Ext2::tick`] (`end_op` after each call, and from a timer);
//! - on [`Ext2::sync`] / [`Ext2::fsync`] (the `sync` and `fsync` system calls).
//!
//! ## The commit, step by step ([`Ext2::commit`])
//!
//! 1. Write every dirty buffer that is not held (file data: ordered mode;
//!    and the in-place copies of the previous transaction), then flush the
//!    disk's cache. Everything before this transaction is now in place.
//! 2. Write the journal superblock: the log starts at this transaction
//!    (`s_start`) with its sequence number (`s_sequence`). The previous
//!    transaction leaves the log, so its blocks are never replayed again
//!    over blocks that have since been reused for file data (what revoke
//!    records do in Linux; we never need to write one). If the transaction
//!    does not fit before the end of the journal it starts again at the
//!    front, and the disk is flushed first, so no committed transaction is
//!    overwritten while still named by the superblock.
//! 3. Write descriptor blocks (the tag list: which file-system block each
//!    following log block belongs to) and a copy of every held block.
//!    Flush.
//! 4. Write the commit block. Flush. **This write is the commit point**: a
//!    cut before it leaves a torn transaction, which recovery ignores; a cut
//!    after it leaves a transaction that recovery replays.
//! 5. Release the held buffers and write them in place (no flush: step 1 of
//!    the next commit, or recovery, finishes that).
//!
//! One more rule keeps ordered data honest: a block freed by the running
//! transaction is not allocated again until that transaction commits (Linux
//! keeps the committed bitmap for the same reason). Otherwise a file's data
//! could be written, in place, into a block that — if the power fails before
//! the commit — still belongs to the file it was freed from.
//!
//! ## Recovery at mount ([`Ext2::recover`])
//!
//! If the journal superblock's `s_start` is not zero, the log holds
//! transactions. Scan from `s_start`: each block must carry the magic number
//! and the expected sequence number; a descriptor lists tags, a revoke block
//! lists blocks not to replay, a commit block ends a transaction and raises
//! the expected sequence. The first block that does not fit ends the log: a
//! transaction without its commit block is torn, and ignored. Then replay the
//! committed transactions in order (a block revoked by a transaction at or
//! after its own is skipped), flush, and mark the journal empty. Replaying is
//! idempotent, so a cut during recovery is harmless: the next mount replays
//! again. This is the argument of `docs/journal.md`.
//!
//! ## What is implemented
//!
//! Journal superblocks v1 and v2 with the `revoke` feature (read at
//! recovery); 32-bit block numbers; no checksums. A journal with other
//! features (`64bit`, `async_commit`, checksums v1/v2/v3, fast commits), in
//! another file system, or with a recorded error is not used: the file
//! system mounts without crash safety and [`Ext2::journal_status`] says why
//! — unless it needs recovery, which then refuses the mount.

use super::error::{FsError, FsResult};
use super::superblock::INCOMPAT_RECOVER;
use super::{Ext2, Ino};
use crate::block::BlockDevice;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

/// The magic number at the start of every journal block (big-endian).
pub(crate) const JBD2_MAGIC: u32 = 0xC03B_3998;
const BLOCKTYPE_DESCRIPTOR: u32 = 1;
const BLOCKTYPE_COMMIT: u32 = 2;
const BLOCKTYPE_SUPERBLOCK_V1: u32 = 3;
const BLOCKTYPE_SUPERBLOCK_V2: u32 = 4;
const BLOCKTYPE_REVOKE: u32 = 5;
/// incompat: the log may contain revoke blocks.
const INCOMPAT_REVOKE: u32 = 0x1;
/// Tag flag: the block's first four bytes were the magic number and are
/// zeroed in the log.
const TAG_ESCAPE: u16 = 0x1;
/// Tag flag: no UUID follows this tag (it is the previous tag's).
const TAG_SAME_UUID: u16 = 0x2;
/// Tag flag: the last tag of its descriptor block.
const TAG_LAST: u16 = 0x8;
/// Bytes of a block header: magic, block type, sequence.
const HEADER_SIZE: usize = 12;
/// Bytes of a tag without the `64bit` and checksum features.
const TAG_SIZE: usize = 8;
/// Bytes of the UUID after the first tag of a descriptor block.
const UUID_SIZE: usize = 16;

/// A transaction older than this (milliseconds) commits at the next
/// [`Ext2::tick`]: ext3's default commit interval.
pub const COMMIT_INTERVAL_MS: u64 = 5000;

/// `begin_op` commits when fewer blocks than this (or than the running
/// transaction freed) can be allocated without the freed ones.
const FREE_RESERVE: u64 = 1024;

/// The smallest journal this code uses, in blocks.
const MIN_JOURNAL_BLOCKS: u32 = 64;

/// Reads a big-endian `u32` (the journal is big-endian, unlike ext2).
fn get_be32(bytes: &[u8], offset: usize) -> u32 {
    u32::from_be_bytes([
        bytes[offset],
        bytes[offset + 1],
        bytes[offset + 2],
        bytes[offset + 3],
    ])
}

/// Reads a big-endian `u16`.
fn get_be16(bytes: &[u8], offset: usize) -> u16 {
    u16::from_be_bytes([bytes[offset], bytes[offset + 1]])
}

/// Writes a big-endian `u32`.
fn put_be32(bytes: &mut [u8], offset: usize, value: u32) {
    bytes[offset..offset + 4].copy_from_slice(&value.to_be_bytes());
}

/// Writes a big-endian `u16`.
fn put_be16(bytes: &mut [u8], offset: usize, value: u16) {
    bytes[offset..offset + 2].copy_from_slice(&value.to_be_bytes());
}

/// Writes a block header.
fn put_header(bytes: &mut [u8], blocktype: u32, sequence: u32) {
    put_be32(bytes, 0, JBD2_MAGIC);
    put_be32(bytes, 4, blocktype);
    put_be32(bytes, 8, sequence);
}

/// How many tags fit in one descriptor block (the first carries a UUID).
pub(crate) fn tags_per_descriptor(block_size: usize) -> usize {
    1 + (block_size - HEADER_SIZE - TAG_SIZE - UUID_SIZE) / TAG_SIZE
}

/// What the file system does about crash safety, for the boot message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JournalStatus {
    /// No journal (an ext2 image): changes reach the disk on `sync`, and a
    /// power cut in between can leave the image for `e2fsck` to repair.
    None,
    /// The image has a journal this code does not use, for this reason;
    /// as for `None`, there is no crash safety.
    Unused(&'static str),
    /// Metadata changes go through the journal.
    Active {
        /// The journal's length in blocks.
        blocks: u32,
        /// Transactions replayed at mount.
        recovered: u32,
    },
}

impl fmt::Display for JournalStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            JournalStatus::None => write!(f, "no journal (ext2): no crash safety"),
            JournalStatus::Unused(reason) => {
                write!(f, "journal not used ({reason}): no crash safety")
            }
            JournalStatus::Active { blocks, recovered } => write!(
                f,
                "ext3 journal, {blocks} blocks; recovered {recovered} transaction{}",
                if recovered == 1 { "" } else { "s" }
            ),
        }
    }
}

/// Counters of the journal's work.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JournalStats {
    /// Transactions committed.
    pub commits: u64,
    /// Metadata blocks written to the log.
    pub logged_blocks: u64,
    /// Transactions too large for the journal, written in place unprotected
    /// (none with the images `make` builds).
    pub overflows: u64,
}

/// The journal superblock fields this code reads and writes.
#[derive(Debug, Clone)]
struct JournalSuper {
    maxlen: u32,
    first: u32,
    sequence: u32,
    start: u32,
    uuid: [u8; UUID_SIZE],
}

impl JournalSuper {
    /// Parses journal block 0; `Err(reason)` for a journal this code does
    /// not use.
    fn parse(bytes: &[u8], block_size: usize) -> Result<JournalSuper, &'static str> {
        if get_be32(bytes, 0) != JBD2_MAGIC {
            return Err("bad journal superblock magic");
        }
        let blocktype = get_be32(bytes, 4);
        let (compat, incompat, ro_compat) = match blocktype {
            BLOCKTYPE_SUPERBLOCK_V1 => (0, 0, 0),
            BLOCKTYPE_SUPERBLOCK_V2 => (
                get_be32(bytes, 36),
                get_be32(bytes, 40),
                get_be32(bytes, 44),
            ),
            _ => return Err("unknown journal superblock version"),
        };
        if compat != 0 {
            return Err("journal checksums (v1)");
        }
        if incompat & !INCOMPAT_REVOKE != 0 {
            return Err(if incompat & 0x2 != 0 {
                "64-bit journal"
            } else if incompat & 0x4 != 0 {
                "asynchronous commits"
            } else if incompat & 0x18 != 0 {
                "journal checksums"
            } else {
                "unknown journal feature"
            });
        }
        if ro_compat != 0 {
            return Err("unknown journal feature");
        }
        if get_be32(bytes, 12) as usize != block_size {
            return Err("journal block size differs from the file system's");
        }
        if blocktype == BLOCKTYPE_SUPERBLOCK_V2 && get_be32(bytes, 64) > 1 {
            return Err("journal shared with other file systems");
        }
        if get_be32(bytes, 32) != 0 {
            return Err("the journal recorded an error: run e2fsck");
        }
        let mut uuid = [0u8; UUID_SIZE];
        if blocktype == BLOCKTYPE_SUPERBLOCK_V2 {
            uuid.copy_from_slice(&bytes[48..48 + UUID_SIZE]);
        }
        let sb = JournalSuper {
            maxlen: get_be32(bytes, 16),
            first: get_be32(bytes, 20),
            sequence: get_be32(bytes, 24),
            start: get_be32(bytes, 28),
            uuid,
        };
        if sb.maxlen < MIN_JOURNAL_BLOCKS || sb.first == 0 || sb.first >= sb.maxlen / 2 {
            return Err("impossible journal geometry");
        }
        if sb.start != 0 && (sb.start < sb.first || sb.start >= sb.maxlen) {
            return Err("journal start outside the journal");
        }
        Ok(sb)
    }
}

/// A journal in use (or about to be recovered).
pub(crate) struct Journal {
    /// The file-system block of each journal block (index 0 is the journal
    /// superblock). Invariant: `map.len() == maxlen`, every entry a data
    /// block of the file system.
    map: Vec<u32>,
    /// The first log block (after the superblock).
    first: u32,
    /// The journal's length in blocks.
    maxlen: u32,
    /// The sequence number of the next transaction to commit.
    sequence: u32,
    /// Where the next transaction is written. Invariant: in `first..=maxlen`.
    head: u32,
    /// `s_start` as read at mount (non-zero: the log needs recovery).
    start: u32,
    uuid: [u8; UUID_SIZE],
    /// The journal superblock block as read, rewritten with new
    /// `s_start`/`s_sequence` (every other field kept).
    super_bytes: Vec<u8>,
    /// Blocks freed by the running transaction: not allocated again until
    /// it commits.
    pub(crate) freed: BTreeSet<u32>,
    /// When (kernel milliseconds) the running transaction was first seen
    /// non-empty by `tick`.
    running_since: Option<u64>,
    /// Transactions replayed at mount.
    pub(crate) recovered: u32,
    pub(crate) stats: JournalStats,
}

impl Journal {
    /// The journal block after `block`, wrapping to `first`.
    fn next(&self, block: u32) -> u32 {
        if block + 1 >= self.maxlen {
            self.first
        } else {
            block + 1
        }
    }

    /// Metadata blocks a transaction may hold before `begin_op` commits it:
    /// a quarter of the log, so that the operation that crosses the line
    /// still fits.
    fn soft_limit(&self, block_size: usize) -> usize {
        let usable = (self.maxlen - self.first) as usize;
        let per = tags_per_descriptor(block_size);
        (usable / 4).saturating_sub(usable / 4 / per + 2).max(1)
    }
}

/// One transaction found by the recovery scan.
struct Found {
    sequence: u32,
    /// (file-system block, journal block of its copy, escaped).
    tags: Vec<(u32, u32, bool)>,
    /// Blocks this transaction revokes.
    revoked: Vec<u32>,
}

impl<D: BlockDevice> Ext2<D> {
    /// What the file system does about crash safety (for the boot message).
    pub fn journal_status(&self) -> JournalStatus {
        if let Some(journal) = &self.journal {
            return JournalStatus::Active {
                blocks: journal.maxlen,
                recovered: journal.recovered,
            };
        }
        match self.journal_unused {
            Some(reason) => JournalStatus::Unused(reason),
            None => JournalStatus::None,
        }
    }

    /// Where the journal stands: the sequence number of the running
    /// transaction (every transaction before it is committed), and whether
    /// it holds changes — changes a crash now would lose. `None` without a
    /// journal, where `end_op` writes every change before it returns.
    ///
    /// The micro-kernel's vfs server keeps the requests of the running
    /// transaction, to send them again to a new copy of the fs server after
    /// a crash: the new copy's mount replays the committed transactions, so
    /// its running transaction has the number the lost one had
    /// (`docs/fault-isolation.md`).
    pub fn journal_position(&self) -> Option<(u32, bool)> {
        self.journal
            .as_ref()
            .map(|journal| (journal.sequence, self.commit_pending()))
    }

    /// Does a running transaction wait to be committed (so a kernel should
    /// call [`Ext2::tick`] again within [`COMMIT_INTERVAL_MS`])?
    pub fn commit_pending(&self) -> bool {
        self.journal.is_some() && (self.cache.held_count() > 0 || self.metadata_dirty)
    }

    /// The journal's counters (zero without a journal).
    pub fn journal_stats(&self) -> JournalStats {
        self.journal
            .as_ref()
            .map(|journal| journal.stats)
            .unwrap_or_default()
    }

    /// Reads the journal inode `ino` and its superblock. `Ok(Err(reason))`
    /// for a journal this code does not use.
    ///
    /// # Errors
    /// [`FsError::Corrupt`] if the journal inode is not a regular file, is
    /// too short or has a hole or a bad pointer; [`FsError::Cache`].
    pub(super) fn load_journal(&mut self, ino: Ino) -> FsResult<Result<Journal, &'static str>> {
        if ino == 0 || ino > self.sb.inodes_count {
            return Err(FsError::corrupt("bad journal inode number", ino.into()));
        }
        let inode = self.read_inode(ino)?;
        if inode.kind() != Some(super::InodeKind::File) {
            return Err(FsError::corrupt(
                "journal inode is not a regular file",
                ino.into(),
            ));
        }
        let block_size = self.sb.block_size;
        let inode_blocks = inode.size / block_size as u64;
        let first = self
            .map_block(&inode, 0)?
            .ok_or(FsError::corrupt("journal inode has a hole", 0))?;
        let super_bytes = self.cache.read(first.into())?.to_vec();
        let sb = match JournalSuper::parse(&super_bytes, block_size) {
            Ok(sb) => sb,
            Err(reason) => return Ok(Err(reason)),
        };
        if u64::from(sb.maxlen) > inode_blocks || sb.maxlen > self.sb.blocks_count {
            return Err(FsError::corrupt(
                "journal longer than its inode",
                sb.maxlen.into(),
            ));
        }
        let mut map = Vec::with_capacity(sb.maxlen as usize);
        for block in 0..u64::from(sb.maxlen) {
            let physical = self
                .map_block(&inode, block)?
                .ok_or(FsError::corrupt("journal inode has a hole", block))?;
            map.push(physical);
        }
        Ok(Ok(Journal {
            map,
            first: sb.first,
            maxlen: sb.maxlen,
            sequence: sb.sequence,
            head: sb.first,
            start: sb.start,
            uuid: sb.uuid,
            super_bytes,
            freed: BTreeSet::new(),
            running_since: None,
            recovered: 0,
            stats: JournalStats::default(),
        }))
    }

    /// Does the loaded journal hold transactions to replay?
    pub(super) fn journal_needs_recovery(journal: &Journal) -> bool {
        journal.start != 0
    }

    /// Replays the committed transactions of `journal`'s log into their
    /// places, flushes, and marks the journal empty. Returns how many
    /// transactions were replayed.
    ///
    /// # Errors
    /// [`FsError::Corrupt`] if a committed transaction names a block outside
    /// the file system; [`FsError::Cache`].
    pub(super) fn recover(&mut self, journal: &mut Journal) -> FsResult<u32> {
        let found = self.scan_log(journal)?;
        // Revoke records of committed transactions: block → newest
        // sequence that revoked it.
        let mut revoked: BTreeMap<u32, u32> = BTreeMap::new();
        for transaction in &found {
            for &block in &transaction.revoked {
                let entry = revoked.entry(block).or_insert(transaction.sequence);
                *entry = (*entry).max(transaction.sequence);
            }
        }
        let block_size = self.sb.block_size;
        let mut copy = vec![0u8; block_size];
        for transaction in &found {
            for &(target, log_block, escaped) in &transaction.tags {
                if revoked
                    .get(&target)
                    .is_some_and(|&by| by >= transaction.sequence)
                {
                    continue;
                }
                if target >= self.sb.blocks_count || target == 0 {
                    return Err(FsError::corrupt(
                        "journal replays a block outside the file system",
                        target.into(),
                    ));
                }
                let physical = journal.map[log_block as usize];
                copy.copy_from_slice(self.cache.read(physical.into())?);
                if escaped {
                    put_be32(&mut copy, 0, JBD2_MAGIC);
                }
                self.cache.zeroed(target.into())?.copy_from_slice(&copy);
            }
        }
        self.cache.flush()?;
        let next = found
            .last()
            .map_or(journal.sequence, |t| t.sequence.wrapping_add(1));
        journal.sequence = next;
        journal.start = 0;
        journal.head = journal.first;
        self.write_journal_super(journal, 0)?;
        self.cache.flush_device()?;
        Ok(found.len() as u32)
    }

    /// The recovery scan: the committed transactions of the log, in order.
    fn scan_log(&mut self, journal: &Journal) -> FsResult<Vec<Found>> {
        let block_size = self.sb.block_size;
        let mut found = Vec::new();
        let mut position = journal.start;
        let mut expected = journal.sequence;
        let mut current = Found {
            sequence: expected,
            tags: Vec::new(),
            revoked: Vec::new(),
        };
        // Every step consumes at least one block; the log is never longer
        // than the journal, so this bounds the walk.
        let mut budget = journal.maxlen - journal.first;
        while budget > 0 {
            budget -= 1;
            let physical = journal.map[position as usize];
            let bytes = self.cache.read(physical.into())?;
            if get_be32(bytes, 0) != JBD2_MAGIC || get_be32(bytes, 8) != expected {
                break;
            }
            match get_be32(bytes, 4) {
                BLOCKTYPE_DESCRIPTOR => {
                    let mut offset = HEADER_SIZE;
                    let mut tags = Vec::new();
                    while offset + TAG_SIZE <= block_size {
                        let target = get_be32(bytes, offset);
                        let flags = get_be16(bytes, offset + 6);
                        offset += TAG_SIZE;
                        if flags & TAG_SAME_UUID == 0 {
                            offset += UUID_SIZE;
                        }
                        tags.push((target, flags & TAG_ESCAPE != 0));
                        if flags & TAG_LAST != 0 {
                            break;
                        }
                    }
                    if tags.len() as u32 > budget {
                        break; // cannot be a whole transaction
                    }
                    for (target, escaped) in tags {
                        position = journal.next(position);
                        budget -= 1;
                        current.tags.push((target, position, escaped));
                    }
                }
                BLOCKTYPE_REVOKE => {
                    let used = (get_be32(bytes, 12) as usize).min(block_size);
                    let mut offset = HEADER_SIZE + 4;
                    while offset + 4 <= used {
                        current.revoked.push(get_be32(bytes, offset));
                        offset += 4;
                    }
                }
                BLOCKTYPE_COMMIT => {
                    expected = expected.wrapping_add(1);
                    let done = core::mem::replace(
                        &mut current,
                        Found {
                            sequence: expected,
                            tags: Vec::new(),
                            revoked: Vec::new(),
                        },
                    );
                    found.push(done);
                }
                _ => break,
            }
            position = journal.next(position);
        }
        Ok(found)
    }

    /// Writes the journal superblock with `start` and the journal's next
    /// sequence number (not flushed).
    fn write_journal_super(&mut self, journal: &mut Journal, start: u32) -> FsResult<()> {
        put_be32(&mut journal.super_bytes, 24, journal.sequence);
        put_be32(&mut journal.super_bytes, 28, start);
        let physical = journal.map[0];
        self.cache
            .write_through(physical.into(), &journal.super_bytes)?;
        Ok(())
    }

    /// xv6's `begin_op`: called at the start of every operation that may
    /// change the disk. Commits the running transaction first if it is
    /// full, so that a transaction always holds whole operations.
    ///
    /// # Errors
    /// As for [`Ext2::commit`].
    ///
    /// It also commits when the blocks the running transaction freed (not
    /// allocatable before it commits) are most of what is free: a disk
    /// filled, emptied and written again must not run out of space.
    pub(super) fn begin_op(&mut self) -> FsResult<()> {
        let Some(journal) = &self.journal else {
            return Ok(());
        };
        let held_full = self.cache.held_count() >= journal.soft_limit(self.sb.block_size);
        let freed = journal.freed.len() as u64;
        let allocatable = u64::from(self.sb.free_blocks_count).saturating_sub(freed);
        let space_pinned = freed > 0 && allocatable < FREE_RESERVE.max(freed);
        if held_full || space_pinned {
            self.commit()?;
        }
        Ok(())
    }

    /// Records that `block` was freed: with a journal, it is not allocated
    /// again before the running transaction commits.
    pub(super) fn note_freed(&mut self, block: u32) {
        if let Some(journal) = &mut self.journal {
            journal.freed.insert(block);
        }
    }

    /// May `block` be allocated now (not freed by the running transaction)?
    pub(super) fn reusable(&self, block: u32) -> bool {
        self.journal
            .as_ref()
            .is_none_or(|journal| !journal.freed.contains(&block))
    }

    /// The group-commit clock: `now_ms` is the kernel's time in
    /// milliseconds (any monotonic origin). Commits the running transaction
    /// if it has been running for [`COMMIT_INTERVAL_MS`]; returns whether it
    /// committed. Without a journal it does nothing.
    ///
    /// # Errors
    /// As for [`Ext2::commit`].
    pub fn tick(&mut self, now_ms: u64) -> FsResult<bool> {
        let pending = self.cache.held_count() > 0 || self.metadata_dirty;
        let Some(journal) = &mut self.journal else {
            return Ok(false);
        };
        if !pending {
            journal.running_since = None;
            return Ok(false);
        }
        match journal.running_since {
            None => {
                journal.running_since = Some(now_ms);
                Ok(false)
            }
            Some(since) if now_ms.saturating_sub(since) >= COMMIT_INTERVAL_MS => {
                self.commit()?;
                Ok(true)
            }
            Some(_) => Ok(false),
        }
    }

    /// Called by a kernel after every call that may have changed the disk.
    /// With a journal: the group-commit clock ([`Ext2::tick`]); without
    /// one: [`Ext2::sync`], so an ext2 image is consistent between calls
    /// as before.
    ///
    /// # Errors
    /// As for [`Ext2::commit`] or [`Ext2::sync`].
    pub fn end_op(&mut self, now_ms: u64) -> FsResult<()> {
        if self.journal.is_some() {
            self.tick(now_ms).map(|_| ())
        } else {
            self.sync()
        }
    }

    /// `fsync(fd)`: makes everything done so far durable, including file
    /// `ino`'s data (the whole running transaction commits: a file's
    /// metadata shares its blocks with other files').
    ///
    /// # Errors
    /// As for [`Ext2::sync`].
    pub fn fsync(&mut self, _ino: Ino) -> FsResult<()> {
        self.sync()
    }

    /// Commits the running transaction (steps 1–5 of the module
    /// documentation). Without a journal this is a plain write-back.
    ///
    /// # Errors
    /// [`FsError::Cache`] if a write fails; the transaction then stays
    /// running and a later commit retries it.
    pub(super) fn commit(&mut self) -> FsResult<()> {
        let Some(mut journal) = self.journal.take() else {
            return Ok(());
        };
        let result = self.commit_with(&mut journal);
        self.journal = Some(journal);
        result
    }

    fn commit_with(&mut self, journal: &mut Journal) -> FsResult<()> {
        if self.metadata_dirty {
            self.store_superblock()?;
            self.store_groups()?;
            self.metadata_dirty = false;
        }
        // 1. Ordered data, and the previous transaction's in-place copies.
        self.cache.write_back_all()?;
        self.cache.flush_device()?;
        let blocks = self.cache.held_blocks();
        journal.running_since = None;
        if blocks.is_empty() {
            journal.freed.clear();
            return Ok(());
        }
        let block_size = self.sb.block_size;
        let per = tags_per_descriptor(block_size);
        let total = (blocks.len().div_ceil(per) + blocks.len() + 1) as u32;
        if total > journal.maxlen - journal.first {
            // Cannot be made atomic: write in place, unprotected.
            journal.stats.overflows += 1;
            self.cache.release_held();
            self.cache.flush()?;
            journal.freed.clear();
            return Ok(());
        }
        // 2. The log starts at this transaction.
        let wrap = journal.head + total > journal.maxlen;
        if wrap {
            journal.head = journal.first;
        }
        let start = journal.head;
        self.write_journal_super(journal, start)?;
        if wrap {
            self.cache.flush_device()?;
        }
        // 3. Descriptors and copies, one descriptor's worth at a time.
        let mut position = start;
        let mut chunk = Vec::with_capacity((per + 1) * block_size);
        for group in blocks.chunks(per) {
            chunk.clear();
            chunk.resize(block_size, 0);
            put_header(&mut chunk, BLOCKTYPE_DESCRIPTOR, journal.sequence);
            let mut offset = HEADER_SIZE;
            for (i, &block) in group.iter().enumerate() {
                let data = self.cache.peek(block).unwrap_or(&[]);
                let escaped = data.len() >= 4 && get_be32(data, 0) == JBD2_MAGIC;
                let mut flags = if escaped { TAG_ESCAPE } else { 0 };
                if i > 0 {
                    flags |= TAG_SAME_UUID;
                }
                if i + 1 == group.len() {
                    flags |= TAG_LAST;
                }
                put_be32(&mut chunk, offset, block as u32);
                put_be16(&mut chunk, offset + 6, flags);
                offset += TAG_SIZE;
                if i == 0 {
                    chunk[offset..offset + UUID_SIZE].copy_from_slice(&journal.uuid);
                    offset += UUID_SIZE;
                }
            }
            for &block in group {
                let at = chunk.len();
                match self.cache.peek(block) {
                    Some(data) => chunk.extend_from_slice(data),
                    None => {
                        return Err(FsError::corrupt("held block left the cache", block));
                    }
                }
                if get_be32(&chunk, at) == JBD2_MAGIC {
                    put_be32(&mut chunk, at, 0);
                }
            }
            self.write_log(journal, position, &chunk)?;
            position += group.len() as u32 + 1;
        }
        self.cache.flush_device()?;
        // 4. The commit block: the commit point.
        chunk.clear();
        chunk.resize(block_size, 0);
        put_header(&mut chunk, BLOCKTYPE_COMMIT, journal.sequence);
        put_be32(&mut chunk, 0x30, 0);
        put_be32(&mut chunk, 0x34, self.now);
        self.write_log(journal, position, &chunk)?;
        self.cache.flush_device()?;
        // 5. In place.
        self.cache.release_held();
        self.cache.write_back_all()?;
        journal.head = position + 1;
        journal.sequence = journal.sequence.wrapping_add(1);
        journal.freed.clear();
        journal.stats.commits += 1;
        journal.stats.logged_blocks += blocks.len() as u64;
        Ok(())
    }

    /// Writes whole blocks `data` to the log from journal block `position`
    /// on (no wrap: the caller checked it fits), one device request per run
    /// of physically consecutive blocks.
    fn write_log(&mut self, journal: &Journal, position: u32, data: &[u8]) -> FsResult<()> {
        let block_size = self.sb.block_size;
        let count = data.len() / block_size;
        let mut i = 0;
        while i < count {
            let first = journal.map[position as usize + i];
            let mut run = 1;
            while i + run < count && journal.map[position as usize + i + run] == first + run as u32
            {
                run += 1;
            }
            self.cache
                .write_through(first.into(), &data[i * block_size..(i + run) * block_size])?;
            i += run;
        }
        Ok(())
    }

    /// At unmount: commit, write everything in place, mark the journal
    /// empty and clear `needs_recovery` — the image is then clean for any
    /// ext2 reader.
    ///
    /// # Errors
    /// [`FsError::Cache`].
    pub(super) fn close_journal(&mut self) -> FsResult<()> {
        self.commit()?;
        let Some(mut journal) = self.journal.take() else {
            return Ok(());
        };
        self.cache.flush()?;
        let result = self.write_journal_super(&mut journal, 0);
        self.journal = Some(journal);
        result?;
        self.cache.flush_device()?;
        self.cache.set_journaling(false);
        self.journal = None;
        self.sb.feature_incompat &= !INCOMPAT_RECOVER;
        self.store_superblock()?;
        self.cache.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptor_geometry() {
        assert_eq!(tags_per_descriptor(1024), 124);
        assert_eq!(tags_per_descriptor(4096), 508);
    }

    #[test]
    fn journal_superblocks_with_unknown_features_are_not_used() {
        let mut bytes = vec![0u8; 1024];
        put_be32(&mut bytes, 0, JBD2_MAGIC);
        put_be32(&mut bytes, 4, BLOCKTYPE_SUPERBLOCK_V2);
        put_be32(&mut bytes, 12, 1024);
        put_be32(&mut bytes, 16, 1024);
        put_be32(&mut bytes, 20, 1);
        put_be32(&mut bytes, 24, 7);
        assert_eq!(JournalSuper::parse(&bytes, 1024).unwrap().sequence, 7);
        assert!(JournalSuper::parse(&bytes, 4096).is_err());
        for (offset, bit, reason) in [
            (40, 0x10, "journal checksums"),
            (40, 0x2, "64-bit journal"),
            (40, 0x4, "asynchronous commits"),
            (36, 0x1, "journal checksums (v1)"),
        ] {
            let mut bad = bytes.clone();
            put_be32(&mut bad, offset, bit);
            assert_eq!(JournalSuper::parse(&bad, 1024).unwrap_err(), reason);
        }
        let mut bad = bytes.clone();
        put_be32(&mut bad, 28, 5000);
        assert!(JournalSuper::parse(&bad, 1024).is_err());
        let mut bad = bytes;
        put_be32(&mut bad, 0, 0);
        assert!(JournalSuper::parse(&bad, 1024).is_err());
    }
}
