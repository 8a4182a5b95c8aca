//! Web furniture on short blocks: navigation, share bars, newsletter boxes, cookie
//! notices, affiliate disclosures, "related" lists, advert markers, bylines, footers,
//! comment prompts.
//!
//! Every pattern here applies only to short blocks: broad phrase lists applied to long
//! blocks delete real text.

use std::sync::LazyLock;

use crate::Literals;
use crate::dfa::Matcher;

/// Blocks with more words than this are never furniture by phrase alone.
pub(crate) const MAX_WORDS: usize = 12;
/// Cookie and consent notices run longer than other furniture.
const MAX_WORDS_COOKIE: usize = 60;

struct Rule {
    kind: &'static str,
    max_words: usize,
    /// Matched only as part of `ANY_RULE`: compiling each rule on its own as well cost
    /// as much again at start-up, for nothing.
    pattern: &'static str,
}

static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    let rule = |kind, max_words, pattern| Rule { kind, max_words, pattern };
    vec![
        rule(
            "cookie",
            MAX_WORDS_COOKIE,
            r"(?i)(?-u:\b)(?:we use cookies|this (?:web)?site uses cookies|use of cookies|cookie (?:policy|settings|preferences|consent)|accept (?:all )?cookies|manage (?:your )?(?:cookie|consent|privacy) (?:settings|preferences))(?-u:\b)",
        ),
        rule(
            "share",
            MAX_WORDS,
            r"(?i)^(?:share(?: this(?: article| story| post| page)?)?(?: on| via)?|tweet|pin it|print(?: this)?(?: article| page)?|e-?mail(?: this)?(?: article| story)?|copy link|facebook|twitter|linkedin|whatsapp|pinterest|reddit|telegram|x|follow us(?: on)?|like us on facebook|share on (?:facebook|twitter|x|linkedin|whatsapp))(?:\s*[|,/•·]\s*(?:facebook|twitter|x|linkedin|whatsapp|pinterest|reddit|e-?mail|print|copy link|telegram))*\s*:?$",
        ),
        // Share buttons as sharing plugins print them: "Click to share on Reddit (Opens in
        // new window) Reddit", "Share on Pinterest", "Sharing is caring!".
        rule(
            "share",
            MAX_WORDS,
            r"(?i)(?:\(opens in (?:a )?new (?:window|tab)\)|^click to (?:share|print|email)(?-u:\b)|^share on (?:facebook|x|twitter|linkedin|pinterest|reddit|whatsapp|tumblr|telegram|email|flipboard)(?-u:\b)|^(?:like this|sharing is caring|spread the word|share (?:article|post|story|page)|copy(?: link)?|copied)\s*[:!.]*$)",
        ),
        // Affiliate disclosures: "We may earn a commission when you buy through links on
        // this page", "As an Amazon Associate I earn from qualifying purchases".
        rule(
            "disclosure",
            MAX_WORDS_COOKIE,
            r"(?i)(?:(?-u:\b)affiliate (?:disclosure|links?|commissions?)(?-u:\b)|(?-u:\b)(?:we|i) (?:may |might |will )?(?:earn|receive|get) (?:a |an )?(?:small |tiny )?(?:affiliate )?(?:commissions?|compensation)(?-u:\b)|(?-u:\b)as an amazon associate(?-u:\b)|(?-u:\b)qualifying purchases(?-u:\b)|(?-u:\b)supported by commissions(?-u:\b)|(?-u:\b)may earn (?:a |an )?(?:small )?(?:affiliate )?commission(?-u:\b))",
        ),
        rule(
            "newsletter",
            MAX_WORDS * 2,
            r"(?i)(?-u:\b)(?:sign up for (?:our|the) (?:\w+ )?newsletter|subscribe to (?:our|the) (?:\w+ )?newsletter|newsletter sign[- ]?up|get (?:our|the) (?:\w+ )?newsletter|enter your e-?mail(?: address)?|by signing up,? you agree|already a subscriber|subscribe now|subscribe today|unsubscribe at any time|join (?:our|my|the) (?:\w+ )?(?:newsletter|mailing list|email list)|subscribe (?:to|for) .{0,40}(?:newsletter|updates|posts|access)|subscribe (?:for free|to get)|be the first to know)(?-u:\b)",
        ),
        rule(
            "related",
            MAX_WORDS,
            r"(?i)^(?:related(?: articles| stories| posts| content| coverage| topics| news)?|read more|read next|read also|more from|more on this|more stories|you may also like|you might also like|recommended(?: for you| stories)?|trending(?: now)?|most (?:read|popular|viewed|shared)|popular (?:posts|stories)|see also|also read|editor'?s picks|latest (?:news|stories|posts))(?-u:\b).{0,60}$",
        ),
        rule(
            "advert",
            MAX_WORDS,
            r"(?i)^(?:advertisement|advertising|sponsored(?: content)?|ad|promoted|story continues below(?: advertisement)?|continue reading below|scroll to continue(?: with content)?)\s*:?$",
        ),
        rule(
            "comments",
            MAX_WORDS,
            r"(?i)^(?:\d+\s+comments?|comments?(?:\s*\(\d+\))?|leave a (?:comment|reply)|post a comment|add a comment|join the (?:conversation|discussion)|show comments|view comments|be the first to comment|log ?in to comment|reply)\s*:?$",
        ),
        rule(
            "navigation",
            MAX_WORDS,
            r"(?i)^(?:home|menu|search|search for|search this site|continue reading|skip to (?:main )?content|skip to navigation|toggle navigation|main menu|close|back to top|next|previous|next article|previous article|log ?in|sign ?in|sign up|register|my account|subscribe|open menu|close menu|breadcrumb|you are here:?.*)\s*:?$",
        ),
        rule(
            "footer",
            MAX_WORDS * 2,
            r"(?i)(?:^(?:©|\(c\)|copyright(?-u:\b))|(?-u:\b)all rights reserved(?-u:\b)|^(?:privacy policy|terms of (?:use|service)|terms (?:and|&) conditions|about us|contact us|careers|accessibility|sitemap)(?:\s*[|•·]\s*[\w &']+)*$)",
        ),
        rule(
            "byline",
            MAX_WORDS,
            r"(?i)^(?:by\s+\p{Lu}[\p{L}.'-]+(?:\s+\p{Lu}[\p{L}.'-]+){0,3}(?:\s*(?:,|and|&)\s*\p{Lu}[\p{L}.'-]+(?:\s+\p{Lu}[\p{L}.'-]+){0,3})*|(?:published|posted|updated|last updated)(?: on| at)?:?\s.{0,60})$",
        ),
        rule("tags", MAX_WORDS * 2, r"(?i)^(?:tags?|topics?|filed under|categories|category)\s*:"),
    ]
});

/// The kind and the matching rule's kind name, if a short block is furniture.
/// All rules' patterns in one automaton: one scan of a block finds every rule that
/// matches; the first in `RULES` order (and within its length limit) wins.
/// The set's lazy DFA gets a larger cache than the default: with the default, the
/// combined automaton of all rules did not fit, and the cache was cleared and states
/// rebuilt over and over (a quarter of strip's time). Most blocks match no rule, and
/// `is_match` answers that alone, stopping at the first match; only the blocks that
/// match ask `matches` which rules did. (A separate alternation of all patterns for that
/// first question was as fast per block but cost as much again to compile.)
static ANY_RULE: LazyLock<Matcher> = LazyLock::new(|| {
    let patterns: Vec<&str> = RULES.iter().map(|rule| rule.pattern).collect();
    Matcher::new(&patterns, 32 << 20, false)
});

/// Longest block any rule looks at.
pub(crate) const MAX_RULE_WORDS: usize = MAX_WORDS_COOKIE;

/// Literals, in lower case, at least one of which every alternative of the rules that is
/// not anchored at the start needs (the others all start with `^`): pieces of "cookie" or
/// "manage" for cookie notices, "(opens in" for share buttons, of the affiliate
/// disclosures' words and the newsletter boxes' ("subscribe" covers "already a
/// subscriber"), and of "all rights reserved" for footers. Each is a piece that starts
/// with four letters rare in prose (not "comm" or "all "): the search compares the first
/// four bytes at every position.
const UNANCHORED_CUES: [&str; 16] = [
    "ookie",
    "anage",
    "(opens in",
    "ffiliate",
    "mmission",
    "mpensation",
    "mazon associate",
    "fying purchases",
    "sletter",
    "enter your e",
    "igning up",
    "ubscribe",
    "ailing list",
    "mail list",
    "first to know",
    "hts reserved",
];

static UNANCHORED: LazyLock<Literals> = LazyLock::new(|| unanchored_cues(true));

fn unanchored_cues(packed: bool) -> Literals {
    Literals::new(&[&UNANCHORED_CUES], packed)
}

/// The characters other than ASCII letters that the rules' case-insensitive patterns take
/// for ASCII letters: the Kelvin sign for `k`, the long s for `s`. A text that holds one
/// may match a cue that its ASCII-lower-cased copy does not show.
fn folds_to_ascii(text: &str) -> bool {
    static FINDERS: LazyLock<[memchr::memmem::Finder<'static>; 2]> =
        LazyLock::new(|| ["\u{212a}", "\u{17f}"].map(memchr::memmem::Finder::new));
    !text.is_ascii() && FINDERS.iter().any(|finder| finder.find(text.as_bytes()).is_some())
}

/// `n_words` is the block's number of white-space-separated words, or any number above
/// `MAX_RULE_WORDS` when it has more; `lower` is the block with its ASCII letters
/// lower-cased.
///
/// A block with none of the unanchored rules' cues (most) can only match a rule at its
/// start: the search stops where no rule can go on, instead of reading the whole block.
pub(crate) fn classify(text: &str, n_words: usize, lower: &[u8]) -> Option<&'static str> {
    if n_words > MAX_RULE_WORDS {
        return None;
    }
    let anchored = !UNANCHORED.is_match(lower) && !folds_to_ascii(text);
    let text = text.trim();
    if !ANY_RULE.is_match_at_start(text, anchored) {
        return None;
    }
    let matches = ANY_RULE.matches(text);
    matches.into_iter().map(|i| &RULES[i]).find(|rule| n_words <= rule.max_words).map(|rule| rule.kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(text: &str, expect: Option<&str>) {
        let n_words = text.split_whitespace().take(MAX_RULE_WORDS + 1).count();
        assert_eq!(crate::with_ascii_lowercase(text, |lower| classify(text, n_words, lower)), expect, "{text:?}");
    }

    #[test]
    fn only_the_kelvin_sign_and_the_long_s_match_ascii_letters_ignoring_case() {
        let ascii_letter = regex::Regex::new("(?i)^[a-z]$").expect("pattern compiles");
        for c in (0x80..=0x10ffff).filter_map(char::from_u32) {
            let folds = ascii_letter.is_match(c.encode_utf8(&mut [0; 4]));
            assert_eq!(folds, c == '\u{212a}' || c == '\u{17f}', "{c:?}");
            assert_eq!(folds, folds_to_ascii(&format!("x{c}y")), "{c:?}");
        }
    }

    /// Blocks without an unanchored rule's cue match a rule at their start or nowhere:
    /// the anchored search answers as the full one, on texts made of the rules' pieces.
    #[test]
    fn the_anchored_search_answers_as_the_full_one() {
        let pieces = [
            "We use cookies",
            "cookie policy",
            "coo\u{212a}ie settings",
            "Manage your privacy settings",
            "manage consent preferences",
            "(Opens in new window)",
            "affiliate links",
            "We may earn a commission",
            "I receive compensation",
            "As an Amazon Associate",
            "qualifying purchases",
            "supported by commissions",
            "Sign up for our newsletter",
            "Enter your email address",
            "enter your e-mail",
            "By signing up, you agree",
            "Already a subscriber",
            "Subscribe now",
            "\u{17f}ubscribe today",
            "unsubscribe at any time",
            "join our mailing list",
            "join the email list",
            "subscribe to get",
            "Be the first to know",
            "All Rights Reserved",
            "© 2024",
            "Share",
            "Share on Facebook",
            "Click to share",
            "Home",
            "Read more",
            "Related Articles",
            "Advertisement",
            "12 Comments",
            "By Jane Doe",
            "Published on",
            "Tags:",
            "Privacy Policy",
            " | ",
            " ",
            "  ",
            "\n",
            ":",
            ",",
            ".",
            "x",
            "the council met",
            "é",
            "’",
        ];
        let automaton = unanchored_cues(false);
        let (mut n_match, mut n_anchored) = (0, 0);
        for text in crate::pieced_texts(&pieces, 20000, 6) {
            let want = ANY_RULE.is_match(text.trim());
            for cues in [&*UNANCHORED, &automaton] {
                let anchored =
                    !crate::with_ascii_lowercase(&text, |lower| cues.is_match(lower)) && !folds_to_ascii(&text);
                assert_eq!(ANY_RULE.is_match_at_start(text.trim(), anchored), want, "{text:?}");
                n_anchored += usize::from(anchored);
            }
            n_match += usize::from(want);
        }
        assert!(n_match > 2000 && n_anchored > 2000, "{n_match} {n_anchored}");
    }

    #[test]
    fn no_rule_looks_at_longer_blocks() {
        assert!(RULES.iter().all(|rule| rule.max_words <= MAX_RULE_WORDS));
    }

    #[test]
    fn furniture() {
        check("Share this article", Some("share"));
        check("Facebook | Twitter | Email", Some("share"));
        check("Click to share on Reddit (Opens in new window) Reddit", Some("share"));
        check("Share on Pinterest", Some("share"));
        check("Sharing is caring!", Some("share"));
        check("Copied!", Some("share"));
        check("Search for:", Some("navigation"));
        check("Sign up for our daily newsletter", Some("newsletter"));
        check("Join our newsletter to stay up to date on features and releases.", Some("newsletter"));
        check("Subscribe for the Latest Updates", Some("newsletter"));
        check("Be the first to know!", Some("newsletter"));
        check("We use cookies to improve your experience. By continuing you agree.", Some("cookie"));
        check("Related Articles", Some("related"));
        check("Advertisement", Some("advert"));
        check("12 Comments", Some("comments"));
        check("Skip to content", Some("navigation"));
        check("© 2024 Example Media. All rights reserved.", Some("footer"));
        check("By Jane Doe and John Smith", Some("byline"));
        check("Tags: politics, boston", Some("tags"));
        check(
            "Disclosure: Some of the links in this article are affiliate links. If you click on a link and make a purchase, we may earn a small commission at no additional cost to you.",
            Some("disclosure"),
        );
        check("As an Amazon Associate I earn from qualifying purchases.", Some("disclosure"));
    }

    #[test]
    fn prose_is_kept() {
        check(
            "Read more about the history of the city in our archive, which covers over a hundred years of reporting on the region and its people.",
            None,
        );
        check("By the end of the year, the city had spent most of its budget.", None);
        check("Home prices rose again.", None);
        check("Continue reading the report for the details.", None);
        check("Share prices fell sharply on Monday.", None);
        check("Share on the market fell to a record low.", None);
        check("Sales staff earn a commission on every car they sell, the dealer said.", None);
        check(
            "More than a million readers subscribe to the paper, which has covered the city since 1851 and won many prizes for it.",
            None,
        );
    }
}
