//! Reading policy files as real exports write them: UTF-8 with or without BOM, UTF-16LE or
//! UTF-16BE with BOM (IntuneManagement), CRLF line ends (PowerShell, the Intune portal).

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::fmt;

/// The text encoding a file was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf8Bom,
    Utf16Le,
    Utf16Be,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("line {line}: invalid UTF-8 (byte {offset}); save the file as UTF-8")]
    InvalidUtf8 { line: usize, offset: usize },
    #[error("line {line}: invalid UTF-16 (unpaired surrogate); the file is damaged")]
    InvalidUtf16 { line: usize },
    #[error("UTF-16 text with an odd number of bytes: the file is truncated")]
    OddUtf16,
    #[error("the file is empty")]
    Empty,
}

/// A JSON document could not be read.
#[derive(Debug, thiserror::Error)]
pub enum JsonError {
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error("line {line}, column {column}: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    /// An object has the same key twice. serde_json would keep the last value and drop the
    /// first without a word; a policy file must say which one it means.
    #[error("duplicate key {key:?} at line {line} column {column}: keep one of them")]
    DuplicateKey {
        key: String,
        line: usize,
        column: usize,
    },
}

impl JsonError {
    /// Where in the file the problem is, when that is known.
    pub fn position(&self) -> Option<(usize, usize)> {
        match self {
            JsonError::Syntax { line, column, .. }
            | JsonError::DuplicateKey { line, column, .. } => Some((*line, *column)),
            JsonError::Decode(_) => None,
        }
    }

    /// The message without its position (for reports that show the position on their own).
    pub fn message(&self) -> String {
        match self {
            JsonError::Syntax { message, .. } => message.clone(),
            JsonError::DuplicateKey { key, .. } => {
                format!("duplicate key {key:?}: keep one of them")
            }
            JsonError::Decode(e) => e.to_string(),
        }
    }
}

/// Decode bytes into text, detecting the encoding from the byte-order mark.
pub fn decode_text(bytes: &[u8]) -> Result<(String, Encoding), DecodeError> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return utf8(rest, 0).map(|s| (s, Encoding::Utf8Bom));
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        return utf16(rest, u16::from_le_bytes).map(|s| (s, Encoding::Utf16Le));
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        return utf16(rest, u16::from_be_bytes).map(|s| (s, Encoding::Utf16Be));
    }
    // UTF-16LE without a BOM still starts with `{` or `[` followed by a NUL byte.
    if bytes.len() >= 2 && bytes[1] == 0 && bytes[0] != 0 {
        return utf16(bytes, u16::from_le_bytes).map(|s| (s, Encoding::Utf16Le));
    }
    utf8(bytes, 0).map(|s| (s, Encoding::Utf8))
}

fn utf8(bytes: &[u8], _base: usize) -> Result<String, DecodeError> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_owned()),
        Err(e) => {
            let offset = e.valid_up_to();
            let line = 1 + bytes[..offset].iter().filter(|&&b| b == b'\n').count();
            Err(DecodeError::InvalidUtf8 { line, offset })
        }
    }
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Result<String, DecodeError> {
    if !bytes.len().is_multiple_of(2) {
        return Err(DecodeError::OddUtf16);
    }
    let units = bytes.chunks_exact(2).map(|c| unit([c[0], c[1]]));
    let mut out = String::with_capacity(bytes.len() / 2);
    let mut line = 1;
    for ch in char::decode_utf16(units) {
        match ch {
            Ok(c) => {
                if c == '\n' {
                    line += 1;
                }
                out.push(c);
            }
            Err(_) => return Err(DecodeError::InvalidUtf16 { line }),
        }
    }
    Ok(out)
}

/// Decode and parse one JSON document. An object with a key twice is an error.
pub fn parse_json(bytes: &[u8]) -> Result<Value, JsonError> {
    let (text, _) = decode_text(bytes)?;
    parse_text(&text)
}

/// Parse decoded JSON text (see [`parse_json`]).
pub fn parse_text(text: &str) -> Result<Value, JsonError> {
    if text.trim().is_empty() {
        return Err(DecodeError::Empty.into());
    }
    value_from_str(text).map_err(|e| json_error(text, &e))
}

/// `serde_json::from_slice::<Value>`, except that an object with a key twice is an error
/// (see [`json_error`] for its position). Bytes must be UTF-8 without BOM.
pub fn value_from_slice(bytes: &[u8]) -> serde_json::Result<Value> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = Strict.deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

/// `serde_json::from_str::<Value>`, except that an object with a key twice is an error.
pub fn value_from_str(text: &str) -> serde_json::Result<Value> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = Strict.deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

/// The message of the error a duplicate key raises inside the deserializer; [`json_error`]
/// turns it into [`JsonError::DuplicateKey`].
const DUPLICATE_KEY: &str = "duplicate key in object";

/// Builds a `Value` as serde_json's own `Deserialize` does, but fails on the second
/// occurrence of a key, before reading its value, so serde_json places the error just after
/// that key.
struct Strict;

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = Value;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any valid JSON value")
    }

    #[inline]
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    #[inline]
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    #[inline]
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    #[inline]
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    #[inline]
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    #[inline]
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    #[inline]
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    #[inline]
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Strict.deserialize(d)
    }

    #[inline]
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    #[inline]
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(Strict)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    #[inline]
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        use serde_json::map::Entry;
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            match out.entry(key) {
                Entry::Vacant(slot) => {
                    slot.insert(map.next_value_seed(Strict)?);
                }
                Entry::Occupied(_) => return Err(de::Error::custom(DUPLICATE_KEY)),
            }
        }
        Ok(Value::Object(out))
    }
}

/// A serde_json error on `text` as a [`JsonError`]. A duplicate key is reported at the start
/// of its second occurrence, with the key as written.
pub fn json_error(text: &str, e: &serde_json::Error) -> JsonError {
    if e.classify() == serde_json::error::Category::Data
        && e.to_string().starts_with(DUPLICATE_KEY)
        && let Some(dup) = duplicate_at(text, e.line(), e.column())
    {
        return dup;
    }
    JsonError::Syntax {
        line: e.line(),
        column: e.column().max(1),
        message: syntax_message(e),
    }
}

/// serde_json stops just after the repeated key (and any blanks after it): report the
/// key where it starts.
fn duplicate_at(text: &str, line: usize, column: usize) -> Option<JsonError> {
    let (key, line, column) = key_before(text, line, column)?;
    Some(JsonError::DuplicateKey { key, line, column })
}

/// The object key that ends at serde_json's error position (line, column of the byte after
/// it, blanks after the key skipped), and where that key starts (1-based line, column in
/// characters). serde_json stops there for a duplicate key and for an unknown or repeated
/// struct field; the start of the key is where a reader looks.
pub fn key_before(text: &str, line: usize, column: usize) -> Option<(String, usize, usize)> {
    let bytes = text.as_bytes();
    let line_start = if line <= 1 {
        0
    } else {
        bytes
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .nth(line - 2)?
            .0
            + 1
    };
    // serde_json's column counts the bytes of the line consumed so far.
    let mut end = (line_start + column).min(bytes.len());
    while end > 0 && bytes[end - 1].is_ascii_whitespace() {
        end -= 1;
    }
    if end == 0 || bytes[end - 1] != b'"' {
        return None;
    }
    let close = end - 1;
    // The opening quote is the nearest one before that is not escaped.
    let open = (0..close).rev().find(|&i| {
        bytes[i] == b'"' && bytes[..i].iter().rev().take_while(|b| **b == b'\\').count() % 2 == 0
    })?;
    let key: String = serde_json::from_str(&text[open..=close]).ok()?;
    let key_line_start = text[..open].rfind('\n').map_or(0, |i| i + 1);
    Some((
        key,
        1 + text[..open].matches('\n').count(),
        1 + text[key_line_start..open].chars().count(),
    ))
}

/// serde_json's message without the " at line L column C" it appends: callers print the
/// position themselves.
pub fn message_of(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg,
    }
}

fn syntax_message(e: &serde_json::Error) -> String {
    let msg = message_of(e);
    if e.is_eof() {
        format!("{msg} (the file is truncated)")
    } else {
        format!("invalid JSON: {msg}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le_bom(s: &str) -> Vec<u8> {
        let mut out = vec![0xFF, 0xFE];
        for u in s.encode_utf16() {
            out.extend_from_slice(&u.to_le_bytes());
        }
        out
    }

    #[test]
    fn every_encoding_decodes_to_the_same_value() {
        let text = "{\r\n  \"displayName\": \"Ünïcode ✓\"\r\n}\r\n";
        let plain = parse_json(text.as_bytes()).unwrap();
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(text.as_bytes());
        assert_eq!(parse_json(&bom).unwrap(), plain);
        assert_eq!(parse_json(&utf16le_bom(text)).unwrap(), plain);
        let mut be = vec![0xFE, 0xFF];
        for u in text.encode_utf16() {
            be.extend_from_slice(&u.to_be_bytes());
        }
        assert_eq!(parse_json(&be).unwrap(), plain);
        assert_eq!(plain["displayName"], "Ünïcode ✓");
    }

    #[test]
    fn broken_input_names_the_line() {
        let err = parse_json(b"{\n\"a\": 1,\n\"b\": \xFF}\n").unwrap_err();
        assert!(
            err.to_string().starts_with("line 3: invalid UTF-8"),
            "{err}"
        );
        let err = parse_json(b"{\n  \"a\": [1, 2\n").unwrap_err();
        assert!(err.to_string().contains("truncated"), "{err}");
        let err = parse_json(b"{\n  \"a\": nope }").unwrap_err();
        assert!(err.to_string().starts_with("line 2, column"), "{err}");
        let mut odd = utf16le_bom("{}");
        odd.push(0);
        assert_eq!(
            parse_json(&odd).unwrap_err().to_string(),
            DecodeError::OddUtf16.to_string()
        );
        assert!(matches!(
            parse_json(b"  \n").unwrap_err(),
            JsonError::Decode(DecodeError::Empty)
        ));
        // An unpaired surrogate in UTF-16.
        let bad = [0xFF, 0xFE, b'{', 0, 0x00, 0xD8, b'}', 0];
        assert!(matches!(
            parse_json(&bad).unwrap_err(),
            JsonError::Decode(DecodeError::InvalidUtf16 { line: 1 })
        ));
    }

    #[test]
    fn a_duplicate_key_is_refused_with_its_line_and_column() {
        // A merge resolved by keeping both lines: serde_json alone keeps the last value and
        // drops the first without a word.
        let text =
            "{\n  \"displayName\": \"Old\",\n  \"settings\": [],\n  \"displayName\": \"New\"\n}\n";
        assert_eq!(
            serde_json::from_str::<Value>(text).unwrap()["displayName"],
            "New"
        );
        let err = parse_json(text.as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "duplicate key \"displayName\" at line 4 column 3: keep one of them"
        );
        assert_eq!(err.position(), Some((4, 3)));
        assert_eq!(
            err.message(),
            "duplicate key \"displayName\": keep one of them"
        );
        assert!(value_from_slice(text.as_bytes()).is_err());
        // The same file saved as UTF-16 by PowerShell.
        let err = parse_json(&utf16le_bom(text)).unwrap_err();
        assert_eq!(err.position(), Some((4, 3)));

        // Deeper in the document, with escapes in the key, characters before it on the line
        // and blanks before the colon: the column counts characters, as editors do.
        let text = "{\"a\": [{\"x\": 1,\n   \"é\\\"q\\\\\" : 2, \"é\\\"q\\\\\"\t: 3}]}";
        let err = parse_json(text.as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "duplicate key \"é\\\"q\\\\\" at line 2 column 18: keep one of them"
        );
        // The colon on the next line.
        let err = parse_json(b"{\"a\": 1,\n \"a\"\n  : 2}").unwrap_err();
        assert_eq!(err.position(), Some((2, 2)), "{err}");
        // Keys that only look alike are different keys.
        let v =
            parse_json("{\"a\": 1, \"A\": 2, \"a \": 3, \"\\u0061b\": 4, \"ab \": 5}".as_bytes())
                .unwrap();
        assert_eq!(v.as_object().unwrap().len(), 5);
        // The same key in two objects is no duplicate.
        parse_json(b"[{\"a\": 1}, {\"a\": 2, \"b\": {\"a\": 3}}]").unwrap();
    }

    #[test]
    fn the_strict_parser_builds_the_values_serde_json_builds() {
        let texts = [
            "null",
            "true",
            "[]",
            "{}",
            "[0, -0, 1.5, -2.25e-3, 18446744073709551615, -9223372036854775808, 1e308, 0.1]",
            "[18446744073709551616, 123456789012345678901234567890, 1.7976931348623157e308]",
            "{\"s\": \"tab\\there \\u00e9 \\ud83d\\ude00\", \"n\": null, \"a\": [[], {}, [{}]]}",
            "  {\"deep\": [[[[[[[[[[1]]]]]]]]]]}  ",
        ];
        for t in texts {
            let ours = value_from_slice(t.as_bytes()).unwrap();
            let theirs: Value = serde_json::from_str(t).unwrap();
            assert_eq!(ours, theirs, "{t}");
            assert_eq!(value_from_str(t).unwrap(), theirs, "{t}");
            assert_eq!(
                crate::policy::canonical::to_canonical(&ours),
                crate::policy::canonical::to_canonical(&theirs)
            );
        }
        // Errors stay errors, with serde_json's positions.
        for t in ["", "{", "[1,]", "{\"a\" 1}", "1 2", "\"\\x\"", "1e400"] {
            let ours = value_from_slice(t.as_bytes()).unwrap_err();
            let theirs = serde_json::from_str::<Value>(t).unwrap_err();
            assert_eq!(ours.to_string(), theirs.to_string(), "{t}");
        }
        // Every seed policy, as real Graph exports have them.
        for (path, bytes) in crate::seed::SEEDS {
            let (text, _) = decode_text(bytes).unwrap();
            let theirs: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(parse_json(bytes).unwrap(), theirs, "{path}");
        }
    }
}
