//! Cutting a lab's starter tree from the full tree: the `LAB` solution
//! markers (`labs/README.md`, "Solution markers").
//!
//! ```text
//! // LAB syscall BEGIN
//! Ok(self.parent)                  <- the solution: what the full tree runs
//! // LAB syscall STUB
//! //~ Err(Errno::ENOSYS)            <- the student's starting point
//! // LAB syscall END
//! ```
//!
//! [`cut`] turns one file's text into its starter version for one lab;
//! [`check`] only validates it (every lab's markers); [`write_starter`]
//! writes a whole tree: every file `git ls-files` lists (or every file of a
//! directory, for a tree unpacked from `git archive`), each `LAB` region of
//! the chosen lab replaced by its stub, other labs' regions left as they
//! are, `labs/*/key.md` and files marked `LAB NAME FILE` left out, and a
//! `.lab` file naming the lab and the commit it was cut from.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// How a file writes comments, which decides how its markers look.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syntax {
    /// `// LAB x BEGIN`, stub lines `//~ `.
    Slashes,
    /// `# LAB x BEGIN`, stub lines `#~ `.
    Hash,
    /// Markdown: `<!-- LAB x BEGIN -->`, stub lines `<!--~ text -->`
    /// (HTML comments, so that the full tree's documents show neither).
    Markdown,
}

impl Syntax {
    /// The comment that starts a marker or a stub line.
    fn comment(self) -> &'static str {
        match self {
            Syntax::Slashes => "//",
            Syntax::Hash => "#",
            Syntax::Markdown => "<!--",
        }
    }

    /// What ends a marker or a stub line (nothing but the end of the line,
    /// except in Markdown).
    fn comment_end(self) -> &'static str {
        match self {
            Syntax::Slashes | Syntax::Hash => "",
            Syntax::Markdown => " -->",
        }
    }

    /// The syntax of a file by its name, or `None` for files that are not
    /// read for markers (data, images).
    pub fn of(path: &Path) -> Option<Syntax> {
        let name = path.file_name()?.to_str()?;
        let extension = name.rsplit_once('.').map(|(_, extension)| extension);
        match extension {
            Some("rs" | "c" | "h" | "S" | "ld") => Some(Syntax::Slashes),
            Some("sh" | "toml" | "mk") => Some(Syntax::Hash),
            Some("md") => Some(Syntax::Markdown),
            _ if name == "Makefile" => Some(Syntax::Hash),
            _ => None,
        }
    }
}

/// A malformed marker: where, and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MarkerError {
    /// The file, as given to [`cut`].
    pub file: String,
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for MarkerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

/// The keyword of a marker line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Keyword {
    Begin,
    Stub,
    End,
    File,
}

/// What one line is.
enum Line<'a> {
    /// `// LAB name KEYWORD`.
    Marker(&'a str, Keyword),
    /// `//~ text` (or a bare `//~`): indentation and text, comment removed.
    Stub(String),
    /// Anything else.
    Plain,
}

/// Reads one line; an error for a line that starts like a marker but is
/// not one, or names a lab that does not exist.
fn classify<'a>(text: &'a str, syntax: Syntax, labs: &[&str]) -> Result<Line<'a>, String> {
    let trimmed = text.trim_start();
    let indent = &text[..text.len() - trimmed.len()];
    let comment = syntax.comment();
    let end = syntax.comment_end();
    let Some(after) = trimmed.strip_prefix(comment) else {
        return Ok(Line::Plain);
    };
    // In Markdown a marker or stub line is one whole HTML comment; other
    // comments are plain text.
    let after = match after.trim_end().strip_suffix(end.trim_start()) {
        Some(inside) if !end.is_empty() => inside.strip_suffix(' ').unwrap_or(inside),
        _ if end.is_empty() => after,
        _ if after.starts_with('~') || after.starts_with(" LAB ") => {
            return Err(format!(
                "`{}`: a marker or stub line in Markdown is one comment, ending `{}`",
                trimmed.trim_end(),
                end.trim_start()
            ));
        }
        _ => return Ok(Line::Plain),
    };
    if let Some(stub) = after.strip_prefix('~') {
        return match stub.strip_prefix(' ') {
            Some(code) => Ok(Line::Stub(format!("{indent}{code}"))),
            None if stub.trim().is_empty() => Ok(Line::Stub(String::new())),
            None => Err(format!(
                "a stub line starts `{comment}~ ` (with a space) or is a bare `{comment}~{end}`"
            )),
        };
    }
    let Some(marker) = after.strip_prefix(" LAB ") else {
        return Ok(Line::Plain);
    };
    let words: Vec<&str> = marker.split_whitespace().collect();
    let keyword = match words.get(1).copied() {
        Some("BEGIN") => Keyword::Begin,
        Some("STUB") => Keyword::Stub,
        Some("END") => Keyword::End,
        Some("FILE") => Keyword::File,
        _ => {
            return Err(format!(
                "`{}` looks like a marker but is not `{comment} LAB NAME BEGIN|STUB|END|FILE{end}`",
                trimmed.trim_end()
            ));
        }
    };
    if words.len() != 2 {
        return Err(format!(
            "`{}`: a marker has nothing after its keyword",
            trimmed.trim_end()
        ));
    }
    let name = words[0];
    if !labs.contains(&name) {
        return Err(format!(
            "no lab is named {name:?} (labs: {})",
            labs.join(", ")
        ));
    }
    Ok(Line::Marker(name, keyword))
}

/// Where the reader is.
enum State<'a> {
    Outside,
    /// In a region's solution part (which started at `line`).
    Solution {
        lab: &'a str,
        line: usize,
    },
    /// In a region's stub part.
    Stub {
        lab: &'a str,
        line: usize,
    },
}

/// The starter version of `text` for `lab`: `Ok(None)` if the file is left
/// out (its first line is `LAB lab FILE`), else the text with each of
/// `lab`'s regions replaced by its stub. Every lab's markers are checked;
/// `labs` is the list of lab names markers may use, `file` the name used in
/// errors.
pub fn cut(
    text: &str,
    file: &str,
    syntax: Syntax,
    lab: Option<&str>,
    labs: &[&str],
) -> Result<Option<String>, MarkerError> {
    let error = |line: usize, message: String| MarkerError {
        file: file.to_string(),
        line,
        message,
    };
    let mut out = String::with_capacity(text.len());
    let mut state = State::Outside;
    let mut left_out = false;
    // Where the output stood when `lab`'s region began, and whether the
    // region just ended left nothing (an empty stub).
    let mut region_start = 0;
    let mut cut_whole = false;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let number = index + 1;
        let content = line.strip_suffix('\n').unwrap_or(line);
        let content = content.strip_suffix('\r').unwrap_or(content);
        // A region cut out whole leaves the blank line written before it:
        // followed by another blank line, or by a closing brace, that is a
        // layout `rustfmt` rejects (`make fmt` in the starter would fail).
        // The extra blank line goes with the region.
        if std::mem::take(&mut cut_whole) && last_line_is_blank(&out) {
            if content.trim().is_empty() {
                continue;
            }
            if content.trim_start().starts_with('}') {
                drop_last_line(&mut out);
            }
        }
        let kind = classify(content, syntax, labs).map_err(|message| error(number, message))?;
        let ours = |name: &str| Some(name) == lab;
        match (&state, kind) {
            (State::Outside, Line::Marker(name, Keyword::File)) => {
                if number != 1 {
                    return Err(error(
                        number,
                        format!("`LAB {name} FILE` must be the file's first line"),
                    ));
                }
                left_out |= ours(name);
                out.push_str(line);
            }
            (State::Outside, Line::Marker(name, Keyword::Begin)) => {
                state = State::Solution {
                    lab: name,
                    line: number,
                };
                region_start = out.len();
                if !ours(name) {
                    out.push_str(line);
                }
            }
            (State::Outside, Line::Marker(name, keyword)) => {
                return Err(error(
                    number,
                    format!("`LAB {name} {keyword:?}` without a `LAB {name} BEGIN` before it"),
                ));
            }
            (State::Outside, Line::Stub(_)) => {
                return Err(error(
                    number,
                    "a stub line outside a region's STUB part".to_string(),
                ));
            }
            (State::Outside, Line::Plain) => out.push_str(line),
            (
                State::Solution {
                    lab: open,
                    line: start,
                },
                Line::Marker(name, Keyword::Stub),
            ) => {
                if name != *open {
                    return Err(error(
                        number,
                        format!("`LAB {name} STUB` in the region of lab {open} (line {start})"),
                    ));
                }
                let (open, start) = (*open, *start);
                if !ours(name) {
                    out.push_str(line);
                }
                state = State::Stub {
                    lab: open,
                    line: start,
                };
            }
            (
                State::Solution {
                    lab: open,
                    line: start,
                },
                Line::Marker(name, keyword),
            ) => {
                return Err(error(
                    number,
                    match keyword {
                        Keyword::Begin => format!(
                            "`LAB {name} BEGIN` inside the region of lab {open} that starts at line {start}: regions do not nest"
                        ),
                        _ => format!(
                            "`LAB {name} {keyword:?}` before the `LAB {open} STUB` of the region at line {start}"
                        ),
                    },
                ));
            }
            (State::Solution { .. }, Line::Stub(_)) => {
                return Err(error(
                    number,
                    "a stub line before the region's STUB marker".to_string(),
                ));
            }
            (State::Solution { lab: open, .. }, Line::Plain) => {
                if !ours(open) {
                    out.push_str(line);
                }
            }
            (
                State::Stub {
                    lab: open,
                    line: start,
                },
                Line::Marker(name, Keyword::End),
            ) => {
                if name != *open {
                    return Err(error(
                        number,
                        format!(
                            "`LAB {name} END` ends the region of lab {open} that starts at line {start}"
                        ),
                    ));
                }
                if ours(name) {
                    cut_whole = out.len() == region_start;
                } else {
                    out.push_str(line);
                }
                state = State::Outside;
            }
            (
                State::Stub {
                    lab: open,
                    line: start,
                },
                Line::Marker(name, keyword),
            ) => {
                return Err(error(
                    number,
                    format!(
                        "`LAB {name} {keyword:?}` in the STUB part of the region of lab {open} (line {start}); expected `LAB {open} END`"
                    ),
                ));
            }
            (State::Stub { lab: open, .. }, Line::Stub(code)) => {
                if ours(open) {
                    out.push_str(&code);
                    out.push_str(&line[content.len()..]);
                } else {
                    out.push_str(line);
                }
            }
            (State::Stub { lab: open, .. }, Line::Plain) => {
                if !content.trim().is_empty() {
                    return Err(error(
                        number,
                        format!(
                            "in the STUB part of a region of lab {open}, every line is a stub line (`{}~ ...`) or blank",
                            syntax.comment()
                        ),
                    ));
                }
                if !ours(open) {
                    out.push_str(line);
                }
            }
        }
    }
    // ... and at the end of the file, a blank last line.
    if cut_whole && last_line_is_blank(&out) {
        drop_last_line(&mut out);
    }
    match state {
        State::Outside => Ok(if left_out { None } else { Some(out) }),
        State::Solution { lab, line } | State::Stub { lab, line } => Err(error(
            line,
            format!("the region of lab {lab} that starts here has no `LAB {lab} END`"),
        )),
    }
}

/// Whether the last line of `out` (which ends with a newline) is blank.
fn last_line_is_blank(out: &str) -> bool {
    let Some(body) = out.strip_suffix('\n') else {
        return false;
    };
    let last = body.rsplit('\n').next().unwrap_or(body);
    last.trim().is_empty()
}

/// Removes the last line of `out` (which ends with a newline).
fn drop_last_line(out: &mut String) {
    let body = &out[..out.len() - 1];
    let keep = body.rfind('\n').map_or(0, |newline| newline + 1);
    out.truncate(keep);
}

/// Validates every lab's markers in `text` (the starter of no lab).
pub fn check(text: &str, file: &str, syntax: Syntax, labs: &[&str]) -> Result<(), MarkerError> {
    cut(text, file, syntax, None, labs).map(|_| ())
}

/// Whether a file of the full tree is never part of a starter:
/// `labs/*/key.md`.
pub fn staff_only(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    matches!(parts.as_slice(), ["labs", _, "key.md"])
}

/// The files of the tree at `root` that a starter is cut from: what `git
/// ls-files` lists if `root` is a git work tree, else every file under it
/// (a tree unpacked from `git archive`). Paths are relative, with `/`.
pub fn tree_files(root: &Path) -> Result<Vec<String>, String> {
    if root.join(".git").exists() {
        let output = Command::new("git")
            .args(["ls-files", "-z"])
            .current_dir(root)
            .output()
            .map_err(|error| format!("git ls-files: {error}"))?;
        if !output.status.success() {
            return Err(format!(
                "git ls-files in {}: {}",
                root.display(),
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        let mut files: Vec<String> = output
            .stdout
            .split(|&byte| byte == 0)
            .filter(|path| !path.is_empty())
            .map(|path| String::from_utf8_lossy(path).into_owned())
            .collect();
        files.sort();
        return Ok(files);
    }
    let mut files = Vec::new();
    walk(root, root, &mut files).map_err(|error| format!("{}: {error}", root.display()))?;
    files.sort();
    Ok(files)
}

fn walk(root: &Path, dir: &Path, files: &mut Vec<String>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(root, &path, files)?;
        } else if let Ok(relative) = path.strip_prefix(root) {
            files.push(relative.to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(())
}

/// What [`write_starter`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Files written.
    pub files: usize,
    /// Files in which a region of the lab was replaced.
    pub changed: Vec<String>,
    /// Files left out (staff-only, or `LAB lab FILE`).
    pub left_out: Vec<String>,
}

/// The `.lab` file of a starter tree.
pub fn lab_file_text(lab: &str, base: &str, dirty: bool) -> String {
    format!(
        "# Written by `make starter`: the lab this tree is the starter of, and the\n\
         # commit of the course tree it was cut from (`make handin` and the\n\
         # staff's `make grade-batch` read it).\n\
         lab = {lab}\nbase = {base}\n{}",
        if dirty {
            "# The course tree had changes not yet committed: base is approximate.\ndirty = true\n"
        } else {
            ""
        }
    )
}

/// Reads a `.lab` file: `(lab, base)`.
pub fn parse_lab_file(text: &str) -> Result<(String, String), String> {
    let value = |key: &str| {
        text.lines()
            .filter(|line| !line.trim_start().starts_with('#'))
            .find_map(|line| {
                let (name, value) = line.split_once('=')?;
                (name.trim() == key).then(|| value.trim().to_string())
            })
            .ok_or_else(|| format!(".lab has no `{key} = ...` line"))
    };
    Ok((value("lab")?, value("base")?))
}

/// Cuts every file of `files` (relative to `root`) for `lab` into `dest`.
/// `dest` may hold an earlier cut (of any lab): files that come out the
/// same are not touched, and files this lab leaves out are removed.
pub fn cut_tree(
    root: &Path,
    files: &[String],
    lab: &str,
    labs: &[&str],
    dest: &Path,
) -> Result<Summary, String> {
    let mut summary = Summary::default();
    for relative in files {
        if staff_only(relative) {
            summary.left_out.push(relative.clone());
            remove_stale(dest, relative)?;
            continue;
        }
        let source = root.join(relative);
        let Ok(bytes) = std::fs::read(&source) else {
            // Tracked but deleted in the work tree: not part of the tree.
            continue;
        };
        let target = dest.join(relative);
        let contents = match (Syntax::of(Path::new(relative)), std::str::from_utf8(&bytes)) {
            (Some(syntax), Ok(text)) => {
                match cut(text, relative, syntax, Some(lab), labs).map_err(|e| e.to_string())? {
                    None => {
                        summary.left_out.push(relative.clone());
                        remove_stale(dest, relative)?;
                        continue;
                    }
                    Some(cut_text) => {
                        if cut_text != text {
                            summary.changed.push(relative.clone());
                        }
                        cut_text.into_bytes()
                    }
                }
            }
            _ => bytes,
        };
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|error| format!("{}: {error}", parent.display()))?;
        }
        // A file already there as it should be is left alone, its time
        // included: cutting another lab's starter over an old one rewrites
        // only what differs, so cargo rebuilds only what that touches.
        if std::fs::read(&target).ok().as_deref() != Some(&contents[..]) {
            std::fs::write(&target, contents)
                .map_err(|error| format!("{}: {error}", target.display()))?;
        }
        if let Ok(metadata) = std::fs::metadata(&source) {
            let _ = std::fs::set_permissions(&target, metadata.permissions());
        }
        summary.files += 1;
    }
    Ok(summary)
}

/// Removes `relative` from `dest` if an earlier cut left it there (a
/// starter of another lab cut into the same folder).
fn remove_stale(dest: &Path, relative: &str) -> Result<(), String> {
    let path = dest.join(relative);
    match std::fs::remove_file(&path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            Err(format!("{}: {error}", path.display()))
        }
        _ => Ok(()),
    }
}

/// Runs git in `dir`; its standard output, trimmed.
pub fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|error| format!("git {}: {error}", args.join(" ")))?;
    if !output.status.success() {
        return Err(format!(
            "git {} (in {}): {}",
            args.join(" "),
            dir.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// Git with a fixed author, so a commit works on a machine where no one set
/// `user.name`.
pub const GIT_IDENTITY: [&str; 4] = [
    "-c",
    "user.name=Diptych starter",
    "-c",
    "user.email=starter@diptych.invalid",
];

/// `make starter LAB=lab DEST=dest`: cuts the tree at `root` for `lab`
/// into `dest` (which must not exist or be empty), writes `.lab`, and makes
/// `dest` a git repository with one commit tagged `starter`.
pub fn write_starter(
    root: &Path,
    lab: &str,
    labs: &[&str],
    dest: &Path,
) -> Result<Summary, String> {
    if dest.exists()
        && std::fs::read_dir(dest)
            .map(|mut entries| entries.next().is_some())
            .unwrap_or(true)
    {
        return Err(format!(
            "{} exists and is not empty: choose another DEST",
            dest.display()
        ));
    }
    let base = git(root, &["rev-parse", "HEAD"])?;
    let dirty = !git(root, &["status", "--porcelain", "--untracked-files=no"])?.is_empty();
    let files = tree_files(root)?;
    std::fs::create_dir_all(dest).map_err(|error| format!("{}: {error}", dest.display()))?;
    let summary = cut_tree(root, &files, lab, labs, dest)?;
    std::fs::write(dest.join(".lab"), lab_file_text(lab, &base, dirty))
        .map_err(|error| format!("{}: {error}", dest.display()))?;
    git(dest, &["init", "-q"])?;
    git(dest, &["add", "-A"])?;
    let message = format!("starter for lab {lab} (course tree {base})");
    let mut commit: Vec<&str> = GIT_IDENTITY.to_vec();
    commit.extend(["commit", "-q", "-m", &message]);
    git(dest, &commit)?;
    git(dest, &["tag", "starter"])?;
    Ok(summary)
}

/// Checks the markers of every file of the tree at `root`: the errors, one
/// per bad file.
pub fn check_tree(root: &Path, labs: &[&str]) -> Result<Vec<MarkerError>, String> {
    let mut errors = Vec::new();
    for relative in tree_files(root)? {
        let Some(syntax) = Syntax::of(Path::new(&relative)) else {
            continue;
        };
        let Ok(text) = std::fs::read_to_string(root.join(&relative)) else {
            continue;
        };
        if let Err(error) = check(&text, &relative, syntax, labs) {
            errors.push(error);
        }
    }
    Ok(errors)
}

/// `dest` relative to the current directory if given relative.
pub fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|cwd| cwd.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LABS: &[&str] = &["util", "syscall", "cow"];

    fn cut_for(text: &str, lab: &str) -> Result<Option<String>, MarkerError> {
        cut(text, "f.rs", Syntax::Slashes, Some(lab), LABS)
    }

    fn error_of(text: &str) -> MarkerError {
        cut_for(text, "cow").unwrap_err()
    }

    #[test]
    fn a_cut_over_another_labs_cut_rewrites_only_what_differs() {
        let dir = std::env::temp_dir().join(format!("grading-cut-{}", std::process::id()));
        let (root, dest) = (dir.join("root"), dir.join("dest"));
        std::fs::create_dir_all(&root).unwrap();
        let files = ["same.rs", "util.rs", "syscall.rs"].map(String::from);
        std::fs::write(root.join("same.rs"), "fn same() {}\n").unwrap();
        std::fs::write(root.join("util.rs"), "// LAB util FILE\nfn pingpong() {}\n").unwrap();
        std::fs::write(
            root.join("syscall.rs"),
            "fn f() {\n    // LAB syscall BEGIN\n    full();\n    // LAB syscall STUB\n    //~ todo();\n    // LAB syscall END\n}\n",
        )
        .unwrap();
        cut_tree(&root, &files, "util", LABS, &dest).unwrap();
        assert!(
            !dest.join("util.rs").exists(),
            "util's whole file is left out"
        );
        let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        for name in ["same.rs", "syscall.rs"] {
            let file = std::fs::File::options()
                .write(true)
                .open(dest.join(name))
                .unwrap();
            file.set_modified(old).unwrap();
        }
        cut_tree(&root, &files, "syscall", LABS, &dest).unwrap();
        let modified = |name: &str| {
            std::fs::metadata(dest.join(name))
                .unwrap()
                .modified()
                .unwrap()
        };
        assert_eq!(modified("same.rs"), old, "an unchanged file keeps its time");
        assert_ne!(modified("syscall.rs"), old, "a changed file is written");
        assert!(
            std::fs::read_to_string(dest.join("syscall.rs"))
                .unwrap()
                .contains("todo();")
        );
        assert!(dest.join("util.rs").exists(), "util's file is back");
        cut_tree(&root, &files, "util", LABS, &dest).unwrap();
        assert!(!dest.join("util.rs").exists(), "and gone again");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A file with one region of each of two labs.
    fn two_labs() -> String {
        [
            "fn a() -> u64 {",
            "    // LAB syscall BEGIN",
            "    let x = 1;",
            "    x + 1",
            "    // LAB syscall STUB",
            "    //~ // TODO: your code here",
            "    //~",
            "    //~ 0",
            "    // LAB syscall END",
            "}",
            "// LAB cow BEGIN",
            "fn cow() {}",
            "// LAB cow STUB",
            "// LAB cow END",
            "",
        ]
        .join("\n")
    }

    #[test]
    fn a_region_becomes_its_stub_with_the_indentation_kept() {
        let starter = cut_for(&two_labs(), "syscall").unwrap().unwrap();
        assert_eq!(
            starter,
            [
                "fn a() -> u64 {",
                "    // TODO: your code here",
                "",
                "    0",
                "}",
                "// LAB cow BEGIN",
                "fn cow() {}",
                "// LAB cow STUB",
                "// LAB cow END",
                "",
            ]
            .join("\n"),
            "the cow region is left as it is"
        );
        let cow = cut_for(&two_labs(), "cow").unwrap().unwrap();
        assert!(cow.contains("x + 1") && !cow.contains("fn cow"), "{cow}");
        assert!(!cow.contains("LAB cow"), "{cow}");
    }

    /// A region with an empty stub, cut out, leaves no blank line before a
    /// closing brace and no two blank lines in a row (rustfmt's layout;
    /// found in lab `fs`'s starter, `symlink.rs`, and lab `pipe`'s,
    /// `sys_file.rs`).
    #[test]
    fn a_region_cut_out_whole_takes_its_blank_line_along() {
        let text = [
            "impl A {",
            "    fn a() {}",
            "",
            "    // LAB syscall BEGIN",
            "    fn b() {}",
            "    // LAB syscall STUB",
            "    // LAB syscall END",
            "}",
            "",
            "fn c() {}",
            "",
            "// LAB syscall BEGIN",
            "fn d() {}",
            "// LAB syscall STUB",
            "// LAB syscall END",
            "",
            "fn e() {}",
            "",
            "// LAB syscall BEGIN",
            "fn f() {}",
            "// LAB syscall STUB",
            "//~ fn f() { todo!() }",
            "// LAB syscall END",
            "",
            "fn g() {}",
            "",
            "// LAB syscall BEGIN",
            "fn h() {}",
            "// LAB syscall STUB",
            "// LAB syscall END",
            "",
        ]
        .join("\n");
        let starter = cut_for(&text, "syscall").unwrap().unwrap();
        assert_eq!(
            starter,
            [
                "impl A {",
                "    fn a() {}",
                "}",
                "",
                "fn c() {}",
                "",
                "fn e() {}",
                "",
                "fn f() { todo!() }",
                "",
                "fn g() {}",
                "",
            ]
            .join("\n")
        );
        assert_eq!(
            cut_for(&text, "cow").unwrap(),
            Some(text),
            "another lab's starter keeps the regions as they are"
        );
    }

    #[test]
    fn no_lab_changes_nothing() {
        let text = two_labs();
        assert_eq!(
            cut(&text, "f.rs", Syntax::Slashes, None, LABS).unwrap(),
            Some(text.clone())
        );
        assert_eq!(cut_for(&text, "util").unwrap(), Some(text));
    }

    #[test]
    fn hash_comments_and_crlf() {
        let text = "all:\r\n# LAB util BEGIN\r\n\tsolution\r\n# LAB util STUB\r\n#~ \tstub\r\n# LAB util END\r\n";
        let starter = cut(text, "Makefile", Syntax::Hash, Some("util"), LABS)
            .unwrap()
            .unwrap();
        assert_eq!(starter, "all:\r\n\tstub\r\n");
    }

    #[test]
    fn markdown_regions_are_html_comments() {
        let text = "# Fork\n\n<!-- LAB cow BEGIN -->\nfork shares every frame:\n\n```rust\nshare(frame);\n```\n<!-- LAB cow STUB -->\n<!--~ fork copies every page. -->\n<!--~ -->\n<!-- LAB cow END -->\nA quoted marker stays:\n// LAB cow BEGIN\n<!-- an ordinary comment -->\n";
        let starter = cut(text, "memory.md", Syntax::Markdown, Some("cow"), LABS)
            .unwrap()
            .unwrap();
        assert_eq!(
            starter,
            "# Fork\n\nfork copies every page.\n\nA quoted marker stays:\n// LAB cow BEGIN\n<!-- an ordinary comment -->\n"
        );
        // Another lab's starter keeps the region as it is.
        assert_eq!(
            cut(text, "memory.md", Syntax::Markdown, Some("util"), LABS).unwrap(),
            Some(text.to_string())
        );
    }

    #[test]
    fn a_markdown_marker_must_be_one_comment() {
        let error = cut(
            "<!-- LAB cow BEGIN\n-->\n",
            "memory.md",
            Syntax::Markdown,
            Some("cow"),
            LABS,
        )
        .unwrap_err();
        assert_eq!(error.line, 1);
        assert!(error.message.contains("one comment"), "{error}");
        let error = cut(
            "<!-- LAB cow BEGIN -->\n<!-- LAB cow STUB -->\n<!--~ a stub\n<!-- LAB cow END -->\n",
            "memory.md",
            Syntax::Markdown,
            Some("cow"),
            LABS,
        )
        .unwrap_err();
        assert_eq!(error.line, 3);
    }

    #[test]
    fn whole_file_regions_and_left_out_files() {
        let whole = "// LAB util BEGIN\n//! docs\nfn main() {}\n// LAB util STUB\n//~ //! docs\n//~ fn main() { todo() }\n// LAB util END\n";
        assert_eq!(
            cut_for(whole, "util").unwrap().unwrap(),
            "//! docs\nfn main() { todo() }\n"
        );
        let hidden = "// LAB cow FILE\nfn hidden() {}\n";
        assert_eq!(cut_for(hidden, "cow").unwrap(), None);
        assert_eq!(
            cut_for(hidden, "util").unwrap().as_deref(),
            Some(hidden),
            "another lab's starter keeps it"
        );
        let late = "fn a() {}\n// LAB cow FILE\n";
        assert!(error_of(late).message.contains("first line"));
    }

    #[test]
    fn nested_regions_are_errors_with_the_line() {
        let text = "// LAB cow BEGIN\nx\n// LAB util BEGIN\n// LAB util STUB\n// LAB util END\n// LAB cow STUB\n// LAB cow END\n";
        let error = error_of(text);
        assert_eq!(error.line, 3);
        assert!(error.message.contains("do not nest"), "{error}");
        assert_eq!(error.to_string().split(':').next(), Some("f.rs"));
    }

    #[test]
    fn unterminated_regions_are_errors_at_their_start() {
        let error = error_of("a\n// LAB cow BEGIN\nb\n// LAB cow STUB\n//~ c\n");
        assert_eq!(error.line, 2);
        assert!(error.message.contains("no `LAB cow END`"), "{error}");
        let error = error_of("// LAB cow BEGIN\nb\n");
        assert_eq!(error.line, 1);
    }

    #[test]
    fn mismatched_and_stray_markers_are_errors() {
        let error = error_of("// LAB cow BEGIN\n// LAB cow STUB\n// LAB util END\n");
        assert_eq!(error.line, 3);
        assert!(
            error.message.contains("ends the region of lab cow"),
            "{error}"
        );
        let error = error_of("// LAB cow BEGIN\n// LAB util STUB\n// LAB cow END\n");
        assert!(error.message.contains("region of lab cow"), "{error}");
        let error = error_of("x\n// LAB cow END\n");
        assert_eq!((error.line, error.message.contains("without")), (2, true));
        let error = error_of("// LAB cow BEGIN\n// LAB cow END\n");
        assert!(
            error.message.contains("before the `LAB cow STUB`"),
            "{error}"
        );
        let error =
            error_of("// LAB cow BEGIN\n// LAB cow STUB\n// LAB cow STUB\n// LAB cow END\n");
        assert_eq!(error.line, 3);
    }

    #[test]
    fn typos_unknown_labs_and_stray_stub_lines_are_errors() {
        assert!(
            error_of("// LAB cow begin\n")
                .message
                .contains("looks like a marker")
        );
        assert!(
            error_of("// LAB cow BEGIN now\n")
                .message
                .contains("nothing after")
        );
        assert!(
            error_of("// LAB pgtbl BEGIN\n")
                .message
                .contains("no lab is named")
        );
        assert!(error_of("//~ x\n").message.contains("outside"));
        assert!(
            error_of("// LAB cow BEGIN\n//~ x\n// LAB cow STUB\n// LAB cow END\n")
                .message
                .contains("before the region's STUB")
        );
        assert!(
            error_of("// LAB cow BEGIN\n// LAB cow STUB\nlet x = 1;\n// LAB cow END\n")
                .message
                .contains("every line is a stub line")
        );
        assert!(
            error_of("// LAB cow BEGIN\n// LAB cow STUB\n//~x\n// LAB cow END\n")
                .message
                .contains("with a space")
        );
        // Prose that merely mentions a lab is not a marker.
        assert!(cut_for("// LABEL\n// the LAB is fun\n", "cow").is_ok());
    }

    #[test]
    fn syntax_by_file_name() {
        assert_eq!(Syntax::of(Path::new("a/b.rs")), Some(Syntax::Slashes));
        assert_eq!(Syntax::of(Path::new("Makefile")), Some(Syntax::Hash));
        assert_eq!(Syntax::of(Path::new("scripts/x.sh")), Some(Syntax::Hash));
        assert_eq!(
            Syntax::of(Path::new("labs/README.md")),
            Some(Syntax::Markdown)
        );
        assert_eq!(Syntax::of(Path::new("disk.img")), None);
        assert!(staff_only("labs/cow/key.md"));
        assert!(!staff_only("labs/cow/handout.md") && !staff_only("labs/key.md"));
    }

    #[test]
    fn lab_files_round_trip() {
        let text = lab_file_text("cow", "abc123", true);
        assert_eq!(
            parse_lab_file(&text),
            Ok(("cow".to_string(), "abc123".to_string()))
        );
        assert!(text.contains("dirty = true"));
        assert!(parse_lab_file("lab = x\n").unwrap_err().contains("base"));
    }
}
