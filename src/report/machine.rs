//! The machine fingerprint of a report: OS, kernel, CPU, filesystem.

use crate::harness::TargetInfo;
use crate::report::schema::{Machine, OtherSide};
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
        other_side: target.other_side.as_ref().map(|o| OtherSide {
            fs_type: o.fs.fs_type.clone(),
            mount_point: o.fs.mount_point.clone(),
            target_dir: o.target_dir.display().to_string(),
        }),
    }
}

/// The default label: `<os>-<os_version>-<fs_type>-<hostname>`, made safe for
/// a file name (anything but letters, digits, `.`, `_` and `-` becomes `_`);
/// with two views the filesystem part is `<fs_type>-split-<other fs_type>`,
/// so that a split report never replaces the single view's.
pub fn default_label(m: &Machine) -> String {
    let fs = match &m.other_side {
        Some(o) => format!("{}-split-{}", m.fs_type, o.fs_type),
        None => m.fs_type.clone(),
    };
    sanitize_label(&format!("{}-{}-{}-{}", m.os, m.os_version, fs, m.hostname))
}

/// Checks a label given by the user and makes it a file name: it must not be
/// empty, name a directory (`/`), hold control characters, start with `.`
/// (hidden, and the prefix of temporary files), be `index` (the report page
/// `index.html`) or be longer than 200 bytes; other characters outside
/// `A-Za-z0-9._-` become `_`.
pub fn check_label(label: &str) -> Result<String, String> {
    if label.trim().is_empty() {
        return Err("the label is empty".into());
    }
    if label.contains(['/', '\\']) {
        return Err(format!("'{label}' is not a file name: no '/' in a label"));
    }
    if label.chars().any(char::is_control) {
        return Err(format!("{label:?} holds control characters"));
    }
    if label.starts_with('.') {
        return Err(format!("'{label}' starts with '.'"));
    }
    if label.len() > 200 {
        return Err(format!(
            "the label is {} bytes long; at most 200",
            label.len()
        ));
    }
    let clean = sanitize_label(label);
    if clean.eq_ignore_ascii_case("index") {
        return Err("'index' is the name of the report page index.html".into());
    }
    Ok(clean)
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
    fn bad_labels_are_refused() {
        for (label, want) in [
            ("", Err("empty")),
            ("  ", Err("empty")),
            ("index", Err("index.html")),
            ("INDEX", Err("index.html")),
            ("a/b", Err("no '/'")),
            ("..", Err("starts with '.'")),
            (".hidden", Err("starts with '.'")),
            ("a\u{1b}[31m", Err("control")),
            ("my host", Ok("my_host")),
            ("mac-10.15", Ok("mac-10.15")),
        ] {
            match (check_label(label), want) {
                (Ok(got), Ok(w)) => assert_eq!(got, w),
                (Err(e), Err(w)) => assert!(e.contains(w), "{label:?}: {e}"),
                (got, w) => panic!("{label:?}: {got:?}, want {w:?}"),
            }
        }
        assert!(check_label(&"x".repeat(201)).is_err());
    }

    #[test]
    fn a_label_of_two_views_names_both_filesystems() {
        let mut m = Machine {
            os: "linux".into(),
            os_version: "12".into(),
            os_name: String::new(),
            kernel: String::new(),
            arch: String::new(),
            cpu_model: String::new(),
            cpus: 1,
            fs_type: "fuse.bindfs".into(),
            mount_point: "/mnt".into(),
            target_dir: "/mnt".into(),
            hostname: "vm".into(),
            crate_version: String::new(),
            other_side: None,
        };
        assert_eq!(default_label(&m), "linux-12-fuse.bindfs-vm");
        m.other_side = Some(OtherSide {
            fs_type: "ext4".into(),
            mount_point: "/".into(),
            target_dir: "/srv".into(),
        });
        assert_eq!(default_label(&m), "linux-12-fuse.bindfs-split-ext4-vm");
    }

    #[test]
    fn labels_are_file_names() {
        assert_eq!(
            sanitize_label("linux-12-fuse.zombiefs-my host/x"),
            "linux-12-fuse.zombiefs-my_host_x"
        );
        assert_eq!(sanitize_label("../etc"), ".._etc");
    }
}
