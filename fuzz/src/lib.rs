//! Helpers shared by the fuzz targets: building stage inputs from fuzz bytes, and the
//! invariants each stage promises (ARCHITECTURE.md), checked with `assert!` so that a
//! violation is a crash libFuzzer reports and minimises.

use pith_types::{DedupedDoc, ParsedDoc, RawDoc, Source, StrippedDoc};

/// A plain-file document with the given text.
pub fn raw_doc(text: String) -> RawDoc {
    RawDoc {
        id: "fuzz.txt".into(),
        source: Source { path: "fuzz.txt".into(), line: None },
        text,
        metadata_json: None,
        diags: vec![],
    }
}

/// Fuzz bytes to document text the way the reader makes it: lossy UTF-8.
pub fn text_of(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// parse: blocks in index order, the title block not among them, each block's span a
/// slice of the source whose trimmed lines are the block's text.
pub fn check_parsed(text: &str, doc: &ParsedDoc) {
    assert_eq!(doc.raw_bytes, text.len() as u64);
    let mut previous = None;
    for block in &doc.blocks {
        assert!(previous < Some(block.index), "block indexes increase");
        assert_ne!(Some(block.index), doc.title_block, "the title block is not among the blocks");
        previous = Some(block.index);
        assert!(!block.text.is_empty(), "no empty block");
        let (start, end) = (block.span.start as usize, block.span.end as usize);
        let source = text.get(start..end).unwrap_or_else(|| panic!("span {start}..{end} is not a slice of the text"));
        let lines: Vec<&str> = source.split('\n').map(str::trim).collect();
        assert_eq!(lines.join("\n"), block.text, "a block is its source lines, trimmed");
    }
}

/// strip: kept blocks are an unchanged subsequence of the input blocks; kept and removed
/// partition them.
pub fn check_stripped(parsed: &ParsedDoc, stripped: &StrippedDoc) {
    let mut input = parsed.blocks.iter();
    for kept in &stripped.blocks {
        assert!(input.any(|b| b == kept), "kept block {} is new, changed or out of order", kept.index);
    }
    for removal in &stripped.removed {
        let original = parsed.blocks.iter().find(|b| b.index == removal.block).expect("a removal names an input block");
        assert_eq!(removal.text, original.text);
        assert!(!removal.kind.is_empty() && !removal.rule.is_empty());
    }
    let mut seen: Vec<u32> =
        stripped.blocks.iter().map(|b| b.index).chain(stripped.removed.iter().map(|r| r.block)).collect();
    seen.sort_unstable();
    let all: Vec<u32> = parsed.blocks.iter().map(|b| b.index).collect();
    assert_eq!(seen, all, "every block is kept or removed, once");
}

/// dedup: only removes whole blocks, keeps strip's removals, and is idempotent.
pub fn check_deduped(stripped: &StrippedDoc, deduped: &DedupedDoc, again: impl FnOnce(&StrippedDoc) -> DedupedDoc) {
    let mut input = stripped.blocks.iter();
    for kept in &deduped.blocks {
        assert!(input.any(|b| b == kept), "kept block {} is new, changed or out of order", kept.index);
    }
    assert_eq!(deduped.blocks.len() + deduped.removed.len(), stripped.blocks.len() + stripped.removed.len());
    for removal in &stripped.removed {
        assert!(deduped.removed.contains(removal), "strip's removals pass through");
    }
    if let Some(drop) = &deduped.drop {
        assert!(!drop.reason.is_empty());
    }
    let as_input = StrippedDoc {
        id: deduped.id.clone(),
        title: deduped.title.clone(),
        blocks: deduped.blocks.clone(),
        removed: deduped.removed.clone(),
        raw_bytes: deduped.raw_bytes,
    };
    let twice = again(&as_input);
    assert_eq!(twice.blocks, deduped.blocks, "dedup is idempotent");
    assert_eq!(twice.removed, deduped.removed, "dedup is idempotent");
    assert_eq!(twice.drop, deduped.drop, "dedup is idempotent");
}
