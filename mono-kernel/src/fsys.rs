//! The root file system: the shared ext2 code over the ATA disk, behind
//! one sleep lock.
//!
//! Every file-system call in the kernel is `fsys::lock()` followed by
//! ordinary method calls on `Ext2` (from `common/src/fs/`). The lock makes
//! the calls of different processes take turns, so the shared code can stay
//! single-threaded, exactly as it runs inside the microkernel's fs server.
//!
//! ## Group commit: who calls the journal's clock
//!
//! On an ext3 image the shared code journals metadata and commits a
//! running transaction when it is full, on `sync`/`fsync`, or when
//! [`Ext2::tick`] finds it older than the commit interval (5 s). Time is an
//! input, passed in milliseconds from the timer's tick count, at three
//! places: when a file-system call lets go of the lock (`Ext2::end_op`);
//! from the timer interrupt of a running user program; and from the
//! scheduler's idle loop — there the disk is waited for with `hlt` (no
//! process to put to sleep), so an idle machine still commits on time.
//! Both of the last two take the lock only if it is free ([`commit_if_due`]).

use crate::disk::AtaDisk;
use crate::global::Global;
use crate::sleeplock::{SleepLock, SleepLockGuard};
use alloc::format;
use alloc::string::String;
use common::abi::errno::Errno;
use common::fs::{Ext2, FsError, Ino};

/// Buffer-cache size in file-system blocks (1 KiB each on our images).
const CACHE_BLOCKS: usize = 512;

static ROOT_FS: Global<SleepLock<Option<Ext2<AtaDisk>>>> = Global::new(SleepLock::new(None));

/// Mounts the root file system from the primary IDE disk. Returns a
/// description of the problem if there is no usable disk.
pub fn mount_root() -> Result<(), String> {
    let disk =
        AtaDisk::probe().ok_or_else(|| String::from("no ATA disk on the primary IDE channel"))?;
    let fs = Ext2::mount(disk, CACHE_BLOCKS).map_err(|error: FsError| format!("{error}"))?;
    common::kprintln!("fs: {}", fs.journal_status());
    *ROOT_FS.lock() = Some(fs);
    Ok(())
}

/// Holds inode `ino` for the kernel (a process's working directory): while
/// held it is not freed, even if its last name is removed, so its number is
/// not given to a new file under the process's feet.
pub fn hold_inode(ino: Ino) -> Result<(), Errno> {
    lock().fs().open_inode(ino).map_err(|error| error.errno())
}

/// Drops a hold taken with [`hold_inode`], freeing the inode if it has no
/// names left. An error (a reference the file system does not know of)
/// would be a kernel bug; it is reported, not fatal.
pub fn release_inode(ino: Ino, what: &str) {
    if let Err(error) = lock().fs().release_inode(ino) {
        common::kprintln!("{what}: releasing inode {ino}: {error}");
    }
}

/// Takes the file-system lock (sleeping while another process holds it).
pub fn lock() -> FsGuard {
    FsGuard {
        guard: ROOT_FS.lock(),
    }
}

/// The locked file system.
pub struct FsGuard {
    guard: SleepLockGuard<'static, Option<Ext2<AtaDisk>>>,
}

/// The kernel's clock for the journal, in milliseconds (10 ms ticks).
fn now_ms() -> u64 {
    crate::sched::ticks().saturating_mul(10)
}

/// Commits the journal's running transaction if it is due, when the
/// file-system lock is free (from the timer and the idle loop).
pub fn commit_if_due() {
    let Some(mut guard) = ROOT_FS.try_lock() else {
        return;
    };
    if let Some(fs) = guard.as_mut()
        && fs.commit_pending()
        && let Err(error) = fs.tick(now_ms())
    {
        common::kprintln!("fs: committing the journal failed: {error}");
    }
}

/// Every file-system call ends with `Ext2::end_op`: on an ext3 image the
/// journal's group-commit clock (a power cut at any moment leaves a
/// consistent disk: `e2fsck` replays the journal); on an ext2 image a
/// write-back of every change, so a machine switched off *between* two
/// calls leaves a consistent disk (a cut *during* one may not: no journal).
impl Drop for FsGuard {
    fn drop(&mut self) {
        if let Some(fs) = self.guard.as_mut()
            && let Err(error) = fs.end_op(now_ms())
        {
            common::kprintln!("fs: writing changes to the disk failed: {error}");
        }
    }
}

impl FsGuard {
    /// The mounted file system. System calls run only after `mount_root`
    /// succeeded (main.rs stops otherwise), so it is always there.
    pub fn fs(&mut self) -> &mut Ext2<AtaDisk> {
        self.guard
            .as_mut()
            .expect("root file system mounted at boot")
    }
}
