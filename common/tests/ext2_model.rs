//! Property test: random sequences of file-system operations, run both on
//! `common::fs` (over a real image file) and on a tiny in-memory model of a
//! Unix directory tree. After every sequence
//!
//! 1. each operation's result (success or the specific error) matched the
//!    model's,
//! 2. the tree read back through our code — names, kinds, contents, link
//!    counts — equals the model, and
//! 3. `e2fsck -fn` finds the image clean (bitmaps, free counts, directory
//!    link counts, `bg_used_dirs_count`, `i_blocks`...).
//!
//! Needs e2fsprogs; fails with a clear message without it.

use common::block::FileDisk;
use common::fs::host_tools::{ScratchDir, e2fsck, mke2fs};
use common::fs::{Ext2, FsError, Ino, InodeKind, ROOT_INO};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

/// Names are drawn from a small pool so operations collide often.
const NAMES: [&str; 4] = ["a", "b", "c", "a-much-longer-name-to-fill-directory-blocks"];

#[derive(Debug, Clone)]
enum Op {
    Create {
        dir: usize,
        name: usize,
    },
    Mkdir {
        dir: usize,
        name: usize,
    },
    Write {
        file: usize,
        offset: u32,
        len: u16,
        seed: u8,
    },
    Truncate {
        file: usize,
        size: u32,
    },
    Unlink {
        file: usize,
    },
    Rmdir {
        dir: usize,
    },
    Rename {
        src: usize,
        dst_dir: usize,
        name: usize,
    },
    Link {
        file: usize,
        dst_dir: usize,
        name: usize,
    },
    Remount,
}

fn op_strategy() -> impl Strategy<Value = Op> {
    let index = any::<usize>();
    let name = 0..NAMES.len();
    prop_oneof![
        3 => (index, name.clone()).prop_map(|(dir, name)| Op::Create { dir, name }),
        2 => (index, name.clone()).prop_map(|(dir, name)| Op::Mkdir { dir, name }),
        4 => (index, 0u32..400_000, 0u16..6000, any::<u8>())
            .prop_map(|(file, offset, len, seed)| Op::Write { file, offset, len, seed }),
        1 => (index, 0u32..400_000).prop_map(|(file, size)| Op::Truncate { file, size }),
        1 => index.prop_map(|file| Op::Unlink { file }),
        1 => index.prop_map(|dir| Op::Rmdir { dir }),
        2 => (index, index, name.clone()).prop_map(|(src, dst_dir, name)| Op::Rename { src, dst_dir, name }),
        1 => (index, index, name).prop_map(|(file, dst_dir, name)| Op::Link { file, dst_dir, name }),
        1 => Just(Op::Remount),
    ]
}

/// What a path names in the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Node {
    Dir,
    /// A file: an index into `Model::contents` (shared by hard links).
    File(usize),
}

/// The model: every path (absolute, without the root itself) and what it
/// names.
#[derive(Default)]
struct Model {
    paths: BTreeMap<String, Node>,
    contents: Vec<Vec<u8>>,
}

fn join(dir: &str, name: &str) -> String {
    if dir == "/" {
        format!("/{name}")
    } else {
        format!("{dir}/{name}")
    }
}

fn parent_of(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) => "/",
        Some(i) => &path[..i],
        None => "/",
    }
}

impl Model {
    fn dirs(&self) -> Vec<String> {
        let mut dirs = vec!["/".to_string()];
        dirs.extend(
            self.paths
                .iter()
                .filter(|(_, n)| **n == Node::Dir)
                .map(|(p, _)| p.clone()),
        );
        dirs
    }
    fn files(&self) -> Vec<String> {
        self.paths
            .iter()
            .filter(|(_, n)| **n != Node::Dir)
            .map(|(p, _)| p.clone())
            .collect()
    }
    fn has_children(&self, dir: &str) -> bool {
        let prefix = format!("{dir}/");
        self.paths.keys().any(|p| p.starts_with(&prefix))
    }
}

/// The errors we compare (`FsError` minus its details).
fn outcome(result: Result<(), FsError>) -> Result<(), String> {
    result.map_err(|e| format!("{e:?}"))
}

/// Applies `op` to the model and returns what the file system should say,
/// plus the arguments to give the file system (resolved paths).
fn model_apply(model: &mut Model, op: &Op) -> Option<(Op2, Result<(), String>)> {
    let err = |e: FsError| Err(format!("{e:?}"));
    let dirs = model.dirs();
    let files = model.files();
    Some(match *op {
        Op::Create { dir, name } | Op::Mkdir { dir, name } => {
            let dir = dirs[dir % dirs.len()].clone();
            let path = join(&dir, NAMES[name]);
            let is_dir = matches!(op, Op::Mkdir { .. });
            let expected = if model.paths.contains_key(&path) {
                err(FsError::Exists)
            } else {
                let node = if is_dir {
                    Node::Dir
                } else {
                    model.contents.push(Vec::new());
                    Node::File(model.contents.len() - 1)
                };
                model.paths.insert(path.clone(), node);
                Ok(())
            };
            (Op2::Create { path, is_dir }, expected)
        }
        Op::Write {
            file,
            offset,
            len,
            seed,
        } => {
            let path = files.get(file % files.len().max(1))?.clone();
            let Node::File(id) = model.paths[&path] else {
                unreachable!()
            };
            let data: Vec<u8> = (0..len as usize)
                .map(|i| seed.wrapping_add((i % 251) as u8))
                .collect();
            let content = &mut model.contents[id];
            let end = offset as usize + data.len();
            if !data.is_empty() {
                if content.len() < end {
                    content.resize(end, 0);
                }
                content[offset as usize..end].copy_from_slice(&data);
            }
            (Op2::Write { path, offset, data }, Ok(()))
        }
        Op::Truncate { file, size } => {
            let path = files.get(file % files.len().max(1))?.clone();
            let Node::File(id) = model.paths[&path] else {
                unreachable!()
            };
            model.contents[id].resize(size as usize, 0);
            (Op2::Truncate { path, size }, Ok(()))
        }
        Op::Unlink { file } => {
            let path = files.get(file % files.len().max(1))?.clone();
            model.paths.remove(&path);
            (Op2::Unlink { path }, Ok(()))
        }
        Op::Rmdir { dir } => {
            let path = dirs[dir % dirs.len()].clone();
            if path == "/" {
                return None;
            }
            let expected = if model.has_children(&path) {
                err(FsError::NotEmpty)
            } else {
                model.paths.remove(&path);
                Ok(())
            };
            (Op2::Rmdir { path }, expected)
        }
        Op::Rename { src, dst_dir, name } => {
            let all: Vec<String> = model.paths.keys().cloned().collect();
            let src = all.get(src % all.len().max(1))?.clone();
            let dst_dir = dirs[dst_dir % dirs.len()].clone();
            let dst = join(&dst_dir, NAMES[name]);
            let node = model.paths[&src];
            let expected = 'check: {
                if let Some(&old) = model.paths.get(&dst) {
                    if old == node && (node != Node::Dir || src == dst) {
                        break 'check Ok(()); // the same inode: nothing to do
                    }
                    match (node == Node::Dir, old == Node::Dir) {
                        (true, false) => break 'check err(FsError::NotDir),
                        (false, true) => break 'check err(FsError::IsDir),
                        (true, true) if model.has_children(&dst) => {
                            break 'check err(FsError::NotEmpty);
                        }
                        _ => {}
                    }
                }
                let inside = dst_dir == src || dst_dir.starts_with(&format!("{src}/"));
                if node == Node::Dir && parent_of(&src) != dst_dir && inside {
                    break 'check err(FsError::InvalidArgument);
                }
                // Commit: move src (and its subtree) to dst.
                model.paths.remove(&dst);
                let prefix = format!("{src}/");
                let moved: Vec<(String, Node)> = model
                    .paths
                    .iter()
                    .filter(|(p, _)| **p == src || p.starts_with(&prefix))
                    .map(|(p, n)| (p.clone(), *n))
                    .collect();
                for (old_path, n) in moved {
                    model.paths.remove(&old_path);
                    model
                        .paths
                        .insert(format!("{dst}{}", &old_path[src.len()..]), n);
                }
                Ok(())
            };
            (Op2::Rename { src, dst }, expected)
        }
        Op::Link {
            file,
            dst_dir,
            name,
        } => {
            let path = files.get(file % files.len().max(1))?.clone();
            let dst = join(&dirs[dst_dir % dirs.len()], NAMES[name]);
            let expected = if model.paths.contains_key(&dst) {
                err(FsError::Exists)
            } else {
                let node = model.paths[&path];
                model.paths.insert(dst.clone(), node);
                Ok(())
            };
            (Op2::Link { path, dst }, expected)
        }
        Op::Remount => (Op2::Remount, Ok(())),
    })
}

/// An operation with its paths resolved.
#[derive(Debug)]
enum Op2 {
    Create {
        path: String,
        is_dir: bool,
    },
    Write {
        path: String,
        offset: u32,
        data: Vec<u8>,
    },
    Truncate {
        path: String,
        size: u32,
    },
    Unlink {
        path: String,
    },
    Rmdir {
        path: String,
    },
    Rename {
        src: String,
        dst: String,
    },
    Link {
        path: String,
        dst: String,
    },
    Remount,
}

/// Runs an operation on the file system.
fn fs_apply(fs: &mut Ext2<FileDisk>, op: &Op2) -> Result<(), FsError> {
    match op {
        Op2::Create { path, is_dir } => {
            let (dir, name) = fs.lookup_parent(ROOT_INO, path.as_bytes())?;
            if *is_dir {
                fs.mkdir(dir, name)
            } else {
                fs.create_file(dir, name)
            }
            .map(|_| ())
        }
        Op2::Write { path, offset, data } => {
            let ino = fs.lookup(ROOT_INO, path.as_bytes())?;
            let n = fs.write(ino, u64::from(*offset), data)?;
            assert_eq!(n, data.len(), "short write");
            Ok(())
        }
        Op2::Truncate { path, size } => {
            let ino = fs.lookup(ROOT_INO, path.as_bytes())?;
            fs.truncate(ino, u64::from(*size))
        }
        Op2::Unlink { path } => {
            let (dir, name) = fs.lookup_parent(ROOT_INO, path.as_bytes())?;
            fs.unlink(dir, name)
        }
        Op2::Rmdir { path } => {
            let (dir, name) = fs.lookup_parent(ROOT_INO, path.as_bytes())?;
            fs.rmdir(dir, name)
        }
        Op2::Rename { src, dst } => {
            let (src_dir, src_name) = fs.lookup_parent(ROOT_INO, src.as_bytes())?;
            let (dst_dir, dst_name) = fs.lookup_parent(ROOT_INO, dst.as_bytes())?;
            fs.rename(src_dir, src_name, dst_dir, dst_name)
        }
        Op2::Link { path, dst } => {
            let ino = fs.lookup(ROOT_INO, path.as_bytes())?;
            let (dir, name) = fs.lookup_parent(ROOT_INO, dst.as_bytes())?;
            fs.link(dir, name, ino)
        }
        Op2::Remount => unreachable!("handled by the caller"),
    }
}

/// Reads the whole tree through our code: path → (kind, contents, links).
fn snapshot(
    fs: &mut Ext2<FileDisk>,
    dir: Ino,
    prefix: &str,
    out: &mut BTreeMap<String, (InodeKind, Vec<u8>, u16)>,
) {
    for entry in fs.list_dir(dir).unwrap() {
        let name = String::from_utf8(entry.name().to_vec()).unwrap();
        if name == "." || name == ".." || (dir == ROOT_INO && name == "lost+found") {
            continue;
        }
        let path = join(prefix, &name);
        let stat = fs.stat(entry.ino).unwrap();
        assert_eq!(entry.kind, Some(stat.kind), "entry type byte of {path}");
        let mut contents = vec![0u8; stat.size as usize];
        if stat.kind == InodeKind::File {
            assert_eq!(
                fs.read(entry.ino, 0, &mut contents).unwrap(),
                contents.len()
            );
        }
        out.insert(path.clone(), (stat.kind, contents, stat.links));
        if stat.kind == InodeKind::Dir {
            snapshot(fs, entry.ino, &path, out);
        }
    }
}

fn run_case(ops: &[Op], block_size: u32, cache_blocks: usize) -> Result<(), TestCaseError> {
    let scratch = ScratchDir::new("model");
    let image = scratch.path().join("disk.img");
    mke2fs(&image, block_size, 4 * 1024, None, &[]).map_err(TestCaseError::fail)?;
    let mount = |image: &Path| Ext2::mount(FileDisk::open(image).unwrap(), cache_blocks).unwrap();
    let mut fs = mount(&image);
    let mut model = Model::default();
    for op in ops {
        let Some((op2, expected)) = model_apply(&mut model, op) else {
            continue;
        };
        if let Op2::Remount = op2 {
            fs.unmount().unwrap();
            fs = mount(&image);
            continue;
        }
        let got = outcome(fs_apply(&mut fs, &op2));
        prop_assert_eq!(got, expected, "{:?}", op2);
    }
    let mut tree = BTreeMap::new();
    snapshot(&mut fs, ROOT_INO, "/", &mut tree);
    let expected: BTreeMap<String, (InodeKind, Vec<u8>, u16)> = model
        .paths
        .iter()
        .map(|(path, node)| match *node {
            Node::Dir => (
                path.clone(),
                (InodeKind::Dir, vec![0; block_size as usize], 0),
            ),
            Node::File(id) => {
                let links = model
                    .paths
                    .values()
                    .filter(|n| **n == Node::File(id))
                    .count() as u16;
                (
                    path.clone(),
                    (InodeKind::File, model.contents[id].clone(), links),
                )
            }
        })
        .collect();
    prop_assert_eq!(
        tree.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>()
    );
    for (path, (kind, contents, links)) in &tree {
        let (want_kind, want_contents, want_links) = &expected[path];
        prop_assert_eq!(kind, want_kind, "kind of {}", path);
        if *kind == InodeKind::File {
            prop_assert!(contents == want_contents, "contents of {} differ", path);
            prop_assert_eq!(links, want_links, "links of {}", path);
        }
    }
    fs.unmount().unwrap();
    e2fsck(&image).map_err(TestCaseError::fail)?;
    Ok(())
}

proptest! {
    // 48 cases keep the suite fast; set PROPTEST_CASES for a longer run.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(48),
        ..ProptestConfig::default()
    })]

    #[test]
    fn operations_match_the_model_and_e2fsck_agrees(
        ops in prop::collection::vec(op_strategy(), 1..60),
        block_size in prop_oneof![3 => Just(1024u32), 1 => Just(4096u32)],
        cache_blocks in prop_oneof![Just(16usize), Just(64), Just(1024)],
    ) {
        run_case(&ops, block_size, cache_blocks)?;
    }
}
