//! The full `Features` JSON of a few documents, pinned in `tests/golden/*.json`, so that a
//! change meant to keep every output (a faster scan, less memory) can show it did.
//!
//! The documents are built here from the repository's `corpus/` files (blank-line
//! separated paragraphs; a short single line without final punctuation is a heading), not
//! through parse, strip and dedup, so that changes to those stages do not move the pins.
//! A deliberate change of output: run with `PITH_BLESS=1` to rewrite the files, review the
//! diff, and bump `pith_features::VERSION`.

use std::path::{Path, PathBuf};

use pith_features::{FeaturesConfig, features};
use pith_types::{Block, BlockKind, DedupedDoc, Span};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A document of `text`'s blank-line separated paragraphs.
pub(crate) fn doc_of_text(id: &str, text: &str) -> DedupedDoc {
    let blocks = text
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .enumerate()
        .map(|(i, p)| {
            let heading = p.len() < 60 && !p.contains('\n') && !p.ends_with(['.', '!', '?', '"', '”']);
            Block {
                index: i as u32,
                kind: if heading { BlockKind::Heading } else { BlockKind::Paragraph },
                text: p.to_owned(),
                span: Span { start: 0, end: 0 },
            }
        })
        .collect();
    DedupedDoc { id: id.to_owned(), title: None, blocks, removed: Vec::new(), raw_bytes: 0, drop: None, cluster: None }
}

fn check(name: &str, cfg: &FeaturesConfig, golden: &str) {
    let text = std::fs::read_to_string(root().join("corpus").join(name)).expect("a corpus file");
    let got = serde_json::to_string_pretty(&features(&doc_of_text(name, &text), cfg)).expect("serialises") + "\n";
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(golden);
    if std::env::var_os("PITH_BLESS").is_some() {
        std::fs::write(&path, &got).expect("writes the golden file");
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(got == want, "{name}: features differ from {}; PITH_BLESS=1 rewrites it\n{got}", path.display());
}

#[test]
fn corpus_files_keep_their_features() {
    let with_language = FeaturesConfig::default();
    for (name, golden) in [
        ("000_c8cfb4c10c946031.txt", "seed.json"),
        ("address-contact-block.txt", "address-contact-block.json"),
        ("bakery-furniture-share-newsletter.txt", "bakery-furniture-share-newsletter.json"),
        ("caption-photo-credit.txt", "caption-photo-credit.json"),
        ("non-english-body.txt", "non-english-body.json"),
        ("prose-mentions-street.txt", "prose-mentions-street.json"),
    ] {
        check(name, &with_language, golden);
    }
    // whatlang instead of the English shortcut, and no language at all.
    let no_shortcut = FeaturesConfig { fast_english: false, ..FeaturesConfig::default() };
    check("000_c8cfb4c10c946031.txt", &no_shortcut, "seed-whatlang.json");
    let no_language = FeaturesConfig { language: false, ..FeaturesConfig::default() };
    check("000_c8cfb4c10c946031.txt", &no_language, "seed-no-language.json");
}
