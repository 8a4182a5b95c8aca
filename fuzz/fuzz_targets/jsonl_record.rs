//! The JSONL reader's per-line logic (`pith::input::jsonl_record`, the binary's own) on
//! any bytes, split into lines as the reader does:
//! every line is a document or an error, never a panic, and what the output stage later
//! does with a record (re-parse its metadata) works.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pith_types::Source;

fuzz_target!(|data: &[u8]| {
    for (n, line) in data.split_inclusive(|&b| b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let source = Source { path: "fuzz.jsonl".into(), line: Some(n as u64 + 1) };
        match pith::input::jsonl_record(line, source) {
            Ok(doc) => {
                assert!(!doc.text.contains('\0'), "NULs are removed");
                assert!(
                    !doc.text.starts_with('\u{feff}') || doc.diags.iter().any(|d| d.message.contains("byte-order"))
                );
                if let Some(meta) = &doc.metadata_json {
                    // output.rs turns metadata that does not parse back into `null`, silently.
                    let value: serde_json::Value = serde_json::from_str(meta).expect("metadata is JSON");
                    assert!(value.is_object());
                }
                let _ = pith_parse::parse(&doc);
            }
            Err(error) => assert!(!error.is_empty()),
        }
    }
});
