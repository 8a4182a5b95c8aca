//! Named entities from capitalised spans, with cheap kinds.
//!
//! The body's non-heading blocks are cut into words; a *run* is a sequence of capitalised
//! words one space apart. Connectors ("of", "and", ...) join the words of an
//! organisation's or place's name ("Immigration and Customs Enforcement") and separate
//! other names ("Jo Smith and Tom Brown"). Leading function words ("The", "In") and
//! trailing days and months are dropped, words like "TV" or "CEO" are no names, and a lone
//! capitalised word at the start of a sentence or quote counts only if the document also
//! capitalises it elsewhere (so "Critics" at a sentence start is no entity, "Homan" is).
//!
//! Kinds, first match wins:
//! 1. person: a title before the name ("Mayor Michelle Wu", "Commissioner Cox"), a
//!    lower-case job word before it ("border czar Tom Homan"), a common given name first
//!    ("Tom Homan"), or a speech verb after it ("Adam Neumann said", "Cox firmly
//!    stressed") or before it ("said Cox", "according to Wu"); a single word next to a
//!    speech verb only if the document also ends a full name with it ("Marcelo Claure"),
//!    since companies speak too ("Toyota said");
//! 2. place: a built-in US state, country or major city;
//! 3. person: the surname of a person found by rule 1 ("Cox addressed concerns");
//! 4. organisation: an organisation word in the span ("Boston Police Department",
//!    "Massachusetts Supreme Judicial Court"), a lone acronym ("ICE", "WCVB") or a lone
//!    CamelCase word ("WeWork");
//! 5. place: after "in" or "near", or a single word after "at" or "from";
//! 6. other.
//!
//! A person is keyed by surname (the last name word, "Jr."-like suffixes aside), and named
//! by the longest title-free form the document uses ("Michael Cox" for "Commissioner
//! Cox" and "Cox"); two people sharing a surname are merged.

use std::collections::hash_map::Entry;
use std::hash::BuildHasher;

use pith_types::Entity;
use rustc_hash::FxHashMap;

use crate::lexicon::{
    self, CONNECTOR, FUNCTION, GIVEN_NAME, LOWER_TITLES, NOT_ACRONYM, ORG, PLACES, SPEECH_VERBS, TITLE, lists_of,
    month_number,
};
use crate::words::Word;

pub(crate) const PERSON: &str = "person";
pub(crate) const ORGANISATION: &str = "organisation";
pub(crate) const PLACE: &str = "place";
pub(crate) const OTHER: &str = "other";

/// What a run names, once classified.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Named {
    /// Not an entity (a lone sentence-initial word, a function word, ...).
    Nothing,
    /// A person, by index in `Names::people`.
    Person(u32),
    /// Another entity: its kind and the byte range of its text.
    Entity(&'static str, usize, usize),
}

#[derive(Debug, Clone)]
pub(crate) struct Run {
    pub(crate) first: u32,
    pub(crate) last: u32,
    pub(crate) named: Named,
    /// A speech verb right after the run, or "said" / "according to" right before it.
    pub(crate) speaks: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Person {
    /// Byte range of the longest title-free form seen.
    pub(crate) display: (usize, usize),
    n_words: usize,
}

/// Words, runs and people of a document, shared by entities and quote attribution.
pub(crate) struct Names<'a> {
    pub(crate) text: &'a str,
    pub(crate) words: Vec<Word>,
    /// The lexicon lists (`lexicon::lists_of`) of each word's name, for the words of runs
    /// (0 for the others): looked up once, asked many times.
    lists: Vec<u16>,
    pub(crate) runs: Vec<Run>,
    pub(crate) people: Vec<Person>,
    /// Person mentions outside quotes: (byte offset, person), in text order.
    pub(crate) person_mentions: Vec<(usize, u32)>,
}

impl<'a> Names<'a> {
    pub(crate) fn word(&self, i: usize) -> &'a str {
        let w = &self.words[i];
        &self.text[w.start()..w.end()]
    }

    fn name(&self, i: usize) -> &'a str {
        let w = &self.words[i];
        &self.text[w.start()..w.name_end()]
    }

    pub(crate) fn person_name(&self, person: u32) -> &'a str {
        let (start, end) = self.people[person as usize].display;
        &self.text[start..end]
    }

    /// The text a run names, if anything.
    pub(crate) fn speaker_of_run(&self, run: usize) -> Option<&'a str> {
        match self.runs[run].named {
            Named::Nothing => None,
            Named::Person(p) => Some(self.person_name(p)),
            Named::Entity(_, start, end) => Some(&self.text[start..end]),
        }
    }

    /// The last person mentioned outside quotes before byte `pos`.
    pub(crate) fn last_person_before(&self, pos: usize) -> Option<u32> {
        let n = self.person_mentions.partition_point(|&(at, _)| at < pos);
        n.checked_sub(1).map(|i| self.person_mentions[i].1)
    }

    /// Whether the gap between words `a` and `b` (a < b) is white space only.
    pub(crate) fn spaced(&self, a: usize, b: usize) -> bool {
        let (wa, wb) = (&self.words[a], &self.words[b]);
        // Most often: the next word, one space (or no-break space) away in the same block.
        if b == a + 1 && wb.joined() {
            return true;
        }
        (a + 1..=b).all(|i| !self.words[i].block_start())
            && self.text[wa.end()..wb.start()].chars().all(char::is_whitespace)
    }

    /// The next word after `i` when only white space separates them, skipping up to two
    /// "-ly" adverbs ("Cox firmly emphasized").
    pub(crate) fn next_skipping_adverbs(&self, i: usize) -> Option<usize> {
        let mut at = i;
        for _ in 0..3 {
            let next = at + 1;
            if next >= self.words.len() || !self.spaced(at, next) {
                return None;
            }
            if !is_adverb(self.word(next)) {
                return Some(next);
            }
            at = next;
        }
        None
    }

    /// The previous word before `i` when only white space separates them, skipping up to
    /// two "-ly" adverbs.
    pub(crate) fn prev_skipping_adverbs(&self, i: usize) -> Option<usize> {
        let mut at = i;
        for _ in 0..3 {
            let prev = at.checked_sub(1)?;
            if !self.spaced(prev, at) {
                return None;
            }
            if !is_adverb(self.word(prev)) {
                return Some(prev);
            }
            at = prev;
        }
        None
    }

    pub(crate) fn is_speech_verb(&self, i: usize) -> bool {
        SPEECH_VERBS.contains(self.word(i))
    }

    /// The run word `i` belongs to, if any (runs are in text order and do not overlap).
    pub(crate) fn run_of(&self, i: usize) -> Option<usize> {
        let r = self.runs.partition_point(|run| (run.last as usize) < i);
        self.runs.get(r).filter(|run| run.first as usize <= i).map(|_| r)
    }

    /// The index of the first word of word `i`'s sentence, looking at most `max_back`
    /// words back (`i - max_back` when the sentence started earlier).
    pub(crate) fn sentence_start(&self, i: usize, max_back: usize) -> usize {
        let floor = i.saturating_sub(max_back);
        (floor..=i).rev().find(|&k| self.words[k].sentence_start()).unwrap_or(floor)
    }

    /// The index of the first word starting at or after byte `pos`.
    pub(crate) fn word_at_or_after(&self, pos: usize) -> usize {
        self.words.partition_point(|w| w.start() < pos)
    }
}

fn is_adverb(word: &str) -> bool {
    word.len() > 4 && word.ends_with("ly") && word.starts_with(|c: char| c.is_lowercase())
}

/// A capital after a lower-case letter, as in brand names ("WeWork", "SoftBank"), except
/// the name prefixes Mc and Mac.
fn is_camel_case(word: &str) -> bool {
    if word.starts_with("Mc") || word.starts_with("Mac") {
        return false;
    }
    let mut prev_lower = false;
    for c in word.chars() {
        if prev_lower && c.is_uppercase() {
            return true;
        }
        prev_lower = c.is_lowercase();
    }
    false
}

/// A single capital letter and a period ("W.").
fn is_middle_initial(word: &str) -> bool {
    let b = word.as_bytes();
    b.len() == 2 && b[0].is_ascii_uppercase() && b[1] == b'.'
}

/// "VIENNA" -> "Vienna".
fn title_case(word: &str) -> String {
    let mut res = String::with_capacity(word.len());
    for (i, c) in word.chars().enumerate() {
        if i == 0 {
            res.push(c);
        } else {
            res.extend(c.to_lowercase());
        }
    }
    res
}

/// Groups capitalised words into runs, and sets `lists` for their words.
fn find_runs(text: &str, words: &[Word], lists: &mut [u16], mut runs: Vec<Run>) -> Vec<Run> {
    // About a run per ten words: reserved for an article (growing the vector copied it
    // several times a document).
    runs.clear();
    runs.reserve((words.len() / 8).min(ARTICLE_NAMES));
    let n = words.len();
    let mut w = 0;
    while w < n {
        if !words[w].cap() || words[w].heading() {
            w += 1;
            continue;
        }
        let mut last = w;
        loop {
            if words[last].name_end() < words[last].end() {
                // A possessive ends the name: "Boston’s approach".
                break;
            }
            let next = last + 1;
            if next < n && words[next].joined() && words[next].cap() {
                last = next;
            } else if next + 1 < n
                && words[next].joined()
                && lexicon::is_connector(&text[words[next].start()..words[next].end()])
                && words[next + 1].joined()
                && words[next + 1].cap()
            {
                last = next + 1;
            } else {
                break;
            }
        }
        // Connectors join the words of one organisation's or place's name; otherwise they
        // separate names: "Jo Smith and Tom Brown", "Kentucky and Louisiana".
        let mut org = false;
        for i in w..=last {
            lists[i] = lists_of(&text[words[i].start()..words[i].name_end()]);
            org |= lists[i] & ORG != 0;
        }
        let joined_name = org
            || if w == last {
                lists[w] & lexicon::PLACE != 0
            } else {
                PLACES.contains(&text[words[w].start()..words[last].name_end()])
            };
        let mut start = w;
        for i in w..=last + 1 {
            let boundary = words.get(i).is_none_or(|word| i > last || !joined_name && !word.cap());
            if boundary {
                if start < i {
                    runs.push(Run { first: start as u32, last: i as u32 - 1, named: Named::Nothing, speaks: false });
                }
                start = i + 1;
            }
        }
        w = last + 1;
    }
    runs
}

/// The part of a run that names something, once leading function words are dropped.
struct Core {
    first: usize,
    last: usize,
    /// Rule 5 applies: "in" or "near" just before (or dropped from the front), or "at" or
    /// "from" before a single word.
    after_place_preposition: bool,
    /// The lower-case word just before the run, if only white space separates them.
    prev_lower: Option<usize>,
    /// The core's text is a known place.
    place: bool,
    /// An organisation word, or a connector (a word not capitalised), in the core.
    org: bool,
    connector: bool,
    /// A speech verb after the core, or "said" or "according to" before it.
    speaks: bool,
    /// A lone capitalised word where capitals are the rule (see `core`), which names
    /// something only if the document capitalises it elsewhere too (`capitalised_elsewhere`).
    needs_elsewhere: bool,
}

impl Names<'_> {
    /// Whether word `i` (of a run) is in the lexicon lists `bits`.
    fn is(&self, i: usize, bits: u16) -> bool {
        self.lists[i] & bits != 0
    }

    /// The core of a run, if it can name something; `needs_elsewhere` is left for the
    /// caller to check.
    fn core(&self, run: &Run) -> Option<Core> {
        let (mut first, mut last) = (run.first as usize, run.last as usize);
        let mut after_place_preposition = false;
        let mut single_word_place_preposition = false;
        while first <= last {
            if !self.words[first].cap() || self.is(first, FUNCTION | CONNECTOR) {
                let name = self.name(first);
                after_place_preposition |= matches!(name, "In" | "Near");
                single_word_place_preposition |= matches!(name, "At" | "From");
                first += 1;
            } else {
                break;
            }
        }
        // Trailing days and months: "Argus Leader Monday".
        while first < last && self.is(last, FUNCTION) {
            last -= 1;
        }
        if first > last || first == last && self.is(first, NOT_ACRONYM) {
            return None;
        }
        let prev_lower = match first.checked_sub(1) {
            Some(p) if first == run.first as usize && self.spaced(p, first) && !self.words[p].cap() => Some(p),
            _ => None,
        };
        if let Some(p) = prev_lower {
            after_place_preposition |= matches!(self.word(p), "in" | "near");
            single_word_place_preposition |= matches!(self.word(p), "at" | "from");
        }
        // "at" and "from" precede people and companies as often as places: only a single
        // word counts ("from Boston", not "from Quentin Tarantino").
        after_place_preposition |= single_word_place_preposition && first == last;
        let word = &self.words[first];
        let mut needs_elsewhere = false;
        if first == last && word.cap_initial() && first == run.first as usize {
            // A lone capitalised word where capitals are the rule: an entity only if the
            // document capitalises it elsewhere too, or it looks like one on its own.
            let acronym = word.acronym() && !self.is(first, NOT_ACRONYM);
            needs_elsewhere = !acronym && !self.is(first, lexicon::PLACE);
        }
        // Shouting ("BREAKING NEWS") is no name.
        if first < last && (first..=last).all(|i| self.words[i].acronym() || self.is(i, CONNECTOR)) {
            return None;
        }
        let place = if first == last {
            self.is(first, lexicon::PLACE)
        } else {
            let (start, end) = self.core_text(first, last);
            PLACES.contains(&self.text[start..end])
        };
        Some(Core {
            first,
            last,
            after_place_preposition,
            prev_lower,
            place,
            org: self.has_org_word(first, last),
            connector: self.has_connector(first, last),
            // Set by `analyse` for the cores that are kept.
            speaks: false,
            needs_elsewhere,
        })
    }

    fn core_text(&self, first: usize, last: usize) -> (usize, usize) {
        (self.words[first].start(), self.words[last].name_end())
    }

    fn has_org_word(&self, first: usize, last: usize) -> bool {
        (first..=last).any(|i| self.is(i, ORG))
    }

    fn has_connector(&self, first: usize, last: usize) -> bool {
        (first..=last).any(|i| !self.words[i].cap())
    }

    /// Person evidence in the run itself or right around it: the name's word range.
    /// `full_names` maps a last word to a two- or three-word name ending with it.
    fn person_evidence(&self, core: &Core, full_names: &FxHashMap<&str, (usize, usize)>) -> Option<(usize, usize)> {
        let (first, last) = (core.first, core.last);
        // A title inside the run: the name is what follows the last title.
        if let Some(t) = (first..=last).rev().find(|&i| self.is(i, TITLE)) {
            if t < last && last - t <= 3 && !self.has_org_word(t + 1, last) && !self.has_connector(t + 1, last) {
                return Some((t + 1, last));
            }
            return None;
        }
        let n_words = last - first + 1;
        if core.org || core.connector {
            return None;
        }
        // A middle initial: "Patrick W. Carlineo Jr.", "James P. Kennedy".
        if (3..=4).contains(&n_words) && (first + 1..last).any(|i| is_middle_initial(self.word(i))) {
            return Some((first, last));
        }
        if n_words > 3 {
            return None;
        }
        if core.place || (n_words == 1 && self.words[first].acronym()) {
            return None;
        }
        let titled = core.prev_lower.is_some_and(|p| LOWER_TITLES.contains(self.word(p)));
        let given = n_words >= 2 && self.is(first, GIVEN_NAME);
        if titled || given {
            return Some((first, last));
        }
        if core.speaks {
            // Companies speak too ("Toyota said"): one word is a person's name only if
            // the document also gives it as the end of a full name ("Marcelo Claure").
            if n_words > 1 {
                return Some((first, last));
            }
            return full_names.get(self.name(first)).copied();
        }
        None
    }

    /// A two- or three-word name that could be a person's: capitalised words, no title,
    /// organisation word, connector, acronym or known place.
    fn could_be_full_name(&self, core: &Core) -> bool {
        let (first, last) = (core.first, core.last);
        (1..=2).contains(&(last - first))
            && (first..=last).all(|i| self.words[i].cap() && !self.words[i].acronym() && !self.is(i, TITLE | ORG))
            && !core.place
    }

    /// A speech verb follows word `last` ("Cox declared", "Cox firmly stated").
    fn speaks_after(&self, last: usize) -> bool {
        self.next_skipping_adverbs(last).is_some_and(|v| self.is_speech_verb(v))
    }

    /// "said Cox", "according to Wu".
    fn spoken_of_before(&self, first: usize) -> bool {
        let Some(p) = first.checked_sub(1).filter(|&p| self.spaced(p, first)) else { return false };
        let word = self.word(p);
        if matches!(word, "said" | "says" | "added" | "asked" | "wrote") {
            return true;
        }
        word == "to" && p > 0 && self.spaced(p - 1, p) && self.word(p - 1).eq_ignore_ascii_case("according")
    }
}

/// Surnames end before suffixes like "Jr.".
fn surname_index(names: &Names<'_>, first: usize, last: usize) -> usize {
    if last > first && matches!(names.name(last), "Jr." | "Jr" | "Sr." | "Sr" | "II" | "III" | "IV") {
        last - 1
    } else {
        last
    }
}

/// At most this many entries are reserved in the name sets and maps: more than an article
/// needs.
const ARTICLE_NAMES: usize = 1024;

/// The entity pass's work vectors, reused from one document to the next (see `Scratch`):
/// capacity only, each emptied before use.
#[derive(Default)]
pub(crate) struct EntityScratch {
    lists: Vec<u16>,
    runs: Vec<Run>,
    cores: Vec<Option<Core>>,
    evidence: Vec<Option<(usize, usize)>>,
    /// `entities_in`'s texts: the place in `ranked` of each text's hash.
    entity_at: FxHashMap<u64, usize>,
    ranked: Vec<Ranked>,
}

impl EntityScratch {
    /// Bytes held.
    pub(crate) fn footprint(&self) -> usize {
        self.lists.capacity() * 2
            + self.runs.capacity() * std::mem::size_of::<Run>()
            + self.cores.capacity() * std::mem::size_of::<Option<Core>>()
            + self.evidence.capacity() * std::mem::size_of::<Option<(usize, usize)>>()
            + self.entity_at.capacity() * (std::mem::size_of::<(u64, usize)>() + 1)
            + self.ranked.capacity() * std::mem::size_of::<Ranked>()
    }
}

impl Names<'_> {
    /// Gives the vectors back for the next document: the lists and runs to `scratch`, the
    /// words to the caller.
    pub(crate) fn recycle(self, scratch: &mut EntityScratch) -> Vec<Word> {
        (scratch.lists, scratch.runs) = (self.lists, self.runs);
        self.words
    }
}

/// Analyses the body: words, runs, people and their mentions.
#[cfg(test)]
pub(crate) fn analyse<'a>(text: &'a str, words: Vec<Word>) -> Names<'a> {
    analyse_in(text, words, &mut EntityScratch::default())
}

/// `analyse`, with the work vectors of `scratch` (see `EntityScratch`).
pub(crate) fn analyse_in<'a>(text: &'a str, words: Vec<Word>, scratch: &mut EntityScratch) -> Names<'a> {
    let mut lists = std::mem::take(&mut scratch.lists);
    lists.clear();
    lists.resize(words.len(), 0);
    let runs = find_runs(text, &words, &mut lists, std::mem::take(&mut scratch.runs));
    let mut names = Names { text, words, lists, runs, people: Vec::new(), person_mentions: Vec::new() };

    let mut cores = std::mem::take(&mut scratch.cores);
    cores.clear();
    cores.extend(names.runs.iter().map(|run| names.core(run)));
    capitalised_elsewhere(&names, &mut cores);
    for core in cores.iter_mut().flatten() {
        core.speaks = names.speaks_after(core.last) || names.spoken_of_before(core.first);
    }
    // The maps are sized up front for an article, from what the slice of the generated
    // corpus measured holds: a full name per ten cores (39 cores, 3.7 full names and 0.4
    // surnames a document); reserving a slot per core allocated and cleared far more than
    // was used. A huge document's grow as needed, since what is counted here repeats and
    // would reserve far more than the distinct entries.
    let mut full_names: FxHashMap<&'a str, (usize, usize)> = FxHashMap::default();
    full_names.reserve((cores.len() / 8).min(ARTICLE_NAMES));
    for core in cores.iter().flatten() {
        if names.could_be_full_name(core) {
            full_names.entry(names.name(core.last)).or_insert((core.first, core.last));
        }
    }

    // Pass 1: strong person evidence, which defines the surnames.
    let mut surnames: FxHashMap<&'a str, u32> = FxHashMap::default();
    let mut evidence = std::mem::take(&mut scratch.evidence);
    evidence.clear();
    evidence.reserve(names.runs.len());
    for core in &cores {
        let found = core.as_ref().and_then(|c| names.person_evidence(c, &full_names));
        if let Some((first, last)) = found {
            let surname = names.name(surname_index(&names, first, last));
            let person = Person { display: names.core_text(first, last), n_words: last - first + 1 };
            match surnames.get(surname) {
                Some(&p) => {
                    let known = &mut names.people[p as usize];
                    if person.n_words > known.n_words {
                        *known = person;
                    }
                }
                None => {
                    surnames.insert(surname, names.people.len() as u32);
                    names.people.push(person);
                }
            }
        }
        evidence.push(found);
    }

    // Pass 2: every run gets its kind.
    for (r, (core, found)) in cores.iter().zip(&evidence).enumerate() {
        let Some(core) = core else { continue };
        let named = match found {
            Some((first, last)) => {
                let surname = names.name(surname_index(&names, *first, *last));
                surnames.get(surname).map_or(Named::Nothing, |&p| Named::Person(p))
            }
            None => names.classify(core, &surnames),
        };
        names.runs[r].named = named;
        names.runs[r].speaks = core.speaks;
    }
    for run in &names.runs {
        if let Named::Person(p) = run.named {
            let word = &names.words[run.first as usize];
            if !word.in_quote() {
                names.person_mentions.push((word.start(), p));
            }
        }
    }
    (scratch.cores, scratch.evidence) = (cores, evidence);
    names
}

/// Drops the cores that need the document to capitalise their word elsewhere (away from
/// sentence and quote starts, outside headings) when it does not. Only those few words are
/// looked for, rather than every capitalised word being put in a set.
fn capitalised_elsewhere<'a>(names: &Names<'a>, cores: &mut [Option<Core>]) {
    let mut wanted: FxHashMap<&'a str, bool> = FxHashMap::default();
    // Sized once rather than grown.
    wanted.reserve(cores.iter().flatten().filter(|c| c.needs_elsewhere).count().min(ARTICLE_NAMES));
    // Which first bytes the wanted words of each length have, as in `lexicon::WordSet`.
    let mut filter = [0u64; 32];
    for core in cores.iter().flatten().filter(|c| c.needs_elsewhere) {
        let name = names.name(core.first);
        wanted.insert(name, false);
        filter[name.len().min(31)] |= 1 << (name.as_bytes()[0] & 63);
    }
    if wanted.is_empty() {
        return;
    }
    // Every capitalised word outside headings is in a run (see `find_runs`): only the runs'
    // words are read.
    let run_words = names.runs.iter().flat_map(|run| &names.words[run.first as usize..=run.last as usize]);
    for w in run_words {
        if w.cap() && !w.cap_initial() && !w.heading() {
            let name = &names.text[w.start()..w.name_end()];
            if filter[name.len().min(31)] >> (name.as_bytes()[0] & 63) & 1 == 1
                && let Some(found) = wanted.get_mut(name)
            {
                *found = true;
            }
        }
    }
    for core in cores.iter_mut() {
        if core.as_ref().is_some_and(|c| c.needs_elsewhere && !wanted[names.name(c.first)]) {
            *core = None;
        }
    }
}

impl<'a> Names<'a> {
    /// Kinds 2 to 6 (see the module documentation).
    fn classify(&self, core: &Core, surnames: &FxHashMap<&'a str, u32>) -> Named {
        let (first, last) = (core.first, core.last);
        let (start, end) = self.core_text(first, last);
        let text = &self.text[start..end];
        if core.place {
            return Named::Entity(PLACE, start, end);
        }
        let n_words = last - first + 1;
        let org = core.org;
        if n_words <= 3
            && !org
            && !core.after_place_preposition
            && let Some(&p) = surnames.get(self.name(surname_index(self, first, last)))
        {
            return Named::Person(p);
        }
        // A place written in capitals, as in a dateline ("VIENNA —", "LONDON (AP)").
        if n_words == 1 && self.words[first].acronym() && PLACES.contains(title_case(text).as_str()) {
            return Named::Entity(PLACE, start, end);
        }
        let camel_case = n_words == 1 && is_camel_case(text);
        if org || camel_case || (n_words == 1 && self.words[first].acronym() && !self.is(first, NOT_ACRONYM)) {
            return Named::Entity(ORGANISATION, start, end);
        }
        if core.after_place_preposition && !core.connector && month_number(text).is_none() {
            return Named::Entity(PLACE, start, end);
        }
        Named::Entity(OTHER, start, end)
    }
}

/// `entities_in` with a scratch of its own.
#[cfg(test)]
pub(crate) fn entities(names: &Names<'_>) -> Vec<Entity> {
    entities_in(names, &mut EntityScratch::default())
}

/// An entity of `entities_in`: its text's byte range and its mentions by kind (`KINDS`);
/// then, to rank it, its number of mentions and the first eight bytes of its text.
#[derive(Debug, Clone, Copy)]
struct Ranked {
    start: usize,
    end: usize,
    by_kind: [u64; 4],
    count: u64,
    prefix: u64,
}

/// The first eight bytes of `text`, big-endian, zero-padded: ordered as the texts are,
/// except that two equal prefixes say nothing (`"ab"` and `"ab\0"`, or texts that differ
/// later).
fn text_prefix(text: &str) -> u64 {
    let mut bytes = [0u8; 8];
    let n = text.len().min(8);
    bytes[..n].copy_from_slice(&text.as_bytes()[..n]);
    u64::from_be_bytes(bytes)
}

/// The most frequent kind of `by_kind`; on ties the first of person, organisation, place.
fn most_frequent(by_kind: &[u64; 4]) -> usize {
    let mut best = 0;
    for k in 1..4 {
        if by_kind[k] > by_kind[best] {
            best = k;
        }
    }
    best
}

const KINDS: [&str; 4] = [PERSON, ORGANISATION, PLACE, OTHER];

/// Counts `mentions` ((start, end, kind) in `text`) into `ranked`, one entry per distinct
/// text in order of first mention, through `entity_at` (see `entities_in`), which maps
/// `hash` of a text, or the next free value after it, to its entry.
fn count_mentions(
    text: &str,
    mentions: impl Iterator<Item = (usize, usize, usize)>,
    hash: impl Fn(&str) -> u64,
    entity_at: &mut FxHashMap<u64, usize>,
    ranked: &mut Vec<Ranked>,
) {
    entity_at.clear();
    ranked.clear();
    for (start, end, kind) in mentions {
        let name = &text[start..end];
        let mut key = hash(name);
        loop {
            match entity_at.entry(key) {
                Entry::Vacant(slot) => {
                    slot.insert(ranked.len());
                    let mut by_kind = [0; 4];
                    by_kind[kind] = 1;
                    ranked.push(Ranked { start, end, by_kind, count: 0, prefix: 0 });
                    break;
                }
                Entry::Occupied(slot) => {
                    let entity = &mut ranked[*slot.get()];
                    if &text[entity.start..entity.end] == name {
                        entity.by_kind[kind] += 1;
                        break;
                    }
                    key = key.wrapping_add(1);
                }
            }
        }
    }
}

/// The entities of the document: each text named by a run, with its number of mentions
/// and its most frequent kind, most mentioned first, then by text.
///
/// The texts are counted in `scratch`, whose table maps the hash of a text to its place in
/// the list: a table kept from one document to the next holds no text (only hashes and
/// places). Two texts with one hash are told apart by their bytes: the second goes to the
/// next free hash (hash + 1, + 2, ...), and a look-up walks the same way, so it meets its
/// text before a free slot (slots are only added while a document is counted).
pub(crate) fn entities_in(names: &Names<'_>, scratch: &mut EntityScratch) -> Vec<Entity> {
    let text = names.text;
    let mentions = names.runs.iter().filter_map(|run| match run.named {
        Named::Nothing => None,
        Named::Person(p) => {
            let (start, end) = names.people[p as usize].display;
            Some((start, end, 0))
        }
        Named::Entity(kind, start, end) => Some((start, end, KINDS.iter().position(|k| *k == kind).unwrap_or(3))),
    });
    let EntityScratch { entity_at, ranked, .. } = scratch;
    count_mentions(text, mentions, |name| rustc_hash::FxBuildHasher.hash_one(name), entity_at, ranked);
    let text_of = |r: &Ranked| &text[r.start..r.end];
    for entity in ranked.iter_mut() {
        entity.count = entity.by_kind.iter().sum();
        entity.prefix = text_prefix(text_of(entity));
    }
    // Texts are distinct, so an unstable sort gives the one order; sorted before the
    // strings are made, which moves less. Most texts differ in their first eight bytes.
    ranked.sort_unstable_by(|a, b| {
        b.count.cmp(&a.count).then(a.prefix.cmp(&b.prefix)).then_with(|| text_of(a).cmp(text_of(b)))
    });
    ranked
        .iter()
        .map(|r| Entity { text: text_of(r).to_owned(), kind: KINDS[most_frequent(&r.by_kind)].into(), count: r.count })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{text, words};

    /// The entities of a document whose blocks are `paragraphs`, as (text, kind, count).
    fn check(paragraphs: &[&str], expect: &[(&str, &str, u64)]) {
        let blocks = text::paragraph_blocks(paragraphs);
        let text = pith_types::join_blocks(&blocks);
        let starts = text::block_starts(&blocks);
        let names = analyse(&text, words::scan(&text, &blocks, &starts, &[]).0);
        let got = entities(&names);
        let got: Vec<(&str, &str, u64)> = got.iter().map(|e| (e.text.as_str(), &*e.kind, e.count)).collect();
        assert_eq!(got, expect);
    }

    #[test]
    fn kinds() {
        // Rule 1 (titles), 3 (surname), 4 (organisation word, acronym), 2 (built-in place);
        // "Critics" starts a sentence and is capitalised nowhere else.
        check(
            &[
                "Commissioner Michael Cox met Mayor Wu in Boston.",
                "Cox said ICE and the Boston Police Department agreed. Critics disagree.",
            ],
            &[
                ("Michael Cox", PERSON, 2),
                ("Boston", PLACE, 1),
                ("Boston Police Department", ORGANISATION, 1),
                ("ICE", ORGANISATION, 1),
                ("Wu", PERSON, 1),
            ],
        );
        // Rule 5 (after "in"), a lower-case job word, a given name, names split at "and",
        // and a company that speaks but is not a person; weekdays are no names.
        check(
            &["On Friday in Springfield, analyst Jo Smith and Tom Brown met. Shares of Acme rose as Acme said yes."],
            &[("Acme", OTHER, 2), ("Jo Smith", PERSON, 1), ("Springfield", PLACE, 1), ("Tom Brown", PERSON, 1)],
        );
    }

    /// Texts that share a hash are counted apart, as with a hash of their own.
    #[test]
    fn count_mentions_with_shared_hashes() {
        let text = "Cox Wu Cox Boston Wu ICE Cox ab ab\0 ICE Boston Bo";
        let mut mentions = Vec::new();
        let mut start = 0;
        for (i, word) in text.split(' ').enumerate() {
            mentions.push((start, start + word.len(), i % 4));
            start += word.len() + 1;
        }
        let counted = |hash: &dyn Fn(&str) -> u64| {
            let (mut entity_at, mut ranked) = (FxHashMap::default(), Vec::new());
            count_mentions(text, mentions.iter().copied(), hash, &mut entity_at, &mut ranked);
            ranked.iter().map(|r| (&text[r.start..r.end], r.by_kind)).collect::<Vec<_>>()
        };
        let want = counted(&|name| rustc_hash::FxBuildHasher.hash_one(name));
        assert_eq!(want.len(), 7);
        assert_eq!(want[0], ("Cox", [1, 0, 2, 0]));
        // Every text on one hash, on its length, on one of two.
        for hash in
            [&(|_: &str| 7u64) as &dyn Fn(&str) -> u64, &|name| name.len() as u64, &|name| name.len() as u64 % 2]
        {
            assert_eq!(counted(hash), want);
        }
    }

    /// `text_prefix` orders texts as their bytes do whenever the prefixes differ.
    #[test]
    fn text_prefix_orders_like_bytes() {
        let texts = [
            "",
            "a",
            "ab",
            "ab\0",
            "ab\0c",
            "abc",
            "abcdefgh",
            "abcdefghi",
            "abcdefgi",
            "B",
            "Zürich",
            "Zu",
            "東京",
            "東",
            "\u{7f}",
        ];
        for a in texts {
            for b in texts {
                let (pa, pb) = (text_prefix(a), text_prefix(b));
                if pa != pb {
                    assert_eq!(pa.cmp(&pb), a.cmp(b), "{a:?} {b:?}");
                }
            }
        }
    }

    #[test]
    fn joined_names_and_handles() {
        // Connectors join an organisation's name; "@handles" and "I'd" are no names.
        check(
            &["The University of Springfield hired Jane Doe. Write to @JaneDoe and I'd say hi to Doe."],
            &[("Jane Doe", PERSON, 2), ("University of Springfield", ORGANISATION, 1)],
        );
    }
}
