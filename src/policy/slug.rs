//! File names from display names: lower-case `[a-z0-9-]`, bounded length, never a path
//! separator, never a name Windows reserves. Collisions get `-2`, `-3`, … (see `snapshot`).

/// Longest slug, in bytes (all ASCII), before a collision suffix.
pub const MAX_LEN: usize = 80;

/// Slug used when a name has no letters or digits at all.
pub const EMPTY: &str = "unnamed";

const WINDOWS_RESERVED: &[&str] = &[
    "con", "prn", "aux", "nul", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8",
    "com9", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
];

/// The slug of a display name.
pub fn slugify(name: &str) -> String {
    let mut s = slugify_part(name);
    if s.is_empty() {
        s = EMPTY.to_string();
    }
    if WINDOWS_RESERVED.contains(&s.as_str()) {
        s.push_str("-x");
    }
    s
}

/// Lower-case ASCII letters and digits, runs of anything else folded into one `-`, no leading
/// or trailing `-`, at most [`MAX_LEN`] bytes. May be empty.
pub fn slugify_part(name: &str) -> String {
    let ascii = deunicode::deunicode(name);
    let mut out = String::with_capacity(ascii.len().min(MAX_LEN));
    let mut dash = false;
    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.push(c.to_ascii_lowercase());
            if out.len() >= MAX_LEN {
                break;
            }
        } else {
            dash = true;
        }
    }
    out.truncate(MAX_LEN);
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// `base` with the n-th collision suffix (`n >= 2`).
pub fn with_suffix(base: &str, n: usize) -> String {
    if n < 2 {
        base.to_string()
    } else {
        format!("{base}-{n}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_give_safe_slugs() {
        assert_eq!(slugify("../../etc/passwd"), "etc-passwd");
        assert_eq!(slugify("CON"), "con-x");
        assert_eq!(slugify("lpt1"), "lpt1-x");
        assert_eq!(slugify("🔥🔥"), slugify("🔥🔥"));
        assert!(
            slugify("🔥")
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        );
        assert_eq!(slugify("   "), "unnamed");
        assert_eq!(slugify("---"), "unnamed");
        assert_eq!(slugify("Überwachung: Défense"), "uberwachung-defense");
        assert_eq!(
            slugify("[intune-my-macs] POL-SYS-100 - NTP"),
            "intune-my-macs-pol-sys-100-ntp"
        );
        let long = "a".repeat(300);
        assert_eq!(slugify(&long).len(), MAX_LEN);
        let long_words = "word ".repeat(100);
        let s = slugify(&long_words);
        assert!(s.len() <= MAX_LEN && !s.ends_with('-'), "{s}");
        assert_eq!(slugify("Foo"), slugify("foo"));
        assert_eq!(with_suffix("foo", 2), "foo-2");
        assert_eq!(with_suffix("foo", 1), "foo");
    }
}
