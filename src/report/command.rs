//! The command line that reruns a scenario, as stored in every report's
//! `command` field: one builder for `unlink-race run` and one for
//! `cargo bench`, sharing the scenario's flags and the shell quoting.

use std::path::Path;
use std::time::Duration;

use crate::scenario::{Race, Scenario, format_size};

/// Single-quotes a shell word when it needs it.
fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-=:,+".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// How an `unlink-race run` ended its batches, as its flags say it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunStop {
    pub cycles: Option<u64>,
    pub duration: Option<Duration>,
    pub until: Option<u64>,
    /// `(trials, cycle cap of one trial)`.
    pub trials: Option<(u32, u64)>,
}

/// `unlink-race run --readers … --dir DIR [--other-side DIR] [stop flags]`.
pub fn run_command(
    scenario: &Scenario,
    dir: &Path,
    other_side: Option<&Path>,
    stop: &RunStop,
) -> String {
    let mut cmd = format!(
        "unlink-race run {} --dir {}",
        scenario.run_flags(),
        shell_word(&dir.display().to_string())
    );
    if let Some(other) = other_side {
        cmd += &format!(" --other-side {}", shell_word(&other.display().to_string()));
    }
    if let Some(n) = stop.cycles {
        cmd += &format!(" --cycles {n}");
    }
    if let Some(d) = stop.duration {
        cmd += &format!(" --duration {}s", d.as_secs_f64());
    }
    if let Some(k) = stop.until {
        cmd += &format!(" --until {k}");
    }
    if let Some((trials, cap)) = stop.trials {
        cmd += &format!(" --trials {trials} --trial-cycles {cap}");
    }
    cmd
}

/// `UNLINK_RACE_READERS=RxD … cargo bench`: the bench run of this one scenario.
pub fn bench_command(scenario: &Scenario, dir: &Path, other_side: Option<&Path>) -> String {
    if scenario.race == Race::Create {
        return format!(
            "UNLINK_RACE_RACE=create UNLINK_RACE_CREATORS={} UNLINK_RACE_CREATE_FLAGS={} UNLINK_RACE_CREATE_WORKERS={} UNLINK_RACE_SIZES={} UNLINK_RACE_DIR={} cargo bench",
            scenario.creators,
            scenario.create_flags,
            scenario.workers,
            format_size(scenario.file_size_bytes),
            shell_word(&dir.display().to_string())
        );
    }
    let views = match other_side {
        Some(other) => format!(
            "UNLINK_RACE_OTHER_SIDE={} {}",
            shell_word(&other.display().to_string()),
            if scenario.views.deleters_recreate() {
                "UNLINK_RACE_DELETERS_RECREATE=1 "
            } else {
                ""
            }
        ),
        None => String::new(),
    };
    format!(
        "UNLINK_RACE_READERS={}x{} UNLINK_RACE_SIZES={} UNLINK_RACE_RECREATE={} UNLINK_RACE_DELETE={} UNLINK_RACE_PACE={} UNLINK_RACE_DIR={} {views}cargo bench",
        scenario.readers,
        scenario.deleters,
        format_size(scenario.file_size_bytes),
        scenario.recreate,
        scenario.delete,
        scenario.pace,
        shell_word(&dir.display().to_string())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_quote_what_the_shell_would_split() {
        let s = Scenario::default();
        let dir = Path::new("/tmp/my dir's");
        let run = run_command(
            &s,
            dir,
            None,
            &RunStop {
                cycles: Some(10),
                ..RunStop::default()
            },
        );
        assert!(run.starts_with("unlink-race run --readers 1 --deleters 1 --size 7B"));
        assert!(
            run.ends_with(r"--dir '/tmp/my dir'\''s' --cycles 10"),
            "{run}"
        );
        let bench = bench_command(&s, Path::new("/tmp"), None);
        assert_eq!(
            bench,
            "UNLINK_RACE_READERS=1x1 UNLINK_RACE_SIZES=7B UNLINK_RACE_RECREATE=inplace UNLINK_RACE_DELETE=unlink UNLINK_RACE_PACE=sleep UNLINK_RACE_DIR=/tmp cargo bench"
        );
        let split = Scenario {
            views: crate::scenario::Views::SplitRecreating,
            ..s
        };
        let run = run_command(&split, dir, Some(Path::new("/b")), &RunStop::default());
        assert!(
            run.contains("--deleters-recreate --dir '/tmp/my dir'\\''s' --other-side /b"),
            "{run}"
        );
        assert!(
            bench_command(&split, Path::new("/a"), Some(Path::new("/b"))).ends_with(
                "UNLINK_RACE_DIR=/a UNLINK_RACE_OTHER_SIDE=/b UNLINK_RACE_DELETERS_RECREATE=1 cargo bench"
            )
        );
        let create = Scenario::create(8, crate::scenario::CreateFlags::CreatExcl);
        assert_eq!(
            bench_command(&create, Path::new("/tmp"), None),
            "UNLINK_RACE_RACE=create UNLINK_RACE_CREATORS=8 UNLINK_RACE_CREATE_FLAGS=creat-excl UNLINK_RACE_CREATE_WORKERS=threads UNLINK_RACE_SIZES=7B UNLINK_RACE_DIR=/tmp cargo bench"
        );
        assert!(
            run_command(&create, dir, None, &RunStop::default()).starts_with(
                "unlink-race run --race create --creators 8 --create-flags creat-excl --size 7B"
            )
        );
    }
}
