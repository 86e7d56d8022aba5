//! The figures in the README and the docs are the generated table.
//!
//! `make figures` measures both kernels (`make bench`) and copies the table
//! into `docs/figures/bench.md` and into every block of `README.md` and
//! `docs/*.md` marked `<!-- figures:bench -->` ... `<!-- /figures:bench -->`
//! (`scripts/update-figures.sh`). This test fails if a marked block was
//! edited by hand, so a reader never sees two different figures for the
//! same thing.

use std::path::{Path, PathBuf};

const BEGIN: &str = "<!-- figures:bench -->";
const END: &str = "<!-- /figures:bench -->";

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The marked blocks of `text`, each without its markers.
fn marked_blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        let after = &rest[start + BEGIN.len()..];
        let Some(end) = after.find(END) else {
            panic!("a {BEGIN} block without its {END}");
        };
        blocks.push(after[..end].trim().to_string());
        rest = &after[end + END.len()..];
    }
    blocks
}

#[test]
fn figures_in_the_docs_are_the_generated_table() {
    let root = repository();
    let table = std::fs::read_to_string(root.join("docs/figures/bench.md"))
        .expect("docs/figures/bench.md (written by `make figures`)");
    let table = table.trim();
    let mut files = vec![root.join("README.md")];
    for entry in std::fs::read_dir(root.join("docs")).expect("docs/") {
        let path = entry.expect("a docs entry").path();
        if path.extension().is_some_and(|extension| extension == "md") {
            files.push(path);
        }
    }
    let mut blocks_seen = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).expect("a Markdown file");
        for block in marked_blocks(&text) {
            blocks_seen += 1;
            assert_eq!(
                block,
                table,
                "{} has a figures block that is not docs/figures/bench.md: run `make figures` \
                 instead of editing figures by hand",
                file.display()
            );
        }
    }
    assert!(
        blocks_seen > 0,
        "the README shows the figures through a marked block"
    );
}

#[test]
fn unterminated_blocks_are_found() {
    assert_eq!(
        marked_blocks("a <!-- figures:bench -->\nx\n<!-- /figures:bench --> b"),
        ["x"]
    );
    assert!(marked_blocks("no figures").is_empty());
    let broken = std::panic::catch_unwind(|| marked_blocks("<!-- figures:bench --> x"));
    assert!(broken.is_err());
}
