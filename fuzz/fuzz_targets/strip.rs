//! `parse` then `strip` on any text, under any rule selection (the first byte): never
//! panics, and strip only removes whole blocks.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pith_strip::StripConfig;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else { return };
    let cfg = StripConfig {
        addresses: flags & 1 == 0,
        captions: flags & 2 == 0,
        furniture: flags & 4 == 0,
        main_region: flags & 8 == 0,
    };
    let text = pith_fuzz::text_of(rest);
    let parsed = pith_parse::parse(&pith_fuzz::raw_doc(text));
    let stripped = pith_strip::strip(parsed.clone(), &cfg);
    pith_fuzz::check_stripped(&parsed, &stripped);
});
