//! The path calls other than `open`: `chdir`, `mkdir`, `mknod`, `unlink`,
//! `link`, `rename`, `symlink`, `readlink` — and the check every path
//! argument passes first.
//!
//! Each function checks its paths ([`check_path`]), then takes the steps
//! the call needs on the [`FileSystem`]; the errors of those steps are the
//! call's errors.

use super::file_system::FileSystem;
use crate::abi::errno::Errno;
use crate::abi::syscall::MAX_PATH;
use crate::fs::{Ino, InodeKind};

/// Checks a path argument: an empty path names nothing (`ENOENT`), and a
/// path longer than [`MAX_PATH`] bytes is refused (`ENAMETOOLONG`). Returns
/// the path, so a caller can write `let path = check_path(path)?;`.
///
/// The mono-kernel cannot even copy a longer path in (its buffer has room
/// for `MAX_PATH` bytes and the NUL), so there the second rule is already
/// enforced by the copy; the vfs server gets the path's bytes in a message
/// and relies on this check.
pub fn check_path(path: &[u8]) -> Result<&[u8], Errno> {
    if path.is_empty() {
        Err(Errno::ENOENT)
    } else if path.len() > MAX_PATH {
        Err(Errno::ENAMETOOLONG)
    } else {
        Ok(path)
    }
}

/// `chdir(path)`: returns the directory `path` names from `cwd`, the new
/// working directory. Errors: `ENOTDIR` if it is not a directory.
pub fn chdir<F: FileSystem + ?Sized>(fs: &mut F, cwd: Ino, path: &[u8]) -> Result<Ino, Errno> {
    let path = check_path(path)?;
    let found = fs.lookup(cwd, path)?;
    if found.kind != InodeKind::Dir {
        return Err(Errno::ENOTDIR);
    }
    Ok(found.ino)
}

/// `mkdir(path)`: a new directory, named by the last name of `path`.
pub fn mkdir<F: FileSystem + ?Sized>(fs: &mut F, cwd: Ino, path: &[u8]) -> Result<(), Errno> {
    let path = check_path(path)?;
    let (dir, name) = fs.lookup_parent(cwd, path)?;
    fs.mkdir(dir, name)
}

/// Checks the device numbers of `mknod`: each must fit 32 bits (`EINVAL`
/// otherwise). The mono-kernel gets them as 64-bit system-call arguments
/// and checks them here, before it reads the path; on the micro-kernel the
/// vfs protocol carries them as 32-bit values (its decoder refuses larger
/// ones with the same `EINVAL`).
pub fn device_numbers(major: u64, minor: u64) -> Result<(u32, u32), Errno> {
    let major = u32::try_from(major).map_err(|_| Errno::EINVAL)?;
    let minor = u32::try_from(minor).map_err(|_| Errno::EINVAL)?;
    Ok((major, minor))
}

/// `mknod(path, major, minor)`: a new character device.
pub fn mknod<F: FileSystem + ?Sized>(
    fs: &mut F,
    cwd: Ino,
    path: &[u8],
    major: u32,
    minor: u32,
) -> Result<(), Errno> {
    let path = check_path(path)?;
    let (dir, name) = fs.lookup_parent(cwd, path)?;
    fs.mknod(dir, name, major, minor)
}

/// `unlink(path)`: removes a name. A directory is removed with `rmdir`
/// (so it must be empty: `ENOTEMPTY`), anything else with `unlink`.
pub fn unlink<F: FileSystem + ?Sized>(fs: &mut F, cwd: Ino, path: &[u8]) -> Result<(), Errno> {
    let path = check_path(path)?;
    let (dir, name) = fs.lookup_parent(cwd, path)?;
    // The name itself: unlinking a symbolic link removes the link.
    let target = fs.lookup_link(dir, name)?;
    if target.kind == InodeKind::Dir {
        fs.rmdir(dir, name)
    } else {
        fs.unlink(dir, name)
    }
}

/// `link(old, new)`: `new` becomes another name of the inode `old` names.
/// Both paths are checked before either is looked up.
pub fn link<F: FileSystem + ?Sized>(
    fs: &mut F,
    cwd: Ino,
    old: &[u8],
    new: &[u8],
) -> Result<(), Errno> {
    let old = check_path(old)?;
    let new = check_path(new)?;
    let target = fs.lookup(cwd, old)?;
    let (dir, name) = fs.lookup_parent(cwd, new)?;
    fs.link(dir, name, target.ino)
}

/// `rename(old, new)`: moves the name `old` to `new` (replacing what `new`
/// named, by the file system's rules). Both paths are checked before
/// either is looked up.
pub fn rename<F: FileSystem + ?Sized>(
    fs: &mut F,
    cwd: Ino,
    old: &[u8],
    new: &[u8],
) -> Result<(), Errno> {
    let old = check_path(old)?;
    let new = check_path(new)?;
    let (old_dir, old_name) = fs.lookup_parent(cwd, old)?;
    let (new_dir, new_name) = fs.lookup_parent(cwd, new)?;
    fs.rename(old_dir, old_name, new_dir, new_name)
}

/// `symlink(target, path)`: a new symbolic link `path` whose contents are
/// `target`. The target is checked as a path (`ENOENT` if empty,
/// `ENAMETOOLONG`) but not looked up: it may name nothing. Both are
/// checked before anything is looked up.
pub fn symlink<F: FileSystem + ?Sized>(
    fs: &mut F,
    cwd: Ino,
    target: &[u8],
    path: &[u8],
) -> Result<(), Errno> {
    let target = check_path(target)?;
    let path = check_path(path)?;
    let (dir, name) = fs.lookup_parent(cwd, path)?;
    fs.symlink(dir, name, target)
}

/// `readlink(path)`: the symbolic link `path` names (not followed); the
/// caller reads its target (its contents) from the inode returned.
/// `EINVAL` if `path` is not a symbolic link.
pub fn readlink<F: FileSystem + ?Sized>(fs: &mut F, cwd: Ino, path: &[u8]) -> Result<Ino, Errno> {
    let path = check_path(path)?;
    let link = fs.lookup_link(cwd, path)?;
    if link.kind != InodeKind::Symlink {
        return Err(Errno::EINVAL);
    }
    Ok(link.ino)
}
