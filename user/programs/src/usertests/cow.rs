//! Copy-on-write fork (the `cow` lab, `labs/cow/handout.md`): after `fork`
//! parent and child share their pages until one of them writes.
//!
//! What a program can observe, and these tests check on both kernels:
//! each side sees only its own writes; `fork` of a large process takes
//! few free pages (`freemem`), and writing the pages takes them; a system
//! call may write into a shared page (`read` into it); every page comes
//! back when the processes exit, in whatever order.

use super::util::{Context, expect_child_ok, in_child, spawn};
use super::{Test, TestResult};
use crate::ensure;
use alloc::vec::Vec;
use ulib::{close, exit, freemem, pipe, read, sbrk, wait, write};

pub const TESTS: &[Test] = &[
    Test::quick("cow_fork_shares_until_write", cow_fork_shares_until_write),
    Test::quick("cow_free_memory", cow_free_memory),
    Test::quick("cow_fork_big", cow_fork_big),
    Test::quick(
        "cow_last_writer_keeps_its_page",
        cow_last_writer_keeps_its_page,
    ),
    // LAB cow BEGIN
    Test::quick("cow_read_into_shared_page", cow_read_into_shared_page),
    // LAB cow STUB
    // LAB cow END
    Test::quick("cow_many_children", cow_many_children),
    Test::quick("cow_exit_frees", cow_exit_frees),
];

const PAGE: usize = 4096;

/// Fresh heap pages, every byte set (so they really exist, on both kernels).
fn heap_pages(pages: usize, fill: u8) -> Result<&'static mut [u8], alloc::string::String> {
    // SAFETY: growing only; the memory is ours for the rest of the test.
    let memory = unsafe { sbrk((pages * PAGE) as isize) }.context("sbrk")?;
    // SAFETY: just given to us; nothing else refers to it.
    let bytes = unsafe { core::slice::from_raw_parts_mut(memory, pages * PAGE) };
    bytes.fill(fill);
    Ok(bytes)
}

/// Writes one byte in every page of `bytes` (each page becomes the
/// writer's own).
fn touch_every_page(bytes: &mut [u8], value: u8) {
    for page in bytes.chunks_mut(PAGE) {
        // A volatile write: the compiler must not skip or merge it.
        // SAFETY: `page` is a live, writable slice.
        unsafe { core::ptr::write_volatile(page.as_mut_ptr(), value) };
    }
}

fn free_pages() -> Result<u64, alloc::string::String> {
    freemem().context("freemem")
}

/// Each side of a fork sees its own writes, and only those: the parent
/// writes while the child waits, then the child looks and writes.
fn cow_fork_shares_until_write() -> TestResult {
    let memory = heap_pages(4, b'A')?;
    let (ready_read, ready_write) = pipe().context("pipe")?;
    let address = memory.as_mut_ptr() as u64;
    let child = spawn(|| {
        let _ = close(ready_write);
        let mut byte = [0u8; 1];
        if read(ready_read, &mut byte) != Ok(1) {
            return 1;
        }
        // SAFETY: the child's copy of the parent's heap.
        let mine = unsafe { core::slice::from_raw_parts_mut(address as *mut u8, 4 * PAGE) };
        if mine.iter().any(|&b| b != b'A') {
            return 2; // saw the parent's write, or lost the contents
        }
        mine.fill(b'B');
        if mine.iter().any(|&b| b != b'B') {
            return 3;
        }
        0
    })?;
    let _ = close(ready_read);
    memory[..2 * PAGE].fill(b'C');
    write(ready_write, b"!").context("write to the child")?;
    let _ = close(ready_write);
    let (pid, status) = wait().context("wait")?;
    ensure!(pid == child, "wait returned {}, expected {}", pid, child);
    ensure!(
        status == 0,
        "the child failed with {} (2: it saw the parent's write after fork)",
        status
    );
    ensure!(
        memory[..2 * PAGE].iter().all(|&b| b == b'C'),
        "the parent lost its own write"
    );
    ensure!(
        memory[2 * PAGE..].iter().all(|&b| b == b'A'),
        "the child's write changed the parent's memory"
    );
    Ok(())
}

/// `fork` of a process with 1 MiB of heap takes few pages until the child
/// writes; writing takes a page per page written.
fn cow_free_memory() -> TestResult {
    const PAGES: usize = 256;
    let memory = heap_pages(PAGES, 1)?;
    let address = memory.as_mut_ptr() as u64;
    let before = free_pages()?;
    let status = in_child(|| {
        let after_fork = free_pages().unwrap_or(0);
        // Page tables, a stack page or two: far fewer than the heap's 256.
        if before.saturating_sub(after_fork) >= PAGES as u64 / 2 {
            return 2;
        }
        // SAFETY: the child's copy of the parent's heap.
        let mine = unsafe { core::slice::from_raw_parts_mut(address as *mut u8, PAGES * PAGE) };
        touch_every_page(mine, 2);
        let after_writes = free_pages().unwrap_or(u64::MAX);
        if after_fork.saturating_sub(after_writes) < PAGES as u64 - 8 {
            return 3; // the writes did not copy: someone else's page?
        }
        0
    })?;
    ensure!(
        status != 2,
        "fork took {} pages or more for a 256-page heap (copied instead of shared?)",
        PAGES / 2
    );
    ensure!(
        status != 3,
        "writing 256 shared pages did not take 256 pages"
    );
    ensure!(status == 0, "the child exited with {}", status);
    ensure!(
        memory.chunks(PAGE).all(|page| page[0] == 1),
        "the child's writes reached the parent"
    );
    Ok(())
}

/// A process holding three quarters of the free memory can still fork:
/// the child shares that memory (an eager copy would need as much again,
/// and fail with `ENOMEM`); only page tables are new.
fn cow_fork_big() -> TestResult {
    let status = in_child(|| {
        let Ok(free) = freemem() else {
            return 4;
        };
        let want = (free as usize * 3 / 4) * PAGE;
        let chunk = 64 * PAGE;
        let mut taken = 0usize;
        while taken < want {
            // SAFETY: growing only.
            let Ok(memory) = (unsafe { sbrk(chunk as isize) }) else {
                break;
            };
            // SAFETY: just given to us.
            unsafe { core::ptr::write_volatile(memory, 1) };
            taken += chunk;
        }
        if taken < want / 2 {
            return 1; // not a big process: the test would prove nothing
        }
        match ulib::fork() {
            Ok(ulib::ForkResult::Child) => exit(0),
            Ok(ulib::ForkResult::Parent(_)) => match wait() {
                Ok((_, 0)) => 0,
                _ => 3,
            },
            Err(_) => 2,
        }
    })?;
    ensure!(status != 1, "could not take the memory with sbrk");
    ensure!(
        status != 2,
        "fork of a process holding 3/4 of the free memory failed (copied instead of shared?)"
    );
    ensure!(status == 0, "the big process's child failed ({})", status);
    Ok(())
}

/// When the other side has exited, the last holder of a shared page
/// writes it without a copy (it is its own again), and without losing it.
fn cow_last_writer_keeps_its_page() -> TestResult {
    const PAGES: usize = 128;
    let memory = heap_pages(PAGES, 5)?;
    let status = in_child(|| 0)?; // shares everything, then lets go
    ensure!(status == 0, "the child exited with {}", status);
    let before = free_pages()?;
    touch_every_page(memory, 6);
    let after = free_pages()?;
    ensure!(
        before.saturating_sub(after) < 16,
        "writing pages nobody else holds took {} pages (copied the last holder's pages?)",
        before.saturating_sub(after)
    );
    ensure!(
        memory
            .chunks(PAGE)
            .all(|page| page[0] == 6 && page[1..].iter().all(|&b| b == 5)),
        "the pages lost their contents"
    );
    Ok(())
}

// LAB cow BEGIN
use super::util::{pattern_byte, remove, write_file};
use ulib::{O_RDONLY, open};

/// A system call writes into a page the child shares with its parent:
/// `read` into it, across a page boundary, must copy the page first; and
/// so must `sysinfo` into a shared page the child has already read (on the
/// micro-kernel proc writes that one itself, and the child's read-only
/// mapping of the old frame must not survive the copy).
fn cow_read_into_shared_page() -> TestResult {
    let path = "ut-cowread";
    let data: Vec<u8> = (0..PAGE + 100).map(|i| pattern_byte(7, i)).collect();
    write_file(path, &data)?;
    let memory = heap_pages(3, b'P')?;
    let address = memory.as_mut_ptr() as u64;
    let status = in_child(|| {
        let fd = match open(path, O_RDONLY) {
            Ok(fd) => fd,
            Err(_) => return 1,
        };
        // From the middle of the first page into the third.
        // SAFETY: the child's copy of the parent's heap.
        let target =
            unsafe { core::slice::from_raw_parts_mut((address + 2000) as *mut u8, data.len()) };
        let n = read(fd, target);
        let _ = close(fd);
        if n != Ok(data.len()) {
            return 2;
        }
        if target[..] != data[..] {
            return 3;
        }
        // The third page: shared, and mapped (read) by the child first.
        let info_address = address + 2 * PAGE as u64;
        // SAFETY: the child's copy of the parent's heap, read before any
        // system call writes it.
        if unsafe { core::ptr::read_volatile(info_address as *const u8) } != b'P' {
            return 4;
        }
        let info = info_address as *mut ulib::SysInfo;
        // SAFETY: a heap page of this process, writable, large enough.
        if unsafe { ulib::sys::sysinfo(info) }.is_err() {
            return 5;
        }
        // SAFETY: just written by sysinfo; volatile, so the child reads
        // the page as mapped now, not a value the compiler kept.
        let got = unsafe { core::ptr::read_volatile(info) };
        // The old frame holds b'P' bytes: as a count, far too many.
        if !(2..=1000).contains(&got.nproc) || got.freemem == 0 {
            return 6; // still the old frame's bytes: a stale mapping
        }
        0
    })?;
    remove(path);
    ensure!(
        status != 2,
        "read into a page shared since fork failed or was short"
    );
    ensure!(
        status != 3,
        "read into a shared page stored the wrong bytes"
    );
    ensure!(status != 5, "sysinfo into a page shared since fork failed");
    ensure!(
        status != 6,
        "after sysinfo into a shared page the child still saw the old bytes \
         (a stale mapping of the frame it shared?)"
    );
    ensure!(status == 0, "the child exited with {}", status);
    ensure!(
        memory.iter().all(|&b| b == b'P'),
        "the child's read or sysinfo changed the parent's memory"
    );
    Ok(())
}
// LAB cow STUB
// LAB cow END

/// Many children share the parent's pages at once; each writes its own
/// number and sees only that.
fn cow_many_children() -> TestResult {
    const CHILDREN: u8 = 20;
    const PAGES: usize = 16;
    let memory = heap_pages(PAGES, 0xee)?;
    let address = memory.as_mut_ptr() as u64;
    // Allocated first: the heap may grow for it, which is not a leak.
    let mut children = Vec::with_capacity(CHILDREN as usize);
    let before = free_pages()?;
    let (go_read, go_write) = pipe().context("pipe")?;
    for id in 0..CHILDREN {
        let pid = spawn(move || {
            let _ = close(go_write);
            // SAFETY: this child's copy of the parent's heap.
            let mine = unsafe { core::slice::from_raw_parts_mut(address as *mut u8, PAGES * PAGE) };
            if mine.iter().any(|&b| b != 0xee) {
                return 1;
            }
            // Wait until every child exists, so that all share at once.
            let mut byte = [0u8; 1];
            let _ = read(go_read, &mut byte);
            mine.fill(id);
            ulib::sleep(1).ok();
            if mine.iter().any(|&b| b != id) {
                return 2; // another child's write showed through
            }
            0
        });
        match pid {
            Ok(pid) => children.push(pid),
            Err(error) => {
                let _ = close(go_write);
                while wait().is_ok() {}
                return Err(error);
            }
        }
    }
    let _ = close(go_read);
    let _ = close(go_write); // every child reads end of file: go
    let mut failures = 0;
    for _ in 0..children.len() {
        let (_, status) = wait().context("wait")?;
        if status != 0 {
            failures += 1;
        }
    }
    ensure!(
        failures == 0,
        "{} of {} children failed",
        failures,
        CHILDREN
    );
    ensure!(
        memory.iter().all(|&b| b == 0xee),
        "a child's write reached the parent"
    );
    let after = free_pages()?;
    ensure!(
        after >= before,
        "{} pages were not freed after the children exited",
        before - after
    );
    Ok(())
}

/// Every page comes back: after a child that wrote half of the shared
/// pages, and after a parent that exits while its child still shares its
/// pages (the child, adopted by init, outlives it).
fn cow_exit_frees() -> TestResult {
    const PAGES: usize = 64;
    let memory = heap_pages(PAGES, 3)?;
    let address = memory.as_mut_ptr() as u64;
    let before = free_pages()?;
    expect_child_ok("a child that writes half of the pages", || {
        // SAFETY: the child's copy of the parent's heap.
        let mine = unsafe { core::slice::from_raw_parts_mut(address as *mut u8, PAGES * PAGE) };
        touch_every_page(&mut mine[..PAGES / 2 * PAGE], 4);
        0
    })?;
    let after = free_pages()?;
    ensure!(
        after >= before,
        "{} pages lost after a child wrote shared pages and exited",
        before - after
    );
    // Parent (the middle process) first, child second.
    let (done_read, done_write) = pipe().context("pipe")?;
    expect_child_ok("a parent that exits before its child", || {
        match ulib::fork() {
            Ok(ulib::ForkResult::Child) => {
                let _ = close(done_read);
                ulib::sleep(2).ok(); // let the parent exit first
                // SAFETY: the grandchild's copy of the heap.
                let mine =
                    unsafe { core::slice::from_raw_parts_mut(address as *mut u8, PAGES * PAGE) };
                touch_every_page(mine, 9);
                // `done_write` closes when this process exits, after its
                // memory is freed (on both kernels): the parent's end of
                // file says "freed".
                exit(0)
            }
            Ok(ulib::ForkResult::Parent(_)) => 0,
            Err(_) => 1,
        }
    })?;
    let _ = close(done_write);
    // End of file when the grandchild has exited (its memory is freed by
    // then on both kernels).
    let mut byte = [0u8; 1];
    let _ = read(done_read, &mut byte);
    let _ = close(done_read);
    let after = free_pages()?;
    ensure!(
        after >= before,
        "{} pages lost after a parent exited before the child it shared pages with",
        before - after
    );
    ensure!(
        memory.chunks(PAGE).all(|page| page[0] == 3),
        "another process's writes reached this one"
    );
    Ok(())
}
