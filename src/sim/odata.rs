//! The OData query options the simulator understands: `$expand` (nested, with `$select`),
//! `$select`, `$top`, `$skiptoken` and the `ge`/`gt` date comparison of `$filter` that audit
//! events are read with.

/// One property of an `$expand`, with its own options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expand {
    pub name: String,
    pub expand: Vec<Expand>,
    pub select: Option<Vec<String>>,
}

/// The query of one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pub expand: Vec<Expand>,
    pub select: Option<Vec<String>>,
    pub top: Option<usize>,
    pub skiptoken: Option<String>,
    pub filter: Option<String>,
    /// Every option as given, except `$skiptoken` (kept for next links).
    pub rest: Vec<(String, String)>,
}

/// A query option the simulator cannot use, as Graph reports it (400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError(pub String);

/// `s` split at `sep` outside parentheses, without empty items.
fn split_top(s: &str, sep: char) -> Vec<&str> {
    crate::graph::fetch::split_top(s, sep)
        .into_iter()
        .filter(|p| !p.trim().is_empty())
        .collect()
}

fn parse_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

/// Parse `a($expand=b;$select=x,y),c`.
pub fn parse_expand(s: &str) -> Result<Vec<Expand>, QueryError> {
    let mut out = Vec::new();
    for part in split_top(s, ',') {
        let part = part.trim();
        let (name, opts) = match part.find('(') {
            Some(i) => {
                let inner = part[i + 1..].strip_suffix(')').ok_or_else(|| {
                    QueryError(format!("unbalanced parentheses in $expand: {part}"))
                })?;
                (part[..i].trim(), Some(inner))
            }
            None => (part, None),
        };
        if name == "*" {
            return Err(QueryError("$expand=* is not supported here".into()));
        }
        let mut e = Expand {
            name: name.to_string(),
            expand: Vec::new(),
            select: None,
        };
        if let Some(opts) = opts {
            for opt in split_top(opts, ';') {
                let (k, v) = opt
                    .split_once('=')
                    .ok_or_else(|| QueryError(format!("bad option in $expand: {opt}")))?;
                match k.trim() {
                    "$expand" => e.expand = parse_expand(v)?,
                    "$select" => e.select = Some(parse_list(v)),
                    other => {
                        return Err(QueryError(format!(
                            "query option {other} is not supported inside $expand"
                        )));
                    }
                }
            }
        }
        out.push(e);
    }
    Ok(out)
}

/// Write an `$expand` back (for next links).
pub fn expand_to_string(items: &[Expand]) -> String {
    items
        .iter()
        .map(|e| {
            let mut opts = Vec::new();
            if !e.expand.is_empty() {
                opts.push(format!("$expand={}", expand_to_string(&e.expand)));
            }
            if let Some(s) = &e.select {
                opts.push(format!("$select={}", s.join(",")));
            }
            if opts.is_empty() {
                e.name.clone()
            } else {
                format!("{}({})", e.name, opts.join(";"))
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Parse a raw query string (percent-encoded or not).
pub fn parse_query(raw: &str) -> Result<Query, QueryError> {
    let mut q = Query::default();
    for (k, v) in form_urlencoded::parse(raw.as_bytes()) {
        let (k, v) = (k.into_owned(), v.into_owned());
        match k.as_str() {
            "$expand" => q.expand = parse_expand(&v)?,
            "$select" => q.select = Some(parse_list(&v)),
            "$top" => {
                q.top = Some(
                    v.parse()
                        .map_err(|_| QueryError(format!("invalid $top value {v:?}")))?,
                )
            }
            "$skiptoken" => {
                q.skiptoken = Some(v);
                continue;
            }
            "$filter" => q.filter = Some(v.clone()),
            "$count" | "$orderby" | "$search" | "$skip" => {
                return Err(QueryError(format!(
                    "query option {k} is not supported by the simulator"
                )));
            }
            _ => {}
        }
        q.rest.push((k, v));
    }
    Ok(q)
}

/// The query string of `q` with another `$skiptoken`.
pub fn with_skiptoken(q: &Query, token: &str) -> String {
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in &q.rest {
        ser.append_pair(k, v);
    }
    ser.append_pair("$skiptoken", token);
    ser.finish()
}

/// A `$filter` of the form `<property> ge|gt <value>`: (property, inclusive, value).
pub fn parse_date_filter(f: &str) -> Result<(String, bool, String), QueryError> {
    let parts: Vec<&str> = f.split_whitespace().collect();
    match parts.as_slice() {
        [prop, op @ ("ge" | "gt"), value] => Ok((
            prop.to_string(),
            *op == "ge",
            value.trim_matches('\'').to_string(),
        )),
        _ => Err(QueryError(format!(
            "$filter {f:?} is not supported by the simulator (only `<property> ge|gt <date>`)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_expand_parses_and_writes_back() {
        let s = "definitionValues($expand=definition,presentationValues($expand=presentation)),assignments";
        let e = parse_expand(s).unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].name, "definitionValues");
        assert_eq!(e[0].expand[1].name, "presentationValues");
        assert_eq!(e[0].expand[1].expand[0].name, "presentation");
        assert_eq!(expand_to_string(&e), s);
        let e = parse_expand("apps($select=id;$expand=x)").unwrap();
        assert_eq!(e[0].select, Some(vec!["id".to_string()]));
        assert!(parse_expand("apps($expand=x").is_err());
    }

    #[test]
    fn queries_keep_their_options_for_next_links() {
        let q = parse_query("$select=id,displayName&$top=5&$skiptoken=o10&$expand=assignments")
            .unwrap();
        assert_eq!(q.top, Some(5));
        assert_eq!(q.skiptoken.as_deref(), Some("o10"));
        let next = with_skiptoken(&q, "o15");
        let again = parse_query(&next).unwrap();
        assert_eq!(again.select, q.select);
        assert_eq!(again.expand, q.expand);
        assert_eq!(again.skiptoken.as_deref(), Some("o15"));
        assert!(parse_query("$top=x").is_err());
        assert!(parse_query("$orderby=displayName").is_err());
    }

    #[test]
    fn date_filters() {
        assert_eq!(
            parse_date_filter("activityDateTime ge 2026-01-01T00:00:00Z").unwrap(),
            (
                "activityDateTime".into(),
                true,
                "2026-01-01T00:00:00Z".into()
            )
        );
        assert!(parse_date_filter("displayName eq 'x'").is_err());
    }
}
