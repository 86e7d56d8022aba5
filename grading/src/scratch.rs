//! Private disk copies: each session boots its own copy of the disk image.
//!
//! A kernel writes to its disk, so two tests booting the same image would
//! see each other's files, and running them in parallel would corrupt it.
//! Each session therefore gets a fresh directory under `build/grade-tmp/`
//! holding a copy of the image; the directory is deleted when the session
//! ends. Until then the copy can be inspected, e.g. with `e2fsck`.

use crate::failure::Failure;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A directory of its own for one session, holding its disk copy; removed
/// when dropped.
#[derive(Debug)]
pub struct ScratchDir {
    /// The directory, `<parent>/<label>-<pid>-<n>/`.
    directory: PathBuf,
    /// The disk copy inside it.
    disk: PathBuf,
}

impl ScratchDir {
    /// Makes `<parent>/<label>-<pid>-<n>/` and copies `image` into it.
    pub fn with_disk_copy(parent: &Path, label: &str, image: &Path) -> Result<ScratchDir, Failure> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let number = NEXT.fetch_add(1, Ordering::Relaxed);
        let directory = parent.join(format!("{label}-{}-{number}", std::process::id()));
        let setup = |what: &str, error: io::Error| Failure::Setup(format!("{what}: {error}"));
        std::fs::create_dir_all(&directory)
            .map_err(|error| setup(&format!("cannot create {}", directory.display()), error))?;
        // From here on, dropping `scratch` cleans up.
        let scratch = ScratchDir {
            disk: directory.join(image.file_name().unwrap_or("disk.img".as_ref())),
            directory,
        };
        std::fs::copy(image, &scratch.disk).map_err(|error| {
            setup(
                &format!(
                    "cannot copy the disk image {} to {}",
                    image.display(),
                    scratch.disk.display()
                ),
                error,
            )
        })?;
        Ok(scratch)
    }

    /// The disk copy.
    pub fn disk(&self) -> &Path {
        &self.disk
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        // Best effort: a leftover directory under build/ is harmless.
        let _ = std::fs::remove_dir_all(&self.directory);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_are_separate_and_deleted_on_drop() {
        let parent = std::env::temp_dir().join(format!("grading-scratch-{}", std::process::id()));
        std::fs::create_dir_all(&parent).unwrap();
        let image = parent.join("disk.img");
        std::fs::write(&image, b"ext2").unwrap();
        let first = ScratchDir::with_disk_copy(&parent, "mono", &image).unwrap();
        let second = ScratchDir::with_disk_copy(&parent, "mono", &image).unwrap();
        assert_ne!(first.disk, second.disk);
        assert_eq!(std::fs::read(&first.disk).unwrap(), b"ext2");
        let first_disk = first.disk.clone();
        drop(first);
        assert!(!first_disk.exists() && second.disk.exists());
        drop(second);
        std::fs::remove_dir_all(&parent).unwrap();
    }

    #[test]
    fn a_missing_image_is_a_setup_failure_naming_it() {
        let parent = std::env::temp_dir().join(format!("grading-scratch2-{}", std::process::id()));
        match ScratchDir::with_disk_copy(&parent, "micro", Path::new("/nonexistent/micro.img")) {
            Err(Failure::Setup(message)) => {
                assert!(message.contains("/nonexistent/micro.img"), "{message}")
            }
            other => panic!("expected a setup failure, got {other:?}"),
        }
        // The half-made directory was cleaned up.
        assert!(
            std::fs::read_dir(&parent)
                .map(|mut entries| entries.next().is_none())
                .unwrap_or(true)
        );
        let _ = std::fs::remove_dir_all(&parent);
    }
}
