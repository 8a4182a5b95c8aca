//! The content-addressed store of stage outputs: one file per (stage, shard).
//!
//! This is the only crate that knows the on-disk format (bincode, zstd, the header) and
//! the cache's paths. A file is a header, then the payload: zstd of bincode (`legacy()`
//! with a size limit, so a corrupt length prefix is an error, not an abort). The header is
//! `MAGIC`, codec version, the key the file was stored under, the *output key* (the
//! fingerprint of the stage output the file stands for, which the next stage's key is
//! made of), payload length, xxh3 of the payload, and xxh3 of the header before it.
//! `output_key` reads the header alone, so a warm run can chain keys without decoding
//! outputs it does not need. Files are written to a temporary name in the same directory
//! and renamed, so a reader never sees half a file.
//!
//! Invariant: any bad file (truncated, bit-flipped, wrong version, foreign) reads as
//! `Lookup::Corrupt`, never as a panic or a wrong value; the caller recomputes.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

const MAGIC: &[u8; 8] = b"PITHCACH";
/// Bump when the header, compression or bincode config changes.
const CODEC_VERSION: u32 = 3;
const HEADER_LEN: usize = 8 + 4 + 32 + 32 + 8 + 8 + 8;
/// No cached value may decode to more than this: a corrupt length can't exhaust memory.
const DECODE_LIMIT: usize = 1 << 30;
/// zstd's level 1. Payloads of at least `WIDE_FROM` bytes (level 1's own window) get an
/// 8 MiB window and a 128 Ki-entry hash table: a shard's features JSON and keyword
/// candidates repeat across the whole payload (on the 5 MB slice: features JSON 11.0x
/// instead of 8.8x, compressed with 15% and decompressed with 10% fewer instructions).
/// The strip output (documents' texts, whose repeats, duplicate documents and site
/// chrome, lie far apart) also gets long-distance matching, with a minimum match of 32
/// bytes and 4 entries a bucket (zstd's defaults: 64, 8), which finds about as much for
/// less work: on the slice's strip output 4.79x instead of 4.52x (hash table 64 Ki, LDM
/// defaults), compressed with 10% fewer instructions, decompressed with 1% more. Any
/// parameters make the same format: files written with others read alike (the
/// decoder's window limit, 128 MiB, is well above this one).
const ZSTD_LEVEL: i32 = 1;
const WIDE_FROM: usize = 1 << 19;
const ZSTD_WINDOW_LOG: u32 = 23;
const ZSTD_HASH_LOG: u32 = 17;
const LDM_MIN_MATCH: u32 = 32;
const LDM_BUCKET_SIZE_LOG: u32 = 2;
/// The stages whose outputs get long-distance matching: those that hold documents' texts
/// (the strip output, which the pipeline rebuilds later stages' documents from, and the
/// texts of the near-duplicate candidates, mostly each other's repeats). Other
/// payloads (features JSON, keywords, sketches) repeat mostly within the window, where
/// level 1 finds the repeats without it, at about twice the speed: on the 200 MB bench
/// corpus the features JSON compressed 8.6x instead of 11.8x but at 776 instead of
/// 356 MB/s (level 1's own window against long-distance matching; the wide window since
/// gives 11.0x on the 5 MB slice, see `ZSTD_LEVEL`).
const FAR_REPEATS: &[&str] = &["strip", "dedup_pair_texts"];
/// A payload whose frame says it decompresses to at most this many times its size gets a
/// buffer of that size at once (a corrupt size can't make it allocate much more).
const MAX_UPFRONT_RATIO: u64 = 64;

fn bincode_config() -> impl bincode::config::Config {
    bincode::config::legacy().with_limit::<DECODE_LIMIT>()
}

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cache file {path}: {message}")]
    Corrupt { path: PathBuf, message: String },
    #[error("writing cache file {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
    #[error("encoding a value for {path}: {message}")]
    Encode { path: PathBuf, message: String },
    #[error("cache directory {path}: {source}")]
    Dir { path: PathBuf, source: io::Error },
}

/// A 256-bit content key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct Key(pub [u8; 32]);

impl Key {
    /// The key of a stage's output: its name, version, config and input.
    pub fn for_stage(stage: &str, version: u32, config: &impl Serialize, input: &Key) -> Key {
        let mut hasher = blake3::Hasher::new();
        hasher.update(stage.as_bytes());
        hasher.update(&[0]);
        hasher.update(&version.to_le_bytes());
        hasher.update(fingerprint(config).0.as_slice());
        hasher.update(&input.0);
        Key(*hasher.finalize().as_bytes())
    }

    pub fn hex(&self) -> String {
        blake3::Hash::from_bytes(self.0).to_hex().to_string()
    }
}

/// The content hash of any serialisable value (of its bincode encoding).
pub fn fingerprint<T: Serialize + ?Sized>(value: &T) -> Key {
    // Encoded into a buffer first, then hashed at once: bincode writes field by field, and
    // hashing those small writes one by one costs twice as much. An encode error
    // (impossible for our plain types) would only leave the hash of a prefix, which is
    // still a deterministic key.
    with_encoded(value, |encoded| Key(*blake3::hash(encoded.bytes).as_bytes()))
}

/// A value's bincode encoding, as far as it went, and the error that stopped it.
struct Encoded<'b> {
    bytes: &'b [u8],
    error: Option<String>,
}

/// Calls `f` with the encoding of `value`, made in a buffer each thread keeps (it grows
/// to the largest value encoded, not by doubling for each one).
fn with_encoded<T: Serialize + ?Sized, R>(value: &T, f: impl FnOnce(Encoded<'_>) -> R) -> R {
    thread_local! {
        static BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    BUF.with_borrow_mut(|buf| {
        buf.clear();
        let error = bincode::serde::encode_into_std_write(value, buf, bincode_config()).err().map(|e| e.to_string());
        let res = f(Encoded { bytes: buf, error });
        if buf.capacity() > 64 << 20 {
            *buf = Vec::new();
        }
        res
    })
}

/// What a lookup found.
#[derive(Debug)]
pub enum Lookup<T> {
    Hit(T),
    Miss,
    /// The file was there but unusable; it has been removed.
    Corrupt(CacheError),
}

/// A cache directory, or none (`--no-cache`): then every lookup misses and puts vanish.
#[derive(Debug, Clone)]
pub struct Cache {
    root: Option<PathBuf>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct StageUsage {
    pub stage: String,
    pub files: u64,
    pub bytes: u64,
}

impl Cache {
    pub fn disabled() -> Cache {
        Cache { root: None }
    }

    pub fn open(root: &Path) -> Result<Cache, CacheError> {
        fs::create_dir_all(root).map_err(|source| CacheError::Dir { path: root.to_owned(), source })?;
        Ok(Cache { root: Some(root.to_owned()) })
    }

    pub fn root(&self) -> Option<&Path> {
        self.root.as_deref()
    }

    fn path(&self, stage: &str, version: u32, key: &Key) -> Option<PathBuf> {
        let hex = key.hex();
        let root = self.root.as_ref()?;
        Some(root.join(format!("{stage}-v{version}")).join(&hex[..2]).join(format!("{hex}.bin.zst")))
    }

    /// The value stored under `key`, with its output key.
    pub fn get<T: DeserializeOwned>(&self, stage: &str, version: u32, key: &Key) -> Lookup<(T, Key)> {
        let Some(path) = self.path(stage, version, key) else { return Lookup::Miss };
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Lookup::Miss,
            Err(err) => return Lookup::Corrupt(CacheError::Corrupt { path, message: err.to_string() }),
        };
        Self::checked(path, decode(&bytes, key))
    }

    /// The payload stored under `key`, checked and decompressed but not decoded: a
    /// caller that reads a few fields of a large value decodes it with `Raw::decode` into
    /// a type that borrows its strings from the payload, without copying them.
    pub fn get_raw(&self, stage: &str, version: u32, key: &Key) -> Lookup<Raw> {
        let Some(path) = self.path(stage, version, key) else { return Lookup::Miss };
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Lookup::Miss,
            Err(err) => return Lookup::Corrupt(CacheError::Corrupt { path, message: err.to_string() }),
        };
        match checked_payload(&bytes, key).and_then(|(payload, output)| Ok((decompress(payload)?, output))) {
            Ok((raw, output)) => Lookup::Hit(Raw { path, raw, output }),
            Err(message) => Self::checked(path, Err(message)),
        }
    }

    /// The output key stored under `key`, from the file's header alone (its length is
    /// checked against the header; the payload is checked when it is read).
    pub fn output_key(&self, stage: &str, version: u32, key: &Key) -> Lookup<Key> {
        use std::io::Read;
        let Some(path) = self.path(stage, version, key) else { return Lookup::Miss };
        let mut file = match fs::File::open(&path) {
            Ok(file) => file,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Lookup::Miss,
            Err(err) => return Lookup::Corrupt(CacheError::Corrupt { path, message: err.to_string() }),
        };
        let mut header = [0u8; HEADER_LEN];
        let res = file.metadata().map_err(|e| e.to_string()).and_then(|meta| {
            let size = meta.len();
            if size < HEADER_LEN as u64 {
                return Err(format!("truncated header ({size} bytes)"));
            }
            file.read_exact(&mut header).map_err(|e| e.to_string())?;
            let (output, len) = read_header(&header, key)?;
            if size != HEADER_LEN as u64 + len {
                return Err(format!("file is {size} bytes, header says {}", HEADER_LEN as u64 + len));
            }
            Ok(output)
        });
        Self::checked(path, res)
    }

    fn checked<T>(path: PathBuf, res: Result<T, String>) -> Lookup<T> {
        match res {
            Ok(value) => Lookup::Hit(value),
            Err(message) => {
                // A bad file would fail every later run too: drop it so the recomputed
                // value can take its place.
                let _ = fs::remove_file(&path);
                Lookup::Corrupt(CacheError::Corrupt { path, message })
            }
        }
    }

    /// Stores `value` under `key`, with `output`, the key of the stage output it stands
    /// for (its `fingerprint`, or that of the value it can be rebuilt into).
    pub fn put<T: Serialize>(
        &self,
        stage: &str,
        version: u32,
        key: &Key,
        value: &T,
        output: &Key,
    ) -> Result<(), CacheError> {
        let Some(path) = self.path(stage, version, key) else { return Ok(()) };
        let payload = with_encoded(value, |encoded| compressed(&encoded, far_repeats(stage)));
        self.write(path, payload, key, output)
    }

    /// Stores `value` under `key` with its fingerprint as the output key, and returns
    /// that: `put` with `fingerprint(value)`, the value encoded once for both. Without a
    /// cache directory, only the fingerprint.
    pub fn put_own<T: Serialize>(
        &self,
        stage: &str,
        version: u32,
        key: &Key,
        value: &T,
    ) -> (Key, Result<(), CacheError>) {
        let Some(path) = self.path(stage, version, key) else { return (fingerprint(value), Ok(())) };
        let (output, payload) = with_encoded(value, |encoded| {
            (Key(*blake3::hash(encoded.bytes).as_bytes()), compressed(&encoded, far_repeats(stage)))
        });
        (output, self.write(path, payload, key, &output))
    }

    /// Writes a cache file: the header of `payload`, then the payload.
    fn write(
        &self,
        path: PathBuf,
        payload: Result<Vec<u8>, String>,
        key: &Key,
        output: &Key,
    ) -> Result<(), CacheError> {
        let payload = payload.map_err(|message| CacheError::Encode { path: path.clone(), message })?;
        let dir = path.parent().expect("cache paths have a parent");
        let write = || -> io::Result<()> {
            fs::create_dir_all(dir)?;
            let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
            tmp.write_all(&header(&payload, key, output))?;
            tmp.write_all(&payload)?;
            tmp.persist(&path).map_err(|err| err.error)?;
            Ok(())
        };
        write().map_err(|source| CacheError::Write { path: path.clone(), source })
    }

    /// Files and bytes per stage directory, sorted by stage.
    pub fn usage(&self) -> Result<Vec<StageUsage>, CacheError> {
        let Some(root) = &self.root else { return Ok(Vec::new()) };
        let dir_err = |source| CacheError::Dir { path: root.clone(), source };
        let mut res = Vec::new();
        for entry in fs::read_dir(root).map_err(dir_err)? {
            let entry = entry.map_err(dir_err)?;
            if !entry.file_type().map_err(dir_err)?.is_dir() || !is_stage_dir(&entry.file_name().to_string_lossy()) {
                continue;
            }
            let mut usage =
                StageUsage { stage: entry.file_name().to_string_lossy().into_owned(), ..Default::default() };
            for sub in fs::read_dir(entry.path()).map_err(dir_err)?.flatten() {
                for file in fs::read_dir(sub.path()).into_iter().flatten().flatten() {
                    if let Ok(meta) = file.metadata() {
                        usage.files += 1;
                        usage.bytes += meta.len();
                    }
                }
            }
            res.push(usage);
        }
        res.sort_by(|a, b| a.stage.cmp(&b.stage));
        Ok(res)
    }

    /// Removes every cached file (the `<stage>-v<N>` directories, nothing else a user may
    /// have put in the directory); returns the bytes freed.
    pub fn clean(&self) -> Result<u64, CacheError> {
        let Some(root) = &self.root else { return Ok(0) };
        let usage = self.usage()?;
        let freed = usage.iter().map(|u| u.bytes).sum();
        for usage in usage {
            let path = root.join(&usage.stage);
            fs::remove_dir_all(&path).map_err(|source| CacheError::Dir { path, source })?;
        }
        Ok(freed)
    }
}

/// A cached value's payload, decompressed and checked against its checksum, not yet
/// decoded (`Cache::get_raw`).
#[derive(Debug)]
pub struct Raw {
    path: PathBuf,
    raw: Vec<u8>,
    output: Key,
}

impl Raw {
    /// The output key stored with the value.
    pub fn output(&self) -> Key {
        self.output
    }

    /// The value, decoded as `T`, which may borrow from the payload: `&str` (checked to
    /// be UTF-8) or `&[u8]` where the value has a `String`, whose encoding is its
    /// bytes'. A payload that is not a `T` is corrupt and its file is removed, as
    /// `Cache::get` does.
    pub fn decode<'a, T: Deserialize<'a>>(&'a self) -> Lookup<T> {
        let res = match bincode::serde::borrow_decode_from_slice(&self.raw, bincode_config()) {
            Ok((value, used)) if used == self.raw.len() => Ok(value),
            Ok((_, used)) => Err(format!("{} trailing bytes after the value", self.raw.len() - used)),
            Err(err) => Err(err.to_string()),
        };
        Cache::checked(self.path.clone(), res)
    }
}

/// Writes `value` to a file of its own (a distributed run's task output), in the cache's
/// format under `key`: to a temporary name beside it, then renamed into place.
pub fn write_file<T: Serialize>(path: &Path, key: &Key, value: &T) -> Result<(), CacheError> {
    let bytes = encode(value, key, key).map_err(|message| CacheError::Encode { path: path.to_owned(), message })?;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let write = || -> io::Result<()> {
        fs::create_dir_all(dir)?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        tmp.write_all(&bytes)?;
        tmp.as_file().sync_all()?;
        tmp.persist(path).map_err(|err| err.error)?;
        Ok(())
    };
    write().map_err(|source| CacheError::Write { path: path.to_owned(), source })
}

/// Reads a file written by `write_file` under the same `key`; any other file (missing,
/// damaged, written under another key) is an error naming the path.
pub fn read_file<T: DeserializeOwned>(path: &Path, key: &Key) -> Result<T, CacheError> {
    let bytes =
        fs::read(path).map_err(|err| CacheError::Corrupt { path: path.to_owned(), message: err.to_string() })?;
    decode(&bytes, key)
        .map(|(value, _)| value)
        .map_err(|message| CacheError::Corrupt { path: path.to_owned(), message })
}

/// `<stage>-v<digits>`, the only directories this crate creates in the root.
fn is_stage_dir(name: &str) -> bool {
    name.rsplit_once("-v").is_some_and(|(stage, version)| {
        !stage.is_empty() && !version.is_empty() && version.bytes().all(|b| b.is_ascii_digit())
    })
}

/// A whole cache file in memory (`write_file`'s, the tests').
fn encode<T: Serialize>(value: &T, key: &Key, output: &Key) -> Result<Vec<u8>, String> {
    let payload = with_encoded(value, |encoded| compressed(&encoded, true))?;
    Ok(framed(&payload, key, output))
}

/// The payload of an encoded value: its encoding compressed, or the encode error.
fn compressed(encoded: &Encoded<'_>, far: bool) -> Result<Vec<u8>, String> {
    match &encoded.error {
        Some(error) => Err(error.clone()),
        None => compress(encoded.bytes, far),
    }
}

/// Whether `stage`'s outputs get long-distance matching (`FAR_REPEATS`).
fn far_repeats(stage: &str) -> bool {
    FAR_REPEATS.contains(&stage)
}

/// A cache file: the header, then `payload` as it is. Public for the fuzzer, which puts
/// arbitrary payloads behind valid headers; the cache itself writes only `encode`'s.
#[doc(hidden)]
pub fn framed(payload: &[u8], key: &Key, output: &Key) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(&header(payload, key, output));
    out.extend_from_slice(payload);
    out
}

/// The header of a cache file whose payload is `payload` (the fields `read_header` reads).
fn header(payload: &[u8], key: &Key, output: &Key) -> [u8; HEADER_LEN] {
    let mut out = [0u8; HEADER_LEN];
    out[..8].copy_from_slice(MAGIC);
    out[8..12].copy_from_slice(&CODEC_VERSION.to_le_bytes());
    out[12..44].copy_from_slice(&key.0);
    out[44..76].copy_from_slice(&output.0);
    out[76..84].copy_from_slice(&(payload.len() as u64).to_le_bytes());
    out[84..92].copy_from_slice(&xxhash_rust::xxh3::xxh3_64(payload).to_le_bytes());
    let checksum = xxhash_rust::xxh3::xxh3_64(&out[..92]);
    out[92..].copy_from_slice(&checksum.to_le_bytes());
    out
}

/// Checks a header; returns the output key and the payload's length.
fn read_header(header: &[u8; HEADER_LEN], key: &Key) -> Result<(Key, u64), String> {
    let (fields, checksum) = header.split_at(HEADER_LEN - 8);
    if &fields[..8] != MAGIC {
        return Err("not a pith cache file (bad magic)".to_owned());
    }
    let codec = u32::from_le_bytes(fields[8..12].try_into().expect("4 bytes"));
    if codec != CODEC_VERSION {
        return Err(format!("codec version {codec}, expected {CODEC_VERSION}"));
    }
    if u64::from_le_bytes(checksum.try_into().expect("8 bytes")) != xxhash_rust::xxh3::xxh3_64(fields) {
        return Err("header checksum mismatch".to_owned());
    }
    if fields[12..44] != key.0 {
        // A valid file under another key's name (copied or renamed by hand).
        return Err("stored under another key".to_owned());
    }
    let output = Key(fields[44..76].try_into().expect("32 bytes"));
    let len = u64::from_le_bytes(fields[76..84].try_into().expect("8 bytes"));
    Ok((output, len))
}

fn decode<T: DeserializeOwned>(bytes: &[u8], key: &Key) -> Result<(T, Key), String> {
    let (payload, output) = checked_payload(bytes, key)?;
    let raw = decompress(payload)?;
    let (value, used) = bincode::serde::decode_from_slice(&raw, bincode_config()).map_err(|e| e.to_string())?;
    if used != raw.len() {
        return Err(format!("{} trailing bytes after the value", raw.len() - used));
    }
    Ok((value, output))
}

/// A file's payload, checked against its header, and its output key.
fn checked_payload<'b>(bytes: &'b [u8], key: &Key) -> Result<(&'b [u8], Key), String> {
    let Some((header, payload)) = bytes.split_first_chunk::<HEADER_LEN>() else {
        return Err(format!("truncated header ({} bytes)", bytes.len()));
    };
    let (output, len) = read_header(header, key)?;
    if len != payload.len() as u64 {
        return Err(format!("payload is {} bytes, header says {len}", payload.len()));
    }
    let checksum = u64::from_le_bytes(header[84..92].try_into().expect("8 bytes"));
    if checksum != xxhash_rust::xxh3::xxh3_64(payload) {
        return Err("checksum mismatch".to_owned());
    }
    Ok((payload, output))
}

/// One zstd frame of `raw` (with its content size, which `decompress` reads), by a
/// context each thread keeps: level 1 alone for small payloads, with a wide window for
/// big ones, and with long-distance matching too for `far` ones (`ZSTD_LEVEL`).
fn compress(raw: &[u8], far: bool) -> Result<Vec<u8>, String> {
    use zstd::zstd_safe::CParameter;
    thread_local! {
        /// Small, wide, far.
        static COMPRESSORS: std::cell::RefCell<[Option<zstd::bulk::Compressor<'static>>; 3]> =
            const { std::cell::RefCell::new([None, None, None]) };
    }
    const WIDE: &[CParameter] = &[CParameter::WindowLog(ZSTD_WINDOW_LOG), CParameter::HashLog(ZSTD_HASH_LOG)];
    const FAR: &[CParameter] = &[
        CParameter::WindowLog(ZSTD_WINDOW_LOG),
        CParameter::HashLog(ZSTD_HASH_LOG),
        CParameter::EnableLongDistanceMatching(true),
        CParameter::LdmMinMatch(LDM_MIN_MATCH),
        CParameter::LdmBucketSizeLog(LDM_BUCKET_SIZE_LOG),
    ];
    let (kind, parameters) = match (far, raw.len() >= WIDE_FROM) {
        (true, _) => (2, FAR),
        (false, true) => (1, WIDE),
        (false, false) => (0, &[][..]),
    };
    COMPRESSORS.with_borrow_mut(|slots| {
        let compressor = match &mut slots[kind] {
            Some(compressor) => compressor,
            slot => {
                let mut compressor = zstd::bulk::Compressor::new(ZSTD_LEVEL).map_err(|e| e.to_string())?;
                for &parameter in parameters {
                    compressor.set_parameter(parameter).map_err(|e| e.to_string())?;
                }
                slot.insert(compressor)
            }
        };
        compressor.compress(raw).map_err(|e| e.to_string())
    })
}

fn decompress(payload: &[u8]) -> Result<Vec<u8>, String> {
    use std::io::Read;
    // `encode` writes one frame with its content size: decoded in one call, straight into
    // a buffer of that size, by a context each thread keeps. Any other payload (a size
    // missing or too large to trust up front) is decoded as a stream, bounded as it grows.
    if let Ok(Some(size)) = zstd::zstd_safe::get_frame_content_size(payload)
        && size <= (payload.len() as u64).saturating_mul(MAX_UPFRONT_RATIO).min(DECODE_LIMIT as u64)
    {
        thread_local! {
            static DECOMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> =
                const { std::cell::RefCell::new(None) };
        }
        return DECOMPRESSOR.with_borrow_mut(|slot| {
            let decompressor = match slot {
                Some(decompressor) => decompressor,
                None => slot.insert(zstd::bulk::Decompressor::new().map_err(|e| e.to_string())?),
            };
            let raw = decompressor.decompress(payload, size as usize).map_err(|e| e.to_string())?;
            if raw.len() as u64 != size {
                return Err(format!("payload decompresses to {} bytes, its frame says {size}", raw.len()));
            }
            Ok(raw)
        });
    }
    let decoder = zstd::stream::read::Decoder::new(payload).map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    decoder.take(DECODE_LIMIT as u64 + 1).read_to_end(&mut raw).map_err(|e| e.to_string())?;
    if raw.len() > DECODE_LIMIT {
        return Err("payload decompresses past the size limit".to_owned());
    }
    Ok(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Value {
        id: String,
        items: Vec<u32>,
        note: Option<String>,
    }

    const KEY: Key = Key([7; 32]);

    fn value() -> Value {
        Value { id: "doc".into(), items: (0..100).collect(), note: Some("x".into()) }
    }

    #[test]
    fn task_files_round_trip_and_refuse_another_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("work").join("map").join("00001.bin");
        write_file(&path, &KEY, &value()).unwrap();
        assert_eq!(read_file::<Value>(&path, &KEY).unwrap(), value());
        let err = read_file::<Value>(&path, &Key([8; 32])).unwrap_err().to_string();
        assert!(err.contains("00001.bin") && err.contains("another key"), "{err}");
        let missing = read_file::<Value>(&dir.path().join("nope.bin"), &KEY).unwrap_err().to_string();
        assert!(missing.contains("nope.bin"), "{missing}");
    }

    const OUTPUT: Key = Key([9; 32]);

    #[test]
    fn round_trip() {
        let bytes = encode(&value(), &KEY, &OUTPUT).unwrap();
        // `decompress` decodes a frame with its content size in one call.
        assert!(matches!(zstd::zstd_safe::get_frame_content_size(&bytes[HEADER_LEN..]), Ok(Some(_))));
        assert_eq!(decode::<Value>(&bytes, &KEY).unwrap(), (value(), OUTPUT));
        assert!(decode::<Value>(&bytes, &Key([1; 32])).is_err(), "another key's file");
    }

    #[test]
    fn payloads_without_a_content_size_decode_as_a_stream() {
        let raw = bincode::serde::encode_to_vec(value(), bincode_config()).unwrap();
        let mut encoder = zstd::stream::write::Encoder::new(Vec::new(), ZSTD_LEVEL).unwrap();
        encoder.write_all(&raw).unwrap();
        let payload = encoder.finish().unwrap();
        assert!(matches!(zstd::zstd_safe::get_frame_content_size(&payload), Ok(None)));
        let bytes = framed(&payload, &KEY, &OUTPUT);
        assert_eq!(decode::<Value>(&bytes, &KEY).unwrap(), (value(), OUTPUT));
    }

    #[test]
    fn every_truncation_and_bit_flip_is_an_error() {
        let bytes = encode(&value(), &KEY, &OUTPUT).unwrap();
        for len in 0..bytes.len() {
            assert!(decode::<Value>(&bytes[..len], &KEY).is_err(), "truncated to {len}");
        }
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x10;
            assert!(decode::<Value>(&bad, &KEY).is_err(), "flipped byte {i}");
        }
    }

    #[test]
    fn huge_length_prefix_is_an_error_not_an_abort() {
        // A bincode vector claiming 2^40 elements, wrapped in a valid header.
        let raw = (1u64 << 40).to_le_bytes().to_vec();
        let payload = zstd::bulk::compress(&raw, 3).unwrap();
        assert!(decode::<Vec<u64>>(&framed(&payload, &KEY, &OUTPUT), &KEY).is_err());
    }

    #[test]
    fn store_hit_miss_corrupt_clean() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let key = Key::for_stage("parse", 1, &"cfg", &fingerprint("input"));
        assert!(matches!(cache.get::<Value>("parse", 1, &key), Lookup::Miss));
        assert!(matches!(cache.output_key("parse", 1, &key), Lookup::Miss));
        cache.put("parse", 1, &key, &value(), &OUTPUT).unwrap();
        assert!(matches!(cache.get::<Value>("parse", 1, &key), Lookup::Hit((v, OUTPUT)) if v == value()));
        assert!(matches!(cache.output_key("parse", 1, &key), Lookup::Hit(OUTPUT)));
        assert!(matches!(cache.get::<Value>("parse", 2, &key), Lookup::Miss));

        let path = cache.path("parse", 1, &key).unwrap();
        let len = fs::metadata(&path).unwrap().len();
        fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(len / 2).unwrap();
        assert!(matches!(cache.get::<Value>("parse", 1, &key), Lookup::Corrupt(_)));
        assert!(matches!(cache.get::<Value>("parse", 1, &key), Lookup::Miss), "bad file removed");

        // The header alone tells a truncated payload and a damaged header.
        cache.put("parse", 1, &key, &value(), &OUTPUT).unwrap();
        fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(len - 1).unwrap();
        assert!(matches!(cache.output_key("parse", 1, &key), Lookup::Corrupt(_)));
        cache.put("parse", 1, &key, &value(), &OUTPUT).unwrap();
        let mut bytes = fs::read(&path).unwrap();
        bytes[50] ^= 1;
        fs::write(&path, &bytes).unwrap();
        assert!(matches!(cache.output_key("parse", 1, &key), Lookup::Corrupt(_)));
        assert!(matches!(cache.output_key("parse", 1, &key), Lookup::Miss), "bad file removed");

        cache.put("parse", 1, &key, &value(), &OUTPUT).unwrap();
        assert_eq!(cache.usage().unwrap()[0].files, 1);
        fs::create_dir(dir.path().join("my-notes")).unwrap();
        assert!(cache.clean().unwrap() > 0);
        assert!(cache.usage().unwrap().is_empty());
        assert!(dir.path().join("my-notes").exists(), "clean leaves what it did not make");
    }

    /// `n` pseudo-random bytes, which no compressor makes smaller.
    fn noise(n: usize) -> Vec<u8> {
        let mut state = 1u64;
        (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect()
    }

    #[test]
    fn big_payloads_are_searched_for_far_repeats() {
        // A random MiB twice: the second copy lies beyond level 1's own window, within
        // the wide one of big payloads; the long-distance matcher of the strip output and the
        // candidates' texts finds it too.
        let half = noise(1 << 20);
        let value = [half.clone(), half];
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let size = |stage: &str| {
            cache.put(stage, 1, &KEY, &value, &OUTPUT).unwrap();
            assert!(matches!(cache.get::<[Vec<u8>; 2]>(stage, 1, &KEY), Lookup::Hit((v, _)) if v == value));
            fs::metadata(cache.path(stage, 1, &KEY).unwrap()).unwrap().len()
        };
        for stage in ["strip", "dedup_pair_texts", "features"] {
            assert!(size(stage) < (1 << 20) + (1 << 16), "{stage}");
        }
        // A small payload is level 1 alone, and round-trips alike.
        let small = [noise(1 << 10), noise(1 << 10)];
        for stage in ["strip", "dedup_pair_texts", "features"] {
            cache.put(stage, 1, &KEY, &small, &OUTPUT).unwrap();
            assert!(matches!(cache.get::<[Vec<u8>; 2]>(stage, 1, &KEY), Lookup::Hit((v, _)) if v == small));
        }
    }

    #[test]
    fn a_value_stored_under_its_own_fingerprint_is_stored_as_put_stores_it() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let (output, stored) = cache.put_own("strip", 1, &KEY, &value());
        stored.unwrap();
        assert_eq!(output, fingerprint(&value()));
        let own = fs::read(cache.path("strip", 1, &KEY).unwrap()).unwrap();
        assert_eq!(own, encode(&value(), &KEY, &output).unwrap());
        cache.put("strip", 1, &KEY, &value(), &output).unwrap();
        assert_eq!(fs::read(cache.path("strip", 1, &KEY).unwrap()).unwrap(), own);
        assert!(matches!(cache.get::<Value>("strip", 1, &KEY), Lookup::Hit((v, o)) if v == value() && o == output));
        let (output, stored) = Cache::disabled().put_own("strip", 1, &KEY, &value());
        assert!(stored.is_ok() && output == fingerprint(&value()));
    }

    /// `Value` read by borrowing: its strings as `&str` and as bytes.
    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct ValueRef<'a> {
        id: &'a str,
        items: Vec<u32>,
        #[serde(borrow)]
        note: Option<&'a [u8]>,
    }

    #[test]
    fn raw_values_decode_by_borrowing_and_a_wrong_type_is_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        assert!(matches!(cache.get_raw("strip", 1, &KEY), Lookup::Miss));
        cache.put("strip", 1, &KEY, &value(), &OUTPUT).unwrap();
        let Lookup::Hit(raw) = cache.get_raw("strip", 1, &KEY) else { panic!("a hit") };
        assert_eq!(raw.output(), OUTPUT);
        let Lookup::Hit(borrowed) = raw.decode::<ValueRef<'_>>() else { panic!("decodes") };
        assert_eq!(borrowed, ValueRef { id: "doc", items: (0..100).collect(), note: Some(b"x") });
        assert!(matches!(raw.decode::<(String, u64)>(), Lookup::Corrupt(_)), "trailing bytes");
        assert!(matches!(cache.get_raw("strip", 1, &KEY), Lookup::Miss), "bad file removed");

        cache.put("strip", 1, &KEY, &value(), &OUTPUT).unwrap();
        let path = cache.path("strip", 1, &KEY).unwrap();
        let mut bytes = fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        fs::write(&path, &bytes).unwrap();
        assert!(matches!(cache.get_raw("strip", 1, &KEY), Lookup::Corrupt(_)));
        assert!(!path.exists(), "bad file removed");
    }

    #[test]
    fn keys_depend_on_every_part() {
        let input = fingerprint("input");
        let base = Key::for_stage("strip", 1, &"cfg", &input);
        assert_ne!(base, Key::for_stage("parse", 1, &"cfg", &input));
        assert_ne!(base, Key::for_stage("strip", 2, &"cfg", &input));
        assert_ne!(base, Key::for_stage("strip", 1, &"cfg2", &input));
        assert_ne!(base, Key::for_stage("strip", 1, &"cfg", &fingerprint("other")));
    }
}
