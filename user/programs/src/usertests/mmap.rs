//! `mmap` and `munmap` (the `mmap` lab, `labs/mmap/handout.md`): private
//! mappings of zeros or of a file, made page by page at the first touch.
//!
//! The rules (`docs/user-abi.md`, "Memory"): pages are made lazily, a
//! file's pages hold its bytes (zeros past its end), writes stay private,
//! `munmap`ped pages kill the process that touches them, bad arguments are
//! errors (`EINVAL`, `EBADF`, `EACCES`, `ENODEV`, `ENOMEM`), `fork` copies
//! the mappings, and exit frees every page.

use super::memory::{probe_read, probe_write};
use super::util::{
    Context, expect_child_ok, expect_errno, expect_killed, in_child, pattern_byte, read_file,
    remove, write_file,
};
use super::{Test, TestResult};
use crate::ensure;
use alloc::vec::Vec;
use ulib::{
    Errno, Fd, MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, O_CREATE, O_RDONLY, O_RDWR,
    O_WRONLY, PROT_EXEC, PROT_NONE, PROT_READ, PROT_WRITE, close, freemem, mmap_anonymous,
    mmap_file, munmap, open, pipe, read, sbrk, write,
};

pub const TESTS: &[Test] = &[
    Test::quick("mmap_anonymous", mmap_anonymous_zeroed),
    Test::quick("mmap_lazy", mmap_lazy),
    Test::quick("mmap_file", mmap_file_contents),
    Test::quick("mmap_private_writes", mmap_private_writes),
    Test::quick("mmap_beyond_eof", mmap_beyond_eof),
    // LAB mmap BEGIN
    Test::quick("mmap_unlinked_file", mmap_unlinked_file),
    // LAB mmap STUB
    // LAB mmap END
    Test::quick("mmap_syscall_buffers", mmap_syscall_buffers),
    Test::quick("mmap_munmap_kills", mmap_munmap_kills),
    Test::quick("mmap_protection", mmap_protection),
    Test::quick("mmap_bad_args", mmap_bad_args),
    Test::quick("mmap_fork", mmap_fork),
    Test::quick("mmap_exit_frees", mmap_exit_frees),
    Test::quick("mmap_many", mmap_many),
];

const PAGE: usize = 4096;
const RW: u32 = PROT_READ | PROT_WRITE;
/// `common::abi::memory`'s mmap area, as a program sees it.
const MMAP_AREA: core::ops::Range<u64> = 0x0000_7000_0000_0000..0x0000_7fff_0000_0000;

fn free_pages() -> Result<u64, alloc::string::String> {
    freemem().context("freemem")
}

/// The bytes of a mapping.
fn bytes(address: *mut u8, length: usize) -> &'static mut [u8] {
    // SAFETY: the tests call this with a mapping they just made, of at
    // least `length` bytes, and use it only while it is mapped.
    unsafe { core::slice::from_raw_parts_mut(address, length) }
}

/// A test file of `length` pattern bytes, open for reading.
fn pattern_file(
    path: &str,
    length: usize,
    tag: u8,
) -> Result<(Fd, Vec<u8>), alloc::string::String> {
    let data: Vec<u8> = (0..length).map(|i| pattern_byte(tag, i)).collect();
    write_file(path, &data)?;
    let fd = open(path, O_RDONLY).context("open")?;
    Ok((fd, data))
}

fn unmap(address: *mut u8, length: usize) -> TestResult {
    // SAFETY: the tests unmap only mappings they no longer use.
    unsafe { munmap(address, length) }.context("munmap")
}

/// Zero-filled memory, where the mmap area is, page-aligned, usable.
fn mmap_anonymous_zeroed() -> TestResult {
    let length = 3 * PAGE;
    let address = mmap_anonymous(length, RW).context("mmap")?;
    ensure!(
        MMAP_AREA.contains(&(address as u64)) && (address as usize).is_multiple_of(PAGE),
        "mmap returned {:p}, not a page of the mmap area",
        address
    );
    let memory = bytes(address, length);
    ensure!(memory.iter().all(|&b| b == 0), "new mapping not zeroed");
    for (i, b) in memory.iter_mut().enumerate() {
        *b = pattern_byte(1, i);
    }
    ensure!(
        memory
            .iter()
            .enumerate()
            .all(|(i, &b)| b == pattern_byte(1, i)),
        "the mapping lost writes"
    );
    let second = mmap_anonymous(1, RW).context("mmap of one byte")?;
    ensure!(
        (second as u64 + PAGE as u64 <= address as u64)
            || (second as u64 >= address as u64 + length as u64),
        "a second mapping at {:p} overlaps the first at {:p}",
        second,
        address
    );
    // A hint is only a hint: still a fresh, zeroed mapping.
    let hinted = ulib::mmap::mmap(0x1000, PAGE as u64, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        .context("mmap with a hint")?;
    ensure!(
        MMAP_AREA.contains(&(hinted as u64)) && bytes(hinted, PAGE).iter().all(|&b| b == 0),
        "a hinted mapping is not a fresh page of the mmap area"
    );
    unmap(address, length)?;
    unmap(second, 1)?;
    unmap(hinted, PAGE)
}

/// Mapping costs nothing until a page is touched; touching costs a page;
/// `munmap` gives it back.
fn mmap_lazy() -> TestResult {
    const PAGES: usize = 1024; // 4 MiB
    let before = free_pages()?;
    let address = mmap_anonymous(PAGES * PAGE, RW).context("mmap 4 MiB")?;
    let mapped = free_pages()?;
    ensure!(
        before.saturating_sub(mapped) < 8,
        "mmap of 1024 pages took {} pages at once (it should make them at the first touch)",
        before.saturating_sub(mapped)
    );
    let memory = bytes(address, PAGES * PAGE);
    for page in (0..PAGES).step_by(PAGES / 16) {
        memory[page * PAGE + 5] = 1;
    }
    let touched = free_pages()?;
    let taken = mapped.saturating_sub(touched);
    ensure!(
        (16..16 + 16).contains(&taken),
        "touching 16 pages took {} pages",
        taken
    );
    unmap(address, PAGES * PAGE)?;
    let after = free_pages()?;
    ensure!(
        before.saturating_sub(after) < 16,
        "munmap gave back only {} of {} pages",
        after.saturating_sub(touched),
        taken
    );
    Ok(())
}

/// A file's bytes, at any page-aligned offset, after its descriptor is
/// closed too.
fn mmap_file_contents() -> TestResult {
    let path = "ut-mmapfile";
    let (fd, data) = pattern_file(path, 3 * PAGE + 1000, 11)?;
    let whole = mmap_file(data.len(), PROT_READ, fd, 0);
    let from_page = mmap_file(PAGE, PROT_READ, fd, 2 * PAGE as u64);
    close(fd).context("close")?;
    let whole = whole.context("mmap the file")?;
    let from_page = from_page.context("mmap from offset 8192")?;
    let result = (|| {
        ensure!(
            bytes(whole, data.len()) == &data[..],
            "the mapping does not hold the file's bytes"
        );
        ensure!(
            bytes(from_page, PAGE) == &data[2 * PAGE..3 * PAGE],
            "a mapping at offset 8192 does not start at the file's byte 8192"
        );
        Ok(())
    })();
    unmap(whole, data.len())?;
    unmap(from_page, PAGE)?;
    remove(path);
    result
}

/// Writes to a private mapping of a file stay in the process: the file
/// and a second mapping of it do not see them.
fn mmap_private_writes() -> TestResult {
    let path = "ut-mmapprivate";
    let (fd, data) = pattern_file(path, 2 * PAGE, 12)?;
    let first = mmap_file(data.len(), RW, fd, 0).context("mmap read/write")?;
    let second = mmap_file(data.len(), PROT_READ, fd, 0).context("mmap again")?;
    close(fd).context("close")?;
    let mine = bytes(first, data.len());
    mine[..10].copy_from_slice(b"0123456789");
    mine[PAGE + 7] = b'!';
    let result = (|| {
        ensure!(&mine[..10] == b"0123456789", "the write did not stick");
        ensure!(
            bytes(second, data.len()) == &data[..],
            "a second mapping of the file sees the first one's private writes"
        );
        Ok(())
    })();
    unmap(first, data.len())?;
    unmap(second, data.len())?;
    result?;
    ensure!(
        read_file(path)? == data,
        "writes to a private mapping reached the file"
    );
    remove(path);
    Ok(())
}

/// Past the end of the file a mapping reads as zeros: the rest of the
/// last page, and whole pages beyond it (Diptych's choice; Linux would
/// kill with SIGBUS there).
fn mmap_beyond_eof() -> TestResult {
    let path = "ut-mmapshort";
    let (fd, data) = pattern_file(path, 100, 13)?;
    let address = mmap_file(3 * PAGE, RW, fd, 0).context("mmap 3 pages of a 100-byte file")?;
    close(fd).context("close")?;
    let memory = bytes(address, 3 * PAGE);
    let result = (|| {
        ensure!(
            memory[..100] == data[..],
            "the file's 100 bytes are not there"
        );
        ensure!(
            memory[100..].iter().all(|&b| b == 0),
            "past the end of the file the mapping is not zero"
        );
        memory[2 * PAGE] = 1; // writable too
        Ok(())
    })();
    unmap(address, 3 * PAGE)?;
    remove(path);
    result
}

// LAB mmap BEGIN
/// A mapping keeps its file: unlinked, it still reads the file's bytes.
fn mmap_unlinked_file() -> TestResult {
    let path = "ut-mmapgone";
    let (fd, data) = pattern_file(path, 2 * PAGE, 14)?;
    let address = mmap_file(data.len(), PROT_READ, fd, 0).context("mmap")?;
    close(fd).context("close")?;
    ulib::unlink(path).context("unlink")?;
    let same = bytes(address, data.len()) == &data[..];
    unmap(address, data.len())?;
    ensure!(
        same,
        "the pages of an unlinked (and closed) file did not hold its bytes"
    );
    Ok(())
}
// LAB mmap STUB
// LAB mmap END

/// System calls use untouched mapping pages as buffers: `read` into fresh
/// anonymous pages, `write` and a pipe write from a file's pages nobody
/// touched yet.
fn mmap_syscall_buffers() -> TestResult {
    let path = "ut-mmapsys";
    let (fd, data) = pattern_file(path, 2 * PAGE, 15)?;
    let target = mmap_anonymous(2 * PAGE, RW).context("mmap anonymous")?;
    let n = read(fd, bytes(target, 2 * PAGE)).context("read into fresh mmap pages")?;
    ensure!(n == data.len(), "read {} bytes, expected {}", n, data.len());
    ensure!(
        bytes(target, 2 * PAGE) == &data[..],
        "read into mmap pages stored the wrong bytes"
    );
    let source = mmap_file(data.len(), PROT_READ, fd, 0).context("mmap the file")?;
    close(fd).context("close")?;
    let copy = "ut-mmapsys2";
    let out = open(copy, O_CREATE | O_RDWR).context("create")?;
    let wrote = write(out, bytes(source, data.len()));
    close(out).context("close")?;
    ensure!(
        wrote == Ok(data.len()),
        "write from untouched file pages: {:?}",
        wrote
    );
    ensure!(
        read_file(copy)? == data,
        "write from file pages wrote the wrong bytes"
    );
    let (pipe_read, pipe_write) = pipe().context("pipe")?;
    let again = open(path, O_RDONLY).context("open")?;
    let other = mmap_file(PAGE, PROT_READ, again, 0).context("mmap again");
    close(again).context("close")?;
    let other = other?;
    let sent = write(pipe_write, &bytes(other, PAGE)[..100]);
    let mut received = [0u8; 100];
    let got = read(pipe_read, &mut received);
    let _ = (close(pipe_read), close(pipe_write));
    ensure!(
        sent == Ok(100) && got == Ok(100) && received[..] == data[..100],
        "a pipe write from untouched file pages: {:?} {:?}",
        sent,
        got
    );
    unmap(target, 2 * PAGE)?;
    unmap(source, data.len())?;
    unmap(other, PAGE)?;
    remove(path);
    remove(copy);
    Ok(())
}

/// `munmap`ped pages are gone: touching them kills the process. Removing
/// the middle of a mapping leaves both ends.
fn mmap_munmap_kills() -> TestResult {
    let address = mmap_anonymous(3 * PAGE, RW).context("mmap")?;
    let memory = bytes(address, 3 * PAGE);
    memory.fill(7);
    let base = address as u64;
    // SAFETY: the middle page, which nothing uses afterwards.
    unsafe { munmap(address.add(PAGE), PAGE) }.context("munmap the middle page")?;
    ensure!(
        memory[0] == 7 && memory[2 * PAGE] == 7,
        "munmap of the middle page changed the pages around it"
    );
    expect_killed("reading an unmapped middle page", || {
        probe_read(base + PAGE as u64);
    })?;
    unmap(address, 3 * PAGE)?;
    expect_killed("reading an unmapped page", || {
        probe_read(base);
    })?;
    expect_killed("writing an unmapped page", || {
        probe_write(base + 2 * PAGE as u64, 1)
    })?;
    // A system call sees it gone too.
    let path = "ut-mmapgone2";
    let (fd, _) = pattern_file(path, 100, 18)?;
    // SAFETY: deliberately an unmapped buffer: the kernel must refuse it.
    let got = unsafe { ulib::sys::read(fd.0, address, 16) };
    let _ = close(fd);
    remove(path);
    expect_errno(got, Errno::EFAULT, "read into an unmapped page")?;
    // Unmapping again, or where nothing was mapped, is no error.
    unmap(address, 3 * PAGE)
}

/// A mapping's protection holds: writing a read-only mapping kills, and
/// so does any access to a `PROT_NONE` one or running a non-`PROT_EXEC` one.
fn mmap_protection() -> TestResult {
    let read_only = mmap_anonymous(PAGE, PROT_READ).context("mmap read-only")?;
    ensure!(
        bytes(read_only, PAGE)[100] == 0,
        "a read-only anonymous page does not read as zero"
    );
    let base = read_only as u64;
    expect_killed("writing a PROT_READ mapping", || probe_write(base, 1))?;
    let none = mmap_anonymous(PAGE, PROT_NONE).context("mmap PROT_NONE")?;
    let none_base = none as u64;
    expect_killed("reading a PROT_NONE mapping", || {
        probe_read(none_base);
    })?;
    let data = mmap_anonymous(PAGE, RW).context("mmap")?;
    // `ret`, at the start of a page that is not executable.
    bytes(data, PAGE)[0] = 0xc3;
    let data_base = data as u64;
    expect_killed("calling into a mapping without PROT_EXEC", || {
        // SAFETY: deliberately a jump into a non-executable page: the
        // kernel kills the process at the first instruction fetch.
        let function: extern "C" fn() = unsafe { core::mem::transmute(data_base as usize) };
        function();
    })?;
    let code = mmap_anonymous(PAGE, RW | PROT_EXEC).context("mmap PROT_EXEC")?;
    bytes(code, PAGE)[0] = 0xc3;
    // SAFETY: the page holds one `ret` and is executable.
    let function: extern "C" fn() = unsafe { core::mem::transmute(code) };
    function();
    unmap(read_only, PAGE)?;
    unmap(none, PAGE)?;
    unmap(data, PAGE)?;
    unmap(code, PAGE)
}

/// Bad arguments are errors, and change nothing.
fn mmap_bad_args() -> TestResult {
    let raw = ulib::mmap::mmap;
    let anon = MAP_PRIVATE | MAP_ANONYMOUS;
    let page = PAGE as u64;
    let before = free_pages()?;
    expect_errno(raw(0, 0, RW, anon, -1, 0), Errno::EINVAL, "length 0")?;
    expect_errno(
        raw(0, page, 0x80, anon, -1, 0),
        Errno::EINVAL,
        "unknown prot",
    )?;
    expect_errno(
        raw(0, page, RW, anon | 0x4000, -1, 0),
        Errno::EINVAL,
        "unknown flag",
    )?;
    expect_errno(
        raw(0, page, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0),
        Errno::EINVAL,
        "MAP_SHARED (not supported)",
    )?;
    expect_errno(
        raw(0x7000_0000_0000, page, RW, anon | MAP_FIXED, -1, 0),
        Errno::EINVAL,
        "MAP_FIXED (not supported)",
    )?;
    expect_errno(
        raw(0, page, RW, MAP_ANONYMOUS, -1, 0),
        Errno::EINVAL,
        "neither private nor shared",
    )?;
    expect_errno(
        raw(0, u64::MAX, RW, anon, -1, 0),
        Errno::ENOMEM,
        "length 2^64 - 1",
    )?;
    expect_errno(
        raw(0, 1 << 46, RW, anon, -1, 0),
        Errno::ENOMEM,
        "length 64 TiB",
    )?;
    // Descriptors.
    expect_errno(
        raw(0, page, PROT_READ, MAP_PRIVATE, -1, 0),
        Errno::EBADF,
        "fd -1",
    )?;
    expect_errno(
        raw(0, page, PROT_READ, MAP_PRIVATE, 15, 0),
        Errno::EBADF,
        "a closed fd",
    )?;
    let path = "ut-mmapargs";
    write_file(path, b"some bytes")?;
    let write_only = open(path, O_WRONLY).context("open write-only")?;
    let got = raw(0, page, PROT_READ, MAP_PRIVATE, write_only.0, 0);
    let _ = close(write_only);
    expect_errno(got, Errno::EACCES, "a write-only descriptor")?;
    let readable = open(path, O_RDONLY).context("open")?;
    let got = raw(0, page, PROT_READ, MAP_PRIVATE, readable.0, 100);
    let _ = close(readable);
    expect_errno(got, Errno::EINVAL, "an offset that is not page-aligned")?;
    let (pipe_read, pipe_write) = pipe().context("pipe")?;
    let got = raw(0, page, PROT_READ, MAP_PRIVATE, pipe_read.0, 0);
    let _ = (close(pipe_read), close(pipe_write));
    expect_errno(got, Errno::ENODEV, "a pipe")?;
    let directory = open("/", O_RDONLY).context("open /")?;
    let got = raw(0, page, PROT_READ, MAP_PRIVATE, directory.0, 0);
    let _ = close(directory);
    expect_errno(got, Errno::ENODEV, "a directory")?;
    remove(path);
    // munmap.
    let munmap_raw = |address: u64, length: u64| {
        // SAFETY: every call here must fail and change nothing.
        unsafe { ulib::sys::munmap(address, length) }
    };
    expect_errno(
        munmap_raw(MMAP_AREA.start + 1, page),
        Errno::EINVAL,
        "munmap unaligned",
    )?;
    expect_errno(
        munmap_raw(MMAP_AREA.start, 0),
        Errno::EINVAL,
        "munmap length 0",
    )?;
    expect_errno(
        munmap_raw(MMAP_AREA.start, u64::MAX),
        Errno::EINVAL,
        "munmap wrapping",
    )?;
    // SAFETY: sbrk(0) changes nothing.
    let heap = unsafe { sbrk(0) }.context("sbrk(0)")? as u64 & !(page - 1);
    expect_errno(
        munmap_raw(heap - page, page),
        Errno::EINVAL,
        "munmap of the heap",
    )?;
    expect_errno(
        munmap_raw(0x40_0000, page),
        Errno::EINVAL,
        "munmap of the program",
    )?;
    let after = free_pages()?;
    ensure!(
        before.saturating_sub(after) < 4,
        "refused calls took {} pages",
        before - after
    );
    Ok(())
}

/// `fork` copies the mappings: the child sees the parent's pages (those
/// touched before the fork and those not), its writes stay its own.
fn mmap_fork() -> TestResult {
    let path = "ut-mmapfork";
    let (fd, data) = pattern_file(path, 4 * PAGE, 16)?;
    let file = mmap_file(data.len(), RW, fd, 0).context("mmap the file")?;
    close(fd).context("close")?;
    let anonymous = mmap_anonymous(4 * PAGE, RW).context("mmap anonymous")?;
    // Touch half of each before the fork.
    bytes(anonymous, 4 * PAGE)[..2 * PAGE].fill(0x55);
    let file_bytes = bytes(file, data.len());
    ensure!(file_bytes[0] == data[0], "the file's first page");
    file_bytes[PAGE] = 0xaa; // a private write before the fork
    let (file_address, anonymous_address) = (file as u64, anonymous as u64);
    let mut expected = data.clone();
    expected[PAGE] = 0xaa;
    let status = in_child(|| {
        let theirs = bytes(file_address as *mut u8, expected.len());
        if theirs != &expected[..] {
            return 1;
        }
        let anon = bytes(anonymous_address as *mut u8, 4 * PAGE);
        if anon[..2 * PAGE].iter().any(|&b| b != 0x55) || anon[2 * PAGE..].iter().any(|&b| b != 0) {
            return 2;
        }
        theirs.fill(1);
        anon.fill(2);
        0
    })?;
    ensure!(
        status != 1,
        "the child does not see the parent's file mapping"
    );
    ensure!(
        status != 2,
        "the child does not see the parent's anonymous mapping"
    );
    ensure!(status == 0, "the child exited with {}", status);
    ensure!(
        bytes(file, data.len()) == &expected[..],
        "the child's writes reached the parent's file mapping"
    );
    let anon = bytes(anonymous, 4 * PAGE);
    ensure!(
        anon[..2 * PAGE].iter().all(|&b| b == 0x55) && anon[2 * PAGE..].iter().all(|&b| b == 0),
        "the child's writes reached the parent's anonymous mapping"
    );
    unmap(file, data.len())?;
    unmap(anonymous, 4 * PAGE)?;
    ensure!(read_file(path)? == data, "a write reached the file");
    remove(path);
    Ok(())
}

/// A process that exits with its mappings still there frees every page
/// of them (and its hold on the file).
fn mmap_exit_frees() -> TestResult {
    let path = "ut-mmapexit";
    let (fd, _) = pattern_file(path, 8 * PAGE, 17)?;
    close(fd).context("close")?;
    let before = free_pages()?;
    expect_child_ok("a child that maps, touches and exits", || {
        let Ok(anonymous) = mmap_anonymous(64 * PAGE, RW) else {
            return 1;
        };
        bytes(anonymous, 64 * PAGE).fill(1);
        let Ok(fd) = open(path, O_RDONLY) else {
            return 2;
        };
        let Ok(file) = mmap_file(8 * PAGE, RW, fd, 0) else {
            return 3;
        };
        let _ = close(fd);
        bytes(file, 8 * PAGE)[..4 * PAGE].fill(2);
        0
    })?;
    let after = free_pages()?;
    ensure!(
        after >= before,
        "{} pages lost after a process exited with its mappings",
        before - after
    );
    remove(path);
    Ok(())
}

/// A process may have 64 mappings (`MAX_MAPPINGS`); the next is `ENOMEM`,
/// and removing one makes room again.
fn mmap_many() -> TestResult {
    let mut mappings = Vec::new();
    let outcome = loop {
        match mmap_anonymous(PAGE, RW) {
            Ok(address) => {
                bytes(address, PAGE)[0] = mappings.len() as u8;
                mappings.push(address);
                if mappings.len() > 1000 {
                    break Err(alloc::format!("{} mappings and no ENOMEM", mappings.len()));
                }
            }
            Err(Errno::ENOMEM) => break Ok(()),
            Err(errno) => break Err(alloc::format!("mmap #{}: {:?}", mappings.len(), errno)),
        }
    };
    let count = mappings.len();
    let result = outcome.and_then(|()| {
        ensure!(count == 64, "ENOMEM after {} mappings, expected 64", count);
        let last = mappings.pop().ok_or("no mappings")?;
        unmap(last, PAGE)?;
        let again = mmap_anonymous(PAGE, RW).context("mmap after munmap")?;
        mappings.push(again);
        ensure!(
            mappings
                .iter()
                .take(count - 1)
                .enumerate()
                .all(|(i, &address)| bytes(address, PAGE)[0] == i as u8),
            "a mapping lost its contents"
        );
        Ok(())
    });
    for address in mappings {
        unmap(address, PAGE)?;
    }
    result
}
