//! Build script: a fingerprint of the sources and the locked dependencies,
//! `NEWSALERT_SOURCE_HASH`, which keys the rules cache
//! (`src/rulebook/cache.rs`): a compiled rule book is read back only by a
//! binary built from the same code, whatever its file's size or date
//! (reproducible builds give every file the same date).

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn main() {
    let mut files = Vec::new();
    collect(Path::new("src"), &mut files);
    files.sort();
    files.extend(["Cargo.toml", "Cargo.lock"].map(PathBuf::from));
    let mut h = DefaultHasher::new();
    for file in &files {
        file.hash(&mut h);
        std::fs::read(file).unwrap_or_default().hash(&mut h);
    }
    println!("cargo:rustc-env=NEWSALERT_SOURCE_HASH={:016x}", h.finish());
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=Cargo.toml");
    println!("cargo:rerun-if-changed=Cargo.lock");
}
