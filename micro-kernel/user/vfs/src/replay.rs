//! The replay log: the requests vfs sent the fs server whose changes are
//! not committed to the journal yet, kept to be sent again to a new copy of
//! the fs server if this one crashes (`docs/fault-isolation.md`).
//!
//! The fs server commits in groups (every 5 s, or when a transaction is
//! full): a crash loses the running transaction with the buffer cache —
//! changes fs has answered, and vfs and its clients rely on (a file
//! created, its inode number in an open file). The reply to every logged
//! request (`FsRequest::is_logged`) says which transaction holds its
//! changes and below which number every transaction is committed
//! (`JournalPosition`), so vfs keeps exactly those not committed yet,
//! in order, with their answers. A new copy mounts the disk — the journal's
//! recovery replays the committed transactions — and gets them again: the
//! same code, on the same committed state, in the same order, gives the
//! same answers (the host test
//! `requests_of_a_lost_transaction_sent_again_get_the_same_answers` in
//! `common/tests/ext2_tools.rs` checks the claim), and an answer that
//! differs is reported.
//!
//! Inode references (`OpenInode`, `ReleaseInode`) live only in the fs
//! server's memory, and decide whether an unlinked inode is freed at once
//! or when its last reference goes. So the new copy must hold, when the
//! first request is sent again, the references the old one held then:
//! [`ReplayLog::held_before`] finds them from those vfs holds now, undoing
//! the references the log's requests took and gave back.
//!
//! The log is bounded: in ext3's ordered mode a file's data is written in
//! place at the commit, not into the journal, so a transaction may hold
//! any amount of it — but vfs keeps a copy. When the log holds
//! [`MAX_BYTES`] of data or [`MAX_ENTRIES`] requests, vfs asks fs to commit
//! (`Sync`), which empties it ([`ReplayLog::is_full`]).
//!
//! Invariants: entries are in the order their requests were answered, so
//! their transactions never decrease (fs numbers transactions in order);
//! every entry's transaction is at least the last `committed_below` seen;
//! `bytes` is the sum of the entries' bytes.

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use common::abi::errno::Errno;
use common::abi::proto::fs::FsOp;
use common::abi::proto::{MAX_WORDS, Wire};

/// One request whose changes are not committed yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    /// The request's label (an `FsOp`).
    pub label: u64,
    words: [u64; MAX_WORDS],
    word_count: usize,
    /// Its byte items (a name, a path, written data), copied.
    items: Vec<Vec<u8>>,
    /// The transaction holding its changes.
    pub transaction: u64,
    /// What fs answered: the reply's own words (without the journal
    /// position), or the error.
    pub answer: Result<Vec<u64>, Errno>,
}

impl Logged {
    /// A copy of the request `wire`, answered with `answer`, whose changes
    /// are in `transaction`.
    pub fn new(wire: &Wire<'_>, transaction: u64, answer: Result<Vec<u64>, Errno>) -> Logged {
        let mut words = [0; MAX_WORDS];
        let word_count = wire.word_count.min(MAX_WORDS);
        words[..word_count].copy_from_slice(&wire.words[..word_count]);
        let items = (0..wire.item_count)
            .filter_map(|n| wire.item(n).ok())
            .map(<[u8]>::to_vec)
            .collect();
        Logged {
            label: wire.label,
            words,
            word_count,
            items,
            transaction,
            answer,
        }
    }

    /// The request again, as a message.
    pub fn wire(&self) -> Wire<'_> {
        let mut wire = Wire::new(self.label, &self.words[..self.word_count]);
        for item in &self.items {
            wire = wire.with_bytes(item);
        }
        wire
    }

    /// The inode an `OpenInode` (`+1`) or `ReleaseInode` (`-1`) request
    /// takes or gives back a reference to.
    fn reference(&self) -> Option<(u32, i32)> {
        let ino = u32::try_from(*self.words.first()?).ok()?;
        match FsOp::from_label(self.label)? {
            FsOp::OpenInode => Some((ino, 1)),
            FsOp::ReleaseInode => Some((ino, -1)),
            _ => None,
        }
    }

    /// Bytes it keeps.
    fn bytes(&self) -> usize {
        self.items.iter().map(Vec::len).sum()
    }
}

/// Bytes of request data the log may hold before vfs asks for a commit.
pub const MAX_BYTES: usize = 8 << 20;

/// Requests the log may hold before vfs asks for a commit.
pub const MAX_ENTRIES: usize = 16384;

/// The requests whose changes are not committed yet, in order.
#[derive(Debug, Default)]
pub struct ReplayLog {
    entries: VecDeque<Logged>,
    /// The entries' bytes, summed.
    bytes: usize,
}

impl ReplayLog {
    /// An empty log.
    pub fn new() -> ReplayLog {
        ReplayLog::default()
    }

    /// Every transaction below `committed_below` is on the disk: their
    /// requests are forgotten.
    /// The committed ones are at the front (transactions never decrease),
    /// so this costs one comparison when nothing was committed.
    pub fn committed_below(&mut self, committed_below: u64) {
        while let Some(oldest) = self.entries.front()
            && oldest.transaction < committed_below
        {
            self.bytes -= oldest.bytes();
            self.entries.pop_front();
        }
    }

    /// Adds a request answered just now.
    pub fn record(&mut self, entry: Logged) {
        self.bytes += entry.bytes();
        self.entries.push_back(entry);
    }

    /// Takes every entry out, in order (to send them again).
    pub fn take(&mut self) -> Vec<Logged> {
        self.bytes = 0;
        self.entries.drain(..).collect()
    }

    /// Whether the log holds [`MAX_BYTES`] or [`MAX_ENTRIES`]: time to ask
    /// fs for a commit.
    pub fn is_full(&self) -> bool {
        self.bytes >= MAX_BYTES || self.entries.len() >= MAX_ENTRIES
    }

    /// How many requests it keeps.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it keeps none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Bytes of data it keeps.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The inode references held before the first kept request, given
    /// those held now (one entry per reference): the references the kept
    /// `OpenInode` requests took are taken out, those the kept
    /// `ReleaseInode` requests gave back are put back.
    pub fn held_before(&self, mut held_now: Vec<u32>) -> Vec<u32> {
        for entry in self.entries.iter().rev() {
            if entry.answer.is_err() {
                continue; // it changed no reference
            }
            match entry.reference() {
                Some((ino, 1)) => {
                    if let Some(at) = held_now.iter().position(|&held| held == ino) {
                        held_now.swap_remove(at);
                    }
                }
                Some((ino, _)) => held_now.push(ino),
                None => {}
            }
        }
        held_now
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::abi::proto::fs::FsRequest;

    fn logged(request: FsRequest<'_>, transaction: u64) -> Logged {
        Logged::new(&request.to_wire(), transaction, Ok(Vec::new()))
    }

    #[test]
    fn committed_transactions_are_forgotten() {
        let mut log = ReplayLog::new();
        log.record(logged(FsRequest::Create { dir: 2, name: b"a" }, 7));
        log.record(logged(
            FsRequest::Write {
                ino: 12,
                offset: 0,
                append: false,
                data: b"hello",
            },
            8,
        ));
        assert_eq!((log.len(), log.bytes()), (2, 6));
        log.committed_below(8);
        assert_eq!(log.len(), 1);
        let kept = log.take();
        assert_eq!(
            FsRequest::from_wire(&kept[0].wire()),
            Ok(FsRequest::Write {
                ino: 12,
                offset: 0,
                append: false,
                data: b"hello",
            })
        );
        assert!(log.is_empty());
        assert_eq!(log.bytes(), 0);
    }

    #[test]
    fn a_full_log_asks_for_a_commit() {
        let mut log = ReplayLog::new();
        let data = alloc::vec![7u8; 4096];
        let write = FsRequest::Write {
            ino: 12,
            offset: 0,
            append: true,
            data: &data,
        };
        while !log.is_full() {
            log.record(logged(write, 4));
        }
        assert_eq!(log.len(), MAX_BYTES / 4096);
        log.committed_below(4);
        assert!(log.is_full(), "transaction 4 is not committed yet");
        log.committed_below(5);
        assert!(!log.is_full() && log.is_empty());
        assert_eq!(log.bytes(), 0);
        for _ in 0..MAX_ENTRIES {
            log.record(logged(FsRequest::Sync, 5));
        }
        assert!(log.is_full(), "by the number of requests");
    }

    #[test]
    fn references_before_the_log_are_found_from_those_now() {
        let mut log = ReplayLog::new();
        // Held then: 5 and 9. The log opens 12, releases 9, opens 5 again,
        // and fails to open 30.
        log.record(logged(FsRequest::OpenInode { ino: 12 }, 3));
        log.record(logged(FsRequest::ReleaseInode { ino: 9 }, 3));
        log.record(logged(FsRequest::OpenInode { ino: 5 }, 3));
        log.record(Logged::new(
            &FsRequest::OpenInode { ino: 30 }.to_wire(),
            3,
            Err(Errno::EINVAL),
        ));
        let mut then = log.held_before(alloc::vec![5, 12, 5]);
        then.sort_unstable();
        assert_eq!(then, [5, 9]);
    }
}
