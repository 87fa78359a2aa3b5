//! The machine's boot id, read at the edge (the codec only stores it).

use crate::model::BootId;

/// The identity of the current boot, or `None` where the platform offers none (the caller
/// then resumes from the durable snapshot, which is always safe).
///
/// - Linux and Android: `/proc/sys/kernel/random/boot_id`, a random UUID the kernel picks
///   at each boot.
/// - macOS and iOS: `sysctl -n kern.bootsessionuuid`, the same idea.
/// - FreeBSD, NetBSD, OpenBSD, DragonFly: `sysctl -n kern.boottime`, the boot time,
///   which differs between boots.
/// - Windows and others: `None`; std exposes no boot identity there.
///
/// ```
/// let id = oss_ckpt::fs::boot_id();
/// if cfg!(target_os = "linux") {
///     // A UUID: 36 bytes, and the same on every call within this boot.
///     assert_eq!(id.as_ref().map(|id| id.as_bytes().len()), Some(36));
///     assert_eq!(oss_ckpt::fs::boot_id(), id);
/// }
/// ```
pub fn boot_id() -> Option<BootId> {
    let text = read_boot_text()?;
    BootId::new(text.trim().as_bytes().to_vec())
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn read_boot_text() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()
}

#[cfg(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly"
))]
fn read_boot_text() -> Option<String> {
    let name = if cfg!(any(target_os = "macos", target_os = "ios")) {
        "kern.bootsessionuuid"
    } else {
        "kern.boottime"
    };
    let output = std::process::Command::new("sysctl")
        .args(["-n", name])
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    String::from_utf8(output.stdout).ok()
}

#[cfg(not(any(
    target_os = "linux",
    target_os = "android",
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly"
)))]
fn read_boot_text() -> Option<String> {
    None
}
