//! Path patterns over JSON documents, written like JSON pointers.
//!
//! `/assignments/*/target` matches the `target` of every assignment; `*` stands for exactly one
//! segment (an object key or an array index) and `**` for any number of segments, including
//! none. The empty pattern `""` matches the document root.

/// One segment of a concrete path inside a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PatSeg {
    One,
    Deep,
    Lit(&'static str),
}

/// A compiled pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    segs: Vec<PatSeg>,
    deep: bool,
}

impl Pattern {
    pub fn new(pattern: &'static str) -> Self {
        let segs: Vec<PatSeg> = if pattern.is_empty() {
            Vec::new()
        } else {
            pattern
                .trim_start_matches('/')
                .split('/')
                .map(|s| match s {
                    "*" => PatSeg::One,
                    "**" => PatSeg::Deep,
                    lit => PatSeg::Lit(lit),
                })
                .collect()
        };
        let deep = segs.contains(&PatSeg::Deep);
        Pattern { segs, deep }
    }

    /// How many segments a matching path has, or `None` when `**` lets it have any number.
    pub fn fixed_len(&self) -> Option<usize> {
        (!self.deep).then_some(self.segs.len())
    }

    /// Does the pattern match the whole `path`?
    pub fn matches(&self, path: &[Seg<'_>]) -> bool {
        if !self.deep && self.segs.len() != path.len() {
            return false;
        }
        match_from(&self.segs, path.len(), &|i| path[i], 0)
    }

    /// Does the pattern match the whole of a [`DocPath`]?
    pub fn matches_doc(&self, path: &DocPath) -> bool {
        let len = path.len();
        if !self.deep && self.segs.len() != len {
            return false;
        }
        match_from(&self.segs, len, &|i| path.seg(i), 0)
    }

    /// Does the pattern match a [`DocPath`] followed by `child`?
    pub fn matches_doc_child(&self, path: &DocPath, child: Seg<'_>) -> bool {
        let len = path.len() + 1;
        if !self.deep && self.segs.len() != len {
            return false;
        }
        let at = |i: usize| if i < path.len() { path.seg(i) } else { child };
        match_from(&self.segs, len, &at, 0)
    }

    /// Does the pattern match `parent` followed by `child`?
    pub fn matches_child(&self, parent: &[Seg<'_>], child: Seg<'_>) -> bool {
        let len = parent.len() + 1;
        if !self.deep && self.segs.len() != len {
            return false;
        }
        let at = |i: usize| if i < parent.len() { parent[i] } else { child };
        match_from(&self.segs, len, &at, 0)
    }
}

fn seg_matches(p: &PatSeg, s: Seg<'_>) -> bool {
    match (p, s) {
        (PatSeg::One, _) => true,
        (PatSeg::Lit(l), Seg::Key(k)) => *l == k,
        (PatSeg::Lit(l), Seg::Index(i)) => l.parse::<usize>().ok() == Some(i),
        (PatSeg::Deep, _) => false,
    }
}

fn match_from<'p>(
    pattern: &[PatSeg],
    len: usize,
    at: &dyn Fn(usize) -> Seg<'p>,
    pos: usize,
) -> bool {
    match pattern.split_first() {
        None => pos == len,
        Some((PatSeg::Deep, rest)) => (pos..=len).any(|p| match_from(rest, len, at, p)),
        Some((head, rest)) => {
            pos < len && seg_matches(head, at(pos)) && match_from(rest, len, at, pos + 1)
        }
    }
}

/// A path being walked, owning its keys in one buffer (no allocation per step once warm).
#[derive(Debug, Default, Clone)]
pub struct DocPath {
    buf: String,
    segs: Vec<(usize, usize, Option<usize>)>,
}

impl DocPath {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.segs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.segs.is_empty()
    }

    pub fn seg(&self, i: usize) -> Seg<'_> {
        match self.segs[i] {
            (_, _, Some(n)) => Seg::Index(n),
            (a, b, None) => Seg::Key(&self.buf[a..b]),
        }
    }

    pub fn push_key(&mut self, key: &str) {
        let start = self.buf.len();
        self.buf.push_str(key);
        self.segs.push((start, self.buf.len(), None));
    }

    pub fn push_index(&mut self, i: usize) {
        self.segs.push((self.buf.len(), self.buf.len(), Some(i)));
    }

    pub fn pop(&mut self) {
        if let Some((start, _, _)) = self.segs.pop() {
            self.buf.truncate(start);
        }
    }

    pub fn segs(&self) -> Vec<Seg<'_>> {
        (0..self.len()).map(|i| self.seg(i)).collect()
    }
}

/// Render a path as a JSON pointer (RFC 6901 escaping).
pub fn to_pointer(path: &[Seg<'_>]) -> String {
    let mut out = String::new();
    for seg in path {
        out.push('/');
        match seg {
            Seg::Key(k) => out.push_str(&k.replace('~', "~0").replace('/', "~1")),
            Seg::Index(i) => out.push_str(&i.to_string()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &'static str, path: &[Seg<'_>]) -> bool {
        Pattern::new(p).matches(path)
    }

    #[test]
    fn star_matches_one_segment_and_double_star_any() {
        let path = [Seg::Key("assignments"), Seg::Index(3), Seg::Key("target")];
        assert!(m("/assignments/*/target", &path));
        assert!(!m("/assignments/*", &path));
        assert!(m("/**/target", &path));
        assert!(m("/assignments/**", &path));
        assert!(!m("/settings/**", &path));
        assert!(m("", &[]));
        assert!(!m("", &path));
        assert!(m("/assignments/3/target", &path));
        assert!(!m("/assignments/2/target", &path));
        assert!(m("/**/target/**", &path));
    }

    #[test]
    fn child_matching_equals_matching_the_joined_path() {
        let parent = [Seg::Key("assignments"), Seg::Index(0)];
        let p = Pattern::new("/assignments/*/id");
        assert!(p.matches_child(&parent, Seg::Key("id")));
        assert!(!p.matches_child(&parent, Seg::Key("target")));
        assert!(Pattern::new("/**/id").matches_child(&parent, Seg::Key("id")));
        assert!(Pattern::new("/id").matches_child(&[], Seg::Key("id")));
    }

    #[test]
    fn pointer_escapes_slash_and_tilde() {
        let path = [Seg::Key("a/b"), Seg::Key("c~d"), Seg::Index(0)];
        assert_eq!(to_pointer(&path), "/a~1b/c~0d/0");
    }
}
