//! Years, full dates, money amounts and percentages, from one scan over the digit runs.
//!
//! Rules (English-centred, documented in FEATURES.md):
//! - a number is a run of ASCII digits with optional `,ddd` groups and one `.d+` part;
//! - a year is a bare four-digit number 1900..=2099 that is not glued to letters, digits,
//!   currency signs or `#`, not a percentage or an amount, and stands in a date-like
//!   context: after a word such as "in", "since", "of", a month name or "the", before
//!   punctuation or the end of the text, as "1990s", at the start of a line, or in a
//!   range with another year ("2014-2017");
//! - a full date is "March 3, 2019" / "Mar. 3rd 2019", "3 March 2019" / "3rd of March,
//!   2019" or "2019-03-03", with a real day of that month; it is written `YYYY-MM-DD`;
//! - money is a number after `$ € £ ¥` (optionally `US$`, `A$`, `C$`, `HK$`, `NZ$`, or a
//!   code like `USD `) or before a currency word ("dollars", "euros", "EUR", "€"), with an
//!   optional scale ("million", "bn", "m", "k");
//! - a percentage is a number before `%`, " percent" or " per cent".

use pith_types::Money;

use crate::lexicon::month_number;
use crate::round3;

#[derive(Debug, Default, PartialEq)]
pub(crate) struct Numbers {
    pub(crate) years: Vec<u32>,
    pub(crate) dates: Vec<String>,
    pub(crate) money: Vec<Money>,
    pub(crate) percentages: Vec<f64>,
}

/// Lower-case words after which a four-digit number reads as a year.
const YEAR_CONTEXT: &[&str] = &[
    "in", "since", "of", "by", "from", "until", "till", "to", "before", "after", "during", "early", "late", "mid",
    "around", "circa", "between", "and", "or", "through", "year", "the", "spring", "summer", "autumn", "fall",
    "winter", "season", "class", "fiscal", "fy", "about", "for", "as",
];

/// Scale words after an amount, with their factor. Longest first.
const SCALES: &[(&str, f64)] = &[
    (" trillion", 1e12),
    (" billion", 1e9),
    (" million", 1e6),
    (" thousand", 1e3),
    (" bn", 1e9),
    (" mn", 1e6),
    ("bn", 1e9),
    ("mn", 1e6),
    ("tn", 1e12),
    ("m", 1e6),
    ("M", 1e6),
    ("B", 1e9),
    ("k", 1e3),
    ("K", 1e3),
];

/// Currency words after an amount. Longest first.
const CURRENCY_WORDS: &[(&str, &str)] = &[
    (" dollars", "USD"),
    (" euros", "EUR"),
    (" pounds", "GBP"),
    (" yen", "JPY"),
    (" USD", "USD"),
    (" EUR", "EUR"),
    (" GBP", "GBP"),
    (" JPY", "JPY"),
    (" CHF", "CHF"),
    (" €", "EUR"),
    ("€", "EUR"),
];

/// What the words of `SCALES` and `CURRENCY_WORDS` start with: one of the first bytes, or
/// a space and one of the second bytes (see `may_start`).
const SCALE_STARTS: (&[u8], &[u8]) = (b"bmtMBkK", b"tbm");
const CURRENCY_STARTS: (&[u8], &[u8]) = (b"\xe2", b"depyUEGJC\xe2");

/// Whether `rest` may start with one of the words that `starts` describes: most numbers
/// are followed by none of them, which this tells without comparing every word.
fn may_start(rest: &str, (first, after_space): (&[u8], &[u8])) -> bool {
    match rest.as_bytes() {
        [b' ', second, ..] => after_space.contains(second),
        [b, ..] => first.contains(b),
        [] => false,
    }
}

/// Three-letter codes written before an amount ("USD 5").
const CODES: &[&str] = &["USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD"];

pub(crate) fn numbers(text: &str) -> Numbers {
    let mut res = Numbers::default();
    let b = text.as_bytes();
    let mut i = 0;
    // The end of the last accepted year, for ranges like "2014-2017".
    let mut last_year_end = usize::MAX;
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            i += 1;
            // Most of a text has no digit: skip 32 bytes at a time (a fold without early
            // exit, which the compiler vectorises), then go to the digit of the 32 that
            // have one.
            while let Some(run) = b.get(i..i + 32)
                && !run.iter().fold(false, |any, c| any | c.is_ascii_digit())
            {
                i += 32;
            }
            if i + 32 <= b.len() {
                // These 32 bytes have a digit.
                while !b[i].is_ascii_digit() {
                    i += 1;
                }
            }
            continue;
        }
        let s = i;
        let e = digits_end(b, s);
        let x = number_end(b, e);
        i = x;
        // Part of a larger number ("1.2.3", "12,34") or glued to a letter ("A380", "x2").
        if s > 0 && (b[s - 1] == b'.' || b[s - 1] == b',') && s > 1 && b[s - 2].is_ascii_digit() {
            continue;
        }
        let prev = text[..s].chars().next_back();
        if prev.is_some_and(char::is_alphanumeric) {
            continue;
        }
        if let Some(end) = iso_date(text, s, e, &mut res) {
            i = end;
            continue;
        }
        if let Some(end) = percentage(text, s, x, &mut res) {
            i = end;
            continue;
        }
        if let Some(end) = money(text, s, x, &mut res) {
            i = end;
            continue;
        }
        if x != e {
            continue;
        }
        if let Some(end) = month_first_date(text, s, e, &mut res).or_else(|| day_first_date(text, s, e, &mut res)) {
            i = end;
            continue;
        }
        if e - s == 4 && year_in_context(text, s, e, last_year_end) {
            res.years.push(parse_u32(&text[s..e]));
            last_year_end = e;
        }
    }
    res.years.sort_unstable();
    res.years.dedup();
    res.dates.sort_unstable();
    res.dates.dedup();
    res
}

fn digits_end(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    i
}

/// The end of the number whose first digit run ends at `e`: `,ddd` groups, then one
/// `.d+` part.
fn number_end(b: &[u8], mut x: usize) -> usize {
    while x + 3 < b.len() && b[x] == b',' && digits_end(b, x + 1) == x + 4 {
        x += 4;
    }
    if x + 1 < b.len() && b[x] == b'.' && b[x + 1].is_ascii_digit() {
        x = digits_end(b, x + 1);
    }
    x
}

fn parse_u32(digits: &str) -> u32 {
    digits.bytes().fold(0u32, |acc, d| acc.saturating_mul(10).saturating_add(u32::from(d - b'0')))
}

fn parse_number(s: &str) -> f64 {
    // Most numbers have no group separator: no copy.
    if !s.contains(',') {
        return s.parse().unwrap_or(0.0);
    }
    let cleaned: String = s.chars().filter(|&c| c != ',').collect();
    cleaned.parse().unwrap_or(0.0)
}

fn is_year(v: u32) -> bool {
    (1900..=2099).contains(&v)
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn push_date(res: &mut Numbers, year: u32, month: u32, day: u32) -> bool {
    if !is_year(year) || !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return false;
    }
    res.dates.push(format!("{year:04}-{month:02}-{day:02}"));
    res.years.push(year);
    true
}

/// `YYYY-MM-DD`, not followed by another digit.
fn iso_date(text: &str, s: usize, e: usize, res: &mut Numbers) -> Option<usize> {
    let b = text.as_bytes();
    if e - s != 4 || b.get(e) != Some(&b'-') || digits_end(b, e + 1) != e + 3 {
        return None;
    }
    if b.get(e + 3) != Some(&b'-') || digits_end(b, e + 4) != e + 6 {
        return None;
    }
    let year = parse_u32(&text[s..e]);
    let month = parse_u32(&text[e + 1..e + 3]);
    let day = parse_u32(&text[e + 4..e + 6]);
    push_date(res, year, month, day).then_some(e + 6)
}

fn percentage(text: &str, s: usize, x: usize, res: &mut Numbers) -> Option<usize> {
    let rest = &text[x..];
    let end = if let Some(r) = rest.strip_prefix('%').or_else(|| rest.strip_prefix(" %")) {
        text.len() - r.len()
    } else {
        let r = rest.strip_prefix(" percent").or_else(|| rest.strip_prefix(" per cent"))?;
        if r.chars().next().is_some_and(char::is_alphanumeric) {
            return None;
        }
        text.len() - r.len()
    };
    res.percentages.push(round3(parse_number(&text[s..x])));
    Some(end)
}

fn money(text: &str, s: usize, x: usize, res: &mut Numbers) -> Option<usize> {
    let before = &text[..s];
    let before_sym = before.strip_suffix(' ').unwrap_or(before);
    let prefixed = match before_sym.chars().next_back() {
        Some('$') => {
            let head = &before_sym[..before_sym.len() - 1];
            let (currency, start) =
                [("US", "USD"), ("A", "AUD"), ("AU", "AUD"), ("C", "CAD"), ("CA", "CAD"), ("HK", "HKD"), ("NZ", "NZD")]
                    .iter()
                    .filter(|(p, _)| {
                        head.ends_with(p)
                            && !head[..head.len() - p.len()].chars().next_back().is_some_and(char::is_alphanumeric)
                    })
                    .map(|(p, c)| (*c, head.len() - p.len()))
                    .next()
                    .unwrap_or(("USD", head.len()));
            Some((currency, start))
        }
        Some('€') => Some(("EUR", before_sym.len() - '€'.len_utf8())),
        Some('£') => Some(("GBP", before_sym.len() - '£'.len_utf8())),
        Some('¥') => Some(("JPY", before_sym.len() - '¥'.len_utf8())),
        _ => before.strip_suffix(' ').and_then(|head| {
            CODES
                .iter()
                .find(|code| {
                    head.ends_with(*code)
                        && !head[..head.len() - 3].chars().next_back().is_some_and(char::is_alphanumeric)
                })
                .map(|code| (*code, head.len() - 3))
        }),
    };
    let (scale, after_scale) = scale_at(text, x);
    let (currency, start, end) = match prefixed {
        Some((currency, start)) => (currency, start, after_scale),
        None => {
            let rest = &text[after_scale..];
            if !may_start(rest, CURRENCY_STARTS) {
                return None;
            }
            let (word, currency) = CURRENCY_WORDS.iter().find(|(w, _)| rest.starts_with(w))?;
            let end = after_scale + word.len();
            if text[end..].chars().next().is_some_and(char::is_alphanumeric) {
                return None;
            }
            (*currency, s, end)
        }
    };
    // Parsed only now: most numbers are no amount.
    let value = parse_number(&text[s..x]);
    res.money.push(Money {
        text: text[start..end].to_owned(),
        currency: currency.to_owned(),
        amount: round3(value * scale),
    });
    Some(end)
}

/// A scale word at `x`, followed by a non-alphanumeric character: its factor and end.
fn scale_at(text: &str, x: usize) -> (f64, usize) {
    let rest = &text[x..];
    if !may_start(rest, SCALE_STARTS) {
        return (1.0, x);
    }
    for (word, factor) in SCALES {
        if let Some(r) = rest.strip_prefix(word)
            && !r.chars().next().is_some_and(char::is_alphanumeric)
        {
            return (*factor, x + word.len());
        }
    }
    (1.0, x)
}

/// An ordinal suffix ("st", "nd", "rd", "th") at `e`, returning its end.
fn skip_ordinal(text: &str, e: usize) -> usize {
    let rest = &text[e..];
    for suffix in ["st", "nd", "rd", "th"] {
        if let Some(r) = rest.strip_prefix(suffix)
            && !r.chars().next().is_some_and(char::is_alphanumeric)
        {
            return e + 2;
        }
    }
    e
}

/// A four-digit year at `at`, after optional `,` and one space: its value and end.
fn year_at(text: &str, at: usize) -> Option<(u32, usize)> {
    let b = text.as_bytes();
    let mut at = at;
    if b.get(at) == Some(&b',') {
        at += 1;
    }
    if b.get(at) != Some(&b' ') {
        return None;
    }
    at += 1;
    let end = digits_end(b, at);
    if end - at != 4 || matches!(b.get(end), Some(b'.' | b',')) && b.get(end + 1).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    if text[end..].chars().next().is_some_and(char::is_alphanumeric) {
        return None;
    }
    Some((parse_u32(&text[at..end]), end))
}

/// The capitalised word ending right before `end` (after one space and an optional
/// period), for month names.
fn word_before(text: &str, end: usize) -> &str {
    let head = text[..end].strip_suffix(' ').unwrap_or("");
    last_word(head.strip_suffix('.').unwrap_or(head))
}

/// "March 3, 2019", "Mar. 3rd 2019".
fn month_first_date(text: &str, s: usize, e: usize, res: &mut Numbers) -> Option<usize> {
    if e - s > 2 {
        return None;
    }
    let month = month_number(word_before(text, s))?;
    let (year, end) = year_at(text, skip_ordinal(text, e))?;
    push_date(res, year, month, parse_u32(&text[s..e])).then_some(end)
}

/// "3 March 2019", "3rd of March, 2019".
fn day_first_date(text: &str, s: usize, e: usize, res: &mut Numbers) -> Option<usize> {
    if e - s > 2 {
        return None;
    }
    let rest = &text[skip_ordinal(text, e)..];
    let rest = rest.strip_prefix(' ')?;
    let rest = rest.strip_prefix("of ").unwrap_or(rest);
    let word_len = rest.find(|c: char| !c.is_alphabetic()).unwrap_or(rest.len());
    let month = month_number(&rest[..word_len])?;
    let mut at = text.len() - rest.len() + word_len;
    if text.as_bytes().get(at) == Some(&b'.') {
        at += 1;
    }
    let (year, end) = year_at(text, at)?;
    push_date(res, year, month, parse_u32(&text[s..e])).then_some(end)
}

fn year_in_context(text: &str, s: usize, e: usize, last_year_end: usize) -> bool {
    let value = parse_u32(&text[s..e]);
    if !is_year(value) {
        return false;
    }
    let b = text.as_bytes();
    let prev = text[..s].chars().next_back();
    if prev.is_some_and(|c| matches!(c, '$' | '€' | '£' | '¥' | '#' | '+' | '.' | ',')) {
        return false;
    }
    // A dash or slash before: only in a range with a year just before ("2014-2017").
    if matches!(prev, Some('-' | '–' | '/')) {
        let dash_at = s - prev.map_or(1, char::len_utf8);
        return last_year_end == dash_at;
    }
    let next = text[e..].chars().next();
    match next {
        None => return true,
        Some('%') => return false,
        Some('s') => return !text[e + 1..].chars().next().is_some_and(char::is_alphanumeric),
        Some(c) if c.is_alphanumeric() => return false,
        // A dash or slash after: only before another year or a two-digit year ("2014-15").
        Some('-' | '–' | '/') => {
            let at = e + next.map_or(1, char::len_utf8);
            let end = digits_end(b, at);
            return (end - at == 4 && is_year(parse_u32(&text[at..end]))) || end - at == 2;
        }
        Some(c) if !c.is_whitespace() => return true,
        Some(_) => {}
    }
    // Followed by white space: look at what comes before.
    let head = &text[..s];
    let trimmed = head.trim_end_matches([' ', '\t', '\u{a0}']);
    if trimmed.is_empty() || trimmed.ends_with('\n') {
        // The start of a line.
        return true;
    }
    if trimmed.len() == head.len() {
        // Glued to punctuation such as "(" or a quote mark, as in a citation or a title.
        return true;
    }
    let word = last_word(trimmed);
    month_number(word).is_some() || YEAR_CONTEXT.iter().any(|w| w.eq_ignore_ascii_case(word))
}

/// The alphabetic word at the end of `s` (empty if `s` ends with something else).
fn last_word(s: &str) -> &str {
    let start = s.char_indices().rev().take_while(|(_, c)| c.is_alphabetic()).last().map_or(s.len(), |(i, _)| i);
    &s[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(text: &str, currency: &str, amount: f64) -> Money {
        Money { text: text.into(), currency: currency.into(), amount }
    }

    #[test]
    fn years_in_context() {
        // Accepted: after "in"/"from", before punctuation, a decade, a range, a line start.
        let n = numbers("enacted in 2014, a ruling from 2017 known; the 1990s. 2001-2003\n1999 was");
        assert_eq!(n.years, [1990, 1999, 2001, 2003, 2014, 2017]);
        // Rejected: quantities, phone numbers, amounts, percentages, out of range, glued.
        let n = numbers("more than 2000 people, 617-555-2014 x, $2015, 2016%, 1850, A2018 2019x");
        assert_eq!(n.years, Vec::<u32>::new());
        // Digit-free stretches are skipped 32 bytes at a time; the year after one is found
        // at any offset.
        for pad in 30..70 {
            assert_eq!(numbers(&format!("{} in 2014.", "a".repeat(pad))).years, [2014], "{pad}");
        }
    }

    #[test]
    fn full_dates() {
        // Each form once; "February 30" is no date; the year of a date is a year.
        let n =
            numbers("On March 3, 2019 and 4th of July, 2020 and 2021-12-31 and 5 Jan. 2022, not February 30, 2019.");
        assert_eq!(n.dates, ["2019-03-03", "2020-07-04", "2021-12-31", "2022-01-05"]);
        assert_eq!(n.years, [2019, 2020, 2021, 2022]);
    }

    #[test]
    fn word_starts_describe_the_words() {
        for (word, _) in SCALES {
            assert!(may_start(word, SCALE_STARTS), "{word}");
        }
        for (word, _) in CURRENCY_WORDS {
            assert!(may_start(word, CURRENCY_STARTS), "{word}");
        }
        for rest in ["", " ", " and", "%", "x", " €", "s "] {
            assert!(!may_start(rest, SCALE_STARTS), "{rest}");
        }
    }

    #[test]
    fn money_and_percentages() {
        let n = numbers("It cost $1.2 million, €300, US$ 5bn, 20 euros and £1,500.50; up 12.5% or 3 percent.");
        assert_eq!(
            n.money,
            [
                money("$1.2 million", "USD", 1_200_000.0),
                money("€300", "EUR", 300.0),
                money("US$ 5bn", "USD", 5e9),
                money("20 euros", "EUR", 20.0),
                money("£1,500.50", "GBP", 1500.5),
            ]
        );
        assert_eq!(n.percentages, [12.5, 3.0]);
    }
}
