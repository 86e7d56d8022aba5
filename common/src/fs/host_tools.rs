//! Host-only helpers that drive the real ext2 tools (e2fsprogs): `mke2fs`
//! to build images, `e2fsck` to judge them, `debugfs` to read them without
//! our code. Used by the tests and the throughput example; never built for
//! the kernels (it needs `std`).
//!
//! A missing tool is an error naming it, so a test that needs the oracle
//! fails loudly instead of silently passing.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// Finds an e2fsprogs tool in the usual places.
///
/// # Errors
/// A message naming the tool if it is not installed.
pub fn tool(name: &str) -> Result<PathBuf, String> {
    for dir in ["/usr/sbin", "/sbin", "/usr/bin", "/bin"] {
        let path = Path::new(dir).join(name);
        if path.exists() {
            return Ok(path);
        }
    }
    Err(format!(
        "`{name}` not found: install e2fsprogs (needed by this test)"
    ))
}

/// A scratch directory, removed (with its contents) when dropped.
pub struct ScratchDir {
    path: PathBuf,
}

impl ScratchDir {
    /// Creates a fresh, uniquely named directory under the system temp dir.
    ///
    /// # Panics
    /// If the directory cannot be created (a broken host, not a test result).
    pub fn new(label: &str) -> ScratchDir {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let unique = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("diptych-{label}-{}-{unique}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).expect("cannot create a scratch directory");
        ScratchDir { path }
    }

    /// The directory's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// Runs a command and returns its stdout, or an error with its output.
fn run(command: &mut Command) -> Result<Vec<u8>, String> {
    let output = command
        .output()
        .map_err(|e| format!("cannot run {command:?}: {e}"))?;
    if output.status.success() {
        Ok(output.stdout)
    } else {
        Err(format!(
            "{command:?} failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// Builds an ext2 image of `size_kib` KiB with `block_size`-byte blocks at
/// `image`, populated from the host directory `populate` if given
/// (`mke2fs -t ext2 -d`). Extra `mke2fs` options may be passed in `extra`.
///
/// # Errors
/// The tool is missing or failed.
pub fn mke2fs(
    image: &Path,
    block_size: u32,
    size_kib: u64,
    populate: Option<&Path>,
    extra: &[&str],
) -> Result<(), String> {
    let mut command = Command::new(tool("mke2fs")?);
    command
        .args(["-q", "-F", "-t", "ext2", "-b"])
        .arg(block_size.to_string());
    command.args(extra);
    if let Some(dir) = populate {
        command.arg("-d").arg(dir);
    }
    command.arg(image).arg(format!("{size_kib}k"));
    run(&mut command).map(|_| ())
}

/// Checks `image` with `e2fsck -fn` (force a full check, change nothing).
///
/// # Errors
/// The tool is missing, or it found a problem (the message holds its report).
pub fn e2fsck(image: &Path) -> Result<(), String> {
    run(Command::new(tool("e2fsck")?).arg("-fn").arg(image)).map(|_| ())
}

/// Runs one `debugfs` request (such as `cat /a/b`) on `image` and returns
/// its standard output.
///
/// # Errors
/// The tool is missing or failed.
pub fn debugfs(image: &Path, request: &str) -> Result<Vec<u8>, String> {
    run(Command::new(tool("debugfs")?)
        .arg("-R")
        .arg(request)
        .arg(image))
}

/// Builds an empty ext2 image with `mke2fs` and returns its bytes, for
/// tests that run the file system on a [`MemDisk`](crate::block::MemDisk).
///
/// # Errors
/// The tool is missing or failed.
pub fn mke2fs_bytes(block_size: u32, size_kib: u64, extra: &[&str]) -> Result<Vec<u8>, String> {
    let scratch = ScratchDir::new("mke2fs-bytes");
    let image = scratch.path().join("disk.img");
    mke2fs(&image, block_size, size_kib, None, extra)?;
    fs::read(&image).map_err(|e| format!("cannot read {}: {e}", image.display()))
}

/// Checks an image held in memory with `e2fsck -fn`.
///
/// # Errors
/// The tool is missing, or it found a problem (the message holds its report).
pub fn e2fsck_bytes(image: &[u8]) -> Result<(), String> {
    let scratch = ScratchDir::new("e2fsck-bytes");
    let path = scratch.path().join("disk.img");
    fs::write(&path, image).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    e2fsck(&path)
}
