//! Finding input files and reading them into shards of raw documents.
//!
//! A shard is a run of consecutive documents. Its boundaries depend only on the files
//! themselves (a JSONL file is cut every `SHARD_RECORDS` lines; a run of plain files is
//! cut before a file whose path hash hits a mask, or when it grows too big), so adding a
//! file to a corpus changes the shard that holds it, not every shard after it.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use pith_types::{Diag, RawDoc, Source};
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64;

/// JSONL records per shard.
const SHARD_RECORDS: usize = 2048;
/// Plain files per shard, at most.
const SHARD_FILES: usize = 512;
/// Raw bytes per shard, at most (a single larger document makes a shard of its own).
const SHARD_BYTES: u64 = 32 << 20;
/// A run of plain files is cut before a file whose path hash has these bits clear.
const FILE_CUT_MASK: u64 = 0x1f;
/// A file is not text when more than this share of its characters are invalid UTF-8 ...
const MAX_INVALID_UTF8_SHARE: f64 = 0.05;
/// ... and there are more than this many of them (a short text with one stray Latin-1
/// byte is text, repaired).
const MAX_INVALID_UTF8_FEW: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One document per file.
    Text,
    /// One document per line.
    Jsonl(Compression),
}

#[derive(Debug, Clone)]
pub enum Location {
    File(PathBuf),
    /// Standard input, read once at start (it cannot be read twice).
    Stdin(Arc<Vec<u8>>),
}

#[derive(Debug, Clone)]
pub struct InputFile {
    pub location: Location,
    /// The path relative to the input argument it came from; `-` for stdin.
    pub rel: String,
    pub format: Format,
    pub size: u64,
}

/// One input item in order: a document, or a part of an input that could not be read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Entry {
    Doc(RawDoc),
    Unreadable { source: Source, error: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawShard {
    pub entries: Vec<Entry>,
    pub bytes: u64,
    /// Entries whose id the reader renamed (`unique_id`), with the id the input gave.
    pub renamed: Vec<(u32, String)>,
    /// For a shard of a JSONL file read without error: the digest of its lines, and for a
    /// shard the reader knew (`Known`), the lines themselves, since then its documents have
    /// no texts (see `with_texts`). Not part of the shard's data: neither serialised nor
    /// fingerprinted.
    #[serde(skip)]
    pub raw: Option<Arc<RawLines>>,
}

/// A JSONL shard's lines as read (see `RawShard::raw`).
#[derive(Debug, PartialEq)]
pub struct RawLines {
    /// A hash of everything the shard's entries are made of: `READ_VERSION`, the file's
    /// path, the first line's number, `--max-doc-bytes`, and each line's bytes and length.
    pub digest: [u8; 32],
    /// The lines' bytes and, per entry, its line's range in them; only while the
    /// documents lack their texts.
    lines: Option<Lines>,
}

/// A known shard's lines: per entry, its line's range in the bytes, which are held or
/// read again when needed.
struct Lines {
    bytes: LineBytes,
    ranges: Vec<std::ops::Range<usize>>,
}

enum LineBytes {
    Held {
        bytes: Vec<u8>,
        /// Where `bytes` goes back when the shard is dropped, for the reader to fill
        /// again (fresh pages cost more than the copy into them).
        spare: Arc<std::sync::Mutex<Vec<Vec<u8>>>>,
    },
    /// Read hash-first: the ranges are in the file, from `Reread::at`.
    Reread(Reread),
}

impl Drop for LineBytes {
    fn drop(&mut self) {
        if let LineBytes::Held { bytes, spare } = self {
            give_back(spare, std::mem::take(bytes));
        }
    }
}

/// Where a shard's lines can be read again: a plain JSONL file on disk, or bytes held
/// in memory (standard input).
#[derive(Debug, Clone, PartialEq)]
enum Origin {
    File(PathBuf),
    Memory(Arc<Vec<u8>>),
}

/// A JSONL shard read hash-first: its lines were hashed on the way through a small
/// buffer and kept nowhere (a known shard's usually are not needed again). These read
/// them again, and check that they are the bytes hashed.
#[derive(Debug, PartialEq)]
struct Reread {
    origin: Origin,
    rel: String,
    /// The shard's first byte in the file, and its first line's number.
    at: u64,
    first_line: u64,
    max_doc_bytes: u64,
    /// Each line's size, as the digest hashes them (`ShardBytes::read_jsonl_chunk`).
    sizes: Vec<u8>,
    /// The digest of the bytes read (also of a shard cut short by a read error, which
    /// has no `RawLines::digest`).
    check: [u8; 32],
}

impl Reread {
    /// The kept bytes of the lines at `ranges` (in the file, from `at`, in order), read
    /// again, and each line's range in them. Fails if the file cannot be read or no
    /// longer holds the bytes the reader hashed.
    fn read(&self, ranges: &[std::ops::Range<usize>]) -> Result<(Vec<u8>, Vec<std::ops::Range<usize>>), String> {
        use std::io::{Seek, SeekFrom};
        let mut runs: Vec<std::ops::Range<u64>> = Vec::new();
        for range in ranges {
            let range = self.at + range.start as u64..self.at + range.end as u64;
            match runs.last_mut() {
                Some(last) if last.end == range.start => last.end = range.end,
                _ => runs.push(range),
            }
        }
        let len = runs.iter().map(|r| r.end - r.start).sum::<u64>();
        let mut bytes = vec![0; usize::try_from(len).map_err(|e| e.to_string())?];
        let mut filled = 0;
        let failed = |err: &dyn std::fmt::Display| {
            format!("{}: reading lines from {} again: {err}", self.rel, self.first_line + 1)
        };
        match &self.origin {
            Origin::File(path) => {
                let mut file = File::open(path).map_err(|e| failed(&e))?;
                for run in &runs {
                    let n = (run.end - run.start) as usize;
                    file.seek(SeekFrom::Start(run.start)).map_err(|e| failed(&e))?;
                    file.read_exact(&mut bytes[filled..filled + n]).map_err(|e| failed(&e))?;
                    filled += n;
                }
            }
            Origin::Memory(all) => {
                for run in &runs {
                    let n = (run.end - run.start) as usize;
                    let from = usize::try_from(run.start).ok().and_then(|s| all.get(s..s + n));
                    bytes[filled..filled + n].copy_from_slice(from.ok_or_else(|| failed(&"out of range"))?);
                    filled += n;
                }
            }
        }
        let check =
            digest_start(&self.rel, self.first_line, self.max_doc_bytes).update(&bytes).update(&self.sizes).finalize();
        if *check.as_bytes() != self.check {
            return Err(failed(&"the file changed while pith was reading it"));
        }
        let mut at = 0;
        let ranges = ranges
            .iter()
            .map(|r| {
                at += r.len();
                at - r.len()..at
            })
            .collect();
        Ok((bytes, ranges))
    }
}

/// What every JSONL shard's digest starts with (`RawLines::digest`); then come the kept
/// bytes of its lines, in order, and their sizes.
fn digest_start(rel: &str, first_line: u64, max_doc_bytes: u64) -> blake3::Hasher {
    let mut hasher = blake3::Hasher::new();
    hasher.update(&READ_VERSION.to_le_bytes());
    hasher.update(&(rel.len() as u64).to_le_bytes());
    hasher.update(rel.as_bytes());
    hasher.update(&first_line.to_le_bytes());
    hasher.update(&max_doc_bytes.to_le_bytes());
    hasher
}

/// Keeps a line buffer for the reader to fill again; its bytes as they are, room to read
/// into that needs no zeroing.
fn give_back(spare: &std::sync::Mutex<Vec<Vec<u8>>>, bytes: Vec<u8>) {
    if let Ok(mut spare) = spare.lock()
        && spare.len() < MAX_SPARE_BUFFERS
    {
        spare.push(bytes);
    }
}

impl PartialEq for Lines {
    fn eq(&self, other: &Lines) -> bool {
        let same = match (&self.bytes, &other.bytes) {
            (LineBytes::Held { bytes: a, .. }, LineBytes::Held { bytes: b, .. }) => a == b,
            (LineBytes::Reread(a), LineBytes::Reread(b)) => a == b,
            _ => false,
        };
        same && self.ranges == other.ranges
    }
}

impl std::fmt::Debug for Lines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let bytes = match &self.bytes {
            LineBytes::Held { bytes, .. } => format!("{} bytes held", bytes.len()),
            LineBytes::Reread(reread) => format!("{} from byte {}", reread.rel, reread.at),
        };
        f.debug_struct("Lines").field("bytes", &bytes).field("ranges", &self.ranges.len()).finish()
    }
}

/// Line buffers a reader keeps for reuse, at most.
const MAX_SPARE_BUFFERS: usize = 8;

/// Bump when the reader makes other entries of the same bytes (`jsonl_record`,
/// `clean_text`, `decode_text`, `unique_id`, what an over-long line becomes): a shard the
/// cache knew by its digest (`Known`) is then read again.
pub const READ_VERSION: u32 = 2;

/// What a reader is told of JSONL shards it may have read in a past run: given a shard's
/// digest, its entries without texts (`RawShard::entries` with empty `text`s, as
/// `renamed` and `bytes`), if they were kept. The reader then parses nothing: the shard
/// comes back as those heads, its texts left to `RawShard::with_texts`.
pub type Known<'a> = &'a (dyn KnownHeads + Sync);

/// See `Known`.
pub trait KnownHeads {
    fn heads(&self, digest: &[u8; 32]) -> Option<RawShard>;

    /// Whether `heads` would likely give heads for `digest`: the reader asks this of
    /// each shard to choose how to read the next one (`ShardBytes::hash_first`).
    fn knows(&self, digest: &[u8; 32]) -> bool {
        self.heads(digest).is_some()
    }
}

impl RawShard {
    fn new() -> RawShard {
        RawShard { entries: Vec::new(), bytes: 0, renamed: Vec::new(), raw: None }
    }

    /// The shard's digest (`RawLines::digest`), for a shard of a JSONL file.
    pub fn digest(&self) -> Option<&[u8; 32]> {
        self.raw.as_ref().map(|raw| &raw.digest)
    }

    /// Whether the documents lack their texts: the shard came from a `Known` reader's
    /// heads (`with_texts` gives them).
    pub fn lacks_texts(&self) -> bool {
        self.raw.as_ref().is_some_and(|raw| raw.lines.is_some())
    }

    /// The shard with its documents' texts: itself, or for a shard that lacks them, its
    /// lines parsed again (each document's other fields as they are: the heads were made
    /// of the same bytes).
    ///
    /// Panics if the lines of a shard read hash-first cannot be read again as they were
    /// (the input file changed during the run).
    pub fn with_texts(&self) -> std::borrow::Cow<'_, RawShard> {
        let Some(Lines { bytes, ranges }) = self.raw.as_ref().and_then(|raw| raw.lines.as_ref()) else {
            return std::borrow::Cow::Borrowed(self);
        };
        let reread;
        let (bytes, ranges) = match bytes {
            LineBytes::Held { bytes, .. } => (bytes, ranges),
            LineBytes::Reread(again) => {
                reread = again.read(ranges).unwrap_or_else(|err| panic!("{err}; run pith again"));
                (&reread.0, &reread.1)
            }
        };
        let mut shard = self.clone();
        for (entry, range) in shard.entries.iter_mut().zip(ranges) {
            if let Entry::Doc(doc) = entry {
                // The same bytes gave a document before (the digest says so), and reading
                // is deterministic: a failure here is a bug, not bad input.
                doc.text = jsonl_record(&bytes[range.clone()], doc.source.clone())
                    .expect("a line the reader read as a document before reads as one again")
                    .text;
            }
        }
        shard.raw = self.raw.as_ref().map(|raw| Arc::new(RawLines { digest: raw.digest, lines: None }));
        std::borrow::Cow::Owned(shard)
    }

    /// The readable documents, in order (the entries the stages see).
    pub fn docs(&self) -> impl Iterator<Item = &RawDoc> {
        self.entries.iter().filter_map(|e| match e {
            Entry::Doc(raw) => Some(raw),
            Entry::Unreadable { .. } => None,
        })
    }
}

fn format_of(name: &str) -> Option<Format> {
    let lower = name.to_ascii_lowercase();
    let format = if lower.ends_with(".jsonl") || lower.ends_with(".ndjson") {
        Format::Jsonl(Compression::None)
    } else if lower.ends_with(".jsonl.gz") || lower.ends_with(".json.gz") || lower.ends_with(".ndjson.gz") {
        Format::Jsonl(Compression::Gzip)
    } else if lower.ends_with(".jsonl.zst") || lower.ends_with(".json.zst") || lower.ends_with(".jsonl.zstd") {
        Format::Jsonl(Compression::Zstd)
    } else if lower.ends_with(".txt") || lower.ends_with(".md") || lower.ends_with(".text") {
        Format::Text
    } else {
        return None;
    };
    Some(format)
}

/// What listing the inputs found besides the files: for the user, never fatal.
#[derive(Debug, Default)]
pub struct ListingNotes {
    /// Files of unknown formats inside input directories.
    pub skipped: Vec<PathBuf>,
    /// Parts of input directories that could not be walked (a link loop, no permission).
    pub problems: Vec<String>,
}

/// The input files named by the arguments: files as given, directories walked
/// recursively in sorted order (only files of known formats, and nothing under
/// `exclude`, the output directory), `-` as stdin.
pub fn list_inputs(
    args: &[PathBuf],
    exclude: Option<&Path>,
    notes: &mut ListingNotes,
) -> anyhow::Result<Vec<InputFile>> {
    let exclude = exclude.map(|p| std::path::absolute(p).unwrap_or_else(|_| p.to_owned()));
    let mut res = Vec::new();
    for arg in args {
        if arg.as_os_str() == "-" {
            let mut buf = Vec::new();
            io::stdin().lock().read_to_end(&mut buf).context("reading standard input")?;
            let first = buf.iter().find(|b| !b.is_ascii_whitespace());
            let format = if first == Some(&b'{') { Format::Jsonl(Compression::None) } else { Format::Text };
            res.push(InputFile {
                size: buf.len() as u64,
                location: Location::Stdin(Arc::new(buf)),
                rel: "-".to_owned(),
                format,
            });
            continue;
        }
        let meta = std::fs::metadata(arg).with_context(|| format!("{}: cannot read input", arg.display()))?;
        if meta.is_dir() {
            let walk = walkdir::WalkDir::new(arg).sort_by_file_name().follow_links(true).into_iter();
            let outside_output = |e: &walkdir::DirEntry| {
                let abs = std::path::absolute(e.path()).unwrap_or_else(|_| e.path().to_owned());
                exclude.as_ref().is_none_or(|out| !abs.starts_with(out))
            };
            for entry in walk.filter_entry(outside_output) {
                let entry = match entry {
                    Ok(entry) => entry,
                    Err(err) => {
                        notes.problems.push(format!("{}: {err}", arg.display()));
                        continue;
                    }
                };
                if !entry.file_type().is_file() {
                    continue;
                }
                let name = entry.file_name().to_string_lossy();
                let Some(format) = format_of(&name) else {
                    notes.skipped.push(entry.path().to_owned());
                    continue;
                };
                let rel = entry.path().strip_prefix(arg).unwrap_or(entry.path());
                res.push(InputFile {
                    size: entry.metadata().map(|m| m.len()).unwrap_or(0),
                    location: Location::File(entry.path().to_owned()),
                    rel: rel.to_string_lossy().replace('\\', "/"),
                    format,
                });
            }
        } else {
            let name = arg.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            // A file named explicitly is read even with an unknown extension: as text.
            let format = format_of(&name).unwrap_or(Format::Text);
            res.push(InputFile { size: meta.len(), location: Location::File(arg.clone()), rel: name, format });
        }
    }
    Ok(res)
}

/// A file of a planned run, as `list_inputs` would have found it; `None` for a directory.
pub fn planned_file(path: PathBuf, rel: String, size: u64) -> Option<InputFile> {
    let name = path.file_name()?.to_string_lossy().into_owned();
    let format = format_of(&name).unwrap_or(Format::Text);
    Some(InputFile { location: Location::File(path), rel, format, size })
}

/// The kind of a reader's diagnostic, for counting: its message without the details.
pub fn repair_kind(message: &str) -> &str {
    if message.starts_with("id ") {
        return "id renamed";
    }
    message.split(':').next().unwrap_or(message)
}

/// The rule that makes ids unique: an id whose hash is in `seen` gets the first free
/// `#2`, `#3`, ... appended (returned); the id kept is added to `seen`. The reader and a
/// planned run's reduce (which redoes it across plan shards) both use it.
pub fn unique_id(seen: &mut HashSet<u64>, id: &str) -> Option<String> {
    if seen.insert(xxh3_64(id.as_bytes())) {
        return None;
    }
    (2u64..).map(|n| format!("{id}#{n}")).find(|candidate| seen.insert(xxh3_64(candidate.as_bytes())))
}

/// Reads the inputs shard by shard, in order; holds one shard in memory at a time.
///
/// It has two halves, which a caller may run on two threads (`split`): `ShardBytes` reads
/// each shard's bytes (and hashes a JSONL shard's lines), `ShardNamer` makes them entries
/// (lines parsed or taken from known heads, ids made unique across the files). In a warm
/// run reading and hashing are most of what phase 1 does, so they get a thread of their
/// own.
pub struct ShardReader<'a> {
    bytes: ShardBytes<'a>,
    namer: ShardNamer<'a>,
}

/// The reading half of a `ShardReader`: a shard's bytes at a time, in order.
pub struct ShardBytes<'a> {
    files: &'a [InputFile],
    max_doc_bytes: u64,
    next_file: usize,
    /// The open JSONL file, the next line number to read, and the file's index.
    jsonl: Option<(JsonlFile<'a>, u64, usize)>,
    /// Line buffers to fill again: the last shard's, and those of known shards dropped.
    spare: Arc<std::sync::Mutex<Vec<Vec<u8>>>>,
    known: Option<Known<'a>>,
    /// Whether to read the next JSONL shard hash-first (see `Reread`): the first one is,
    /// then each after a known one. A shard read so that turns out unknown is read again
    /// at once (from the page cache: it costs a cold run one shard's copy).
    hash_first: bool,
    /// The small buffer a shard read hash-first passes through.
    hot: Vec<u8>,
}

/// The naming half of a `ShardReader`: makes each shard's bytes its entries, in order.
pub struct ShardNamer<'a> {
    files: &'a [InputFile],
    max_doc_bytes: u64,
    seen_ids: HashSet<u64>,
    known: Option<Known<'a>>,
    spare: Arc<std::sync::Mutex<Vec<Vec<u8>>>>,
}

/// A shard's bytes as `ShardBytes` read them, for `ShardNamer::name`.
pub struct ReadShard(ReadKind);

enum ReadKind {
    Jsonl(JsonlRead),
    /// A run of plain files: the shard's bytes, and each file's index and text.
    Files(u64, Vec<(usize, FileText)>),
    /// A file that could not be opened.
    Unreadable(Entry),
}

/// A plain file's text and its diagnostics (`read_text_file`), or why it has none.
type FileText = Result<(String, Vec<Diag>), String>;

/// A JSONL shard's lines as read.
struct JsonlRead {
    file_index: usize,
    buf: Vec<u8>,
    /// Per entry: its line's range in `buf`, number and full length.
    lines: Vec<(std::ops::Range<usize>, u64, usize)>,
    bytes: u64,
    /// A read error that cut the shard short.
    error: Option<Entry>,
    /// `RawLines::digest`, for a shard read without error.
    digest: Option<[u8; 32]>,
    /// For a shard read hash-first, how to read it again: `buf` is empty, and the lines'
    /// ranges are in the file, from `Reread::at`.
    reread: Option<Box<Reread>>,
}

/// An open JSONL file. Its bytes are read straight into each shard's buffer, a chunk at
/// a time (no copy through a `BufReader`: in a warm run the reading thread is the one
/// sequential part of phase 1, and that copy was most of its time).
struct JsonlFile<'a> {
    reader: Box<dyn Read + Send + 'a>,
    /// Bytes read past the last shard's last line: the start of the next shard's.
    carry: Vec<u8>,
    /// How many bytes `reader` gave so far.
    read: u64,
    /// Where the bytes can be read again, for a plain (uncompressed) file.
    origin: Option<Origin>,
}

/// Bytes read from a JSONL file at a time.
const READ_CHUNK: usize = 128 << 10;

impl<'a> ShardReader<'a> {
    pub fn new(files: &'a [InputFile], max_doc_bytes: u64) -> Self {
        let spare: Arc<std::sync::Mutex<Vec<Vec<u8>>>> = Arc::default();
        ShardReader {
            bytes: ShardBytes {
                files,
                max_doc_bytes,
                next_file: 0,
                jsonl: None,
                spare: Arc::clone(&spare),
                known: None,
                hash_first: false,
                hot: Vec::new(),
            },
            namer: ShardNamer { files, max_doc_bytes, seen_ids: HashSet::new(), known: None, spare },
        }
    }

    /// A reader that asks `known` for each JSONL shard's heads before it parses the shard.
    pub fn with_known(files: &'a [InputFile], max_doc_bytes: u64, known: Known<'a>) -> Self {
        let mut reader = ShardReader::new(files, max_doc_bytes);
        reader.namer.known = Some(known);
        reader.bytes.known = Some(known);
        reader.bytes.hash_first = true;
        reader
    }

    /// The two halves, to run on two threads: each `ReadShard` the first gives, in order,
    /// goes to the second's `name`.
    pub fn split(self) -> (ShardBytes<'a>, ShardNamer<'a>) {
        (self.bytes, self.namer)
    }
}

impl Iterator for ShardReader<'_> {
    type Item = RawShard;

    fn next(&mut self) -> Option<RawShard> {
        let read = self.bytes.next()?;
        Some(self.namer.name(read))
    }
}

impl<'a> ShardBytes<'a> {
    fn read_jsonl_chunk(&mut self, file_index: usize) -> JsonlRead {
        let file = &self.files[file_index];
        let (mut input, mut line_no, _) = self.jsonl.take().expect("an open JSONL file");
        // The shard's lines are read first (and hashed), then made entries (`ShardNamer`):
        // parsed, or taken from the heads `known` kept of the same bytes. Read hash-first,
        // they pass through a small buffer that stays in cache, and are kept nowhere.
        let hash_first = self.hash_first && input.origin.is_some();
        let first_line = line_no;
        let at = input.read - input.carry.len() as u64;
        let mut hasher = digest_start(&file.rel, line_no, self.max_doc_bytes);
        // A line keeps at most this many bytes (an over-long one makes an error entry), so
        // one enormous line can't exhaust memory.
        let keep = usize::try_from(self.max_doc_bytes).unwrap_or(usize::MAX).saturating_add(1);
        // `buf[..filled]` holds what was read; the rest is room to read into (a spare
        // buffer's old bytes: filling it again needs no zeroing).
        let mut buf = match hash_first {
            true => std::mem::take(&mut self.hot),
            false => self.spare.lock().ok().and_then(|mut spare| spare.pop()).unwrap_or_default(),
        };
        let mut filled = input.carry.len();
        if buf.len() < filled {
            buf.resize(filled, 0);
        }
        buf[..filled].copy_from_slice(&input.carry);
        input.carry.clear();
        // Each line's full length, its top bit set for a blank one. A blank line's bytes,
        // and those of an over-long line past `keep`, stay in `buf` but are not the
        // shard's: the digest hashes the kept ranges (`kept`) as if the kept bytes were
        // one run (hashing line by line costs five times as much), then the sizes.
        let mut sizes: Vec<u8> = Vec::new();
        let mut kept: Vec<std::ops::Range<usize>> = Vec::new();
        // Per line: its kept bytes' range (in `buf`, or read hash-first in the file from
        // `at`), number and full length.
        let mut lines: Vec<(std::ops::Range<usize>, u64, usize)> = Vec::new();
        let mut bytes = 0;
        let mut error = None;
        let mut finished = false;
        // The current line: where it starts, how much of it was searched for its end, and
        // how many of its bytes past `keep` were dropped.
        let (mut start, mut searched, mut cut) = (0, 0, 0);
        while lines.len() < SHARD_RECORDS && bytes < SHARD_BYTES {
            let end = match memchr::memchr(b'\n', &buf[start + searched..filled]) {
                Some(i) => start + searched + i + 1,
                None => {
                    if filled - start > keep {
                        cut += filled - start - keep;
                        filled = start + keep;
                    }
                    searched = filled - start;
                    // The lines before this one are hashed while they are in cache; read
                    // hash-first, they then make room.
                    for range in kept.drain(..) {
                        hasher.update(&buf[range]);
                    }
                    if hash_first && start > 0 {
                        buf.copy_within(start..filled, 0);
                        (filled, start) = (filled - start, 0);
                    }
                    if buf.len() < filled + READ_CHUNK {
                        buf.resize(filled + READ_CHUNK, 0);
                    }
                    match read_some(&mut input.reader, &mut buf[filled..filled + READ_CHUNK]) {
                        Ok(0) if filled == start => {
                            finished = true;
                            break;
                        }
                        // The last line, without a line break.
                        Ok(0) => filled,
                        Ok(n) => {
                            filled += n;
                            input.read += n as u64;
                            continue;
                        }
                        Err(err) => {
                            // A truncated or corrupt compressed stream: keep what was read,
                            // report the rest once, and move on to the next file.
                            error = Some(Entry::Unreadable {
                                source: Source { path: file.rel.clone(), line: Some(line_no + 1) },
                                error: format!("{}: read error after line {line_no}: {err}", file.rel),
                            });
                            finished = true;
                            break;
                        }
                    }
                }
            };
            let n = end - start + cut;
            line_no += 1;
            if n as u64 <= self.max_doc_bytes && buf[start..end].iter().all(u8::is_ascii_whitespace) {
                sizes.extend_from_slice(&(n as u64 | 1 << 63).to_le_bytes());
            } else {
                sizes.extend_from_slice(&(n as u64).to_le_bytes());
                let range = start..start + (end - start).min(keep);
                let line = match hash_first {
                    true => bytes as usize..bytes as usize + range.len(),
                    false => range.clone(),
                };
                match kept.last_mut() {
                    Some(last) if last.end == range.start => last.end = range.end,
                    _ => kept.push(range),
                }
                lines.push((line, line_no, n));
            }
            bytes += n as u64;
            (start, searched, cut) = (end, 0, 0);
        }
        if !finished {
            input.carry.extend_from_slice(&buf[start..filled]);
        }
        for range in kept {
            hasher.update(&buf[range]);
        }
        let check: [u8; 32] = hasher.update(&sizes).finalize().into();
        // A shard cut short by a read error has no digest: it is always parsed.
        let digest = error.is_none().then_some(check);
        let known = |digest: Option<[u8; 32]>| digest.is_some_and(|d| self.known.is_some_and(|k| k.knows(&d)));
        let mut read = JsonlRead { file_index, buf: Vec::new(), lines, bytes, error, digest, reread: None };
        if hash_first {
            self.hot = buf;
            let origin = input.origin.clone().expect("only a file that can be read again is read hash-first");
            let reread = Reread {
                origin,
                rel: file.rel.clone(),
                at,
                first_line,
                max_doc_bytes: self.max_doc_bytes,
                sizes,
                check,
            };
            if known(digest) {
                read.reread = Some(Box::new(reread));
            } else {
                // Not known after all: its lines are needed, read again at once (from the
                // page cache). If they cannot be, the file is left.
                self.hash_first = false;
                finished |= !read.read_again(&reread);
            }
        } else {
            buf.truncate(start);
            read.buf = buf;
            self.hash_first = known(digest);
        }
        if !finished {
            self.jsonl = Some((input, line_no, file_index));
        }
        read
    }
}

impl JsonlRead {
    /// Reads the lines of a shard read hash-first into `buf` again (their ranges then in
    /// it). If they cannot be read as they were, the shard becomes one error entry for
    /// its lines (which the digest no longer stands for), and this returns false.
    fn read_again(&mut self, reread: &Reread) -> bool {
        let ranges: Vec<std::ops::Range<usize>> = self.lines.iter().map(|(range, _, _)| range.clone()).collect();
        match reread.read(&ranges) {
            Ok((buf, ranges)) => {
                self.buf = buf;
                for (line, range) in self.lines.iter_mut().zip(ranges) {
                    line.0 = range;
                }
                true
            }
            Err(error) => {
                self.lines.clear();
                self.digest = None;
                let source = Source { path: reread.rel.clone(), line: Some(reread.first_line + 1) };
                self.error = Some(Entry::Unreadable { source, error });
                false
            }
        }
    }

    /// Whether the shard has no entry.
    fn is_empty(&self) -> bool {
        self.lines.is_empty() && self.error.is_none()
    }
}

impl Iterator for ShardBytes<'_> {
    type Item = ReadShard;

    fn next(&mut self) -> Option<ReadShard> {
        if let Some((_, _, file_index)) = &self.jsonl {
            let file_index = *file_index;
            let read = self.read_jsonl_chunk(file_index);
            if !read.is_empty() || self.jsonl.is_some() {
                return Some(ReadShard(ReadKind::Jsonl(read)));
            }
        }
        let mut bytes = 0;
        let mut texts = Vec::new();
        while self.next_file < self.files.len() {
            let file = &self.files[self.next_file];
            if let Format::Jsonl(compression) = file.format {
                if !texts.is_empty() {
                    return Some(ReadShard(ReadKind::Files(bytes, texts)));
                }
                self.next_file += 1;
                match open_jsonl(file, compression) {
                    Ok(reader) => {
                        self.jsonl = Some((reader, 0, self.next_file - 1));
                        let read = self.read_jsonl_chunk(self.next_file - 1);
                        if read.is_empty() && self.jsonl.is_none() {
                            continue; // an empty file
                        }
                        return Some(ReadShard(ReadKind::Jsonl(read)));
                    }
                    Err(err) => {
                        return Some(ReadShard(ReadKind::Unreadable(Entry::Unreadable {
                            source: Source { path: file.rel.clone(), line: None },
                            error: format!("{}: {err}", file.rel),
                        })));
                    }
                }
            }
            let cut = xxh3_64(file.rel.as_bytes()) & FILE_CUT_MASK == 0;
            if !texts.is_empty() && (cut || texts.len() >= SHARD_FILES || bytes + file.size > SHARD_BYTES) {
                return Some(ReadShard(ReadKind::Files(bytes, texts)));
            }
            self.next_file += 1;
            bytes += file.size;
            texts.push((self.next_file - 1, read_text_file(file, self.max_doc_bytes)));
        }
        (!texts.is_empty()).then_some(ReadShard(ReadKind::Files(bytes, texts)))
    }
}

impl ShardNamer<'_> {
    /// The entries of a shard `ShardBytes` read (the shards of one reader, in order).
    pub fn name(&mut self, read: ReadShard) -> RawShard {
        match read.0 {
            ReadKind::Jsonl(read) => self.jsonl_entries(read),
            ReadKind::Files(bytes, texts) => {
                let mut shard = RawShard { bytes, ..RawShard::new() };
                for (file_index, text) in texts {
                    let file = &self.files[file_index];
                    let source = Source { path: file.rel.clone(), line: None };
                    let entry = match text {
                        Ok((text, mut diags)) => {
                            let id = self.unique_id(&mut shard, file.rel.clone(), &mut diags);
                            Entry::Doc(RawDoc { id, source, text, metadata_json: None, diags })
                        }
                        Err(error) => Entry::Unreadable { source, error },
                    };
                    shard.entries.push(entry);
                }
                shard
            }
            ReadKind::Unreadable(entry) => RawShard { entries: vec![entry], ..RawShard::new() },
        }
    }

    /// Takes `heads` as the shard they were made of, if its ids come out as they did then:
    /// each id the input gave is made unique against the ids seen so far in this run
    /// (earlier shards may differ from the run that kept the heads). Otherwise leaves the
    /// seen ids as they were and returns false.
    fn replay_ids(&mut self, heads: &RawShard) -> bool {
        let renamed: std::collections::HashMap<u32, &str> =
            heads.renamed.iter().map(|(i, id)| (*i, id.as_str())).collect();
        let mut added = Vec::new();
        for (i, entry) in heads.entries.iter().enumerate() {
            let Entry::Doc(doc) = entry else { continue };
            let given = renamed.get(&(i as u32)).copied().unwrap_or(&doc.id);
            let id = unique_id(&mut self.seen_ids, given);
            added.push(xxh3_64(id.as_deref().unwrap_or(given).as_bytes()));
            if id.as_deref().unwrap_or(given) != doc.id {
                for hash in added {
                    self.seen_ids.remove(&hash);
                }
                return false;
            }
        }
        true
    }

    /// Makes ids unique across the reader's files; records the id the input gave when
    /// it had to rename one.
    fn unique_id(&mut self, shard: &mut RawShard, id: String, diags: &mut Vec<Diag>) -> String {
        match unique_id(&mut self.seen_ids, &id) {
            None => id,
            Some(renamed) => {
                diags.push(Diag { message: format!("id {id:?} seen before; renamed to {renamed:?}"), span: None });
                shard.renamed.push((shard.entries.len() as u32, id));
                renamed
            }
        }
    }

    fn jsonl_entries(&mut self, mut read: JsonlRead) -> RawShard {
        if let (Some(digest), Some(known)) = (read.digest, self.known)
            && let Some(heads) = known.heads(&digest)
            && heads.entries.len() == read.lines.len()
            && heads.bytes == read.bytes
            && self.replay_ids(&heads)
        {
            let ranges = read.lines.into_iter().map(|(range, _, _)| range).collect();
            let bytes = match read.reread {
                Some(reread) => LineBytes::Reread(*reread),
                None => LineBytes::Held { bytes: read.buf, spare: Arc::clone(&self.spare) },
            };
            return RawShard {
                raw: Some(Arc::new(RawLines { digest, lines: Some(Lines { bytes, ranges }) })),
                ..heads
            };
        }
        if let Some(reread) = read.reread.take() {
            // Read hash-first, but its heads do not serve: parsed after all.
            read.read_again(&reread);
        }
        let JsonlRead { file_index, buf, lines, bytes, error, digest, .. } = read;
        let file = &self.files[file_index];
        let mut shard = RawShard { bytes, ..RawShard::new() };
        for (range, line_no, n) in lines {
            let source = Source { path: file.rel.clone(), line: Some(line_no) };
            let entry = if n as u64 > self.max_doc_bytes {
                Entry::Unreadable {
                    source,
                    error: format!("record of {n} bytes is over --max-doc-bytes {}", self.max_doc_bytes),
                }
            } else {
                match jsonl_record(&buf[range], source.clone()) {
                    Ok(mut doc) => {
                        doc.id = self.unique_id(&mut shard, doc.id, &mut doc.diags);
                        Entry::Doc(doc)
                    }
                    Err(error) => Entry::Unreadable { source, error },
                }
            };
            shard.entries.push(entry);
        }
        shard.entries.extend(error);
        shard.raw = digest.map(|digest| Arc::new(RawLines { digest, lines: None }));
        give_back(&self.spare, buf);
        shard
    }
}

/// `reader.read(buf)`, again when interrupted.
fn read_some(reader: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match reader.read(buf) {
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            res => return res,
        }
    }
}

fn open_bytes(file: &InputFile) -> io::Result<Box<dyn Read + Send + '_>> {
    Ok(match &file.location {
        Location::File(path) => Box::new(File::open(path)?),
        Location::Stdin(bytes) => Box::new(io::Cursor::new(bytes.as_slice())),
    })
}

fn open_jsonl(file: &InputFile, compression: Compression) -> io::Result<JsonlFile<'_>> {
    let raw = open_bytes(file)?;
    let reader: Box<dyn Read + Send + '_> = match compression {
        Compression::None => raw,
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(raw)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(raw)?),
    };
    let origin = match (&file.location, compression) {
        (Location::File(path), Compression::None) => Some(Origin::File(path.clone())),
        (Location::Stdin(bytes), Compression::None) => Some(Origin::Memory(Arc::clone(bytes))),
        _ => None,
    };
    Ok(JsonlFile { reader, carry: Vec::new(), read: 0, origin })
}

fn read_text_file(file: &InputFile, max_doc_bytes: u64) -> Result<(String, Vec<Diag>), String> {
    if file.size > max_doc_bytes {
        return Err(format!("{}: {} bytes is over --max-doc-bytes {max_doc_bytes}", file.rel, file.size));
    }
    let mut bytes = Vec::with_capacity(file.size as usize);
    open_bytes(file)
        .and_then(|r| r.take(max_doc_bytes + 1).read_to_end(&mut bytes))
        .map_err(|err| format!("{}: {err}", file.rel))?;
    if bytes.len() as u64 > max_doc_bytes {
        return Err(format!("{}: over --max-doc-bytes {max_doc_bytes}", file.rel));
    }
    decode_text(bytes).map_err(|err| format!("{}: {err}", file.rel))
}

/// Bytes to text: BOM removed, invalid UTF-8 repaired lossily with a diagnostic, or
/// refused when too much of it is invalid (a binary file).
pub fn decode_text(bytes: Vec<u8>) -> Result<(String, Vec<Diag>), String> {
    let mut diags = Vec::new();
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(err) => {
            let bytes = err.into_bytes();
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let bad = text.chars().filter(|&c| c == '\u{fffd}').count();
            let total = text.chars().count().max(1);
            if bad > MAX_INVALID_UTF8_FEW && bad as f64 / total as f64 > MAX_INVALID_UTF8_SHARE {
                return Err(format!("not text: {bad} of {total} characters are invalid UTF-8"));
            }
            diags.push(Diag { message: format!("invalid UTF-8 repaired: {bad} replacement characters"), span: None });
            text
        }
    };
    let (text, more) = clean_text(text);
    diags.extend(more);
    Ok((text, diags))
}

/// `decode_text` of a text that is UTF-8 already: BOM removed, line endings and NULs
/// normalised.
fn clean_text(mut text: String) -> (String, Vec<Diag>) {
    let mut diags = Vec::new();
    if text.starts_with('\u{feff}') {
        text.drain(..3);
        diags.push(Diag { message: "byte-order mark removed".to_owned(), span: None });
    }
    if text.contains('\r') {
        // CRLF to LF, and a lone CR (old Mac files) to LF too, so lines split everywhere.
        text = text.replace("\r\n", "\n").replace('\r', "\n");
        diags.push(Diag { message: "CR line endings normalised to LF".to_owned(), span: None });
    }
    if text.contains('\0') {
        text = text.replace('\0', "");
        diags.push(Diag { message: "NUL characters removed".to_owned(), span: None });
    }
    (text, diags)
}

/// One JSONL line to a document: `text` is required, `id` optional, the rest metadata.
pub fn jsonl_record(line: &[u8], source: Source) -> Result<RawDoc, String> {
    // Most lines are clean UTF-8: parsed where they lie, without a copy.
    let (decoded, mut diags);
    let line = match std::str::from_utf8(line) {
        Ok(line) if !line.starts_with('\u{feff}') => {
            diags = Vec::new();
            line
        }
        _ => {
            (decoded, diags) = decode_text(line.to_vec())?;
            decoded.as_str()
        }
    };
    let mut map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(line.trim_end())
        .map_err(|err| format!("{} line {}: malformed JSON: {err}", source.path, source.line.unwrap_or(0)))?;
    let text = match map.remove("text") {
        Some(serde_json::Value::String(text)) => text,
        Some(_) => return Err(format!("{} line {}: `text` is not a string", source.path, source.line.unwrap_or(0))),
        None => return Err(format!("{} line {}: no `text` field", source.path, source.line.unwrap_or(0))),
    };
    let (text, text_diags) = clean_text(text);
    diags.extend(text_diags);
    let id = match map.remove("id") {
        Some(serde_json::Value::String(id)) => id,
        Some(serde_json::Value::Number(n)) => n.to_string(),
        _ => format!("{}:{}", source.path, source.line.unwrap_or(0)),
    };
    let metadata_json = (!map.is_empty()).then(|| serde_json::Value::Object(map).to_string());
    Ok(RawDoc { id, source, text, metadata_json, diags })
}

pub fn check_output_dir(out: &Path, inputs: &[InputFile]) -> anyhow::Result<()> {
    if out.is_file() {
        bail!("{}: output must be a directory, and this is a file", out.display());
    }
    check_not_an_input(out, inputs)
}

/// Refuses an output path that names one of the input files.
pub fn check_not_an_input(out: &Path, inputs: &[InputFile]) -> anyhow::Result<()> {
    let out_abs = std::path::absolute(out).unwrap_or_else(|_| out.to_owned());
    let out_real = std::fs::canonicalize(out).ok();
    for input in inputs {
        if let Location::File(path) = &input.location {
            let abs = std::path::absolute(path).unwrap_or_else(|_| path.clone());
            let real = std::fs::canonicalize(path).ok();
            if abs == out_abs || (real.is_some() && real == out_real) {
                bail!("{}: output would overwrite an input", out.display());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stdin_like(bytes: &[u8], format: Format) -> InputFile {
        InputFile {
            location: Location::Stdin(Arc::new(bytes.to_vec())),
            rel: "-".into(),
            format,
            size: bytes.len() as u64,
        }
    }

    impl KnownHeads for std::collections::HashMap<[u8; 32], RawShard> {
        fn heads(&self, digest: &[u8; 32]) -> Option<RawShard> {
            self.get(digest).cloned()
        }
    }

    /// What phase 1 keeps of a shard: its entries without texts.
    fn heads(shard: &RawShard) -> RawShard {
        let mut heads = RawShard { raw: None, ..shard.clone() };
        for entry in &mut heads.entries {
            if let Entry::Doc(doc) = entry {
                doc.text.clear();
            }
        }
        heads
    }

    #[test]
    fn a_known_shard_comes_as_its_heads_and_reads_as_before() {
        // Lines of every kind; the first `unique` of them with an id of their own instead
        // of a shared one.
        let lines = |unique: usize| {
            let mut input = String::new();
            for i in 0..(2 * SHARD_RECORDS) {
                let id = if i < unique { format!("u{i}") } else { "dup".to_owned() };
                match i % 7 {
                    0 => input.push_str("not json\n"),
                    1 => input.push_str("  \n"),
                    2 => input.push_str(&format!("{{\"text\": \"{}\"}}\n", "long ".repeat(60))),
                    3 => input.push_str(&format!(
                        "{{\"id\": \"{id}\", \"text\": \"caf\\u00e9 \\\"quoted\\\"\\nnext\", \"n\": 1}}\n"
                    )),
                    _ => input.push_str(&format!("{{\"id\": {i}, \"text\": \"record {i}\"}}\n")),
                }
            }
            [stdin_like(input.as_bytes(), Format::Jsonl(Compression::None))]
        };
        let files = lines(0);
        let read: Vec<RawShard> = ShardReader::new(&files, 200).collect();
        assert_eq!(read.len(), 2);
        assert!(read.iter().all(|s| s.digest().is_some() && !s.lacks_texts()));
        assert!(read[0].entries.iter().any(|e| matches!(e, Entry::Unreadable { error, .. } if error.contains("over"))));
        assert!(read.iter().all(|s| !s.renamed.is_empty()));
        let known: std::collections::HashMap<[u8; 32], RawShard> =
            read.iter().map(|s| (*s.digest().unwrap(), heads(s))).collect();
        let again: Vec<RawShard> = ShardReader::with_known(&files, 200, &known).collect();
        assert_eq!(again.len(), read.len());
        for (before, now) in read.iter().zip(&again) {
            assert!(now.lacks_texts());
            assert_eq!(now.digest(), before.digest());
            assert_eq!(now.with_texts().as_ref(), before);
        }
        // The digest covers what the entries are made of: another limit is another shard.
        let other: Vec<RawShard> = ShardReader::with_known(&files, 200 + 1, &known).collect();
        assert!(other.iter().all(|s| !s.lacks_texts() && !known.contains_key(s.digest().unwrap())));
        // The second shard's heads from a run where the first shard had fewer "dup"s: its
        // own were renamed "dup#2" on then, further on now, so the shard is parsed again.
        let elsewhere = lines(SHARD_RECORDS);
        let then: Vec<RawShard> = ShardReader::new(&elsewhere, 200).collect();
        assert_eq!(then[1].digest(), read[1].digest());
        assert!(then[1].entries != read[1].entries);
        let known: std::collections::HashMap<[u8; 32], RawShard> =
            then.iter().map(|s| (*s.digest().unwrap(), heads(s))).collect();
        let reread: Vec<RawShard> = ShardReader::with_known(&files, 200, &known).collect();
        assert!(!reread[1].lacks_texts());
        assert_eq!(reread, read);
    }

    #[test]
    fn the_halves_on_two_threads_read_what_the_reader_reads() {
        // Plain files (same ids: renamed), JSONL shards and an unreadable file, in order.
        let text = |rel: &str, body: &[u8]| InputFile { rel: rel.into(), ..stdin_like(body, Format::Text) };
        let mut jsonl = String::new();
        for i in 0..(SHARD_RECORDS + 10) {
            jsonl.push_str(&format!("{{\"id\": \"d{}\", \"text\": \"record {i}\"}}\n", i % 3000));
        }
        let missing = InputFile {
            location: Location::File(PathBuf::from("/nonexistent/pith/input.jsonl")),
            ..stdin_like(b"", Format::Jsonl(Compression::None))
        };
        let files = [
            text("a.txt", b"first"),
            text("a.txt", b"second, same name"),
            stdin_like(jsonl.as_bytes(), Format::Jsonl(Compression::None)),
            missing,
            text("d0", b"a file named like a record's id"),
        ];
        let read: Vec<RawShard> = ShardReader::new(&files, 1 << 20).collect();
        assert_eq!(read.len(), 5, "{read:#?}");
        assert_eq!(read[0].renamed.len(), 1);
        assert_eq!(read[4].renamed.len(), 1);
        let split = |known: Option<Known<'_>>| -> Vec<RawShard> {
            let reader = match known {
                Some(known) => ShardReader::with_known(&files, 1 << 20, known),
                None => ShardReader::new(&files, 1 << 20),
            };
            let (bytes, mut namer) = reader.split();
            std::thread::scope(|scope| {
                let (tx, rx) = std::sync::mpsc::sync_channel(1);
                scope.spawn(move || bytes.for_each(|read| tx.send(read).unwrap()));
                rx.into_iter().map(|read| namer.name(read)).collect()
            })
        };
        assert_eq!(split(None), read);
        let known: std::collections::HashMap<[u8; 32], RawShard> =
            read.iter().filter_map(|s| Some((*s.digest()?, heads(s)))).collect();
        let again = split(Some(&known));
        assert_eq!(again.iter().filter(|s| s.lacks_texts()).count(), 2);
        assert_eq!(again.iter().map(|s| s.with_texts().into_owned()).collect::<Vec<_>>(), read);
    }

    #[test]
    fn jsonl_lines_become_docs_or_failures() {
        let input = b"{\"id\": \"a\", \"text\": \"hello\", \"source\": \"web\"}\nnot json\n\n{\"text\": 5}\n{\"text\": \"x\", \"id\": \"a\"}\n";
        let files = [stdin_like(input, Format::Jsonl(Compression::None))];
        let shards: Vec<RawShard> = ShardReader::new(&files, 1 << 20).collect();
        assert_eq!(shards.len(), 1);
        let entries = &shards[0].entries;
        assert_eq!(entries.len(), 4);
        let Entry::Doc(doc) = &entries[0] else { panic!() };
        assert_eq!((doc.id.as_str(), doc.text.as_str()), ("a", "hello"));
        assert_eq!(doc.metadata_json.as_deref(), Some("{\"source\":\"web\"}"));
        assert!(
            matches!(&entries[1], Entry::Unreadable { source, error } if source.line == Some(2) && error.contains("malformed JSON"))
        );
        assert!(matches!(&entries[2], Entry::Unreadable { source, .. } if source.line == Some(4)));
        let Entry::Doc(doc) = &entries[3] else { panic!() };
        assert_eq!(doc.id, "a#2");
    }

    /// A shard's lines (number, full length, kept bytes), byte count and digest.
    type ReadLines = (Vec<(u64, usize, Vec<u8>)>, u64, [u8; 32]);

    /// Each JSONL shard's lines as line-by-line reading gives them: per line its number,
    /// full length and the bytes kept (at most `max + 1`; none for a blank line), then
    /// the shard's byte count and digest (`RawLines::digest`).
    fn lines_one_by_one(input: &[u8], rel: &str, max: u64) -> Vec<ReadLines> {
        let keep = max as usize + 1;
        let mut all = input.split_inclusive(|&b| b == b'\n').enumerate().peekable();
        let mut shards = Vec::new();
        while all.peek().is_some() {
            let first = all.peek().map_or(0, |(i, _)| *i as u64);
            let mut hasher = blake3::Hasher::new();
            hasher.update(&READ_VERSION.to_le_bytes());
            hasher.update(&(rel.len() as u64).to_le_bytes());
            hasher.update(rel.as_bytes());
            hasher.update(&first.to_le_bytes());
            hasher.update(&max.to_le_bytes());
            let (mut lines, mut bytes, mut sizes, mut kept) = (Vec::new(), 0, Vec::new(), Vec::new());
            while lines.len() < SHARD_RECORDS && bytes < SHARD_BYTES {
                let Some((i, line)) = all.next() else { break };
                bytes += line.len() as u64;
                if line.len() as u64 <= max && line.iter().all(u8::is_ascii_whitespace) {
                    sizes.extend_from_slice(&(line.len() as u64 | 1 << 63).to_le_bytes());
                    continue;
                }
                sizes.extend_from_slice(&(line.len() as u64).to_le_bytes());
                let line_kept = &line[..line.len().min(keep)];
                kept.extend_from_slice(line_kept);
                lines.push((i as u64 + 1, line.len(), line_kept.to_vec()));
            }
            shards.push((lines, bytes, *hasher.update(&kept).update(&sizes).finalize().as_bytes()));
        }
        shards
    }

    #[test]
    fn reading_in_chunks_gives_the_lines_of_reading_line_by_line() {
        // Lines of many lengths (over `max`, over the read chunk, blank ones, a last one
        // without a line break), over more than one shard.
        let max = 5000;
        let mut state = 7u64;
        let mut next = |below: u64| {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) % below
        };
        for ending in [&b"\n"[..], b"{\"text\": \"no line break\"}", b""] {
            let mut input = Vec::new();
            for i in 0..2600 {
                let len = match next(20) {
                    0 => 0,
                    1 => max as usize + next(3) as usize,
                    2 if i % 7 == 0 => READ_CHUNK * (1 + next(3) as usize) + next(1000) as usize,
                    _ => next(3000) as usize,
                };
                match next(10) {
                    0 => input.extend_from_slice(b"  \r"),
                    _ => input.extend((0..len).map(|k| b"{ab\"c d}"[(k + i) % 8])),
                }
                input.push(b'\n');
            }
            input.extend_from_slice(ending);
            let files = [stdin_like(&input, Format::Jsonl(Compression::None))];
            let read: Vec<_> = ShardReader::new(&files, max)
                .split()
                .0
                .map(|read| match read.0 {
                    ReadKind::Jsonl(read) => {
                        let lines = read
                            .lines
                            .iter()
                            .map(|(range, no, n)| (*no, *n, read.buf[range.clone()].to_vec()))
                            .collect();
                        (lines, read.bytes, read.digest.expect("no read error"))
                    }
                    _ => panic!("a JSONL shard"),
                })
                .collect();
            let want = lines_one_by_one(&input, "-", max);
            assert!(want.len() > 1);
            assert_eq!(read.len(), want.len());
            for (got, want) in read.iter().zip(&want) {
                assert!(got == want, "shard of {} lines differs", want.0.len());
            }
        }
    }

    /// JSONL records over several shards: of many lengths (a few over the read chunk, a
    /// few over `max`), with blank lines between, the last without a line break.
    fn varied_jsonl(max: u64) -> Vec<u8> {
        let mut state = 11u64;
        let mut next = |below: u64| {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) % below
        };
        let mut input = Vec::new();
        for i in 0..(3 * SHARD_RECORDS + 100) {
            let len = match next(1000) {
                0..=3 => {
                    input.extend_from_slice(b" \t\r\n");
                    continue;
                }
                4 => max + next(3),
                5..=9 => READ_CHUNK as u64 + next(1000),
                _ => next(300),
            };
            input.extend_from_slice(format!("{{\"id\": \"d{i}\", \"text\": \"").as_bytes());
            input.extend((0..len).map(|k| b'a' + ((k + i as u64) % 26) as u8));
            input.extend_from_slice(b"\"}\n");
        }
        input.extend_from_slice(b"{\"text\": \"no line break\"}");
        input
    }

    /// Knows every digest, keeps no heads: a reader asking it reads shards hash-first,
    /// then reads each again to parse it.
    struct KnowsAll;

    impl KnownHeads for KnowsAll {
        fn heads(&self, _: &[u8; 32]) -> Option<RawShard> {
            None
        }

        fn knows(&self, _: &[u8; 32]) -> bool {
            true
        }
    }

    #[test]
    fn shards_read_hash_first_read_as_shards_read_whole() {
        let max = 2 * READ_CHUNK as u64;
        let input = varied_jsonl(max);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.jsonl");
        std::fs::write(&path, &input).unwrap();
        let files = [InputFile {
            location: Location::File(path.clone()),
            rel: "in.jsonl".into(),
            format: Format::Jsonl(Compression::None),
            size: input.len() as u64,
        }];
        let read: Vec<RawShard> = ShardReader::new(&files, max).collect();
        assert!(read.len() > 3 && read.iter().all(|s| s.digest().is_some()));
        assert!(read.iter().flat_map(|s| &s.entries).any(|e| matches!(e, Entry::Unreadable { .. })));
        let hash_first = |shard: &RawShard| {
            let lines = shard.raw.as_ref().and_then(|raw| raw.lines.as_ref());
            matches!(lines, Some(Lines { bytes: LineBytes::Reread(_), .. }))
        };
        // Known shards: read hash-first, their texts read again from the file when asked
        // for.
        let known: std::collections::HashMap<[u8; 32], RawShard> =
            read.iter().map(|s| (*s.digest().unwrap(), heads(s))).collect();
        let again: Vec<RawShard> = ShardReader::with_known(&files, max, &known).collect();
        assert!(again.iter().all(RawShard::lacks_texts));
        assert!(again.iter().all(hash_first));
        assert_eq!(again.iter().map(|s| s.with_texts().into_owned()).collect::<Vec<_>>(), read);
        // Known but without heads: read hash-first, then again to be parsed.
        assert_eq!(ShardReader::with_known(&files, max, &KnowsAll).collect::<Vec<_>>(), read);

        // A record's letter changed in a shard read hash-first, after the reader hashed it.
        let at = input.len() / 2 + input[input.len() / 2..].windows(9).position(|w| w == b"\"text\": \"").unwrap() + 9;
        let mut changed = input.clone();
        changed[at] = if changed[at] == b'z' { b'y' } else { b'z' };
        let mut end = 0;
        let k = read.iter().position(|s| {
            end += s.bytes as usize;
            end > at
        });
        let k = k.unwrap();
        assert!(k > 0);
        let (bytes, mut namer) = ShardReader::with_known(&files, max, &KnowsAll).split();
        let reads: Vec<ReadShard> = bytes.collect();
        std::fs::write(&path, &changed).unwrap();
        let named: Vec<RawShard> = reads.into_iter().map(|r| namer.name(r)).collect();
        // That shard's lines become one error entry, naming the file and the first line.
        assert_eq!(named.len(), read.len());
        for (i, (now, before)) in named.iter().zip(&read).enumerate() {
            if i != k {
                assert_eq!(now, before);
                continue;
            }
            let first = before.entries.iter().find_map(|e| match e {
                Entry::Doc(doc) => doc.source.line,
                Entry::Unreadable { source, .. } => source.line,
            });
            assert!(
                matches!(&now.entries[..], [Entry::Unreadable { source, error }]
                    if source.line == first && error.starts_with("in.jsonl: ") && error.contains("changed")),
                "{:?}",
                now.entries
            );
        }
        // A known shard's texts asked for after the change: a panic that says so.
        let panic = std::panic::catch_unwind(|| again[k].with_texts().into_owned()).unwrap_err();
        let message = panic.downcast_ref::<String>().unwrap();
        assert!(message.starts_with("in.jsonl: ") && message.contains("changed"), "{message}");
    }

    #[test]
    fn text_decoding() {
        let (text, diags) = decode_text(b"\xef\xbb\xbfhi\xff there".to_vec()).unwrap();
        assert_eq!(text, "hi\u{fffd} there");
        assert_eq!(diags.len(), 2);
        assert!(decode_text(vec![0xff; 100]).is_err());
    }
}
