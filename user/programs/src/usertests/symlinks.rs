//! Lab `fs`'s tests (`labs/fs/handout.md`): symbolic links in the shared
//! ext2 code, the same on both kernels. In the lab's starter `symlink`
//! and `readlink` answer `ENOSYS` and links are not followed, and these
//! tests fail until the student writes them.

use super::util::{Context, expect_errno, read_file, write_file};
use super::{Test, TestResult};
use crate::ensure;
use alloc::format;
use alloc::string::String;
use ulib::{Errno, O_RDONLY, chdir, close, fstat, mkdir, open, readlink, symlink, unlink};

pub const TESTS: &[Test] = &[
    Test::quick("symlink_files", symlink_files),
    Test::quick("symlink_dirs", symlink_dirs),
    Test::quick("symlink_errors", symlink_errors),
    // LAB fs BEGIN
    Test::quick("symlink_exec", symlink_exec),
    // LAB fs STUB
    // LAB fs END
];

/// The target of link `path`, as text.
fn target_of(path: &str) -> Result<String, String> {
    let mut buf = [0u8; 256];
    let n = readlink(path, &mut buf).context(&format!("readlink {path}"))?;
    String::from_utf8(buf[..n].to_vec()).map_err(|_| format!("readlink {path}: not UTF-8"))
}

/// A link may dangle; once its target exists, opening the link opens the
/// target; removing the link leaves the target.
fn symlink_files() -> TestResult {
    symlink("ut-sl-target", "ut-sl-link").context("symlink ut-sl-target ut-sl-link")?;
    let target = target_of("ut-sl-link")?;
    ensure!(target == "ut-sl-target", "readlink gave {:?}", target);
    expect_errno(
        open("ut-sl-link", O_RDONLY),
        Errno::ENOENT,
        "open of a dangling link",
    )?;
    write_file("ut-sl-target", b"through the link")?;
    let data = read_file("ut-sl-link")?;
    ensure!(
        data == b"through the link",
        "read through the link: {:?}",
        data
    );
    let fd = open("ut-sl-link", O_RDONLY).context("open ut-sl-link")?;
    let stat = fstat(fd).context("fstat")?;
    close(fd).context("close")?;
    ensure!(
        stat.kind == ulib::FileType::File as u32,
        "opened a {} not a file",
        stat.kind
    );
    unlink("ut-sl-link").context("unlink the link")?;
    ensure!(
        read_file("ut-sl-target")? == b"through the link",
        "the target changed"
    );
    expect_errno(
        readlink("ut-sl-link", &mut [0u8; 8]),
        Errno::ENOENT,
        "readlink of a removed link",
    )?;
    unlink("ut-sl-target").context("unlink the target")?;
    Ok(())
}

/// A link to a directory works in the middle of a path and for `chdir`; a
/// long target (a slow symlink, in a data block) works as a short one.
fn symlink_dirs() -> TestResult {
    mkdir("ut-sl-dir").context("mkdir ut-sl-dir")?;
    write_file("ut-sl-dir/f", b"inside")?;
    symlink("ut-sl-dir", "ut-sl-d").context("symlink to a directory")?;
    ensure!(
        read_file("ut-sl-d/f")? == b"inside",
        "read through ut-sl-d/f"
    );
    // 100 bytes: too long for the inode itself.
    let long = format!("{}ut-sl-dir/f", "./".repeat(45));
    symlink(&long, "ut-sl-long").context("symlink with a 100-byte target")?;
    ensure!(
        target_of("ut-sl-long")? == long,
        "the long target read back differs"
    );
    ensure!(
        read_file("ut-sl-long")? == b"inside",
        "read through the long link"
    );
    chdir("ut-sl-d").context("chdir through the link")?;
    let inside = read_file("f");
    chdir("..").context("chdir ..")?;
    ensure!(inside? == b"inside", "read f after chdir through the link");
    unlink("ut-sl-d").context("unlink the link to a directory")?;
    ensure!(
        read_file("ut-sl-dir/f")? == b"inside",
        "the directory changed"
    );
    for path in ["ut-sl-long", "ut-sl-dir/f", "ut-sl-dir"] {
        unlink(path).context(&format!("unlink {path}"))?;
    }
    Ok(())
}

/// Loops end in `ELOOP`; `readlink` of a file is `EINVAL`; an empty target
/// is `ENOENT`; a taken name is `EEXIST`.
fn symlink_errors() -> TestResult {
    symlink("ut-sl-loop", "ut-sl-loop").context("symlink to itself")?;
    expect_errno(
        open("ut-sl-loop", O_RDONLY),
        Errno::ELOOP,
        "open of a link to itself",
    )?;
    symlink("ut-sl-pong/x", "ut-sl-ping").context("symlink ping")?;
    symlink("ut-sl-ping", "ut-sl-pong").context("symlink pong")?;
    expect_errno(
        open("ut-sl-ping", O_RDONLY),
        Errno::ELOOP,
        "open of a two-link loop",
    )?;
    expect_errno(
        symlink("x", "ut-sl-ping"),
        Errno::EEXIST,
        "symlink onto a taken name",
    )?;
    expect_errno(
        symlink("", "ut-sl-empty"),
        Errno::ENOENT,
        "symlink with an empty target",
    )?;
    write_file("ut-sl-file", b"x")?;
    expect_errno(
        readlink("ut-sl-file", &mut [0u8; 8]),
        Errno::EINVAL,
        "readlink of a file",
    )?;
    for path in ["ut-sl-loop", "ut-sl-ping", "ut-sl-pong", "ut-sl-file"] {
        unlink(path).context(&format!("unlink {path}"))?;
    }
    Ok(())
}

// LAB fs BEGIN
use super::util::in_child;
use alloc::vec;
use ulib::exec;

/// A program runs through a link (`exec` follows it); `readlink` into a
/// bad buffer is `EFAULT`; a short buffer gets the start of the target.
fn symlink_exec() -> TestResult {
    symlink("/bin/true", "ut-sl-true").context("symlink to /bin/true")?;
    let status = in_child(|| {
        let error = exec("ut-sl-true", &["true"]);
        100 + error as i32
    })?;
    ensure!(status == 0, "exec through a link: exit status {}", status);
    let mut short = [0u8; 4];
    let n = readlink("ut-sl-true", &mut short).context("readlink into 4 bytes")?;
    ensure!(
        &short[..n] == b"/bin",
        "readlink into 4 bytes gave {:?}",
        &short[..n]
    );
    // A buffer larger than one message (4096 bytes on the micro-kernel)
    // holds the whole target too: the call is not refused.
    let mut large = vec![0u8; 5000];
    let n = readlink("ut-sl-true", &mut large).context("readlink into 5000 bytes")?;
    ensure!(
        &large[..n] == b"/bin/true",
        "readlink into 5000 bytes gave {:?}",
        &large[..n]
    );
    // SAFETY: a kernel address: the kernel must refuse it, not write it.
    let bad = unsafe {
        ulib::sys::readlink(
            c"ut-sl-true".as_ptr().cast(),
            0xffff_8000_0000_0000 as *mut u8,
            8,
        )
    };
    expect_errno(bad, Errno::EFAULT, "readlink into a kernel address")?;
    unlink("ut-sl-true").context("unlink")?;
    Ok(())
}
// LAB fs STUB
// LAB fs END
