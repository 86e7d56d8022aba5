//! Disk-exhaustion tests: fill the disk (or the inode table) until the file
//! system says ENOSPC, check that it still works, then clean up and check
//! that the space came back. They are slow (`usertests -q` skips them).
//!
//! The disk image is about 32 MiB, so filling it writes tens of megabytes.

use super::util::{Context, remove, write_file};
use super::{Test, TestResult};
use crate::ensure;
use alloc::format;
use alloc::string::String;
use ulib::{Errno, O_CREATE, O_WRONLY, close, mkdir, open, unlink, write};

pub const TESTS: &[Test] = &[
    Test::slow("diskfull", diskfull),
    Test::slow("outofinodes", outofinodes),
];

/// Bytes per `write` while filling the disk (few, large calls keep the
/// test fast under QEMU).
const CHUNK: usize = 8 * 1024;
/// Chunks per file: files of 1 MiB, so ext2's per-file limits are never
/// what stops us.
const CHUNKS_PER_FILE: usize = 128;
/// More files than a 32 MiB disk can hold, as a safety stop.
const MAX_FILES: usize = 200;

fn diskfull() -> TestResult {
    let name = |i: usize| format!("ut-full{i}");
    let chunk = alloc::vec![0x42u8; CHUNK];
    let mut files = 0;
    let mut full = false;
    'filling: while files < MAX_FILES {
        let fd = match open(&name(files), O_CREATE | O_WRONLY) {
            Ok(fd) => fd,
            Err(Errno::ENOSPC) => {
                full = true;
                break;
            }
            Err(e) => return Err(format!("create while filling: {}", e.message())),
        };
        files += 1;
        for _ in 0..CHUNKS_PER_FILE {
            match write(fd, &chunk) {
                Ok(n) if n == chunk.len() => {}
                Ok(_) | Err(Errno::ENOSPC) => {
                    full = true;
                    let _ = close(fd);
                    break 'filling;
                }
                Err(e) => {
                    let _ = close(fd);
                    return Err(format!("write while filling: {}", e.message()));
                }
            }
        }
        close(fd).context("close")?;
    }
    // While full: small operations fail cleanly or succeed; nothing breaks.
    let mut result: TestResult = if full {
        Ok(())
    } else {
        Err(String::from("wrote 200 MiB without the disk filling up"))
    };
    let _ = mkdir("ut-full-dir");
    let _ = unlink("ut-full-dir");
    for i in 0..files {
        if let Err(e) = unlink(&name(i)).context("unlink") {
            result = result.and(Err(e));
        }
    }
    result?;
    // The space is back: a 200 KiB file fits again.
    let path = "ut-full-after";
    let data = alloc::vec![7u8; 200 * 1024];
    let written = write_file(path, &data);
    remove(path);
    written.map_err(|e| format!("after cleaning up: {e}"))
}

/// Files per directory while using up inodes: short directories keep each
/// name lookup cheap.
const FILES_PER_DIR: usize = 128;

fn outofinodes() -> TestResult {
    const LIMIT: usize = 100_000;
    mkdir("ut-inodes").context("mkdir")?;
    let dir = |i: usize| format!("ut-inodes/{}", i / FILES_PER_DIR);
    let name = |i: usize| format!("ut-inodes/{}/{}", i / FILES_PER_DIR, i % FILES_PER_DIR);
    // Number of files created so far.
    let mut created = 0;
    let mut error = None;
    while created < LIMIT {
        if created % FILES_PER_DIR == 0
            && let Err(e) = mkdir(&dir(created))
        {
            error = Some(e);
            break;
        }
        match open(&name(created), O_CREATE | O_WRONLY) {
            Ok(fd) => {
                close(fd).context("close")?;
                created += 1;
            }
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    let mut result = match error {
        Some(Errno::ENOSPC) => Ok(()),
        Some(e) => Err(format!(
            "creating file {} failed with {:?}, expected ENOSPC",
            created, e
        )),
        None => Err(format!(
            "created {LIMIT} files without running out of inodes"
        )),
    };
    for i in 0..created {
        if let Err(e) = unlink(&name(i)).context("unlink") {
            result = result.and(Err(e));
            break;
        }
    }
    for i in (0..=created).step_by(FILES_PER_DIR) {
        remove(&dir(i));
    }
    if let Err(e) = unlink("ut-inodes").context("unlink ut-inodes") {
        result = result.and(Err(e));
    }
    result?;
    ensure!(created > 100, "only {} files fit", created);
    // The inodes are back.
    let path = "ut-inodes-after";
    let written = write_file(path, b"x");
    remove(path);
    written.map_err(|e| format!("after cleaning up: {e}"))
}
