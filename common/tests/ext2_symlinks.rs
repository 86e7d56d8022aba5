//! Symbolic links (lab `fs`) checked against the real ext2 tools: links
//! made by our code read back with `debugfs` and pass `e2fsck -fn`; links
//! made by `debugfs symlink` and by `mke2fs -d` (from a host directory) are
//! followed by our path lookup. The tests are named `lab_fs_*`, the lab's
//! grader runs them (`cargo test -p common --test ext2_symlinks lab_fs`).
//!
//! They need e2fsprogs (`mke2fs`, `debugfs`, `e2fsck`); without them they
//! fail with a message saying so.

use common::block::FileDisk;
use common::fs::host_tools::{ScratchDir, debugfs, e2fsck, mke2fs};
use common::fs::{Ext2, FAST_SYMLINK_MAX, FsError, InodeKind, MAX_SYMLINKS, ROOT_INO};
use std::path::Path;

/// A fresh 1 KiB-block image with a file `/dir/file` holding `hello`.
fn image_with_a_file(scratch: &ScratchDir) -> std::path::PathBuf {
    let image = scratch.path().join("disk.img");
    mke2fs(&image, 1024, 4 * 1024, None, &[]).unwrap();
    let mut fs = Ext2::mount(FileDisk::open(&image).unwrap(), 64).unwrap();
    let dir = fs.mkdir(ROOT_INO, b"dir").unwrap();
    let file = fs.create_file(dir, b"file").unwrap();
    fs.write(file, 0, b"hello").unwrap();
    fs.unmount().unwrap();
    image
}

/// What `debugfs -R 'stat PATH'` says about an inode, as text.
fn debugfs_stat(image: &Path, path: &str) -> String {
    String::from_utf8_lossy(&debugfs(image, &format!("stat {path}")).unwrap()).into_owned()
}

#[test]
fn lab_fs_a_fast_symlink_reads_back_with_debugfs() {
    let scratch = ScratchDir::new("symlink-fast");
    let image = image_with_a_file(&scratch);
    let mut fs = Ext2::mount(FileDisk::open(&image).unwrap(), 64).unwrap();
    let link = fs.symlink(ROOT_INO, b"short", b"dir/file").unwrap();
    let stat = fs.stat(link).unwrap();
    assert_eq!(
        (stat.kind, stat.size, stat.sectors),
        (InodeKind::Symlink, 8, 0)
    );
    fs.unmount().unwrap();
    e2fsck(&image).unwrap();
    let report = debugfs_stat(&image, "/short");
    assert!(report.contains("Type: symlink"), "debugfs says:\n{report}");
    assert!(
        report.contains("Fast link dest: \"dir/file\""),
        "debugfs says:\n{report}"
    );
}

#[test]
fn lab_fs_a_slow_symlink_reads_back_with_debugfs() {
    let scratch = ScratchDir::new("symlink-slow");
    let image = image_with_a_file(&scratch);
    let mut fs = Ext2::mount(FileDisk::open(&image).unwrap(), 64).unwrap();
    // 60 bytes: one too many for the inode, so it takes a data block.
    let target = format!("/dir/{}/../file", "x".repeat(60 - 13));
    assert_eq!(target.len(), FAST_SYMLINK_MAX + 1);
    let link = fs.symlink(ROOT_INO, b"long", target.as_bytes()).unwrap();
    assert_eq!(fs.stat(link).unwrap().sectors, 2, "one 1 KiB block");
    let mut back = [0u8; 100];
    assert_eq!(fs.readlink(link, &mut back).unwrap(), 60);
    assert_eq!(&back[..60], target.as_bytes());
    // The longest a 1 KiB block holds, and one more.
    let longest = "a/".repeat(511) + "b";
    fs.symlink(ROOT_INO, b"longest", longest.as_bytes())
        .unwrap();
    let too_long = longest.clone() + "c";
    let before = fs.free_counts();
    assert_eq!(
        fs.symlink(ROOT_INO, b"too-long", too_long.as_bytes()),
        Err(FsError::NameTooLong)
    );
    assert_eq!(fs.free_counts(), before, "a refused symlink leaves nothing");
    fs.unmount().unwrap();
    e2fsck(&image).unwrap();
    let report = debugfs_stat(&image, "/long");
    assert!(report.contains("Type: symlink"), "debugfs says:\n{report}");
    assert!(
        report.contains("BLOCKS:"),
        "a slow link has a block:\n{report}"
    );
    let target_back = debugfs(&image, "cat /long").unwrap();
    assert_eq!(target_back, target.as_bytes(), "debugfs cat of the link");
}

#[test]
fn lab_fs_links_are_followed_and_unlinked() {
    let scratch = ScratchDir::new("symlink-follow");
    let image = image_with_a_file(&scratch);
    let mut fs = Ext2::mount(FileDisk::open(&image).unwrap(), 64).unwrap();
    let file = fs.lookup(ROOT_INO, b"/dir/file").unwrap();
    let dir = fs.lookup(ROOT_INO, b"/dir").unwrap();
    fs.symlink(ROOT_INO, b"to-dir", b"dir").unwrap();
    fs.symlink(dir, b"up", b"../to-dir/file").unwrap();
    fs.symlink(ROOT_INO, b"abs", b"/dir/up").unwrap();
    assert_eq!(
        fs.lookup(ROOT_INO, b"to-dir/file"),
        Ok(file),
        "a link in the middle"
    );
    assert_eq!(fs.lookup(ROOT_INO, b"/abs"), Ok(file), "a chain of three");
    assert_eq!(
        fs.lookup(dir, b"up"),
        Ok(file),
        "relative to the link's directory"
    );
    let link = fs.lookup_link(ROOT_INO, b"/abs").unwrap();
    assert_eq!(
        fs.stat(link).unwrap().kind,
        InodeKind::Symlink,
        "not followed"
    );
    assert_eq!(
        fs.lookup_parent(ROOT_INO, b"/to-dir/new"),
        Ok((dir, &b"new"[..]))
    );
    fs.symlink(ROOT_INO, b"dangling", b"nowhere").unwrap();
    assert_eq!(fs.lookup(ROOT_INO, b"dangling"), Err(FsError::NotFound));
    assert_eq!(fs.lookup(ROOT_INO, b"to-dir/file/x"), Err(FsError::NotDir));
    // Removing a link removes the link, never its target.
    fs.unlink(ROOT_INO, b"to-dir").unwrap();
    assert_eq!(fs.lookup(ROOT_INO, b"/abs"), Err(FsError::NotFound));
    assert_eq!(fs.lookup(ROOT_INO, b"/dir/file"), Ok(file));
    fs.unmount().unwrap();
    e2fsck(&image).unwrap();
}

#[test]
fn lab_fs_loops_end_in_eloop() {
    let scratch = ScratchDir::new("symlink-loop");
    let image = image_with_a_file(&scratch);
    let mut fs = Ext2::mount(FileDisk::open(&image).unwrap(), 64).unwrap();
    fs.symlink(ROOT_INO, b"self", b"self").unwrap();
    fs.symlink(ROOT_INO, b"ping", b"pong/x").unwrap();
    fs.symlink(ROOT_INO, b"pong", b"ping").unwrap();
    assert_eq!(fs.lookup(ROOT_INO, b"self"), Err(FsError::Loop));
    assert_eq!(fs.lookup(ROOT_INO, b"ping"), Err(FsError::Loop));
    assert_eq!(FsError::Loop.errno(), common::abi::errno::Errno::ELOOP);
    // A chain of exactly MAX_SYMLINKS links is followed; one more is not.
    let file = fs.lookup(ROOT_INO, b"/dir/file").unwrap();
    let mut previous = String::from("/dir/file");
    for i in 0..=MAX_SYMLINKS {
        let name = format!("chain{i}");
        fs.symlink(ROOT_INO, name.as_bytes(), previous.as_bytes())
            .unwrap();
        previous = name;
    }
    let last = format!("chain{}", MAX_SYMLINKS - 1);
    assert_eq!(fs.lookup(ROOT_INO, last.as_bytes()), Ok(file));
    let one_more = format!("chain{MAX_SYMLINKS}");
    assert_eq!(fs.lookup(ROOT_INO, one_more.as_bytes()), Err(FsError::Loop));
    fs.unmount().unwrap();
    e2fsck(&image).unwrap();
}

#[test]
fn lab_fs_links_made_by_the_tools_are_followed() {
    let scratch = ScratchDir::new("symlink-tools");
    // mke2fs -d copies host symlinks: a fast one and a slow one.
    let tree = scratch.path().join("tree");
    std::fs::create_dir_all(tree.join("sub")).unwrap();
    std::fs::write(tree.join("sub/data"), b"from the host").unwrap();
    std::os::unix::fs::symlink("sub/data", tree.join("fast")).unwrap();
    let long = format!("{}sub/../sub/data", "./".repeat(30));
    assert!(long.len() > FAST_SYMLINK_MAX);
    std::os::unix::fs::symlink(&long, tree.join("slow")).unwrap();
    let image = scratch.path().join("disk.img");
    mke2fs(&image, 1024, 4 * 1024, Some(&tree), &[]).unwrap();
    debugfs_write(&image, "symlink /made-by-debugfs /sub/data");
    let mut fs = Ext2::mount(FileDisk::open(&image).unwrap(), 64).unwrap();
    let data = fs.lookup(ROOT_INO, b"/sub/data").unwrap();
    for path in ["/fast", "/slow", "/made-by-debugfs"] {
        assert_eq!(fs.lookup(ROOT_INO, path.as_bytes()), Ok(data), "{path}");
    }
    let mut buf = [0u8; 200];
    let slow = fs.lookup_link(ROOT_INO, b"/slow").unwrap();
    let n = fs.readlink(slow, &mut buf).unwrap();
    assert_eq!(&buf[..n], long.as_bytes());
    assert_eq!(fs.readlink(data, &mut buf), Err(FsError::InvalidArgument));
}

/// A link whose target is empty (size 0) cannot be made by `symlink`, but
/// a disk made elsewhere may hold one: it names nothing (`NotFound`, as on
/// Linux), neither at the end of a path nor in the middle. (Walking the
/// empty target would stay in the directory holding the link: `/empty`
/// would open `/` and `/empty/sub/data` would find `/sub/data`.)
#[test]
fn lab_fs_an_empty_target_on_the_disk_names_nothing() {
    let scratch = ScratchDir::new("symlink-empty");
    let image = image_with_a_file(&scratch);
    debugfs_write(&image, "symlink /empty x");
    debugfs_write(&image, "sif /empty size 0");
    let mut fs = Ext2::mount(FileDisk::open(&image).unwrap(), 64).unwrap();
    let link = fs.lookup_link(ROOT_INO, b"/empty").unwrap();
    assert_eq!(fs.stat(link).unwrap().size, 0, "debugfs made it empty");
    assert_eq!(fs.lookup(ROOT_INO, b"/empty"), Err(FsError::NotFound));
    assert_eq!(
        fs.lookup(ROOT_INO, b"/empty/dir/file"),
        Err(FsError::NotFound)
    );
    assert_eq!(
        fs.lookup_parent(ROOT_INO, b"/empty/new")
            .map(|(dir, _)| dir),
        Err(FsError::NotFound)
    );
}

/// Runs a `debugfs -w` request that changes the image.
fn debugfs_write(image: &Path, request: &str) {
    let status = std::process::Command::new(common::fs::host_tools::tool("debugfs").unwrap())
        .args(["-w", "-R", request])
        .arg(image)
        .status()
        .unwrap();
    assert!(status.success(), "debugfs -w -R '{request}' failed");
}
