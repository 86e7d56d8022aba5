//! `make trace`'s host half on the recorded samples of `echo hi | cat`
//! (`common/src/trace/samples/`, written by `make trace` with the figures):
//!
//! - each sample shows the expected steps in order, and the page and JSON
//!   made from both parse, with both kernels' lanes and `Pipe::write_with`
//!   in each figure;
//! - the book's trace figures (`docs/figures/trace-*.md`) are exactly what
//!   the tool makes of the samples, so the chapter is built on this
//!   tool's output and nothing else;
//! - a command line with nothing to trace is an error before anything boots.

use common::trace::scene::Scene;
use grading::trace::collect::{self, TraceError};
use grading::trace::{check, cli, markdown};
use std::path::{Path, PathBuf};

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn sample(kernel: &str) -> Scene {
    let path = repository().join(format!(
        "common/src/trace/samples/echo-hi-cat.{kernel}.trace"
    ));
    let text = std::fs::read_to_string(&path).expect("the sample");
    Scene::find(&collect::parse_dump(&text)).expect("the sample holds the scene")
}

#[test]
fn the_samples_show_the_steps_and_the_outputs_parse() {
    let scenes = [sample("mono"), sample("micro")];
    for scene in &scenes {
        check::expected_steps(scene).unwrap_or_else(|problem| panic!("{problem}"));
    }
    let refs: Vec<&Scene> = scenes.iter().collect();
    check::outputs(cli::DEFAULT_COMMAND, &refs).unwrap_or_else(|problem| panic!("{problem}"));
}

#[test]
fn the_books_trace_figures_are_the_tools_output_on_the_samples() {
    let scenes = [sample("mono"), sample("micro")];
    let refs: Vec<&Scene> = scenes.iter().collect();
    for (name, contents) in markdown::figures(&refs) {
        let path = repository().join("docs/figures").join(&name);
        let committed = std::fs::read_to_string(&path)
            .unwrap_or_else(|_| panic!("{} (written by `make trace`)", path.display()));
        assert_eq!(
            committed, contents,
            "docs/figures/{name} is not what the tool makes of the samples: run `make trace`"
        );
    }
}

#[test]
fn nothing_to_trace_is_an_error() {
    for command in ["", "   ", " ; ;"] {
        assert_eq!(
            collect::check_command(command),
            Err(TraceError::NothingToTrace)
        );
    }
    assert!(
        TraceError::NothingToTrace
            .to_string()
            .contains("nothing to trace")
    );
    assert_eq!(collect::check_command("ls | wc"), Ok(()));
    let no_pipe = TraceError::NoPipeWrite {
        kernel: grading::Kernel::Mono,
        command: "echo hi".into(),
        events: 90,
    };
    assert!(no_pipe.to_string().contains("has no write to a pipe"));
}
