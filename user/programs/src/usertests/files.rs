//! File tests: reading and writing, offsets shared across fork and dup,
//! truncation and append, big files, unlinking open files, many writers.

use super::util::{
    Context, expect_child_ok, expect_errno, expect_one_of, in_child, pattern_byte, read_file,
    remove, spawn, wait_for, write_all_checked, write_file,
};
use super::{Test, TestResult};
use crate::ensure;
use alloc::format;
use alloc::vec;
use alloc::vec::Vec;
use ulib::{
    Errno, FileType, O_APPEND, O_CREATE, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY, chdir, close, dup,
    fstat, link, mkdir, open, read, stat, sys, unlink, wait, write,
};

pub const TESTS: &[Test] = &[
    Test::quick("write_read", write_read),
    Test::quick("truncate", truncate),
    Test::quick("append", append),
    Test::quick("create_existing", create_existing),
    Test::quick("lowest_fd", lowest_fd),
    Test::quick("fork_shares_offset", fork_shares_offset),
    Test::quick("dup_shares_offset", dup_shares_offset),
    Test::quick("sharedfd", sharedfd),
    Test::quick("fourfiles", fourfiles),
    Test::quick("createdelete", createdelete),
    Test::quick("unlink_open_file", unlink_open_file),
    Test::quick("fstat_file", fstat_file),
    Test::quick("bigfile", bigfile),
    Test::quick("bigwrite", bigwrite),
    Test::slow("manywrites", manywrites),
    Test::quick("badwrite", badwrite),
    Test::quick("file_fd_limit", file_fd_limit),
    Test::quick("dirfile", dirfile),
];

/// xv6's writetest: 100 records written, then read back.
fn write_read() -> TestResult {
    let path = "ut-small";
    let fd = open(path, O_CREATE | O_RDWR).context("create")?;
    for i in 0..100 {
        let record = if i % 2 == 0 {
            b"aaaaaaaaaa"
        } else {
            b"bbbbbbbbbb"
        };
        ensure!(write(fd, record) == Ok(10), "write of record {} failed", i);
    }
    close(fd).context("close")?;
    let data = read_file(path)?;
    ensure!(
        data.len() == 1000,
        "file has {} bytes, expected 1000",
        data.len()
    );
    for (i, record) in data.chunks(10).enumerate() {
        let expected = if i % 2 == 0 { b'a' } else { b'b' };
        ensure!(
            record.iter().all(|&b| b == expected),
            "record {} is wrong",
            i
        );
    }
    unlink(path).context("unlink")?;
    expect_errno(open(path, O_RDONLY), Errno::ENOENT, "open after unlink")
}

/// xv6's truncate1: O_TRUNC empties the file, also for descriptors opened
/// before.
fn truncate() -> TestResult {
    let path = "ut-trunc";
    write_file(path, b"abcd")?;
    let early = open(path, O_RDONLY).context("open")?;
    let fd = open(path, O_WRONLY | O_TRUNC).context("open O_TRUNC")?;
    let size = fstat(fd).context("fstat")?.size;
    let mut buf = [0u8; 8];
    let n = read(early, &mut buf).context("read through the early descriptor")?;
    ensure!(write(fd, b"xy") == Ok(2), "write after truncation");
    close(fd).context("close")?;
    close(early).context("close")?;
    let data = read_file(path)?;
    remove(path);
    ensure!(size == 0, "size after O_TRUNC is {}", size);
    ensure!(
        n == 0,
        "the early descriptor read {} bytes of a truncated file",
        n
    );
    ensure!(
        data == b"xy",
        "file holds {:?} after truncate and write",
        data
    );
    Ok(())
}

fn append() -> TestResult {
    let path = "ut-append";
    write_file(path, b"first,")?;
    let plain = open(path, O_WRONLY).context("open")?;
    let appending = open(path, O_WRONLY | O_APPEND).context("open O_APPEND")?;
    ensure!(write(appending, b"second,") == Ok(7), "append write");
    // `plain` writes at its own offset 0; the next append still goes to the end.
    ensure!(write(plain, b"FIRST,") == Ok(6), "plain write");
    ensure!(write(appending, b"third") == Ok(5), "append write");
    close(plain).context("close")?;
    close(appending).context("close")?;
    let data = read_file(path)?;
    remove(path);
    ensure!(
        data == b"FIRST,second,third",
        "file holds {:?}",
        alloc::string::String::from_utf8_lossy(&data)
    );
    Ok(())
}

/// A descriptor inherited through fork shares its offset with the parent.
fn fork_shares_offset() -> TestResult {
    let path = "ut-forkoff";
    write_file(path, b"abcdef")?;
    let fd = open(path, O_RDONLY).context("open")?;
    let status = in_child(|| {
        let mut buf = [0u8; 3];
        match read(fd, &mut buf) {
            Ok(3) if &buf == b"abc" => 0,
            _ => 1,
        }
    })?;
    let mut buf = [0u8; 8];
    let n = read(fd, &mut buf).context("read")?;
    close(fd).context("close")?;
    remove(path);
    ensure!(status == 0, "the child could not read the first half");
    ensure!(
        &buf[..n] == b"def",
        "the parent read {:?} instead of \"def\"",
        &buf[..n]
    );
    Ok(())
}

fn dup_shares_offset() -> TestResult {
    let path = "ut-dupoff";
    write_file(path, b"0123456789")?;
    let fd = open(path, O_RDONLY).context("open")?;
    let copy = dup(fd).context("dup")?;
    let mut a = [0u8; 4];
    let mut b = [0u8; 4];
    read(fd, &mut a).context("read")?;
    close(fd).context("close original")?;
    let n = read(copy, &mut b).context("read through the copy")?;
    close(copy).context("close copy")?;
    remove(path);
    ensure!(&a == b"0123", "first read got {:?}", a);
    ensure!(
        &b[..n] == b"4567",
        "the copy read {:?} (offset not shared?)",
        &b[..n]
    );
    Ok(())
}

/// xv6's sharedfd: parent and child write through one descriptor; no write
/// overwrites another.
fn sharedfd() -> TestResult {
    const RECORDS: usize = 1000;
    let path = "ut-sharedfd";
    let fd = open(path, O_CREATE | O_RDWR | O_TRUNC).context("create")?;
    let child = spawn(|| {
        for _ in 0..RECORDS {
            if write(fd, b"cccccccccc") != Ok(10) {
                return 1;
            }
        }
        0
    })?;
    for _ in 0..RECORDS {
        ensure!(write(fd, b"pppppppppp") == Ok(10), "parent write failed");
    }
    ensure!(wait_for(child)? == 0, "child write failed");
    close(fd).context("close")?;
    let data = read_file(path)?;
    remove(path);
    let children = data.iter().filter(|&&b| b == b'c').count();
    let parents = data.iter().filter(|&&b| b == b'p').count();
    ensure!(
        children == RECORDS * 10 && parents == RECORDS * 10 && data.len() == 2 * RECORDS * 10,
        "file has {} bytes: {} from the child, {} from the parent",
        data.len(),
        children,
        parents
    );
    Ok(())
}

/// xv6's fourfiles: four processes write four files at the same time.
fn fourfiles() -> TestResult {
    const FILES: usize = 4;
    const CHUNKS: usize = 12;
    const CHUNK: usize = 500;
    let names: Vec<alloc::string::String> = (0..FILES).map(|i| format!("ut-four{i}")).collect();
    for (i, name) in names.iter().enumerate() {
        let name = name.clone();
        spawn(move || {
            let Ok(fd) = open(&name, O_CREATE | O_RDWR | O_TRUNC) else {
                return 1;
            };
            let chunk = [b'0' + i as u8; CHUNK];
            for _ in 0..CHUNKS {
                if write(fd, &chunk) != Ok(CHUNK) {
                    return 2;
                }
            }
            let _ = close(fd);
            0
        })?;
    }
    for _ in 0..FILES {
        let (_, status) = wait().context("wait")?;
        ensure!(status == 0, "a writer failed with status {}", status);
    }
    for (i, name) in names.iter().enumerate() {
        let data = read_file(name)?;
        remove(name);
        ensure!(
            data.len() == CHUNKS * CHUNK,
            "{} has {} bytes",
            name,
            data.len()
        );
        ensure!(
            data.iter().all(|&b| b == b'0' + i as u8),
            "{} holds another file's data",
            name
        );
    }
    Ok(())
}

/// xv6's createdelete: four processes each create 20 files and delete
/// every other one, all at the same time.
fn createdelete() -> TestResult {
    const WORKERS: usize = 4;
    const FILES: usize = 20;
    let name = |worker: usize, i: usize| format!("ut-cd{}-{}", worker, i);
    for worker in 0..WORKERS {
        spawn(move || {
            for i in 0..FILES {
                let path = name(worker, i);
                match open(&path, O_CREATE | O_RDWR) {
                    Ok(fd) => {
                        let _ = close(fd);
                    }
                    Err(_) => return 1,
                }
                if i > 0 && i % 2 == 0 && unlink(&name(worker, i / 2)).is_err() {
                    return 2;
                }
            }
            0
        })?;
    }
    for _ in 0..WORKERS {
        let (_, status) = wait().context("wait")?;
        ensure!(status == 0, "a worker failed with status {}", status);
    }
    let mut result = Ok(());
    for worker in 0..WORKERS {
        for i in 0..FILES {
            // Files i/2 for even i in 2..FILES were deleted: 1..=9.
            let deleted = (1..FILES / 2).contains(&i);
            let exists = stat(&name(worker, i)).is_ok();
            if exists == deleted && result.is_ok() {
                result = Err(format!(
                    "{} {}",
                    name(worker, i),
                    if exists {
                        "exists but was deleted"
                    } else {
                        "is missing"
                    }
                ));
            }
            remove(&name(worker, i));
        }
    }
    result
}

/// xv6's unlinkread: an unlinked file stays readable (and writable) through
/// descriptors that are still open.
fn unlink_open_file() -> TestResult {
    let path = "ut-unlinkread";
    write_file(path, b"hello")?;
    let fd = open(path, O_RDWR).context("open")?;
    unlink(path).context("unlink")?;
    expect_errno(open(path, O_RDONLY), Errno::ENOENT, "open after unlink")?;
    // A new file with the same name is a different file.
    write_file(path, b"yyy")?;
    let mut buf = [0u8; 8];
    let n = read(fd, &mut buf).context("read the unlinked file")?;
    ensure!(
        &buf[..n] == b"hello",
        "the unlinked file reads {:?}",
        &buf[..n]
    );
    ensure!(write(fd, b"12345") == Ok(5), "write to the unlinked file");
    let st = fstat(fd).context("fstat")?;
    close(fd).context("close")?;
    let other = read_file(path)?;
    remove(path);
    ensure!(st.nlink == 0, "the unlinked file has {} links", st.nlink);
    ensure!(st.size == 10, "the unlinked file has size {}", st.size);
    ensure!(other == b"yyy", "the new file holds {:?}", other);
    Ok(())
}

fn fstat_file() -> TestResult {
    let path = "ut-fstat";
    let second = "ut-fstat2";
    write_file(path, &[7u8; 1234])?;
    link(path, second).context("link")?;
    let a = stat(path).context("stat")?;
    let b = stat(second).context("stat")?;
    remove(second);
    let after_unlink = stat(path).context("stat")?;
    remove(path);
    ensure!(a.kind == FileType::File as u32, "kind is {}", a.kind);
    ensure!(a.size == 1234, "size is {}", a.size);
    ensure!(a.nlink == 2, "nlink with two names is {}", a.nlink);
    ensure!(
        a.ino == b.ino && a.ino != 0,
        "the two names have inodes {} and {}",
        a.ino,
        b.ino
    );
    ensure!(
        after_unlink.nlink == 1,
        "nlink after unlinking one name is {}",
        after_unlink.nlink
    );
    let dir = stat("/").context("stat /")?;
    ensure!(dir.kind == FileType::Dir as u32, "/ has kind {}", dir.kind);
    Ok(())
}

/// A file big enough to need ext2's double-indirect blocks: with 1 KiB
/// blocks, 12 direct + 256 indirect blocks end at 268 KiB.
fn bigfile() -> TestResult {
    let path = "ut-bigfile";
    let result = write_and_check_bigfile(path);
    remove(path);
    result
}

fn write_and_check_bigfile(path: &str) -> TestResult {
    const BLOCKS: usize = 320;
    const BLOCK: usize = 1024;
    let fd = open(path, O_CREATE | O_RDWR | O_TRUNC).context("create")?;
    let mut block = [0u8; BLOCK];
    for n in 0..BLOCKS {
        for (i, b) in block.iter_mut().enumerate() {
            *b = pattern_byte(n as u8, i);
        }
        block[..4].copy_from_slice(&(n as u32).to_le_bytes());
        write_all_checked(fd, &block, "bigfile")?;
    }
    close(fd).context("close")?;
    ensure!(
        stat(path).context("stat")?.size == (BLOCKS * BLOCK) as u64,
        "wrong size"
    );
    let fd = open(path, O_RDONLY).context("open")?;
    for n in 0..BLOCKS {
        let got = ulib::read_full(fd, &mut block).context("read")?;
        ensure!(got == BLOCK, "block {} is short ({} bytes)", n, got);
        let number = u32::from_le_bytes([block[0], block[1], block[2], block[3]]) as usize;
        ensure!(number == n, "block {} holds block {}'s data", n, number);
        ensure!(
            block[4..]
                .iter()
                .enumerate()
                .all(|(i, &b)| b == pattern_byte(n as u8, i + 4)),
            "block {} is corrupted",
            n
        );
    }
    let n = read(fd, &mut block).context("read at end")?;
    close(fd).context("close")?;
    ensure!(n == 0, "read past the end returned {} bytes", n);
    Ok(())
}

/// xv6's bigwrite: single writes of many sizes, up to 12 KiB.
fn bigwrite() -> TestResult {
    let path = "ut-bigwrite";
    let data = vec![b'w'; 12 * 1024];
    let mut size = 499;
    while size < data.len() {
        let fd = open(path, O_CREATE | O_RDWR | O_TRUNC).context("create")?;
        for _ in 0..2 {
            let n = write(fd, &data[..size]).context("write")?;
            ensure!(n == size, "write of {} bytes wrote {}", size, n);
        }
        close(fd).context("close")?;
        ensure!(
            stat(path).context("stat")?.size == 2 * size as u64,
            "size after 2x{}",
            size
        );
        size += 471;
    }
    unlink(path).context("unlink")
}

/// xv6's manywrites: four processes, each in its own directory, write and
/// delete files over and over.
fn manywrites() -> TestResult {
    const WORKERS: usize = 4;
    const ROUNDS: usize = 4;
    for worker in 0..WORKERS {
        spawn(move || {
            let dir = format!("ut-mw{worker}");
            if mkdir(&dir).is_err() {
                return 1;
            }
            let file = format!("{dir}/data");
            let chunk = [worker as u8; 1024];
            for _ in 0..ROUNDS {
                let Ok(fd) = open(&file, O_CREATE | O_RDWR | O_TRUNC) else {
                    return 2;
                };
                for _ in 0..64 {
                    if write(fd, &chunk) != Ok(chunk.len()) {
                        return 3;
                    }
                }
                let _ = close(fd);
                if unlink(&file).is_err() {
                    return 4;
                }
            }
            if unlink(&dir).is_err() { 5 } else { 0 }
        })?;
    }
    let mut result = Ok(());
    for _ in 0..WORKERS {
        let (_, status) = wait().context("wait")?;
        if status != 0 && result.is_ok() {
            result = Err(format!("a worker failed with status {status}"));
        }
    }
    for worker in 0..WORKERS {
        remove(&format!("ut-mw{worker}/data"));
        remove(&format!("ut-mw{worker}"));
    }
    result
}

/// xv6's badwrite: many writes from a bad address must each fail cleanly
/// and leave the file system usable.
fn badwrite() -> TestResult {
    let path = "ut-badwrite";
    for _ in 0..200 {
        let fd = open(path, O_CREATE | O_WRONLY).context("create")?;
        // SAFETY: the kernel must refuse the bad buffer.
        let w = unsafe { sys::write(fd.0, 0xffff_ffff_8000_0000u64 as *const u8, 1) };
        close(fd).context("close")?;
        unlink(path).context("unlink")?;
        expect_errno(w, Errno::EFAULT, "write from a kernel address")?;
    }
    write_file(path, b"x")?;
    let data = read_file(path)?;
    remove(path);
    ensure!(data == b"x", "a normal write after bad ones failed");
    Ok(())
}

fn file_fd_limit() -> TestResult {
    let path = "ut-fdlimit";
    write_file(path, b"")?;
    let mut fds = Vec::new();
    let error = loop {
        match open(path, O_RDONLY) {
            Ok(fd) => {
                fds.push(fd);
                if fds.len() > 10_000 {
                    break None;
                }
            }
            Err(e) => break Some(e),
        }
    };
    for &fd in &fds {
        close(fd).context("close")?;
    }
    remove(path);
    match error {
        Some(e) => expect_one_of::<()>(
            Err(e),
            &[Errno::EMFILE, Errno::ENFILE],
            "open when out of fds",
        ),
        None => Err("opened 10000 descriptors without running out".into()),
    }
}

/// xv6's dirfile: a file used where a directory is needed is ENOTDIR.
fn dirfile() -> TestResult {
    let path = "ut-dirfile";
    write_file(path, b"")?;
    let result = (|| {
        expect_errno(chdir(path), Errno::ENOTDIR, "chdir to a file")?;
        expect_errno(
            open("ut-dirfile/x", O_CREATE | O_RDWR),
            Errno::ENOTDIR,
            "create under a file",
        )?;
        expect_errno(
            open("ut-dirfile/x", O_RDONLY),
            Errno::ENOTDIR,
            "open under a file",
        )?;
        expect_errno(mkdir("ut-dirfile/x"), Errno::ENOTDIR, "mkdir under a file")?;
        expect_errno(
            link(path, "ut-dirfile/x"),
            Errno::ENOTDIR,
            "link under a file",
        )?;
        expect_errno(
            unlink("ut-dirfile/x"),
            Errno::ENOTDIR,
            "unlink under a file",
        )?;
        expect_errno(
            open(".", O_CREATE | O_RDWR),
            Errno::EISDIR,
            "open . for writing",
        )?;
        let dir = open(".", O_RDONLY).context("open .")?;
        let w = write(dir, b"x");
        close(dir).context("close")?;
        expect_one_of(w, &[Errno::EBADF, Errno::EISDIR], "write to a directory")
    })();
    remove(path);
    result
}

/// `O_CREATE` on an existing file opens it, keeping its data.
fn create_existing() -> TestResult {
    let path = "ut-createex";
    write_file(path, b"abc")?;
    let fd = open(path, O_CREATE | O_RDWR).context("open O_CREATE")?;
    let mut buf = [0u8; 8];
    let n = read(fd, &mut buf).context("read")?;
    close(fd).context("close")?;
    remove(path);
    ensure!(
        &buf[..n] == b"abc",
        "O_CREATE on an existing file left {:?}",
        &buf[..n]
    );
    Ok(())
}

/// open, dup and pipe return the lowest free descriptors (the shell's
/// redirection depends on it).
fn lowest_fd() -> TestResult {
    expect_child_ok("lowest free descriptor", || {
        let _ = close(ulib::Fd::STDIN);
        let _ = close(ulib::Fd(2));
        // 0 and 2 are free now.
        if dup(ulib::Fd::STDOUT) != Ok(ulib::Fd::STDIN) {
            return 1;
        }
        match ulib::pipe() {
            Ok((read_end, write_end)) if read_end == ulib::Fd(2) && write_end.0 > 2 => 0,
            _ => 2,
        }
    })
}
