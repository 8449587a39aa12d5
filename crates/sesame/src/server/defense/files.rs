//! Files the server creates that hold secrets (the generated development
//! secret, the SQLite database and its journals): readable by their owner
//! only, in folders only the owner can list.

use std::{fs, io, path::Path};

/// Creates `dir` and its missing parents, owner-only (0700 on Unix).
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

fn private_options() -> fs::OpenOptions {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}

/// Writes a new file, owner-only (0600 on Unix); fails if it exists.
pub fn write_private(path: &Path, contents: &str) -> io::Result<()> {
    write_private_bytes(path, contents.as_bytes())
}

/// [`write_private`] for bytes.
pub fn write_private_bytes(path: &Path, contents: &[u8]) -> io::Result<()> {
    use io::Write;
    private_options().open(path)?.write_all(contents)
}

/// Creates an empty owner-only file unless one is there. SQLite gives its
/// `-wal` and `-shm` files the mode of the database file.
pub fn ensure_private_file(path: &Path) -> io::Result<()> {
    match private_options().open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn created_files_and_folders_are_the_owners_only() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a/b");
        create_private_dir(&nested).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&nested), 0o700);
        let file = nested.join("secret");
        write_private(&file, "x").unwrap();
        assert_eq!(mode(&file), 0o600);
        assert!(write_private(&file, "y").is_err(), "never overwrites");
        let db = nested.join("db");
        ensure_private_file(&db).unwrap();
        ensure_private_file(&db).unwrap();
        assert_eq!(mode(&db), 0o600);
    }
}
