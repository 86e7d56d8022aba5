//! Memory tests: sbrk, bad user pointers, memory protection, running out.
//!
//! The kernel must (a) grow and shrink the heap exactly as asked, (b) refuse
//! bad pointers handed to system calls with `EFAULT` instead of crashing or
//! reading its own memory, and (c) kill a process that touches memory it
//! does not own (unmapped pages, kernel memory, non-canonical addresses) or
//! writes memory that is read-only (its own code and constants).

use super::util::{Context, expect_child_ok, expect_errno, expect_killed, expect_one_of, in_child};
use super::{Test, TestResult};
use crate::ensure;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU8, AtomicU32, Ordering};
use ulib::{Errno, O_CREATE, O_RDONLY, O_RDWR, USER_TOP, close, open, sbrk, sys, unlink};

pub const TESTS: &[Test] = &[
    Test::quick("sbrk_grow", sbrk_grow),
    Test::quick("sbrk_many_small", sbrk_many_small),
    Test::quick("sbrk_shrink", sbrk_shrink),
    Test::quick("sbrk_huge_fails", sbrk_huge_fails),
    Test::quick("sbrk_shrink_too_far", sbrk_shrink_too_far),
    Test::quick("beyond_break_faults", beyond_break_faults),
    Test::quick("sbrk_memory_as_buffer", sbrk_memory_as_buffer),
    Test::quick("sbrk_fork_copies", sbrk_fork_copies),
    Test::quick("rwsbrk", rwsbrk),
    Test::quick("out_of_memory_sbrk", out_of_memory_sbrk),
    Test::quick("out_of_memory_heap", out_of_memory_heap),
    Test::quick("kernmem_read", kernmem_read),
    Test::quick("kernmem_write", kernmem_write),
    Test::quick("noncanonical", noncanonical),
    Test::quick("null_page", null_page),
    Test::quick("text_write", text_write),
    Test::quick("rodata_write", rodata_write),
    Test::quick("stack_overflow", stack_overflow),
    Test::quick("stack_64k", stack_64k),
    Test::quick("bss_zero", bss_zero),
    Test::quick("copyin_bad", copyin_bad),
    Test::quick("copyout_bad", copyout_bad),
    Test::quick("copyinstr_bad", copyinstr_bad),
];

const PAGE: u64 = 4096;

/// Addresses in the kernel's half of the address space.
const KERNEL_ADDRESSES: [u64; 3] = [
    0xffff_ffff_8000_0000,
    0xffff_ffff_8010_0000,
    0xffff_8000_0000_0000,
];
/// Addresses that are not canonical (bits 63..47 not all equal): the CPU
/// raises a general-protection fault, not a page fault.
const NONCANONICAL_ADDRESSES: [u64; 2] = [0x0000_8000_0000_0000, 0x1234_5678_9abc_def0];

/// The current program break.
fn current_break() -> Result<u64, alloc::string::String> {
    // SAFETY: sbrk(0) changes nothing.
    unsafe { sbrk(0) }.map(|p| p as u64).context("sbrk(0)")
}

fn round_up_to_page(address: u64) -> u64 {
    address.div_ceil(PAGE) * PAGE
}

/// Loads one byte from `address` with a plain `mov`.
pub fn probe_read(address: u64) -> u8 {
    let value: u8;
    // SAFETY: deliberately unchecked: the tests call this with addresses the
    // process does not own, expecting the kernel to kill the process at this
    // instruction. The asm reads one byte and touches nothing else; no Rust
    // reference to the address is ever formed.
    unsafe {
        core::arch::asm!("mov {v}, byte ptr [{a}]", a = in(reg) address, v = out(reg_byte) value,
            options(nostack, readonly));
    }
    value
}

/// Stores one byte to `address` with a plain `mov`.
pub fn probe_write(address: u64, value: u8) {
    // SAFETY: as for `probe_read`: the tests expect the kernel to kill the
    // process at this instruction. If it does not, the child process
    // (which is about to exit) is the only thing affected.
    unsafe {
        core::arch::asm!("mov byte ptr [{a}], {v}", a = in(reg) address, v = in(reg_byte) value,
            options(nostack));
    }
}

fn sbrk_grow() -> TestResult {
    let start = current_break()?;
    let size = 10 * PAGE as usize;
    // SAFETY: growing only.
    let memory = unsafe { sbrk(size as isize) }.context("sbrk grow")? as u64;
    ensure!(
        memory == start,
        "sbrk returned {:#x}, the old break was {:#x}",
        memory,
        start
    );
    ensure!(
        current_break()? == start + size as u64,
        "the break did not move by {}",
        size
    );
    // SAFETY: [memory, memory + size) was just given to us by sbrk.
    let bytes = unsafe { core::slice::from_raw_parts_mut(memory as *mut u8, size) };
    ensure!(
        bytes.iter().all(|&b| b == 0),
        "new heap memory is not zeroed"
    );
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = i as u8;
    }
    ensure!(
        bytes.iter().enumerate().all(|(i, &b)| b == i as u8),
        "heap memory lost writes"
    );
    Ok(())
}

fn sbrk_many_small() -> TestResult {
    let start = current_break()?;
    for i in 0..2000u64 {
        let expected = start + i;
        // SAFETY: growing only.
        let p = unsafe { sbrk(1) }.context("sbrk(1)")? as u64;
        ensure!(
            p == expected,
            "sbrk(1) #{} returned {:#x}, expected {:#x}",
            i,
            p,
            expected
        );
        // SAFETY: the byte at p was just given to us.
        unsafe { *(p as *mut u8) = i as u8 };
    }
    Ok(())
}

fn sbrk_shrink() -> TestResult {
    let start = current_break()?;
    let size = 256 * PAGE as isize;
    // SAFETY: growing only.
    let memory = unsafe { sbrk(size) }.context("sbrk grow")?;
    // SAFETY: the memory was just given to us.
    unsafe { core::ptr::write_bytes(memory, 0xab, size as usize) };
    // SAFETY: nothing refers to the memory we give back.
    let old = unsafe { sbrk(-size) }.context("sbrk shrink")? as u64;
    ensure!(old == start + size as u64, "shrinking returned {:#x}", old);
    ensure!(
        current_break()? == start,
        "the break did not return to {:#x}",
        start
    );
    let freed_page = round_up_to_page(start);
    expect_killed("reading a page freed by sbrk", || {
        probe_read(freed_page);
    })?;
    // Growing again must give zeroed memory, not the old contents.
    // SAFETY: growing only.
    let again = unsafe { sbrk(size) }.context("sbrk grow again")?;
    // SAFETY: just given to us.
    let bytes = unsafe { core::slice::from_raw_parts(again, size as usize) };
    ensure!(
        bytes.iter().all(|&b| b == 0),
        "re-grown heap memory is not zeroed"
    );
    Ok(())
}

fn sbrk_huge_fails() -> TestResult {
    let start = current_break()?;
    for huge in [1isize << 40, isize::MAX, 1 << 47] {
        // SAFETY: must fail; if it succeeds nothing uses the memory.
        expect_errno(unsafe { sbrk(huge) }, Errno::ENOMEM, "sbrk(huge)")?;
        ensure!(current_break()? == start, "a failed sbrk moved the break");
    }
    Ok(())
}

fn sbrk_shrink_too_far() -> TestResult {
    let start = current_break()?;
    // Shrinking below the program's own data would unmap it.
    // SAFETY: must fail, changing nothing.
    let result = unsafe { sbrk(-(start as isize)) };
    expect_one_of(
        result,
        &[Errno::EINVAL, Errno::ENOMEM],
        "sbrk below the program",
    )?;
    ensure!(current_break()? == start, "a failed sbrk moved the break");
    // SAFETY: as above.
    let result = unsafe { sbrk(isize::MIN) };
    expect_one_of(result, &[Errno::EINVAL, Errno::ENOMEM], "sbrk(isize::MIN)")?;
    ensure!(current_break()? == start, "a failed sbrk moved the break");
    Ok(())
}

fn beyond_break_faults() -> TestResult {
    let end = round_up_to_page(current_break()?);
    expect_killed("reading just past the break", || {
        probe_read(end);
    })?;
    expect_killed("writing 1 MiB past the break", || {
        probe_write(end + (1 << 20), 1)
    })
}

fn sbrk_memory_as_buffer() -> TestResult {
    // SAFETY: growing only.
    let memory = unsafe { sbrk(2 * PAGE as isize) }.context("sbrk")?;
    // SAFETY: just given to us; nothing else refers to it.
    let buffer = unsafe { core::slice::from_raw_parts_mut(memory, 2 * PAGE as usize) };
    for (i, b) in buffer.iter_mut().enumerate() {
        *b = (i % 251) as u8;
    }
    let path = "ut-sbrkbuf";
    let fd = open(path, O_CREATE | O_RDWR).context("create")?;
    // SAFETY: buffer is valid for its length.
    let written = unsafe { sys::write(fd.0, buffer.as_ptr(), buffer.len()) }.context("write")?;
    ensure!(written as usize == buffer.len(), "short write");
    close(fd).context("close")?;
    buffer.fill(0);
    let fd = open(path, O_RDONLY).context("open")?;
    // SAFETY: buffer is valid for its length.
    let n = unsafe { sys::read(fd.0, buffer.as_mut_ptr(), buffer.len()) }.context("read")?;
    close(fd).context("close")?;
    unlink(path).context("unlink")?;
    ensure!(n as usize == buffer.len(), "short read");
    ensure!(
        buffer
            .iter()
            .enumerate()
            .all(|(i, &b)| b == (i % 251) as u8),
        "data differs"
    );
    Ok(())
}

fn sbrk_fork_copies() -> TestResult {
    // SAFETY: growing only.
    let memory = unsafe { sbrk(PAGE as isize) }.context("sbrk")?;
    // SAFETY: just given to us.
    unsafe { *memory = 7 };
    let address = memory as u64;
    let status = in_child(|| {
        // SAFETY: the child has a copy of the parent's memory.
        let seen = unsafe { *(address as *const u8) };
        // SAFETY: as above.
        unsafe { *(address as *mut u8) = 99 };
        if seen == 7 { 0 } else { 1 }
    })?;
    ensure!(status == 0, "the child did not see the parent's heap data");
    // SAFETY: our own memory.
    ensure!(
        unsafe { *memory } == 7,
        "the child's write changed the parent's memory"
    );
    Ok(())
}

/// xv6's rwsbrk: memory given back with sbrk must not be usable as a
/// system-call buffer any more.
fn rwsbrk() -> TestResult {
    // SAFETY: growing only.
    let memory = unsafe { sbrk(2 * PAGE as isize) }.context("sbrk")?;
    // SAFETY: nothing refers to the memory we give back.
    unsafe { sbrk(-2 * PAGE as isize) }.context("sbrk shrink")?;
    let path = "ut-rwsbrk";
    let fd = open(path, O_CREATE | O_RDWR).context("create")?;
    // SAFETY: deliberately a freed buffer; the kernel must refuse it.
    let w = unsafe { sys::write(fd.0, memory, 1024) };
    let _ = close(fd);
    expect_errno(w, Errno::EFAULT, "write from freed memory")?;
    let fd = open(path, O_RDONLY).context("open")?;
    // SAFETY: as above.
    let r = unsafe { sys::read(fd.0, memory, 10) };
    let _ = close(fd);
    unlink(path).context("unlink")?;
    // The file is empty, so a kernel that checks lazily may return 0.
    match r {
        Err(Errno::EFAULT) | Ok(0) => Ok(()),
        other => Err(alloc::format!("read into freed memory: {:?}", other)),
    }
}

/// xv6's mem: take memory with sbrk until the kernel says no, then give it
/// all back. The leak check at the end of the run verifies it was freed.
fn out_of_memory_sbrk() -> TestResult {
    expect_child_ok("sbrk until out of memory", || {
        let start = current_break().unwrap_or(0);
        let chunk = 64 * PAGE as isize;
        let mut taken: isize = 0;
        loop {
            // SAFETY: growing only.
            match unsafe { sbrk(chunk) } {
                Ok(p) => {
                    // Touch every page so the memory is really there.
                    for offset in (0..chunk).step_by(PAGE as usize) {
                        // SAFETY: just given to us.
                        unsafe { *p.offset(offset) = 1 };
                    }
                    taken += chunk;
                }
                Err(Errno::ENOMEM) => break,
                Err(_) => return 2,
            }
        }
        if taken == 0 {
            return 3;
        }
        // SAFETY: nothing refers to the memory we give back.
        if unsafe { sbrk(-taken) }.is_err() {
            return 4;
        }
        if current_break().unwrap_or(0) != start {
            return 5;
        }
        // Memory is available again.
        // SAFETY: growing only.
        match unsafe { sbrk(chunk) } {
            Ok(_) => 0,
            Err(_) => 6,
        }
    })
}

/// The heap allocator reports exhaustion (here through `try_reserve`)
/// instead of crashing, and works again once memory is freed.
fn out_of_memory_heap() -> TestResult {
    expect_child_ok("allocate until out of memory", || {
        let mut blocks: Vec<Vec<u8>> = Vec::new();
        if blocks.try_reserve(100_000).is_err() {
            return 2;
        }
        loop {
            let mut block: Vec<u8> = Vec::new();
            if block.try_reserve_exact(1 << 20).is_err() {
                break;
            }
            block.resize(1 << 20, 1);
            blocks.push(block);
            if blocks.len() == 100_000 {
                return 3; // 100 GiB: the kernel never said no
            }
        }
        if blocks.is_empty() {
            return 4;
        }
        blocks.clear();
        let mut again: Vec<u8> = Vec::new();
        if again.try_reserve_exact(1 << 20).is_err() {
            5
        } else {
            0
        }
    })
}

fn kernmem_read() -> TestResult {
    for address in KERNEL_ADDRESSES {
        expect_killed(
            &alloc::format!("reading kernel address {address:#x}"),
            || {
                probe_read(address);
            },
        )?;
    }
    Ok(())
}

fn kernmem_write() -> TestResult {
    for address in KERNEL_ADDRESSES {
        expect_killed(
            &alloc::format!("writing kernel address {address:#x}"),
            || probe_write(address, 0x55),
        )?;
    }
    Ok(())
}

fn noncanonical() -> TestResult {
    for address in NONCANONICAL_ADDRESSES {
        expect_killed(&alloc::format!("reading {address:#x}"), || {
            probe_read(address);
        })?;
        expect_killed(&alloc::format!("writing {address:#x}"), || {
            probe_write(address, 1)
        })?;
    }
    Ok(())
}

fn null_page() -> TestResult {
    expect_killed("reading address 0", || {
        probe_read(0);
    })?;
    expect_killed("writing address 0x1000", || probe_write(0x1000, 1))?;
    // The last page of user space is never mapped (see docs/memory.md).
    expect_killed("reading USER_TOP", || {
        probe_read(USER_TOP);
    })
}

fn text_write() -> TestResult {
    let code = probe_read as *const () as usize as u64;
    expect_killed("writing the program's own code", || probe_write(code, 0xc3))
}

/// A constant in the read-only data segment.
static READ_ONLY_MESSAGE: &str = "this string lives in .rodata";

fn rodata_write() -> TestResult {
    let constant = READ_ONLY_MESSAGE.as_ptr() as u64;
    expect_killed("writing a string constant", || probe_write(constant, b'X'))
}

/// Recurses (practically) forever with 4 KiB frames.
fn recurse(depth: u64) -> u64 {
    if depth == u64::MAX {
        return 0;
    }
    let mut frame = [0u8; 4096];
    frame[(depth % 4096) as usize] = depth as u8;
    // black_box keeps the compiler from turning this into a loop.
    core::hint::black_box(&mut frame);
    recurse(depth + 1) + frame[0] as u64
}

fn stack_overflow() -> TestResult {
    expect_killed("overflowing the stack", || {
        core::hint::black_box(recurse(0));
    })
}

/// Zero-initialised, writable: placed in .bss, which the kernel must zero.
static ZEROED: [AtomicU8; 20_000] = [const { AtomicU8::new(0) }; 20_000];
/// Initialised and writable: placed in .data, loaded from the file.
static INITIALISED: AtomicU32 = AtomicU32::new(0x1234_5678);

fn bss_zero() -> TestResult {
    ensure!(
        ZEROED.iter().all(|b| b.load(Ordering::Relaxed) == 0),
        ".bss is not zeroed"
    );
    ensure!(
        INITIALISED.load(Ordering::Relaxed) == 0x1234_5678,
        ".data has the wrong value"
    );
    ZEROED[19_999].store(1, Ordering::Relaxed);
    INITIALISED.store(1, Ordering::Relaxed);
    ensure!(
        ZEROED[19_999].load(Ordering::Relaxed) == 1,
        ".bss is not writable"
    );
    Ok(())
}

/// Addresses a system call must refuse to read or write through.
fn bad_buffer_addresses() -> Result<Vec<u64>, alloc::string::String> {
    let mut addresses = Vec::from(KERNEL_ADDRESSES);
    addresses.extend_from_slice(&NONCANONICAL_ADDRESSES);
    addresses.extend_from_slice(&[0, u64::MAX - 100, round_up_to_page(current_break()?) + PAGE]);
    Ok(addresses)
}

/// xv6's copyin: `write` from bad addresses fails with EFAULT.
fn copyin_bad() -> TestResult {
    let path = "ut-copyin";
    let fd = open(path, O_CREATE | O_RDWR).context("create")?;
    let mut result = Ok(());
    for address in bad_buffer_addresses()? {
        // SAFETY: the kernel must refuse the bad buffer without reading it.
        let w = unsafe { sys::write(fd.0, address as *const u8, 8192) };
        result = expect_errno(w, Errno::EFAULT, &alloc::format!("write from {address:#x}"));
        if result.is_err() {
            break;
        }
    }
    let _ = close(fd);
    unlink(path).context("unlink")?;
    result?;
    // The same through a pipe.
    let (read_end, write_end) = ulib::pipe().context("pipe")?;
    // SAFETY: as above.
    let w = unsafe { sys::write(write_end.0, KERNEL_ADDRESSES[0] as *const u8, 10) };
    let _ = close(read_end);
    let _ = close(write_end);
    expect_errno(w, Errno::EFAULT, "write to a pipe from kernel memory")
}

/// xv6's copyout: `read` into bad or read-only addresses fails with EFAULT.
fn copyout_bad() -> TestResult {
    let path = "ut-copyout";
    super::util::write_file(path, &[b'x'; 100])?;
    let mut addresses = bad_buffer_addresses()?;
    addresses.push(probe_read as *const () as usize as u64); // our code: mapped, read-only
    addresses.push(READ_ONLY_MESSAGE.as_ptr() as u64);
    let mut result = Ok(());
    for address in addresses {
        let fd = open(path, O_RDONLY).context("open")?;
        // SAFETY: the kernel must refuse the bad buffer without writing it.
        let r = unsafe { sys::read(fd.0, address as *mut u8, 100) };
        let _ = close(fd);
        result = expect_errno(r, Errno::EFAULT, &alloc::format!("read into {address:#x}"));
        if result.is_err() {
            break;
        }
    }
    unlink(path).context("unlink")?;
    result?;
    ensure!(
        READ_ONLY_MESSAGE.starts_with("this"),
        "a read changed read-only memory"
    );
    Ok(())
}

/// xv6's copyinstr tests: bad path pointers, unterminated and long paths.
fn copyinstr_bad() -> TestResult {
    for address in bad_buffer_addresses()? {
        // SAFETY: the kernel must refuse the bad path without reading it.
        let r = unsafe { sys::open(address as *const u8, O_RDONLY) };
        expect_errno(r, Errno::EFAULT, &alloc::format!("open({address:#x})"))?;
    }
    // A path that runs to the end of the mapped heap without a NUL.
    // SAFETY: growing only.
    let page = unsafe { sbrk(PAGE as isize) }.context("sbrk")?;
    ensure!(
        (page as u64).is_multiple_of(PAGE),
        "the break is not page-aligned: {:p}",
        page
    );
    // SAFETY: the page was just given to us.
    unsafe { core::ptr::write_bytes(page, b'a', PAGE as usize) };
    // SAFETY: deliberately unterminated; the kernel must stop at the end.
    let r = unsafe { sys::open(page, O_CREATE | O_RDWR) };
    expect_one_of(
        r,
        &[Errno::EFAULT, Errno::ENAMETOOLONG],
        "open(unterminated path)",
    )?;
    // A terminated path one byte too long.
    // SAFETY: our page; the NUL makes the path MAX_PATH + 1 bytes long.
    unsafe { *page.add(ulib::MAX_PATH + 1) = 0 };
    // SAFETY: NUL-terminated.
    let r = unsafe { sys::open(page, O_CREATE | O_RDWR) };
    expect_errno(r, Errno::ENAMETOOLONG, "open(path of MAX_PATH + 1 bytes)")?;
    // SAFETY: NUL-terminated path; bad argv.
    let r = unsafe { sys::exec(KERNEL_ADDRESSES[0] as *const u8, core::ptr::null()) };
    expect_errno(r, Errno::EFAULT, "exec(kernel address)")
}

/// Uses `depth` KiB of stack, one 1 KiB frame per level.
fn use_stack(depth: u32) -> u32 {
    let mut frame = [0u8; 1024];
    frame[depth as usize % 1024] = depth as u8;
    core::hint::black_box(&mut frame);
    if depth == 0 {
        0
    } else {
        use_stack(depth - 1) + frame[0] as u32
    }
}

/// The stack holds at least 64 KiB (docs/user-abi.md); use 48 KiB of it.
fn stack_64k() -> TestResult {
    expect_child_ok("using 48 KiB of stack", || {
        core::hint::black_box(use_stack(48));
        0
    })
}
