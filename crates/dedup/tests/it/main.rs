//! Property tests of `dedup` (the per-document apply step): it only removes whole blocks,
//! keeps the rest in order, and is idempotent.

use pith_dedup::{CorpusStats, DedupConfig, DedupDelta, dedup};
use pith_types::{Block, BlockKind, DocDrop, Removal, Span, StrippedDoc};
use proptest::prelude::*;

fn kind() -> impl Strategy<Value = BlockKind> {
    prop_oneof![
        3 => Just(BlockKind::Heading),
        3 => Just(BlockKind::Paragraph),
        1 => Just(BlockKind::ListItem),
        1 => Just(BlockKind::Quote),
        1 => Just(BlockKind::Caption),
    ]
}

/// A small vocabulary, with case, space and Unicode variants, so that repeats are common.
fn block_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("Big News Today".to_owned()),
        Just("big  news today".to_owned()),
        Just("BIG NEWS TODAY".to_owned()),
        Just("Background".to_owned()),
        Just("background".to_owned()),
        Just("Ｂａｃｋｇｒｏｕｎｄ".to_owned()),
        Just("Cafe\u{301} society gathers again in the old quarter.".to_owned()),
        Just("Café society gathers again in the old quarter.".to_owned()),
        Just("The council met on Tuesday and voted to approve the budget.".to_owned()),
        Just("The  council met on Tuesday and voted to approve the budget. ".to_owned()),
        Just("Short".to_owned()),
        Just("\u{200b}".to_owned()),
        "[A-Za-z ]{1,30}",
        any::<String>(),
    ]
}

fn stripped_doc() -> impl Strategy<Value = StrippedDoc> {
    (
        prop::collection::vec((kind(), block_text()), 0..30),
        prop::option::of(block_text()),
        prop::collection::vec(any::<u32>(), 0..3),
    )
        .prop_map(|(specs, title, removed_at)| {
            let blocks = specs
                .into_iter()
                .enumerate()
                .map(|(i, (kind, text))| Block { index: 2 * i as u32, kind, text, span: Span { start: 0, end: 0 } })
                .collect();
            // Removals from strip (at odd indexes, between the blocks) must pass through.
            let removed = removed_at
                .into_iter()
                .map(|at| Removal {
                    stage: "strip".into(),
                    kind: "share".into(),
                    rule: "test".into(),
                    block: (at % 64) | 1,
                    text: "Share this".into(),
                })
                .collect();
            StrippedDoc { id: "d".into(), title, blocks, removed, raw_bytes: 0 }
        })
}

fn config() -> impl Strategy<Value = DedupConfig> {
    (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(repeated_headings, repeated_paragraphs, corpus_lines)| {
        DedupConfig { repeated_headings, repeated_paragraphs, corpus_lines, ..DedupConfig::default() }
    })
}

fn stats() -> impl Strategy<Value = CorpusStats> {
    prop_oneof![
        3 => Just(CorpusStats::default()),
        1 => Just(CorpusStats {
            n_docs: 2,
            drops: vec![(0, DocDrop {
                reason: "exact_duplicate".into(),
                duplicate_of: Some("other".into()),
                similarity: Some(1.0),
            })],
            clusters: vec![(0, "other".into())],
            ..CorpusStats::default()
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn dedup_is_idempotent(doc in stripped_doc(), cfg in config(), stats in stats()) {
        let once = dedup(doc.clone(), 0, &stats, &cfg);
        // What the driver caches, with the verdicts set again, rebuilds the very same
        // document.
        let mut rebuilt = DedupDelta::of(&once).rebuild(doc.clone());
        prop_assert_eq!((&rebuilt.drop, &rebuilt.cluster), (&None, &None));
        pith_dedup::set_verdicts(&mut rebuilt, 0, &stats);
        prop_assert_eq!(&rebuilt, &once);

        // Only whole blocks go: kept blocks are a subsequence of the input, unchanged.
        let mut input = doc.blocks.iter();
        for kept in &once.blocks {
            prop_assert!(input.any(|b| b == kept), "kept block {} is new or out of order", kept.index);
        }
        // Every input block is kept or removed; strip's removals are all still there.
        prop_assert_eq!(once.blocks.len() + once.removed.len(), doc.blocks.len() + doc.removed.len());
        for removal in &doc.removed {
            prop_assert!(once.removed.contains(removal));
        }
        prop_assert!(once.removed.windows(2).all(|w| w[0].block <= w[1].block), "removals in document order");

        // Applied to its own output, dedup removes nothing more and reaches the same verdict.
        let again_input = StrippedDoc {
            id: once.id.clone(),
            title: once.title.clone(),
            blocks: once.blocks.clone(),
            removed: once.removed.clone(),
            raw_bytes: once.raw_bytes,
        };
        let twice = dedup(again_input, 0, &stats, &cfg);
        prop_assert_eq!(&twice.blocks, &once.blocks);
        prop_assert_eq!(&twice.removed, &once.removed);
        prop_assert_eq!(&twice.drop, &once.drop);
        prop_assert_eq!(&twice.cluster, &once.cluster);
    }
}
