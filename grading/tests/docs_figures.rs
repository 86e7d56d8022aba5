//! The figures in the README, the docs and the labs are the generated
//! tables.
//!
//! `make figures` measures both kernels (`make bench`) and `make trace`
//! follows one pipe write through both; each writes its tables into
//! `docs/figures/NAME.md` and into every block of `README.md`,
//! `docs/*.md` and `labs/*.md` marked `<!-- figures:NAME -->` ...
//! `<!-- /figures:NAME -->` (`scripts/update-figures.sh`). This test fails
//! if a marked block was edited by hand, so a reader never sees two
//! different figures for the same thing.

use std::path::{Path, PathBuf};

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The marked blocks of `text`: each block's name and contents (without
/// its markers). A marker counts only alone on its line (as
/// `scripts/update-figures.sh` sees it), so a sentence may quote one.
fn marked_blocks(text: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut open: Option<(String, Vec<&str>)> = None;
    for line in text.lines() {
        let line_trimmed = line.trim_end();
        let marker = |prefix: &str| {
            line_trimmed
                .strip_prefix(prefix)
                .and_then(|rest| rest.strip_suffix(" -->"))
                .map(str::to_string)
        };
        match (&mut open, marker("<!-- figures:"), marker("<!-- /figures:")) {
            (None, Some(name), _) => open = Some((name, Vec::new())),
            (Some((name, lines)), _, Some(end)) => {
                assert_eq!(*name, end, "a figures:{name} block ends with figures:{end}");
                blocks.push((name.clone(), lines.join("\n").trim().to_string()));
                open = None;
            }
            (Some((name, _)), Some(other), _) => {
                panic!("a figures:{other} block opens inside figures:{name}")
            }
            (Some((_, lines)), None, None) => lines.push(line),
            (None, _, _) => {}
        }
    }
    if let Some((name, _)) = open {
        panic!("a figures:{name} block without its end marker");
    }
    blocks
}

/// The Markdown files that may show figures.
fn documents(root: &Path) -> Vec<PathBuf> {
    let mut files = vec![root.join("README.md")];
    let mut folders = vec![root.join("docs"), root.join("labs")];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("a folder of the book") {
            let path = entry.expect("an entry").path();
            if path.is_dir() && folder.ends_with("labs") {
                folders.push(path); // labs/NAME/handout.md and the like
            } else if path.extension().is_some_and(|extension| extension == "md") {
                files.push(path);
            }
        }
    }
    files
}

#[test]
fn figures_in_the_docs_are_the_generated_tables() {
    let root = repository();
    let mut seen: Vec<String> = Vec::new();
    for file in documents(&root) {
        let text = std::fs::read_to_string(&file).expect("a Markdown file");
        for (name, block) in marked_blocks(&text) {
            let figure = root.join(format!("docs/figures/{name}.md"));
            let table = std::fs::read_to_string(&figure).unwrap_or_else(|_| {
                panic!(
                    "{} shows figures:{name}, but {} does not exist",
                    file.display(),
                    figure.display()
                )
            });
            assert_eq!(
                block,
                table.trim(),
                "{} has a figures:{name} block that is not docs/figures/{name}.md: run `make figures` \
                 (bench) or `make trace` (trace-*) instead of editing figures by hand",
                file.display()
            );
            seen.push(name);
        }
    }
    assert!(
        seen.iter().any(|name| name == "bench"),
        "the README shows the bench figures through a marked block"
    );
    for name in ["trace-totals", "trace-steps-mono", "trace-steps-micro"] {
        assert!(
            seen.iter().any(|seen| seen == name),
            "the book shows figures:{name}"
        );
    }
}

#[test]
fn unterminated_blocks_are_found_and_quoted_markers_are_text() {
    assert_eq!(
        marked_blocks("a\n<!-- figures:bench -->\nx\ny\n<!-- /figures:bench -->\nb"),
        [("bench".to_string(), "x\ny".to_string())]
    );
    assert!(marked_blocks("no figures").is_empty());
    assert!(marked_blocks("the marker `<!-- figures:bench -->` in a sentence").is_empty());
    let broken = std::panic::catch_unwind(|| marked_blocks("<!-- figures:bench -->\nx"));
    assert!(broken.is_err());
    let mismatched =
        std::panic::catch_unwind(|| marked_blocks("<!-- figures:a -->\nx\n<!-- /figures:b -->"));
    assert!(mismatched.is_err());
}
