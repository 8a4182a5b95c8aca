//! Direct quotations and who said them.
//!
//! A quotation is text between `“…”`, `"…"`, `«…»`, `„…“` (or `„…”`) or `「…」` inside one
//! block, with at least three words (or, in Chinese, Japanese or Korean, two characters),
//! and not in title case (so `“On the Record”` and `“Trust Act”` are names, not quotes).
//! Its text is what stands between the marks, trimmed, without a trailing comma.
//!
//! The speaker comes from the first attribution that matches:
//! 1. after the quote, when it ends with `, ? ! — …` or a comma follows the closing mark:
//!    `“…,” he said` / `“…,” Cox stated` / `“…,” said Cox` / `“…,” said he` /
//!    `“…,” according to Wu`;
//! 2. before the quote, after `,` or `:`: `Cox declared, “…”` / `she stated, “…”`; with no
//!    subject next to the verb (`..., explaining, “…”`), the first person named in the
//!    sentence;
//! 3. a person in the quote's sentence followed by a speech verb (`Homan cautioned leaders
//!    not to “cross that line”`).
//!
//! "he" and "she" resolve to the last person named before the quote, outside quotes.
//! Speakers are named as entities are (see `entities`): the longest title-free form.

use pith_types::{Block, Quote};

use crate::entities::{Named, Names};

/// A quotation: byte offsets in the document text of the opening mark, the inner text and
/// the end of the closing mark.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Span {
    pub(crate) open: usize,
    pub(crate) inner_start: usize,
    pub(crate) inner_end: usize,
    pub(crate) close_end: usize,
}

/// White space within a line, and the given marks.
fn inline_gap(s: &str, marks: &[char]) -> bool {
    s.chars().all(|c| (c.is_whitespace() && c != '\n') || marks.contains(&c))
}

/// Opening marks and their closing marks.
const PAIRS: &[(char, &[char])] = &[('“', &['”']), ('«', &['»']), ('„', &['“', '”']), ('「', &['」']), ('"', &['"'])];
const OPENERS: [char; 5] = ['“', '«', '„', '「', '"'];

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{3040}'..='\u{30ff}' | '\u{3400}'..='\u{9fff}' | '\u{ac00}'..='\u{d7af}' | '\u{f900}'..='\u{faff}')
}

/// A quotation worth keeping: enough words, not a title.
fn is_quotation(inner: &str) -> bool {
    let inner = inner.trim();
    let mut n_words = 0;
    let (mut n_long, mut n_long_capitalised) = (0, 0);
    for word in inner.split_whitespace() {
        n_words += 1;
        let letters = word.chars().filter(|c| c.is_alphabetic()).count();
        if letters > 3 {
            n_long += 1;
            n_long_capitalised += usize::from(word.starts_with(char::is_uppercase));
        }
    }
    if n_words >= 3 {
        return n_long == 0 || n_long_capitalised < n_long;
    }
    inner.chars().filter(|&c| is_cjk(c)).nth(1).is_some()
}

/// Finds the quotations of every block. `starts[i]` is the offset of `blocks[i]`.
///
/// Linear: a search for a closing mark that fails is not repeated in the same block, and
/// a successful one moves the scan past the closing mark.
pub(crate) fn find(text: &str, blocks: &[Block], starts: &[usize]) -> Vec<Span> {
    let mut res = Vec::new();
    for (block, &block_start) in blocks.iter().zip(starts) {
        let s = &text[block_start..block_start + block.text.len()];
        let mut no_closer = [false; PAIRS.len()];
        let mut i = 0;
        // The openers start with one of these bytes: `"`, 0xC2 («), 0xE2 (“ „), 0xE3 (「).
        let bytes = s.as_bytes();
        // The next 0xE3 at or after `i` (kana and CJK punctuation), searched apart.
        let mut next_e3 = memchr::memchr(0xe3, bytes).unwrap_or(bytes.len());
        loop {
            if next_e3 < i {
                next_e3 = memchr::memchr(0xe3, &bytes[i..]).map_or(bytes.len(), |p| i + p);
            }
            let other = memchr::memchr3(b'"', 0xc2, 0xe2, &bytes[i..]).map_or(bytes.len(), |p| i + p);
            let open_at = other.min(next_e3);
            if open_at >= bytes.len() {
                break;
            }
            let Some(open) = s[open_at..].chars().next() else { break };
            if !OPENERS.contains(&open) {
                i = open_at + open.len_utf8();
                continue;
            }
            let kind = PAIRS.iter().position(|(o, _)| *o == open).unwrap_or(0);
            let inner_start = open_at + open.len_utf8();
            i = inner_start;
            if no_closer[kind] {
                continue;
            }
            if open == '"' {
                // A straight quote opens only before a non-space and after a non-letter.
                let before = s[..open_at].chars().next_back();
                let after = s[inner_start..].chars().next();
                if before.is_some_and(char::is_alphanumeric) || after.is_none_or(char::is_whitespace) {
                    continue;
                }
            }
            // One closing mark is searched as a `char`, which the standard library finds
            // with `memchr` instead of decoding every character.
            let close_pos = match PAIRS[kind].1 {
                &[close] => s[inner_start..].find(close),
                closers => s[inner_start..].find(closers),
            };
            let Some(close_pos) = close_pos else {
                no_closer[kind] = true;
                continue;
            };
            let mut inner_start = inner_start;
            let mut open_at = open_at;
            if open != '"' {
                // An earlier opening mark without its closing one: start at the last one.
                if let Some(again) = s[inner_start..inner_start + close_pos].rfind(open) {
                    open_at = inner_start + again;
                    inner_start = open_at + open.len_utf8();
                }
            }
            let inner_end = i + close_pos;
            let close = s[inner_end..].chars().next().map_or(1, char::len_utf8);
            i = inner_end + close;
            if is_quotation(&s[inner_start..inner_end]) {
                res.push(Span {
                    open: block_start + open_at,
                    inner_start: block_start + inner_start,
                    inner_end: block_start + inner_end,
                    close_end: block_start + i,
                });
            }
        }
    }
    res
}

/// The quotations with their speakers.
pub(crate) fn attribute(names: &Names<'_>, spans: &[Span]) -> Vec<Quote> {
    spans
        .iter()
        .map(|span| {
            let inner = names.text[span.inner_start..span.inner_end].trim();
            let inner = inner.strip_suffix(',').unwrap_or(inner).trim_end();
            let speaker = after(names, span).or_else(|| before(names, span)).or_else(|| in_sentence(names, span));
            Quote { text: inner.to_owned(), speaker: speaker.map(str::to_owned) }
        })
        .collect()
}

fn pronoun(word: &str) -> bool {
    matches!(word, "he" | "she" | "He" | "She")
}

/// The person a pronoun at `pos` stands for.
fn resolve<'a>(names: &Names<'a>, pos: usize) -> Option<&'a str> {
    names.last_person_before(pos).map(|p| names.person_name(p))
}

/// `“…,” he said`, `“…,” Cox stated`, `“…,” said Cox`, `“…,” according to Wu`.
fn after<'a>(names: &Names<'a>, span: &Span) -> Option<&'a str> {
    let inner = names.text[span.inner_start..span.inner_end].trim_end();
    let rest = &names.text[span.close_end..];
    let continues = inner.ends_with([',', '?', '!', '—', '–', '…']) || rest.starts_with(',');
    if !continues {
        return None;
    }
    let w = names.word_at_or_after(span.close_end);
    let word = names.words.get(w)?;
    // Only a comma and white space between the closing mark and the word.
    if !inline_gap(&names.text[span.close_end..word.start()], &[',']) {
        return None;
    }
    let first = names.word(w);
    if pronoun(first) {
        let verb = names.next_skipping_adverbs(w)?;
        return names.is_speech_verb(verb).then(|| resolve(names, span.open)).flatten();
    }
    if names.is_speech_verb(w) {
        let next = names.next_skipping_adverbs(w)?;
        if pronoun(names.word(next)) {
            return resolve(names, span.open);
        }
        return names.speaker_of_run(names.run_of(next)?);
    }
    if first == "according" {
        let to = names.next_skipping_adverbs(w).filter(|&t| names.word(t) == "to")?;
        let next = names.next_skipping_adverbs(to)?;
        return names.speaker_of_run(names.run_of(next)?);
    }
    let run = names.run_of(w)?;
    let verb = names.next_skipping_adverbs(names.runs[run].last as usize)?;
    if names.is_speech_verb(verb) { names.speaker_of_run(run) } else { None }
}

/// `Cox declared, “…”`, `she stated: “…”`, `..., explaining, “…”`.
fn before<'a>(names: &Names<'a>, span: &Span) -> Option<&'a str> {
    let head = names.text[..span.open].trim_end();
    if !head.ends_with([',', ':']) {
        return None;
    }
    let verb = names.word_at_or_after(span.open).checked_sub(1)?;
    let verb_word = names.words.get(verb)?;
    if !inline_gap(&names.text[verb_word.end()..span.open], &[',', ':']) || !names.is_speech_verb(verb) {
        return None;
    }
    if let Some(subject) = names.prev_skipping_adverbs(verb) {
        if pronoun(names.word(subject)) {
            return resolve(names, span.open);
        }
        // A named subject, or an unnamed one ("the official said").
        return names.run_of(subject).and_then(|run| names.speaker_of_run(run));
    }
    // No subject next to the verb: the sentence's first person, or its pronoun subject.
    let sentence = sentence_start(names, verb);
    let person = (sentence..verb).find_map(|i| match names.run_of(i) {
        Some(run) if names.runs[run].first as usize == i && !names.words[i].in_quote() => match names.runs[run].named {
            Named::Person(p) => Some(names.person_name(p)),
            _ => None,
        },
        _ => None,
    });
    person.or_else(|| pronoun(names.word(sentence)).then(|| resolve(names, names.words[sentence].start())).flatten())
}

/// Sentences are searched at most this many words back, which keeps the attribution
/// linear on text without sentence punctuation.
const MAX_SENTENCE_WORDS: usize = 80;

/// The first word of the sentence of word `i`, at most `MAX_SENTENCE_WORDS` back.
fn sentence_start(names: &Names<'_>, i: usize) -> usize {
    names.sentence_start(i, MAX_SENTENCE_WORDS)
}

/// A person of the quote's sentence, before it, followed by a speech verb.
fn in_sentence<'a>(names: &Names<'a>, span: &Span) -> Option<&'a str> {
    let at = names.word_at_or_after(span.open).checked_sub(1)?;
    if names.text[names.words[at].end()..span.open].contains('\n') {
        return None;
    }
    let sentence = sentence_start(names, at);
    (sentence..=at).find_map(|i| {
        let run = names.run_of(i)?;
        let run_data = &names.runs[run];
        (run_data.first as usize == i && run_data.speaks && !names.words[i].in_quote())
            .then(|| names.speaker_of_run(run))
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{entities, text, words};

    /// The quotes of a document whose blocks are `paragraphs`, as (text, speaker).
    fn check(paragraphs: &[&str], expect: &[(&str, Option<&str>)]) {
        let blocks = text::paragraph_blocks(paragraphs);
        let text = pith_types::join_blocks(&blocks);
        let starts = text::block_starts(&blocks);
        let spans = find(&text, &blocks, &starts);
        let ranges: Vec<(usize, usize)> = spans.iter().map(|q| (q.inner_start, q.inner_end)).collect();
        let names = entities::analyse(&text, words::scan(&text, &blocks, &starts, &ranges).0);
        let quotes = attribute(&names, &spans);
        let got: Vec<(&str, Option<&str>)> = quotes.iter().map(|q| (q.text.as_str(), q.speaker.as_deref())).collect();
        assert_eq!(got, expect);
    }

    #[test]
    fn attributions_after_the_quote() {
        // `“…,” he said`: "he" is the last person named before the quote (rule 1).
        check(
            &["Mayor Ann Lee spoke to the press.", "“We will win this one,” he said."],
            &[("We will win this one", Some("Ann Lee"))],
        );
        // `“…,” said Lee` and `“…,” Lee stated`: the surname resolves to the full name.
        check(
            &["Mayor Ann Lee spoke.", "“We will win this,” said Lee. “They will lose that,” Lee stated."],
            &[("We will win this", Some("Ann Lee")), ("They will lose that", Some("Ann Lee"))],
        );
        // `“…,” according to Wu`, with a straight-quoted quote.
        check(&["\"The plan is done,\" according to Mayor Wu."], &[("The plan is done", Some("Wu"))]);
        // A quote ending with a period takes no attribution from what follows.
        check(&["“It is over now.” Wu said nothing else."], &[("It is over now.", None)]);
    }

    #[test]
    fn attributions_before_the_quote() {
        // `Cox declared, “…”` (rule 2).
        check(
            &["Commissioner Michael Cox declared, “we do not enforce them.”"],
            &[("we do not enforce them.", Some("Michael Cox"))],
        );
        // No subject next to the verb: the sentence's first person.
        check(
            &["Commissioner Cox firmly said no to it, explaining, “It is defined here.”"],
            &[("It is defined here.", Some("Cox"))],
        );
        // `she stated, “…”`.
        check(
            &["Mayor Michelle Wu spoke.", "Later, she stated, “Elections have consequences.”"],
            &[("Elections have consequences.", Some("Michelle Wu"))],
        );
        // An unnamed subject: no speaker.
        check(&["The official said, “We are done here.”"], &[("We are done here.", None)]);
        // A speaker in the sentence (rule 3).
        check(
            &["Tom Homan cautioned leaders not to “cross that line,” signaling trouble."],
            &[("cross that line", Some("Tom Homan"))],
        );
    }

    #[test]
    fn marks_and_filters() {
        // Names in title case and two-word quotes are not quotations.
        check(&["He was on “On the Record” and backed the “Trust Act” and “good idea” too."], &[]);
        check(
            &[
                "«Nous allons gagner ce soir», a dit Macron.",
                "„Wir werden das schaffen“, sagte Merkel.",
                "彼は「これは引用です」と言った。",
            ],
            &[("Nous allons gagner ce soir", None), ("Wir werden das schaffen", None), ("これは引用です", None)],
        );
        // An unclosed mark is skipped; the next pair is found.
        check(&["“unclosed and then “a real quote here” ends"], &[("a real quote here", None)]);
    }
}
