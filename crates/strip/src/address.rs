//! Postal and contact blocks: street lines, city/state/postcode lines, PO boxes, and the
//! phone, e-mail, fax and hours lines and labels that travel with them.

use std::sync::LazyLock;

use crate::dfa::Matcher;

/// How one line of a block reads, as far as addresses go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Line {
    /// A street, a city/state/postcode, a PO box: enough to call a block an address.
    Strong,
    /// Phone, fax, e-mail, opening hours: part of a contact block, not enough alone.
    Contact,
    /// "Physical Address", "Contact us": a label.
    Label,
    Other,
}

static STRONG: LazyLock<Matcher> = LazyLock::new(|| {
    Matcher::new(
        &[
            // 304 North Cardinal St. / 1600 Pennsylvania Avenue NW, Suite 200
            r"(?i)^\d{1,6}[a-z]?(?:-\d{1,5})?\s+(?:[nsew]\.?\s+|north\s+|south\s+|east\s+|west\s+)?(?:[\p{L}\d][\p{L}\d.'-]*\s+){0,5}(?:st|street|ave|avenue|rd|road|blvd|boulevard|dr|drive|ln|lane|way|ct|court|pl|place|sq|square|pkwy|parkway|hwy|highway|ter|terrace|cir|circle|plaza|broadway|row|trail|pike|alley)(?-u:\b)\.?(?:\s+(?:[nsew]{1,2}|north|south|east|west)(?-u:\b)\.?)?(?:\s*,?\s*(?:suite|ste\.?|unit|apt\.?|floor|fl\.?|#)\s*[\w-]+)?\s*,?",
            // UK postcodes: SW1A 1AA
            r"(?-u:\b)[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2}$",
            // PO Box 123
            r"(?i)^p\.?\s?o\.?\s+box\s+\d+",
        ],
        DFA_CACHE,
        false,
    )
});

static CONTACT: LazyLock<Matcher> = LazyLock::new(|| {
    Matcher::new(
        &[
            r"(?i)^(?:phone|tel|telephone|fax|call|mobile|toll[- ]free|t|f|p)\s*[:.]?\s*[+(]?\d[\d\s().-]{6,}\d$",
            r"^[+(]?\d[\d\s().-]{8,}\d$",
            r"(?i)^(?:e-?mail\s*[:.]?\s*)?[\w.+-]+@[\w-]+(?:\.[\w-]+)+$",
            r"(?i)^(?:work|office|opening|business)?\s*hours(?-u:\b).{0,60}$",
            r"(?i)^(?:monday|mon)(?-u:\b).{0,40}\d{1,2}\s*(?:am|pm|:\d\d)",
        ],
        DFA_CACHE,
        true,
    )
});

static LABEL: LazyLock<Matcher> = LazyLock::new(|| {
    Matcher::new(
        &[
            r"(?i)^(?:(?:our|physical|mailing|postal|street|office|head office|business|registered|main)\s+)?(?:address|location|headquarters|contact|contact us|contact information|contact info|get in touch|find us|visit us)\s*:?$",
        ],
        DFA_CACHE,
        true,
    )
});

/// Dorchester Center, MA 02124 / Toronto, ON M5V 2T6: what
/// `^[\p{Lu}][\p{L} .'-]{1,40},\s*(?:[A-Z]{2}|...)` matches, in two patterns split at
/// the first comma (the place name holds none). Compiling the forty copies of `\p{L}`
/// the bounded repetition makes cost a third of strip's start-up; counting characters
/// costs nothing.
fn city_line(line: &str) -> bool {
    let Some(comma) = memchr::memchr(b',', line.as_bytes()) else { return false };
    let (place, rest) = (&line[..comma], &line[comma + 1..]);
    (2..=41).contains(&place.chars().count()) && PLACE.is_match(place) && REGION_AND_CODE.is_match(rest)
}

static PLACE: LazyLock<Matcher> = LazyLock::new(|| Matcher::new(&[r"^[\p{Lu}][\p{L} .'-]+$"], DFA_CACHE, true));

static REGION_AND_CODE: LazyLock<Matcher> = LazyLock::new(|| {
    Matcher::new(
        &[
            r"^\s*(?:[A-Z]{2}|[\p{Lu}][\p{L}]+(?:\s[\p{Lu}][\p{L}]+)?)\.?,?\s+(?:\d{5}(?:-\d{4})?|[A-Z]\d[A-Z]\s?\d[A-Z]\d)(?-u:\b)",
        ],
        DFA_CACHE,
        true,
    )
});

/// The lazy DFAs' cache size: the default of `regex::Regex`.
const DFA_CACHE: usize = 2 << 20;

/// Lines longer than this are prose, whatever they mention.
pub(crate) const MAX_LINE_WORDS: usize = 14;

/// `n_words` is the line's number of white-space-separated words when known (any number
/// above `MAX_LINE_WORDS` when it has more).
fn line_kind(line: &str, n_words: Option<usize>) -> Line {
    let line = line.trim();
    if n_words.unwrap_or_else(|| crate::count_words_upto(line, MAX_LINE_WORDS + 1)) > MAX_LINE_WORDS {
        return Line::Other;
    }
    if may_be_label(line) && LABEL.is_match(line) {
        return Line::Label;
    }
    // Every strong and contact pattern but opening hours needs a digit or an `@`: most
    // lines have neither, and skip the regexes.
    if !line.bytes().any(|b| b.is_ascii_digit() || b == b'@') && !mentions_hours(line) {
        return Line::Other;
    }
    if STRONG.is_match(line) || city_line(line) {
        Line::Strong
    } else if CONTACT.is_match(line) {
        Line::Contact
    } else {
        Line::Other
    }
}

/// Whether `line` (trimmed) may match `LABEL`: every label ends in one of its nouns, then
/// maybe a colon, and those nouns end in `s`, `n`, `t`, `o` or `h`. A line ending in any
/// other ASCII character skips the regex; a non-ASCII one does not (under case folding
/// `ſ` is an `s`).
fn may_be_label(line: &str) -> bool {
    let line = line.strip_suffix(':').unwrap_or(line).trim_end();
    match line.as_bytes().last() {
        Some(&b) if b.is_ascii() => matches!(b.to_ascii_lowercase(), b's' | b'n' | b't' | b'o' | b'h'),
        _ => true,
    }
}

/// "hours" in any ASCII case, found by its `h`s.
fn mentions_hours(line: &str) -> bool {
    let bytes = line.as_bytes();
    bytes.iter().enumerate().any(|(i, &b)| {
        (b == b'h' || b == b'H') && bytes.get(i..i + 5).is_some_and(|w| w.eq_ignore_ascii_case(b"hours"))
    })
}

/// What a whole block is, for the address rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AddressBlock {
    /// An address or contact block: remove it.
    Address,
    /// Only a label or contact line: removed when it stands next to an address block.
    Attached,
    No,
}

/// `n_words` is the block's number of white-space-separated words, or any number above
/// `MAX_LINE_WORDS` when it has more: a block of one line (most are) needs no count of
/// its own.
pub(crate) fn classify(text: &str, n_words: usize) -> AddressBlock {
    // memchr's vectorised search: this runs on every block, most of them long.
    let one_line = memchr::memchr(b'\n', text.as_bytes()).is_none();
    if one_line && !text.is_empty() {
        // What the counting below makes of a single line, without looking for lines again.
        return match line_kind(text, Some(n_words)) {
            Line::Strong => AddressBlock::Address,
            Line::Contact | Line::Label => AddressBlock::Attached,
            Line::Other => AddressBlock::No,
        };
    }
    let mut n_strong = 0;
    let mut n_contact = 0;
    let mut n_label = 0;
    let mut n_other = 0;
    for line in text.lines() {
        match line_kind(line, None) {
            Line::Strong => n_strong += 1,
            Line::Contact => n_contact += 1,
            Line::Label => n_label += 1,
            Line::Other => n_other += 1,
        }
        // Two other lines are more than any block may hold (see below): the rest of a
        // long block needs no look.
        if n_other >= 2 {
            return AddressBlock::No;
        }
    }
    // A name line ("Acme Corp") may head a block with two or more address lines.
    let others_allowed = if n_strong + n_contact >= 2 { 1 } else { 0 };
    if n_other > others_allowed {
        return AddressBlock::No;
    }
    if n_strong >= 1 || n_contact >= 2 {
        AddressBlock::Address
    } else if n_label + n_contact >= 1 && n_other == 0 {
        AddressBlock::Attached
    } else {
        AddressBlock::No
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(text: &str, expect: AddressBlock) {
        let n_words = text.split_whitespace().take(MAX_LINE_WORDS + 1).count();
        assert_eq!(classify(text, n_words), expect, "{text:?}");
    }

    #[test]
    fn addresses() {
        check("304 North Cardinal St.\nDorchester Center, MA 02124", AddressBlock::Address);
        check("Acme Corp\n1600 Main Street, Suite 200\nSpringfield, IL 62701", AddressBlock::Address);
        check("PO Box 1234", AddressBlock::Address);
        check("Phone: (555) 123-4567\nEmail: news@example.com", AddressBlock::Address);
        check("10 Downing Street\nLondon SW1A 2AA", AddressBlock::Address);
        // One name line may head an address; two other lines make it no address block.
        check("Acme Corp\nOpen daily\n1600 Main Street, Suite 200\nSpringfield, IL 62701", AddressBlock::No);
    }

    #[test]
    fn the_label_prefilter_lets_every_label_through() {
        for label in [
            "Address",
            "Our Location:",
            "Headquarters",
            "Contact",
            "CONTACT US",
            "Contact information",
            "Contact Info :",
            "Get in touch",
            "Find us",
            "Visit Us",
            "Head office address",
        ] {
            assert!(may_be_label(label) && LABEL.is_match(label), "{label:?}");
        }
        assert!(!may_be_label("Contact the office today"));
        assert!(may_be_label("Contact ſ"));
        assert!(mentions_hours("Opening HOURS") && !mentions_hours("hour"));
    }

    #[test]
    fn city_lines_match_the_single_pattern() {
        let reference = regex::Regex::new(
            r"^[\p{Lu}][\p{L} .'-]{1,40},\s*(?:[A-Z]{2}|[\p{Lu}][\p{L}]+(?:\s[\p{Lu}][\p{L}]+)?)\.?,?\s+(?:\d{5}(?:-\d{4})?|[A-Z]\d[A-Z]\s?\d[A-Z]\d)(?-u:\b)",
        )
        .expect("compiles");
        let places =
            ["D", "Dorchester", "Dorchester Center", "É", "Über-Stadt", "ǅ", "Ⅰ", "d", "St. John's", "東京", "A1"];
        let fillers = ["", "x", "é", " ", ".", "'", "-", "ab", "東", "\u{a0}", ",", "9"];
        let rests = [
            " MA 02124",
            "MA 02124",
            " ON M5V 2T6",
            " ON M5V2T6",
            " Massachusetts 02124",
            " New York, 10001",
            " New York. 10001-1234",
            " ma 02124",
            " MA 0212",
            " MA 021245",
            " MA 02124x",
            " Île 02124",
            "\u{a0}MA\u{3000}02124",
            "",
            ",",
            " MA",
            " ON M5V 2T",
            " Quebec H2X 1Y4.",
        ];
        let mut n_match = 0;
        for place in places {
            for filler in fillers {
                for repeat in [0, 1, 2, 5, 13, 20, 29, 30, 31, 32, 38, 39, 40, 41, 45] {
                    for rest in rests {
                        let line = format!("{place}{},{rest}", filler.repeat(repeat));
                        let expect = reference.is_match(&line);
                        assert_eq!(city_line(&line), expect, "{line:?}");
                        n_match += usize::from(expect);
                    }
                }
            }
        }
        assert!(n_match > 500, "{n_match}");
    }

    #[test]
    fn labels() {
        check("Physical Address", AddressBlock::Attached);
        check("Contact Us", AddressBlock::Attached);
        check("Work Hours Monday to Friday: 7AM - 7PM", AddressBlock::Attached);
    }

    #[test]
    fn prose_mentioning_a_street_is_kept() {
        check(
            "The fire started at 12 Main Street on Tuesday night, and firefighters worked until dawn to put it out.",
            AddressBlock::No,
        );
        check("Main Street is closed", AddressBlock::No);
        check("2019 was a good year", AddressBlock::No);
    }
}
