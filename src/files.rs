//! Files Engajar writes hold customer data (the SQLite database and its journal, uploads
//! with CPFs, the session key): only the account that runs it may read them.

use std::path::Path;

/// From now on, files this process creates are 0600 and folders 0700.
pub fn restrict_new_files() {
    unsafe extern "C" {
        fn umask(mask: u32) -> u32;
    }
    // SAFETY: umask only replaces the process's file-creation mask; it cannot fail.
    unsafe {
        umask(0o077);
    }
}

/// Tightens what an earlier version may have created readable by everyone.
pub fn restrict_existing(paths: &[&Path]) {
    use std::os::unix::fs::PermissionsExt;
    for path in paths {
        let Ok(meta) = std::fs::metadata(path) else {
            continue;
        };
        let mode = if meta.is_dir() { 0o700 } else { 0o600 };
        if meta.permissions().mode() & 0o077 != 0
            && let Err(e) = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        {
            tracing::warn!(path = %path.display(), error = %e, "cannot restrict permissions");
        }
    }
}
