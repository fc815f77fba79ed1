//! Real filesystems for the tests: xfs, ext4 and btrfs on loop images, the
//! kernel's overlayfs, fuse-overlayfs, bindfs, and sshfs over an sshd of its
//! own on 127.0.0.1.
//!
//! A fixture may also have an *other side*: another path to the directory
//! the tests race in (bindfs's source, sshfs's server directory, a second
//! sshfs client, fuse-overlayfs's upper directory, a bind mount), for the
//! tests of two views.
//!
//! Each fixture is a [`RealFs`]: a temp dir holding images, keys and mount
//! points, plus a stack of what to undo (unmount, stop a daemon), undone in
//! reverse order on drop, so mounts and daemons go away also when a test
//! panics. A fixture whose facility is missing (not root, no `/dev/fuse`, a
//! package not installed) prints "skipped: ..." and returns `None`, except
//! with `CI=true`, where `.ci/run` installed everything and a missing facility
//! fails the test.

use std::fs;
use std::io::Read;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// How long a mount or a daemon may take to come up before the fixture gives up.
const READY_WITHIN: Duration = Duration::from_secs(20);

/// Whether this is CI, where every facility is promised.
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// A missing facility: a failure in CI, a loud skip elsewhere.
fn unavailable(what: &str, reason: &str) -> Option<RealFs> {
    assert!(
        !in_ci(),
        "{what}: {reason}; CI (CI=true) promises it, so this is a failure (.ci/run installs \
         the packages and runs as root with /dev/fuse)"
    );
    eprintln!("skipped: {what}: {reason}");
    None
}

/// The effective uid of this process (the owner of `/proc/self`).
fn is_root() -> bool {
    fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// The path of `program` in `PATH`, or in the sbin directories root has.
fn find_program(program: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':')
        .chain(["/usr/local/sbin", "/usr/sbin", "/sbin"])
        .map(|d| Path::new(d).join(program))
        .find(|p| fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
}

/// Checks root, the programs and (for FUSE) `/dev/fuse`; `Err(reason)` when one is missing.
fn check(programs: &[(&str, &str)], fuse: bool) -> Result<Vec<PathBuf>, String> {
    if !is_root() {
        return Err("needs root (it mounts filesystems)".into());
    }
    if fuse && !Path::new("/dev/fuse").exists() {
        return Err("needs /dev/fuse".into());
    }
    programs
        .iter()
        .map(|(program, package)| {
            find_program(program)
                .ok_or_else(|| format!("needs {program} (Debian package {package})"))
        })
        .collect()
}

/// Runs a setup command to completion; panics with its output when it fails.
fn must(cmd: &mut Command) {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?} did not start: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Whether `dir` is a mount point, from `/proc/self/mountinfo` (field 5).
fn is_mount_point(dir: &Path) -> bool {
    let Ok(info) = fs::read_to_string("/proc/self/mountinfo") else {
        return false;
    };
    let want = dir.to_string_lossy();
    info.lines()
        .filter_map(|l| l.split(' ').nth(4))
        .any(|m| unescape_mountinfo(m) == want)
}

/// `/proc/self/mountinfo` writes space, tab, newline and backslash as `\ooo`.
fn unescape_mountinfo(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let code = rest
            .get(i + 1..i + 4)
            .and_then(|o| u8::from_str_radix(o, 8).ok());
        match code {
            Some(b) => {
                out.push(b as char);
                rest = &rest[i + 4..];
            }
            None => {
                out.push('\\');
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// One thing to undo on drop.
enum Undo {
    /// Unmount this mount point.
    Unmount(PathBuf),
    /// Stop this daemon (after the mounts that use it are gone).
    Stop(&'static str, Child),
}

/// A mounted real filesystem; everything it set up is undone on drop.
pub struct RealFs {
    /// What the mount is called in messages (`"xfs"`, `"sshfs"`).
    pub name: &'static str,
    /// The `fs_type` a report of this mount shows (`"xfs"`, `"fuse.sshfs"`).
    pub fs_type: &'static str,
    mount_point: PathBuf,
    /// Another path to the mounted directory, where one exists.
    other_side: Option<PathBuf>,
    undo: Vec<Undo>,
    /// Images, keys, configuration, mount points; removed last.
    work: TempDir,
}

impl RealFs {
    fn new(name: &'static str, fs_type: &'static str) -> RealFs {
        let work = tempfile::Builder::new()
            .prefix(&format!("realfs-{name}-"))
            .tempdir()
            .expect("temp dir");
        let mount_point = work.path().join("mnt");
        fs::create_dir(&mount_point).expect("mount point");
        RealFs {
            name,
            fs_type,
            mount_point,
            other_side: None,
            undo: Vec::new(),
            work,
        }
    }

    /// The mounted directory, where a run races.
    pub fn path(&self) -> &Path {
        &self.mount_point
    }

    /// Another path to [`RealFs::path`]: bindfs's source, sshfs's directory
    /// on the server (or the second client's mount), fuse-overlayfs's upper
    /// directory, a bind mount of a local filesystem.
    pub fn other_side(&self) -> &Path {
        self.other_side
            .as_deref()
            .unwrap_or_else(|| panic!("{} has no other side", self.name))
    }

    /// Process ids of the daemons this fixture started.
    pub fn daemon_pids(&self) -> Vec<u32> {
        self.undo
            .iter()
            .filter_map(|u| match u {
                Undo::Stop(_, child) => Some(child.id()),
                Undo::Unmount(_) => None,
            })
            .collect()
    }

    fn work(&self, name: &str) -> PathBuf {
        self.work.path().join(name)
    }

    fn mkdir(&self, name: &str) -> PathBuf {
        let p = self.work(name);
        fs::create_dir_all(&p).expect("work dir");
        p
    }

    /// `mount` ran: remember to unmount.
    fn mounted(&mut self) {
        self.mounted_at(&self.mount_point.clone());
    }

    /// `mount` ran on `dir`: remember to unmount it.
    fn mounted_at(&mut self, dir: &Path) {
        assert!(
            is_mount_point(dir),
            "{}: {} is not a mount point after mounting",
            self.name,
            dir.display()
        );
        self.undo.push(Undo::Unmount(dir.to_path_buf()));
    }

    /// Starts a FUSE daemon in the foreground and waits until its mount appears.
    fn spawn_fuse(&mut self, cmd: &mut Command) {
        self.spawn_fuse_at(cmd, &self.mount_point.clone());
    }

    /// Starts a FUSE daemon that mounts on `mount_point` and waits until the mount appears.
    fn spawn_fuse_at(&mut self, cmd: &mut Command, mount_point: &Path) {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{cmd:?} did not start: {e}"));
        let start = Instant::now();
        while !is_mount_point(mount_point) {
            if let Ok(Some(status)) = child.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                panic!(
                    "{}: {cmd:?} exited ({status}) before mounting: {err}",
                    self.name
                );
            }
            if start.elapsed() > READY_WITHIN {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "{}: {cmd:?} did not mount within {READY_WITHIN:?}",
                    self.name
                );
            }
            sleep(Duration::from_millis(20));
        }
        // The daemon is stopped after its mount is gone (undo runs in reverse).
        self.undo.push(Undo::Stop(self.name, child));
        self.undo.push(Undo::Unmount(mount_point.to_path_buf()));
    }

    /// Adds a bind mount of the mounted directory as its other side: the
    /// same filesystem through a second path (`mount --bind`).
    pub fn with_bind_mount(mut self) -> RealFs {
        let bind = self.mkdir("bind");
        must(
            Command::new("mount")
                .arg("--bind")
                .arg(&self.mount_point)
                .arg(&bind),
        );
        self.mounted_at(&bind);
        self.other_side = Some(bind);
        self
    }

    /// xfs on a sparse 300 MiB loop image (mkfs.xfs's smallest).
    pub fn xfs() -> Option<RealFs> {
        Self::loop_image("xfs", "xfs", "mkfs.xfs", "xfsprogs", 300)
    }

    /// ext4 on a sparse 64 MiB loop image.
    pub fn ext4() -> Option<RealFs> {
        Self::loop_image("ext4", "ext4", "mkfs.ext4", "e2fsprogs", 64)
    }

    /// btrfs on a sparse 256 MiB loop image.
    pub fn btrfs() -> Option<RealFs> {
        Self::loop_image("btrfs", "btrfs", "mkfs.btrfs", "btrfs-progs", 256)
    }

    fn loop_image(
        name: &'static str,
        fs_type: &'static str,
        mkfs: &str,
        package: &str,
        size_mib: u64,
    ) -> Option<RealFs> {
        let what = format!("{name} on a loop image");
        let progs = match check(&[(mkfs, package), ("mount", "mount")], false) {
            Ok(p) => p,
            Err(reason) => return unavailable(&what, &reason),
        };
        if !Path::new("/dev/loop-control").exists() {
            return unavailable(&what, "needs loop devices (/dev/loop-control)");
        }
        let mut fs = RealFs::new(name, fs_type);
        let image = fs.work("image");
        fs::File::create(&image)
            .and_then(|f| f.set_len(size_mib << 20))
            .expect("sparse image file");
        // Overwrite without asking: `-F` for mke2fs, `-f` for the others.
        let force = if mkfs == "mkfs.ext4" { "-F" } else { "-f" };
        must(Command::new(&progs[0]).args(["-q", force]).arg(&image));
        must(
            Command::new(&progs[1])
                .args(["-t", fs_type, "-o", "loop"])
                .arg(&image)
                .arg(&fs.mount_point),
        );
        fs.mounted();
        Some(fs)
    }

    /// The kernel's overlayfs, upper and work dirs on the temp dir's filesystem.
    pub fn overlay() -> Option<RealFs> {
        let progs = match check(&[("mount", "mount")], false) {
            Ok(p) => p,
            Err(reason) => return unavailable("overlayfs", &reason),
        };
        let mut fs = RealFs::new("overlayfs", "overlay");
        let (lower, upper, work) = (fs.mkdir("lower"), fs.mkdir("upper"), fs.mkdir("work"));
        let options = format!(
            "lowerdir={},upperdir={},workdir={}",
            lower.display(),
            upper.display(),
            work.display()
        );
        must(
            Command::new(&progs[0])
                .args(["-t", "overlay", "overlay", "-o", &options])
                .arg(&fs.mount_point),
        );
        fs.mounted();
        Some(fs)
    }

    /// fuse-overlayfs (FUSE), over directories in the temp dir.
    pub fn fuse_overlayfs() -> Option<RealFs> {
        let progs = match check(&[("fuse-overlayfs", "fuse-overlayfs")], true) {
            Ok(p) => p,
            Err(reason) => return unavailable("fuse-overlayfs", &reason),
        };
        let mut fs = RealFs::new("fuse-overlayfs", "fuse.fuse-overlayfs");
        let (lower, upper, work) = (fs.mkdir("lower"), fs.mkdir("upper"), fs.mkdir("work"));
        let options = format!(
            "lowerdir={},upperdir={},workdir={}",
            lower.display(),
            upper.display(),
            work.display()
        );
        let mount_point = fs.mount_point.clone();
        fs.spawn_fuse(
            Command::new(&progs[0])
                .args(["-f", "-o", &options])
                .arg(mount_point),
        );
        // What is written to the merged directory lands here.
        fs.other_side = Some(upper);
        Some(fs)
    }

    /// bindfs (FUSE) mirroring a directory of the temp dir. Mounted by root
    /// it would name its type plain `fuse`; `subtype=bindfs` makes it `fuse.bindfs`.
    pub fn bindfs() -> Option<RealFs> {
        let progs = match check(&[("bindfs", "bindfs")], true) {
            Ok(p) => p,
            Err(reason) => return unavailable("bindfs", &reason),
        };
        let mut fs = RealFs::new("bindfs", "fuse.bindfs");
        let source = fs.mkdir("source");
        let mount_point = fs.mount_point.clone();
        fs.spawn_fuse(
            Command::new(&progs[0])
                .args(["-f", "-o", "subtype=bindfs"])
                .arg(&source)
                .arg(mount_point),
        );
        fs.other_side = Some(source);
        Some(fs)
    }

    /// sshfs to a directory of the temp dir, through an sshd started here on
    /// 127.0.0.1 on a free port, with its own configuration, host key and a
    /// throwaway client key (nothing of the system's ssh setup is used).
    pub fn sshfs() -> Option<RealFs> {
        Self::sshfs_clients(false)
    }

    /// sshfs as [`RealFs::sshfs`], and a second sshfs mount of the same
    /// server directory as the other side: two clients of one server.
    pub fn sshfs_two_clients() -> Option<RealFs> {
        Self::sshfs_clients(true)
    }

    fn sshfs_clients(two: bool) -> Option<RealFs> {
        let progs = match check(
            &[
                ("sshfs", "sshfs"),
                ("sshd", "openssh-server"),
                ("ssh-keygen", "openssh-client"),
            ],
            true,
        ) {
            Ok(p) => p,
            Err(reason) => return unavailable("sshfs over a loopback sshd", &reason),
        };
        let (sshfs, sshd, keygen) = (&progs[0], &progs[1], &progs[2]);
        let mut fs = RealFs::new("sshfs", "fuse.sshfs");
        let source = fs.mkdir("source");
        let keys = fs.mkdir("ssh");
        fs::set_permissions(&keys, fs::Permissions::from_mode(0o700)).expect("chmod");
        for key in ["host_key", "client_key"] {
            must(
                Command::new(keygen)
                    .args([
                        "-q",
                        "-t",
                        "ed25519",
                        "-N",
                        "",
                        "-C",
                        "unlink-race-test",
                        "-f",
                    ])
                    .arg(keys.join(key)),
            );
        }
        fs::copy(keys.join("client_key.pub"), keys.join("authorized_keys"))
            .expect("authorized_keys");
        // sshd refuses to start without its privilege separation directory.
        let privsep = Path::new("/run/sshd");
        if !privsep.exists() {
            fs::create_dir_all(privsep).expect("/run/sshd");
            fs::set_permissions(privsep, fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        let port = start_sshd(&mut fs, sshd, &keys);
        let remote = format!("root@127.0.0.1:{}", source.display());
        let identity = keys.join("client_key");
        let second = fs.mkdir("mnt2");
        let mount_points = if two {
            vec![fs.mount_point.clone(), second.clone()]
        } else {
            vec![fs.mount_point.clone()]
        };
        for mount_point in mount_points {
            fs.spawn_fuse_at(
                Command::new(sshfs)
                    .arg("-f")
                    .arg(&remote)
                    .arg(&mount_point)
                    .args(["-p", &port.to_string(), "-F", "/dev/null", "-o"])
                    .arg(format!(
                        "IdentityFile={},IdentitiesOnly=yes,BatchMode=yes,\
                         StrictHostKeyChecking=no,UserKnownHostsFile=/dev/null,LogLevel=ERROR",
                        identity.display()
                    )),
                &mount_point,
            );
        }
        fs.other_side = Some(if two { second } else { source });
        Some(fs)
    }
}

/// Starts sshd in the foreground on a free loopback port and waits until it
/// accepts connections; returns the port. A port taken between choosing it
/// and sshd binding it is retried with another.
fn start_sshd(fs: &mut RealFs, sshd: &Path, keys: &Path) -> u16 {
    for _ in 0..5 {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let config = keys.join("sshd_config");
        fs::write(
            &config,
            format!(
                "Port {port}\n\
                 ListenAddress 127.0.0.1\n\
                 HostKey {keys}/host_key\n\
                 AuthorizedKeysFile {keys}/authorized_keys\n\
                 PidFile none\n\
                 PasswordAuthentication no\n\
                 KbdInteractiveAuthentication no\n\
                 PermitRootLogin prohibit-password\n\
                 StrictModes no\n\
                 UsePAM no\n\
                 Subsystem sftp internal-sftp\n",
                keys = keys.display()
            ),
        )
        .expect("sshd_config");
        let mut child = Command::new(sshd)
            .args(["-D", "-e", "-f"])
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{} did not start: {e}", sshd.display()));
        let start = Instant::now();
        loop {
            if TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok() {
                fs.undo.push(Undo::Stop("sshd", child));
                return port;
            }
            if let Ok(Some(status)) = child.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                if err.contains("Address already in use") {
                    break;
                }
                panic!("sshd exited ({status}) before listening: {err}");
            }
            if start.elapsed() > READY_WITHIN {
                let _ = child.kill();
                let _ = child.wait();
                panic!("sshd did not listen on 127.0.0.1:{port} within {READY_WITHIN:?}");
            }
            sleep(Duration::from_millis(20));
        }
    }
    panic!("sshd found no free port on 127.0.0.1 in 5 tries");
}

/// Unmounts, retrying while busy, and lazily as the last resort so that a
/// failed test never leaves a mount behind.
fn unmount(dir: &Path) {
    for _ in 0..50 {
        if !is_mount_point(dir) {
            return;
        }
        let ok = Command::new("umount")
            .arg(dir)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return;
        }
        sleep(Duration::from_millis(100));
    }
    eprintln!("{}: busy, unmounting lazily", dir.display());
    let _ = Command::new("umount").arg("-l").arg(dir).status();
}

/// Stops a daemon: it usually exits by itself once its mount is gone; else SIGTERM, then SIGKILL.
fn stop(name: &str, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        if name == "sshd" {
            break;
        }
        sleep(Duration::from_millis(20));
    }
    let _ = Command::new("kill")
        .arg(child.id().to_string())
        .stderr(Stdio::null())
        .status();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

impl Drop for RealFs {
    fn drop(&mut self) {
        while let Some(undo) = self.undo.pop() {
            match undo {
                Undo::Unmount(dir) => unmount(&dir),
                Undo::Stop(name, mut child) => stop(name, &mut child),
            }
        }
    }
}

#[test]
fn mountinfo_escapes_are_decoded() {
    assert_eq!(unescape_mountinfo(r"/tmp/a\040b"), "/tmp/a b");
    assert_eq!(unescape_mountinfo(r"/tmp/a\134b"), r"/tmp/a\b");
    assert_eq!(unescape_mountinfo("/plain"), "/plain");
}
