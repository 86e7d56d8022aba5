//! The root file system: the shared ext2 code over the ATA disk, behind
//! one sleep lock.
//!
//! Every file-system call in the kernel is `fsys::lock()` followed by
//! ordinary method calls on `Ext2` (from `common/src/fs/`). The lock makes
//! the calls of different processes take turns, so the shared code can stay
//! single-threaded, exactly as it runs inside the microkernel's fs server.

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

/// Every file-system call ends by writing its changes to the disk
/// (`Ext2::sync` writes only dirty blocks), so a machine switched off
/// between two calls leaves a consistent disk: `e2fsck -fn` finds it clean.
/// (A crash *during* a call can still leave it inconsistent: there is no
/// journal, as in xv6 before its logging layer.)
impl Drop for FsGuard {
    fn drop(&mut self) {
        if let Some(fs) = self.guard.as_mut()
            && let Err(error) = fs.sync()
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
