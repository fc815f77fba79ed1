//! The machine fingerprint of a report: OS, kernel, CPU, filesystem.

use crate::harness::TargetInfo;
use crate::report::schema::Machine;
use crate::sys::{self, platform};

/// Describes this machine and the filesystem of `target`.
pub fn fingerprint(target: &TargetInfo) -> Machine {
    let uname = sys::uname();
    let os = platform::os_version();
    Machine {
        os: std::env::consts::OS.into(),
        os_version: os.version,
        os_name: os.name,
        kernel: uname.release,
        arch: std::env::consts::ARCH.into(),
        cpu_model: platform::cpu_model(),
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get() as u32),
        fs_type: target.fs.fs_type.clone(),
        mount_point: target.fs.mount_point.clone(),
        target_dir: target.target_dir.display().to_string(),
        hostname: uname.nodename,
        crate_version: env!("CARGO_PKG_VERSION").into(),
    }
}

/// The default label: `<os>-<os_version>-<fs_type>-<hostname>`, made safe for
/// a file name (anything but letters, digits, `.`, `_` and `-` becomes `_`).
pub fn default_label(m: &Machine) -> String {
    sanitize_label(&format!(
        "{}-{}-{}-{}",
        m.os, m.os_version, m.fs_type, m.hostname
    ))
}

/// Makes a label safe for a file name.
pub fn sanitize_label(label: &str) -> String {
    label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_file_names() {
        assert_eq!(
            sanitize_label("linux-12-fuse.zombiefs-my host/x"),
            "linux-12-fuse.zombiefs-my_host_x"
        );
        assert_eq!(sanitize_label("../etc"), ".._etc");
    }
}
