//! The book names only things that exist.
//!
//! Every Markdown file of `docs/`, `labs/` and the `README.md` is read, and
//! each inline code span (text between backticks, outside fenced code
//! blocks) that looks like a Rust name — a path such as `Pipe::write_with`
//! or `common::mm::user_copy`, a call such as `check_own_memory()` or
//! `Wrote(n)`, a `snake_case` or `CamelCase` identifier, an
//! `ALL_CAPS_CONSTANT`, a macro such as `operations!` — must name
//! identifiers that occur in the *code* of some `.rs` file of the
//! repository (comments do not count: a name that survives only in a
//! comment is as stale as one that is gone). Every segment of a path is
//! checked, not only the last.
//!
//! Skipped, because they are not Rust names: spans with a space (shell
//! commands, code fragments), file paths and file names (a `/` or a `.`),
//! flags (`-icount`), numbers, and single lowercase words without an
//! underscore (`pipe`, `echo`, `fn`: a command, a keyword or plain English).
//!
//! A name that is meant not to exist in this repository — a field of the
//! ext2 or ELF specification, a name a lab asks students to add — goes in
//! [`ALLOWED`], with the reason. (xv6's functions, `pipewrite` and the like,
//! are single lowercase words: skipped, so they need no entry.) A name that
//! is simply stale is fixed in the book, not listed; an entry the book no
//! longer uses, or that the code now has, fails a test of its own.
//!
//! A second test checks the paths the book names: a code span that starts
//! with a top-level folder or file of the repository
//! (`common/src/pipe.rs`, `labs/README.md`), and every relative link, must
//! exist. Build output (`build/`, `target/`), patterns (`fs/*.rs`) and
//! placeholders in capitals (`NAME.rs`) are not checked; a file the book
//! names on purpose although it is not here (a lab's hand-in) goes in
//! [`ALLOWED_PATHS`]. A generated figure (`docs/figures/*.md`) is shown in
//! the chapters of `docs/`, through their marked blocks, so its links are
//! read from `docs/`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Names the book may use although no Rust code here defines them.
const ALLOWED: &[(&str, &str)] = &[
    // ext2's on-disk names, as the specification and debugfs spell them.
    ("i_mode", "ext2 inode field; the code's Inode::mode"),
    ("i_size", "ext2 inode field; the code's Inode::size"),
    (
        "i_size_high",
        "ext2 inode field (upper 32 bits of the size); read into Inode::size",
    ),
    (
        "i_links_count",
        "ext2 inode field; the code's Inode::links_count",
    ),
    ("i_blocks", "ext2 inode field; the code's Inode::sectors"),
    ("i_flags", "ext2 inode field; the code's Inode::flags"),
    ("i_file_acl", "ext2 inode field; the code's Inode::file_acl"),
    ("i_block", "ext2 inode field; the code's Inode::block"),
    (
        "bg_used_dirs_count",
        "ext2 group descriptor field; the code's used_dirs",
    ),
    (
        "s_r_blocks_count",
        "ext2 superblock field the code does not read",
    ),
    (
        "EXT2_INDEX_FL",
        "ext2 inode flag (Linux's name); the code's INDEX_FL",
    ),
    (
        "ext_attr",
        "ext2 feature as mke2fs -O names it; compat, ignored",
    ),
    (
        "sparse_super",
        "ext2 feature as mke2fs -O names it; RO_COMPAT_SPARSE_SUPER",
    ),
    // The JBD2 journal's on-disk names, as Linux's jbd2.h spells them.
    (
        "h_magic",
        "journal block header field; the code's BlockHeader",
    ),
    (
        "h_blocktype",
        "journal block header field; the code's BlockHeader",
    ),
    (
        "h_sequence",
        "journal block header field; the code's BlockHeader",
    ),
    (
        "s_blocksize",
        "journal superblock field, as jbd2.h spells it",
    ),
    ("s_maxlen", "journal superblock field, as jbd2.h spells it"),
    ("s_first", "journal superblock field, as jbd2.h spells it"),
    (
        "s_sequence",
        "journal superblock field, as jbd2.h spells it",
    ),
    ("s_start", "journal superblock field, as jbd2.h spells it"),
    ("s_errno", "journal superblock field, as jbd2.h spells it"),
    ("s_uuid", "journal superblock field, as jbd2.h spells it"),
    (
        "s_nr_users",
        "journal superblock field, as jbd2.h spells it",
    ),
    (
        "s_journal_inum",
        "ext3 superblock field: the journal's inode",
    ),
    (
        "SAME_UUID",
        "journal tag flag, as jbd2.h spells it (JBD2_FLAG_SAME_UUID)",
    ),
    (
        "LAST_TAG",
        "journal tag flag, as jbd2.h spells it (JBD2_FLAG_LAST_TAG)",
    ),
    (
        "async_commit",
        "JBD2 feature name (Linux); not supported here",
    ),
    // xv6's log, which docs/journal.md compares with.
    ("log_write", "xv6's log.c"),
    ("recover_from_log", "xv6's log.c"),
    // lmbench's programs, which docs/performance.md compares with.
    ("lat_pipe", "lmbench program"),
    ("lat_fs", "lmbench program"),
    ("lat_pagefault", "lmbench program"),
    ("bw_pipe", "lmbench program"),
    ("bw_file_rd", "lmbench program"),
    (
        "BENCH_RUNS",
        "a make variable (Makefile, scripts/bench-table.sh)",
    ),
    (
        "USER_PROGRAMS",
        "a make variable (Makefile): the programs put on the disks",
    ),
    // ELF's field names, as the specification spells them.
    ("e_entry", "ELF header field; the code's Executable::entry"),
    (
        "p_offset",
        "ELF program header field; the code's Segment::offset",
    ),
    (
        "p_vaddr",
        "ELF program header field; the code's Segment::vaddr",
    ),
    (
        "p_filesz",
        "ELF program header field; the code's Segment::filesz",
    ),
    (
        "p_memsz",
        "ELF program header field; the code's Segment::memsz",
    ),
    // POSIX names a lab compares Diptych with.
    (
        "fcntl",
        "POSIX's call to change a descriptor's flags; the pipe lab's question 7 asks how Diptych would add it",
    ),
    // Names that exist only in a lab's starter (stub lines, `//~ `).
    (
        "copy_for_fork",
        "the cow lab's starter's eager fork in proc's pool.rs (a stub line in the full tree)",
    ),
    // Names of the tools around the code.
    (
        "RUSTC_BOOTSTRAP",
        "the environment variable that unlocks nightly features in rustc",
    ),
];

/// Paths the book may name although the repository does not have them.
const ALLOWED_PATHS: &[(&str, &str)] = &[
    (
        "labs/tour/answers.md",
        "lab tour's hand-in: the student writes it",
    ),
    (
        "labs/util/answers.md",
        "lab util's hand-in: the student writes it",
    ),
    (
        "labs/syscall/answers.md",
        "lab syscall's hand-in: the student writes it",
    ),
    (
        "labs/cow/answers.md",
        "lab cow's hand-in: the student writes it",
    ),
    (
        "labs/mmap/answers.md",
        "lab mmap's hand-in: the student writes it",
    ),
    (
        "labs/ipc/answers.md",
        "lab ipc's hand-in: the student writes it",
    ),
    (
        "labs/pipe/answers.md",
        "lab pipe's hand-in: the student writes it",
    ),
    (
        "labs/fs/answers.md",
        "lab fs's hand-in: the student writes it",
    ),
    (
        "labs/driver/answers.md",
        "lab driver's hand-in: the student writes it",
    ),
];

/// The repository's root (this crate is `grading/`).
fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("the repository root")
}

/// Every file under `dir` whose name ends with `extension`, skipping build
/// output (`target/`, `build/`) and hidden directories.
fn files_under(dir: &Path, extension: &str, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_dir() {
            if name.starts_with('.') || name == "target" || name == "build" {
                continue;
            }
            files_under(&path, extension, found);
        } else if name.ends_with(extension) {
            found.push(path);
        }
    }
}

/// `source` without its comments (`//` to the end of the line, nested
/// `/* */`), string and character literals kept as they are.
fn without_comments(source: &str) -> String {
    let bytes = source.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let rest = &bytes[i..];
        if rest.starts_with(b"//") {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
        } else if rest.starts_with(b"/*") {
            let mut depth = 0;
            while i < bytes.len() {
                if bytes[i..].starts_with(b"/*") {
                    depth += 1;
                    i += 2;
                } else if bytes[i..].starts_with(b"*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(b' ');
        } else if rest.starts_with(b"r\"") || rest.starts_with(b"r#") {
            // A raw string: r"..." or r#"..."#, copied whole.
            let hashes = rest[1..].iter().take_while(|&&b| b == b'#').count();
            if rest.get(1 + hashes) != Some(&b'"') {
                out.push(bytes[i]);
                i += 1;
                continue;
            }
            let mut closing = vec![b'"'];
            closing.extend(std::iter::repeat_n(b'#', hashes));
            let start = i;
            i += 2 + hashes;
            while i < bytes.len() && !bytes[i..].starts_with(&closing) {
                i += 1;
            }
            i = (i + closing.len()).min(bytes.len());
            out.extend_from_slice(&bytes[start..i]);
        } else if bytes[i] == b'"' {
            let start = i;
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            i = (i + 1).min(bytes.len());
            out.extend_from_slice(&bytes[start..i]);
        } else if bytes[i] == b'\'' {
            // A character literal ('x', '\n', '\'') is copied; a lifetime
            // ('a) is just a quote.
            let literal_end = if rest.get(1) == Some(&b'\\') {
                rest.iter().skip(3).position(|&b| b == b'\'').map(|p| p + 4)
            } else {
                let width = std::str::from_utf8(&rest[1..])
                    .ok()
                    .or_else(|| std::str::from_utf8(&rest[1..rest.len().min(5)]).ok())
                    .and_then(|s| s.chars().next())
                    .map_or(1, char::len_utf8);
                (rest.get(1 + width) == Some(&b'\'')).then_some(width + 2)
            };
            let end = literal_end.unwrap_or(1);
            out.extend_from_slice(&rest[..end]);
            i += end;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Every identifier in the code (not the comments) of every `.rs` file.
fn identifiers_in_code(root: &Path) -> BTreeSet<String> {
    let mut files = Vec::new();
    files_under(root, ".rs", &mut files);
    // Not this file: its allow-list names, in strings, what the code lacks.
    files.retain(|file| !file.ends_with("grading/tests/docs_names.rs"));
    assert!(!files.is_empty(), "no .rs files under {}", root.display());
    let mut names = BTreeSet::new();
    for file in files {
        let source = std::fs::read_to_string(&file).expect("a Rust source file");
        let code = without_comments(&source);
        for word in code.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
            if word.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
                names.insert(word.to_string());
            }
        }
    }
    names
}

/// The inline code spans of a Markdown text, outside fenced code blocks.
fn code_spans(markdown: &str) -> Vec<String> {
    // Fenced blocks out first (their lines are replaced by empty ones).
    let mut text = String::new();
    let mut fenced = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            text.push('\n');
            continue;
        }
        if !fenced {
            text.push_str(line);
        }
        text.push('\n');
    }
    // A run of n backticks opens a span that the next run of exactly n closes.
    let chars: Vec<char> = text.chars().collect();
    let run_at = |i: usize| chars[i..].iter().take_while(|&&c| c == '`').count();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '`' {
            i += 1;
            continue;
        }
        let opening = run_at(i);
        let start = i + opening;
        let mut j = start;
        let mut closed = None;
        while j < chars.len() {
            if chars[j] == '`' {
                let run = run_at(j);
                if run == opening {
                    closed = Some(j);
                    break;
                }
                j += run;
            } else {
                j += 1;
            }
        }
        match closed {
            Some(end) => {
                let span: String = chars[start..end].iter().collect();
                spans.push(span.replace('\n', " ").trim().to_string());
                i = end + opening;
            }
            None => i = start,
        }
    }
    spans
}

fn is_identifier(word: &str) -> bool {
    word.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The identifiers a code span names, if it looks like a Rust name (see
/// the module documentation); `None` if it is something else.
fn rust_names(span: &str) -> Option<Vec<String>> {
    let span = span.trim();
    if ["Makefile", "README"].contains(&span) {
        return None; // file names without a dot
    }
    // A call, `f()`, `Wrote(n)`, `read(fd, buf, n)`, or a struct value,
    // `Opened { ino, .. }`: the name before the arguments is what counts.
    let (mut name, called) = match (span.find('('), span.find(" {")) {
        (Some(open), _) if span.ends_with(')') => (&span[..open], true),
        (_, Some(brace)) if span.ends_with('}') => (&span[..brace], false),
        _ => (span, false),
    };
    if name.is_empty() || name.contains(char::is_whitespace) || name.contains(['/', '.']) {
        return None;
    }
    // Generic arguments: `Rc<File>` names `Rc`.
    if let Some(open) = name.find('<') {
        if !name.ends_with('>') {
            return None;
        }
        name = &name[..open];
    }
    // A macro: `operations!`.
    let macro_call = name.ends_with('!');
    let name = name.trim_end_matches('!');
    let segments: Vec<&str> = name.split("::").collect();
    if !segments.iter().all(|segment| is_identifier(segment)) {
        return None;
    }
    let single = segments.len() == 1;
    let word = segments[0];
    let plain_word = word
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let all_caps = word
        .chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    if single && !called && !macro_call && (plain_word || (all_caps && !word.contains('_'))) {
        return None; // `pipe`, `echo`, `fn`; `EOF`, `CR3`
    }
    if single && called && plain_word && word.len() <= 2 {
        return None; // `f()` in prose
    }
    Some(segments.into_iter().map(str::to_string).collect())
}

/// The Markdown files of the book: `docs/` (all of it), `labs/`, README.md.
fn book(root: &Path) -> Vec<PathBuf> {
    let mut files = vec![root.join("README.md")];
    files_under(&root.join("docs"), ".md", &mut files);
    files_under(&root.join("labs"), ".md", &mut files);
    files.sort();
    files
}

/// In a lab's starter tree (one with a `.lab` file, `labs/README.md`), the
/// lab's own handout names what the student is to write, which the code
/// does not have yet: `labs/LAB/`, the folder not to check for names.
fn starter_lab_folder(root: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(root.join(".lab")).ok()?;
    let lab = text.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        (key.trim() == "lab").then(|| value.trim().to_string())
    })?;
    Some(root.join("labs").join(lab))
}

#[test]
fn every_name_in_the_book_is_in_the_code() {
    let root = repository();
    let known = identifiers_in_code(&root);
    let allowed: BTreeSet<&str> = ALLOWED.iter().map(|(name, _)| *name).collect();
    // file → the spans in it that name something missing, with what is missing.
    let mut missing: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut checked = 0;
    let skipped = starter_lab_folder(&root);
    for file in book(&root) {
        if skipped
            .as_ref()
            .is_some_and(|folder| file.starts_with(folder))
        {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("a Markdown file");
        let shown = file
            .strip_prefix(&root)
            .unwrap_or(&file)
            .display()
            .to_string();
        for span in code_spans(&text) {
            let Some(segments) = rust_names(&span) else {
                continue;
            };
            checked += 1;
            let absent: Vec<&String> = segments
                .iter()
                .filter(|s| !known.contains(s.as_str()) && !allowed.contains(s.as_str()))
                .collect();
            if !absent.is_empty() {
                let absent: Vec<&str> = absent.iter().map(|s| s.as_str()).collect();
                missing.entry(shown.clone()).or_default().insert(format!(
                    "`{span}` ({} not in any .rs code)",
                    absent.join(", ")
                ));
            }
        }
    }
    assert!(
        checked > 100,
        "only {checked} names found: is the span scanner broken?"
    );
    if !missing.is_empty() {
        let mut report = String::from("names in the book that the code does not have:\n");
        for (file, spans) in &missing {
            for span in spans {
                report.push_str(&format!("  {file}: {span}\n"));
            }
        }
        report.push_str(
            "fix the book (or, for a name meant not to exist here, add it to ALLOWED with a reason)",
        );
        panic!("{report}");
    }
}

/// The repository paths a Markdown text refers to: code spans that start
/// with a top-level folder or file of the repository (`common/src/pipe.rs`,
/// `docs/figures/bench.md`), and relative link targets, resolved from
/// `dir`. Build output (`build/`, `target/`) and patterns (`*`) are not
/// checked.
fn referenced_paths(markdown: &str, dir: &Path, root: &Path) -> Vec<(String, PathBuf)> {
    let top: BTreeSet<String> = std::fs::read_dir(root)
        .expect("the repository root")
        .map(|entry| {
            entry
                .expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name != "target" && name != "build" && name != ".git")
        .collect();
    let mut paths = Vec::new();
    for span in code_spans(markdown) {
        if span.contains(char::is_whitespace)
            || !span.contains('/')
            || span.contains(['*', '<', '{'])
        {
            continue;
        }
        let first = span.split('/').next().unwrap_or("");
        // A placeholder in capitals (`user/programs/src/bin/NAME.rs`) names no file.
        let placeholder = span.split('/').any(|segment| {
            let stem = segment.split('.').next().unwrap_or("");
            stem.len() > 1 && stem.chars().all(|c| c.is_ascii_uppercase() || c == '-')
        });
        if top.contains(first)
            && !placeholder
            && !ALLOWED_PATHS.iter().any(|(path, _)| *path == span)
        {
            let path = span.trim_end_matches(|c: char| c == ':' || c.is_ascii_digit());
            paths.push((span.clone(), root.join(path)));
        }
    }
    let mut rest = markdown;
    while let Some(at) = rest.find("](") {
        let after = &rest[at + 2..];
        let end = after.find(')').unwrap_or(after.len());
        let target = after[..end].split('#').next().unwrap_or("");
        if !target.is_empty() && !target.contains("://") && !target.starts_with("mailto:") {
            paths.push((target.to_string(), dir.join(target)));
        }
        rest = &after[end..];
    }
    paths
}

#[test]
fn every_path_in_the_book_exists() {
    let root = repository();
    let mut missing = Vec::new();
    for file in book(&root) {
        let text = std::fs::read_to_string(&file).expect("a Markdown file");
        let mut dir = file.parent().expect("a folder");
        // A figure's links are written for the chapters that show it.
        if dir.ends_with("docs/figures") {
            dir = dir.parent().expect("docs/");
        }
        let shown = file
            .strip_prefix(&root)
            .unwrap_or(&file)
            .display()
            .to_string();
        for (written, path) in referenced_paths(&text, dir, &root) {
            if !path.exists() {
                missing.push(format!("  {shown}: {written}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "paths in the book that the repository does not have:\n{}",
        missing.join("\n")
    );
}

#[test]
fn allowed_names_are_used_in_the_book() {
    // An allow-list entry the book no longer mentions is no longer needed.
    let root = repository();
    let mut used = BTreeSet::new();
    for file in book(&root) {
        let text = std::fs::read_to_string(&file).expect("a Markdown file");
        for span in code_spans(&text) {
            used.extend(rust_names(&span).unwrap_or_default());
        }
    }
    let unused: Vec<&str> = ALLOWED
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| !used.contains(*name))
        .collect();
    assert!(
        unused.is_empty(),
        "ALLOWED lists names the book does not use: {unused:?}"
    );
}

#[test]
fn allowed_names_are_really_absent_from_the_code() {
    // An allow-list entry that the code now has is no longer needed.
    let known = identifiers_in_code(&repository());
    let needless: Vec<&str> = ALLOWED
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| known.contains(*name))
        .collect();
    assert!(
        needless.is_empty(),
        "ALLOWED lists names the code has: {needless:?}"
    );
}

#[test]
fn spans_are_found_and_classified() {
    let text = "a `Pipe::write_with` b ``x `y` z`` c\n```rust\n`not_this`\n```\n`copy_in` `make bench` `f`";
    assert_eq!(
        code_spans(text),
        ["Pipe::write_with", "x `y` z", "copy_in", "make bench", "f"]
    );
    let names = |span| rust_names(span).map(|v| v.join("::"));
    assert_eq!(
        names("Pipe::write_with").as_deref(),
        Some("Pipe::write_with")
    );
    assert_eq!(
        names("check_own_memory()").as_deref(),
        Some("check_own_memory")
    );
    assert_eq!(names("Wrote(n)").as_deref(), Some("Wrote"));
    assert_eq!(names("Rc<File>").as_deref(), Some("Rc"));
    assert_eq!(names("operations!").as_deref(), Some("operations"));
    assert_eq!(names("PIPE_SIZE").as_deref(), Some("PIPE_SIZE"));
    assert_eq!(names("read(fd, buf, n)").as_deref(), Some("read"));
    assert_eq!(names("Opened { ino, kind }").as_deref(), Some("Opened"));
    for skipped in [
        "make bench",
        "docs/pipe.md",
        "sys_file.rs",
        "-icount",
        "4096",
        "pipe",
        "EOF",
        "&mut self",
        "vm.copy_in(a, b)",
        "make qemu-mono QEMUEXTRA='-append fault-test'",
    ] {
        assert_eq!(names(skipped), None, "{skipped}");
    }
    let code = without_comments(
        "let a = \"// kept\"; // gone\n/* gone /* nested */ */ let b = 'x'; fn f<'a>() {}",
    );
    assert!(code.contains("kept") && !code.contains("gone") && code.contains("fn f"));
}
