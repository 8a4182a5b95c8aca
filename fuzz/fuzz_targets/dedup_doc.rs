//! parse → strip → dedup of one document: `sketch` (signature, block hashes) never panics,
//! and `dedup` applied with empty corpus stats, with the document's own short blocks as
//! chrome, or with a drop verdict, only removes whole blocks and is idempotent.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pith_dedup::{CorpusStats, DedupConfig};
use pith_types::DocDrop;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else { return };
    let cfg = DedupConfig {
        repeated_headings: flags & 1 == 0,
        repeated_paragraphs: flags & 2 == 0,
        corpus_lines: flags & 4 == 0,
        near: flags & 8 == 0,
        // One-word shingles too, where short texts meet edge cases.
        shingle: if flags & 16 == 0 { 5 } else { 1 },
        ..DedupConfig::default()
    };
    let text = pith_fuzz::text_of(rest);
    let parsed = pith_parse::parse(&pith_fuzz::raw_doc(text));
    let stripped = pith_strip::strip(parsed, &pith_strip::StripConfig::default());
    let sketch = pith_dedup::sketch(&stripped, &cfg);
    assert!(sketch.lines.windows(2).all(|w| w[0] < w[1]), "block hashes sorted and distinct");

    let stats = match (flags >> 5) % 3 {
        0 => CorpusStats::default(),
        // Every short block of the document counts as site chrome.
        1 => CorpusStats { n_docs: 1, chrome: sketch.lines.clone(), ..CorpusStats::default() },
        _ => CorpusStats {
            n_docs: 2,
            drops: vec![(
                0,
                DocDrop { reason: "near_duplicate".into(), duplicate_of: Some("other".into()), similarity: Some(0.9) },
            )],
            clusters: vec![(0, "other".into())],
            ..CorpusStats::default()
        },
    };
    let deduped = pith_dedup::dedup(stripped.clone(), 0, &stats, &cfg);
    pith_fuzz::check_deduped(&stripped, &deduped, |doc| pith_dedup::dedup(doc.clone(), 0, &stats, &cfg));
});
