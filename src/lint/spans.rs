//! Where each JSON pointer of a file *as stored* starts, for files that are not in canonical
//! form (canonical files get their positions from the canonical writer, which wrote every
//! byte). The same convention as [`crate::policy::canonical::Positions`]: an object member
//! starts at its key, an array element at its value; lines and columns are 1-based, columns in
//! characters.

use std::collections::HashMap;
use std::fmt::Write as _;

#[derive(Debug, Clone)]
struct Entry {
    line: usize,
    column: usize,
    /// Byte range of the value in the text.
    start: usize,
    end: usize,
}

/// Positions and extents of every value of a JSON text.
#[derive(Debug, Default, Clone)]
pub struct Spans {
    map: HashMap<String, Entry>,
}

impl Spans {
    /// Scan `text` (decoded, BOM removed). `None` when it is not valid JSON.
    pub fn scan(text: &str) -> Option<Spans> {
        let mut s = Scanner {
            text,
            bytes: text.as_bytes(),
            pos: 0,
            line: 1,
            line_start: 0,
            out: HashMap::new(),
        };
        s.ws();
        let (line, column) = s.here();
        let start = s.pos;
        s.value(&mut String::new(), 0)?;
        let end = s.pos;
        s.out.insert(
            String::new(),
            Entry {
                line,
                column,
                start,
                end,
            },
        );
        s.ws();
        (s.pos == s.bytes.len()).then_some(Spans { map: s.out })
    }

    pub fn get(&self, pointer: &str) -> Option<(usize, usize)> {
        self.map.get(pointer).map(|e| (e.line, e.column))
    }

    /// The position of `pointer`, or of its nearest ancestor that exists.
    pub fn nearest(&self, pointer: &str) -> (usize, usize) {
        let mut p = pointer;
        loop {
            if let Some(pos) = self.get(p) {
                return pos;
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => return (1, 1),
            }
        }
    }

    /// The innermost value containing byte `offset`.
    pub fn pointer_at(&self, offset: usize) -> Option<&str> {
        self.map
            .iter()
            .filter(|(_, e)| e.start <= offset && offset < e.end)
            .min_by_key(|(_, e)| e.end - e.start)
            .map(|(p, _)| p.as_str())
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = 1 + before.bytes().filter(|&b| b == b'\n').count();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, 1 + text[line_start..offset].chars().count())
}

struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    line: usize,
    line_start: usize,
    out: HashMap<String, Entry>,
}

/// Deeper documents are refused (serde_json refuses them too).
const MAX_DEPTH: usize = 256;

impl Scanner<'_> {
    fn here(&self) -> (usize, usize) {
        let col = 1 + self.text[self.line_start..self.pos].chars().count();
        (self.line, col)
    }

    fn ws(&mut self) {
        while let Some(&b) = self.bytes.get(self.pos) {
            match b {
                b'\n' => {
                    self.pos += 1;
                    self.line += 1;
                    self.line_start = self.pos;
                }
                b' ' | b'\t' | b'\r' => self.pos += 1,
                _ => break,
            }
        }
    }

    fn eat(&mut self, b: u8) -> Option<()> {
        (self.bytes.get(self.pos) == Some(&b)).then(|| self.pos += 1)
    }

    /// A string token; returns its decoded content.
    fn string(&mut self) -> Option<String> {
        self.eat(b'"')?;
        let mut out = String::new();
        loop {
            let start = self.pos;
            while let Some(&b) = self.bytes.get(self.pos) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            out.push_str(&self.text[start..self.pos]);
            match self.bytes.get(self.pos)? {
                b'"' => {
                    self.pos += 1;
                    return Some(out);
                }
                b'\\' => {
                    self.pos += 1;
                    let esc = *self.bytes.get(self.pos)?;
                    self.pos += 1;
                    match esc {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hex = self.text.get(self.pos..self.pos + 4)?;
                            self.pos += 4;
                            let unit = u16::from_str_radix(hex, 16).ok()?;
                            // Surrogate pairs only matter for keys we look up; decode leniently.
                            out.push(char::from_u32(unit as u32).unwrap_or('\u{fffd}'));
                        }
                        _ => return None,
                    }
                }
                _ => return None,
            }
        }
    }

    /// The value of a member or element whose pointer is `pointer` (its parent's is
    /// `pointer[..parent_len]`) and which starts at `at`: scan it and record where it is.
    fn member(
        &mut self,
        pointer: &mut String,
        parent_len: usize,
        at: (usize, usize),
        depth: usize,
    ) -> Option<()> {
        let start = self.pos;
        self.value(pointer, depth + 1)?;
        self.out.insert(
            pointer.clone(),
            Entry {
                line: at.0,
                column: at.1,
                start,
                end: self.pos,
            },
        );
        pointer.truncate(parent_len);
        Some(())
    }

    fn value(&mut self, pointer: &mut String, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        match *self.bytes.get(self.pos)? {
            b'{' => {
                self.pos += 1;
                self.ws();
                if self.eat(b'}').is_some() {
                    return Some(());
                }
                loop {
                    self.ws();
                    let (line, column) = self.here();
                    let key = self.string()?;
                    self.ws();
                    self.eat(b':')?;
                    self.ws();
                    let len = pointer.len();
                    pointer.push('/');
                    pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
                    self.member(pointer, len, (line, column), depth)?;
                    self.ws();
                    if self.eat(b',').is_some() {
                        continue;
                    }
                    self.eat(b'}')?;
                    return Some(());
                }
            }
            b'[' => {
                self.pos += 1;
                self.ws();
                if self.eat(b']').is_some() {
                    return Some(());
                }
                let mut i = 0usize;
                loop {
                    self.ws();
                    let (line, column) = self.here();
                    let len = pointer.len();
                    let _ = write!(pointer, "/{i}");
                    self.member(pointer, len, (line, column), depth)?;
                    i += 1;
                    self.ws();
                    if self.eat(b',').is_some() {
                        continue;
                    }
                    self.eat(b']')?;
                    return Some(());
                }
            }
            b'"' => self.string().map(|_| ()),
            _ => {
                let start = self.pos;
                while let Some(&b) = self.bytes.get(self.pos) {
                    if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'+' | b'.') {
                        self.pos += 1;
                    } else {
                        break;
                    }
                }
                (self.pos > start).then_some(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::canonical::to_canonical_with_positions;
    use serde_json::{Value, json};

    #[test]
    fn finds_keys_and_elements_in_any_layout() {
        let text = "{\r\n    \"b\" : [1,\n  {\"x/y\": \"é\\\"\"}],\r\n\t\"a\":null }";
        let s = Spans::scan(text).unwrap();
        assert_eq!(s.get(""), Some((1, 1)));
        assert_eq!(s.get("/b"), Some((2, 5)));
        assert_eq!(s.get("/b/0"), Some((2, 12)));
        assert_eq!(s.get("/b/1"), Some((3, 3)));
        assert_eq!(s.get("/b/1/x~1y"), Some((3, 4)));
        assert_eq!(s.get("/a"), Some((4, 2)));
        assert_eq!(s.nearest("/b/1/missing"), (3, 3));
        let at = text.find('é').unwrap();
        assert_eq!(s.pointer_at(at), Some("/b/1/x~1y"));
        assert!(Spans::scan("{\"a\": }").is_none());
        assert!(Spans::scan("{} x").is_none());
    }

    #[test]
    fn agrees_with_the_canonical_writer_on_canonical_text() {
        let v: Value = json!({
            "name": "Ünïcode \u{1F600} name",
            "settings": [{"settingInstance": {"@odata.type": "#x", "children": [], "v": [1.5, true, null]}}],
            "t~/": {"": 1}
        });
        let (bytes, positions) = to_canonical_with_positions(&v);
        let spans = Spans::scan(std::str::from_utf8(&bytes).unwrap()).unwrap();
        assert_eq!(spans.len(), positions.len());
        for p in [
            "",
            "/name",
            "/settings",
            "/settings/0",
            "/settings/0/settingInstance/v/2",
            "/t~0~1",
            "/t~0~1/",
        ] {
            assert_eq!(spans.get(p), positions.get(p), "{p}");
        }
    }

    #[test]
    fn line_col_counts_characters() {
        let text = "ab\nçd€x";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, text.find('x').unwrap()), (2, 4));
    }
}
