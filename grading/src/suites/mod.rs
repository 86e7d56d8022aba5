//! The test suites, one file per area of the system.
//!
//! To add a suite: write `suites/NAME.rs` with a `pub fn tests() -> Vec<Test>`,
//! add `pub mod NAME;` below and a line to [`all`]. Test names must be unique
//! across all suites (a unit test checks). A suite marked `on_request` runs
//! only when named with `--suite`.

use crate::test::Test;

pub mod bench;
pub mod boot;
pub mod fault_isolation;
pub mod fuzz;
pub mod micro_kernel;
pub mod power_cut;
pub mod shell;
pub mod trace;
pub mod usertests;

/// A named group of tests (`grade --suite NAME` runs one).
#[derive(Clone, Debug)]
pub struct Suite {
    /// The suite's name, as given to `--suite`.
    pub name: &'static str,
    /// Its tests, in the order they are listed and started.
    pub tests: Vec<Test>,
    /// Run only when asked for by name (`--suite NAME`), not in a run of
    /// every suite (`make test`, `make grade`): the measurements of
    /// `make bench`, which take minutes and check nothing the quick
    /// version does not.
    pub on_request: bool,
}

/// Every suite, in the order they run.
pub fn all() -> Vec<Suite> {
    vec![
        Suite {
            name: "boot",
            tests: boot::tests(),
            on_request: false,
        },
        Suite {
            name: "shell",
            tests: shell::tests(),
            on_request: false,
        },
        Suite {
            name: "usertests",
            tests: usertests::tests(),
            on_request: false,
        },
        Suite {
            name: "fuzz",
            tests: fuzz::tests(),
            on_request: false,
        },
        Suite {
            name: "fault-isolation",
            tests: fault_isolation::tests(),
            on_request: false,
        },
        Suite {
            name: "micro-kernel",
            tests: micro_kernel::tests(),
            on_request: false,
        },
        Suite {
            name: "bench-quick",
            tests: bench::quick_tests(),
            on_request: false,
        },
        Suite {
            name: "power-cut",
            tests: power_cut::tests(),
            on_request: false,
        },
        Suite {
            name: "bench",
            tests: bench::tests(),
            on_request: true,
        },
        Suite {
            name: "bench-restart",
            tests: bench::restart_tests(),
            on_request: true,
        },
        Suite {
            name: "trace",
            tests: trace::tests(),
            on_request: false,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn test_names_are_unique_and_dependencies_exist() {
        let suites = all();
        let mut names = HashSet::new();
        for test in suites.iter().flat_map(|suite| &suite.tests) {
            assert!(names.insert(test.name), "two tests are named {}", test.name);
        }
        for test in suites.iter().flat_map(|suite| &suite.tests) {
            if let Some(dependency) = test.depends_on {
                assert!(
                    names.contains(dependency),
                    "{} depends on unknown test {dependency}",
                    test.name
                );
            }
        }
        let suite_names: HashSet<_> = suites.iter().map(|suite| suite.name).collect();
        assert_eq!(suite_names.len(), suites.len(), "two suites share a name");
    }
}
