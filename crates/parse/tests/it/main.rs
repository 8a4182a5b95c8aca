//! Property tests of `parse`: it never panics, and its blocks point back into the source.

use pith_types::{RawDoc, Source};
use proptest::prelude::*;

fn raw(text: &str) -> RawDoc {
    RawDoc {
        id: "p".into(),
        source: Source { path: "p.txt".into(), line: None },
        text: text.into(),
        metadata_json: None,
        diags: vec![],
    }
}

/// Text made of the pieces parse reacts to: line breaks, list markers, quotes, caption cues,
/// headings, prose, and Unicode that trips naive byte slicing.
fn article_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("\n".to_owned()),
        Just("\n\n".to_owned()),
        Just("\r\n".to_owned()),
        Just("\r".to_owned()),
        Just("  ".to_owned()),
        Just("\t".to_owned()),
        Just("- ".to_owned()),
        Just("• ".to_owned()),
        Just("1. ".to_owned()),
        Just("12) ".to_owned()),
        Just("> ".to_owned()),
        Just("# ".to_owned()),
        Just("“".to_owned()),
        Just("”".to_owned()),
        Just("\"".to_owned()),
        Just("Photo: Getty Images".to_owned()),
        Just("Image 3 of 12".to_owned()),
        Just("By Jane Doe".to_owned()),
        Just("A Title Of Some Length".to_owned()),
        Just("The council met on Tuesday and voted to approve the new budget for the coming year.".to_owned()),
        Just("\u{feff}".to_owned()),
        Just("\u{200b}".to_owned()),
        Just("\u{200f}".to_owned()),
        Just("\u{85}".to_owned()),
        Just("\u{2028}".to_owned()),
        Just("\u{3000}".to_owned()),
        Just("e\u{301}\u{301}".to_owned()),
        Just("👩‍👩‍👧".to_owned()),
        Just("\0".to_owned()),
        "[a-zA-Z0-9 .,:;!?]{0,20}",
        any::<String>(),
    ];
    prop::collection::vec(piece, 0..60).prop_map(|pieces| pieces.concat())
}

fn check(text: &str) -> Result<(), TestCaseError> {
    let doc = pith_parse::parse(&raw(text));
    prop_assert_eq!(doc.raw_bytes, text.len() as u64);
    let mut previous = None;
    for block in &doc.blocks {
        prop_assert!(previous < Some(block.index), "block indexes increase: {:?}", doc.blocks);
        prop_assert!(Some(block.index) != doc.title_block, "the title block is not among the blocks");
        previous = Some(block.index);
        prop_assert!(!block.text.is_empty());
        let (start, end) = (block.span.start as usize, block.span.end as usize);
        let Some(source) = text.get(start..end) else {
            return Err(TestCaseError::fail(format!("span {start}..{end} is not a slice of the text")));
        };
        // A block is its source lines, each trimmed.
        let lines: Vec<&str> = source.split('\n').map(str::trim).collect();
        prop_assert_eq!(lines.join("\n"), block.text.as_str());
    }
    if let Some(title) = &doc.title {
        prop_assert!(!title.is_empty());
        prop_assert!(doc.title_block.is_some());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn never_panics_on_any_string(text in any::<String>()) {
        check(&text)?;
    }

    #[test]
    fn never_panics_on_article_like_text(text in article_like()) {
        check(&text)?;
    }
}

#[test]
fn odd_inputs() {
    for text in [
        "",
        "\n",
        "\r",
        "\r\r\r",
        "\u{feff}",
        "\u{feff}\n\n\u{feff}",
        " \u{85} ",
        "1.",
        "12",
        "1234. x",
        "“”",
        "\"\"\"",
        "# \n# \n",
        "Photo 1/5",
        "image 1 of",
        "image 1 of 2 of",
        &"word ".repeat(10_000),
        &"Heading Line\n".repeat(5_000),
        &"\n".repeat(10_000),
    ] {
        check(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
    }
}
