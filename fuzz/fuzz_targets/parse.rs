//! `parse` on any text: never panics, and its blocks point back into the source.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = pith_fuzz::text_of(data);
    let doc = pith_parse::parse(&pith_fuzz::raw_doc(text.clone()));
    pith_fuzz::check_parsed(&text, &doc);
});
