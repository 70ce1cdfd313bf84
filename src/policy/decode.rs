//! Reading policy files as real exports write them: UTF-8 with or without BOM, UTF-16LE or
//! UTF-16BE with BOM (IntuneManagement), CRLF line ends (PowerShell, the Intune portal).

use serde_json::Value;

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

/// Decode and parse one JSON document.
pub fn parse_json(bytes: &[u8]) -> Result<Value, JsonError> {
    let (text, _) = decode_text(bytes)?;
    if text.trim().is_empty() {
        return Err(DecodeError::Empty.into());
    }
    serde_json::from_str(&text).map_err(|e| JsonError::Syntax {
        line: e.line(),
        column: e.column().max(1),
        message: syntax_message(&e),
    })
}

fn syntax_message(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    // serde_json appends " at line L column C"; we print those ourselves.
    let msg = match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg,
    };
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
}
