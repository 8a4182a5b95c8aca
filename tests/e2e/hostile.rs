//! Hostile input and hostile conditions (issue 8): bad bytes, odd Unicode, broken and huge
//! files, damaged caches, killed runs, an output over an input, a closed stdout.
//!
//! The rule everywhere: bad input is data. The run completes with exit code 0, every
//! input document is in exactly one of documents.jsonl, dropped.jsonl and failures.jsonl,
//! and `documents_in = kept + dropped + failed` in summary.json.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{cache_use, jsonl, ok, output_files, pith, summary, walk};

/// Runs `pith run INPUT -o OUT` (private cache, no progress bars) plus `extra`, requires
/// exit code 0 and a balanced summary, and returns the three files' records.
fn run_ok(input: &Path, out: &Path, cache: &Path, extra: &[&str]) -> Outcome {
    let mut args = vec!["run", input.to_str().unwrap(), "-o", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let res = ok(pith(cache, &args));
    let outcome = Outcome {
        summary: summary(out),
        kept: jsonl(&out.join("documents.jsonl")),
        dropped: jsonl(&out.join("dropped.jsonl")),
        failed: jsonl(&out.join("failures.jsonl")),
        stderr: String::from_utf8_lossy(&res.stderr).into_owned(),
    };
    outcome.check_balance();
    outcome
}

struct Outcome {
    summary: Value,
    kept: Vec<Value>,
    dropped: Vec<Value>,
    failed: Vec<Value>,
    stderr: String,
}

impl Outcome {
    #[track_caller]
    fn check_balance(&self) {
        let s = &self.summary;
        let n = |k: &str| s[k].as_u64().unwrap_or_else(|| panic!("summary.{k} in {s}")) as usize;
        assert_eq!((n("kept"), n("dropped"), n("failed")), (self.kept.len(), self.dropped.len(), self.failed.len()));
        assert_eq!(n("documents_in"), n("kept") + n("dropped") + n("failed"), "{s}");
    }

    /// The record of a document by its id, from whichever file holds it, with the file's name.
    #[track_caller]
    fn find(&self, id: &str) -> (&'static str, &Value) {
        let files = [("kept", &self.kept), ("dropped", &self.dropped), ("failed", &self.failed)];
        let mut found = files.iter().flat_map(|(name, records)| {
            records.iter().filter(|r| r["id"] == id || (r["id"].is_null() && r["path"] == id)).map(|r| (*name, r))
        });
        let res = found.next().unwrap_or_else(|| panic!("{id} is in no output file"));
        assert!(found.next().is_none(), "{id} is in more than one output record");
        res
    }

    fn failures_of(&self, path: &str) -> Vec<&Value> {
        self.failed.iter().filter(|f| f["path"] == path).collect()
    }
}

fn text_of(record: &Value) -> &str {
    record["text"].as_str().unwrap_or_else(|| panic!("no text in {record}"))
}

const PROSE: &str =
    "The council met on Tuesday evening and voted to approve the new budget for the coming year, after a long debate.";

/// Deterministic pseudo-random numbers (xorshift64*), so generated corpora are the same on every run.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub(super) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Distinct words of the seed article: a realistic vocabulary for generated prose.
pub(super) fn vocabulary() -> Vec<String> {
    let seed = fs::read_to_string(super::corpus().join(super::SEED)).unwrap();
    let mut words: Vec<String> =
        seed.split(|c: char| !c.is_alphabetic()).filter(|w| w.len() > 1).map(str::to_lowercase).collect();
    words.sort();
    words.dedup();
    words
}

/// An article of about `paragraphs` × 60 words: a title and paragraphs of random words.
pub(super) fn article(rng: &mut Rng, vocab: &[String], n: usize, paragraphs: usize) -> String {
    let mut res = format!("Article {n} About {}\n", vocab[rng.below(vocab.len())].to_uppercase());
    for _ in 0..paragraphs {
        res.push('\n');
        let len = 40 + rng.below(40);
        let words: Vec<&str> = (0..len).map(|_| vocab[rng.below(vocab.len())].as_str()).collect();
        res.push_str(&words.join(" "));
        res.push_str(".\n");
    }
    res
}

#[test]
fn hostile_files_are_data() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    fs::create_dir(&input).unwrap();
    let put = |name: &str, bytes: &[u8]| fs::write(input.join(name), bytes).unwrap();

    // A few invalid bytes in real text: repaired lossily.
    // An invalid continuation, an encoded surrogate, an over-long form and a cut sequence.
    let mut invalid = PROSE.as_bytes().to_vec();
    for bad in [&b"\xc3\x28"[..], b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b" "] {
        invalid.extend_from_slice(bad);
        invalid.extend_from_slice(PROSE.as_bytes());
    }
    invalid.extend_from_slice(b"\xe2\x82");
    put("invalid-utf8.txt", &invalid);
    let mut latin1 = b"Caf\xe9 society: ".to_vec();
    latin1.extend_from_slice(PROSE.as_bytes());
    put("latin1.txt", &latin1);
    // NUL bytes inside text: removed.
    put("nul.txt", format!("Before\0the\0nul. {PROSE}").as_bytes());
    put("all-nul.txt", &[0u8; 4096]);
    // Binary: a PNG header and noise.
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    let mut rng = Rng(42);
    png.extend((0..8192).map(|_| (rng.next() >> 24) as u8 | 0x80));
    put("image.txt", &png);
    // Empty and blank.
    put("empty.txt", b"");
    put("blank.md", b" \n\t\r\n\n   \n");
    // Unicode oddities.
    put(
        "bom-crlf.txt",
        format!("\u{feff}A Title With A Byte Order Mark\r\n\r\n{PROSE}\r\n\r\n{PROSE} Again.\r\n").as_bytes(),
    );
    put("lone-cr.txt", format!("Old Style Title\r\r{PROSE}\r{PROSE} Twice.\r").as_bytes());
    let odd = format!(
        "\u{202b}\u{5e9}\u{5dc}\u{5d5}\u{5dd} \u{5e2}\u{5d5}\u{5dc}\u{5dd}\u{202c} and back\u{200f}. {PROSE}\n\n\
         zero\u{200b}width\u{200c}non\u{200d}joiner\u{2060}word\u{feff}joiner {PROSE}\n\n\
         Combining: e\u{301}\u{301}\u{301} a\u{308}\u{332} \u{1100}\u{1161}\u{11a8} and Zalgo h\u{36a}\u{34c}\u{35c}e\u{489}. {PROSE}\n\n\
         Emoji: \u{1f469}\u{200d}\u{1f469}\u{200d}\u{1f467} \u{1f1fa}\u{1f1f3} \u{1f44d}\u{1f3fd} {PROSE}\n"
    );
    put("unicode-oddities.txt", odd.as_bytes());
    // Deeply repeated text: one paragraph 3000 times, one word 200 000 times on one line.
    put("repeated-paragraphs.txt", format!("{PROSE}\n\n").repeat(3000).as_bytes());
    put("repeated-word.txt", "buffalo ".repeat(200_000).as_bytes());
    // Random bytes named like JSONL, and a "compressed" file that is not.
    let noise: Vec<u8> = (0..20_000).map(|_| (rng.next() >> 32) as u8).collect();
    put("noise.jsonl", &noise);
    put("not-really.jsonl.gz", b"this is not gzip data at all\n");
    put("not-really.jsonl.zst", b"nor is this zstd\n");
    put("empty.jsonl", b"");
    put("empty.jsonl.gz", b"");
    put("empty.jsonl.zst", b"");

    // Near-duplicate detection is off: several of these files share a sentence on purpose.
    let out = tmp.path().join("out");
    let res = run_ok(&input, &out, &tmp.path().join("cache"), &["--no-near-dup"]);

    // Lossy repair keeps the document, with U+FFFD in place of the bad byte.
    let (file, doc) = res.find("latin1.txt");
    assert!(file != "failed" && text_of(doc).starts_with("Caf\u{fffd} society"), "{doc}");
    assert_eq!(res.find("invalid-utf8.txt").0, "kept");
    // The repair is reported as a diagnostic by `pith parse`, and counted by `pith run`.
    let parsed = ok(pith(&tmp.path().join("cache"), &["parse", input.join("latin1.txt").to_str().unwrap()]));
    let parsed: Value = serde_json::from_slice(&parsed.stdout).unwrap();
    assert!(parsed["diags"].to_string().contains("invalid UTF-8 repaired"), "{parsed}");
    let repairs = &res.summary["input_repairs"];
    assert!(repairs["invalid UTF-8 repaired"].as_u64() >= Some(2), "{repairs}");
    assert!(repairs["byte-order mark removed"].as_u64() >= Some(1), "{repairs}");
    assert!(repairs["NUL characters removed"].as_u64() >= Some(1), "{repairs}");

    let (file, doc) = res.find("nul.txt");
    assert_eq!(file, "kept");
    assert!(!text_of(doc).contains('\0') && text_of(doc).contains("Beforethenul."), "{doc}");
    assert_eq!((res.find("all-nul.txt").0, res.find("all-nul.txt").1["reason"].as_str()), ("dropped", Some("empty")));

    let (file, failure) = res.find("image.txt");
    assert_eq!(file, "failed");
    assert_eq!((failure["stage"].as_str(), failure["line"].as_u64()), (Some("read"), None));
    assert!(failure["error"].as_str().unwrap().contains("image.txt: not text"), "{failure}");

    for id in ["empty.txt", "blank.md"] {
        let (file, doc) = res.find(id);
        assert_eq!((file, doc["reason"].as_str()), ("dropped", Some("empty")), "{id}");
    }

    // The BOM is gone; CRLF line ends leave no `\r` in titles or text.
    let (file, doc) = res.find("bom-crlf.txt");
    assert_eq!(file, "kept");
    assert_eq!(doc["title"], "A Title With A Byte Order Mark");
    assert!(!text_of(doc).contains(['\r', '\u{feff}']), "{doc}");
    // Lone CR is not a line break to parse: the document is kept whole, as one block.
    let (file, doc) = res.find("lone-cr.txt");
    assert_eq!(file, "kept");
    assert!(text_of(doc).contains(PROSE), "{doc}");

    // Bidi controls, zero-width characters, combining marks and emoji pass through unchanged.
    let (file, doc) = res.find("unicode-oddities.txt");
    assert_eq!(file, "kept");
    let text = text_of(doc);
    for piece in [
        "\u{202b}\u{5e9}\u{5dc}\u{5d5}\u{5dd} \u{5e2}\u{5d5}\u{5dc}\u{5dd}\u{202c} and back\u{200f}.",
        "zero\u{200b}width\u{200c}non\u{200d}joiner\u{2060}word\u{feff}joiner",
        "e\u{301}\u{301}\u{301} a\u{308}\u{332}",
        "\u{1f469}\u{200d}\u{1f469}\u{200d}\u{1f467} \u{1f1fa}\u{1f1f3} \u{1f44d}\u{1f3fd}",
    ] {
        assert!(text.contains(piece), "{piece:?} missing from {text:?}");
    }

    // A paragraph repeated 3000 times is kept once.
    let (file, doc) = res.find("repeated-paragraphs.txt");
    assert_eq!(file, "kept");
    assert_eq!(text_of(doc), PROSE);
    assert_eq!(doc["removed"].as_array().unwrap().len(), 2999);
    assert_ne!(res.find("repeated-word.txt").0, "failed");

    // Random bytes in a .jsonl: every non-blank line is a failure with its line number.
    let noise_failures = res.failures_of("noise.jsonl");
    assert!(!noise_failures.is_empty());
    let mut lines: Vec<u64> = noise_failures.iter().map(|f| f["line"].as_u64().expect("a line number")).collect();
    lines.dedup();
    assert_eq!(lines.len(), noise_failures.len(), "one failure per line");
    // Not-compressed "compressed" files: one failure naming the file, nothing else.
    for name in ["not-really.jsonl.gz", "not-really.jsonl.zst"] {
        let failures = res.failures_of(name);
        assert_eq!(failures.len(), 1, "{name}: {failures:?}");
        assert!(failures[0]["error"].as_str().unwrap().contains(name), "{:?}", failures[0]);
    }
    // An empty JSONL file holds no documents. Zero bytes are not a gzip or zstd stream
    // (the tools write a header even for empty input): one failure naming the file.
    assert!(res.failures_of("empty.jsonl").is_empty());
    for name in ["empty.jsonl.gz", "empty.jsonl.zst"] {
        let failures = res.failures_of(name);
        assert!(failures.len() == 1 && failures[0]["error"].as_str().unwrap().contains(name), "{failures:?}");
    }
}

#[test]
fn malformed_jsonl_lines_are_reported_with_their_line_number() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("records.jsonl");
    let lines = [
        "\u{feff}{\"id\": \"bom\", \"text\": \"The first record starts with a byte order mark.\"}\r".to_owned(),
        format!("{{\"id\": \"ok-1\", \"text\": \"{PROSE}\"}}"),
        "not json at all".to_owned(),
        "{\"id\": \"no-text\", \"body\": \"text is missing\"}".to_owned(),
        "{\"id\": \"number-text\", \"text\": 42}".to_owned(),
        "{\"id\": \"null-text\", \"text\": null}".to_owned(),
        "[\"an\", \"array\"]".to_owned(),
        "\"a string\"".to_owned(),
        "{\"id\": \"cut\", \"text\": \"this line ends too so".to_owned(),
        "   ".to_owned(),
        format!(
            "{{\"id\": \"ok-2\", \"text\": \"Escapes \\u0000 and \\ud83d\\ude00 and \\t. {PROSE}\", \"meta\": {{\"deep\": [[[[1]]]]}}}}"
        ),
        "{\"id\": \"lone-surrogate\", \"text\": \"\\ud800 alone\"}".to_owned(),
        format!(
            "{{\"id\": \"nested\", \"text\": \"{PROSE} Nested.\", \"x\": {}1{}}}",
            "[".repeat(500),
            "]".repeat(500)
        ),
        format!("{{\"id\": \"ok-3\", \"text\": \"{PROSE} Last, and no newline at the end.\"}}"),
    ];
    fs::write(&input, lines.join("\n")).unwrap();
    let res = run_ok(&input, &tmp.path().join("out"), &tmp.path().join("cache"), &["--no-near-dup"]);

    let failed: Vec<u64> = res.failures_of("records.jsonl").iter().map(|f| f["line"].as_u64().unwrap()).collect();
    // Line 12: serde_json refuses a lone surrogate escape. Line 13: nesting deeper than serde_json's limit.
    assert_eq!(failed, [3, 4, 5, 6, 7, 8, 9, 12, 13], "{:?}", res.failed);
    for f in &res.failed {
        let error = f["error"].as_str().unwrap();
        assert!(error.contains(&format!("records.jsonl line {}", f["line"])), "{error}");
    }
    assert!(res.failed.iter().any(|f| f["error"].as_str().unwrap().contains("no `text` field")));
    assert!(res.failed.iter().any(|f| f["error"].as_str().unwrap().contains("`text` is not a string")));

    let ids: Vec<&str> = res.kept.iter().chain(&res.dropped).map(|d| d["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["bom", "ok-1", "ok-2", "ok-3"]);
    let ok2 = res.find("ok-2").1;
    assert!(text_of(ok2).starts_with("Escapes  and \u{1f600} and \t."), "{ok2}");
    assert_eq!(ok2["metadata"]["meta"]["deep"], serde_json::json!([[[[1]]]]));
    assert_eq!(res.find("ok-3").1["line"], 14);
}

#[test]
fn truncated_gzip_and_zstd_keep_the_readable_part() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    fs::create_dir(&input).unwrap();
    let vocab = vocabulary();
    let mut rng = Rng(7);
    let n = 600;
    let mut records = String::new();
    for i in 0..n {
        let text = article(&mut rng, &vocab, i, 2);
        records.push_str(&serde_json::json!({"id": format!("r{i}"), "text": text}).to_string());
        records.push('\n');
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(records.as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    let zst = zstd::encode_all(records.as_bytes(), 3).unwrap();
    // Cut both at 60%: the last 40% of the stream, and the end marker, are gone.
    fs::write(input.join("a.jsonl.gz"), &gz[..gz.len() * 3 / 5]).unwrap();
    fs::write(input.join("b.jsonl.zst"), &zst[..zst.len() * 3 / 5]).unwrap();
    // A whole file after them is read in full.
    fs::write(input.join("c.jsonl"), format!("{{\"id\": \"after\", \"text\": \"{PROSE}\"}}\n")).unwrap();

    let res = run_ok(&input, &tmp.path().join("out"), &tmp.path().join("cache"), &["--no-near-dup"]);
    for name in ["a.jsonl.gz", "b.jsonl.zst"] {
        let failures = res.failures_of(name);
        assert_eq!(failures.len(), 1, "{name}: one failure for the unreadable rest: {failures:?}");
        let failure = failures[0];
        let error = failure["error"].as_str().unwrap();
        assert!(error.contains(name) && error.contains("read error after line"), "{error}");
        let read: Vec<&Value> = res.kept.iter().chain(&res.dropped).filter(|d| d["path"] == name).collect();
        assert!(read.len() > n / 4 && read.len() < n, "{name}: {} of {n} records read", read.len());
        // The readable records are the first ones, in order, and the failure comes right after.
        for (i, doc) in read.iter().enumerate() {
            assert_eq!(doc["line"], i + 1, "{name}");
        }
        assert_eq!(failure["line"], read.len() + 1, "{name}");
    }
    assert_eq!(res.find("after").0, "kept");
}

#[test]
fn twenty_thousand_tiny_documents_in_one_jsonl() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("tiny.jsonl");
    let vocab = vocabulary();
    let mut rng = Rng(13);
    let mut records = String::new();
    for i in 0..20_000 {
        // Every tenth record is empty text; the rest are short and distinct. (Distinct in
        // their words: blocks that differ only in digits are one block to the corpus-wide
        // chrome count, and would all be removed.)
        let text = if i % 10 == 0 {
            String::new()
        } else {
            let words: Vec<&str> = (0..6).map(|_| vocab[rng.below(vocab.len())].as_str()).collect();
            format!("Note {i}: {}.", words.join(" "))
        };
        records.push_str(&serde_json::json!({"text": text, "n": i}).to_string());
        records.push('\n');
    }
    fs::write(&input, records).unwrap();
    let started = Instant::now();
    let res = run_ok(&input, &tmp.path().join("out"), &tmp.path().join("cache"), &[]);
    assert_eq!(res.summary["documents_in"], 20_000);
    assert_eq!(res.failed.len(), 0);
    assert_eq!(res.dropped.iter().filter(|d| d["reason"] == "empty").count(), 2000);
    // Ids come from path and line, in input order.
    let first = res.kept.first().unwrap();
    assert_eq!((first["id"].as_str(), first["metadata"]["n"].as_u64()), (Some("tiny.jsonl:2"), Some(1)));
    // Generous: this is a guard against quadratic behaviour, not a benchmark.
    assert!(started.elapsed() < Duration::from_secs(120), "took {:?}", started.elapsed());
}

/// One line of `bytes` bytes, no newline: words of the seed article's vocabulary.
fn single_line(bytes: usize) -> String {
    let vocab = vocabulary();
    let mut rng = Rng(3);
    let mut res = String::with_capacity(bytes + 16);
    while res.len() < bytes {
        res.push_str(&vocab[rng.below(vocab.len())]);
        res.push(' ');
    }
    res.truncate(bytes);
    res
}

fn check_large_single_line(bytes: usize) {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    fs::create_dir(&input).unwrap();
    let line = single_line(bytes);
    fs::write(input.join("a-big.txt"), &line).unwrap();
    fs::write(input.join("b-big.jsonl"), format!("{{\"id\": \"big-record\", \"text\": \"{line}\"}}\n")).unwrap();
    let res = run_ok(&input, &tmp.path().join("out"), &tmp.path().join("cache"), &[]);
    assert_eq!(res.failed.len(), 0, "{:?}", res.failed);
    assert_eq!(res.summary["documents_in"], 2);
    let (file, doc) = res.find("a-big.txt");
    assert_eq!(file, "kept");
    assert_eq!(text_of(doc), line.trim());
    // The record has the same text: an exact duplicate of the file.
    let (file, doc) = res.find("big-record");
    assert_eq!(
        (file, doc["reason"].as_str(), doc["duplicate_of"].as_str()),
        ("dropped", Some("exact_duplicate"), Some("a-big.txt"))
    );
}

#[test]
fn large_single_line_document() {
    check_large_single_line(2 << 20);
}

/// The 20 MB case of issue 8 (a plain file and a JSONL record of 20 MiB each). Ignored by
/// default: the debug binary takes about 50 s on two busy cores (strip, the dedup map and
/// features are the slow stages). Run it with `cargo test --test e2e -- --ignored large`.
/// Checked by hand with the release binary: 20 MiB in 6.4 s (500 MB peak RSS), 100 MiB in 41 s
/// (3 GB peak RSS).
#[test]
#[ignore = "takes over 20 s with the debug binary"]
fn large_single_line_document_20mb() {
    check_large_single_line(20 << 20);
}

#[test]
fn documents_over_max_doc_bytes_are_failures() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    fs::create_dir(&input).unwrap();
    fs::write(input.join("small.txt"), PROSE).unwrap();
    fs::write(input.join("large.txt"), PROSE.repeat(100)).unwrap();
    let records = format!(
        "{{\"id\": \"small-record\", \"text\": \"{PROSE} Small.\"}}\n{{\"id\": \"large-record\", \"text\": \"{}\"}}\n",
        PROSE.repeat(100)
    );
    fs::write(input.join("r.jsonl"), records).unwrap();
    let res = run_ok(&input, &tmp.path().join("out"), &tmp.path().join("cache"), &["--max-doc-bytes", "4096"]);
    assert_eq!(res.summary["documents_in"], 4);
    // The two small documents are near duplicates: one is kept, one dropped; neither failed.
    assert_ne!(res.find("small.txt").0, "failed");
    assert_ne!(res.find("small-record").0, "failed");
    let large = res.failures_of("large.txt");
    assert_eq!(large.len(), 1);
    let error = large[0]["error"].as_str().unwrap();
    assert!(error.contains("large.txt") && error.contains("over --max-doc-bytes 4096"), "{error}");
    let record = res.failures_of("r.jsonl");
    assert_eq!(record.len(), 1);
    assert_eq!(record[0]["line"], 2);
    assert!(record[0]["error"].as_str().unwrap().contains("over --max-doc-bytes 4096"), "{:?}", record[0]);
}

#[test]
fn foreign_and_wrong_version_cache_files_are_recomputed() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let corpus = super::corpus();
    let run = |out: &str| run_ok(&corpus, &tmp.path().join(out), &cache, &[]);
    run("a");
    let files = walk(&cache);
    assert!(files.len() >= 5, "one file per stage at least");

    // A file of another codec version (bytes 8..12 of the header), and an empty file.
    let wrong_version = files.iter().find(|p| p.to_string_lossy().contains("/parse-v")).unwrap().clone();
    let mut bytes = fs::read(&wrong_version).unwrap();
    assert_eq!(&bytes[..8], b"PITHCACH", "the header starts with the magic");
    bytes[8..12].copy_from_slice(&7u32.to_le_bytes());
    fs::write(&wrong_version, bytes).unwrap();
    let zero = files.iter().find(|p| p.to_string_lossy().contains("/strip-v")).unwrap().clone();
    fs::write(&zero, b"").unwrap();
    // Foreign files and directories, and a stage directory of an old version.
    let foreign: Vec<(PathBuf, &[u8])> = vec![
        (cache.join("README.txt"), b"notes of another tool"),
        (cache.join("other-tool").join("data.bin"), b"\x00\x01\x02"),
        (cache.join("parse-v0").join("ab").join("ab00.bin.zst"), b"PITHCACH old"),
        (wrong_version.parent().unwrap().join("not-a-key.bin.zst"), b"garbage"),
        (wrong_version.parent().unwrap().join(".tmpXYZ123"), b"half a write"),
    ];
    for (path, bytes) in &foreign {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes).unwrap();
    }

    let b = run("b");
    assert!(b.stderr.contains("warning: cache file"), "{}", b.stderr);
    assert!(b.stderr.contains("codec version 7"), "{}", b.stderr);
    assert!(b.stderr.contains("truncated header (0 bytes)"), "{}", b.stderr);
    assert_eq!(b.summary["cache_warnings"], 2, "only the two damaged files: {}", b.stderr);
    let stages = cache_use(&b.summary);
    let misses = |stage: &str| stages.iter().find(|(s, _, _)| s == stage).unwrap().2;
    assert!(misses("parse") > 0 && misses("strip") > 0, "{stages:?}");
    assert_eq!(output_files(&tmp.path().join("a")), output_files(&tmp.path().join("b")));

    // The recomputed values replaced the damaged files; foreign files are left alone.
    let c = run("c");
    assert_eq!(c.summary["cache_warnings"], 0, "{}", c.stderr);
    assert!(cache_use(&c.summary).iter().all(|(_, _, misses)| *misses == 0), "{:?}", cache_use(&c.summary));
    assert_eq!(output_files(&tmp.path().join("a")), output_files(&tmp.path().join("c")));
    for (path, bytes) in &foreign {
        assert_eq!(&fs::read(path).unwrap(), bytes, "{}", path.display());
    }
}

/// A corpus of `n` distinct plain-text articles of a few KB each.
fn article_corpus(dir: &Path, n: usize) {
    fs::create_dir_all(dir).unwrap();
    let vocab = vocabulary();
    let mut rng = Rng(11);
    for i in 0..n {
        fs::write(dir.join(format!("doc{i:05}.txt")), article(&mut rng, &vocab, i, 6)).unwrap();
    }
}

fn pith_command(cache: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pith"));
    cmd.args(args).arg("--cache-dir").arg(cache).arg("--no-progress");
    cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
    cmd
}

#[test]
fn killed_run_leaves_no_final_output_and_resumes_from_the_cache() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    // About 2 MB in 700 files, so 20-odd shards. Issue 8 suggests 3000 documents; the debug
    // binary takes about 1 s per 100 of these on two cores, so 700 keep the test well under
    // 20 s while the run still lasts seconds. A faster build (release) gets more documents,
    // until the run lasts long enough to be interrupted.
    let mut n = 700;
    let (reference, usual) = loop {
        article_corpus(&input, n);
        // The reference: an uninterrupted run with a cache of its own, timed.
        let reference = tmp.path().join(format!("reference-{n}"));
        let started = Instant::now();
        let cache = tmp.path().join(format!("reference-cache-{n}"));
        ok(pith(&cache, &["run", input.to_str().unwrap(), "-o", reference.to_str().unwrap()]));
        let usual = started.elapsed();
        if usual > Duration::from_millis(500) {
            break (reference, usual);
        }
        assert!(n < 50_000, "the corpus is too small to interrupt: {usual:?} for {n} documents");
        n *= 2;
    };
    let input = input.to_str().unwrap();

    // The same run, killed at 40% of the usual time.
    let cache = tmp.path().join("cache");
    let out = tmp.path().join("out");
    let args = ["run", input, "-o", out.to_str().unwrap()];
    let mut child = pith_command(&cache, &args).spawn().unwrap();
    std::thread::sleep(usual.mul_f64(0.4));
    let finished_early = child.try_wait().unwrap().is_some();
    child.kill().unwrap();
    let status = child.wait().unwrap();
    if finished_early {
        // The run beat the kill (a much less loaded machine than when `usual` was measured):
        // the checks of a half-written output folder and of the resume from the cache can't
        // be made; the byte-identity check below still is.
        #[allow(clippy::print_stderr)]
        {
            eprintln!("note: the run finished before it could be killed; only byte identity is checked");
        }
    } else {
        assert!(!status.success(), "killed");
        for name in ["documents.jsonl", "dropped.jsonl", "failures.jsonl", "summary.json"] {
            assert!(!out.join(name).exists(), "{name} exists under its final name after a kill");
        }
        let leftovers: Vec<String> = fs::read_dir(&out)
            .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        assert!(leftovers.iter().all(|n| n.starts_with('.') && n.ends_with(".partial")), "{leftovers:?}");
    }

    // The same command again finishes, reusing what the killed run cached, and its output
    // is byte-identical to the uninterrupted run's.
    let rerun = ok(pith(&cache, &args));
    assert_eq!(output_files(&reference), output_files(&out));
    let s = summary(&out);
    assert_eq!(
        s["cache_warnings"],
        0,
        "a kill leaves no damaged cache file: {}",
        String::from_utf8_lossy(&rerun.stderr)
    );
    if !finished_early {
        let parse = cache_use(&s).into_iter().find(|(stage, _, _)| stage == "parse").unwrap();
        assert!(parse.1 > 0, "the shards parsed before the kill are cache hits: {parse:?} after {usual:?}");
    }
}

#[test]
fn output_over_an_input_file_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("article.txt");
    fs::write(&input, PROSE).unwrap();
    let res = pith(&tmp.path().join("cache"), &["run", input.to_str().unwrap(), "-o", input.to_str().unwrap()]);
    assert!(!res.status.success());
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(err.contains("article.txt"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(fs::read_to_string(&input).unwrap(), PROSE, "the input is untouched");
}

/// `pith strip|parse|dedup|features -o FILE` truncates FILE before reading the inputs, so
/// `-o` naming an input destroys it (main.rs `stage_command`: `File::create(path)` with no
/// check against the inputs). Enable once it is refused like `pith run` does.
#[test]
fn stage_output_over_an_input_file_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("article.txt");
    fs::write(&input, PROSE).unwrap();
    let res = pith(&tmp.path().join("cache"), &["strip", input.to_str().unwrap(), "-o", input.to_str().unwrap()]);
    assert_eq!(fs::read_to_string(&input).unwrap(), PROSE, "the input is untouched");
    assert!(!res.status.success());
    assert!(String::from_utf8_lossy(&res.stderr).contains("article.txt"));
}

#[test]
fn broken_pipe_exits_quietly() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("many.jsonl");
    let vocab = vocabulary();
    let mut rng = Rng(5);
    let mut records = String::new();
    for i in 0..3000 {
        records.push_str(&serde_json::json!({"text": article(&mut rng, &vocab, i, 1)}).to_string());
        records.push('\n');
    }
    fs::write(&input, records).unwrap();
    let mut child = pith_command(&tmp.path().join("cache"), &["strip", input.to_str().unwrap()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // `| head -c 100`: read 100 bytes, then close the pipe.
    let mut stdout = child.stdout.take().unwrap();
    let mut head = [0u8; 100];
    stdout.read_exact(&mut head).unwrap();
    drop(stdout);
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    let status = child.wait().unwrap();
    assert!(head.starts_with(b"{\"id\":"), "{}", String::from_utf8_lossy(&head));
    assert!(status.success(), "{status}: {stderr}");
    assert_eq!(stderr, "");
}

#[test]
fn concurrent_runs_sharing_a_cache_never_read_half_a_file() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    article_corpus(&input, 300);
    let reference = tmp.path().join("reference");
    run_ok(&input, &reference, &tmp.path().join("own-cache"), &[]);

    // Three runs at once over one empty cache: each writes every file the others read.
    let cache = tmp.path().join("shared-cache");
    let runs: Vec<(PathBuf, std::process::Child)> = (0..3)
        .map(|i| {
            let out = tmp.path().join(format!("run{i}"));
            let args = ["run", input.to_str().unwrap(), "-o", out.to_str().unwrap(), "--threads", "1"];
            let child = pith_command(&cache, &args).spawn().unwrap();
            (out, child)
        })
        .collect();
    for (out, child) in runs {
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{stderr}");
        assert!(!stderr.contains("warning"), "{stderr}");
        assert_eq!(summary(&out)["cache_warnings"], 0);
        assert_eq!(output_files(&out), output_files(&reference));
    }
}

/// A tmpfs of `bytes` mounted at a new directory, unmounted on drop; `None` where this
/// process may not mount (not root, or no mount namespace rights).
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(dir: &Path, bytes: u64) -> Option<SmallDisk> {
        fs::create_dir_all(dir).unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes}"), "tmpfs"])
            .arg(dir)
            .stderr(Stdio::null())
            .status()
            .ok()?;
        status.success().then(|| SmallDisk(dir.to_owned()))
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
#[allow(clippy::print_stderr)]
fn a_full_disk_under_the_cache_turns_the_cache_off_and_the_run_completes() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    article_corpus(&input, 700);
    let reference = tmp.path().join("reference");
    run_ok(&input, &reference, &tmp.path().join("own-cache"), &[]);

    let Some(disk) = SmallDisk::mount(&tmp.path().join("small"), 256 << 10) else {
        eprintln!("skipped: cannot mount a tmpfs here (needs root)");
        return;
    };
    let out = tmp.path().join("out");
    let full = run_ok(&input, &out, &disk.0.join("cache"), &[]);
    assert!(full.stderr.contains("going on without the cache"), "{}", full.stderr);
    assert!(full.stderr.contains("No space left on device"), "{}", full.stderr);
    assert_eq!(full.summary["cache_warnings"], 1, "one warning, then no cache: {}", full.stderr);
    assert_eq!(output_files(&out), output_files(&reference));
    drop(disk);
}
