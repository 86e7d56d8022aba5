//! The names of the usertests, read from their source by `grading/build.rs`
//! (every `Test::quick("NAME", ...)` and `Test::slow("NAME", ...)` of
//! `user/programs/src/usertests/`): the grader scores a run of `usertests`
//! test by test without a list of its own to keep in step.

include!(concat!(env!("OUT_DIR"), "/usertest_names.rs"));

/// The check `usertests` adds after the tests: no physical memory leaked.
pub const LEAK_CHECK: &str = "leak_check";

/// Every line a full `usertests` run is scored on: each test, then the
/// leak check.
pub fn usertests() -> Vec<&'static str> {
    let mut names = USERTESTS_DEFINED.to_vec();
    names.push(LEAK_CHECK);
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_read_from_the_source() {
        let names = usertests();
        assert!(names.len() > 50, "only {} usertests found", names.len());
        assert!(names.contains(&"sbrk_grow") && names.contains(&"exit_wait"));
        assert_eq!(names.last(), Some(&LEAK_CHECK));
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "two usertests share a name");
    }
}
