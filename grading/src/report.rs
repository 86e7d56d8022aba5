//! Telling people the results: one line per test on the terminal, a score,
//! and Gradescope's `results.json`.
//!
//! The terminal report ends with a line `N passed, N failed` alone on its
//! line, which CI scripts look for. The JSON follows Gradescope's autograder
//! specification: a top-level `score`, `execution_time` (seconds),
//! `output`, and one entry per test with `name`, `score`, `max_score`,
//! `status` (`passed`/`failed`), `output` and `visibility` (`visible`, or
//! `after_due_date` for a lab's hidden tests).

use crate::failure::format_duration;
use crate::runner::Outcome;
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

/// Where Gradescope expects the results (`grade --gradescope`).
pub const GRADESCOPE_RESULTS: &str = "/autograder/results/results.json";

/// The terminal report of one test:
///
/// ```text
/// PASS boot/mono (0.4s) [5/5]
/// FAIL boot/micro (30.1s) [0/5]: no boot banner ("Diptych micro-kernel"): timed out ...
///   | ...
///   log: build/grade-logs/boot-micro.log
/// ```
pub fn outcome_text(outcome: &Outcome) -> String {
    let duration = format_duration(outcome.duration);
    let points = if outcome.max_points == 0 {
        String::new()
    } else {
        format!(" [{}/{}]", outcome.points, outcome.max_points)
    };
    match &outcome.result {
        Ok(()) => format!("PASS {} ({duration}){points}", outcome.name),
        Err(failure) => {
            let mut text = format!("FAIL {} ({duration}){points}: {failure}", outcome.name);
            if let Some(log) = &outcome.log {
                text.push_str(&format!("\n  log: {}", log.display()));
            }
            text
        }
    }
}

/// Total points earned and available.
pub fn score(outcomes: &[Outcome]) -> (u32, u32) {
    outcomes
        .iter()
        .fold((0, 0), |(earned, available), outcome| {
            (earned + outcome.points, available + outcome.max_points)
        })
}

/// The closing lines: the score, then `N passed, N failed`.
pub fn summary_text(outcomes: &[Outcome]) -> String {
    let (earned, available) = score(outcomes);
    let passed = outcomes.iter().filter(|outcome| outcome.passed()).count();
    let failed = outcomes.len() - passed;
    format!("Score: {earned}/{available}\n{passed} passed, {failed} failed")
}

/// Gradescope's `results.json` for these outcomes.
pub fn gradescope_json(outcomes: &[Outcome], execution_time: Duration) -> Value {
    let (earned, _) = score(outcomes);
    let tests: Vec<Value> = outcomes
        .iter()
        .map(|outcome| {
            let output = match &outcome.result {
                Ok(()) => format!("passed in {}", format_duration(outcome.duration)),
                Err(_) => outcome_text(outcome),
            };
            json!({
                "name": outcome.name,
                "score": outcome.points,
                "max_score": outcome.max_points,
                "status": if outcome.passed() { "passed" } else { "failed" },
                "output": output,
                "visibility": if outcome.hidden { "after_due_date" } else { "visible" },
            })
        })
        .collect();
    json!({
        "score": earned,
        "execution_time": execution_time.as_secs(),
        "output": summary_text(outcomes),
        "visibility": "visible",
        "tests": tests,
    })
}

/// Writes `results.json` to `path`, creating its directory.
pub fn write_gradescope(
    path: &Path,
    outcomes: &[Outcome],
    execution_time: Duration,
) -> std::io::Result<()> {
    if let Some(directory) = path
        .parent()
        .filter(|directory| !directory.as_os_str().is_empty())
    {
        std::fs::create_dir_all(directory)?;
    }
    let text = serde_json::to_string_pretty(&gradescope_json(outcomes, execution_time))
        .map_err(std::io::Error::other)?;
    std::fs::write(path, text + "\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::failure::Failure;
    use std::path::PathBuf;

    fn outcomes() -> Vec<Outcome> {
        vec![
            Outcome {
                name: "boot/mono".into(),
                suite: "boot",
                max_points: 5,
                points: 5,
                result: Ok(()),
                duration: Duration::from_millis(400),
                log: None,
                hidden: false,
            },
            Outcome {
                name: "boot/micro".into(),
                suite: "boot",
                max_points: 5,
                points: 0,
                result: Err(Failure::check("no \"interrupts\" line")),
                duration: Duration::from_millis(1500),
                log: Some(PathBuf::from("build/grade-logs/boot-micro.log")),
                hidden: true,
            },
        ]
    }

    #[test]
    fn terminal_lines_and_summary() {
        let outcomes = outcomes();
        assert_eq!(outcome_text(&outcomes[0]), "PASS boot/mono (400ms) [5/5]");
        assert_eq!(
            outcome_text(&outcomes[1]),
            "FAIL boot/micro (1.5s) [0/5]: no \"interrupts\" line\n  log: build/grade-logs/boot-micro.log"
        );
        let summary = summary_text(&outcomes);
        assert_eq!(summary, "Score: 5/10\n1 passed, 1 failed");
        assert_eq!(summary.lines().last(), Some("1 passed, 1 failed"));
    }

    #[test]
    fn gradescope_json_has_the_required_fields() {
        let json = gradescope_json(&outcomes(), Duration::from_secs(12));
        assert_eq!(json["score"], 5);
        assert_eq!(json["execution_time"], 12);
        let tests = json["tests"].as_array().unwrap();
        assert_eq!(tests.len(), 2);
        assert_eq!(tests[0]["name"], "boot/mono");
        assert_eq!(tests[0]["status"], "passed");
        assert_eq!(tests[1]["status"], "failed");
        assert_eq!(tests[1]["score"], 0);
        assert_eq!(tests[1]["max_score"], 5);
        assert_eq!(tests[0]["visibility"], "visible");
        assert_eq!(tests[1]["visibility"], "after_due_date", "a hidden test");
        assert!(
            tests[1]["output"]
                .as_str()
                .unwrap()
                .contains("boot-micro.log")
        );
    }

    #[test]
    fn results_file_round_trips() {
        let path =
            std::env::temp_dir().join(format!("grading-json-{}/results.json", std::process::id()));
        write_gradescope(&path, &outcomes(), Duration::from_secs(3)).unwrap();
        let parsed: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(parsed["tests"][1]["name"], "boot/micro");
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }
}
