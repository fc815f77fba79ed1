//! A survey: the grid run on several directories, each tagged by its
//! filesystem so that no two reports or Criterion groups share a name.

use std::path::{Path, PathBuf};

use crate::report::machine;
use crate::report::schema::Machine;
use crate::sys::{self, AsFd, platform, platform::FsInfo};

/// One directory of a survey: its filesystem and the tag that names its
/// report and its Criterion groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyTarget {
    pub dir: PathBuf,
    pub fs_type: String,
    pub mount_point: String,
    /// With two views: the other path to `dir`, and its filesystem type.
    pub other_side: Option<(PathBuf, String)>,
    /// The filesystem type (with two views `<type>-split-<other type>`),
    /// unique among the survey's directories ([`survey_tags`]).
    pub tag: String,
}

/// The filesystem of `dir`, `unknown` when it cannot be opened.
fn fs_info_of(dir: &Path) -> FsInfo {
    let canonical = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    match sys::open_dir(&canonical) {
        Ok(fd) => platform::fs_info(fd.as_fd(), &canonical),
        Err(_) => FsInfo {
            fs_type: "unknown".into(),
            mount_point: "unknown".into(),
        },
    }
}

/// The filesystem of each directory, tagged so that no two share a name;
/// `other_sides` (empty, or one per directory) pairs each with its other view.
pub fn survey_targets(dirs: &[PathBuf], other_sides: &[PathBuf]) -> Vec<SurveyTarget> {
    let infos: Vec<FsInfo> = dirs.iter().map(|d| fs_info_of(d)).collect();
    let others: Vec<Option<(PathBuf, String)>> = (0..dirs.len())
        .map(|i| {
            other_sides
                .get(i)
                .map(|o| (o.clone(), fs_info_of(o).fs_type))
        })
        .collect();
    let kinds: Vec<String> = infos
        .iter()
        .zip(&others)
        .map(|(info, other)| match other {
            Some((_, other_fs)) => format!("{}-split-{other_fs}", info.fs_type),
            None => info.fs_type.clone(),
        })
        .collect();
    let tags = survey_tags(
        &kinds
            .iter()
            .zip(&infos)
            .zip(dirs)
            .map(|((k, i), d)| (k.as_str(), i.mount_point.as_str(), d.as_path()))
            .collect::<Vec<_>>(),
    );
    dirs.iter()
        .zip(infos)
        .zip(others)
        .zip(tags)
        .map(|(((dir, info), other_side), tag)| SurveyTarget {
            dir: dir.clone(),
            fs_type: info.fs_type,
            mount_point: info.mount_point,
            other_side,
            tag,
        })
        .collect()
}

/// A path as a label part: `/mnt/a` → `mnt_a`, `/` → `root`.
fn path_tag(path: &str) -> String {
    let t = path.trim_matches('/').replace('/', "_");
    if t.is_empty() { "root".into() } else { t }
}

/// Tags of `(fs_type, mount_point, dir)` triples: the filesystem type where it
/// is unique; else the type and the mount point (`ext4-mnt_a`); else the type
/// and the directory; else with the position appended. Never two equal.
pub fn survey_tags(fs: &[(&str, &str, &Path)]) -> Vec<String> {
    let mut tags: Vec<String> = fs.iter().map(|(t, _, _)| t.to_string()).collect();
    let refine: [&dyn Fn(usize) -> String; 3] = [
        &|i| format!("{}-{}", fs[i].0, path_tag(fs[i].1)),
        &|i| format!("{}-{}", fs[i].0, path_tag(&fs[i].2.display().to_string())),
        &|i| format!("{}-{}", fs[i].0, i + 1),
    ];
    for step in refine {
        let shared: Vec<bool> = (0..tags.len())
            .map(|i| tags.iter().filter(|t| **t == tags[i]).count() > 1)
            .collect();
        for (i, shared) in shared.into_iter().enumerate() {
            if shared {
                tags[i] = step(i);
            }
        }
    }
    tags.into_iter()
        .map(|t| machine::sanitize_label(&t))
        .collect()
}

/// The label of one directory's report. With one directory: `base`, else the
/// default `<os>-<os_version>-<fs_type>-<hostname>`. With several, each label
/// carries the directory's tag, so their reports never overwrite each other:
/// `<base>-<tag>`, else the default label with the tag for the filesystem type.
pub fn survey_label(base: Option<&str>, m: &Machine, tag: &str, several: bool) -> String {
    match (base, several) {
        (Some(b), false) => machine::sanitize_label(b),
        (None, false) => machine::default_label(m),
        (Some(b), true) => machine::sanitize_label(&format!("{b}-{tag}")),
        // The tag already says which views.
        (None, true) => machine::default_label(&Machine {
            fs_type: tag.into(),
            other_side: None,
            ..m.clone()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn survey_tags_are_unique() {
        let p = Path::new;
        assert_eq!(
            survey_tags(&[
                ("xfs", "/mnt/x", p("/mnt/x")),
                ("btrfs", "/mnt/b", p("/mnt/b"))
            ]),
            vec!["xfs", "btrfs"]
        );
        assert_eq!(
            survey_tags(&[
                ("ext4", "/", p("/tmp")),
                ("ext4", "/mnt/a", p("/mnt/a")),
                ("tmpfs", "/run", p("/run")),
            ]),
            vec!["ext4-root", "ext4-mnt_a", "tmpfs"]
        );
        assert_eq!(
            survey_tags(&[("ext4", "/", p("/tmp/a")), ("ext4", "/", p("/tmp/b"))]),
            vec!["ext4-tmp_a", "ext4-tmp_b"]
        );
        assert_eq!(
            survey_tags(&[("fuse", "/m", p("/m/a_b")), ("fuse", "/m", p("/m/a/b"))]),
            vec!["fuse-1", "fuse-2"]
        );
    }

    #[test]
    fn survey_labels_carry_the_tag() {
        let m = Machine {
            os: "linux".into(),
            os_version: "12".into(),
            fs_type: "fuse.sshfs".into(),
            os_name: "Debian GNU/Linux 12".into(),
            kernel: "6.1".into(),
            arch: "x86_64".into(),
            cpu_model: "cpu".into(),
            cpus: 2,
            mount_point: "/mnt".into(),
            target_dir: "/mnt".into(),
            hostname: "vm".into(),
            crate_version: "0.1.0".into(),
            other_side: None,
        };
        assert_eq!(
            survey_label(None, &m, "fuse.sshfs", false),
            "linux-12-fuse.sshfs-vm"
        );
        assert_eq!(survey_label(Some("a b"), &m, "x", false), "a_b");
        assert_eq!(
            survey_label(Some("mac"), &m, "apfs-root", true),
            "mac-apfs-root"
        );
        assert_eq!(
            survey_label(None, &m, "ext4-mnt_a", true),
            "linux-12-ext4-mnt_a-vm"
        );
    }
}
