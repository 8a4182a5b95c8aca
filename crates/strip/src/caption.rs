//! Image captions and photo credits.
//!
//! A credit word alone is weak evidence (on real pages about a third of blocks with one
//! are article text), so a block goes only when the credit stands where credits stand:
//! at the start or end of a short block, or in brackets, or the block is a gallery
//! counter ("Image 3 of 12"), and the block does not read like reported speech.

use std::sync::LazyLock;

use crate::Literals;
use crate::dfa::Matcher;

/// Captions are short; longer blocks with a credit word are prose about a photo.
pub(crate) const MAX_WORDS: usize = 60;

/// Both alternatives start with `^`.
static CREDIT_AT_START: LazyLock<Matcher> = LazyLock::new(|| {
    Matcher::new(
        &[
            r"(?i)^(?:\(|\[)?(?:photo(?:graph)?s?|image|picture|pic|illustration|video|credit|caption|source|file photo|photo credit|image credit|image source)\s*(?::|by(?-u:\b)|/|\||courtesy(?-u:\b))|^(?:getty images|ap photo|shutterstock|istock(?:photo)?|alamy|flick international|courtesy of)(?-u:\b)",
        ],
        DFA_CACHE,
        true,
    )
});

static CREDIT_ANYWHERE: LazyLock<Matcher> = LazyLock::new(|| {
    Matcher::new(
        &[
            // (Photo: Getty Images), [Image: Reuters], (AP Photo/Name)
            r"(?i)[(\[]\s*(?:photo|image|picture|credit|illustration|video|ap photo|file)[^)\]]{0,80}[)\]]",
            // AP Photo/Name, REUTERS/Name, Name/AFP via Getty Images
            r"(?i)(?-u:\b)(?:ap photo|reuters|afp|epa|efe|xinhua)\s*/\s*\p{Lu}",
            r"(?i)(?-u:\b)\p{Lu}[\p{L}.]*\s*/\s*(?:afp|reuters|ap|epa)(?-u:\b)",
            r"(?i)(?-u:\b)via getty images(?-u:\b)",
            // ends with a credit: "... Getty Images", "... Photo: Jane Doe"
            r"(?i)(?:getty images|shutterstock|istock(?:photo)?|alamy(?: stock photo)?|ap photo|reuters|afp|associated press)\s*\.?\s*$",
            r"(?i)(?-u:\b)(?:photo|image|credit|photograph)s?\s*(?::|by)\s*\p{Lu}[\p{L}.'-]*(?:\s+\p{Lu}[\p{L}.'-]*){0,3}\s*(?:/\s*[\p{L} ]+)?\.?\s*$",
            // Image 3 of 12, Photo 1/5
            r"(?i)^(?:image|photo|picture|slide)\s+\d+\s*(?:of|/)\s*\d+(?-u:\b)",
        ],
        DFA_CACHE,
        false,
    )
});

/// Speech marks plus a speech verb: a quote about a photo, not a caption.
static SPEECH: LazyLock<Matcher> = LazyLock::new(|| {
    Matcher::new(
        &[r#"(?i)["“”].{3,}["“”].{0,40}(?-u:\b)(?:said|says|told|added|asked|wrote)(?-u:\b)"#],
        DFA_CACHE,
        false,
    )
});

/// The lazy DFAs' cache size: the default of `regex::Regex`.
const DFA_CACHE: usize = 2 << 20;

/// Words at least one of which every caption pattern needs, ignoring ASCII case: most
/// blocks have none and skip the regexes. In lower case, looked for in a lower-cased copy
/// of the block: `ascii_case_insensitive` would cost a byte-by-byte automaton; this way a
/// vectorised literal search finds them (which only leftmost match kinds may use).
///
/// Two packed searchers (Teddy), one for the cues of three bytes and one for the longer
/// ones: Teddy compares as many leading bytes as the shortest cue has, and with all cues
/// in one searcher three bytes matched in a few percent of a text's positions, each then
/// checked against the cues one by one. (`AhoCorasick` would choose a slower search for
/// rare bytes for the three-byte cues.)
static CUES: LazyLock<Literals> = LazyLock::new(|| cues(true));

fn cues(packed: bool) -> Literals {
    let (long, short): (Vec<&str>, Vec<&str>) = CUE_WORDS.iter().partition(|cue| cue.len() > 3);
    Literals::new(&[&long, &short], packed)
}

const CUE_WORDS: [&str; 25] = [
    "photo",
    "image",
    "picture",
    "pic",
    "illustration",
    "video",
    "credit",
    "caption",
    "source",
    "getty",
    "reuters",
    "afp",
    "epa",
    "efe",
    "xinhua",
    "/ap",
    "ap photo",
    "associated press",
    "shutterstock",
    "istock",
    "alamy",
    "flick",
    "courtesy",
    "slide",
    "file",
];

/// The rule that matched, if the block is a caption or credit.
///
/// `n_words` is the block's number of white-space-separated words, or any number above
/// `MAX_WORDS` when it has more.
/// `lower` is `text` with its ASCII letters lower-cased.
pub(crate) fn classify(text: &str, n_words: usize, lower: &[u8]) -> Option<&'static str> {
    if n_words == 0 || n_words > MAX_WORDS || !CUES.is_match(lower) {
        return None;
    }
    let rule = if CREDIT_AT_START.is_match(text) {
        "credit at start of a short block"
    } else if CREDIT_ANYWHERE.is_match(text) {
        "photo credit in a short block"
    } else {
        return None;
    };
    // Asked last: most blocks with a cue word match no credit pattern, and need no
    // second scan for speech.
    if SPEECH.is_match(text) {
        return None;
    }
    Some(rule)
}

#[cfg(test)]
mod tests {
    use super::*;

    use aho_corasick::AhoCorasick;

    #[track_caller]
    fn check(text: &str, expect: bool) {
        let n_words = text.split_whitespace().take(MAX_WORDS + 1).count();
        let got = crate::with_ascii_lowercase(text, |lower| classify(text, n_words, lower));
        assert_eq!(got.is_some(), expect, "{text:?}");
    }

    #[test]
    fn captions() {
        check(
            "Flick International A serene dusk scene of Boston showcasing the skyline with glowing streetlights and historic architecture.",
            true,
        );
        check("Protesters march downtown on Saturday. (Photo: Getty Images)", true);
        check("Credit: Jane Doe", true);
        check("Image 3 of 12", true);
        check("President Smith speaks in Washington. REUTERS/Kevin Lamarque", true);
        check("Crowds gather near the stadium. AP Photo/John Smith", true);
        check("The skyline at dusk. Photo: Jane Doe/The Times", true);
    }

    #[test]
    fn cues_are_found_ignoring_ascii_case() {
        let reference = AhoCorasick::builder().ascii_case_insensitive(true).build(CUE_WORDS).expect("cues build");
        let automaton = cues(false);
        let pieces = [
            "Photo",
            "PHOTO",
            "pIc",
            "Image",
            "Getty",
            "/AP",
            "/ ap",
            "AP Photo",
            "Associated Press",
            "iStock",
            "ALAMY",
            "Flick",
            "File",
            "Slide",
            "Credit",
            "Source",
            "Video",
            "XINHUA",
            "EFE",
            "epa",
            "afp",
            "Reuters",
            "Courtesy",
            "Caption",
            "Illustration",
            "Picture",
            "Shutterstock",
            " ",
            "/",
            "a",
            "p",
            "é",
            "É",
            "K",
            "ſ",
            "東京",
            "’",
            "the mayor",
        ];
        let mut state = 12345u64;
        for _ in 0..20000 {
            let mut text = String::new();
            for _ in 0..(state % 12) {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let piece = pieces[(state >> 33) as usize % pieces.len()];
                // Cut pieces apart so that most texts hold no whole cue.
                let cut = if state & 1 == 0 { piece.len() } else { piece.chars().take(2).map(char::len_utf8).sum() };
                text.push_str(&piece[..cut]);
            }
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            for text in [text.clone(), text.repeat(40)] {
                let want = reference.is_match(&text);
                assert_eq!(crate::with_ascii_lowercase(&text, |lower| CUES.is_match(lower)), want, "{text:?}");
                assert_eq!(crate::with_ascii_lowercase(&text, |lower| automaton.is_match(lower)), want, "{text:?}");
            }
        }
    }

    #[test]
    fn prose_about_a_photo_is_kept() {
        check(
            "The photo by Smith, taken in 1972, became one of the defining images of the war and was reprinted around the world.",
            false,
        );
        check("\"That photo changed everything for us,\" she said, holding it up.", false);
        check("Reuters reported on Tuesday that the talks had stalled.", false);
    }
}
