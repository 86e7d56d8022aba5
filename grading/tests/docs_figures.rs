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
/// its markers).
fn marked_blocks(text: &str) -> Vec<(String, String)> {
    const OPEN: &str = "<!-- figures:";
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(OPEN) {
        let after = &rest[start + OPEN.len()..];
        let Some(name_end) = after.find(" -->") else {
            panic!("a {OPEN} marker without its -->");
        };
        let name = after[..name_end].to_string();
        let body = &after[name_end + " -->".len()..];
        let end = format!("<!-- /figures:{name} -->");
        let Some(stop) = body.find(&end) else {
            panic!("a figures:{name} block without its {end}");
        };
        blocks.push((name, body[..stop].trim().to_string()));
        rest = &body[stop + end.len()..];
    }
    blocks
}

/// The Markdown files that may show figures.
fn documents(root: &Path) -> Vec<PathBuf> {
    let mut files = vec![root.join("README.md")];
    for folder in ["docs", "labs"] {
        for entry in std::fs::read_dir(root.join(folder)).expect("a folder of the book") {
            let path = entry.expect("an entry").path();
            if path.extension().is_some_and(|extension| extension == "md") {
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
fn unterminated_blocks_are_found() {
    assert_eq!(
        marked_blocks("a <!-- figures:bench -->\nx\n<!-- /figures:bench --> b"),
        [("bench".to_string(), "x".to_string())]
    );
    assert!(marked_blocks("no figures").is_empty());
    let broken = std::panic::catch_unwind(|| marked_blocks("<!-- figures:bench --> x"));
    assert!(broken.is_err());
    let mismatched =
        std::panic::catch_unwind(|| marked_blocks("<!-- figures:a --> x <!-- /figures:b -->"));
    assert!(mismatched.is_err());
}
