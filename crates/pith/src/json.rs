//! JSON strings written straight into a `String`, byte for byte as serde_json's compact
//! writer (`serde_json::to_string`) writes them, only faster: escapes are looked for a
//! word at a time and the runs between them copied whole.
//!
//! Invariant: every function here writes exactly what serde_json would.

use serde_json::ser::{CompactFormatter, Formatter as _};

pub(crate) fn push_opt_json_str(out: &mut String, s: Option<&str>) {
    match s {
        Some(s) => push_json_str(out, s),
        None => out.push_str("null"),
    }
}

/// `s` as a JSON string, quoted and escaped exactly as serde_json writes it.
pub(crate) fn push_json_str(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    // A short string (a name, a key) without escapes is copied whole, which the scan
    // of `push_json_str_contents` does after padding its tail, a copy more.
    if s.len() <= 32 && !has_escapes(s.as_bytes()) {
        out.push_str(s);
    } else {
        push_json_str_contents(out, s);
    }
    out.push('"');
}

/// Whether serde_json escapes a byte of `bytes` (a control character, `"`, `\`): a word
/// at a time, the last word overlapping the one before it.
fn has_escapes(bytes: &[u8]) -> bool {
    if bytes.len() < 8 {
        return bytes.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\');
    }
    let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
    let mut at = 0;
    while at + 8 < bytes.len() {
        if escapes(word(at)) != 0 {
            return true;
        }
        at += 8;
    }
    escapes(word(bytes.len() - 8)) != 0
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte below 0x20, `"` or `\`, for a word read little-endian. Bits
/// above the first such byte may be wrong (a borrow runs on), but the lowest set bit is
/// exact: no byte before it borrows. (So a word has such a byte if and only if this is not
/// zero.)
fn escapes(word: u64) -> u64 {
    let zero_in = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    (word.wrapping_sub(ONES * 0x20) & !word & HIGHS)
        | zero_in(word ^ (ONES * u64::from(b'"')))
        | zero_in(word ^ (ONES * u64::from(b'\\')))
}

/// `s` escaped as serde_json escapes a string's contents: `"` and `\` with a backslash,
/// the control characters U+0000..U+001F as `\b`, `\t`, `\n`, `\f`, `\r` or `\u00xx`
/// (lower-case hex), everything else (U+007F, U+2028, any non-ASCII) as it is.
///
/// Escapes are looked for sixteen bytes at a time, then found eight bytes at a time (a
/// short string or a tail is padded to a word), and the runs between them copied whole.
pub(crate) fn push_json_str_contents(out: &mut String, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Sixteen bytes without an escape (most of a text) are passed over at once.
        if let Some(chunk) = bytes.get(i..i + 16) {
            let (a, b) = chunk.split_at(8);
            let a = u64::from_le_bytes(a.try_into().expect("8 bytes"));
            let b = u64::from_le_bytes(b.try_into().expect("8 bytes"));
            if escapes(a) | escapes(b) == 0 {
                i += 16;
                continue;
            }
        }
        let word = match bytes.get(i..i + 8) {
            Some(chunk) => u64::from_le_bytes(chunk.try_into().expect("8 bytes")),
            None => {
                // The tail, padded with bytes that need no escape.
                let mut padded = [b'a'; 8];
                padded[..bytes.len() - i].copy_from_slice(&bytes[i..]);
                u64::from_le_bytes(padded)
            }
        };
        let found = escapes(word);
        if found == 0 {
            i += 8;
            continue;
        }
        let at = i + (found.trailing_zeros() / 8) as usize;
        let b = bytes[at];
        // `b` is ASCII, so it starts and ends a character.
        out.push_str(&s[start..at]);
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x08 => out.push_str("\\b"),
            0x0c => out.push_str("\\f"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xf)]));
            }
        }
        i = at + 1;
        start = i;
    }
    out.push_str(&s[start..]);
}

/// `value` as compact JSON appended to `out`, byte for byte as `serde_json::to_string`
/// writes it, only faster: keys and strings go through `push_json_str` (serde_json
/// escapes them a byte at a time), numbers through serde_json's own formatter, and `out`
/// grows in place. Values of shapes this writer does not take (enums with data, byte
/// strings, 128-bit integers, maps) are left to serde_json.
pub(crate) fn push_json<T: serde::Serialize + ?Sized>(out: &mut String, value: &T) {
    let start = out.len();
    if value.serialize(JsonWriter { out: &mut *out }).is_err() {
        out.truncate(start);
        out.push_str(&serde_json::to_string(value).expect("values serialise"));
    }
}

/// `v` as serde_json writes an `f64`: by its formatter, a NaN or an infinity as `null`.
pub(crate) fn push_f64(out: &mut String, v: f64) {
    // Most of a document's ratios are 0 or 1.
    if v == 0.0 && v.is_sign_positive() {
        out.push_str("0.0");
    } else if v == 1.0 {
        out.push_str("1.0");
    } else if !v.is_finite() {
        out.push_str("null");
    } else if !push_thousandths(out, v) {
        push_number(out, |w| CompactFormatter.write_f64(w, v));
    }
}

/// Writes `v` if it is a whole number of thousandths below a billion (as the features'
/// rounded ratios and the keywords' scores are), as serde_json writes it, and says
/// whether it did. Such a `v` is the double nearest to `k / 1000` for a whole `k`
/// (division rounds correctly, and `k` is exact), so its shortest round-trip form is
/// `k / 1000` in decimals, without trailing zeros but one (`0.5`, `12.0`, `0.125`): no
/// other decimal with as few digits is that close. (Tested against serde_json.)
fn push_thousandths(out: &mut String, v: f64) -> bool {
    let thousandths = (v.abs() * 1000.0).round();
    if thousandths / 1000.0 != v.abs() || v.abs() >= 1e9 || (v == 0.0 && v.is_sign_negative()) {
        return false;
    }
    let thousandths = thousandths as u64;
    if v < 0.0 {
        out.push('-');
    }
    push_digits(out, thousandths / 1000);
    out.push('.');
    let fraction = thousandths % 1000;
    let digits = [fraction / 100, fraction / 10 % 10, fraction % 10];
    let kept = match digits {
        [_, 0, 0] => 1,
        [_, _, 0] => 2,
        _ => 3,
    };
    out.extend(digits[..kept].iter().map(|&d| char::from(b'0' + d as u8)));
    true
}

/// A number as serde_json's compact formatter writes it (`itoa`, its float formatter).
fn push_number(out: &mut String, write: impl FnOnce(&mut &mut [u8]) -> std::io::Result<()>) {
    // Longer than any integer or float serde_json writes (20 digits and a sign; a float's
    // shortest form in scientific notation).
    let mut buf = [0u8; 40];
    let mut rest: &mut [u8] = &mut buf;
    write(&mut rest).expect("a number fits 40 bytes");
    let len = 40 - rest.len();
    // ASCII, a few bytes: pushed one by one, cheaper than checking them as UTF-8.
    out.extend(buf[..len].iter().map(|&b| char::from(b)));
}

/// `v`'s decimal digits (as `itoa`, serde_json's, writes them).
fn push_digits(out: &mut String, mut v: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend(digits[at..].iter().map(|&b| char::from(b)));
}

/// What `JsonWriter` does not write (`push_json` hands the value to serde_json then).
#[derive(Debug)]
struct Unsupported;

impl std::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not written by JsonWriter")
    }
}

impl std::error::Error for Unsupported {}

impl serde::ser::Error for Unsupported {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Unsupported
    }
}

/// The serializer of `push_json`.
struct JsonWriter<'a> {
    out: &'a mut String,
}

/// A sequence, map or struct being written: whether an element has been.
struct Compound<'a> {
    out: &'a mut String,
    first: bool,
}

impl Compound<'_> {
    fn comma(&mut self) {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
    }
}

impl<'a> serde::Serializer for JsonWriter<'a> {
    type Ok = ();
    type Error = Unsupported;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = serde::ser::Impossible<(), Unsupported>;
    type SerializeMap = serde::ser::Impossible<(), Unsupported>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = serde::ser::Impossible<(), Unsupported>;

    fn serialize_bool(self, v: bool) -> Result<(), Unsupported> {
        self.out.push_str(if v { "true" } else { "false" });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<(), Unsupported> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i16(self, v: i16) -> Result<(), Unsupported> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i32(self, v: i32) -> Result<(), Unsupported> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i64(self, v: i64) -> Result<(), Unsupported> {
        if v < 0 {
            self.out.push('-');
        }
        push_digits(self.out, v.unsigned_abs());
        Ok(())
    }
    fn serialize_u8(self, v: u8) -> Result<(), Unsupported> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u16(self, v: u16) -> Result<(), Unsupported> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u32(self, v: u32) -> Result<(), Unsupported> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u64(self, v: u64) -> Result<(), Unsupported> {
        push_digits(self.out, v);
        Ok(())
    }
    fn serialize_f32(self, v: f32) -> Result<(), Unsupported> {
        // serde_json writes a NaN or an infinity as null.
        match v.is_finite() {
            true => push_number(self.out, |w| CompactFormatter.write_f32(w, v)),
            false => self.out.push_str("null"),
        }
        Ok(())
    }
    fn serialize_f64(self, v: f64) -> Result<(), Unsupported> {
        push_f64(self.out, v);
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), Unsupported> {
        push_json_str(self.out, v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<(), Unsupported> {
        push_json_str(self.out, v);
        Ok(())
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), Unsupported> {
        Err(Unsupported)
    }
    fn serialize_none(self) -> Result<(), Unsupported> {
        self.serialize_unit()
    }
    fn serialize_some<T: serde::Serialize + ?Sized>(self, value: &T) -> Result<(), Unsupported> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Unsupported> {
        self.out.push_str("null");
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Unsupported> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<(), Unsupported> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: serde::Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Unsupported> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: serde::Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), Unsupported> {
        Err(Unsupported)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'a>, Unsupported> {
        self.out.push('[');
        Ok(Compound { out: self.out, first: true })
    }
    fn serialize_tuple(self, len: usize) -> Result<Compound<'a>, Unsupported> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Compound<'a>, Unsupported> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Compound<'a>, Unsupported> {
        self.out.push('{');
        Ok(Compound { out: self.out, first: true })
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Unsupported> {
        Err(Unsupported)
    }
}

impl serde::ser::SerializeSeq for Compound<'_> {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_element<T: serde::Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unsupported> {
        self.comma();
        value.serialize(JsonWriter { out: &mut *self.out })
    }
    fn end(self) -> Result<(), Unsupported> {
        self.out.push(']');
        Ok(())
    }
}

impl serde::ser::SerializeTuple for Compound<'_> {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_element<T: serde::Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unsupported> {
        serde::ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<(), Unsupported> {
        serde::ser::SerializeSeq::end(self)
    }
}

impl serde::ser::SerializeTupleStruct for Compound<'_> {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_field<T: serde::Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unsupported> {
        serde::ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<(), Unsupported> {
        serde::ser::SerializeSeq::end(self)
    }
}

impl serde::ser::SerializeStruct for Compound<'_> {
    type Ok = ();
    type Error = Unsupported;
    // Inlined where a derived `Serialize` names its fields, so that the check of each
    // field's name is made at compile time and the name copied as a constant.
    #[inline(always)]
    fn serialize_field<T: serde::Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Unsupported> {
        self.comma();
        if !has_escapes(key.as_bytes()) {
            self.out.reserve(key.len() + 3);
            self.out.push('"');
            self.out.push_str(key);
            self.out.push_str("\":");
        } else {
            push_json_str(self.out, key);
            self.out.push(':');
        }
        value.serialize(JsonWriter { out: &mut *self.out })
    }
    fn end(self) -> Result<(), Unsupported> {
        self.out.push('}');
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    fn escaped(s: &str) -> String {
        let mut out = String::new();
        push_json_str(&mut out, s);
        out
    }

    /// Strings that put every escape at every position of an 8-byte word, next to
    /// multi-byte characters.
    pub(crate) fn tricky_strings() -> Vec<String> {
        let specials: Vec<char> = (0u8..0x20)
            .map(char::from)
            .chain(['"', '\\', '/', '\u{7f}', '\u{80}', 'é', '\u{2028}', '\u{2029}', '\u{feff}', '😀', 'a'])
            .collect();
        let mut res = vec![String::new()];
        for &c in &specials {
            for pad in 0..17 {
                res.push(format!("{}{c}{}", "x".repeat(pad), "y".repeat(17 - pad)));
                res.push(format!("{}{c}{c}é{c}", "ab".repeat(pad)));
            }
        }
        res.push(specials.iter().collect());
        res.push(specials.iter().rev().cycle().take(300).collect());
        res
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        for s in tricky_strings() {
            assert_eq!(escaped(&s), serde_json::to_string(&s).unwrap(), "{s:?}");
        }
    }

    fn written<T: serde::Serialize + ?Sized>(value: &T) -> String {
        let mut out = String::from("x");
        push_json(&mut out, value);
        out
    }

    /// Floats whose JSON forms differ in every way serde_json's can: signs, zeros,
    /// exponents, the extremes, and what JSON has no number for.
    pub(crate) const FLOATS: [f64; 16] = [
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.25,
        0.1 + 0.2,
        1e-7,
        123456789.125,
        462000000.0,
        1e300,
        5e-324,
        f64::MAX,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        std::f64::consts::SQRT_2,
    ];

    #[test]
    fn features_are_written_as_serde_json_writes_them() {
        use pith_types::{Entity, Features, Keyword, Money, Quote, Readability};
        let texts = tricky_strings();
        for n in 0..texts.len() {
            let text = |i: usize| texts[(n * 7 + i * 13) % texts.len()].clone();
            let float = |i: usize| FLOATS[(n + i * 5) % FLOATS.len()];
            let features = Features {
                chars: n as u64 * 1_000_003,
                words: u64::MAX - n as u64,
                mean_word_length: float(0),
                language: (n % 3 != 0).then(|| text(0)),
                script: Some(text(1)),
                stopword_ratio: float(1),
                duplicate_cluster: (n % 2 == 0).then(|| text(2)),
                readability: Readability { flesch_reading_ease: Some(float(2)), flesch_kincaid_grade: None },
                quotes: (0..n % 3)
                    .map(|i| Quote { text: text(3 + i), speaker: (i % 2 == 0).then(|| text(9)) })
                    .collect(),
                years: (0..n % 4).map(|i| 1900 + i as u32 * 37).collect(),
                dates: (0..n % 2).map(|i| text(4 + i)).collect(),
                money: (0..n % 3)
                    .map(|i| Money { text: text(5), currency: text(6 + i), amount: float(3 + i) })
                    .collect(),
                percentages: (0..n % 5).map(float).collect(),
                entities: (0..n % 6)
                    .map(|i| Entity { text: text(7 + i), kind: text(8).into(), count: i as u64 })
                    .collect(),
                keywords: (0..n % 4).map(|i| Keyword { text: text(10 + i), score: float(4 + i) }).collect(),
                ..Features::default()
            };
            assert_eq!(written(&features), format!("x{}", serde_json::to_string(&features).unwrap()));
        }
    }

    /// Shapes `JsonWriter` writes, and those it leaves to serde_json.
    #[test]
    fn other_shapes_are_written_as_serde_json_writes_them() {
        #[derive(serde::Serialize)]
        struct Unit;
        #[derive(serde::Serialize)]
        struct Newtype(Vec<Option<i8>>);
        #[derive(serde::Serialize)]
        struct Pair(i16, u16);
        #[derive(serde::Serialize)]
        struct Empty {}
        #[derive(serde::Serialize)]
        enum Kind {
            Plain,
            Wrapped(u32),
            Pair(i32, i32),
            Named { a: f32 },
        }
        #[derive(serde::Serialize)]
        struct Renamed {
            #[serde(rename = "a \"quoted\"\nkey")]
            a: char,
            #[serde(rename = "\u{e9}t\u{e9}")]
            b: (),
        }
        fn check<T: serde::Serialize>(value: T) {
            assert_eq!(written(&value), format!("x{}", serde_json::to_string(&value).unwrap()));
        }
        check(Unit);
        check(Newtype(vec![None, Some(i8::MIN), Some(i8::MAX)]));
        check(Pair(i16::MIN, u16::MAX));
        check(Empty {});
        check((i32::MIN, u32::MAX, i64::MIN, i64::MAX, 0i64, -7i64, true, false));
        check((f32::NAN, f32::INFINITY, 0.1f32, -0.0f32, 1.0f32, f32::MAX, f32::MIN_POSITIVE));
        check(Vec::<u8>::new());
        check([Kind::Plain, Kind::Plain]);
        check(Renamed { a: '"', b: () });
        check(Renamed { a: '\u{1f}', b: () });
        // Left to serde_json: enums with data, 128-bit integers, maps, byte strings.
        check(vec![Kind::Plain, Kind::Wrapped(3)]);
        check(Kind::Pair(1, -1));
        check(Kind::Named { a: 0.5 });
        check((1u128 << 100, -1i128));
        check(std::collections::BTreeMap::from([("k", 1), ("\"", 2)]));
        check(serde_json::json!({"a": [1, 2.5, null], "b": {"c": "d"}}));
        check(serde_bytes_like());
    }

    /// A value serde serialises as a byte string.
    fn serde_bytes_like() -> impl serde::Serialize {
        struct Bytes;
        impl serde::Serialize for Bytes {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_bytes(b"\x00ab")
            }
        }
        Bytes
    }

    #[test]
    fn thousandths_are_written_as_serde_json_writes_them() {
        let mut ks: Vec<i64> = (-3_000..200_000).collect();
        ks.extend((0..20_000).map(|i| i * 49_999_937 % 1_000_000_000_000));
        ks.extend([999_999_999_999, 1_000_000_000_000, 1_000_000_000_001, 123_456_789_000]);
        for k in ks {
            let v = k as f64 / 1000.0;
            assert_eq!(written(&v), format!("x{}", serde_json::to_string(&v).unwrap()), "{k}");
            assert_eq!(written(&-v), format!("x{}", serde_json::to_string(&-v).unwrap()), "-{k}");
        }
    }

    proptest! {
        #[test]
        fn numbers_are_written_as_serde_json_writes_them(f in any::<f64>(), g in any::<f32>(), i in any::<i64>(), u in any::<u64>()) {
            let value = (f, g, i, u, f64::from_bits(u), f32::from_bits(u as u32));
            prop_assert_eq!(written(&value), format!("x{}", serde_json::to_string(&value).unwrap()));
        }

        #[test]
        fn any_string_is_escaped_as_serde_json_escapes_it(s in any::<String>()) {
            prop_assert_eq!(escaped(&s), serde_json::to_string(&s).unwrap());
        }

        #[test]
        fn strings_of_escapes_are_escaped_as_serde_json_escapes_them(
            s in proptest::collection::vec(
                prop_oneof![Just('"'), Just('\\'), Just('\n'), (0u8..0x20).prop_map(char::from), any::<char>()],
                0..40,
            ).prop_map(|cs| cs.into_iter().collect::<String>())
        ) {
            prop_assert_eq!(escaped(&s), serde_json::to_string(&s).unwrap());
        }
    }
}
