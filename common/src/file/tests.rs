//! Host tests of the file-call rules: every rule and every error, against
//! a fake file system that records the steps it was asked to take (so a
//! test can check that a refused call changed nothing), and once against
//! the real ext2 code (the mono-kernel's implementation of `FileSystem`),
//! judged by `e2fsck`.

use super::*;
use crate::abi::errno::Errno;
use crate::abi::fs::open_flags::*;
use crate::abi::fs::{CONSOLE_MAJOR, FileType, MAX_OPEN_FILES, NULL_MAJOR};
use crate::abi::syscall::MAX_PATH;
use crate::fs::{Ino, InodeKind, ROOT_INO};
use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;

// ---------------------------------------------------------------------------
// The fake file system
// ---------------------------------------------------------------------------

/// One inode of the fake file system.
#[derive(Debug, Clone)]
struct FakeInode {
    kind: InodeKind,
    major: u32,
    minor: u32,
    size: u64,
    /// A directory's entries (name → inode); `.` and `..` are implicit.
    entries: BTreeMap<Vec<u8>, Ino>,
    /// A directory's parent (itself for the root).
    parent: Ino,
    /// `open_inode` references held.
    open: u32,
}

/// A step the rules asked of the file system, with the inode or name it
/// was about (enough to tell the steps apart in assertions).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Lookup(Vec<u8>),
    LookupParent(Vec<u8>),
    CreateFile(Vec<u8>),
    Truncate(Ino),
    OpenInode(Ino),
    Mkdir(Vec<u8>),
    Mknod(Vec<u8>),
    Link(Vec<u8>),
    Unlink(Vec<u8>),
    Rmdir(Vec<u8>),
    Rename(Vec<u8>, Vec<u8>),
    Symlink(Vec<u8>),
}

/// An in-memory tree with ext2's path rules (absolute or relative paths,
/// `.`, `..`, empty components skipped) and ext2's errors.
struct FakeFs {
    inodes: BTreeMap<Ino, FakeInode>,
    next_ino: Ino,
    /// Every step asked, in order.
    steps: Vec<Step>,
    /// `Some(errno)`: the next step that changes something fails with it.
    fail_next_change: Option<Errno>,
}

impl FakeFs {
    /// `/` holding `dir/` (with `dir/inner`), `file` (5 bytes), `console`
    /// (the console device), `tty` (another character device), `disk` (a
    /// block device), `fifo` and `link` (a symbolic link).
    fn new() -> FakeFs {
        let mut fs = FakeFs {
            inodes: BTreeMap::new(),
            next_ino: ROOT_INO,
            steps: Vec::new(),
            fail_next_change: None,
        };
        let root = fs.add(ROOT_INO, InodeKind::Dir, (0, 0));
        assert_eq!(root, ROOT_INO);
        let dir = fs.add_named(root, b"dir", InodeKind::Dir, (0, 0));
        fs.add_named(dir, b"inner", InodeKind::File, (0, 0));
        let file = fs.add_named(root, b"file", InodeKind::File, (0, 0));
        fs.inodes.get_mut(&file).unwrap().size = 5;
        fs.add_named(root, b"console", InodeKind::CharDevice, (CONSOLE_MAJOR, 7));
        fs.add_named(root, b"tty", InodeKind::CharDevice, (CONSOLE_MAJOR + 1, 0));
        fs.add_named(root, b"disk", InodeKind::BlockDevice, (CONSOLE_MAJOR, 0));
        fs.add_named(root, b"fifo", InodeKind::Fifo, (0, 0));
        fs.add_named(root, b"link", InodeKind::Symlink, (0, 0));
        fs.steps.clear();
        fs
    }

    fn add(&mut self, parent: Ino, kind: InodeKind, (major, minor): (u32, u32)) -> Ino {
        let ino = self.next_ino;
        self.next_ino += 1;
        let inode = FakeInode {
            kind,
            major,
            minor,
            size: 0,
            entries: BTreeMap::new(),
            parent,
            open: 0,
        };
        self.inodes.insert(ino, inode);
        ino
    }

    fn add_named(&mut self, dir: Ino, name: &[u8], kind: InodeKind, numbers: (u32, u32)) -> Ino {
        let ino = self.add(dir, kind, numbers);
        self.inodes
            .get_mut(&dir)
            .unwrap()
            .entries
            .insert(name.to_vec(), ino);
        ino
    }

    /// The inode `path` names from the root (panics if none: test setup).
    fn ino(&self, path: &str) -> Ino {
        let mut current = ROOT_INO;
        for name in path.split('/').filter(|name| !name.is_empty()) {
            current = self.inodes[&current].entries[name.as_bytes()];
        }
        current
    }

    fn inode(&self, path: &str) -> &FakeInode {
        &self.inodes[&self.ino(path)]
    }

    fn exists(&self, path: &str) -> bool {
        let (parent, name) = path.rsplit_once('/').unwrap_or(("", path));
        self.inodes[&self.ino(parent)]
            .entries
            .contains_key(name.as_bytes())
    }

    /// Did any step change the file system?
    fn changed_anything(&self) -> bool {
        self.steps
            .iter()
            .any(|step| !matches!(step, Step::Lookup(_) | Step::LookupParent(_)))
    }

    fn directory(&self, ino: Ino) -> Result<&FakeInode, Errno> {
        match self.inodes.get(&ino) {
            Some(inode) if inode.kind == InodeKind::Dir => Ok(inode),
            Some(_) => Err(Errno::ENOTDIR),
            None => Err(Errno::EINVAL),
        }
    }

    /// One step of a walk, as ext2's: `.`, `..`, or an entry.
    fn step(&self, dir: Ino, name: &[u8]) -> Result<Ino, Errno> {
        let inode = self.directory(dir)?;
        match name {
            b"." => Ok(dir),
            b".." => Ok(inode.parent),
            _ if name.len() > 255 => Err(Errno::ENAMETOOLONG),
            _ => inode.entries.get(name).copied().ok_or(Errno::ENOENT),
        }
    }

    fn start(cwd: Ino, path: &[u8]) -> Ino {
        if path.first() == Some(&b'/') {
            ROOT_INO
        } else {
            cwd
        }
    }

    fn names(path: &[u8]) -> impl Iterator<Item = &[u8]> {
        path.split(|&byte| byte == b'/')
            .filter(|name| !name.is_empty())
    }

    /// Fails if a failure was planted for the next change.
    fn change(&mut self) -> Result<(), Errno> {
        match self.fail_next_change.take() {
            Some(errno) => Err(errno),
            None => Ok(()),
        }
    }

    /// Checks that `name` may be created in `dir`.
    fn new_name(&self, dir: Ino, name: &[u8]) -> Result<(), Errno> {
        let inode = self.directory(dir)?;
        if name == b"." || name == b".." {
            return Err(Errno::EINVAL);
        }
        if inode.entries.contains_key(name) {
            return Err(Errno::EEXIST);
        }
        Ok(())
    }

    /// Checks that `name` may be removed from `dir`; returns its inode.
    fn old_name(&self, dir: Ino, name: &[u8]) -> Result<Ino, Errno> {
        if name == b"." || name == b".." {
            return Err(Errno::EINVAL);
        }
        self.step(dir, name)
    }
}

impl FileSystem for FakeFs {
    fn lookup(&mut self, cwd: Ino, path: &[u8]) -> Result<Found, Errno> {
        self.steps.push(Step::Lookup(path.to_vec()));
        if path.is_empty() {
            return Err(Errno::ENOENT);
        }
        let mut current = FakeFs::start(cwd, path);
        self.directory(current)?;
        for name in FakeFs::names(path) {
            current = self.step(current, name)?;
        }
        let inode = &self.inodes[&current];
        Ok(Found {
            ino: current,
            kind: inode.kind,
            major: inode.major,
        })
    }

    fn lookup_parent<'p>(&mut self, cwd: Ino, path: &'p [u8]) -> Result<(Ino, &'p [u8]), Errno> {
        self.steps.push(Step::LookupParent(path.to_vec()));
        let names: Vec<&[u8]> = FakeFs::names(path).collect();
        let (last, walk) = names.split_last().ok_or(Errno::EINVAL)?;
        let mut current = FakeFs::start(cwd, path);
        self.directory(current)?;
        for name in walk {
            current = self.step(current, name)?;
        }
        Ok((current, last))
    }

    /// The fake has no links to follow: the same as `lookup`.
    fn lookup_link(&mut self, cwd: Ino, path: &[u8]) -> Result<Found, Errno> {
        self.lookup(cwd, path)
    }

    /// The fake keeps no targets: a symlink is a name of kind `Symlink`.
    fn symlink(&mut self, dir: Ino, name: &[u8], _target: &[u8]) -> Result<(), Errno> {
        self.steps.push(Step::Symlink(name.to_vec()));
        self.new_name(dir, name)?;
        self.change()?;
        self.add_named(dir, name, InodeKind::Symlink, (0, 0));
        Ok(())
    }

    fn create_file(&mut self, dir: Ino, name: &[u8]) -> Result<Ino, Errno> {
        self.steps.push(Step::CreateFile(name.to_vec()));
        self.new_name(dir, name)?;
        self.change()?;
        Ok(self.add_named(dir, name, InodeKind::File, (0, 0)))
    }

    fn truncate(&mut self, ino: Ino, size: u64) -> Result<(), Errno> {
        self.steps.push(Step::Truncate(ino));
        self.change()?;
        self.inodes.get_mut(&ino).ok_or(Errno::EINVAL)?.size = size;
        Ok(())
    }

    fn open_inode(&mut self, ino: Ino) -> Result<(), Errno> {
        self.steps.push(Step::OpenInode(ino));
        self.change()?;
        self.inodes.get_mut(&ino).ok_or(Errno::EINVAL)?.open += 1;
        Ok(())
    }

    fn mkdir(&mut self, dir: Ino, name: &[u8]) -> Result<(), Errno> {
        self.steps.push(Step::Mkdir(name.to_vec()));
        self.new_name(dir, name)?;
        self.change()?;
        self.add_named(dir, name, InodeKind::Dir, (0, 0));
        Ok(())
    }

    fn mknod(&mut self, dir: Ino, name: &[u8], major: u32, minor: u32) -> Result<(), Errno> {
        self.steps.push(Step::Mknod(name.to_vec()));
        self.new_name(dir, name)?;
        self.change()?;
        self.add_named(dir, name, InodeKind::CharDevice, (major, minor));
        Ok(())
    }

    fn link(&mut self, dir: Ino, name: &[u8], target: Ino) -> Result<(), Errno> {
        self.steps.push(Step::Link(name.to_vec()));
        if self.inodes[&target].kind == InodeKind::Dir {
            return Err(Errno::EPERM);
        }
        self.new_name(dir, name)?;
        self.change()?;
        self.inodes
            .get_mut(&dir)
            .unwrap()
            .entries
            .insert(name.to_vec(), target);
        Ok(())
    }

    fn unlink(&mut self, dir: Ino, name: &[u8]) -> Result<(), Errno> {
        self.steps.push(Step::Unlink(name.to_vec()));
        let ino = self.old_name(dir, name)?;
        if self.inodes[&ino].kind == InodeKind::Dir {
            return Err(Errno::EISDIR);
        }
        self.change()?;
        self.inodes.get_mut(&dir).unwrap().entries.remove(name);
        Ok(())
    }

    fn rmdir(&mut self, dir: Ino, name: &[u8]) -> Result<(), Errno> {
        self.steps.push(Step::Rmdir(name.to_vec()));
        let ino = self.old_name(dir, name)?;
        let inode = self.directory(ino)?;
        if !inode.entries.is_empty() {
            return Err(Errno::ENOTEMPTY);
        }
        self.change()?;
        self.inodes.get_mut(&dir).unwrap().entries.remove(name);
        Ok(())
    }

    fn rename(
        &mut self,
        old_dir: Ino,
        old_name: &[u8],
        new_dir: Ino,
        new_name: &[u8],
    ) -> Result<(), Errno> {
        self.steps
            .push(Step::Rename(old_name.to_vec(), new_name.to_vec()));
        let ino = self.old_name(old_dir, old_name)?;
        self.directory(new_dir)?;
        if new_name == b"." || new_name == b".." {
            return Err(Errno::EINVAL);
        }
        self.change()?;
        self.inodes
            .get_mut(&old_dir)
            .unwrap()
            .entries
            .remove(old_name);
        self.inodes
            .get_mut(&new_dir)
            .unwrap()
            .entries
            .insert(new_name.to_vec(), ino);
        if self.inodes[&ino].kind == InodeKind::Dir {
            self.inodes.get_mut(&ino).unwrap().parent = new_dir;
        }
        Ok(())
    }
}

/// A descriptor table with `used` descriptors taken.
fn table(used: usize) -> FdTable<u32> {
    let mut table = FdTable::new();
    for entry in 0..used {
        table.insert(entry as u32).unwrap();
    }
    table
}

fn flags(raw: u32) -> OpenFlags {
    OpenFlags::parse(u64::from(raw)).unwrap()
}

/// `open` from the root with a free descriptor.
fn open_at_root(fs: &mut FakeFs, path: &str, raw_flags: u32) -> Result<Opened, Errno> {
    open(fs, &table(0), ROOT_INO, path.as_bytes(), flags(raw_flags))
}

// ---------------------------------------------------------------------------
// Flags and paths
// ---------------------------------------------------------------------------

#[test]
fn open_flags_give_the_access_mode_and_options() {
    let read_only = flags(O_RDONLY);
    assert!(read_only.readable && !read_only.writable);
    assert!(!read_only.create && !read_only.truncate && !read_only.append);
    let write_only = flags(O_WRONLY);
    assert!(!write_only.readable && write_only.writable);
    let both = flags(O_RDWR | O_CREATE | O_TRUNC | O_APPEND);
    assert_eq!(
        both,
        OpenFlags {
            readable: true,
            writable: true,
            create: true,
            truncate: true,
            append: true,
        }
    );
}

#[test]
fn unknown_flags_and_access_mode_3_are_einval() {
    assert_eq!(OpenFlags::parse(u64::from(O_ACCMODE)), Err(Errno::EINVAL));
    assert_eq!(
        OpenFlags::parse(u64::from(O_ACCMODE | O_CREATE)),
        Err(Errno::EINVAL)
    );
    for bit in 0..64 {
        let flag = 1u64 << bit;
        let known = flag & u64::from(O_KNOWN) != 0;
        assert_eq!(OpenFlags::parse(flag).is_ok(), known, "flag bit {bit}");
    }
    // A bit above the 32 the vfs protocol carries is refused, not cut off.
    assert_eq!(OpenFlags::parse(1 << 32), Err(Errno::EINVAL));
    assert_eq!(
        OpenFlags::parse((1 << 40) | u64::from(O_RDWR)),
        Err(Errno::EINVAL)
    );
}

#[test]
fn paths_must_be_non_empty_and_at_most_max_path_bytes() {
    assert_eq!(check_path(b""), Err(Errno::ENOENT));
    assert_eq!(check_path(b"a"), Ok(&b"a"[..]));
    let longest = vec![b'a'; MAX_PATH];
    assert_eq!(check_path(&longest), Ok(&longest[..]));
    let too_long = vec![b'a'; MAX_PATH + 1];
    assert_eq!(check_path(&too_long), Err(Errno::ENAMETOOLONG));
}

#[test]
fn every_path_call_checks_its_paths_before_touching_the_file_system() {
    let too_long = vec![b'a'; MAX_PATH + 1];
    let mut fs = FakeFs::new();
    let cwd = ROOT_INO;
    for (path, errno) in [(&b""[..], Errno::ENOENT), (&too_long, Errno::ENAMETOOLONG)] {
        assert_eq!(
            open(&mut fs, &table(0), cwd, path, flags(O_CREATE | O_RDWR)),
            Err(errno)
        );
        assert_eq!(chdir(&mut fs, cwd, path), Err(errno));
        assert_eq!(mkdir(&mut fs, cwd, path), Err(errno));
        assert_eq!(mknod(&mut fs, cwd, path, 1, 0), Err(errno));
        assert_eq!(unlink(&mut fs, cwd, path), Err(errno));
        assert_eq!(link(&mut fs, cwd, path, b"new"), Err(errno));
        assert_eq!(link(&mut fs, cwd, b"file", path), Err(errno));
        assert_eq!(rename(&mut fs, cwd, path, b"new"), Err(errno));
        assert_eq!(rename(&mut fs, cwd, b"file", path), Err(errno));
        assert_eq!(symlink(&mut fs, cwd, path, b"new"), Err(errno));
        assert_eq!(symlink(&mut fs, cwd, b"file", path), Err(errno));
        assert_eq!(readlink(&mut fs, cwd, path), Err(errno));
    }
    assert_eq!(fs.steps, [], "no step was taken");
}

#[test]
fn symlink_names_a_link_in_the_parent_and_readlink_wants_a_link() {
    let mut fs = FakeFs::new();
    symlink(&mut fs, ROOT_INO, b"/nowhere", b"dir/link").unwrap();
    assert_eq!(
        fs.steps,
        [
            Step::LookupParent(b"dir/link".to_vec()),
            Step::Symlink(b"link".to_vec())
        ]
    );
    let link = fs.ino("dir/link");
    assert_eq!(readlink(&mut fs, ROOT_INO, b"dir/link"), Ok(link));
    assert_eq!(readlink(&mut fs, ROOT_INO, b"file"), Err(Errno::EINVAL));
    assert_eq!(
        symlink(&mut fs, ROOT_INO, b"x", b"dir/link"),
        Err(Errno::EEXIST)
    );
}

// ---------------------------------------------------------------------------
// open
// ---------------------------------------------------------------------------

#[test]
fn open_of_a_file_holds_its_inode_and_reports_the_access_mode() {
    let mut fs = FakeFs::new();
    let file = fs.ino("file");
    let opened = open_at_root(&mut fs, "/file", O_RDONLY).unwrap();
    assert_eq!(
        opened,
        Opened {
            ino: file,
            console: false,
            null: false,
            readable: true,
            writable: false,
            append: false,
        }
    );
    assert_eq!(opened.kind::<()>(), FileKind::Inode(file));
    assert_eq!(
        fs.steps,
        [Step::Lookup(b"/file".to_vec()), Step::OpenInode(file)]
    );
    assert_eq!(fs.inode("file").open, 1);
    let opened = open_at_root(&mut fs, "file", O_WRONLY | O_APPEND).unwrap();
    assert!(!opened.readable && opened.writable && opened.append);
    assert_eq!(fs.inode("file").open, 2, "each open holds the inode once");
}

#[test]
fn open_resolves_relative_paths_from_the_working_directory() {
    let mut fs = FakeFs::new();
    let dir = fs.ino("dir");
    let inner = fs.ino("dir/inner");
    let opened = open(&mut fs, &table(0), dir, b"inner", flags(O_RDONLY)).unwrap();
    assert_eq!(opened.ino, inner);
    let opened = open(&mut fs, &table(0), dir, b"../file", flags(O_RDONLY)).unwrap();
    assert_eq!(opened.ino, fs.ino("file"));
    let opened = open(&mut fs, &table(0), dir, b"/dir/./inner", flags(O_RDONLY)).unwrap();
    assert_eq!(opened.ino, inner);
}

#[test]
fn open_of_a_missing_name_is_enoent_without_o_create() {
    let mut fs = FakeFs::new();
    assert_eq!(open_at_root(&mut fs, "missing", O_RDWR), Err(Errno::ENOENT));
    assert!(!fs.exists("missing"));
    assert!(!fs.changed_anything());
    assert_eq!(
        open_at_root(&mut fs, "file/below", O_RDONLY),
        Err(Errno::ENOTDIR),
        "a file used as a directory"
    );
}

#[test]
fn o_create_creates_a_regular_file_in_the_parent_directory() {
    let mut fs = FakeFs::new();
    let opened = open_at_root(&mut fs, "dir/new", O_CREATE | O_WRONLY).unwrap();
    let new = fs.ino("dir/new");
    assert_eq!(opened.ino, new);
    assert_eq!(opened.kind::<()>(), FileKind::Inode(new));
    assert!(!opened.readable && opened.writable);
    assert_eq!(fs.inodes[&new].kind, InodeKind::File);
    assert_eq!(
        fs.steps,
        [
            Step::Lookup(b"dir/new".to_vec()),
            Step::LookupParent(b"dir/new".to_vec()),
            Step::CreateFile(b"new".to_vec()),
            Step::OpenInode(new),
        ],
        "a new file is known to be a regular file: no stat, no truncate"
    );
    assert_eq!(fs.inodes[&new].open, 1);
}

#[test]
fn o_create_of_an_existing_file_opens_it() {
    let mut fs = FakeFs::new();
    let file = fs.ino("file");
    let opened = open_at_root(&mut fs, "file", O_CREATE | O_RDWR).unwrap();
    assert_eq!(opened.ino, file);
    assert!(!fs.steps.contains(&Step::CreateFile(b"file".to_vec())));
    assert_eq!(fs.inode("file").size, 5, "not truncated without O_TRUNC");
}

#[test]
fn o_create_reports_the_errors_of_finding_the_parent_and_creating() {
    let mut fs = FakeFs::new();
    assert_eq!(
        open_at_root(&mut fs, "nodir/new", O_CREATE | O_RDWR),
        Err(Errno::ENOENT),
        "the parent directory is missing"
    );
    assert_eq!(
        open_at_root(&mut fs, "file/new", O_CREATE | O_RDWR),
        Err(Errno::ENOTDIR),
        "the parent is a file"
    );
    fs.fail_next_change = Some(Errno::ENOSPC);
    assert_eq!(
        open_at_root(&mut fs, "new", O_CREATE | O_RDWR),
        Err(Errno::ENOSPC)
    );
    assert!(!fs.exists("new"));
    assert!(
        !fs.steps.iter().any(|s| matches!(s, Step::OpenInode(_))),
        "nothing is held open after a failure"
    );
    // A lookup error other than ENOENT is not a reason to create.
    let too_long_name = alloc::format!("dir/{}", "n".repeat(256));
    assert_eq!(
        open_at_root(&mut fs, &too_long_name, O_CREATE | O_RDWR),
        Err(Errno::ENAMETOOLONG)
    );
    assert!(
        !fs.steps
            .iter()
            .any(|s| matches!(s, Step::CreateFile(n) if n.len() > 255))
    );
}

#[test]
fn a_directory_opens_read_only_and_is_eisdir_for_writing() {
    let mut fs = FakeFs::new();
    let dir = fs.ino("dir");
    let opened = open_at_root(&mut fs, "dir", O_RDONLY).unwrap();
    assert_eq!(opened.kind::<()>(), FileKind::Inode(dir));
    fs.steps.clear();
    for mode in [O_WRONLY, O_RDWR, O_RDWR | O_TRUNC, O_WRONLY | O_CREATE] {
        assert_eq!(open_at_root(&mut fs, "dir", mode), Err(Errno::EISDIR));
    }
    assert!(!fs.changed_anything(), "EISDIR holds and truncates nothing");
    // O_TRUNC with O_RDONLY is ignored for a directory, as for any file.
    assert!(open_at_root(&mut fs, "/", O_RDONLY | O_TRUNC).is_ok());
    assert!(!fs.steps.iter().any(|s| matches!(s, Step::Truncate(_))));
}

#[test]
fn the_console_is_a_character_device_with_the_console_major() {
    let mut fs = FakeFs::new();
    let console = fs.ino("console");
    assert_eq!(fs.inode("console").minor, 7, "any minor number");
    let opened = open_at_root(&mut fs, "console", O_RDWR | O_TRUNC).unwrap();
    assert!(opened.console && opened.readable && opened.writable);
    assert_eq!(opened.kind::<()>(), FileKind::Console(console));
    assert_eq!(
        fs.steps,
        [Step::Lookup(b"console".to_vec()), Step::OpenInode(console)],
        "a device is never truncated"
    );
}

#[test]
fn the_null_device_is_a_character_device_with_the_null_major() {
    let mut fs = FakeFs::new();
    assert_eq!(mknod(&mut fs, ROOT_INO, b"null", NULL_MAJOR, 5), Ok(()));
    let null = fs.ino("null");
    let opened = open_at_root(&mut fs, "null", O_RDWR | O_TRUNC).unwrap();
    assert!(opened.null && !opened.console && opened.readable && opened.writable);
    assert_eq!(opened.kind::<()>(), FileKind::Null(null));
    assert!(
        !fs.steps.iter().any(|s| matches!(s, Step::Truncate(_))),
        "a device is never truncated"
    );
}

#[test]
fn other_devices_and_named_pipes_are_enodev() {
    let mut fs = FakeFs::new();
    for name in ["tty", "disk", "fifo"] {
        for mode in [O_RDONLY, O_RDWR] {
            assert_eq!(
                open_at_root(&mut fs, name, mode),
                Err(Errno::ENODEV),
                "{name}"
            );
        }
    }
    assert!(!fs.changed_anything());
}

#[test]
fn a_symbolic_link_opens_as_an_inode() {
    // Not followed: opening it gives the link itself (reads show its target).
    let mut fs = FakeFs::new();
    let link = fs.ino("link");
    let opened = open_at_root(&mut fs, "link", O_RDONLY).unwrap();
    assert_eq!(opened.kind::<()>(), FileKind::Inode(link));
}

#[test]
fn o_trunc_empties_only_a_regular_file_opened_for_writing() {
    let mut fs = FakeFs::new();
    let file = fs.ino("file");
    open_at_root(&mut fs, "file", O_RDONLY | O_TRUNC).unwrap();
    assert_eq!(fs.inode("file").size, 5, "read-only: not truncated");
    open_at_root(&mut fs, "file", O_WRONLY | O_TRUNC).unwrap();
    assert_eq!(fs.inode("file").size, 0);
    fs.inodes.get_mut(&file).unwrap().size = 9;
    fs.steps.clear();
    open_at_root(&mut fs, "file", O_RDWR | O_TRUNC).unwrap();
    assert_eq!(fs.inode("file").size, 0);
    assert_eq!(
        fs.steps,
        [
            Step::Lookup(b"file".to_vec()),
            Step::Truncate(file),
            Step::OpenInode(file)
        ],
        "truncated before it is held open"
    );
    fs.fail_next_change = Some(Errno::EIO);
    assert_eq!(
        open_at_root(&mut fs, "file", O_RDWR | O_TRUNC),
        Err(Errno::EIO)
    );
    assert_eq!(fs.inode("file").open, 3, "a failed truncate holds nothing");
}

#[test]
fn a_full_descriptor_table_is_emfile_before_anything_changes() {
    let mut fs = FakeFs::new();
    let full = table(MAX_OPEN_FILES);
    for (path, mode) in [
        ("new", O_CREATE | O_RDWR),
        ("file", O_RDWR | O_TRUNC),
        ("missing", O_RDONLY),
        ("dir", O_RDWR),
    ] {
        assert_eq!(
            open(&mut fs, &full, ROOT_INO, path.as_bytes(), flags(mode)),
            Err(Errno::EMFILE),
            "{path}"
        );
    }
    assert_eq!(fs.steps, [], "not even a lookup");
    assert!(!fs.exists("new"));
    assert_eq!(fs.inode("file").size, 5);
    // One free descriptor is enough.
    assert!(
        open(
            &mut fs,
            &table(MAX_OPEN_FILES - 1),
            ROOT_INO,
            b"file",
            flags(O_RDONLY)
        )
        .is_ok()
    );
    // The path is checked first.
    assert_eq!(
        open(&mut fs, &full, ROOT_INO, b"", flags(O_RDONLY)),
        Err(Errno::ENOENT)
    );
}

#[test]
fn a_failed_open_inode_is_the_error_of_open() {
    let mut fs = FakeFs::new();
    fs.fail_next_change = Some(Errno::EIO);
    assert_eq!(open_at_root(&mut fs, "file", O_RDONLY), Err(Errno::EIO));
    assert_eq!(fs.inode("file").open, 0);
}

// ---------------------------------------------------------------------------
// chdir, mkdir, mknod, unlink, link, rename
// ---------------------------------------------------------------------------

#[test]
fn chdir_returns_the_directory_and_refuses_anything_else() {
    let mut fs = FakeFs::new();
    let dir = fs.ino("dir");
    assert_eq!(chdir(&mut fs, ROOT_INO, b"dir"), Ok(dir));
    assert_eq!(chdir(&mut fs, dir, b".."), Ok(ROOT_INO));
    assert_eq!(chdir(&mut fs, dir, b"."), Ok(dir));
    assert_eq!(chdir(&mut fs, dir, b"/"), Ok(ROOT_INO));
    assert_eq!(chdir(&mut fs, ROOT_INO, b"file"), Err(Errno::ENOTDIR));
    assert_eq!(chdir(&mut fs, ROOT_INO, b"console"), Err(Errno::ENOTDIR));
    assert_eq!(chdir(&mut fs, ROOT_INO, b"missing"), Err(Errno::ENOENT));
    assert!(!fs.changed_anything());
}

#[test]
fn mkdir_creates_the_last_name_in_its_parent() {
    let mut fs = FakeFs::new();
    let dir = fs.ino("dir");
    assert_eq!(mkdir(&mut fs, dir, b"sub"), Ok(()));
    assert_eq!(fs.inode("dir/sub").kind, InodeKind::Dir);
    assert_eq!(mkdir(&mut fs, ROOT_INO, b"/dir/sub/deeper/"), Ok(()));
    assert_eq!(fs.inode("dir/sub/deeper").kind, InodeKind::Dir);
    assert_eq!(mkdir(&mut fs, ROOT_INO, b"dir"), Err(Errno::EEXIST));
    assert_eq!(mkdir(&mut fs, ROOT_INO, b"no/sub"), Err(Errno::ENOENT));
    assert_eq!(mkdir(&mut fs, ROOT_INO, b"/"), Err(Errno::EINVAL));
}

#[test]
fn device_numbers_must_fit_32_bits() {
    assert_eq!(device_numbers(1, 0), Ok((1, 0)));
    let max = u64::from(u32::MAX);
    assert_eq!(device_numbers(max, max), Ok((u32::MAX, u32::MAX)));
    assert_eq!(device_numbers(max + 1, 0), Err(Errno::EINVAL));
    assert_eq!(device_numbers(0, max + 1), Err(Errno::EINVAL));
    assert_eq!(device_numbers(u64::MAX, u64::MAX), Err(Errno::EINVAL));
}

#[test]
fn mknod_creates_a_character_device_that_open_recognises() {
    let mut fs = FakeFs::new();
    assert_eq!(
        mknod(&mut fs, ROOT_INO, b"dir/cons", CONSOLE_MAJOR, 0),
        Ok(())
    );
    let node = fs.inode("dir/cons");
    assert_eq!(
        (node.kind, node.major, node.minor),
        (InodeKind::CharDevice, CONSOLE_MAJOR, 0)
    );
    assert!(open_at_root(&mut fs, "dir/cons", O_RDWR).unwrap().console);
    assert_eq!(mknod(&mut fs, ROOT_INO, b"other", 9, 9), Ok(()));
    assert_eq!(open_at_root(&mut fs, "other", O_RDWR), Err(Errno::ENODEV));
    assert_eq!(mknod(&mut fs, ROOT_INO, b"other", 9, 9), Err(Errno::EEXIST));
}

#[test]
fn unlink_removes_a_directory_with_rmdir_and_anything_else_with_unlink() {
    let mut fs = FakeFs::new();
    assert_eq!(unlink(&mut fs, ROOT_INO, b"file"), Ok(()));
    assert!(!fs.exists("file"));
    assert!(fs.steps.contains(&Step::Unlink(b"file".to_vec())));
    assert_eq!(
        unlink(&mut fs, ROOT_INO, b"console"),
        Ok(()),
        "a device too"
    );
    mkdir(&mut fs, ROOT_INO, b"empty").unwrap();
    fs.steps.clear();
    assert_eq!(unlink(&mut fs, ROOT_INO, b"empty"), Ok(()));
    assert!(!fs.exists("empty"));
    assert_eq!(
        fs.steps,
        [
            Step::LookupParent(b"empty".to_vec()),
            Step::Lookup(b"empty".to_vec()),
            Step::Rmdir(b"empty".to_vec()),
        ]
    );
    assert_eq!(unlink(&mut fs, ROOT_INO, b"dir"), Err(Errno::ENOTEMPTY));
    assert!(fs.exists("dir"));
    assert_eq!(unlink(&mut fs, ROOT_INO, b"missing"), Err(Errno::ENOENT));
    assert_eq!(unlink(&mut fs, ROOT_INO, b"dir/."), Err(Errno::EINVAL));
    assert_eq!(unlink(&mut fs, ROOT_INO, b"dir/.."), Err(Errno::EINVAL));
    assert_eq!(unlink(&mut fs, ROOT_INO, b"/"), Err(Errno::EINVAL));
}

#[test]
fn link_gives_the_old_inode_a_new_name() {
    let mut fs = FakeFs::new();
    let file = fs.ino("file");
    assert_eq!(link(&mut fs, ROOT_INO, b"file", b"dir/again"), Ok(()));
    assert_eq!(fs.ino("dir/again"), file);
    assert_eq!(
        link(&mut fs, ROOT_INO, b"missing", b"x"),
        Err(Errno::ENOENT)
    );
    assert_eq!(
        link(&mut fs, ROOT_INO, b"file", b"no/x"),
        Err(Errno::ENOENT)
    );
    assert_eq!(
        link(&mut fs, ROOT_INO, b"file", b"dir/again"),
        Err(Errno::EEXIST)
    );
    assert_eq!(link(&mut fs, ROOT_INO, b"dir", b"x"), Err(Errno::EPERM));
    assert!(!fs.exists("x"));
}

#[test]
fn rename_moves_a_name_between_directories() {
    let mut fs = FakeFs::new();
    let file = fs.ino("file");
    assert_eq!(rename(&mut fs, ROOT_INO, b"file", b"dir/moved"), Ok(()));
    assert_eq!(fs.ino("dir/moved"), file);
    assert!(!fs.exists("file"));
    let dir = fs.ino("dir");
    assert_eq!(rename(&mut fs, dir, b"moved", b"../back"), Ok(()));
    assert_eq!(fs.ino("back"), file);
    assert_eq!(
        rename(&mut fs, ROOT_INO, b"missing", b"x"),
        Err(Errno::ENOENT)
    );
    assert_eq!(
        rename(&mut fs, ROOT_INO, b"back", b"no/x"),
        Err(Errno::ENOENT)
    );
    assert_eq!(rename(&mut fs, ROOT_INO, b"back", b"/"), Err(Errno::EINVAL));
}

#[test]
fn failures_of_the_file_system_are_the_errors_of_the_calls() {
    let mut fs = FakeFs::new();
    for errno in [Errno::ENOSPC, Errno::EIO, Errno::EROFS] {
        fs.fail_next_change = Some(errno);
        assert_eq!(mkdir(&mut fs, ROOT_INO, b"d"), Err(errno));
        fs.fail_next_change = Some(errno);
        assert_eq!(mknod(&mut fs, ROOT_INO, b"n", 1, 0), Err(errno));
        fs.fail_next_change = Some(errno);
        assert_eq!(unlink(&mut fs, ROOT_INO, b"file"), Err(errno));
        fs.fail_next_change = Some(errno);
        assert_eq!(link(&mut fs, ROOT_INO, b"file", b"l"), Err(errno));
        fs.fail_next_change = Some(errno);
        assert_eq!(rename(&mut fs, ROOT_INO, b"file", b"r"), Err(errno));
    }
    for name in ["d", "n", "l", "r"] {
        assert!(!fs.exists(name), "{name}");
    }
    assert!(fs.exists("file"));
}

// ---------------------------------------------------------------------------
// Pipes and descriptor tables
// ---------------------------------------------------------------------------

#[test]
fn fstat_of_a_pipe_reports_its_kind_length_and_one_link() {
    let stat = pipe_stat(17);
    assert_eq!(stat.kind, FileType::Pipe as u32);
    assert_eq!((stat.size, stat.nlink), (17, 1));
    assert_eq!((stat.dev, stat.ino, stat.major, stat.minor), (0, 0, 0, 0));
    assert_eq!(pipe_stat(0).size, 0);
}

#[test]
fn descriptors_are_the_lowest_free_and_the_table_fills_up() {
    let mut fds = FdTable::new();
    assert!(fds.has_free());
    assert_eq!(fds.insert('a'), Ok(0));
    assert_eq!(fds.insert('b'), Ok(1));
    assert_eq!(fds.insert('c'), Ok(2));
    assert_eq!(fds.remove(1), Some('b'));
    assert_eq!(fds.remove(1), None, "closed twice");
    assert_eq!(fds.insert('d'), Ok(1), "the lowest free descriptor");
    assert_eq!(fds.get(0), Some(&'a'));
    assert_eq!(fds.get(1), Some(&'d'));
    assert_eq!(fds.get(3), None);
    for fd in [MAX_OPEN_FILES as u64, u64::MAX, u64::MAX - 1] {
        assert_eq!(fds.get(fd), None, "fd {fd}");
        assert_eq!(fds.remove(fd), None, "fd {fd}");
    }
    for expected in 3..MAX_OPEN_FILES as u64 {
        assert_eq!(fds.insert('x'), Ok(expected));
    }
    assert!(!fds.has_free());
    assert_eq!(fds.insert('z'), Err('z'), "full: the entry is given back");
    assert_eq!(fds.iter().count(), MAX_OPEN_FILES);
    assert_eq!(fds.iter().take(3).collect::<Vec<_>>(), [&'a', &'d', &'c']);
}

#[test]
fn a_shared_table_has_the_same_entries_and_take_all_empties_it() {
    let mut fds = FdTable::new();
    fds.insert(alloc::rc::Rc::new(5)).unwrap();
    fds.insert(alloc::rc::Rc::new(6)).unwrap();
    fds.remove(0);
    let child = fds.share();
    assert_eq!(child, fds);
    let six = fds.get(1).unwrap();
    assert_eq!(
        alloc::rc::Rc::strong_count(six),
        2,
        "one object, two tables"
    );
    let all = fds.take_all();
    assert_eq!(all.iter().flatten().count(), 1);
    assert_eq!(fds, FdTable::default());
    assert_eq!(fds.insert(alloc::rc::Rc::new(7)), Ok(0));
}

// ---------------------------------------------------------------------------
// The real ext2 code as the file system (the mono-kernel's environment)
// ---------------------------------------------------------------------------

#[test]
fn the_rules_run_on_ext2_and_leave_a_clean_image() {
    use crate::block::FileDisk;
    use crate::fs::Ext2;
    use crate::fs::host_tools::{ScratchDir, e2fsck, mke2fs};

    let scratch = ScratchDir::new("file-rules");
    let image = scratch.path().join("disk.img");
    mke2fs(&image, 1024, 2048, None, &[]).unwrap();
    let mut fs = Ext2::mount(FileDisk::open(&image).unwrap(), 64).unwrap();
    let free = FdTable::<()>::new();
    let root = ROOT_INO;

    mkdir(&mut fs, root, b"dev").unwrap();
    mknod(&mut fs, root, b"/dev/console", CONSOLE_MAJOR, 0).unwrap();
    let console = open(&mut fs, &free, root, b"/dev/console", flags(O_RDWR)).unwrap();
    assert!(console.console);
    mknod(&mut fs, root, b"/dev/other", 4, 1).unwrap();
    assert_eq!(
        open(&mut fs, &free, root, b"/dev/other", flags(O_RDONLY)),
        Err(Errno::ENODEV)
    );

    let created = open(&mut fs, &free, root, b"f", flags(O_CREATE | O_RDWR)).unwrap();
    assert!(!created.console);
    fs.write(created.ino, 0, b"hello").unwrap();
    let again = open(&mut fs, &free, root, b"f", flags(O_WRONLY | O_TRUNC)).unwrap();
    assert_eq!(again.ino, created.ino);
    assert_eq!(fs.stat(created.ino).unwrap().size, 0);
    assert_eq!(
        open(&mut fs, &free, root, b"missing", flags(O_RDONLY)),
        Err(Errno::ENOENT)
    );
    assert_eq!(
        open(&mut fs, &free, root, b"dev", flags(O_RDWR)),
        Err(Errno::EISDIR)
    );

    let dev = chdir(&mut fs, root, b"dev").unwrap();
    assert_eq!(chdir(&mut fs, dev, b"console"), Err(Errno::ENOTDIR));
    link(&mut fs, dev, b"../f", b"g").unwrap();
    rename(&mut fs, root, b"dev/g", b"h").unwrap();
    assert_eq!(fs.stat(created.ino).unwrap().links, 2);
    unlink(&mut fs, root, b"h").unwrap();
    mkdir(&mut fs, root, b"d").unwrap();
    assert_eq!(unlink(&mut fs, root, b"dev"), Err(Errno::ENOTEMPTY));
    unlink(&mut fs, root, b"d").unwrap();
    assert_eq!(
        fs.lookup(root, b"d").map(|_| ()),
        Err(crate::fs::FsError::NotFound)
    );

    for opened in [console, created, again] {
        fs.release_inode(opened.ino).unwrap();
    }
    fs.unmount().unwrap();
    e2fsck(&image).unwrap();
}
