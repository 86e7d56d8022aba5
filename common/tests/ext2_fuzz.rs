//! Fuzzing `common::fs` with corrupted images, on stable Rust.
//!
//! A disk image is untrusted input: whatever it contains, mounting it,
//! walking its whole tree, reading every file and making some changes must
//! not panic and must not hang. (Errors are fine — that is the point.)
//!
//! Each case takes a real small image built by `mke2fs -d` (1 KiB or
//! 4 KiB blocks, with directories, small and indirect-block files,
//! symlinks), to which names were added and removed so that its
//! directories also hold *deleted* records (inode 0, with the stale name
//! and length a removal leaves), flips bytes or plants "interesting" 32-bit
//! values in its metadata region, plants interesting values in the fields
//! of directory records (live and deleted alike), and runs the whole
//! workload in a thread with a time limit. The corpus in `tests/corpus/`
//! replays hand-made corruptions of the 1 KiB seed (format on
//! [`corpus_of_known_corruptions`]).

use common::block::{BlockDevice, BlockError, MemDisk};
use common::fs::host_tools::{ScratchDir, debugfs, e2fsck, mke2fs};
use common::fs::{Ext2, FsError, Ino, InodeKind, ROOT_INO};
use proptest::prelude::*;
use std::collections::BTreeSet;
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::Duration;

/// A seed image and the byte ranges worth corrupting: the superblock, the
/// group descriptors, the bitmaps, the used part of the inode table, every
/// directory block and the indirect-block file's blocks; and where each
/// directory record starts (byte offsets in the image), live and deleted.
struct Seed {
    bytes: Vec<u8>,
    targets: Vec<(usize, usize)>,
    live_records: Vec<usize>,
    deleted_records: Vec<usize>,
}

/// Builds the seed images once per test run: 1 KiB and 4 KiB blocks with
/// `mke2fs`'s default features, and 2 KiB blocks with 128-byte inodes and
/// neither `filetype` (a record's name length is then 16 bits) nor
/// `dir_index`.
fn seeds() -> &'static [Seed; 3] {
    static SEEDS: OnceLock<[Seed; 3]> = OnceLock::new();
    SEEDS.get_or_init(|| {
        [
            build_seed(1024, 512, &[]),
            build_seed(4096, 1024, &[]),
            build_seed(2048, 1024, &["-I", "128", "-O", "^filetype,^dir_index"]),
        ]
    })
}

fn le32(bytes: &[u8], offset: usize) -> usize {
    u32::from_le_bytes(bytes[offset..offset + 4].try_into().unwrap()) as usize
}

fn build_seed(block_size: u32, size_kib: u64, options: &[&str]) -> Seed {
    let scratch = ScratchDir::new("fuzz-seed");
    let tree = scratch.path().join("tree");
    std::fs::create_dir_all(tree.join("dir/sub/subsub")).unwrap();
    std::fs::create_dir_all(tree.join("other")).unwrap();
    std::fs::write(tree.join("small"), b"small file").unwrap();
    std::fs::write(tree.join("dir/indirect"), vec![0x5A; 40 * 1024]).unwrap();
    std::fs::write(tree.join("dir/sub/subsub/leaf"), b"leaf").unwrap();
    for i in 0..40 {
        std::fs::write(tree.join(format!("other/entry-{i}")), [i as u8; 100]).unwrap();
    }
    std::os::unix::fs::symlink("small", tree.join("link")).unwrap();
    let image = scratch.path().join("seed.img");
    mke2fs(&image, block_size, size_kib, Some(&tree), options)
        .expect("building the fuzz seed image");
    std::fs::write(&image, with_deleted_records(std::fs::read(&image).unwrap())).unwrap();
    e2fsck(&image).expect("the fuzz seed image is sound");
    let bytes = std::fs::read(&image).unwrap();
    let bs = block_size as usize;
    let descriptors = if bs == 1024 { 2 * bs } else { bs };
    let inode_size = usize::from(u16::from_le_bytes([bytes[1024 + 88], bytes[1024 + 89]]));
    let mut targets = vec![
        (1024, 1024),
        (descriptors, 64),
        (le32(&bytes, descriptors) * bs, bs),
        (le32(&bytes, descriptors + 4) * bs, bs),
        (le32(&bytes, descriptors + 8) * bs, 64 * inode_size),
    ];
    let (mut live_records, mut deleted_records) = (Vec::new(), Vec::new());
    for path in [
        "/",
        "/dir",
        "/dir/sub",
        "/dir/sub/subsub",
        "/other",
        "/lost+found",
        "/holes",
        "/emptied",
        "/dir/indirect",
    ] {
        let listing = debugfs(&image, &format!("blocks {path}")).unwrap();
        for block in String::from_utf8(listing).unwrap().split_whitespace() {
            // The indirect file's data blocks are plain bytes; its first
            // and indirect blocks are enough.
            let start = block.parse::<usize>().unwrap() * bs;
            targets.push((start, bs));
            if path != "/dir/indirect" {
                // Walk the block's records (the seed is sound).
                let mut offset = 0;
                while offset < bs {
                    let at = start + offset;
                    if le32(&bytes, at) == 0 {
                        deleted_records.push(at);
                    } else {
                        live_records.push(at);
                    }
                    offset += usize::from(u16::from_le_bytes([bytes[at + 4], bytes[at + 5]]));
                }
            }
        }
    }
    assert!(
        deleted_records.len() >= 4,
        "the seed has no deleted records"
    );
    Seed {
        bytes,
        targets,
        live_records,
        deleted_records,
    }
}

/// Adds and removes names so that directories hold deleted records, as
/// any directory that has lived does: `/holes` keeps every third of its
/// names (removed records folded into the ones before them, and whole
/// blocks whose first record has inode 0 and a stale name), and `/emptied`
/// loses all of its names (an empty directory of several blocks, which
/// `rmdir` must walk record by record). The names are hard links to one
/// file, so the small seed does not run out of inodes.
fn with_deleted_records(image: Vec<u8>) -> Vec<u8> {
    let mut fs = Ext2::mount(MemDisk::from_bytes(image), 64).unwrap();
    let target = fs.lookup(ROOT_INO, b"/small").unwrap();
    let per_block = fs.block_size() / 32;
    for dir_name in [&b"holes"[..], b"emptied"] {
        let dir = fs.mkdir(ROOT_INO, dir_name).unwrap();
        // 24-byte names: 32-byte records, about three blocks' worth.
        let name = |i: usize| format!("deleted-record-name-{i:04}").into_bytes();
        for i in 0..3 * per_block {
            fs.link(dir, &name(i), target).unwrap();
        }
        for i in 0..3 * per_block {
            let keep =
                dir_name == b"holes" && i % 3 == 0 && !(per_block..2 * per_block).contains(&i);
            if !keep {
                fs.unlink(dir, &name(i)).unwrap();
            }
        }
    }
    fs.unmount().unwrap().into_bytes()
}

/// One corruption: write `value`'s low `width` bytes at byte `offset` of
/// target range number `target` (both taken modulo what exists).
#[derive(Debug, Clone)]
struct Mutation {
    target: usize,
    offset: usize,
    value: u32,
    width: usize,
}

fn mutation_strategy() -> impl Strategy<Value = Mutation> {
    let value = prop_oneof![
        any::<u8>().prop_map(u32::from),
        Just(0u32),
        Just(1),
        Just(2),
        Just(0xFFFF_FFFF),
        Just(0x8000_0000),
        0u32..4096,
        any::<u32>(),
    ];
    (
        any::<usize>(),
        any::<usize>(),
        value,
        prop_oneof![Just(1usize), Just(2), Just(4)],
    )
        .prop_map(|(target, offset, value, width)| Mutation {
            target,
            offset,
            value,
            width,
        })
}

/// One corruption of a directory record: write `value` into field
/// `field` (inode, rec_len, name_len or file type) of record number
/// `record` among the seed's live or deleted ones; or (`field` 4) carve a
/// deleted 12-byte record with a name length of `value`'s low byte out of
/// the end of that record, where a removal could have left one (the last
/// record of a block then ends it: a name that long would run past it).
#[derive(Debug, Clone)]
struct RecordMutation {
    deleted: bool,
    record: usize,
    field: usize,
    value: u32,
}

fn record_mutation_strategy() -> impl Strategy<Value = RecordMutation> {
    let value = prop_oneof![
        Just(0u32),
        Just(1),
        Just(2),
        Just(8),
        Just(12),
        Just(255),
        Just(1024),
        Just(4096),
        Just(0xFFFF),
        Just(0xFFFF_FFFF),
        0u32..300,
        any::<u32>(),
    ];
    (any::<bool>(), any::<usize>(), 0usize..5, value).prop_map(|(deleted, record, field, value)| {
        RecordMutation {
            deleted,
            record,
            field,
            value,
        }
    })
}

fn apply_to_record(image: &mut [u8], seed: &Seed, mutation: &RecordMutation) {
    let records = if mutation.deleted {
        &seed.deleted_records
    } else {
        &seed.live_records
    };
    let start = records[mutation.record % records.len()];
    let rec_len = usize::from(u16::from_le_bytes([image[start + 4], image[start + 5]]));
    if mutation.field == 4 {
        if rec_len >= 24 && rec_len % 4 == 0 && start % 4 == 0 {
            let carved = start + rec_len - 12;
            image[start + 4..start + 6].copy_from_slice(&((rec_len - 12) as u16).to_le_bytes());
            image[carved..carved + 4].copy_from_slice(&[0; 4]);
            image[carved + 4..carved + 6].copy_from_slice(&12u16.to_le_bytes());
            image[carved + 6] = mutation.value as u8;
            image[carved + 7] = 0;
        }
        return;
    }
    // inode (4 bytes), rec_len (2), name_len (1), file type (1).
    let (offset, width) = [(0, 4), (4, 2), (6, 1), (7, 1)][mutation.field];
    for i in 0..width {
        image[start + offset + i] = (mutation.value >> (8 * i)) as u8;
    }
}

fn apply(image: &mut [u8], targets: &[(usize, usize)], mutation: &Mutation) {
    let (start, len) = targets[mutation.target % targets.len()];
    // Values land on 4-byte boundaries most of the time, like fields do.
    let offset = start + (mutation.offset % len) / mutation.width * mutation.width;
    for i in 0..mutation.width {
        if let Some(byte) = image.get_mut(offset + i) {
            *byte = (mutation.value >> (8 * i)) as u8;
        }
    }
}

/// Keeps the error of a result (as text) in `errors`; returns the value.
fn note<T>(errors: &mut Vec<String>, result: Result<T, FsError>) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(err) => {
            errors.push(err.to_string());
            None
        }
    }
}

/// Mount, walk everything, read everything, change things, and return the
/// errors met on the way. Only panics and hangs are failures.
fn workload(image: Vec<u8>) -> Vec<String> {
    workload_on(MemDisk::from_bytes(image))
}

/// [`workload`] on any disk.
fn workload_on<D: BlockDevice>(disk: D) -> Vec<String> {
    let mut errors = Vec::new();
    let Some(mut fs) = note(&mut errors, Ext2::mount(disk, 32)) else {
        return errors;
    };
    // Walk the tree depth-first; a corrupt image may have cycles, so never
    // visit a directory twice.
    let mut visited = BTreeSet::new();
    let mut stack = vec![ROOT_INO];
    let mut files: Vec<(Ino, Ino, Vec<u8>)> = Vec::new();
    let mut dirs: Vec<(Ino, Ino, Vec<u8>)> = Vec::new();
    let mut buf = vec![0u8; 4096];
    while let Some(dir) = stack.pop() {
        if !visited.insert(dir) || visited.len() > 500 {
            continue;
        }
        note(&mut errors, fs.lookup(dir, b"../."));
        let mut cursor = 0;
        for _ in 0..10_000 {
            let Some(Some((entry, next))) = note(&mut errors, fs.read_dir(dir, cursor)) else {
                break;
            };
            cursor = next;
            let name = entry.name().to_vec();
            if name == b"." || name == b".." {
                continue;
            }
            note(&mut errors, fs.lookup_in(dir, &name));
            match note(&mut errors, fs.stat(entry.ino)) {
                Some(stat) if stat.kind == InodeKind::Dir => {
                    stack.push(entry.ino);
                    dirs.push((dir, entry.ino, name));
                }
                Some(stat) => {
                    // Read at most 256 KiB of each file.
                    let mut offset = 0;
                    while offset < stat.size.min(256 * 1024) {
                        match note(&mut errors, fs.read(entry.ino, offset, &mut buf)) {
                            Some(0) | None => break,
                            Some(n) => offset += n as u64,
                        }
                    }
                    note(&mut errors, fs.read(entry.ino, u64::MAX - 10, &mut buf));
                    files.push((dir, entry.ino, name));
                }
                None => {}
            }
        }
    }
    // Changes. A name added to and removed from every directory (adding
    // walks its records for room, past deleted ones too).
    for (_, dir, _) in dirs.iter().take(16) {
        if note(&mut errors, fs.create_file(*dir, b"fuzz-entry")).is_some() {
            note(&mut errors, fs.unlink(*dir, b"fuzz-entry"));
        }
    }
    if let Some(file) = note(&mut errors, fs.create_file(ROOT_INO, b"fuzz-new")) {
        note(&mut errors, fs.write(file, 3000, &[7u8; 20_000]));
        note(&mut errors, fs.truncate(file, 100));
        note(&mut errors, fs.write(file, 300_000, b"far"));
    }
    note(&mut errors, fs.mkdir(ROOT_INO, b"fuzz-dir"));
    if let Some(fuzz_dir) = note(&mut errors, fs.lookup(ROOT_INO, b"/fuzz-dir")) {
        if let Some((dir, _, name)) = files.first() {
            note(&mut errors, fs.rename(*dir, name, fuzz_dir, b"moved"));
        }
        // Moving a directory down the tree walks `..` entries up from the
        // destination (the check that it is not moved into itself).
        let mut parent = ROOT_INO;
        for (_, ino, _) in dirs.iter().take(8) {
            if note(
                &mut errors,
                fs.rename(parent, b"fuzz-dir", *ino, b"fuzz-dir"),
            )
            .is_some()
            {
                parent = *ino;
            }
        }
    }
    // Each file once (the seed's `/holes` holds many names of one file).
    let mut seen = BTreeSet::new();
    for (dir, ino, name) in files
        .iter()
        .filter(|(_, ino, _)| seen.insert(*ino))
        .take(50)
    {
        note(&mut errors, fs.link(ROOT_INO, b"fuzz-link", *ino));
        note(&mut errors, fs.write(*ino, 10, b"overwrite"));
        note(&mut errors, fs.truncate(*ino, 0));
        note(&mut errors, fs.unlink(*dir, name));
    }
    // Removing a directory first checks it is empty, record by record.
    for (dir, _, name) in dirs.iter().rev().take(16) {
        note(&mut errors, fs.rmdir(*dir, name));
    }
    note(&mut errors, fs.sync());
    note(&mut errors, fs.unmount());
    errors
}

/// Runs the workload in a thread and returns its errors; fails on a panic
/// or if it takes too long.
fn run_guarded(image: Vec<u8>, what: &str) -> Vec<String> {
    run_guarded_with(move || workload(image), what)
}

/// Runs `job` in a thread with the same checks as [`run_guarded`].
fn run_guarded_with(job: impl FnOnce() -> Vec<String> + Send + 'static, what: &str) -> Vec<String> {
    let (done, finished) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        let _ = done.send(job());
    });
    match finished.recv_timeout(Duration::from_secs(20)) {
        Ok(errors) => {
            worker.join().unwrap();
            errors
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            // The worker panicked: re-raise its panic here.
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the worker always sends before finishing"),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{what}: the workload hung (over 20 s)"),
    }
}

#[test]
fn seed_images_pass_the_workload_cleanly() {
    for seed in seeds() {
        let mut fs = Ext2::mount(MemDisk::from_bytes(seed.bytes.clone()), 32).unwrap();
        assert!(fs.lookup(ROOT_INO, b"/dir/sub/subsub/leaf").is_ok());
        let errors = run_guarded(seed.bytes.clone(), "seed");
        // A sound image gives only request errors (names taken, moving a
        // directory into itself...), never corruption reports.
        assert!(errors.iter().all(|e| !e.contains("corrupt")), "{errors:?}");
    }
}

/// Resolves corpus names against the 1 KiB seed image with `debugfs`.
struct Resolver {
    image: std::path::PathBuf,
}

impl Resolver {
    /// The inode number of `path`.
    fn ino(&self, path: &str) -> usize {
        let out =
            String::from_utf8(debugfs(&self.image, &format!("stat {path}")).unwrap()).unwrap();
        let number = out
            .split_whitespace()
            .nth(1)
            .unwrap_or_else(|| panic!("no inode for {path}"));
        number.parse().unwrap()
    }

    /// The `n`th block `debugfs blocks` lists for `path`.
    fn block(&self, path: &str, n: usize) -> usize {
        let out =
            String::from_utf8(debugfs(&self.image, &format!("blocks {path}")).unwrap()).unwrap();
        out.split_whitespace()
            .nth(n)
            .unwrap_or_else(|| panic!("no block {n} of {path}"))
            .parse()
            .unwrap()
    }

    /// The byte offset a corpus target names.
    fn target(&self, image: &[u8], target: &str) -> usize {
        let parts: Vec<&str> = target.split(':').collect();
        match parts[..] {
            ["super"] => 1024,
            ["group"] => 2048,
            ["inode", path] => {
                let ino = self.ino(path);
                let table = le32(image, 2048 + 8);
                let inode_size =
                    usize::from(u16::from_le_bytes([image[1024 + 88], image[1024 + 89]]));
                table * 1024 + (ino - 1) * inode_size
            }
            ["block", path, n] => self.block(path, n.parse().unwrap()) * 1024,
            _ => panic!("bad corpus target {target}"),
        }
    }

    /// The bytes a value token stands for.
    fn value(&self, token: &str) -> Vec<u8> {
        let parts: Vec<&str> = token.split(':').collect();
        match parts[..] {
            ["ino", path] => (self.ino(path) as u32).to_le_bytes().to_vec(),
            ["blk", path, n] => (self.block(path, n.parse().unwrap()) as u32)
                .to_le_bytes()
                .to_vec(),
            [hex] => vec![u8::from_str_radix(hex, 16).unwrap_or_else(|_| panic!("bad byte {hex}"))],
            _ => panic!("bad corpus value {token}"),
        }
    }
}

/// Replays every corruption in `tests/corpus/`. Each file describes one
/// damaged image; each line is `TARGET OFFSET VALUE...` where TARGET is
/// `super`, `group` (descriptor 0), `inode:/path` or `block:/path:N` (the
/// Nth block `debugfs blocks /path` lists), OFFSET is hex bytes into it, and
/// each VALUE is a hex byte, `ino:/path` or `blk:/path:N` (4 bytes, LE).
/// Every case must mount-or-fail, walk, read and write without a panic or a
/// hang; a file's `# expect:` line, if any, names (part of) an error the
/// workload must report.
#[test]
fn corpus_of_known_corruptions() {
    let scratch = ScratchDir::new("fuzz-corpus");
    let image_path = scratch.path().join("seed.img");
    std::fs::write(&image_path, &seeds()[0].bytes).unwrap();
    let resolver = Resolver { image: image_path };
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut count = 0;
    for entry in std::fs::read_dir(&corpus).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let mut image = seeds()[0].bytes.clone();
        for line in text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            let mut words = line.split_whitespace();
            let start = resolver.target(&image, words.next().unwrap());
            let mut offset = start + usize::from_str_radix(words.next().unwrap(), 16).unwrap();
            for token in words {
                for byte in resolver.value(token) {
                    image[offset] = byte;
                    offset += 1;
                }
            }
        }
        let errors = run_guarded(image, &path.display().to_string());
        if let Some(expected) = text.lines().find_map(|l| l.strip_prefix("# expect:")) {
            let expected = expected.trim();
            assert!(
                errors.iter().any(|e| e.contains(expected)),
                "{}: expected an error containing {expected:?}, got {errors:?}",
                path.display()
            );
        }
        count += 1;
    }
    assert!(count >= 10, "the corpus has only {count} cases");
}

proptest! {
    // 400 cases keep the suite fast; set PROPTEST_CASES for a longer run.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(400),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn corrupted_images_never_panic_or_hang(
        which in 0usize..3,
        mutations in prop::collection::vec(mutation_strategy(), 0..12),
        record_mutations in prop::collection::vec(record_mutation_strategy(), 0..4),
    ) {
        let seed = &seeds()[which];
        let mut image = seed.bytes.clone();
        for mutation in &mutations {
            apply(&mut image, &seed.targets, mutation);
        }
        for mutation in &record_mutations {
            apply_to_record(&mut image, seed, mutation);
        }
        run_guarded(image, "mutated image");
    }
}

/// A disk that starts failing after a number of transfers, like a dying
/// drive or a crashed disk server.
struct FailingDisk {
    inner: MemDisk,
    transfers_left: u32,
}

impl FailingDisk {
    fn spend(&mut self) -> Result<(), BlockError> {
        if self.transfers_left == 0 {
            return Err(BlockError::Device { code: 5 });
        }
        self.transfers_left -= 1;
        Ok(())
    }
}

impl BlockDevice for FailingDisk {
    fn sector_count(&self) -> u64 {
        self.inner.sector_count()
    }
    fn read_sectors(&mut self, first: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        self.spend()?;
        self.inner.read_sectors(first, buf)
    }
    fn write_sectors(&mut self, first: u64, buf: &[u8]) -> Result<(), BlockError> {
        self.spend()?;
        self.inner.write_sectors(first, buf)
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(200),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// A disk that fails part-way through (at any transfer) gives errors,
    /// never a panic or a hang.
    #[test]
    fn failing_disks_never_panic_or_hang(which in 0usize..3, transfers in 0u32..400) {
        let disk = FailingDisk { inner: MemDisk::from_bytes(seeds()[which].bytes.clone()), transfers_left: transfers };
        let errors = run_guarded_with(move || workload_on(disk), "failing disk");
        if transfers < 5 {
            prop_assert!(errors.iter().any(|e| e.contains("device error")), "{:?}", errors);
        }
    }
}

/// One request with arbitrary arguments, as a buggy or hostile client of
/// the fs server could send.
#[derive(Debug, Clone)]
enum Request {
    Lookup(Ino, Vec<u8>),
    Read(Ino, u64, u16),
    Write(Ino, u64, u16),
    Truncate(Ino, u64),
    Create(Ino, Vec<u8>),
    Mkdir(Ino, Vec<u8>),
    Unlink(Ino, Vec<u8>),
    Rmdir(Ino, Vec<u8>),
    Link(Ino, Vec<u8>, Ino),
    Rename(Ino, Vec<u8>, Ino, Vec<u8>),
    ReadDir(Ino, u64),
    Stat(Ino),
    Open(Ino),
    Release(Ino),
}

fn request_strategy() -> impl Strategy<Value = Request> {
    // Inode numbers: mostly small (real ones), sometimes anything.
    let ino = prop_oneof![4 => 0u32..64, 1 => any::<u32>()];
    let name = prop_oneof![
        prop::collection::vec(
            prop_oneof![Just(b'a'), Just(b'/'), Just(b'.'), Just(0u8), any::<u8>()],
            0..6
        ),
        prop::collection::vec(Just(b'n'), 250..260),
        Just(b"other".to_vec()),
        Just(b"dir".to_vec()),
        Just(b"/dir/sub/..".to_vec()),
    ];
    let offset = prop_oneof![0u64..100_000, Just(u64::MAX), Just(1 << 40), any::<u64>()];
    prop_oneof![
        (ino.clone(), name.clone()).prop_map(|(i, n)| Request::Lookup(i, n)),
        (ino.clone(), offset.clone(), any::<u16>()).prop_map(|(i, o, l)| Request::Read(i, o, l)),
        (ino.clone(), offset.clone(), any::<u16>()).prop_map(|(i, o, l)| Request::Write(i, o, l)),
        (ino.clone(), offset.clone()).prop_map(|(i, o)| Request::Truncate(i, o)),
        (ino.clone(), name.clone()).prop_map(|(i, n)| Request::Create(i, n)),
        (ino.clone(), name.clone()).prop_map(|(i, n)| Request::Mkdir(i, n)),
        (ino.clone(), name.clone()).prop_map(|(i, n)| Request::Unlink(i, n)),
        (ino.clone(), name.clone()).prop_map(|(i, n)| Request::Rmdir(i, n)),
        (ino.clone(), name.clone(), ino.clone()).prop_map(|(d, n, t)| Request::Link(d, n, t)),
        (ino.clone(), name.clone(), ino.clone(), name)
            .prop_map(|(a, n, b, m)| Request::Rename(a, n, b, m)),
        (ino.clone(), offset).prop_map(|(i, o)| Request::ReadDir(i, o)),
        ino.clone().prop_map(Request::Stat),
        ino.clone().prop_map(Request::Open),
        ino.prop_map(Request::Release),
    ]
}

fn serve(fs: &mut Ext2<MemDisk>, request: &Request) -> Result<(), FsError> {
    let mut buf = vec![0u8; 4096];
    match request {
        Request::Lookup(cwd, path) => fs.lookup(*cwd, path).map(drop),
        Request::Read(ino, offset, len) => {
            buf.resize(usize::from(*len), 0);
            fs.read(*ino, *offset, &mut buf).map(drop)
        }
        Request::Write(ino, offset, len) => fs
            .write(*ino, *offset, &vec![0x77; usize::from(*len)])
            .map(drop),
        Request::Truncate(ino, size) => fs.truncate(*ino, *size),
        Request::Create(dir, name) => fs.create_file(*dir, name).map(drop),
        Request::Mkdir(dir, name) => fs.mkdir(*dir, name).map(drop),
        Request::Unlink(dir, name) => fs.unlink(*dir, name),
        Request::Rmdir(dir, name) => fs.rmdir(*dir, name),
        Request::Link(dir, name, target) => fs.link(*dir, name, *target),
        Request::Rename(a, n, b, m) => fs.rename(*a, n, *b, m),
        Request::ReadDir(dir, cursor) => fs.read_dir(*dir, *cursor).map(drop),
        Request::Stat(ino) => fs.stat(*ino).map(drop),
        Request::Open(ino) => fs.open_inode(*ino),
        Request::Release(ino) => fs.release_inode(*ino),
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(200),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Arbitrary requests (any inode number, offset, name bytes) on a sound
    /// image get answers or errors, never a panic — and never damage it:
    /// afterwards `e2fsck -fn` finds it clean and a full walk reports no
    /// corruption.
    #[test]
    fn arbitrary_requests_never_panic_or_corrupt(
        which in 0usize..3,
        requests in prop::collection::vec(request_strategy(), 1..40),
    ) {
        let image = seeds()[which].bytes.clone();
        let errors = run_guarded_with(move || {
            let mut fs = Ext2::mount(MemDisk::from_bytes(image), 32).unwrap();
            let mut errors: Vec<String> = Vec::new();
            for request in &requests {
                if let Err(FsError::Corrupt { what, value }) = serve(&mut fs, request) {
                    errors.push(format!("{request:?}: {what} ({value})"));
                }
            }
            // Drop every reference so unlinked files are freed, then walk.
            for ino in 1..2000 {
                while fs.open_count(ino) > 0 {
                    fs.release_inode(ino).unwrap();
                }
            }
            let disk = fs.unmount().unwrap();
            if let Err(report) = common::fs::host_tools::e2fsck_bytes(disk.as_bytes()) {
                errors.push(report);
            }
            errors.extend(workload(disk.into_bytes()).into_iter().filter(|e| e.contains("corrupt")));
            errors
        }, "arbitrary requests");
        prop_assert!(errors.is_empty(), "{:?}", errors);
    }
}
