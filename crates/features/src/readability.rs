//! Flesch reading ease and Flesch-Kincaid grade (Kincaid et al. 1975) for English.

use pith_types::Readability;

use crate::round3;

/// Fewer words than this give unstable scores: `None`.
pub(crate) const MIN_WORDS: usize = 20;

/// Scores for `words` (the document's words; those without a letter are skipped) over
/// `n_sentences` sentences. The caller decides whether the text is English.
#[cfg(test)]
pub(crate) fn readability<'a>(words: impl Iterator<Item = &'a str>, n_sentences: usize) -> Readability {
    let (mut n_words, mut n_syllables) = (0usize, 0usize);
    for word in words {
        if let Some(n) = syllables_of_word(word) {
            n_words += 1;
            n_syllables += n;
        }
    }
    scores(n_words, n_syllables, n_sentences)
}

/// What one pass over the words gathers for several signals.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct WordStats {
    /// Characters of all words.
    pub(crate) chars: usize,
    /// Words that are one of Gopher's stop words, in any case.
    pub(crate) stop_words: usize,
    /// Words with a letter, and their syllables.
    pub(crate) syllable_words: usize,
    pub(crate) syllables: usize,
    /// The first words, for the English shortcut.
    pub(crate) english_sample: crate::EnglishSample,
}

/// Letter, vowel (`a e i o u y`, either case), letter-or-digit and non-ASCII bits of each
/// byte, for the word scan. `VOWEL` is the top bit, so that a vowel's class is above
/// `!VOWEL` and no other's is (see `words::ascii_run`).
pub(crate) const LETTER: u8 = 1;
pub(crate) const VOWEL: u8 = 0x80;
pub(crate) const NON_ASCII: u8 = 4;
pub(crate) const ALNUM: u8 = 8;
pub(crate) static BYTE_CLASSES: [u8; 256] = {
    let mut res = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        res[i] = if b >= 0x80 {
            NON_ASCII
        } else if matches!(b.to_ascii_lowercase(), b'a' | b'e' | b'i' | b'o' | b'u' | b'y') {
            LETTER | VOWEL | ALNUM
        } else if b.is_ascii_alphabetic() {
            LETTER | ALNUM
        } else if b.is_ascii_digit() {
            ALNUM
        } else {
            0
        };
        i += 1;
    }
    res
};

impl WordStats {
    /// Adds a word with a byte that is not ASCII.
    pub(crate) fn add_non_ascii(&mut self, word: &str) {
        // Most such words of English text are ASCII but for a curly apostrophe ("don’t").
        if let Some((chars, syllables)) = punctuated_ascii(word.as_bytes()) {
            self.chars += chars;
            if let Some(n) = syllables {
                self.syllable_words += 1;
                self.syllables += n;
            }
            return;
        }
        self.chars += crate::text::char_len(word);
        if let Some(n) = syllables_of_word(word) {
            self.syllable_words += 1;
            self.syllables += n;
        }
    }

    /// Adds an ASCII word of the word scan (letters, digits and inner `' - . &`), given its
    /// `word_key` and the vowel groups and or-ed byte classes of its bytes.
    #[inline]
    pub(crate) fn add_ascii(&mut self, b: &[u8], key: u64, groups: usize, classes: u8) {
        self.chars += b.len();
        // Gopher's stop words have two to four bytes.
        self.stop_words += usize::from((2..=4).contains(&b.len()) && crate::is_gopher_stop_key(key));
        if classes & LETTER != 0 {
            self.syllable_words += 1;
            // The ending rules only change a word of two vowel groups or more.
            self.syllables += if groups > 1 {
                let tail = match *b {
                    // Bit 5 lower-cases letters and keeps digits and `' - . &`.
                    [.., x, y, z] => [x | 0x20, y | 0x20, z | 0x20],
                    [y, z] => [0, y | 0x20, z | 0x20],
                    [z] => [0, 0, z | 0x20],
                    [] => [0; 3],
                };
                adjust(groups, tail)
            } else {
                1
            };
        }
    }
}

/// Flesch scores from counts; `None` below `MIN_WORDS` words.
pub(crate) fn scores(n_words: usize, n_syllables: usize, n_sentences: usize) -> Readability {
    if n_words < MIN_WORDS || n_sentences == 0 {
        return Readability::default();
    }
    let words_per_sentence = n_words as f64 / n_sentences as f64;
    let syllables_per_word = n_syllables as f64 / n_words as f64;
    Readability {
        flesch_reading_ease: Some(round3(206.835 - 1.015 * words_per_sentence - 84.6 * syllables_per_word)),
        flesch_kincaid_grade: Some(round3(0.39 * words_per_sentence + 11.8 * syllables_per_word - 15.59)),
    }
}

fn is_vowel(c: char) -> bool {
    matches!(
        c,
        'a' | 'e'
            | 'i'
            | 'o'
            | 'u'
            | 'y'
            | 'à'
            | 'á'
            | 'â'
            | 'ä'
            | 'è'
            | 'é'
            | 'ê'
            | 'ë'
            | 'ì'
            | 'í'
            | 'î'
            | 'ï'
            | 'ò'
            | 'ó'
            | 'ô'
            | 'ö'
            | 'ù'
            | 'ú'
            | 'û'
            | 'ü'
    )
}

/// English syllables, estimated: the number of vowel groups (`a e i o u y`, accented
/// forms included), minus a silent final `e` ("make"; not "-le" after a consonant as in
/// "table"), minus the `e` of a final "-ed" unless after `t` or `d` ("jumped", not
/// "wanted"), minus the `e` of a final "-es" unless after `s x z c g` or `h` ("makes",
/// not "boxes"); at least one. Right for about nine English words in ten, which is all
/// Flesch needs.
/// `syllables(word)`, or `None` for a word without letters.
fn syllables_of_word(word: &str) -> Option<usize> {
    syllables_ascii(word.as_bytes()).unwrap_or_else(|| word.chars().any(char::is_alphabetic).then(|| syllables(word)))
}

pub(crate) fn syllables(word: &str) -> usize {
    if word.is_ascii() {
        return syllables_ascii(word.as_bytes()).flatten().unwrap_or(1);
    }
    // The last three letters (lower-cased ASCII, `*` for any other character), enough for
    // the ending rules; `tail[2]` is the last one.
    let mut tail = [0u8; 3];
    let (mut groups, mut prev_vowel) = (0usize, false);
    for c in word.chars().flat_map(char::to_lowercase) {
        let vowel = is_vowel(c);
        groups += usize::from(vowel && !prev_vowel);
        prev_vowel = vowel;
        tail = [tail[1], tail[2], if c.is_ascii() { c as u8 } else { b'*' }];
    }
    adjust(groups, tail)
}

/// Bit `c - b'a'` is set for the vowels `a e i o u y`.
const VOWEL_BITS: u32 = 1 << 0 | 1 << 4 | 1 << 8 | 1 << 14 | 1 << 20 | 1 << 24;

/// Syllables of an ASCII word (`Some(None)` without letters), or `None` when the word is
/// not ASCII.
fn syllables_ascii(word: &[u8]) -> Option<Option<usize>> {
    let (mut groups, mut prev_vowel, mut letters) = (0usize, false, false);
    for &b in word {
        if b >= 0x80 {
            return None;
        }
        let c = b | 0x20;
        let letter = c.is_ascii_lowercase();
        let vowel = letter && VOWEL_BITS >> (c - b'a') & 1 == 1;
        groups += usize::from(vowel && !prev_vowel);
        prev_vowel = vowel;
        letters |= letter;
    }
    if !letters {
        return Some(None);
    }
    let mut tail = [0u8; 3];
    for (t, &b) in tail.iter_mut().rev().zip(word.iter().rev()) {
        *t = b.to_ascii_lowercase();
    }
    Some(Some(adjust(groups, tail)))
}

/// The characters and `syllables_of_word` of a word whose characters are ASCII or
/// General Punctuation (U+2000 to U+206F: `’`, `‐`, ...), from its bytes; `None` for any
/// other word. Such a punctuation mark is no letter (see `text::is_alphanumeric`), its own
/// lower case, and no vowel: it breaks a vowel group and is `*` in the ending, as in
/// `syllables`.
fn punctuated_ascii(word: &[u8]) -> Option<(usize, Option<usize>)> {
    let (mut chars, mut groups, mut prev_vowel, mut letters) = (0, 0usize, false, false);
    let mut tail = [0u8; 3];
    let mut i = 0;
    while let Some(&b) = word.get(i) {
        // U+2000 to U+203F are E2 80 80 to E2 80 BF; U+2040 to U+206F are E2 81 80 to
        // E2 81 AF.
        let (c, len) = match (b, word.get(i + 1), word.get(i + 2)) {
            (..0x80, ..) => (b.to_ascii_lowercase(), 1),
            (0xe2, Some(0x80), Some(_)) => (b'*', 3),
            (0xe2, Some(0x81), Some(&third)) if third < 0xb0 => (b'*', 3),
            _ => return None,
        };
        let letter = c.is_ascii_lowercase();
        let vowel = letter && VOWEL_BITS >> (c - b'a') & 1 == 1;
        groups += usize::from(vowel && !prev_vowel);
        prev_vowel = vowel;
        letters |= letter;
        tail = [tail[1], tail[2], c];
        chars += 1;
        i += len;
    }
    Some((chars, letters.then(|| adjust(groups, tail))))
}

/// The ending rules, for a word of `groups` vowel groups ending with `tail`.
fn adjust(mut groups: usize, tail: [u8; 3]) -> usize {
    let consonant = |b: u8| b.is_ascii_alphabetic() && !is_vowel(b as char);
    if groups > 1 {
        match tail {
            [_, b'l', b'e'] if consonant(tail[0]) => {}
            [_, b'e' | b'i', b'e'] => {}
            [_, _, b'e'] => groups -= 1,
            [b't' | b'd', b'e', b'd'] => {}
            [_, b'e', b'd'] => groups -= 1,
            [b's' | b'x' | b'z' | b'c' | b'g' | b'h', b'e', b's'] => {}
            [_, b'e', b's'] => groups -= 1,
            _ => {}
        }
    }
    groups.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syllable_heuristic() {
        // Dictionary syllable counts (Merriam-Webster), which the heuristic gets right.
        for (word, n) in [
            ("the", 1),
            ("make", 1),
            ("table", 2),
            ("people", 2),
            ("free", 1),
            ("jumped", 1),
            ("wanted", 2),
            ("makes", 1),
            ("boxes", 2),
            ("immigration", 4),
            ("police", 2),
            ("commissioner", 4),
            ("government", 3),
            ("a", 1),
            ("rhythm", 1),
            ("2014", 1),
            ("café", 2),
            ("CAFÉ", 2),
            ("Table", 2),
        ] {
            assert_eq!(syllables(word), n, "{word}");
        }
    }

    #[test]
    fn punctuated_ascii_like_chars() {
        let words = [
            "don’t",
            "It’s",
            "DON’T",
            "e‐mail",
            "rock’n’roll",
            "’",
            "’’",
            "a’",
            "’e",
            "table’",
            "make’s",
            "jumped’",
            "boxes’",
            "42’",
            "’42",
            "café",
            "don’tcafé",
            "x\u{2070}",
            "x\u{206f}",
            "x\u{2040}",
            "x\u{201c}y",
            "Yes’",
            "rhythm’s",
            "the’",
            "’the",
            "queue’d",
            "ées",
            "a\u{300}",
            "東’",
            "x\u{2100}",
            "x\u{1fff}",
        ];
        for word in words {
            let want = (crate::text::char_len(word), syllables_of_word(word));
            match punctuated_ascii(word.as_bytes()) {
                Some(got) => assert_eq!(got, want, "{word}"),
                // Only words with another character than ASCII and General Punctuation are
                // left to the slow path.
                None => {
                    assert!(word.chars().any(|c| !c.is_ascii() && !('\u{2000}'..='\u{206f}').contains(&c)), "{word}")
                }
            }
        }
    }

    #[test]
    fn one_pass_word_stats() {
        // "The" (stop word, 1 syllable), "Café" (4 characters, 2), "makes" (1), "boxes" (2),
        // "don't" (1), "42" (no letter: no syllables).
        let block = pith_types::Block {
            index: 0,
            kind: pith_types::BlockKind::Paragraph,
            text: "The Café makes boxes, don't 42".into(),
            span: pith_types::Span { start: 0, end: 0 },
        };
        let (_, stats) = crate::words::scan(&block.text, std::slice::from_ref(&block), &[0], &[]);
        // Six words, five of them ASCII, one ("The") a common English word.
        let english_sample = crate::EnglishSample { words: 6, ascii: 5, common: 1 };
        let want =
            WordStats { chars: 3 + 4 + 5 + 5 + 5 + 2, stop_words: 1, syllable_words: 5, syllables: 7, english_sample };
        assert_eq!(stats, want);
    }

    #[test]
    fn flesch_scores() {
        // 20 one-syllable words in 2 sentences: 10 words per sentence, 1 syllable per word.
        // Flesch: 206.835 - 1.015 * 10 - 84.6 * 1 = 112.085.
        // Flesch-Kincaid: 0.39 * 10 + 11.8 * 1 - 15.59 = 0.11.
        let words = ["cat"; 20];
        let r = readability(words.into_iter(), 2);
        assert_eq!(r.flesch_reading_ease, Some(112.085));
        assert_eq!(r.flesch_kincaid_grade, Some(0.11));
        // Too few words.
        assert_eq!(readability(["cat"; 19].into_iter(), 2), Readability::default());
    }
}
