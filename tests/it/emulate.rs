//! `unlink-race emulate` through the real binary: the recipes of
//! the README and docs/emulate.md fail under it and pass once they retry,
//! the counts are zombiefs's own, the exit status is the command's, and
//! however it ends (a hang, a signal, Ctrl-C, the emulator killed) no
//! mount, private directory or process of the command's group is left.
//!
//! These need Linux, `/dev/fuse` and root or `fusermount3`: in CI a mount
//! that fails is a failure, elsewhere the test says it is skipped.

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use unlink_race::sys::process::group_members;

use crate::util;

/// How long any one cleanup may take before the test calls it a hang.
const CLEANUP_LIMIT: Duration = Duration::from_secs(30);

/// The code block of `lang` that follows the heading `heading` in `doc`.
fn code_block(doc: &str, heading: &str, lang: &str) -> String {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(doc)).unwrap();
    let at = text
        .find(heading)
        .unwrap_or_else(|| panic!("{doc} has no heading {heading}"));
    let fence = format!("```{lang}\n");
    let start = text[at..].find(&fence).expect("a code block") + at + fence.len();
    let end = text[start..].find("```").unwrap() + start;
    text[start..end].to_string()
}

/// The README's Python recipe (the same program is in docs/emulate.md).
fn python_recipe() -> String {
    let readme = code_block("README.md", "## Your own program", "python");
    let docs = code_block("docs/emulate.md", "## A Python reader", "python");
    assert_eq!(
        readme, docs,
        "the README's recipe and docs/emulate.md's differ"
    );
    readme
}

/// Whether emulate could not mount here: says skipped (or fails in CI).
fn lacks_fuse(out: &Output) -> bool {
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(125) && stderr.contains("cannot mount zombiefs") {
        util::lacking(
            "a FUSE mount",
            stderr.trim(),
            None,
            util::in_ci() && cfg!(target_os = "linux"),
        );
        return true;
    }
    false
}

/// A directory anyone may use: the private directories are made here, so
/// that "nothing left behind" is "this is empty".
fn open_dir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::tempdir().unwrap();
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    d
}

/// The mount points under `dir` in this namespace.
fn mounts_under(dir: &Path) -> Vec<String> {
    let dir = dir.canonicalize().unwrap().to_string_lossy().into_owned();
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .filter(|m| m.starts_with(&dir))
        .map(str::to_string)
        .collect()
}

/// Waits (bounded) until nothing is left: no mount and no private directory
/// under `base`, no live process in group `pgid`. Panics naming what is left.
fn assert_nothing_left(base: &Path, pgid: Option<u32>) {
    let deadline = Instant::now() + CLEANUP_LIMIT;
    loop {
        let mounts = mounts_under(base);
        let dirs = util::entries(base);
        let group = pgid.map(group_members).unwrap_or_default();
        if mounts.is_empty() && dirs.is_empty() && group.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "left behind after {CLEANUP_LIMIT:?}: mounts {mounts:?}, directories {dirs:?}, \
             processes {group:?} of group {pgid:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `unlink-race emulate --backing-dir BASE ARGS…` as this user.
fn emulate(base: &Path, args: &[&str]) -> Command {
    let mut cmd = util::bin();
    cmd.arg("emulate").arg("--backing-dir").arg(base).args(args);
    cmd
}

/// The same as a normal user (nobody) when this is root: through `setpriv`.
/// `None` (after saying why) when that cannot be done here.
fn as_normal_user(cmd: Command) -> Option<Command> {
    let promised = util::in_ci() && cfg!(target_os = "linux");
    if Command::new("fusermount3")
        .arg("--version")
        .output()
        .is_err()
    {
        util::lacking(
            "fusermount3",
            "the fuse3 package is not installed",
            None,
            promised,
        );
        return None;
    }
    if !is_root() {
        return Some(cmd);
    }
    let rw_for_all = std::fs::metadata("/dev/fuse")
        .is_ok_and(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o006 == 0o006);
    if !rw_for_all {
        util::lacking(
            "/dev/fuse open to every user (mode 0666, as Debian and Ubuntu ship it)",
            "a normal user cannot mount FUSE here",
            None,
            promised,
        );
        return None;
    }
    let mut user = Command::new("setpriv");
    user.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(cmd.get_program())
        .args(cmd.get_args());
    Some(user)
}

fn is_root() -> bool {
    unlink_race::sys::geteuid() == 0
}

/// Runs `cmd` to its end, bounded by [`CLEANUP_LIMIT`] plus `runs_for`.
fn finish(mut cmd: Command, runs_for: Duration) -> Output {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run unlink-race emulate");
    wait_bounded(child, runs_for + CLEANUP_LIMIT)
}

fn wait_bounded(mut child: Child, limit: Duration) -> Output {
    let deadline = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("emulate still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The Python recipe, buggy and retrying, with zombiefs's stats file read
/// at its end by the command itself: the first fails with zombies served,
/// the second passes with zombies served, and `--json` holds exactly the
/// stats file's counts.
fn python_reader_and_retrying_reader(user: fn(Command) -> Option<Command>) {
    let base = open_dir();
    let work = open_dir();
    let recipe = work.path().join("reader.py");
    std::fs::write(&recipe, python_recipe()).unwrap();
    for (flag, fails) in [("", true), ("--retry", false)] {
        let json = work.path().join(format!("served{flag}.json"));
        let stats = work.path().join(format!("stats{flag}.json"));
        let script = format!(
            "python3 {} {flag}; s=$?; cat \"$TMPDIR/.zombiefs-stats\" > {}; exit $s",
            recipe.display(),
            stats.display()
        );
        let mut cmd = emulate(base.path(), &["--json", json.to_str().unwrap(), "--"]);
        cmd.args(["/bin/sh", "-c", &script]);
        let Some(cmd) = user(cmd) else {
            return;
        };
        let out = finish(cmd, Duration::from_secs(10));
        if lacks_fuse(&out) {
            return;
        }
        let said = stderr(&out);
        let served = util::load(&json);
        let zombies = served["served"][0]["count"].as_u64().unwrap();
        assert_eq!(served["served"][0]["symptom"], "zombie_fds");
        assert!(zombies >= 1, "no zombie served:\n{said}");
        if fails {
            assert_eq!(out.status.code(), Some(1), "{said}");
            assert!(said.contains("read b'', expected b'CONTENT'"), "{said}");
            assert!(
                said.contains("failed (exit 1) while being served"),
                "{said}"
            );
        } else {
            assert_eq!(out.status.code(), Some(0), "{said}");
            assert!(said.contains("passed while being served"), "{said}");
        }
        let file: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
        assert_eq!(served["stats"], file, "--json against the stats file");
        assert_eq!(
            zombies,
            file["zombie_opens"].as_u64().unwrap() + file["zombie_write_opens"].as_u64().unwrap()
        );
        assert_eq!(served["files"][0]["path"], "DEST.txt", "{served}");
        assert_eq!(served["files"][0]["zombie_fds"].as_u64(), Some(zombies));
        assert_eq!(served["exit"]["status"], out.status.code().unwrap());
        assert!(
            said.contains(&format!("DEST.txt  {zombies}")) || zombies >= 1000,
            "{said}"
        );
    }
    assert_nothing_left(base.path(), None);
}

#[test]
fn the_python_recipe_fails_under_emulate_and_passes_once_it_retries() {
    if !util::root_for("mounts with the mount syscall") {
        return;
    }
    python_reader_and_retrying_reader(Some);
}

#[test]
fn a_normal_user_emulates_through_fusermount3() {
    python_reader_and_retrying_reader(as_normal_user);
}

/// The Rust recipe of docs/emulate.md, compiled with rustc: a writer that
/// creates its file while a thread deletes it panics on the EINVAL write,
/// and passes once it writes again.
#[test]
fn the_rust_recipe_panics_on_einval_and_passes_once_it_retries() {
    let work = tempfile::tempdir().unwrap();
    let source = work.path().join("writer.rs");
    std::fs::write(
        &source,
        code_block("docs/emulate.md", "## A Rust writer", "rust"),
    )
    .unwrap();
    let exe = work.path().join("writer");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let built = Command::new(rustc)
        .args(["--edition", "2021", "-O", "-o"])
        .arg(&exe)
        .arg(&source)
        .output()
        .expect("rustc runs");
    assert!(built.status.success(), "{}", stderr(&built));
    let base = open_dir();
    for (flag, code) in [("", 101), ("--retry", 0)] {
        let mut cmd = emulate(base.path(), &["--"]);
        cmd.arg(&exe).args((!flag.is_empty()).then_some(flag));
        let out = finish(cmd, Duration::from_secs(10));
        if lacks_fuse(&out) {
            return;
        }
        let said = stderr(&out);
        assert_eq!(out.status.code(), Some(code), "{flag}: {said}");
        assert!(said.contains("EINVAL writes"), "{said}");
        let row = said
            .lines()
            .find(|l| l.trim_start().starts_with("EINVAL writes"))
            .unwrap();
        let count: u64 = row
            .split_whitespace()
            .nth(2)
            .unwrap()
            .replace(',', "")
            .parse()
            .unwrap();
        assert!(count >= 1, "no EINVAL served: {said}");
    }
    assert_nothing_left(base.path(), None);
}

/// The command's exit status passes through: 0, 1, 42, and 128 + n for
/// signal n; 127 for a command not found, 125 for emulate's own errors.
#[test]
fn the_commands_exit_status_passes_through() {
    if !util::root_for("mounts with the mount syscall") {
        return;
    }
    let base = open_dir();
    for (script, code) in [
        ("exit 0", 0),
        ("exit 1", 1),
        ("exit 42", 42),
        ("kill -TERM $$", 143),
        ("kill -SEGV $$", 139),
    ] {
        let mut cmd = emulate(base.path(), &["--", "sh", "-c", script]);
        cmd.stdin(Stdio::null());
        let out = finish(cmd, Duration::from_secs(5));
        if lacks_fuse(&out) {
            return;
        }
        assert_eq!(out.status.code(), Some(code), "{script}: {}", stderr(&out));
    }
    let out = finish(
        emulate(base.path(), &["--", "no-such-command-anywhere"]),
        Duration::ZERO,
    );
    assert_eq!(out.status.code(), Some(127), "{}", stderr(&out));
    let out = finish(
        emulate(base.path(), &["--probability", "2", "--", "true"]),
        Duration::ZERO,
    );
    assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    assert_nothing_left(base.path(), None);
}

/// A command that writes its pid (its process group) to `pid_file`, starts
/// a second process in its group, and then hangs ignoring `ignored`.
fn hanging(pid_file: &Path, ignored: &str) -> Vec<String> {
    vec![
        "sh".into(),
        "-c".into(),
        format!(
            "trap '' {ignored}; echo $$ > {}.tmp; mv {0}.tmp {0}; sleep 1000 & sleep 1000; wait",
            pid_file.display()
        ),
    ]
}

/// Waits for the command to write its pid.
fn pid_of(pid_file: &Path, child: &mut Child) -> Option<u32> {
    let deadline = Instant::now() + CLEANUP_LIMIT;
    loop {
        if let Ok(text) = std::fs::read_to_string(pid_file) {
            return Some(text.trim().parse().unwrap());
        }
        if child.try_wait().unwrap().is_some() || Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Starts emulate on a hanging command; `None` when FUSE is missing (skip).
fn start_hanging(base: &Path, work: &Path, flags: &[&str], ignored: &str) -> Option<(Child, u32)> {
    start_hanging_as(Some, base, work, flags, ignored)
}

/// [`start_hanging`] as the user `user` makes it (see [`as_normal_user`]).
fn start_hanging_as(
    user: fn(Command) -> Option<Command>,
    base: &Path,
    work: &Path,
    flags: &[&str],
    ignored: &str,
) -> Option<(Child, u32)> {
    let pid_file = work.join("pid");
    let mut cmd = emulate(base, flags);
    cmd.arg("--").args(hanging(&pid_file, ignored));
    let mut child = user(cmd)?
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    match pid_of(&pid_file, &mut child) {
        Some(pid) => Some((child, pid)),
        None => {
            let out = wait_bounded(child, CLEANUP_LIMIT);
            assert!(
                lacks_fuse(&out),
                "the command never started: {}",
                stderr(&out)
            );
            None
        }
    }
}

#[test]
fn a_command_hanging_past_the_timeout_is_ended_with_its_group() {
    if !util::root_for("mounts with the mount syscall") {
        return;
    }
    let (base, work) = (open_dir(), tempfile::tempdir().unwrap());
    let flags = ["--timeout", "1", "--kill-after", "1"];
    let Some((child, pgid)) = start_hanging(base.path(), work.path(), &flags, "TERM") else {
        return;
    };
    let out = wait_bounded(child, CLEANUP_LIMIT);
    assert_eq!(out.status.code(), Some(124), "{}", stderr(&out));
    assert!(stderr(&out).contains("timed out"), "{}", stderr(&out));
    assert_nothing_left(base.path(), Some(pgid));
}

#[test]
fn a_command_killed_by_a_signal_leaves_nothing() {
    if !util::root_for("mounts with the mount syscall") {
        return;
    }
    let (base, work) = (open_dir(), tempfile::tempdir().unwrap());
    let Some((child, pgid)) =
        start_hanging(base.path(), work.path(), &["--kill-after", "1"], "HUP")
    else {
        return;
    };
    // Only the leader: its background sleep is left for emulate to end.
    let status = Command::new("kill")
        .args(["-KILL", &pgid.to_string()])
        .status();
    assert!(status.unwrap().success());
    let out = wait_bounded(child, CLEANUP_LIMIT);
    assert_eq!(out.status.code(), Some(137), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("ended 2 processes the command left running"),
        "{}",
        stderr(&out)
    );
    assert_nothing_left(base.path(), Some(pgid));
}

#[test]
fn ctrl_c_repeated_ends_the_command_and_cleans_up() {
    if !util::root_for("mounts with the mount syscall") {
        return;
    }
    let (base, work) = (open_dir(), tempfile::tempdir().unwrap());
    // The command ignores SIGINT: emulate passes it on, then SIGKILLs.
    let Some((child, pgid)) =
        start_hanging(base.path(), work.path(), &["--kill-after", "2"], "INT TERM")
    else {
        return;
    };
    let pid = child.id().to_string();
    for sig in ["-INT", "-INT", "-TERM", "-HUP"] {
        assert!(
            Command::new("kill")
                .args([sig, &pid])
                .status()
                .unwrap()
                .success()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = wait_bounded(child, CLEANUP_LIMIT);
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("interrupted (SIGINT passed on)"),
        "{}",
        stderr(&out)
    );
    assert_nothing_left(base.path(), Some(pgid));
}

#[test]
fn the_emulator_killed_outright_leaves_nothing() {
    if !util::root_for("mounts with the mount syscall") {
        return;
    }
    killed_outright(Some);
}

/// The same for a normal user, whose guard unmounts with `fusermount3 -u -z`.
#[test]
fn the_emulator_of_a_normal_user_killed_outright_leaves_nothing() {
    killed_outright(as_normal_user);
}

fn killed_outright(user: fn(Command) -> Option<Command>) {
    let (base, work) = (open_dir(), open_dir());
    let Some((mut child, pgid)) = start_hanging_as(user, base.path(), work.path(), &[], "TERM")
    else {
        return;
    };
    assert_eq!(mounts_under(base.path()).len(), 1, "mounted while it runs");
    child.kill().unwrap(); // SIGKILL: no handler runs
    let out = wait_bounded(child, CLEANUP_LIMIT);
    assert_eq!(out.status.signal(), Some(libc::SIGKILL));
    assert_nothing_left(base.path(), Some(pgid));
}

/// `--path DIR` mounts over DIR itself: its files are seen and kept, new
/// ones stay, TMPDIR is left alone, and the mount goes at the end.
#[test]
fn path_overlays_a_directory_with_itself() {
    if !util::root_for("mounts with the mount syscall") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("old"), b"kept").unwrap();
    let d = dir.path().to_str().unwrap();
    let script = format!(
        "grep -q fuse.zombiefs /proc/self/mountinfo && test \"$TMPDIR\" = \"{}\" && \
         cat old && echo new > new && test -e .zombiefs-stats",
        std::env::var("TMPDIR").unwrap_or_default()
    );
    let mut cmd = util::bin();
    cmd.args(["emulate", "--path", d, "--cwd", "--", "sh", "-c", &script]);
    let out = finish(cmd, Duration::from_secs(5));
    if lacks_fuse(&out) {
        return;
    }
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "kept");
    assert_eq!(std::fs::read(dir.path().join("new")).unwrap(), b"new\n");
    assert!(mounts_under(dir.path()).is_empty());
    assert_eq!(
        util::entries(dir.path()),
        vec!["new".to_string(), "old".to_string()]
    );
}

/// The private directory is the command's TMPDIR, TMP and TEMP, mode 0700.
#[test]
fn the_command_gets_a_private_temp_dir_on_zombiefs() {
    if !util::root_for("mounts with the mount syscall") {
        return;
    }
    let base = open_dir();
    let script = "test \"$TMPDIR\" = \"$TMP\" && test \"$TMP\" = \"$TEMP\" && \
                  stat -c %a \"$TMPDIR/..\" && grep \" $TMPDIR \" /proc/self/mountinfo | grep -c fuse.zombiefs";
    let out = finish(
        emulate(base.path(), &["--", "sh", "-c", script]),
        Duration::from_secs(5),
    );
    if lacks_fuse(&out) {
        return;
    }
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "700\n1\n");
    assert_nothing_left(base.path(), None);
}
