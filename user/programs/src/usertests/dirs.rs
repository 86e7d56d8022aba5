//! Directory tests: mkdir/chdir, `.` and `..`, links, long names, rename,
//! listing, and several processes changing one directory at once.

use super::util::{
    Context, Xorshift, expect_errno, expect_one_of, read_file, remove, spawn, write_file,
};
use super::{Test, TestResult};
use crate::ensure;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use ulib::{
    Errno, FileType, O_CREATE, O_RDONLY, O_RDWR, chdir, close, link, mkdir, mknod, open, read_dir,
    rename, stat, unlink, wait,
};

pub const TESTS: &[Test] = &[
    Test::quick("mkdir_chdir", mkdir_chdir),
    Test::quick("dir_errors", dir_errors),
    Test::quick("dot_dotdot", dot_dotdot),
    Test::quick("subdir", subdir),
    Test::quick("fourteen", fourteen),
    Test::quick("rmdot", rmdot),
    Test::quick("iref", iref),
    Test::quick("unlink_cwd", unlink_cwd),
    Test::quick("exit_in_removed_dir", exit_in_removed_dir),
    Test::quick("rmdir_other_cwd", rmdir_other_cwd),
    Test::quick("link_basic", link_basic),
    Test::quick("link_errors", link_errors),
    Test::quick("listing", listing),
    Test::quick("getdents_errors", getdents_errors),
    Test::quick("bigdir", bigdir),
    Test::quick("concreate", concreate),
    Test::quick("linkunlink", linkunlink),
    Test::quick("rename_file", rename_file),
    Test::quick("rename_dir", rename_dir),
    Test::quick("rename_errors", rename_errors),
    Test::quick("mknod_device", mknod_device),
];

/// Names in directory `path`, without `.` and `..`, sorted.
fn names_in(path: &str) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    for entry in read_dir(path).context(&format!("read_dir {path}"))? {
        let entry = entry.context("getdents")?;
        if entry.name != "." && entry.name != ".." {
            names.push(entry.name);
        }
    }
    names.sort();
    Ok(names)
}

fn mkdir_chdir() -> TestResult {
    mkdir("ut-dir").context("mkdir")?;
    chdir("ut-dir").context("chdir into it")?;
    write_file("inside", b"in the directory")?;
    chdir("..").context("chdir ..")?;
    let data = read_file("ut-dir/inside")?;
    unlink("ut-dir/inside").context("unlink file")?;
    unlink("ut-dir").context("unlink the directory")?;
    ensure!(
        data == b"in the directory",
        "reading through the path gave {:?}",
        data
    );
    expect_errno(
        chdir("ut-dir"),
        Errno::ENOENT,
        "chdir into the removed directory",
    )
}

fn dir_errors() -> TestResult {
    mkdir("ut-direrr").context("mkdir")?;
    write_file("ut-direrr/f", b"")?;
    let result = (|| {
        expect_errno(
            mkdir("ut-direrr"),
            Errno::EEXIST,
            "mkdir of an existing name",
        )?;
        expect_errno(
            unlink("ut-direrr"),
            Errno::ENOTEMPTY,
            "unlink of a non-empty directory",
        )?;
        expect_errno(
            mkdir("ut-no-such/x"),
            Errno::ENOENT,
            "mkdir in a missing directory",
        )?;
        expect_errno(
            unlink("ut-direrr/missing"),
            Errno::ENOENT,
            "unlink of a missing name",
        )?;
        expect_errno(chdir("ut-direrr/f"), Errno::ENOTDIR, "chdir to a file")
    })();
    remove("ut-direrr/f");
    remove("ut-direrr");
    result
}

/// `.` is the directory itself and `..` its parent, for listing and lookup.
fn dot_dotdot() -> TestResult {
    mkdir("ut-dots").context("mkdir")?;
    mkdir("ut-dots/sub").context("mkdir sub")?;
    let result = (|| {
        let dots = stat("ut-dots").context("stat")?;
        let sub = stat("ut-dots/sub").context("stat sub")?;
        ensure!(
            stat("ut-dots/.").context("stat .")?.ino == dots.ino,
            ". is not the directory"
        );
        ensure!(
            stat("ut-dots/sub/..").context("stat ..")?.ino == dots.ino,
            ".. is not the parent"
        );
        ensure!(
            stat("ut-dots/sub/.").context("stat sub/.")?.ino == sub.ino,
            "sub/. is wrong"
        );
        ensure!(
            stat("/..").context("stat /..")?.ino == stat("/").context("stat /")?.ino,
            "/.. is not /"
        );
        let mut saw = (false, false);
        for entry in read_dir("ut-dots/sub").context("read_dir")? {
            let entry = entry.context("getdents")?;
            match entry.name.as_str() {
                "." => saw.0 = entry.ino == sub.ino,
                ".." => saw.1 = entry.ino == dots.ino,
                _ => {}
            }
        }
        ensure!(
            saw == (true, true),
            "the listing of a new directory lacks correct . and .."
        );
        Ok(())
    })();
    remove("ut-dots/sub");
    remove("ut-dots");
    result
}

/// A condensed xv6 subdir: nested directories, relative paths, links across
/// directories, and the errors on the way.
fn subdir() -> TestResult {
    let cleanup = || {
        for path in [
            "ut-dd/dd/ffff",
            "ut-dd/dd/ff",
            "ut-dd/ff",
            "ut-dd/dd",
            "ut-dd",
        ] {
            remove(path);
        }
    };
    cleanup();
    let result = (|| {
        mkdir("ut-dd").context("mkdir ut-dd")?;
        write_file("ut-dd/ff", b"ff")?;
        expect_errno(unlink("ut-dd"), Errno::ENOTEMPTY, "unlink non-empty ut-dd")?;
        mkdir("/ut-dd/dd").context("mkdir /ut-dd/dd")?;
        write_file("ut-dd/dd/../ff", b"FF")?;
        ensure!(
            read_file("ut-dd/ff")? == b"FF",
            "writing through .. went elsewhere"
        );
        write_file("ut-dd/dd/ff", b"dd/ff")?;
        link("ut-dd/dd/ff", "ut-dd/dd/ffff").context("link across names")?;
        unlink("ut-dd/dd/ff").context("unlink dd/ff")?;
        expect_errno(
            open("ut-dd/dd/ff", O_RDONLY),
            Errno::ENOENT,
            "open unlinked dd/ff",
        )?;
        chdir("ut-dd").context("chdir ut-dd")?;
        chdir("dd/../../ut-dd").context("chdir dd/../../ut-dd")?;
        chdir("dd/../../../ut-dd").context("chdir through /..")?;
        ensure!(read_file("dd/ffff")? == b"dd/ff", "the link lost its data");
        chdir("..").context("chdir ..")?;
        expect_errno(
            open("ut-dd/ff/ff", O_CREATE | O_RDWR),
            Errno::ENOTDIR,
            "create under a file",
        )?;
        expect_errno(mkdir("ut-dd/ff/ff"), Errno::ENOTDIR, "mkdir under a file")?;
        expect_errno(
            mkdir("ut-dd/dd/ffff/x"),
            Errno::ENOTDIR,
            "mkdir under a link",
        )?;
        expect_errno(mkdir("ut-dd/dd"), Errno::EEXIST, "mkdir existing")?;
        expect_errno(
            link("ut-dd/dd/ffff", "ut-dd/ff"),
            Errno::EEXIST,
            "link onto an existing name",
        )?;
        expect_errno(
            unlink("ut-dd/dd"),
            Errno::ENOTEMPTY,
            "unlink non-empty ut-dd/dd",
        )?;
        unlink("ut-dd/dd/ffff").context("unlink ffff")?;
        unlink("ut-dd/ff").context("unlink ff")?;
        unlink("ut-dd/dd").context("unlink dd")?;
        unlink("ut-dd").context("unlink ut-dd")
    })();
    let _ = chdir("/");
    cleanup();
    result
}

/// xv6's fourteen, for ext2: names of 14 and of 255 bytes work. (A whole
/// path is at most `MAX_PATH` = 255 bytes too, so the 255-byte name is
/// used from inside its directory.)
fn fourteen() -> TestResult {
    let name14 = "ut-34567890123";
    let name255 = format!("ut-{}", "n".repeat(252));
    mkdir(name14).context("mkdir 14-byte name")?;
    let deep = format!("{name14}/{name14}");
    mkdir(&deep).context("mkdir nested 14-byte name")?;
    let result = (|| {
        chdir(name14).context("chdir")?;
        write_file(&name255, b"long")?;
        ensure!(
            read_file(&name255)? == b"long",
            "the 255-byte name lost its data"
        );
        let listed = names_in(".")?;
        ensure!(listed.contains(&name255), "the 255-byte name is not listed");
        // From inside the outer directory, `name14/x` is `deep/x`.
        write_file(&format!("{name14}/x"), b"14")?;
        chdir("..").context("chdir ..")?;
        ensure!(
            read_file(&format!("{deep}/x"))? == b"14",
            "nested 14-byte names mix up"
        );
        Ok(())
    })();
    let _ = chdir("/");
    if chdir(name14).is_ok() {
        remove(&name255); // too long to name from outside (MAX_PATH)
        let _ = chdir("/");
    }
    remove(&format!("{deep}/x"));
    remove(&deep);
    remove(name14);
    result
}

/// xv6's rmdot: `.` and `..` cannot be removed.
fn rmdot() -> TestResult {
    mkdir("ut-rmdot").context("mkdir")?;
    let result = (|| {
        chdir("ut-rmdot").context("chdir")?;
        expect_one_of(
            unlink("."),
            &[Errno::EINVAL, Errno::EPERM, Errno::EBUSY],
            "unlink .",
        )?;
        expect_one_of(
            unlink(".."),
            &[Errno::EINVAL, Errno::EPERM, Errno::ENOTEMPTY, Errno::EBUSY],
            "unlink ..",
        )?;
        chdir("/").context("chdir /")?;
        expect_one_of(
            unlink("ut-rmdot/."),
            &[Errno::EINVAL, Errno::EPERM, Errno::EBUSY],
            "unlink ut-rmdot/.",
        )?;
        expect_one_of(
            unlink("ut-rmdot/.."),
            &[Errno::EINVAL, Errno::EPERM, Errno::ENOTEMPTY, Errno::EBUSY],
            "unlink ut-rmdot/..",
        )
    })();
    let _ = chdir("/");
    remove("ut-rmdot");
    result?;
    expect_errno(stat("ut-rmdot"), Errno::ENOENT, "ut-rmdot still exists")
}

/// xv6's iref: descend 50 levels, creating and linking on the way, then
/// climb back out removing everything; the kernel's inode references must
/// balance (the leak check at the end of the run catches leaks).
fn iref() -> TestResult {
    const LEVELS: usize = 50;
    let mut result = Ok(());
    let mut made = 0;
    for _ in 0..LEVELS {
        if let Err(e) = mkdir("ut-irefd").context("mkdir") {
            result = Err(e);
            break;
        }
        made += 1;
        if let Err(e) = chdir("ut-irefd").context("chdir") {
            result = Err(e);
            break;
        }
        let _ = write_file("f", b"x");
        let _ = link("f", "g");
        let _ = unlink("f");
    }
    for _ in 0..made {
        let _ = unlink("g");
        let _ = chdir("..");
        if let Err(e) = unlink("ut-irefd").context("unlink on the way out") {
            result = result.and(Err(e));
        }
    }
    let _ = chdir("/");
    result
}

/// xv6's linktest: two names, one file.
fn link_basic() -> TestResult {
    remove("ut-lf1");
    remove("ut-lf2");
    write_file("ut-lf1", b"hello")?;
    link("ut-lf1", "ut-lf2").context("link")?;
    unlink("ut-lf1").context("unlink first name")?;
    expect_errno(
        open("ut-lf1", O_RDONLY),
        Errno::ENOENT,
        "open unlinked first name",
    )?;
    let data = read_file("ut-lf2")?;
    ensure!(data == b"hello", "the second name reads {:?}", data);
    link("ut-lf2", "ut-lf1").context("link back")?;
    ensure!(
        read_file("ut-lf1")? == b"hello",
        "the restored name reads wrongly"
    );
    unlink("ut-lf1").context("unlink")?;
    unlink("ut-lf2").context("unlink")
}

fn link_errors() -> TestResult {
    write_file("ut-le", b"")?;
    mkdir("ut-led").context("mkdir")?;
    let result = (|| {
        expect_errno(link("ut-le", "ut-le"), Errno::EEXIST, "link onto itself")?;
        expect_errno(
            link("ut-missing", "ut-le2"),
            Errno::ENOENT,
            "link of a missing file",
        )?;
        expect_one_of(
            link("ut-led", "ut-led2"),
            &[Errno::EPERM, Errno::EISDIR],
            "link of a directory",
        )?;
        expect_errno(
            link("ut-le", "ut-missing/x"),
            Errno::ENOENT,
            "link into a missing directory",
        )
    })();
    remove("ut-le");
    remove("ut-led2");
    remove("ut-led");
    result
}

/// getdents lists exactly the names a directory holds.
fn listing() -> TestResult {
    mkdir("ut-ls").context("mkdir")?;
    let names = ["apple", "banana", "cherry"];
    for name in names {
        write_file(&format!("ut-ls/{name}"), name.as_bytes())?;
    }
    mkdir("ut-ls/dir").context("mkdir dir")?;
    let listed = names_in("ut-ls");
    let mut kinds = Vec::new();
    if let Ok(entries) = read_dir("ut-ls") {
        for entry in entries.flatten() {
            kinds.push((entry.name, entry.kind));
        }
    }
    for name in names {
        remove(&format!("ut-ls/{name}"));
    }
    remove("ut-ls/dir");
    remove("ut-ls");
    let listed = listed?;
    ensure!(
        listed == ["apple", "banana", "cherry", "dir"],
        "listed {:?}",
        listed
    );
    for (name, kind) in kinds {
        let expected = if name == "dir" || name == "." || name == ".." {
            FileType::Dir
        } else {
            FileType::File
        };
        ensure!(
            kind.is_none() || kind == Some(expected),
            "{} listed with type {:?}",
            name,
            kind
        );
    }
    Ok(())
}

/// xv6's bigdir: 500 names for one file in one directory (the directory
/// grows to several blocks), then all removed.
fn bigdir() -> TestResult {
    const NAMES: usize = 500;
    mkdir("ut-bigdir").context("mkdir")?;
    write_file("ut-bigdir/target", b"t")?;
    let name = |i: usize| format!("ut-bigdir/x{i:03}");
    let mut result = Ok(());
    let mut made = 0;
    for i in 0..NAMES {
        if let Err(e) = link("ut-bigdir/target", &name(i)).context(&format!("link #{i}")) {
            result = Err(e);
            break;
        }
        made += 1;
    }
    if result.is_ok() {
        match names_in("ut-bigdir") {
            Ok(listed) if listed.len() == NAMES + 1 => {}
            Ok(listed) => {
                result = Err(format!(
                    "listed {} names, expected {}",
                    listed.len(),
                    NAMES + 1
                ))
            }
            Err(e) => result = Err(e),
        }
    }
    if result.is_ok() {
        match stat("ut-bigdir/target") {
            Ok(st) if st.nlink as usize == NAMES + 1 => {}
            Ok(st) => result = Err(format!("nlink is {}, expected {}", st.nlink, NAMES + 1)),
            Err(e) => result = Err(format!("stat: {}", e.message())),
        }
    }
    for i in 0..made {
        if let Err(e) = unlink(&name(i)).context(&format!("unlink #{i}")) {
            result = result.and(Err(e));
        }
    }
    remove("ut-bigdir/target");
    if let Err(e) = unlink("ut-bigdir").context("unlink the emptied directory") {
        result = result.and(Err(e));
    }
    result
}

/// xv6's concreate: two processes create, link and unlink the same names at
/// the same time; afterwards every name is either absent or a good file.
fn concreate() -> TestResult {
    const NAMES: u64 = 40;
    mkdir("ut-conc").context("mkdir")?;
    let name = |i: u64| format!("ut-conc/C{i:02}");
    for seed in [1u64, 2] {
        spawn(move || {
            let mut rng = Xorshift::new(seed);
            for _ in 0..200 {
                let i = rng.below(NAMES);
                match rng.below(3) {
                    0 => {
                        if let Ok(fd) = open(&name(i), O_CREATE | O_RDWR) {
                            let _ = close(fd);
                        }
                    }
                    1 => {
                        let _ = link(&name(rng.below(NAMES)), &name(i));
                    }
                    _ => {
                        let _ = unlink(&name(i));
                    }
                }
            }
            0
        })?;
    }
    for _ in 0..2 {
        let (_, status) = wait().context("wait")?;
        ensure!(status == 0, "a worker failed");
    }
    let mut result = Ok(());
    for listed in names_in("ut-conc")? {
        let valid = listed.len() == 3 && listed.starts_with('C');
        let st = stat(&format!("ut-conc/{listed}"));
        if (!valid || !matches!(st, Ok(s) if s.kind == FileType::File as u32)) && result.is_ok() {
            result = Err(format!(
                "bad entry {listed:?} after concurrent creation: {st:?}"
            ));
        }
    }
    for i in 0..NAMES {
        remove(&name(i));
    }
    if let Err(e) = unlink("ut-conc").context("unlink ut-conc (not empty?)") {
        result = result.and(Err(e));
    }
    result
}

/// xv6's linkunlink: two processes randomly create, link and unlink a few
/// names; the file system must stay consistent.
fn linkunlink() -> TestResult {
    let name = |i: u64| format!("ut-lu{i}");
    for seed in [11u64, 12] {
        spawn(move || {
            let mut rng = Xorshift::new(seed);
            for _ in 0..300 {
                let i = rng.below(5);
                match rng.below(3) {
                    0 => {
                        if let Ok(fd) = open(&name(i), O_CREATE | O_RDWR) {
                            let _ = close(fd);
                        }
                    }
                    1 => {
                        let _ = link(&name(rng.below(5)), &name(i));
                    }
                    _ => {
                        let _ = unlink(&name(i));
                    }
                }
            }
            0
        })?;
    }
    for _ in 0..2 {
        wait().context("wait")?;
    }
    for i in 0..5 {
        if let Ok(st) = stat(&name(i)) {
            ensure!(
                st.kind == FileType::File as u32 && st.nlink >= 1,
                "{} is broken: {:?}",
                name(i),
                st
            );
        }
        remove(&name(i));
    }
    Ok(())
}

fn rename_file() -> TestResult {
    write_file("ut-rn-a", b"contents")?;
    rename("ut-rn-a", "ut-rn-b").context("rename")?;
    expect_errno(
        open("ut-rn-a", O_RDONLY),
        Errno::ENOENT,
        "the old name still exists",
    )?;
    ensure!(
        read_file("ut-rn-b")? == b"contents",
        "renamed file lost its contents"
    );
    // Renaming onto an existing file replaces it.
    write_file("ut-rn-c", b"replaced")?;
    rename("ut-rn-b", "ut-rn-c").context("rename onto an existing file")?;
    let data = read_file("ut-rn-c")?;
    remove("ut-rn-c");
    ensure!(data == b"contents", "rename onto a file left {:?}", data);
    expect_errno(
        stat("ut-rn-b"),
        Errno::ENOENT,
        "the source name still exists",
    )
}

fn rename_dir() -> TestResult {
    mkdir("ut-rd1").context("mkdir")?;
    mkdir("ut-rd2").context("mkdir")?;
    write_file("ut-rd1/f", b"moved")?;
    let result = (|| {
        rename("ut-rd1", "ut-rd2/inner").context("move a directory into another")?;
        ensure!(
            read_file("ut-rd2/inner/f")? == b"moved",
            "the contents did not move along"
        );
        let parent = stat("ut-rd2").context("stat")?;
        ensure!(
            stat("ut-rd2/inner/..").context("stat ..")?.ino == parent.ino,
            ".. was not updated"
        );
        expect_errno(stat("ut-rd1"), Errno::ENOENT, "the old name still exists")
    })();
    for path in [
        "ut-rd2/inner/f",
        "ut-rd2/inner",
        "ut-rd2",
        "ut-rd1/f",
        "ut-rd1",
    ] {
        remove(path);
    }
    result
}

fn rename_errors() -> TestResult {
    mkdir("ut-re").context("mkdir")?;
    mkdir("ut-re/sub").context("mkdir")?;
    write_file("ut-re/sub/f", b"")?;
    write_file("ut-re-file", b"")?;
    let result = (|| {
        expect_errno(
            rename("ut-re-missing", "ut-re-x"),
            Errno::ENOENT,
            "rename of a missing name",
        )?;
        expect_errno(
            rename("ut-re", "ut-re/sub/inside"),
            Errno::EINVAL,
            "move a directory into itself",
        )?;
        expect_one_of(
            rename("ut-re-file", "ut-re/sub"),
            &[Errno::EISDIR, Errno::ENOTEMPTY, Errno::EEXIST],
            "rename a file over a directory",
        )?;
        expect_one_of(
            rename("ut-re/sub", "ut-re-file"),
            &[Errno::ENOTDIR, Errno::EEXIST],
            "rename a directory over a file",
        )?;
        expect_errno(
            rename("ut-re-file", "ut-re-missing/x"),
            Errno::ENOENT,
            "rename into a missing directory",
        )
    })();
    for path in [
        "ut-re/sub/inside",
        "ut-re/sub/f",
        "ut-re/sub",
        "ut-re",
        "ut-re-file",
    ] {
        remove(path);
    }
    result
}

fn mknod_device() -> TestResult {
    mknod("ut-console", 1, 0).context("mknod")?;
    let result = (|| {
        let st = stat("ut-console").context("stat")?;
        ensure!(st.kind == FileType::Device as u32, "kind is {}", st.kind);
        ensure!(
            (st.major, st.minor) == (1, 0),
            "device numbers are {}:{}",
            st.major,
            st.minor
        );
        // The device file is an inode like any other: listed and numbered.
        let listed = read_dir(".")
            .context("read_dir")?
            .flatten()
            .find(|entry| entry.name == "ut-console")
            .map(|entry| entry.ino);
        ensure!(listed.is_some(), "the device file is not listed");
        ensure!(
            st.ino != 0 && listed == Some(st.ino),
            "fstat says inode {}, the directory says {:?}",
            st.ino,
            listed
        );
        let fd = open("ut-console", O_RDWR).context("open the device")?;
        close(fd).context("close")
    })();
    remove("ut-console");
    result
}

/// getdents refuses files (ENOTDIR) and buffers too small for one record
/// (EINVAL).
fn getdents_errors() -> TestResult {
    write_file("ut-gdfile", b"not a directory")?;
    let file = open("ut-gdfile", O_RDONLY).context("open file")?;
    let mut buf = [0u8; 1024];
    let on_file = ulib::getdents(file, &mut buf);
    close(file).context("close")?;
    remove("ut-gdfile");
    expect_errno(on_file, Errno::ENOTDIR, "getdents on a file")?;
    let dir = open(".", O_RDONLY).context("open .")?;
    let mut tiny = [0u8; 4];
    let small = ulib::getdents(dir, &mut tiny);
    close(dir).context("close")?;
    expect_errno(small, Errno::EINVAL, "getdents with a 4-byte buffer")
}

/// xv6's iput: a process removes its own current directory. The kernel may
/// refuse (EBUSY) or allow it; if allowed, nothing can be created in the
/// removed directory, and leaving it works.
fn unlink_cwd() -> TestResult {
    mkdir("ut-iputdir").context("mkdir")?;
    chdir("ut-iputdir").context("chdir")?;
    let removed = unlink("../ut-iputdir");
    let created = open("x", O_CREATE | O_RDWR);
    if let Ok(fd) = created {
        let _ = close(fd);
        let _ = unlink("x");
    }
    chdir("/").context("chdir / after removing the current directory")?;
    match removed {
        Ok(()) => {
            expect_errno(stat("ut-iputdir"), Errno::ENOENT, "the removed directory")?;
            ensure!(
                created.is_err(),
                "a file was created in a removed directory"
            );
            Ok(())
        }
        Err(Errno::EBUSY) => {
            remove("ut-iputdir");
            Ok(())
        }
        Err(e) => {
            remove("ut-iputdir");
            Err(format!("unlink of the current directory: unexpected {e:?}"))
        }
    }
}

/// xv6's exitiput: a child exits while its current directory is being
/// removed by its parent; the directory's inode must be released.
fn exit_in_removed_dir() -> TestResult {
    mkdir("ut-exitiput").context("mkdir")?;
    let (ready_read, ready_write) = ulib::pipe().context("pipe")?;
    let (go_read, go_write) = ulib::pipe().context("pipe")?;
    let child = spawn(|| {
        if chdir("ut-exitiput").is_err() {
            return 1;
        }
        let _ = ulib::write(ready_write, b"r");
        let mut byte = [0u8; 1];
        let _ = ulib::read(go_read, &mut byte); // wait until the parent has removed it
        0
    })?;
    let mut byte = [0u8; 1];
    ulib::read(ready_read, &mut byte).context("read readiness")?;
    let removed = unlink("ut-exitiput");
    ulib::write(go_write, b"g").context("write go")?;
    let status = super::util::wait_for(child)?;
    for fd in [ready_read, ready_write, go_read, go_write] {
        close(fd).context("close")?;
    }
    ensure!(status == 0, "the child failed with status {}", status);
    match removed {
        Ok(()) | Err(Errno::EBUSY) => {}
        Err(e) => return Err(format!("unlink of a directory in use: unexpected {e:?}")),
    }
    remove("ut-exitiput");
    expect_errno(stat("ut-exitiput"), Errno::ENOENT, "the directory is gone")
}

/// What the child of [`rmdir_other_cwd`] found wrong, by exit status.
const CWD_PROBLEMS: [(i32, &str); 7] = [
    (1, "chdir into the directory failed"),
    (2, "stat of . failed before the removal"),
    (3, "reading the go byte failed"),
    (4, "listing . of the removed directory showed entries"),
    (5, ". of the removed directory is another inode now"),
    (
        6,
        "a file was created in the removed directory (or not with ENOENT)",
    ),
    (7, "chdir / from the removed directory failed"),
];

/// A working directory is held: another process removes it, and the
/// process inside (with no descriptor open on it, which would hold it by
/// itself) sees an empty directory — or a clean error — that accepts no new
/// names, while its inode is not freed, so its number cannot go to a new
/// file or directory (once, it was freed at once and the number reused).
/// The disk is clean afterwards (the grader runs `e2fsck -fn`).
fn rmdir_other_cwd() -> TestResult {
    mkdir("ut-cwdgone").context("mkdir")?;
    let (ready_read, ready_write) = ulib::pipe().context("pipe")?;
    let (go_read, go_write) = ulib::pipe().context("pipe")?;
    let child = spawn(|| {
        if chdir("ut-cwdgone").is_err() {
            return 1;
        }
        let Ok(before) = stat(".") else {
            return 2;
        };
        let _ = ulib::write(ready_write, &before.ino.to_le_bytes());
        let mut byte = [0u8; 1];
        if ulib::read(go_read, &mut byte) != Ok(1) {
            return 3;
        }
        if byte[0] == b'r' {
            // Removed: an empty listing or a clean error.
            if let Ok(entries) = read_dir(".")
                && entries.count() > 0
            {
                return 4;
            }
            if let Ok(now) = stat(".")
                && now.ino != before.ino
            {
                return 5;
            }
            match open("x", O_CREATE | O_RDWR) {
                Err(Errno::ENOENT) => {}
                Ok(fd) => {
                    let _ = close(fd);
                    let _ = unlink("x");
                    return 6;
                }
                Err(_) => return 6,
            }
        }
        if chdir("/").is_err() {
            return 7;
        }
        0
    })?;
    let mut held = [0u8; 4];
    let got = ulib::read_full(ready_read, &mut held).context("read the child's inode")?;
    let held = u32::from_le_bytes(held);
    let removed = unlink("ut-cwdgone");
    // Make new inodes while the child is inside: none may get its number.
    let mut reused = None;
    if removed.is_ok() {
        for i in 0..4 {
            let dir = format!("ut-cwdnew{i}");
            let file = format!("ut-cwdnew{i}/f");
            let _ = mkdir(&dir);
            let _ = write_file(&file, b"x");
            for path in [&dir, &file] {
                if let Ok(st) = stat(path)
                    && st.ino == held
                {
                    reused = Some(path.clone());
                }
            }
        }
    }
    let go = if removed.is_ok() { b"r" } else { b"k" };
    ulib::write(go_write, go).context("write go")?;
    let status = super::util::wait_for(child)?;
    for fd in [ready_read, ready_write, go_read, go_write] {
        close(fd).context("close")?;
    }
    for i in 0..4 {
        remove(&format!("ut-cwdnew{i}/f"));
        remove(&format!("ut-cwdnew{i}"));
    }
    remove("ut-cwdgone");
    ensure!(got == 4, "the child sent {} bytes of its inode number", got);
    match removed {
        Ok(()) | Err(Errno::EBUSY) => {}
        Err(e) => return Err(format!("rmdir of another process's cwd: unexpected {e:?}")),
    }
    if let Some(path) = reused {
        return Err(format!(
            "{path} got inode {held}, the removed directory another process is still in"
        ));
    }
    if status != 0 {
        let what = CWD_PROBLEMS
            .iter()
            .find(|(code, _)| *code == status)
            .map_or("it failed", |(_, what)| what);
        return Err(format!("the process inside: {what} (status {status})"));
    }
    expect_errno(stat("ut-cwdgone"), Errno::ENOENT, "the directory is gone")
}
