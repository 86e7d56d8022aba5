//! Path lookup: from a string like `/usr/bin/sh` or `../notes` to an inode.
//!
//! A path is split at `/` into *components*. An absolute path starts at the
//! root directory, a relative one at the caller's working directory (an
//! inode number the kernel keeps per process). Each component is looked up
//! in the directory reached so far: `.` stays put, `..` follows the
//! directory's `..` entry (the root's `..` is the root itself). Empty
//! components (`a//b`, a trailing `/`) are ignored.
//!
//! A component that names a **symbolic link** is replaced by the link's
//! target (lab `fs`, `symlink.rs`): the walk goes on from the target, looked
//! up from the directory that holds the link (or from the root, for an
//! absolute target), then with the rest of the path. Every component but
//! the last is followed so; the last is followed by [`Ext2::lookup`] (what
//! `open`, `chdir` and `exec` want) and not by [`Ext2::lookup_link`] (what
//! `readlink` and `unlink` want: the link itself).
//!
//! The walk takes one step per component, and follows at most
//! [`MAX_SYMLINKS`] links (then [`FsError::Loop`]), so it ends whatever the
//! disk contains: a link to itself is `ELOOP`, not a hang.

use super::error::{FsError, FsResult};
// LAB fs BEGIN
use super::inode::InodeKind;
// LAB fs STUB
// LAB fs END
use super::{Ext2, Ino, MAX_SYMLINKS, NAME_MAX, ROOT_INO};
use crate::block::BlockDevice;
use crate::trace::{self, Kind, Shared};

/// The components of `path`, without empty ones.
fn components(path: &[u8]) -> impl Iterator<Item = &[u8]> {
    path.split(|&b| b == b'/').filter(|c| !c.is_empty())
}

impl<D: BlockDevice> Ext2<D> {
    /// Resolves `path` relative to directory `cwd` (ignored for absolute
    /// paths) and returns the inode it names.
    ///
    /// # Errors
    /// - [`FsError::NotFound`] if a component does not exist, or the path is
    ///   empty;
    /// - [`FsError::NotDir`] if a component before the last (or `cwd`) is not
    ///   a directory;
    /// - [`FsError::NameTooLong`] if a component is longer than 255 bytes;
    /// - [`FsError::InvalidName`] if the path contains a NUL byte;
    /// - [`FsError::Corrupt`], [`FsError::Cache`] from reading directories.
    pub fn lookup(&mut self, cwd: Ino, path: &[u8]) -> FsResult<Ino> {
        trace::point(
            Kind::Enter,
            Shared::FsLookup as u64,
            u64::from(cwd),
            path.len() as u64,
        );
        let result = self.lookup_path(cwd, path);
        let found = result.as_ref().map_or(u64::MAX, |&ino| u64::from(ino));
        trace::point(Kind::Exit, Shared::FsLookup as u64, found, 0);
        result
    }

    /// [`Ext2::lookup`], without its trace points.
    fn lookup_path(&mut self, cwd: Ino, path: &[u8]) -> FsResult<Ino> {
        self.resolve(cwd, path, true)
    }

    /// As [`lookup`](Self::lookup), but a symbolic link named by the last
    /// component is not followed: the inode returned is the link's
    /// (`readlink`, and `unlink`, which removes the link, not its target).
    /// Links before the last component are followed.
    pub fn lookup_link(&mut self, cwd: Ino, path: &[u8]) -> FsResult<Ino> {
        self.resolve(cwd, path, false)
    }

    /// Checks `path` and walks it from `cwd` (or the root), with a budget of
    /// [`MAX_SYMLINKS`] links.
    fn resolve(&mut self, cwd: Ino, path: &[u8], follow_last: bool) -> FsResult<Ino> {
        if path.is_empty() {
            return Err(FsError::NotFound);
        }
        if path.contains(&0) {
            return Err(FsError::InvalidName);
        }
        let mut links_left = MAX_SYMLINKS;
        self.walk(cwd, path, follow_last, &mut links_left)
    }

    /// Walks `path` from `cwd` (ignored if the path is absolute), following
    /// symbolic links (the last component's only if `follow_last`), each
    /// one taken from `links_left`.
    fn walk(
        &mut self,
        cwd: Ino,
        path: &[u8],
        follow_last: bool,
        links_left: &mut u32,
    ) -> FsResult<Ino> {
        let mut current = if path.first() == Some(&b'/') {
            ROOT_INO
        } else {
            cwd
        };
        // `cwd` must be a directory even if the path is just ".".
        self.read_dir_inode(current)?;
        let mut rest = components(path).peekable();
        while let Some(component) = rest.next() {
            let next = self.step(current, component)?;
            let last = rest.peek().is_none();
            current = if last && !follow_last {
                next
            } else {
                self.follow(current, next, links_left)?
            };
        }
        Ok(current)
    }

    /// `ino`, found in directory `dir`, if it is not a symbolic link; else
    /// the inode its target names, looked up from `dir` (links in the target
    /// followed too), using one of `links_left`.
    fn follow(&mut self, dir: Ino, ino: Ino, links_left: &mut u32) -> FsResult<Ino> {
        // LAB fs BEGIN
        if self.read_inode(ino)?.kind() != Some(InodeKind::Symlink) {
            return Ok(ino);
        }
        if *links_left == 0 {
            return Err(FsError::Loop);
        }
        *links_left -= 1;
        let target = self.link_target(ino)?;
        if target.is_empty() {
            return Err(FsError::NotFound);
        }
        self.walk(dir, &target, true, links_left)
        // LAB fs STUB
        //~ let _ = (dir, links_left);
        //~ Ok(ino)
        // LAB fs END
    }

    /// Resolves all but the last component of `path` and returns the
    /// directory reached and the last component: what `create`, `unlink`,
    /// `mkdir` and `rename` need. The last component is returned as is (it
    /// may be `.` or `..`, which those operations refuse).
    ///
    /// # Errors
    /// As for [`lookup`](Self::lookup); [`FsError::InvalidName`] if the path
    /// has no last component (`""` or `"/"`).
    pub fn lookup_parent<'p>(&mut self, cwd: Ino, path: &'p [u8]) -> FsResult<(Ino, &'p [u8])> {
        if path.contains(&0) {
            return Err(FsError::InvalidName);
        }
        let last = components(path).last().ok_or(FsError::InvalidName)?;
        if last.len() > NAME_MAX {
            return Err(FsError::NameTooLong);
        }
        let mut current = if path.first() == Some(&b'/') {
            ROOT_INO
        } else {
            cwd
        };
        self.read_dir_inode(current)?;
        let count = components(path).count();
        let mut links_left = MAX_SYMLINKS;
        for component in components(path).take(count - 1) {
            let next = self.step(current, component)?;
            current = self.follow(current, next, &mut links_left)?;
        }
        Ok((current, last))
    }

    /// One step of a walk: the inode `component` names in directory `dir`.
    fn step(&mut self, dir: Ino, component: &[u8]) -> FsResult<Ino> {
        if component.len() > NAME_MAX {
            return Err(FsError::NameTooLong);
        }
        if component == b"." {
            self.read_dir_inode(dir)?;
            return Ok(dir);
        }
        let next = self.lookup_in(dir, component)?;
        // An entry must name a live inode; one naming a free inode is damage.
        let inode = self.read_inode(next)?;
        if inode.mode == 0 || (inode.links_count == 0 && !self.open_counts.contains_key(&next)) {
            return Err(FsError::corrupt(
                "directory entry names a free inode",
                next.into(),
            ));
        }
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_skip_empty_parts() {
        let parts: alloc::vec::Vec<&[u8]> = components(b"//a/./b//c/").collect();
        assert_eq!(parts, [&b"a"[..], b".", b"b", b"c"]);
        assert_eq!(components(b"/").count(), 0);
    }
}
