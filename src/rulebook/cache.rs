//! A cache of compiled rule books on disk, so that a large rules file is
//! parsed and compiled once, not at every start of `match`, `backtest` or
//! `run`, nor at every reload of an unchanged file.
//!
//! What is cached: the rules, the compiled [`Matcher`] (less the
//! gazetteer's context tables, put back from the gazetteer on load) and the
//! warnings of the rules' own checks. Subscribers and custom regions are
//! always read from the file (they are small). An entry is used only when
//! its key matches: a hash of the whole rules file text and of the build
//! (version, payload format, and a fingerprint of the sources and locked
//! dependencies made by `build.rs`), so an edited file or a binary built
//! from other code compiles afresh. One file per rules path
//! (`rules-<hash of the path>.bin` in `rules.cache_dir`), replaced
//! atomically (written aside, then renamed), so instances sharing a
//! directory never read half a file. The payload carries its length and
//! checksum: a truncated or damaged entry is a miss, never a wrong matcher.
//! Only rule books of at least `rules.cache_min_rules` rules are cached:
//! compiling a few hundred rules is faster than reading them back. A
//! directory keeps at most [`MAX_ENTRIES`] entries (the oldest written go
//! first).
//!
//! Any failure to read or write the cache (no such directory, read-only
//! file system, another build's entry) falls back to compiling and never
//! stops loading; it is logged at debug level, except the first entry
//! that cannot be written (warn: every start compiles then).

use super::{Diagnostic, Rule};
use crate::rules::Matcher;
use crate::settings::RulesSettings;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};
use xxhash_rust::xxh3::{Xxh3, xxh3_64};

/// First bytes of a cache file; the number is the payload format.
const MAGIC: &[u8; 8] = b"NARULES1";
/// Largest payload read back (a corrupt length cannot make it allocate more).
const MAX_PAYLOAD: u64 = 4 << 30;
/// Entries kept in a cache directory: writing one more removes the oldest
/// (`backtest --rules /tmp/candidate-….toml` would otherwise leave one per
/// file tried).
const MAX_ENTRIES: usize = 8;
/// A half-written entry (`.tmp-<pid>`) older than this was left by a
/// process that died while writing it.
const STALE_TMP: std::time::Duration = std::time::Duration::from_secs(600);

/// Where compiled rule books are kept, and from which size on.
#[derive(Debug, Clone)]
pub struct RuleCache {
    dir: PathBuf,
    min_rules: usize,
}

/// What is written: the same shape as [`Stored`], borrowed.
#[derive(Serialize)]
struct StoredRef<'a> {
    rules: &'a [Rule],
    matcher: &'a Matcher,
    warnings: &'a [Diagnostic],
}

/// What is read back.
#[derive(Deserialize)]
pub(super) struct Stored {
    pub rules: Vec<Rule>,
    pub matcher: Matcher,
    pub warnings: Vec<Diagnostic>,
}

impl RuleCache {
    /// A cache in `dir` for rule books of at least `min_rules` rules.
    pub fn new(dir: impl Into<PathBuf>, min_rules: usize) -> RuleCache {
        RuleCache {
            dir: dir.into(),
            min_rules,
        }
    }

    /// The cache `rules.cache_dir` asks for: `"off"` none; empty the
    /// user's cache directory (`$XDG_CACHE_HOME/newsalert`, else
    /// `$HOME/.cache/newsalert`; none when neither is set).
    pub fn from_settings(rules: &RulesSettings) -> Option<RuleCache> {
        let dir = match rules.cache_dir.as_str() {
            "off" => return None,
            "" => default_dir()?,
            dir => PathBuf::from(dir),
        };
        Some(RuleCache::new(dir, rules.cache_min_rules))
    }

    /// Whether a rule book of `rules` rules is worth caching.
    pub(super) fn wants(&self, rules: usize) -> bool {
        rules >= self.min_rules
    }

    /// The cache key of a rules file whose text is `text`, for this build.
    pub(super) fn key(text: &str) -> u128 {
        let mut h = Xxh3::new();
        h.update(env!("CARGO_PKG_VERSION").as_bytes());
        h.update(MAGIC);
        h.update(env!("NEWSALERT_SOURCE_HASH").as_bytes());
        h.update(text.as_bytes());
        h.digest128()
    }

    fn file_for(&self, rules_path: &Path) -> PathBuf {
        let path = std::fs::canonicalize(rules_path).unwrap_or_else(|_| rules_path.to_path_buf());
        let name = xxh3_64(path.as_os_str().as_encoded_bytes());
        self.dir.join(format!("rules-{name:016x}.bin"))
    }

    /// The entry for `rules_path` if it was stored under `key`.
    pub(super) fn read(&self, rules_path: &Path, key: u128) -> Option<Stored> {
        let file = self.file_for(rules_path);
        match read_entry(&file, key) {
            Ok(Some(stored)) => {
                tracing::debug!(cache = %file.display(), "compiled rules read from the cache");
                Some(stored)
            }
            Ok(None) => None,
            Err(e) => {
                tracing::debug!(cache = %file.display(), "rules cache not used: {e}");
                None
            }
        }
    }

    /// Store a compiled rule book for `rules_path` under `key`.
    pub(super) fn write(
        &self,
        rules_path: &Path,
        key: u128,
        rules: &[Rule],
        matcher: &Matcher,
        warnings: &[Diagnostic],
    ) {
        let file = self.file_for(rules_path);
        let stored = StoredRef {
            rules,
            matcher,
            warnings,
        };
        if let Err(e) = write_entry(&self.dir, &file, key, &stored) {
            // Once at warn: an operator should learn that every start
            // compiles; then at debug.
            static WARNED: std::sync::atomic::AtomicBool =
                std::sync::atomic::AtomicBool::new(false);
            if WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
                tracing::debug!(cache = %file.display(), "rules cache not written: {e}");
            } else {
                tracing::warn!(cache = %file.display(), "rules cache not written: {e}; the rules are compiled at every start (set rules.cache_dir to a writable directory, or \"off\")");
            }
        }
        prune(&self.dir, &file);
    }
}

/// Keep the [`MAX_ENTRIES`] newest entries of `dir` (`kept` always) and
/// remove stale half-written ones. Best effort: errors are ignored.
fn prune(dir: &Path, kept: &Path) {
    let Ok(listing) = std::fs::read_dir(dir) else {
        return;
    };
    let now = std::time::SystemTime::now();
    let mut entries = Vec::new();
    for entry in listing.flatten() {
        let (path, name) = (entry.path(), entry.file_name());
        let name = name.to_string_lossy();
        let modified = entry
            .metadata()
            .and_then(|m| m.modified())
            .unwrap_or(std::time::UNIX_EPOCH);
        if !name.starts_with("rules-") {
            continue;
        }
        if name.contains(".tmp-") {
            if now
                .duration_since(modified)
                .is_ok_and(|age| age > STALE_TMP)
            {
                let _ = std::fs::remove_file(&path);
            }
        } else if name.ends_with(".bin") && path != kept {
            entries.push((modified, path));
        }
    }
    entries.sort();
    let excess = (entries.len() + 1).saturating_sub(MAX_ENTRIES);
    for (_, path) in entries.into_iter().take(excess) {
        let _ = std::fs::remove_file(path);
    }
}

fn default_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|d| !d.is_empty())
                .map(|h| PathBuf::from(h).join(".cache"))
        })?;
    Some(base.join("newsalert"))
}

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_fixed_int_encoding()
}

fn invalid(e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e.to_string())
}

/// Counts and hashes what goes through it.
struct Hashing<T> {
    inner: T,
    hash: Xxh3,
    len: u64,
}

impl<T> Hashing<T> {
    fn new(inner: T) -> Hashing<T> {
        Hashing {
            inner,
            hash: Xxh3::new(),
            len: 0,
        }
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
}

/// Header: magic, key, payload length, payload checksum; then the payload.
fn write_entry(dir: &Path, file: &Path, key: u128, stored: &StoredRef<'_>) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let tmp = file.with_extension(format!("tmp-{}", std::process::id()));
    let written = (|| {
        // The payload is encoded once, hashed on its way to the file; the
        // header (length, checksum) is written over its placeholder after.
        let mut f = File::create(&tmp)?;
        f.write_all(&[0; HEADER])?;
        let mut out = BufWriter::new(Hashing::new(f));
        bincode::serde::encode_into_std_write(stored, &mut out, config()).map_err(invalid)?;
        let Hashing {
            inner: mut f,
            hash,
            len,
        } = out.into_inner().map_err(|e| e.into_error())?;
        f.seek(io::SeekFrom::Start(0))?;
        f.write_all(&header(key, len, hash.digest()))?;
        drop(f);
        std::fs::rename(&tmp, file)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// Bytes of the header: magic, key, payload length, payload checksum.
const HEADER: usize = 8 + 16 + 8 + 8;

fn header(key: u128, len: u64, sum: u64) -> [u8; HEADER] {
    let mut h = [0; HEADER];
    h[..8].copy_from_slice(MAGIC);
    h[8..24].copy_from_slice(&key.to_le_bytes());
    h[24..32].copy_from_slice(&len.to_le_bytes());
    h[32..].copy_from_slice(&sum.to_le_bytes());
    h
}

/// The entry in `file` if it is whole and stored under `key`.
fn read_entry(file: &Path, key: u128) -> io::Result<Option<Stored>> {
    let mut f = match File::open(file) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut header = [0u8; HEADER];
    f.read_exact(&mut header)
        .map_err(|_| invalid("short header"))?;
    let u64_at = |at: usize| u64::from_le_bytes(header[at..at + 8].try_into().unwrap_or([0; 8]));
    let stored_key = u128::from_le_bytes(header[8..24].try_into().unwrap_or([0; 16]));
    if &header[..8] != MAGIC || stored_key != key {
        return Ok(None);
    }
    let (len, sum) = (u64_at(24), u64_at(32));
    if len > MAX_PAYLOAD || f.metadata()?.len() != header.len() as u64 + len {
        return Err(invalid("payload length does not match the file"));
    }
    let mut payload = Hashing::new(f.take(len));
    let stored: Stored =
        bincode::serde::decode_from_std_read(&mut BufReader::new(&mut payload), config())
            .map_err(invalid)?;
    if payload.len != len || payload.hash.digest() != sum {
        return Err(invalid("checksum mismatch"));
    }
    Ok(Some(stored))
}

#[cfg(test)]
mod tests;
