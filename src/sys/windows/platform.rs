//! What the reports say about a Windows machine: the filesystem of a
//! directory (`GetVolumeInformationByHandleW`: `NTFS`, `ReFS`, `FAT32`…) and
//! its volume, the Windows version and build (`RtlGetVersion`, which the
//! compatibility shims of `GetVersionEx` do not touch), the CPU model.
//! Nothing here runs on the hot path.

use std::os::windows::io::AsRawHandle;
use std::path::Path;

use windows_sys::Win32::Storage::FileSystem as fs;
use windows_sys::Win32::System::SystemInformation::OSVERSIONINFOW;

use super::{BorrowedFd, SysResult};
pub use super::{FdLimit, FsInfo, OsVersion};

/// Windows has no soft limit on handles to raise: both figures are the
/// per-process ceiling.
pub fn raise_fd_limit() -> SysResult<FdLimit> {
    let n = super::descriptor_limit()?;
    Ok(FdLimit { before: n, now: n })
}

/// Whether `dir`'s file system is served by a process on this machine: not
/// looked for on Windows, where a WinFsp drive counts as any other.
pub fn served_in_user_space(_dir: BorrowedFd<'_>) -> bool {
    false
}

/// The file system of `dir` and the root of its volume (`C:\`).
pub fn fs_info(dir: BorrowedFd<'_>, path: &Path) -> FsInfo {
    let mut name = [0u16; 64];
    // SAFETY: `name` is writable for its length in UTF-16 units; every other
    // out-pointer is null, which the call allows; the handle is borrowed.
    let ok = unsafe {
        fs::GetVolumeInformationByHandleW(
            dir.handle.as_raw_handle(),
            std::ptr::null_mut(),
            0,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            name.as_mut_ptr(),
            name.len() as u32,
        )
    };
    let fs_type = if ok == 0 {
        "unknown".to_string()
    } else {
        let n = name.iter().position(|&c| c == 0).unwrap_or(name.len());
        String::from_utf16_lossy(&name[..n])
    };
    let text = path.to_string_lossy();
    let plain = text.strip_prefix(r"\\?\").unwrap_or(&text);
    let mount_point = match plain.get(..3) {
        Some(root) if root.ends_with(":\\") => root.to_string(),
        _ => plain.to_string(),
    };
    FsInfo {
        fs_type,
        mount_point,
    }
}

#[link(name = "ntdll")]
unsafe extern "system" {
    /// The true OS version, whatever the program's manifest says.
    fn RtlGetVersion(info: *mut OSVERSIONINFOW) -> i32;
}

/// Major, minor and build number (`10, 0, 26100`); zeros if unknown.
pub fn version_numbers() -> (u32, u32, u32) {
    // SAFETY: `OSVERSIONINFOW` is plain data: all zeros is a valid value.
    let mut info: OSVERSIONINFOW = unsafe { std::mem::zeroed() };
    info.dwOSVersionInfoSize = size_of::<OSVERSIONINFOW>() as u32;
    // SAFETY: `info` is writable and its size field is set, as the call requires.
    if unsafe { RtlGetVersion(&mut info) } != 0 {
        return (0, 0, 0);
    }
    (info.dwMajorVersion, info.dwMinorVersion, info.dwBuildNumber)
}

/// The version (`10.0.26100`) and its name (`Windows 11 (build 26100)`:
/// Windows 11 still says 10.0, and is told apart by its build, 22000 on).
pub fn os_version() -> OsVersion {
    let (major, minor, build) = version_numbers();
    let family = match (major, minor, build) {
        (10, _, b) if b >= 22000 => "Windows 11",
        (10, ..) => "Windows 10",
        (6, 3, _) => "Windows 8.1",
        (6, 2, _) => "Windows 8",
        (6, 1, _) => "Windows 7",
        _ => "Windows",
    };
    OsVersion {
        version: format!("{major}.{minor}.{build}"),
        name: format!("{family} (build {build})"),
    }
}

/// The CPU model (`PROCESSOR_IDENTIFIER`), or the architecture.
pub fn cpu_model() -> String {
    std::env::var("PROCESSOR_IDENTIFIER")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| std::env::consts::ARCH.into())
}
