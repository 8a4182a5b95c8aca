//! Property tests of `strip`: it only removes whole blocks, keeps the rest in order and
//! unchanged, and accounts for every block exactly once.

use pith_strip::{StripConfig, strip};
use pith_types::{Block, BlockKind, ParsedDoc, Span};
use proptest::prelude::*;

fn kind() -> impl Strategy<Value = BlockKind> {
    prop_oneof![
        Just(BlockKind::Heading),
        Just(BlockKind::Paragraph),
        Just(BlockKind::ListItem),
        Just(BlockKind::Quote),
        Just(BlockKind::Caption),
    ]
}

/// Block texts that the rules react to, mixed with prose and with anything at all.
fn block_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("Physical Address".to_owned()),
        Just("304 North Cardinal St.\nDorchester Center, MA 02124".to_owned()),
        Just("Phone: (555) 123-4567".to_owned()),
        Just("Contact".to_owned()),
        Just("Smoke rises over the city. (Photo: Getty Images)".to_owned()),
        Just("Image 3 of 12".to_owned()),
        Just("Share this article".to_owned()),
        Just("Sign up for our newsletter".to_owned()),
        Just("We use cookies to improve your experience.".to_owned()),
        Just("Related articles".to_owned()),
        Just("© 2024 All rights reserved".to_owned()),
        Just("By Jane Doe".to_owned()),
        Just("The council met on Tuesday and voted to approve the new budget for the coming year.".to_owned()),
        Just(
            "Residents said the decision, which followed months of debate, would change how the town pays for roads and schools."
                .to_owned()
        ),
        "[A-Za-z ,.]{1,80}",
        any::<String>().prop_filter("non-empty", |s| !s.trim().is_empty()),
    ]
}

fn parsed_doc() -> impl Strategy<Value = ParsedDoc> {
    (prop::collection::vec((kind(), block_text(), 1u32..3), 0..40), any::<Option<String>>()).prop_map(
        |(specs, title)| {
            let mut index = 0;
            let blocks = specs
                .into_iter()
                .map(|(kind, text, step)| {
                    index += step;
                    let len = text.len() as u32;
                    Block { index, kind, text, span: Span { start: 0, end: len } }
                })
                .collect();
            ParsedDoc { id: "d".into(), title, title_block: None, blocks, diags: vec![], raw_bytes: 0 }
        },
    )
}

fn config() -> impl Strategy<Value = StripConfig> {
    (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
        |(addresses, captions, furniture, main_region)| StripConfig { addresses, captions, furniture, main_region },
    )
}

fn check(doc: &ParsedDoc, cfg: &StripConfig) -> Result<(), TestCaseError> {
    let res = strip(doc.clone(), cfg);
    prop_assert_eq!(&res.id, &doc.id);
    prop_assert_eq!(&res.title, &doc.title);

    // Kept blocks are a subsequence of the input blocks, by index and in order, unchanged.
    let mut input = doc.blocks.iter();
    for kept in &res.blocks {
        let Some(original) = input.find(|b| b.index == kept.index) else {
            return Err(TestCaseError::fail(format!("kept block {} is not a later input block", kept.index)));
        };
        prop_assert_eq!(kept, original, "kept blocks are not rewritten");
    }

    // Every removal is of an input block, recorded with its text and a reason.
    for removal in &res.removed {
        let original = doc.blocks.iter().find(|b| b.index == removal.block);
        prop_assert!(original.is_some(), "removed block {} is not an input block", removal.block);
        prop_assert_eq!(&removal.text, &original.expect("checked").text);
        prop_assert_eq!(&*removal.stage, "strip");
        prop_assert!(!removal.kind.is_empty() && !removal.rule.is_empty());
    }

    // Kept and removed partition the input blocks.
    let mut seen: Vec<u32> = res.blocks.iter().map(|b| b.index).chain(res.removed.iter().map(|r| r.block)).collect();
    seen.sort_unstable();
    let all: Vec<u32> = doc.blocks.iter().map(|b| b.index).collect();
    prop_assert_eq!(seen, all, "every block is kept or removed, once");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn kept_blocks_are_a_subsequence_and_kept_plus_removed_is_everything(
        doc in parsed_doc(),
        cfg in config(),
    ) {
        check(&doc, &cfg)?;
    }

}
