//! What differs between operating systems: the clock, the descriptor limit,
//! the filesystem of a directory, the OS version and the CPU model.
//!
//! macOS answers from `fstatfs` (`f_fstypename`, `f_mntonname`) and
//! `sysctlbyname` (`kern.osproductversion`, `machdep.cpu.brand_string`,
//! `kern.maxfilesperproc`), written against the `libc` crate's Apple
//! definitions. Linux answers from `/proc/self/mountinfo`, `/etc/os-release`
//! and `/proc/cpuinfo`. Apart from [`MONOTONIC_CLOCK`], everything here runs
//! once per run or report, never on the hot path.

use std::os::fd::BorrowedFd;
use std::path::Path;

pub use super::{FdLimit, FsInfo, OsVersion};
use super::{SysResult, check};

/// The clock of every timestamp in a run ([`super::monotonic_ns`]): one that
/// never steps, is shared by the processes of one boot and has nanosecond
/// resolution.
///
/// On macOS that is `CLOCK_UPTIME_RAW`, the clock `std::time::Instant` uses
/// there: its `CLOCK_MONOTONIC` has 1 µs resolution and follows NTP slew.
#[cfg(target_os = "macos")]
pub const MONOTONIC_CLOCK: libc::clockid_t = libc::CLOCK_UPTIME_RAW;

/// The clock of every timestamp in a run ([`super::monotonic_ns`]): one that
/// never steps, is shared by the processes of one boot and has nanosecond
/// resolution. On Linux that is `CLOCK_MONOTONIC`.
#[cfg(not(target_os = "macos"))]
pub const MONOTONIC_CLOCK: libc::clockid_t = libc::CLOCK_MONOTONIC;

/// Raises the soft limit on open descriptors (`RLIMIT_NOFILE`) to the hard
/// limit, as most tools do at start: macOS starts processes at 256, which a
/// run with many workers can exhaust. Its kernel refuses a soft limit above
/// `kern.maxfilesperproc`, so there the limit is the smaller of the two. The
/// hard limit is never changed; the errno is returned when the kernel refuses.
#[allow(clippy::unnecessary_cast)] // `rlim_t` is `u64` on some targets only
pub fn raise_fd_limit() -> SysResult<FdLimit> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid, writable `rlimit`.
    check(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) })?;
    let before = lim.rlim_cur as u64;
    let target = imp::fd_limit_ceiling(lim.rlim_max);
    if target > lim.rlim_cur {
        let raised = libc::rlimit {
            rlim_cur: target,
            rlim_max: lim.rlim_max,
        };
        // SAFETY: `raised` is a valid `rlimit`; the kernel only reads it.
        check(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) })?;
        return Ok(FdLimit {
            before,
            now: target as u64,
        });
    }
    Ok(FdLimit {
        before,
        now: before,
    })
}

/// The filesystem of `dir` (open descriptor) at `path` (its canonical path).
pub fn fs_info(dir: BorrowedFd<'_>, path: &Path) -> FsInfo {
    imp::fs_info(dir, path)
}

/// Whether `dir`'s filesystem is served by a process on this machine (FUSE,
/// macFUSE): its server needs a CPU of its own to answer each call.
pub fn served_in_user_space(dir: BorrowedFd<'_>) -> bool {
    imp::served_in_user_space(dir)
}

/// The OS version.
pub fn os_version() -> OsVersion {
    imp::os_version()
}

/// The CPU model, or the architecture when the model is not known.
pub fn cpu_model() -> String {
    imp::cpu_model()
}

#[cfg(target_os = "macos")]
mod imp {
    use super::{FsInfo, OsVersion};
    use std::ffi::CStr;
    use std::mem::MaybeUninit;
    use std::os::fd::{AsRawFd, BorrowedFd};
    use std::path::Path;

    /// `sysctlbyname` for a string value.
    fn sysctl_string(name: &CStr) -> Option<String> {
        let mut len: libc::size_t = 0;
        // SAFETY: a null buffer asks only for the length, written to `len`.
        let ret = unsafe {
            libc::sysctlbyname(
                name.as_ptr(),
                std::ptr::null_mut(),
                &mut len,
                std::ptr::null_mut(),
                0,
            )
        };
        if ret != 0 || len == 0 {
            return None;
        }
        let mut buf = vec![0u8; len];
        // SAFETY: `buf` is writable for `len` bytes, the length passed.
        let ret = unsafe {
            libc::sysctlbyname(
                name.as_ptr(),
                buf.as_mut_ptr().cast(),
                &mut len,
                std::ptr::null_mut(),
                0,
            )
        };
        if ret != 0 {
            return None;
        }
        buf.truncate(len);
        let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        Some(String::from_utf8_lossy(&buf[..end]).into_owned())
    }

    pub fn fs_info(dir: BorrowedFd<'_>, _path: &Path) -> FsInfo {
        let mut st = MaybeUninit::<libc::statfs>::uninit();
        // SAFETY: `st` is writable for one `statfs`; `dir` is an open descriptor.
        if unsafe { libc::fstatfs(dir.as_raw_fd(), st.as_mut_ptr()) } != 0 {
            return FsInfo {
                fs_type: "unknown".into(),
                mount_point: "unknown".into(),
            };
        }
        // SAFETY: `fstatfs` succeeded and filled the struct.
        let st = unsafe { st.assume_init() };
        FsInfo {
            fs_type: crate::sys::c_chars(&st.f_fstypename),
            mount_point: crate::sys::c_chars(&st.f_mntonname),
        }
    }

    pub fn served_in_user_space(dir: BorrowedFd<'_>) -> bool {
        let mut st = MaybeUninit::<libc::statfs>::uninit();
        // SAFETY: `st` is writable for one `statfs`; `dir` is an open descriptor.
        if unsafe { libc::fstatfs(dir.as_raw_fd(), st.as_mut_ptr()) } != 0 {
            return false;
        }
        // SAFETY: `fstatfs` succeeded and filled the struct.
        let st = unsafe { st.assume_init() };
        // macfuse, osxfuse.
        crate::sys::c_chars(&st.f_fstypename).contains("fuse")
    }

    pub fn os_version() -> OsVersion {
        let version = sysctl_string(c"kern.osproductversion").unwrap_or_else(|| "unknown".into());
        OsVersion {
            name: format!("macOS {version}"),
            version,
        }
    }

    pub fn cpu_model() -> String {
        sysctl_string(c"machdep.cpu.brand_string").unwrap_or_else(|| std::env::consts::ARCH.into())
    }

    /// `sysctlbyname` for an `int` value.
    fn sysctl_int(name: &CStr) -> Option<libc::c_int> {
        let mut value: libc::c_int = 0;
        let mut len = std::mem::size_of::<libc::c_int>();
        // SAFETY: `value` is a writable `c_int` and `len` holds its size.
        let ret = unsafe {
            libc::sysctlbyname(
                name.as_ptr(),
                (&raw mut value).cast(),
                &mut len,
                std::ptr::null_mut(),
                0,
            )
        };
        (ret == 0 && len == std::mem::size_of::<libc::c_int>()).then_some(value)
    }

    /// `OPEN_MAX` of `<sys/syslimits.h>`: the ceiling older kernels enforce
    /// when `kern.maxfilesperproc` cannot be read.
    const OPEN_MAX: libc::rlim_t = 10240;

    /// The highest soft descriptor limit the kernel accepts: the hard limit
    /// (often `RLIM_INFINITY`), capped by `kern.maxfilesperproc`.
    pub fn fd_limit_ceiling(hard: libc::rlim_t) -> libc::rlim_t {
        let per_process = sysctl_int(c"kern.maxfilesperproc")
            .and_then(|n| libc::rlim_t::try_from(n).ok())
            .filter(|&n| n > 0)
            .unwrap_or(OPEN_MAX);
        hard.min(per_process)
    }
}

#[cfg(not(target_os = "macos"))]
mod imp {
    use super::{FsInfo, OsVersion};
    use std::os::fd::BorrowedFd;
    use std::path::Path;

    pub fn fs_info(dir: BorrowedFd<'_>, path: &Path) -> FsInfo {
        let dev = crate::sys::fstatat(dir, c".").map(|st| st.dev).ok();
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        super::mount_of(&mountinfo, dev, path).unwrap_or_else(|| FsInfo {
            fs_type: "unknown".into(),
            mount_point: "unknown".into(),
        })
    }

    pub fn served_in_user_space(dir: BorrowedFd<'_>) -> bool {
        use std::os::fd::AsRawFd;
        /// `FUSE_SUPER_MAGIC` of `<linux/magic.h>`.
        const FUSE: u64 = 0x6573_5546;
        let mut st = std::mem::MaybeUninit::<libc::statfs>::uninit();
        // SAFETY: `st` is writable for one `statfs`; `dir` is an open descriptor.
        if unsafe { libc::fstatfs(dir.as_raw_fd(), st.as_mut_ptr()) } != 0 {
            return false;
        }
        // SAFETY: `fstatfs` succeeded and filled the struct.
        let st = unsafe { st.assume_init() };
        // `f_type`'s width and sign differ between targets.
        #[allow(clippy::unnecessary_cast)]
        let magic = st.f_type as u64;
        magic == FUSE
    }

    pub fn os_version() -> OsVersion {
        let text = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
        super::parse_os_release(&text)
    }

    /// The highest soft descriptor limit the kernel accepts: the hard limit.
    pub fn fd_limit_ceiling(hard: libc::rlim_t) -> libc::rlim_t {
        hard
    }

    pub fn cpu_model() -> String {
        let text = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        text.lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                matches!(k.trim(), "model name" | "Model" | "cpu model")
                    .then(|| v.trim().to_string())
            })
            .unwrap_or_else(|| std::env::consts::ARCH.into())
    }
}

#[cfg_attr(target_os = "macos", allow(dead_code))]
/// Linux `major:minor` → `dev_t` as `fstat` reports it (glibc's `makedev`).
fn makedev(major: u64, minor: u64) -> u64 {
    ((major & 0xffff_f000) << 32)
        | ((major & 0x0000_0fff) << 8)
        | ((minor & 0xffff_ff00) << 12)
        | (minor & 0x0000_00ff)
}

#[cfg_attr(target_os = "macos", allow(dead_code))]
/// Undo mountinfo's octal escapes (`\040` is a space).
fn unescape_mount(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg_attr(target_os = "macos", allow(dead_code))]
/// The mount holding `path` in a `/proc/self/mountinfo` text: among the mounts
/// whose device is `dev` (when one is), the one with the longest mount point
/// that is a prefix of `path`.
pub(crate) fn mount_of(mountinfo: &str, dev: Option<u64>, path: &Path) -> Option<FsInfo> {
    let mut best: Option<(bool, usize, FsInfo)> = None;
    for line in mountinfo.lines() {
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let f: Vec<&str> = left.split(' ').collect();
        let r: Vec<&str> = right.split(' ').collect();
        if f.len() < 5 || r.is_empty() {
            continue;
        }
        let mount_point = unescape_mount(f[4]);
        if !path.starts_with(&mount_point) {
            continue;
        }
        let same_dev = match (dev, f[2].split_once(':')) {
            (Some(d), Some((ma, mi))) => match (ma.parse(), mi.parse()) {
                (Ok(ma), Ok(mi)) => makedev(ma, mi) == d,
                _ => false,
            },
            _ => false,
        };
        let key = (same_dev, mount_point.len());
        if best.as_ref().is_none_or(|(d, l, _)| key >= (*d, *l)) {
            let fs_type = r[0].to_string();
            best = Some((
                same_dev,
                mount_point.len(),
                FsInfo {
                    fs_type,
                    mount_point,
                },
            ));
        }
    }
    best.map(|(_, _, info)| info)
}

/// Every mount point of device `dev` in a `/proc/self/mountinfo` text: a
/// mount and the copies mount propagation made of it.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub fn mount_points_of(mountinfo: &str, dev: u64) -> Vec<std::path::PathBuf> {
    mountinfo
        .lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split(' ').collect();
            let (ma, mi) = f.get(2)?.split_once(':')?;
            let point = f.get(4)?;
            (makedev(ma.parse().ok()?, mi.parse().ok()?) == dev)
                .then(|| unescape_mount(point).into())
        })
        .collect()
}

#[cfg_attr(target_os = "macos", allow(dead_code))]
/// `VERSION_ID` and `PRETTY_NAME` of an `/etc/os-release` text.
pub(crate) fn parse_os_release(text: &str) -> OsVersion {
    let get = |key: &str| {
        text.lines().find_map(|l| {
            let v = l.strip_prefix(key)?.strip_prefix('=')?;
            Some(v.trim().trim_matches('"').to_string())
        })
    };
    let version = get("VERSION_ID").unwrap_or_else(|| "unknown".into());
    let name = get("PRETTY_NAME")
        .or_else(|| get("NAME"))
        .unwrap_or_else(|| "Linux".into());
    OsVersion { version, name }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "\
22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
30 22 0:26 / /tmp rw,nosuid shared:5 - tmpfs tmpfs rw,size=100k
31 22 0:27 / /mnt/my\\040disk rw shared:6 - xfs /dev/loop0 rw
";

    #[test]
    fn longest_prefix_wins() {
        let info = mount_of(MOUNTINFO, None, Path::new("/tmp/x/y")).unwrap();
        assert_eq!(info.fs_type, "tmpfs");
        assert_eq!(info.mount_point, "/tmp");
        let info = mount_of(MOUNTINFO, None, Path::new("/tmpfoo")).unwrap();
        assert_eq!(info.fs_type, "ext4", "/tmpfoo is not under /tmp");
    }

    #[test]
    fn mount_points_of_a_device_include_propagated_copies() {
        let info = format!("{MOUNTINFO}40 31 0:27 / /srv/copy rw shared:6 - xfs /dev/loop0 rw\n");
        let points = mount_points_of(&info, makedev(0, 27));
        assert_eq!(points, [Path::new("/mnt/my disk"), Path::new("/srv/copy")]);
        assert!(mount_points_of(&info, makedev(9, 9)).is_empty());
    }

    #[test]
    fn escaped_mount_points_and_device_match() {
        let info = mount_of(MOUNTINFO, None, Path::new("/mnt/my disk/a")).unwrap();
        assert_eq!(info.fs_type, "xfs");
        // A bind mount elsewhere: the device decides over the prefix.
        let info = mount_of(MOUNTINFO, Some(makedev(254, 0)), Path::new("/tmp/x")).unwrap();
        assert_eq!(info.fs_type, "ext4");
    }

    #[test]
    fn the_soft_descriptor_limit_is_raised_once_and_stays() {
        let first = raise_fd_limit().expect("getrlimit and setrlimit work");
        assert!(first.now >= first.before, "{first:?}");
        let again = raise_fd_limit().unwrap();
        assert_eq!(
            again.before, first.now,
            "the raised limit stayed: {again:?}"
        );
        assert_eq!(again.now, again.before, "nothing left to raise: {again:?}");
    }

    #[test]
    fn os_release() {
        let v = parse_os_release(
            "NAME=\"Debian\"\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n",
        );
        assert_eq!(v.version, "12");
        assert_eq!(v.name, "Debian GNU/Linux 12 (bookworm)");
        assert_eq!(parse_os_release("").version, "unknown");
    }
}
