//! Line-level signals of C4 (datatrove `c4_filters.py`, `C4QualityFilter`) and FineWeb
//! (datatrove `fineweb_quality_filter.py`).

use std::sync::LazyLock;

use memchr::memmem::Finder;
use pith_types::{C4Signals, FineWebSignals};

use crate::text::char_len;
use crate::{ratio, round3};

/// Patterns looked for in C4 lines, lower-cased ASCII: the first two are `javascript` and
/// `lorem ipsum`, the rest are datatrove's `POLICY_SUBSTRINGS`.
const C4_PATTERNS: &[&str] = &[
    "javascript",
    "lorem ipsum",
    "terms of use",
    "privacy policy",
    "cookie policy",
    "uses cookies",
    "use of cookies",
    "use cookies",
];

/// The substring searches of `c4_matches`: the first four patterns, then "cookie", which
/// the last four hold (at the offsets of `COOKIE_AT`).
static C4_FINDERS: LazyLock<[Finder<'static>; 5]> = LazyLock::new(|| {
    let p = C4_PATTERNS;
    [p[0], p[1], p[2], p[3], "cookie"].map(|needle| Finder::new(needle.as_bytes()))
});

/// Where "cookie" starts in `C4_PATTERNS[4..]`.
const COOKIE_AT: [usize; 4] = [0, 5, 7, 4];

/// The matches of `C4_PATTERNS` in `text`, ASCII case-insensitive, as (start, pattern),
/// exactly as a leftmost-first Aho-Corasick search finds them (non-overlapping, from the
/// left; at one start the first pattern wins). The text is lower-cased (ASCII letters
/// only, which makes a byte equal to a lower-case pattern's exactly when it is that byte in
/// either case), then searched for each pattern by the memchr crate's vectorised substring
/// search, and the four cookie patterns around each "cookie"; no pattern can overlap
/// itself, so each search finds all of its occurrences. `folded` is a buffer for the
/// lower-cased text, whose capacity only is reused (see `Scratch`).
fn c4_matches(text: &str, folded: &mut Vec<u8>) -> Vec<(usize, usize)> {
    folded.clear();
    folded.extend_from_slice(text.as_bytes());
    folded.make_ascii_lowercase();
    let folded = folded.as_slice();
    let finders = &*C4_FINDERS;
    let mut found: Vec<(usize, usize)> = Vec::new();
    for (p, finder) in finders[..4].iter().enumerate() {
        found.extend(finder.find_iter(folded).map(|start| (start, p)));
    }
    for at in finders[4].find_iter(folded) {
        for (k, &offset) in COOKIE_AT.iter().enumerate() {
            let p = 4 + k;
            let pattern = C4_PATTERNS[p].as_bytes();
            if let Some(start) = at.checked_sub(offset)
                && folded.get(start..start + pattern.len()) == Some(pattern)
            {
                found.push((start, p));
            }
        }
    }
    if found.is_empty() {
        return found;
    }
    found.sort_unstable();
    // Leftmost-first, non-overlapping.
    let mut res = Vec::with_capacity(found.len());
    let mut next_free = 0;
    for (start, p) in found {
        if start >= next_free {
            res.push((start, p));
            next_free = start + C4_PATTERNS[p].len();
        }
    }
    res
}

/// C4's `END_PUNCTUATION`.
const C4_END: &[char] = &['.', '?', '!', '"', '\''];

/// datatrove's C4 `CITATION_REGEX` (`\[\d*]|\[edit]|\[citation needed]`) removed from the
/// end of a line, as often as it matches there.
fn strip_trailing_citations(mut line: &str) -> &str {
    loop {
        let Some(body) = line.strip_suffix(']') else { return line };
        let Some(open) = body.rfind('[') else { return line };
        let inner = &body[open + 1..];
        if inner.bytes().all(|b| b.is_ascii_digit()) || inner == "edit" || inner == "citation needed" {
            line = &line[..open];
        } else {
            return line;
        }
    }
}

/// `line.split_whitespace().nth(2).is_none()`: fewer than three words. Bytes up to the
/// third word's start while they are ASCII (white space there is `\t \n \v \f \r` and
/// the space), the characters otherwise.
fn has_few_words(line: &str) -> bool {
    let mut n_words = 0;
    let mut in_word = false;
    for &b in line.as_bytes() {
        if b >= 0x80 {
            return line.split_whitespace().nth(2).is_none();
        }
        let space = matches!(b, b'\t'..=b'\r' | b' ');
        if !space && !in_word {
            n_words += 1;
            if n_words == 3 {
                return false;
            }
        }
        in_word = !space;
    }
    true
}

/// Whether a white-space separated word of `line` has over 1000 characters. Such a word
/// is over 1000 bytes between ASCII white space (a subset of Unicode's), which bytes find
/// quickly; only then are the words decoded.
fn has_long_word(line: &str) -> bool {
    line.as_bytes().split(u8::is_ascii_whitespace).any(|piece| piece.len() > 1000)
        && line.split_whitespace().any(|w| char_len(w) > 1000)
}

/// `folded` is a work buffer (see `c4_matches`).
pub(crate) fn c4(text: &str, lines: &[&str], folded: &mut Vec<u8>) -> C4Signals {
    let mut res = C4Signals {
        lines: lines.len() as u64,
        has_curly_brace: memchr::memchr(b'{', text.as_bytes()).is_some(),
        ..C4Signals::default()
    };
    // One pass over the whole text for the patterns; each match is then given to its line.
    // The patterns cannot overlap across kinds, so leftmost-first matches are enough.
    let matches = c4_matches(text, folded);
    let mut next_match = 0;
    for line in lines {
        let line_start = line.as_ptr() as usize - text.as_ptr() as usize;
        let line_end = line_start + line.len();
        let (mut javascript, mut policy) = (false, false);
        while next_match < matches.len() && matches[next_match].0 < line_end {
            if matches[next_match].0 >= line_start {
                match matches[next_match].1 {
                    0 => javascript = true,
                    1 => res.has_lorem_ipsum = true,
                    _ => policy = true,
                }
            }
            next_match += 1;
        }
        let line = line.trim();
        // Only the first three words matter, and only a line over 1000 bytes can hold a
        // word over 1000 characters.
        let few_words = has_few_words(line);
        let too_long_word = line.len() > 1000 && has_long_word(line);
        let end = strip_trailing_citations(line);
        let no_terminal = !end.ends_with(C4_END) || end.ends_with("...");
        res.lines_no_terminal_punct += u64::from(no_terminal);
        res.lines_few_words += u64::from(few_words);
        res.lines_javascript += u64::from(javascript);
        res.lines_policy += u64::from(policy);
        res.lines_kept += u64::from(!(too_long_word || no_terminal || few_words || javascript || policy));
    }
    res.has_javascript = res.lines_javascript > 0;
    res.has_policy = res.lines_policy > 0;
    res.no_terminal_punct_ratio = round3(ratio(res.lines_no_terminal_punct as usize, lines.len()));
    res.few_words_ratio = round3(ratio(res.lines_few_words as usize, lines.len()));
    res
}

/// FineWeb's `stop_chars`.
const FINEWEB_END: &[char] = &['.', '\'', '"', '!', '?'];

/// `line_duplicates` is `find_duplicates(lines)`, shared with Gopher.
pub(crate) fn fineweb(
    text: &str,
    n_chars: usize,
    lines: &[&str],
    line_duplicates: (usize, usize),
    n_tokens: usize,
) -> FineWebSignals {
    let n_punct = lines.iter().filter(|l| l.ends_with(FINEWEB_END)).count();
    // A character has at most four bytes: a line of over 120 has over 30 characters,
    // without counting them.
    let n_short = lines.iter().filter(|l| l.len() <= 30 || l.len() <= 120 && char_len(l) <= 30).count();
    let (_, dup_chars) = line_duplicates;
    let n_newlines = memchr::memchr_iter(b'\n', text.as_bytes()).count();
    // Line breaks as if blocks were one newline apart, as in the text FineWeb was built on.
    let n_breaks = lines.len().saturating_sub(1);
    FineWebSignals {
        line_punct_ratio: round3(ratio(n_punct, lines.len())),
        short_line_ratio: round3(ratio(n_short, lines.len())),
        dup_line_char_ratio: round3(ratio(dup_chars, n_chars - n_newlines.min(n_chars))),
        newline_word_ratio: round3(ratio(n_breaks, n_tokens)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::lines;

    #[test]
    fn c4_rules() {
        let text = "This line is fine.\nno punctuation here\nTwo words.\nEnable JavaScript to continue.\n\
                    Read our Privacy Policy today.\nEnds with dots...\nCited fact here.[1][edit]\n{ lorem ipsum }";
        let c = c4(text, &lines(text), &mut Vec::new());
        assert_eq!(c.lines, 8);
        // Not ending in . ? ! " ' (or ending in "..."): "no punctuation here", "Ends with dots...",
        // "{ lorem ipsum }". The citations are removed before the check, as datatrove does.
        assert_eq!(c.lines_no_terminal_punct, 3);
        assert_eq!(c.no_terminal_punct_ratio, 0.375);
        // Fewer than 3 white-space words: "Two words.".
        assert_eq!(c.lines_few_words, 1);
        assert_eq!((c.lines_javascript, c.lines_policy), (1, 1));
        // Kept by every line rule: "This line is fine." and "Cited fact here.[1][edit]".
        assert_eq!(c.lines_kept, 2);
        assert!(c.has_lorem_ipsum && c.has_curly_brace && c.has_javascript && c.has_policy);
    }

    #[test]
    fn c4_matches_like_aho_corasick() {
        // The reference: a leftmost-first, ASCII case-insensitive Aho-Corasick search.
        let reference = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(C4_PATTERNS)
            .expect("patterns build");
        let pieces = [
            "javascript",
            "JavaScript",
            "lorem ipsum",
            "Terms of Use",
            "privacy policy",
            "cookie policy",
            "uses cookies",
            "use of cookies",
            "use cookies",
            "java",
            "cookie",
            "uses ",
            "use of ",
            "terms",
            " ",
            "x",
            "é",
            "\n",
            "k",
            "m",
            "v",
            "J",
            "policy",
        ];
        // Every text of up to three pieces (overlaps like "javascripterms of use",
        // "uses cookies policy"), and a pseudo-random sample of longer ones.
        let mut texts: Vec<String> = Vec::new();
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    texts.push(format!("{a}{b}{c}"));
                }
            }
        }
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..2000 {
            let mut text = String::new();
            for _ in 0..8 {
                text.push_str(pieces[crate::next_index(&mut seed, pieces.len())]);
            }
            texts.push(text);
        }
        for text in &texts {
            let want: Vec<(usize, usize)> =
                reference.find_iter(text.as_str()).map(|m| (m.start(), m.pattern().as_usize())).collect();
            assert_eq!(c4_matches(text, &mut Vec::new()), want, "{text:?}");
        }
    }

    #[test]
    fn few_words_like_split_whitespace() {
        let lines = [
            "",
            " ",
            "a",
            "a b",
            "a b c",
            " a  b ",
            "a\tb\x0bc",
            "a\x0cb\rc",
            "a\x1cb c",
            "a\u{a0}b c",
            "a\u{85}b\u{3000}c",
            "é b",
            "a é",
            "a b é",
            "a\u{2003}b",
            "a\u{2003}b c",
            "  x\n\ny  ",
            "one two three four",
            "a\x00b c",
        ];
        for line in lines {
            assert_eq!(has_few_words(line), line.split_whitespace().nth(2).is_none(), "{line:?}");
        }
    }

    #[test]
    fn long_words() {
        let long = "x".repeat(1001);
        let wide = "é".repeat(600);
        let narrow = "é".repeat(1000);
        for line in [
            format!("a {long} b"),
            format!("a {wide} b"),
            format!("a {narrow} b"),
            format!("{}\u{a0}{}", "x".repeat(600), "x".repeat(600)),
            format!("{}\u{b}{}", "x".repeat(600), "x".repeat(600)),
            format!("{}\u{3000}{}", "x".repeat(900), "y".repeat(900)),
            format!("{} {}", "x".repeat(1000), "y".repeat(1000)),
            "a b c ".repeat(300),
        ] {
            assert_eq!(has_long_word(&line), line.split_whitespace().any(|w| char_len(w) > 1000), "{line:?}");
        }
    }

    #[test]
    fn fineweb_ratios() {
        let text = "A long line that ends with a full stop.\n\nshort\n\nshort\n\nA question?";
        let ls = lines(text);
        // The token count comes from the caller: 12 here.
        let f = fineweb(text, text.chars().count(), &ls, crate::text::find_duplicates(&ls), 12);
        // Lines ending in . ' " ! ?: 2 of 4.
        assert_eq!(f.line_punct_ratio, 0.5);
        // Lines of at most 30 characters: "short", "short", "A question?".
        assert_eq!(f.short_line_ratio, 0.75);
        // One duplicate line of 5 characters; the text has 66 characters, 6 of them newlines:
        // 5 / 60 = 0.083.
        assert_eq!(text.chars().count(), 66);
        assert_eq!(f.dup_line_char_ratio, 0.083);
        // 3 line breaks between the 4 lines, per 12 tokens.
        assert_eq!(f.newline_word_ratio, 0.25);
    }
}
