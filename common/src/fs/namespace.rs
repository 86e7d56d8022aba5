//! The name space: creating, linking, unlinking and renaming names.
//!
//! These operations change directories and link counts together. Each first
//! checks everything that can be checked (the name is valid and free, the
//! target has the right type, a directory is empty, a move does not put a
//! directory inside itself...) and only then changes the disk, so a refused
//! request leaves no trace (check, then commit).
//!
//! Link counts follow the Unix rules `e2fsck` checks: a file's count is the
//! number of names it has; a directory's is 2 (its name and its own `.`)
//! plus one for each subdirectory (whose `..` names it).

use super::dir::check_new_name;
use super::error::{FsError, FsResult};
use super::inode::{Inode, InodeKind};
use super::{Ext2, Ino, LINK_MAX, ROOT_INO};
use crate::block::BlockDevice;

/// Default permissions of new objects (there are no users yet).
const FILE_PERMISSIONS: u16 = 0o644;
const DIR_PERMISSIONS: u16 = 0o755;
const DEVICE_PERMISSIONS: u16 = 0o666;

/// The deepest directory tree `rename` will walk up through. A path to
/// such a directory would be over 128 KiB long, far past any path a user
/// program can pass, so only a damaged disk (a `..` cycle) gets here.
const MAX_DEPTH: u32 = 65_536;

impl<D: BlockDevice> Ext2<D> {
    /// Creates an empty regular file `name` in directory `dir` and returns
    /// its inode.
    ///
    /// # Errors
    /// - [`FsError::Exists`] if `name` is taken;
    /// - [`FsError::InvalidName`], [`FsError::NameTooLong`] for a bad name;
    /// - [`FsError::NotDir`] if `dir` is not a directory;
    ///   [`FsError::NotFound`] if `dir` has been removed;
    /// - [`FsError::NoInodes`], [`FsError::NoSpace`];
    /// - [`FsError::ReadOnly`], [`FsError::Corrupt`], [`FsError::Cache`].
    pub fn create_file(&mut self, dir: Ino, name: &[u8]) -> FsResult<Ino> {
        self.create_node(dir, name, InodeKind::File, FILE_PERMISSIONS, (0, 0), &[])
    }

    /// Creates an empty directory `name` (holding `.` and `..`) in directory
    /// `dir` and returns its inode.
    ///
    /// # Errors
    /// As for [`create_file`](Self::create_file), plus
    /// [`FsError::TooManyLinks`] if `dir` has the most subdirectories allowed.
    pub fn mkdir(&mut self, dir: Ino, name: &[u8]) -> FsResult<Ino> {
        self.create_node(dir, name, InodeKind::Dir, DIR_PERMISSIONS, (0, 0), &[])
    }

    /// Creates a character device `name` with numbers `major`:`minor` in
    /// directory `dir` and returns its inode. The numbers are stored as Linux
    /// stores them, so `debugfs` and `ls -l` on a loop mount agree.
    ///
    /// # Errors
    /// As for [`create_file`](Self::create_file), plus
    /// [`FsError::InvalidArgument`] if `major` >= 4096 or `minor` >= 2^20.
    pub fn mknod(&mut self, dir: Ino, name: &[u8], major: u32, minor: u32) -> FsResult<Ino> {
        if major >= 1 << 12 || minor >= 1 << 20 {
            return Err(FsError::InvalidArgument);
        }
        self.create_node(
            dir,
            name,
            InodeKind::CharDevice,
            DEVICE_PERMISSIONS,
            (major, minor),
            &[],
        )
    }

    /// Creates an inode of `kind` and names it `name` in `dir`: a device
    /// gets the numbers `device`, a symbolic link the target `target`
    /// (`symlink.rs`); the others ignore both.
    pub(super) fn create_node(
        &mut self,
        dir: Ino,
        name: &[u8],
        kind: InodeKind,
        permissions: u16,
        device: (u32, u32),
        target: &[u8],
    ) -> FsResult<Ino> {
        self.start_op()?;
        check_new_name(name)?;
        let parent = self.read_dir_inode(dir)?;
        if parent.links_count == 0 {
            return Err(FsError::NotFound);
        }
        if self.find_entry(&parent, name)?.is_some() {
            return Err(FsError::Exists);
        }
        let is_dir = kind == InodeKind::Dir;
        if is_dir && parent.links_count >= LINK_MAX {
            return Err(FsError::TooManyLinks);
        }
        // Commit: inode, contents, then the name.
        let ino = self.alloc_inode(dir, is_dir)?;
        let mut inode = self.init_inode(ino, kind, permissions)?;
        match kind {
            InodeKind::Dir => {
                inode.links_count = 2;
                let group = (ino - 1) / self.sb.inodes_per_group;
                let goal = self.sb.group_first_block(group);
                if let Err(err) = self.init_dir_block(ino, &mut inode, dir, goal) {
                    self.discard_inode(ino, inode)?;
                    return Err(err);
                }
            }
            InodeKind::CharDevice => inode.set_device_numbers(device.0, device.1),
            InodeKind::Symlink => {
                if let Err(err) = self.store_link_target(ino, &mut inode, target) {
                    self.discard_inode(ino, inode)?;
                    return Err(err);
                }
            }
            _ => {}
        }
        self.write_inode(ino, &inode)?;
        if let Err(err) = self.add_entry(dir, name, ino, kind) {
            self.discard_inode(ino, inode)?;
            return Err(err);
        }
        if is_dir {
            self.adjust_links(dir, 1)?;
        }
        Ok(ino)
    }

    /// Undoes a half-made inode after a failure.
    fn discard_inode(&mut self, ino: Ino, mut inode: Inode) -> FsResult<()> {
        inode.links_count = 0;
        self.free_inode_now(ino, inode)
    }

    /// Adds `delta` to inode `ino`'s link count.
    fn adjust_links(&mut self, ino: Ino, delta: i32) -> FsResult<Inode> {
        let mut inode = self.read_inode(ino)?;
        inode.links_count =
            (i32::from(inode.links_count) + delta).clamp(0, i32::from(u16::MAX)) as u16;
        inode.ctime = self.now;
        self.write_inode(ino, &inode)?;
        Ok(inode)
    }

    /// Adds the name `name` in directory `dir` for the existing inode
    /// `target` (a hard link).
    ///
    /// # Errors
    /// - [`FsError::LinkToDirectory`] if `target` is a directory;
    /// - [`FsError::TooManyLinks`]; [`FsError::Exists`];
    /// - [`FsError::NotFound`] if `target` has no names left (unlinked but
    ///   open) or `dir` was removed;
    /// - as for [`create_file`](Self::create_file) otherwise.
    pub fn link(&mut self, dir: Ino, name: &[u8], target: Ino) -> FsResult<()> {
        self.start_op()?;
        check_new_name(name)?;
        let (inode, kind) = self.read_live_inode(target)?;
        if kind == InodeKind::Dir {
            return Err(FsError::LinkToDirectory);
        }
        if inode.links_count == 0 {
            return Err(FsError::NotFound);
        }
        if inode.links_count >= LINK_MAX {
            return Err(FsError::TooManyLinks);
        }
        let parent = self.read_dir_inode(dir)?;
        if parent.links_count == 0 {
            return Err(FsError::NotFound);
        }
        if self.find_entry(&parent, name)?.is_some() {
            return Err(FsError::Exists);
        }
        self.add_entry(dir, name, target, kind)?;
        self.adjust_links(target, 1)?;
        Ok(())
    }

    /// Removes the name `name` (not a directory) from directory `dir`. The
    /// inode is freed when it has no names left and nobody holds it open
    /// (see [`Ext2::open_inode`]).
    ///
    /// # Errors
    /// - [`FsError::NotFound`]; [`FsError::IsDir`] for a directory (use
    ///   [`rmdir`](Self::rmdir)), including `.` and `..`;
    /// - [`FsError::NotDir`] if `dir` is not a directory;
    /// - [`FsError::ReadOnly`], [`FsError::Corrupt`], [`FsError::Cache`].
    pub fn unlink(&mut self, dir: Ino, name: &[u8]) -> FsResult<()> {
        self.start_op()?;
        if name == b"." || name == b".." {
            return Err(FsError::IsDir);
        }
        check_new_name(name)?;
        let parent = self.read_dir_inode(dir)?;
        let found = self.find_entry(&parent, name)?.ok_or(FsError::NotFound)?;
        let ino = found.ino();
        let kind = self.entry_target_kind(ino)?;
        if kind == InodeKind::Dir {
            return Err(FsError::IsDir);
        }
        self.remove_entry(dir, &found)?;
        let inode = self.adjust_links(ino, -1)?;
        self.free_if_unused(ino, inode)
    }

    /// Removes the empty directory `name` from directory `dir`. If the kernel
    /// still holds it (a process's working directory, see
    /// [`Ext2::open_inode`]), it lives on, empty, until released: its size
    /// becomes 0, as Linux does, so it lists no entries — not even `.` and
    /// `..`, whose target may itself be removed and reused meanwhile — and
    /// accepts no new names.
    ///
    /// # Errors
    /// - [`FsError::NotFound`]; [`FsError::NotDir`] if it is not a
    ///   directory; [`FsError::NotEmpty`] if it has entries (also for `..`);
    /// - [`FsError::InvalidName`] for `.`;
    /// - [`FsError::ReadOnly`], [`FsError::Corrupt`], [`FsError::Cache`].
    pub fn rmdir(&mut self, dir: Ino, name: &[u8]) -> FsResult<()> {
        self.start_op()?;
        if name == b".." {
            return Err(FsError::NotEmpty);
        }
        check_new_name(name)?;
        let parent = self.read_dir_inode(dir)?;
        let found = self.find_entry(&parent, name)?.ok_or(FsError::NotFound)?;
        let ino = found.ino();
        if self.entry_target_kind(ino)? != InodeKind::Dir {
            return Err(FsError::NotDir);
        }
        if ino == ROOT_INO || ino == dir {
            return Err(FsError::corrupt(
                "directory entry names the root or its own directory",
                ino.into(),
            ));
        }
        let mut target = self.read_inode(ino)?;
        if !self.dir_is_empty(&target)? {
            return Err(FsError::NotEmpty);
        }
        self.remove_entry(dir, &found)?;
        target.links_count = 0;
        target.size = 0;
        target.ctime = self.now;
        self.write_inode(ino, &target)?;
        self.adjust_links(dir, -1)?;
        self.free_if_unused(ino, target)
    }

    /// Renames `src_dir`/`src_name` to `dst_dir`/`dst_name`, replacing an
    /// existing `dst_name` (a non-directory by a non-directory, or an empty
    /// directory by a directory). A directory moved to a new parent gets its
    /// `..` entry and both parents' link counts fixed. Renaming a name onto
    /// another name of the same inode does nothing.
    ///
    /// # Errors
    /// - [`FsError::NotFound`] if `src_name` does not exist;
    /// - [`FsError::InvalidName`], [`FsError::NameTooLong`] (including `.` or
    ///   `..` on either side);
    /// - [`FsError::IsDir`] replacing a directory by a non-directory;
    ///   [`FsError::NotDir`] replacing a non-directory by a directory;
    ///   [`FsError::NotEmpty`] replacing a non-empty directory;
    /// - [`FsError::InvalidArgument`] moving a directory into itself or its
    ///   own subtree;
    /// - [`FsError::TooManyLinks`], [`FsError::NoSpace`],
    ///   [`FsError::ReadOnly`], [`FsError::Corrupt`], [`FsError::Cache`].
    pub fn rename(
        &mut self,
        src_dir: Ino,
        src_name: &[u8],
        dst_dir: Ino,
        dst_name: &[u8],
    ) -> FsResult<()> {
        self.start_op()?;
        check_new_name(src_name)?;
        check_new_name(dst_name)?;
        let source_parent = self.read_dir_inode(src_dir)?;
        let target_parent = self.read_dir_inode(dst_dir)?;
        if target_parent.links_count == 0 {
            return Err(FsError::NotFound);
        }
        let source = self
            .find_entry(&source_parent, src_name)?
            .ok_or(FsError::NotFound)?;
        let ino = source.ino();
        let kind = self.entry_target_kind(ino)?;
        let replaced = match self.find_entry(&target_parent, dst_name)? {
            Some(found) if found.ino() == ino => return Ok(()),
            Some(found) => {
                let old_kind = self.entry_target_kind(found.ino())?;
                match (kind == InodeKind::Dir, old_kind == InodeKind::Dir) {
                    (true, false) => return Err(FsError::NotDir),
                    (false, true) => return Err(FsError::IsDir),
                    (true, true) => {
                        let old = self.read_inode(found.ino())?;
                        if !self.dir_is_empty(&old)? {
                            return Err(FsError::NotEmpty);
                        }
                    }
                    (false, false) => {}
                }
                Some((found, old_kind))
            }
            None => None,
        };
        let moves_dir = kind == InodeKind::Dir && src_dir != dst_dir;
        if moves_dir {
            self.check_not_inside(ino, dst_dir)?;
            if replaced.is_none() && target_parent.links_count >= LINK_MAX {
                return Err(FsError::TooManyLinks);
            }
        }

        // Commit. First make the new name, so a failure (no space for a new
        // directory block) leaves the old name in place.
        match replaced {
            Some((found, old_kind)) => {
                let old_ino = found.ino();
                self.retarget_entry(dst_dir, &found, ino, kind)?;
                let mut old = self.read_inode(old_ino)?;
                if old_kind == InodeKind::Dir {
                    // Removed as by `rmdir`: empty if someone still holds it.
                    old.links_count = 0;
                    old.size = 0;
                    self.adjust_links(dst_dir, -1)?;
                } else {
                    old.links_count = old.links_count.saturating_sub(1);
                }
                old.ctime = self.now;
                self.write_inode(old_ino, &old)?;
                self.free_if_unused(old_ino, old)?;
            }
            None => self.add_entry(dst_dir, dst_name, ino, kind)?,
        }
        // Adding may have rearranged the source directory: find it again.
        let source_parent = self.read_dir_inode(src_dir)?;
        let source = self
            .find_entry(&source_parent, src_name)?
            .ok_or(FsError::corrupt("renamed entry vanished", ino.into()))?;
        self.remove_entry(src_dir, &source)?;
        if moves_dir {
            let moved = self.read_dir_inode(ino)?;
            let dot_dot = self
                .find_entry(&moved, b"..")?
                .ok_or(FsError::corrupt("directory has no .. entry", ino.into()))?;
            self.retarget_entry(ino, &dot_dot, dst_dir, InodeKind::Dir)?;
            self.adjust_links(src_dir, -1)?;
            self.adjust_links(dst_dir, 1)?;
        }
        self.adjust_links(ino, 0)?;
        Ok(())
    }

    /// The kind of the inode a directory entry names, checking that the
    /// inode is in use.
    ///
    /// # Errors
    /// [`FsError::Corrupt`] if the entry names a free inode or one with an
    /// invalid type.
    fn entry_target_kind(&mut self, ino: Ino) -> FsResult<InodeKind> {
        let inode = self.read_inode(ino)?;
        if inode.mode == 0 {
            return Err(FsError::corrupt(
                "directory entry names a free inode",
                ino.into(),
            ));
        }
        inode.kind().ok_or(FsError::corrupt(
            "inode has an invalid file type",
            ino.into(),
        ))
    }

    /// Fails if directory `start` is `ancestor` or lies below it: walks `..`
    /// entries from `start` up to the root.
    ///
    /// # Errors
    /// [`FsError::InvalidArgument`] if it does; [`FsError::Corrupt`] if the
    /// walk does not reach the root within [`MAX_DEPTH`] steps (a `..`
    /// cycle on a damaged disk, or an absurdly deep tree).
    fn check_not_inside(&mut self, ancestor: Ino, start: Ino) -> FsResult<()> {
        let mut current = start;
        for _ in 0..=MAX_DEPTH.min(self.sb.inodes_count) {
            if current == ancestor {
                return Err(FsError::InvalidArgument);
            }
            if current == ROOT_INO {
                return Ok(());
            }
            let dir = self.read_dir_inode(current)?;
            let parent = self.find_entry(&dir, b"..")?.ok_or(FsError::corrupt(
                "directory has no .. entry",
                current.into(),
            ))?;
            current = parent.ino();
        }
        Err(FsError::corrupt(
            "directory tree has a cycle or is too deep",
            start.into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::super::host_tools::{e2fsck_bytes, mke2fs_bytes};
    use super::super::{Ext2, FsError, ROOT_INO};
    use crate::block::MemDisk;

    fn fresh(extra: &[&str]) -> Ext2<MemDisk> {
        let image = mke2fs_bytes(1024, 1024, extra).unwrap();
        Ext2::mount(MemDisk::from_bytes(image), 32).unwrap()
    }

    #[test]
    fn bad_requests_are_refused_and_change_nothing() {
        let mut fs = fresh(&[]);
        let free = fs.free_counts();
        let dir = fs.mkdir(ROOT_INO, b"d").unwrap();
        let file = fs.create_file(dir, b"f").unwrap();
        let after_setup = fs.free_counts();
        assert_ne!(free, after_setup);
        assert_eq!(fs.create_file(dir, b"f"), Err(FsError::Exists));
        assert_eq!(fs.mkdir(ROOT_INO, b"d"), Err(FsError::Exists));
        assert_eq!(fs.create_file(dir, b".."), Err(FsError::InvalidName));
        assert_eq!(fs.create_file(dir, b"a/b"), Err(FsError::InvalidName));
        assert_eq!(fs.create_file(dir, &[b'n'; 256]), Err(FsError::NameTooLong));
        assert_eq!(fs.create_file(file, b"x"), Err(FsError::NotDir));
        assert_eq!(fs.unlink(ROOT_INO, b"d"), Err(FsError::IsDir));
        assert_eq!(fs.unlink(dir, b"."), Err(FsError::IsDir));
        assert_eq!(fs.unlink(dir, b"nope"), Err(FsError::NotFound));
        assert_eq!(fs.rmdir(dir, b"f"), Err(FsError::NotDir));
        assert_eq!(fs.rmdir(ROOT_INO, b"d"), Err(FsError::NotEmpty));
        assert_eq!(fs.rmdir(dir, b".."), Err(FsError::NotEmpty));
        assert_eq!(fs.link(ROOT_INO, b"d2", dir), Err(FsError::LinkToDirectory));
        assert_eq!(fs.link(dir, b"f", file), Err(FsError::Exists));
        assert_eq!(
            fs.rename(ROOT_INO, b"d", dir, b"inside"),
            Err(FsError::InvalidArgument)
        );
        assert_eq!(
            fs.rename(dir, b"f", ROOT_INO, b"lost+found"),
            Err(FsError::IsDir)
        );
        assert_eq!(
            fs.mknod(ROOT_INO, b"dev", 0, 1 << 20),
            Err(FsError::InvalidArgument)
        );
        assert_eq!(
            fs.free_counts(),
            after_setup,
            "a refused request allocated something"
        );
        // A directory may replace an empty directory.
        assert_eq!(fs.rename(ROOT_INO, b"d", ROOT_INO, b"lost+found"), Ok(()));
        assert_eq!(
            fs.rename(ROOT_INO, b"nope", ROOT_INO, b"x"),
            Err(FsError::NotFound)
        );
        assert_eq!(
            fs.mknod(ROOT_INO, b"dev", 4096, 0),
            Err(FsError::InvalidArgument)
        );
        // Renaming a name onto another name of the same file does nothing.
        fs.link(ROOT_INO, b"alias", file).unwrap();
        fs.rename(ROOT_INO, b"alias", ROOT_INO, b"alias").unwrap();
        assert_eq!(fs.stat(file).unwrap().links, 2);
        let disk = fs.unmount().unwrap();
        e2fsck_bytes(disk.as_bytes()).unwrap();
    }

    #[test]
    fn running_out_of_inodes_is_reported_and_undone_cleanly() {
        let mut fs = fresh(&["-N", "32"]);
        let mut made = 0;
        let err = loop {
            match fs.create_file(ROOT_INO, format!("f{made}").as_bytes()) {
                Ok(_) => made += 1,
                Err(err) => break err,
            }
            assert!(made < 1000, "never ran out of inodes");
        };
        assert_eq!(err, FsError::NoInodes);
        assert_eq!(fs.free_counts().1, 0);
        assert_eq!(fs.mkdir(ROOT_INO, b"dir"), Err(FsError::NoInodes));
        fs.unlink(ROOT_INO, b"f0").unwrap();
        fs.mkdir(ROOT_INO, b"dir").unwrap();
        let disk = fs.unmount().unwrap();
        e2fsck_bytes(disk.as_bytes()).unwrap();
    }

    /// A directory that needs a new block, and an indirect block to map
    /// it, on a disk with only `free` blocks left: whatever is refused must
    /// leave nothing allocated (once, the indirect block leaked when the
    /// data block could not be had), and `e2fsck -fn` finds the disk clean.
    #[test]
    fn growing_a_directory_on_a_full_disk_leaks_nothing() {
        // 250-byte names: three 260-byte records per 1 KiB block.
        let name = |i: usize| {
            let mut name = alloc::format!("{i:03}").into_bytes();
            name.resize(250, b'n');
            name
        };
        for free in 0..4u32 {
            for op in ["link", "create", "mkdir"] {
                let mut fs = fresh(&[]);
                let dir = fs.mkdir(ROOT_INO, b"d").unwrap();
                let target = fs.create_file(ROOT_INO, b"t").unwrap();
                // Twelve full blocks: the next name needs the 13th block,
                // the first one mapped through the single indirect block.
                for i in 0..36 {
                    fs.link(dir, &name(i), target).unwrap();
                }
                assert_eq!(fs.stat(dir).unwrap().size, 12 * 1024);
                // Use up the disk but `free` blocks: a big file, then
                // one-block files (direct blocks: no indirect block to
                // overshoot with).
                let big = fs.create_file(ROOT_INO, b"big").unwrap();
                let mut size = 0;
                while fs.free_counts().0 > free + 16 {
                    fs.write(big, size, &[1; 1024]).unwrap();
                    size += 1024;
                }
                let mut small = 0;
                while fs.free_counts().0 > free {
                    let file = fs
                        .create_file(ROOT_INO, alloc::format!("s{small}").as_bytes())
                        .unwrap();
                    fs.write(file, 0, b"x").unwrap();
                    small += 1;
                }
                assert_eq!(fs.free_counts().0, free);
                let before = fs.free_counts();
                let result = match op {
                    "link" => fs.link(dir, &name(36), target),
                    "create" => fs.create_file(dir, &name(36)).map(drop),
                    _ => fs.mkdir(dir, &name(36)).map(drop),
                };
                match result {
                    Err(FsError::NoSpace) => assert_eq!(
                        fs.free_counts(),
                        before,
                        "{op} with {free} free blocks was refused but allocated something"
                    ),
                    Ok(()) => assert!(free >= 2, "{op} fit in {free} free blocks"),
                    Err(other) => panic!("{op} with {free} free blocks: {other:?}"),
                }
                let disk = fs.unmount().unwrap();
                if let Err(report) = e2fsck_bytes(disk.as_bytes()) {
                    panic!("{op} with {free} free blocks left the disk damaged:\n{report}");
                }
            }
        }
    }

    #[test]
    fn a_removed_directory_accepts_no_new_names() {
        let mut fs = fresh(&[]);
        let dir = fs.mkdir(ROOT_INO, b"gone").unwrap();
        fs.open_inode(dir).unwrap(); // a process's working directory
        fs.rmdir(ROOT_INO, b"gone").unwrap();
        assert_eq!(fs.create_file(dir, b"x"), Err(FsError::NotFound));
        assert_eq!(fs.mkdir(dir, b"x"), Err(FsError::NotFound));
        // Held, it is not freed, so its number is not given to a new inode;
        // it lists nothing, and `..` leads nowhere.
        let other = fs.mkdir(ROOT_INO, b"other").unwrap();
        assert_ne!(other, dir);
        assert_eq!(fs.read_dir(dir, 0), Ok(None));
        assert_eq!(fs.lookup(dir, b"."), Ok(dir));
        assert_eq!(fs.lookup(dir, b".."), Err(FsError::NotFound));
        assert_eq!(fs.stat(dir).unwrap().links, 0);
        fs.release_inode(dir).unwrap();
        assert_eq!(fs.stat(dir), Err(FsError::InvalidArgument));
        // The same for a directory replaced by a rename.
        let held = fs.mkdir(ROOT_INO, b"held").unwrap();
        fs.open_inode(held).unwrap();
        fs.rename(ROOT_INO, b"other", ROOT_INO, b"held").unwrap();
        assert_eq!(fs.read_dir(held, 0), Ok(None));
        fs.release_inode(held).unwrap();
        assert_eq!(fs.lookup(ROOT_INO, b"held"), Ok(other));
        let disk = fs.unmount().unwrap();
        e2fsck_bytes(disk.as_bytes()).unwrap();
    }
}
