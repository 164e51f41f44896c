//! Where a setting was set, for messages: `file:line:col` of the last
//! layer that sets a key, the environment variable, or the built-in
//! defaults. Keys are found with the `toml` crate's spans, so nested
//! tables, dotted keys, quoted keys, inline tables and arrays of tables
//! are all located as written.

use crate::location::line_col;
use std::path::Path;
use toml::de::{DeTable, DeValue};

/// Where the value of `key` (`section.name` or `section`) was set:
/// `file:line:col` of the last layer that sets it, the environment
/// variable, or the built-in defaults.
pub fn locate(dir: &Path, key: &str, env: &[(String, String)]) -> String {
    let var = format!("NEWSALERT__{}", key.replace('.', "__").to_ascii_uppercase());
    if env.iter().any(|(k, _)| *k == var) {
        return format!("environment {var}");
    }
    let path: Vec<&str> = key.split('.').collect();
    for file in ["local.toml", "default.toml"] {
        let file = dir.join(file);
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        if let Some(offset) = key_offset(&text, &path) {
            let (line, col) = line_col(&text, offset);
            return format!("{}:{line}:{col}", file.display());
        }
    }
    "built-in default".to_string()
}

/// Byte offset in TOML `text` of the key at `path` (segments as written
/// unquoted; a number indexes an array, e.g. `["subscriber", "1", "id"]`
/// for the `id` of the second `[[subscriber]]`). A key points at its last
/// segment as written (`b` in `[a.b]` or `a.b = 1`); an array element at
/// its value (for an array of tables: its `[[header]]`). `None` if the
/// text does not parse or does not set the key.
pub fn key_offset(text: &str, path: &[&str]) -> Option<usize> {
    let root = DeTable::parse(text).ok()?;
    let (first, rest) = path.split_first()?;
    let (mut at, mut value) = entry(root.get_ref(), first)?;
    for segment in rest {
        (at, value) = match value {
            DeValue::Table(table) => entry(table, segment)?,
            DeValue::Array(items) => {
                let item = items.get(segment.parse::<usize>().ok()?)?;
                (item.span().start, item.get_ref())
            }
            _ => return None,
        };
    }
    Some(at)
}

/// The key `name` of `table`: where it is written, and its value.
fn entry<'t, 'i>(table: &'t DeTable<'i>, name: &str) -> Option<(usize, &'t DeValue<'i>)> {
    let (key, value) = table.get_key_value(name)?;
    Some((key.span().start, value.get_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Line and column of `path` in `text`.
    fn at(text: &str, path: &str) -> Option<(usize, usize)> {
        let path: Vec<&str> = path.split('/').collect();
        key_offset(text, &path).map(|o| line_col(text, o))
    }

    #[test]
    fn keys_are_found_where_written() {
        let text = r#"# settings
top = 1
inline = { k = { v = 1 } }
list = [10, 20]
[http]
  listen = "x"   # indented
[nats]
url = "nats://h"
tls.ca = "ca.pem"
[nats.inner]
deep = true
[a."b.c"]
"quoted key" = 2
'literal' = 3
[[subscriber]]
id = "one"
[[subscriber]]
 id = "two"
[subscriber.extra]
x = 1
"#;
        let cases: &[(&str, Option<(usize, usize)>)] = &[
            ("top", Some((2, 1))),
            ("http", Some((5, 2))),
            ("http/listen", Some((6, 3))),
            ("nats/url", Some((8, 1))),
            // Dotted keys: the last segment.
            ("nats/tls", Some((9, 1))),
            ("nats/tls/ca", Some((9, 5))),
            // Nested tables: the last segment of the header.
            ("nats/inner", Some((10, 7))),
            ("nats/inner/deep", Some((11, 1))),
            // Quoted keys, unquoted in the path.
            ("a/b.c", Some((12, 4))),
            ("a/b.c/quoted key", Some((13, 1))),
            ("a/b.c/literal", Some((14, 1))),
            // Arrays of tables: the element, then keys inside it.
            ("subscriber/0/id", Some((16, 1))),
            ("subscriber/1/id", Some((18, 2))),
            ("subscriber/1/extra/x", Some((20, 1))),
            // Inline tables and plain arrays.
            ("inline/k/v", Some((3, 18))),
            ("list/1", Some((4, 13))),
            // Not set.
            ("nats/user", None),
            ("subscriber/2/id", None),
            ("subscriber/x", None),
            ("top/deeper", None),
            ("list/9", None),
        ];
        for (path, want) in cases {
            assert_eq!(at(text, path), *want, "{path}");
        }
        assert_eq!(at("[broken", "broken"), None);
    }

    #[test]
    fn problems_are_located_in_the_layer_that_set_them() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("local.toml"),
            "# x\n[log]\n  format = \"nope\"\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("default.toml"),
            "[log]\nformat = \"json\"\nfilter = \"warn\"\n",
        )
        .unwrap();
        let place = locate(dir.path(), "log.format", &[]);
        assert!(place.ends_with("local.toml:3:3"), "{place}");
        let place = locate(dir.path(), "log.filter", &[]);
        assert!(place.ends_with("default.toml:3:1"), "{place}");
        let place = locate(dir.path(), "log", &[]);
        assert!(place.ends_with("local.toml:2:2"), "{place}");
        let env = vec![("NEWSALERT__SMTP__FROM".to_string(), "x".to_string())];
        assert_eq!(
            locate(dir.path(), "smtp.from", &env),
            "environment NEWSALERT__SMTP__FROM"
        );
        assert_eq!(locate(dir.path(), "smtp.host", &[]), "built-in default");
    }
}
