//! Power-cut tests of the journal (B3/CrashMonkey's idea: every crash point
//! of a workload).
//!
//! A workload runs on an ext3 image (`mke2fs -t ext3`) over a
//! [`RecordingDisk`], which records every write and flush. A power cut after
//! write *n* is the starting image with the first *n* writes applied
//! (torn multi-block writes, and writes the disk reordered since the last
//! flush, are tried too). For every cut:
//!
//! 1. **our recovery**: the image mounts (replaying the journal), and its
//!    tree — names, kinds, sizes, link counts, contents — is exactly the
//!    model's tree after some prefix of the operations, no shorter than the
//!    last operation an `fsync` had made durable before the cut; after
//!    unmounting, `e2fsck -fn` finds it clean;
//! 2. **e2fsck's recovery**: real `e2fsck` replays the journal of the cut
//!    image (`-E journal_only`), then `e2fsck -fn` finds it clean, and its
//!    tree is the one our recovery produced.
//!
//! The long version: `JOURNAL_CRASH_CASES=200 cargo test --release -p common
//! --test journal_crash` (more random workloads; `make crash-test-long`).

use common::block::{BlockDevice, DiskEvent, MemDisk, RecordingDisk};
use common::fs::host_tools::{ScratchDir, e2fsck, tool};
use common::fs::{Ext2, FsError, Ino, InodeKind, JournalStatus, ROOT_INO};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::process::Command;

/// One step of a workload (paths are absolute).
#[derive(Debug, Clone)]
enum Op {
    Mkdir(String),
    Create(String),
    /// Appends `len` bytes made from `seed`.
    Append(String, usize, u8),
    Truncate(String, u64),
    Rename(String, String),
    Link(String, String),
    Unlink(String),
    Rmdir(String),
    /// `fsync` of a file: everything so far is durable when it returns.
    Fsync(String),
    /// Advance the clock by this many milliseconds and `tick`.
    Wait(u64),
}

/// What a name is, for comparing trees.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Dir,
    File { data: Vec<u8>, links: u16 },
}

type Tree = BTreeMap<String, Node>;

/// The model: what the tree should be.
#[derive(Debug, Clone, Default)]
struct Model {
    dirs: Vec<String>,
    /// path → file id
    names: BTreeMap<String, usize>,
    files: Vec<Vec<u8>>,
}

impl Model {
    fn apply(&mut self, op: &Op) {
        match op {
            Op::Mkdir(path) => self.dirs.push(path.clone()),
            Op::Create(path) => {
                self.files.push(Vec::new());
                self.names.insert(path.clone(), self.files.len() - 1);
            }
            Op::Append(path, len, seed) => {
                let id = self.names[path];
                let start = self.files[id].len();
                self.files[id].extend(bytes(start, *len, *seed));
            }
            Op::Truncate(path, size) => {
                let id = self.names[path];
                self.files[id].resize(*size as usize, 0);
            }
            Op::Rename(from, to) => {
                if let Some(id) = self.names.remove(from) {
                    self.names.insert(to.clone(), id);
                } else {
                    // A directory (empty in our workloads' renames, or with
                    // children renamed along).
                    let prefix = format!("{from}/");
                    for dir in &mut self.dirs {
                        if dir == from {
                            *dir = to.clone();
                        } else if let Some(rest) = dir.strip_prefix(&prefix) {
                            *dir = format!("{to}/{rest}");
                        }
                    }
                    let moved: Vec<(String, usize)> = self
                        .names
                        .iter()
                        .filter(|(name, _)| name.starts_with(&prefix))
                        .map(|(name, &id)| (name.clone(), id))
                        .collect();
                    for (name, id) in moved {
                        self.names.remove(&name);
                        self.names
                            .insert(format!("{to}/{}", &name[prefix.len()..]), id);
                    }
                }
            }
            Op::Link(from, to) => {
                let id = self.names[from];
                self.names.insert(to.clone(), id);
            }
            Op::Unlink(path) => {
                self.names.remove(path);
            }
            Op::Rmdir(path) => self.dirs.retain(|dir| dir != path),
            Op::Fsync(_) | Op::Wait(_) => {}
        }
    }

    fn tree(&self) -> Tree {
        let mut tree = Tree::new();
        for dir in &self.dirs {
            tree.insert(dir.clone(), Node::Dir);
        }
        for (name, &id) in &self.names {
            let links = self.names.values().filter(|&&other| other == id).count() as u16;
            tree.insert(
                name.clone(),
                Node::File {
                    data: self.files[id].clone(),
                    links,
                },
            );
        }
        tree
    }
}

/// Bytes `start..start + len` of a file written with `seed`.
fn bytes(start: usize, len: usize, seed: u8) -> Vec<u8> {
    (start..start + len)
        .map(|i| (i as u8).wrapping_mul(7).wrapping_add(seed) ^ (i >> 10) as u8)
        .collect()
}

/// Runs `op` on the file system; `now` is the clock in milliseconds.
fn run<D: BlockDevice>(fs: &mut Ext2<D>, op: &Op, now: &mut u64, model: &Model) {
    let parent = |fs: &mut Ext2<D>, path: &str| {
        let (dir, name) = fs.lookup_parent(ROOT_INO, path.as_bytes()).unwrap();
        (dir, name.to_vec())
    };
    match op {
        Op::Mkdir(path) => {
            let (dir, name) = parent(fs, path);
            fs.mkdir(dir, &name).unwrap();
        }
        Op::Create(path) => {
            let (dir, name) = parent(fs, path);
            fs.create_file(dir, &name).unwrap();
        }
        Op::Append(path, len, seed) => {
            let ino = fs.lookup(ROOT_INO, path.as_bytes()).unwrap();
            let start = model.files[model.names[path]].len();
            let data = bytes(start, *len, *seed);
            // In pieces, as a program's write calls would come.
            for (i, piece) in data.chunks(4096).enumerate() {
                let at = (start + i * 4096) as u64;
                assert_eq!(fs.write(ino, at, piece).unwrap(), piece.len());
                fs.end_op(*now).unwrap();
            }
        }
        Op::Truncate(path, size) => {
            let ino = fs.lookup(ROOT_INO, path.as_bytes()).unwrap();
            fs.truncate(ino, *size).unwrap();
        }
        Op::Rename(from, to) => {
            let (src, src_name) = parent(fs, from);
            let (dst, dst_name) = parent(fs, to);
            fs.rename(src, &src_name, dst, &dst_name).unwrap();
        }
        Op::Link(from, to) => {
            let ino = fs.lookup(ROOT_INO, from.as_bytes()).unwrap();
            let (dir, name) = parent(fs, to);
            fs.link(dir, &name, ino).unwrap();
        }
        Op::Unlink(path) => {
            let (dir, name) = parent(fs, path);
            fs.unlink(dir, &name).unwrap();
        }
        Op::Rmdir(path) => {
            let (dir, name) = parent(fs, path);
            fs.rmdir(dir, &name).unwrap();
        }
        Op::Fsync(path) => {
            let ino = fs.lookup(ROOT_INO, path.as_bytes()).unwrap();
            fs.fsync(ino).unwrap();
        }
        Op::Wait(ms) => *now += ms,
    }
    fs.end_op(*now).unwrap();
}

/// The tree of a mounted file system, as the model describes trees.
///
/// A damaged image (`corrupt_journals_are_errors_not_panics`) may hold a
/// directory that contains its own ancestor, or a file that claims to be
/// gigabytes long: both are `Corrupt` here, so the walk ends and its memory
/// stays bounded (the test once walked a directory cycle until the host
/// ran out of memory).
fn tree_of<D: BlockDevice>(fs: &mut Ext2<D>) -> Result<Tree, FsError> {
    /// Larger than any file the workloads write (the disk is 4 MiB).
    const LARGEST_FILE: u64 = 8 << 20;
    let mut tree = Tree::new();
    let mut pending: Vec<(String, Ino)> = vec![(String::new(), ROOT_INO)];
    let mut seen_dirs = std::collections::HashSet::from([ROOT_INO]);
    while let Some((path, dir)) = pending.pop() {
        for entry in fs.list_dir(dir)? {
            let name = String::from_utf8_lossy(entry.name()).into_owned();
            if name == "." || name == ".." || (dir == ROOT_INO && name == "lost+found") {
                continue;
            }
            let full = format!("{path}/{name}");
            let stat = fs.stat(entry.ino)?;
            match stat.kind {
                InodeKind::Dir => {
                    if !seen_dirs.insert(entry.ino) {
                        return Err(FsError::Corrupt {
                            what: "directory in two places",
                            value: entry.ino.into(),
                        });
                    }
                    tree.insert(full.clone(), Node::Dir);
                    pending.push((full, entry.ino));
                }
                _ => {
                    if stat.size > LARGEST_FILE {
                        return Err(FsError::Corrupt {
                            what: "file larger than the disk",
                            value: stat.size,
                        });
                    }
                    let mut data = vec![0u8; stat.size as usize];
                    let mut done = 0;
                    while done < data.len() {
                        let n = fs.read(entry.ino, done as u64, &mut data[done..])?;
                        if n == 0 {
                            return Err(FsError::Corrupt {
                                what: "short file",
                                value: 0,
                            });
                        }
                        done += n;
                    }
                    tree.insert(
                        full,
                        Node::File {
                            data,
                            links: stat.links,
                        },
                    );
                }
            }
        }
    }
    Ok(tree)
}

/// A fresh ext3 image (1 KiB blocks, the smallest journal mke2fs makes:
/// 1024 blocks), as `make` builds them.
fn ext3_image(size_kib: u64) -> Vec<u8> {
    let scratch = ScratchDir::new("journal-image");
    let image = scratch.path().join("disk.img");
    let status = Command::new(tool("mke2fs").unwrap())
        .args(["-q", "-F", "-t", "ext3", "-b", "1024", "-J", "size=1"])
        .args(["-O", "^metadata_csum,^64bit", "-N", "256"])
        .arg(&image)
        .arg(format!("{size_kib}k"))
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "mke2fs failed");
    std::fs::read(&image).unwrap()
}

/// What running a workload recorded.
struct Recording {
    base: Vec<u8>,
    events: Vec<DiskEvent>,
    /// The model's tree after each operation (index 0: before any).
    trees: Vec<Tree>,
    /// For each fsync: (events recorded when it returned, operations done).
    durable: Vec<(usize, usize)>,
}

fn record(ops: &[Op], size_kib: u64) -> Recording {
    let base = ext3_image(size_kib);
    let disk = RecordingDisk::new(MemDisk::from_bytes(base.clone()));
    let mut fs = Ext2::mount(disk, 64).unwrap();
    assert!(matches!(fs.journal_status(), JournalStatus::Active { .. }));
    let mut model = Model::default();
    let mut trees = vec![model.tree()];
    let mut durable = Vec::new();
    let mut now = 0;
    for (i, op) in ops.iter().enumerate() {
        run(&mut fs, op, &mut now, &model);
        model.apply(op);
        trees.push(model.tree());
        if matches!(op, Op::Fsync(_)) {
            durable.push((fs_events(&mut fs), i + 1));
        }
    }
    assert_eq!(
        tree_of(&mut fs).unwrap(),
        model.tree(),
        "the workload itself went wrong"
    );
    let disk = fs.unmount().unwrap();
    Recording {
        base,
        events: disk.events().to_vec(),
        trees,
        durable,
    }
}

/// How many events the mounted file system's disk has recorded (the cache
/// owns the device; unmounting would change it, so a copy is counted).
fn fs_events(fs: &mut Ext2<RecordingDisk>) -> usize {
    fs.device().events().len()
}

/// One power-cut image: the base with `writes` applied.
struct Cut {
    label: String,
    image: Vec<u8>,
    /// Operations that must survive.
    durable_ops: usize,
}

/// Every prefix of the event list, plus a torn version of every
/// multi-sector write (only its first half reached the disk).
fn prefix_cuts(recording: &Recording) -> Vec<Cut> {
    let mut cuts = Vec::new();
    let mut image = recording.base.clone();
    let durable_at = |events: usize| {
        recording
            .durable
            .iter()
            .filter(|(at, _)| *at <= events)
            .map(|&(_, ops)| ops)
            .max()
            .unwrap_or(0)
    };
    cuts.push(Cut {
        label: "before any write".into(),
        image: image.clone(),
        durable_ops: 0,
    });
    for (n, event) in recording.events.iter().enumerate() {
        if let DiskEvent::Write { first, data } = event
            && data.len() > 512
        {
            let mut torn = image.clone();
            let half = (data.len() / 1024) * 512;
            RecordingDisk::apply(
                &mut torn,
                &DiskEvent::Write {
                    first: *first,
                    data: data[..half.max(512)].to_vec(),
                },
            );
            cuts.push(Cut {
                label: format!("during event {n} (torn)"),
                image: torn,
                durable_ops: durable_at(n),
            });
        }
        RecordingDisk::apply(&mut image, event);
        if matches!(event, DiskEvent::Write { .. }) {
            cuts.push(Cut {
                label: format!("after event {n}"),
                image: image.clone(),
                durable_ops: durable_at(n + 1),
            });
        }
    }
    cuts
}

/// Cuts where the disk wrote the writes since the last flush in another
/// order: for each flush epoch, a few random subsets of its writes, taken
/// block by block (a disk may also reorder the sectors of one request).
fn reordered_cuts(recording: &Recording, seed: u64, per_epoch: usize) -> Vec<Cut> {
    let mut rng = seed.max(1);
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut cuts = Vec::new();
    let mut image = recording.base.clone();
    let mut epoch: Vec<usize> = Vec::new();
    let durable_at = |events: usize| {
        recording
            .durable
            .iter()
            .filter(|(at, _)| *at <= events)
            .map(|&(_, ops)| ops)
            .max()
            .unwrap_or(0)
    };
    for (n, event) in recording.events.iter().enumerate() {
        match event {
            DiskEvent::Write { .. } => epoch.push(n),
            DiskEvent::Flush => {
                if !epoch.is_empty() {
                    for _ in 0..per_epoch {
                        let mut cut = image.clone();
                        for &i in &epoch {
                            let DiskEvent::Write { first, data } = &recording.events[i] else {
                                continue;
                            };
                            for (k, block) in data.chunks(1024).enumerate() {
                                if next() % 2 == 0 {
                                    let write = DiskEvent::Write {
                                        first: first + 2 * k as u64,
                                        data: block.to_vec(),
                                    };
                                    RecordingDisk::apply(&mut cut, &write);
                                }
                            }
                        }
                        cuts.push(Cut {
                            label: format!("reordered before flush {n}"),
                            image: cut,
                            durable_ops: durable_at(epoch[0]),
                        });
                    }
                }
                for &i in &epoch {
                    RecordingDisk::apply(&mut image, &recording.events[i]);
                }
                epoch.clear();
            }
        }
    }
    cuts
}

/// Runs `e2fsck` with `args` on `image` (a file); returns its exit code and
/// report.
fn e2fsck_run(image: &std::path::Path, args: &[&str]) -> (i32, String) {
    let output = Command::new(tool("e2fsck").unwrap())
        .args(args)
        .arg(image)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

/// Checks one cut; returns a description of what is wrong.
fn check_cut(
    recording: &Recording,
    cut: &Cut,
    scratch: &ScratchDir,
    slot: usize,
) -> Result<(), String> {
    // 1. Our recovery.
    let mut fs = Ext2::mount(MemDisk::from_bytes(cut.image.clone()), 64)
        .map_err(|e| format!("mount after the cut failed: {e}"))?;
    let ours = tree_of(&mut fs).map_err(|e| format!("reading the recovered tree: {e}"))?;
    let matches: Vec<usize> = (0..recording.trees.len())
        .filter(|&k| recording.trees[k] == ours)
        .collect();
    if !matches.iter().any(|&k| k >= cut.durable_ops) {
        return Err(format!(
            "recovered tree matches after operations {matches:?}, but {} were durable:\n{:?}",
            cut.durable_ops,
            ours.keys().collect::<Vec<_>>()
        ));
    }
    let recovered = fs.unmount().map_err(|e| format!("unmount: {e}"))?;
    let ours_path = scratch.path().join(format!("ours-{slot}.img"));
    std::fs::write(&ours_path, recovered.as_bytes()).unwrap();
    e2fsck(&ours_path).map_err(|e| format!("after our recovery: {e}"))?;
    // 2. e2fsck's recovery.
    let theirs_path = scratch.path().join(format!("theirs-{slot}.img"));
    std::fs::write(&theirs_path, &cut.image).unwrap();
    let (code, report) = e2fsck_run(&theirs_path, &["-y", "-E", "journal_only"]);
    if code > 1 {
        return Err(format!(
            "e2fsck's journal replay failed ({code}):\n{report}"
        ));
    }
    let (code, report) = e2fsck_run(&theirs_path, &["-fn"]);
    if code != 0 {
        return Err(format!(
            "e2fsck -fn after e2fsck's replay ({code}):\n{report}"
        ));
    }
    let bytes = std::fs::read(&theirs_path).unwrap();
    let mut fs = Ext2::mount_read_only(MemDisk::from_bytes(bytes), 64)
        .map_err(|e| format!("mount after e2fsck's replay: {e}"))?;
    let theirs = tree_of(&mut fs).map_err(|e| format!("reading e2fsck's tree: {e}"))?;
    if theirs != ours {
        return Err("e2fsck's replay and ours give different trees".into());
    }
    Ok(())
}

/// Checks every cut, on two threads; panics naming the failures.
fn check_all(recording: &Recording, cuts: &[Cut]) -> usize {
    let scratch = ScratchDir::new("journal-crash");
    let failures: Vec<String> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..2)
            .map(|t| {
                let scratch = &scratch;
                scope.spawn(move || {
                    cuts.iter()
                        .enumerate()
                        .filter(|(i, _)| i % 2 == t)
                        .filter_map(|(_, cut)| {
                            check_cut(recording, cut, scratch, t)
                                .err()
                                .map(|e| format!("cut {}: {e}", cut.label))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect()
    });
    assert!(
        failures.is_empty(),
        "{} of {} cuts failed; the first:\n{}",
        failures.len(),
        cuts.len(),
        failures
            .iter()
            .take(3)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    cuts.len()
}

/// The fixed workload of the issue: create, write, rename, unlink, mkdir, a
/// big file (past the double-indirect boundary), a directory growing past
/// one block, hard links, truncation, with fsyncs and the commit clock.
fn fixed_workload() -> Vec<Op> {
    let mut ops = vec![
        Op::Mkdir("/d".into()),
        Op::Create("/d/a".into()),
        Op::Append("/d/a".into(), 100, 1),
        Op::Fsync("/d/a".into()),
        Op::Create("/b".into()),
        Op::Append("/b".into(), 3000, 2),
        Op::Rename("/b".into(), "/d/b".into()),
        Op::Link("/d/a".into(), "/a-link".into()),
        Op::Wait(6000),
        Op::Unlink("/d/a".into()),
        Op::Mkdir("/e".into()),
        Op::Create("/e/big".into()),
        Op::Append("/e/big".into(), 300 * 1024, 3),
        Op::Fsync("/e/big".into()),
        Op::Truncate("/e/big".into(), 20_000),
    ];
    for i in 0..45 {
        ops.push(Op::Create(format!("/e/file-with-a-long-name-{i:02}")));
    }
    ops.extend([
        Op::Append("/e/file-with-a-long-name-07".into(), 1500, 4),
        Op::Wait(6000),
        Op::Rename("/e".into(), "/d/e".into()),
        Op::Unlink("/d/e/file-with-a-long-name-03".into()),
        Op::Unlink("/d/b".into()),
        Op::Create("/c".into()),
        Op::Append("/c".into(), 5000, 5),
        Op::Fsync("/c".into()),
        Op::Mkdir("/z".into()),
        Op::Rmdir("/z".into()),
        Op::Unlink("/a-link".into()),
    ]);
    ops
}

#[test]
fn every_cut_of_the_fixed_workload_recovers_clean() {
    let recording = record(&fixed_workload(), 4096);
    assert!(recording.durable.len() >= 3);
    let mut cuts = prefix_cuts(&recording);
    cuts.extend(reordered_cuts(&recording, 1, 2));
    let checked = check_all(&recording, &cuts);
    eprintln!(
        "journal_crash: {} writes recorded, {checked} cut points checked, all recovered clean",
        recording
            .events
            .iter()
            .filter(|e| matches!(e, DiskEvent::Write { .. }))
            .count()
    );
}

/// Random short workloads over a few names.
fn arbitrary_op() -> impl Strategy<Value = (u8, u8, u8, u16)> {
    (0u8..10, 0u8..4, 0u8..4, 0u16..3000)
}

/// Turns random numbers into a valid workload (operations that would fail
/// are skipped, so every step changes something).
fn workload(raw: &[(u8, u8, u8, u16)]) -> Vec<Op> {
    let mut model = Model::default();
    let mut ops = Vec::new();
    let dirs = ["", "/p", "/q"];
    for &(kind, a, b, n) in raw {
        let name = |i: u8, dir: u8| format!("{}/f{i}", dirs[dir as usize % 3]);
        let file_a = name(a, b);
        let file_b = name(b, a);
        let exists = |model: &Model, path: &str| {
            model.names.contains_key(path) || model.dirs.iter().any(|d| d == path)
        };
        let dir_ok = |model: &Model, path: &str| {
            let parent = &path[..path.rfind('/').unwrap()];
            parent.is_empty() || model.dirs.iter().any(|d| d == parent)
        };
        let op = match kind {
            0 | 1 if !exists(&model, &file_a) && dir_ok(&model, &file_a) => Op::Create(file_a),
            2 | 3 if model.names.contains_key(&file_a) => Op::Append(file_a, n as usize * 3, a),
            4 if model.names.contains_key(&file_a) => Op::Truncate(file_a, u64::from(n / 2)),
            5 if model.names.contains_key(&file_a)
                && !exists(&model, &file_b)
                && dir_ok(&model, &file_b) =>
            {
                Op::Rename(file_a, file_b)
            }
            6 if model.names.contains_key(&file_a) => Op::Unlink(file_a),
            7 if model.names.contains_key(&file_a)
                && !exists(&model, &file_b)
                && dir_ok(&model, &file_b) =>
            {
                Op::Link(file_a, file_b)
            }
            8 => {
                let dir = dirs[1 + a as usize % 2].to_string();
                if exists(&model, &dir) {
                    if model
                        .names
                        .keys()
                        .any(|k| k.starts_with(&format!("{dir}/")))
                    {
                        continue;
                    }
                    Op::Rmdir(dir)
                } else {
                    Op::Mkdir(dir)
                }
            }
            9 if model.names.contains_key(&file_a) => Op::Fsync(file_a),
            9 => Op::Wait(u64::from(n) * 4),
            // Not possible now: create the file instead, or grow one.
            _ if !exists(&model, &file_a) && dir_ok(&model, &file_a) => Op::Create(file_a),
            _ => match model.names.keys().next() {
                Some(any) => Op::Append(any.clone(), n as usize + 1, b),
                None => continue,
            },
        };
        model.apply(&op);
        ops.push(op);
    }
    ops
}

fn cases() -> u32 {
    std::env::var("JOURNAL_CRASH_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    /// Every crash point (prefix, torn and reordered) of random workloads.
    #[test]
    fn every_cut_of_random_workloads_recovers_clean(
        raw in proptest::collection::vec(arbitrary_op(), 4..24),
        seed in 1u64..1000,
    ) {
        let ops = workload(&raw);
        let recording = record(&ops, 4096);
        let mut cuts = prefix_cuts(&recording);
        cuts.extend(reordered_cuts(&recording, seed, 2));
        let checked = check_all(&recording, &cuts);
        static TOTAL: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let total = TOTAL.fetch_add(checked, std::sync::atomic::Ordering::Relaxed) + checked;
        eprintln!(
            "journal_crash: random workload of {} operations: {checked} cut points recovered clean ({total} so far)",
            ops.len()
        );
    }
}

/// The journal's blocks in `image` (file-system block numbers), by debugfs.
fn journal_blocks(image: &[u8]) -> Vec<u64> {
    let scratch = ScratchDir::new("journal-blocks");
    let path = scratch.path().join("disk.img");
    std::fs::write(&path, image).unwrap();
    let out = common::fs::host_tools::debugfs(&path, "blocks <8>").unwrap();
    String::from_utf8_lossy(&out)
        .split_whitespace()
        .filter_map(|word| word.parse().ok())
        .collect()
}

/// A power-cut image whose journal holds committed transactions, with
/// the journal blocks that hold them.
fn image_needing_recovery() -> (Vec<u8>, Vec<u64>) {
    let ops = [
        Op::Mkdir("/d".into()),
        Op::Create("/d/f".into()),
        Op::Append("/d/f".into(), 5000, 9),
        Op::Fsync("/d/f".into()),
        Op::Create("/g".into()),
        Op::Fsync("/g".into()),
    ];
    let recording = record(&ops, 4096);
    // Cut right after the last fsync's commit block.
    let (events, _) = *recording.durable.last().unwrap();
    let mut image = recording.base.clone();
    for event in &recording.events[..events] {
        RecordingDisk::apply(&mut image, event);
    }
    let blocks = journal_blocks(&image);
    assert!(blocks.len() >= 1024, "journal blocks: {blocks:?}");
    let fs = Ext2::mount(MemDisk::from_bytes(image.clone()), 64).unwrap();
    assert!(
        matches!(fs.journal_status(), JournalStatus::Active { recovered, .. } if recovered > 0),
        "{}",
        fs.journal_status()
    );
    (image, blocks)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// A journal is input like any other: whatever its log and superblock
    /// hold, mounting (and so recovery) returns a result, never a panic or
    /// a hang; and what mounts can be walked.
    #[test]
    fn corrupt_journals_are_errors_not_panics(
        changes in proptest::collection::vec((0usize..40, 0usize..1024, any::<u8>()), 1..12),
    ) {
        static IMAGE: std::sync::OnceLock<(Vec<u8>, Vec<u64>)> = std::sync::OnceLock::new();
        let (image, blocks) = IMAGE.get_or_init(image_needing_recovery);
        let mut image = image.clone();
        for (block, offset, value) in changes {
            // The superblock and the first blocks of the log, where the
            // transactions are.
            let target = blocks[block.min(blocks.len() - 1)] as usize;
            image[target * 1024 + offset] = value;
        }
        if let Ok(mut fs) = Ext2::mount(MemDisk::from_bytes(image), 64) {
            let _ = tree_of(&mut fs);
        }
    }
}
