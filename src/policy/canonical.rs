//! The canonical writer: UTF-8 without BOM, LF, two-space indent, object keys sorted, one
//! trailing newline. Because we write every byte, we can also record where each JSON pointer
//! starts, which findings use for their line and column.

use serde_json::Value;
use std::collections::BTreeMap;

/// Where each JSON pointer of a canonical document starts: 1-based line and column (in
/// characters). For an object member that is its key; for an array element, its value.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Positions {
    map: BTreeMap<String, (usize, usize)>,
}

impl Positions {
    pub fn get(&self, pointer: &str) -> Option<(usize, usize)> {
        self.map.get(pointer).copied()
    }

    /// The position of `pointer`, or of its nearest ancestor that exists.
    pub fn nearest(&self, pointer: &str) -> (usize, usize) {
        let mut p = pointer;
        loop {
            if let Some(pos) = self.map.get(p) {
                return *pos;
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => return (1, 1),
            }
        }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// Canonical bytes of `value`.
pub fn to_canonical(value: &Value) -> Vec<u8> {
    let mut w = Writer {
        out: Vec::with_capacity(4096),
        positions: None,
        line: 1,
        line_start: 0,
    };
    w.value(value, 0, &mut String::new());
    w.out.push(b'\n');
    w.out
}

/// Canonical bytes of `value` and the position of every pointer in them.
pub fn to_canonical_with_positions(value: &Value) -> (Vec<u8>, Positions) {
    let mut w = Writer {
        out: Vec::with_capacity(4096),
        positions: Some(Positions::default()),
        line: 1,
        line_start: 0,
    };
    w.record("");
    w.value(value, 0, &mut String::new());
    w.out.push(b'\n');
    (w.out, w.positions.unwrap_or_default())
}

struct Writer {
    out: Vec<u8>,
    positions: Option<Positions>,
    line: usize,
    line_start: usize,
}

impl Writer {
    fn newline(&mut self, depth: usize) {
        self.out.push(b'\n');
        self.line += 1;
        self.line_start = self.out.len();
        for _ in 0..depth {
            self.out.extend_from_slice(b"  ");
        }
    }

    fn record(&mut self, pointer: &str) {
        if let Some(p) = self.positions.as_mut() {
            // Indentation is ASCII, so bytes since the line start equal characters.
            let col = 1 + self.out.len() - self.line_start;
            p.map.insert(pointer.to_string(), (self.line, col));
        }
    }

    fn value(&mut self, v: &Value, depth: usize, pointer: &mut String) {
        match v {
            Value::Null => self.out.extend_from_slice(b"null"),
            Value::Bool(true) => self.out.extend_from_slice(b"true"),
            Value::Bool(false) => self.out.extend_from_slice(b"false"),
            Value::Number(n) => self.out.extend_from_slice(n.to_string().as_bytes()),
            Value::String(s) => write_string(&mut self.out, s),
            Value::Array(items) => {
                if items.is_empty() {
                    self.out.extend_from_slice(b"[]");
                    return;
                }
                self.out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(b',');
                    }
                    self.newline(depth + 1);
                    let len = pointer.len();
                    if self.positions.is_some() {
                        pointer.push('/');
                        pointer.push_str(&i.to_string());
                        let p = pointer.clone();
                        self.record(&p);
                    }
                    self.value(item, depth + 1, pointer);
                    pointer.truncate(len);
                }
                self.newline(depth);
                self.out.push(b']');
            }
            Value::Object(map) => {
                if map.is_empty() {
                    self.out.extend_from_slice(b"{}");
                    return;
                }
                self.out.push(b'{');
                // serde_json's map is ordered by key bytes (no `preserve_order`), but sort
                // explicitly so the canonical form never depends on a feature flag.
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort_unstable();
                for (i, key) in keys.into_iter().enumerate() {
                    if i > 0 {
                        self.out.push(b',');
                    }
                    self.newline(depth + 1);
                    let len = pointer.len();
                    if self.positions.is_some() {
                        pointer.push('/');
                        pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
                        let p = pointer.clone();
                        self.record(&p);
                    }
                    write_string(&mut self.out, key);
                    self.out.extend_from_slice(b": ");
                    self.value(&map[key], depth + 1, pointer);
                    pointer.truncate(len);
                }
                self.newline(depth);
                self.out.push(b'}');
            }
        }
    }
}

fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

fn write_string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    // Most strings need no escape at all: copy them in one go.
    let Some(first) = bytes.iter().position(|&b| needs_escape(b)) else {
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    };
    out.extend_from_slice(&bytes[..first]);
    let mut start = first;
    for (i, &b) in bytes.iter().enumerate().skip(first) {
        if !needs_escape(b) {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0C => out.extend_from_slice(b"\\f"),
            _ => out.extend_from_slice(format!("\\u{b:04x}").as_bytes()),
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Lines `v` takes in canonical form.
fn lines(v: &Value) -> usize {
    match v {
        Value::Array(items) if !items.is_empty() => 2 + items.iter().map(lines).sum::<usize>(),
        Value::Object(map) if !map.is_empty() => 2 + map.values().map(lines).sum::<usize>(),
        _ => 1,
    }
}

/// Where `pointer` starts in the canonical form of `value`, as [`Positions::nearest`] would
/// say, computed from the layout rules instead of by writing the document: a lookup for a
/// handful of findings need not record every pointer of a large policy.
pub fn position_of(value: &Value, pointer: &str) -> (usize, usize) {
    let mut line = 1;
    let mut column = 1;
    let mut current = value;
    let mut depth = 0;
    for token in pointer.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        // Members start on the line after their container's opening bracket.
        let mut at = line + 1;
        let found = match current {
            Value::Object(map) => {
                // serde_json's map iterates in key order, as the writer sorts.
                let mut hit = None;
                for (k, child) in map {
                    if *k == token {
                        hit = Some(child);
                        break;
                    }
                    at += lines(child);
                }
                hit
            }
            Value::Array(items) => match token.parse::<usize>() {
                Ok(i) if i < items.len() && (token == "0" || !token.starts_with('0')) => {
                    at += items[..i].iter().map(lines).sum::<usize>();
                    Some(&items[i])
                }
                _ => None,
            },
            _ => None,
        };
        let Some(child) = found else { break };
        depth += 1;
        line = at;
        column = 1 + 2 * depth;
        current = child;
    }
    (line, column)
}

/// Is `bytes` exactly the canonical form of the JSON it holds?
pub fn is_canonical_text(bytes: &[u8], value: &Value) -> bool {
    to_canonical(value) == bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn layout_is_sorted_two_space_lf_with_trailing_newline() {
        let v = json!({"b": [1, {"y": null, "x": "q\"\n\u{1}é"}], "a": {}, "c": []});
        let text = String::from_utf8(to_canonical(&v)).unwrap();
        assert_eq!(
            text,
            "{\n  \"a\": {},\n  \"b\": [\n    1,\n    {\n      \"x\": \"q\\\"\\n\\u0001é\",\n      \"y\": null\n    }\n  ],\n  \"c\": []\n}\n"
        );
        // The output parses back to the same value.
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn position_of_agrees_with_the_writer_everywhere() {
        let v = json!({
            "b": [1, {"y": null, "x": "q\"\n"}, [], {}],
            "a": {"k/~": [true, [2, 3]]},
            "settings": [{"settingInstance": {"children": [{"id": 1}, {"id": 2}]}}],
            "z": "last"
        });
        let (_, pos) = to_canonical_with_positions(&v);
        let mut pointers = vec![String::new()];
        fn all(v: &Value, p: String, out: &mut Vec<String>) {
            match v {
                Value::Object(m) => {
                    for (k, c) in m {
                        let q = format!("{p}/{}", k.replace('~', "~0").replace('/', "~1"));
                        out.push(q.clone());
                        all(c, q, out);
                    }
                }
                Value::Array(a) => {
                    for (i, c) in a.iter().enumerate() {
                        let q = format!("{p}/{i}");
                        out.push(q.clone());
                        all(c, q, out);
                    }
                }
                _ => {}
            }
        }
        all(&v, String::new(), &mut pointers);
        assert_eq!(pointers.len(), pos.len());
        for p in &pointers {
            assert_eq!(Some(position_of(&v, p)), pos.get(p), "{p}");
        }
        for missing in ["/b/9", "/b/01", "/a/k~1~0/1/7", "/nope", "/z/deeper"] {
            assert_eq!(position_of(&v, missing), pos.nearest(missing), "{missing}");
        }
    }

    #[test]
    fn positions_point_at_keys_and_elements() {
        let v = json!({"name": "x", "settings": [{"id": "a/b"}], "t~": 1});
        let (bytes, pos) = to_canonical_with_positions(&v);
        let text = String::from_utf8(bytes).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let (l, c) = pos.get("/settings/0/id").unwrap();
        assert!(lines[l - 1][c - 1..].starts_with("\"id\""));
        let (l, c) = pos.get("/settings/0").unwrap();
        assert!(lines[l - 1][c - 1..].starts_with('{'));
        let (l, c) = pos.get("/t~0").unwrap();
        assert!(lines[l - 1][c - 1..].starts_with("\"t~\""));
        assert_eq!(pos.get(""), Some((1, 1)));
        assert_eq!(
            pos.nearest("/settings/0/missing/deeper"),
            pos.get("/settings/0").unwrap()
        );
    }
}
