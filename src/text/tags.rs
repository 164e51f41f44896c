//! What HTML elements mean for the text a reader sees: which ones break
//! lines, which ones hold no article text (scripts, navigation, share
//! buttons, related-links boxes), which ones have no end tag.

/// Elements that start a new line (block-level, plus `br`, `td` ...).
const BLOCK: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "body",
    "br",
    "caption",
    "center",
    "dd",
    "details",
    "dialog",
    "dir",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hgroup",
    "hr",
    "html",
    "legend",
    "li",
    "main",
    "menu",
    "nav",
    "ol",
    "option",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "title",
    "tr",
    "ul",
];

/// Inline elements, only used to recognise that a text is HTML.
const INLINE: &[&str] = &[
    "a", "abbr", "b", "bdi", "bdo", "big", "cite", "code", "data", "del", "dfn", "em", "font", "i",
    "img", "ins", "kbd", "mark", "q", "s", "samp", "small", "span", "strike", "strong", "sub",
    "sup", "time", "tt", "u", "var", "wbr",
];

/// Elements whose content is never article text.
const HIDDEN: &[&str] = &[
    "aside", "button", "canvas", "embed", "footer", "form", "head", "iframe", "math", "nav",
    "noembed", "noframes", "noscript", "object", "script", "select", "style", "svg", "template",
    "textarea", "title", "xmp",
];

/// Elements whose content is raw text up to the matching end tag.
const RAW_TEXT: &[&str] = &[
    "iframe", "noembed", "noframes", "noscript", "script", "style", "textarea", "title", "xmp",
];

/// Elements that never have content or an end tag.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta", "param",
    "source", "track", "wbr",
];

/// Elements never hidden because of their class or id: a page-wide class
/// such as `has-cookie-banner` on `<body>` must not hide the article.
const CLASS_EXEMPT: &[&str] = &["html", "body", "main", "article"];

pub(crate) fn is_block(name: &str) -> bool {
    BLOCK.contains(&name) || HIDDEN.contains(&name)
}

pub(crate) fn is_known(name: &str) -> bool {
    BLOCK.contains(&name)
        || INLINE.contains(&name)
        || HIDDEN.contains(&name)
        || VOID.contains(&name)
        || matches!(name, "head" | "meta" | "link")
}

pub(crate) fn is_hidden(name: &str) -> bool {
    HIDDEN.contains(&name)
}

pub(crate) fn is_raw_text(name: &str) -> bool {
    RAW_TEXT.contains(&name)
}

pub(crate) fn is_void(name: &str) -> bool {
    VOID.contains(&name)
}

/// Whether opening `new` implicitly closes the open element `open`
/// (`<li>` after `<li>`, a block after `<p>`).
pub(crate) fn closes(open: &str, new: &str) -> bool {
    match open {
        "p" => BLOCK.contains(&new) && !matches!(new, "br" | "html" | "body"),
        "li" | "option" => new == open,
        "dt" | "dd" => matches!(new, "dt" | "dd"),
        "td" | "th" => matches!(new, "td" | "th" | "tr"),
        "tr" => new == "tr",
        _ => false,
    }
}

/// Whether an element with these attributes is page furniture (related
/// links, share buttons, newsletter boxes ...) judging by its class or id.
pub(crate) fn is_boilerplate_element(name: &str, attrs: &str) -> bool {
    if CLASS_EXEMPT.contains(&name) {
        return false;
    }
    ["class", "id"].into_iter().any(|attr| {
        attr_value(attrs, attr).is_some_and(|v| v.split_ascii_whitespace().any(is_boilerplate_name))
    })
}

/// Substrings that mark furniture anywhere in a class name.
const FURNITURE_PARTS: &[&str] = &[
    "related",
    "social",
    "newsletter",
    "cookie",
    "breadcrumb",
    "comments",
    "advert",
    "promo",
    "subscribe",
    "subscription",
    "sharing",
];

/// Whole words (between `-` / `_`) that mark furniture: `share-bar`,
/// `ad-slot`, `main-menu`, but not `shared` or `head-line`.
const FURNITURE_WORDS: &[&str] = &["share", "menu", "ad", "ads", "comment"];

fn is_boilerplate_name(class: &str) -> bool {
    let class = class.to_ascii_lowercase();
    FURNITURE_PARTS.iter().any(|p| class.contains(p))
        || class
            .split(['-', '_'])
            .any(|w| FURNITURE_WORDS.contains(&w))
}

/// The value of attribute `name` in the attribute text of a start tag.
pub(crate) fn attr_value<'a>(attrs: &'a str, name: &str) -> Option<&'a str> {
    let b = attrs.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        let key_start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && !matches!(b[i], b'=' | b'/' | b'>') {
            i += 1;
        }
        let key = &attrs[key_start..i];
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = "";
        if i < b.len() && b[i] == b'=' {
            i += 1;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            let (start, end) = match b.get(i) {
                Some(&q @ (b'"' | b'\'')) => {
                    let end = attrs[i + 1..]
                        .find(q as char)
                        .map_or(b.len(), |e| i + 1 + e);
                    (i + 1, end)
                }
                _ => {
                    let len = b[i..]
                        .iter()
                        .take_while(|c| !c.is_ascii_whitespace())
                        .count();
                    (i, i + len)
                }
            };
            value = &attrs[start..end];
            i = (end + 1).min(b.len()).max(i + 1);
        } else if key.is_empty() {
            i += 1;
        }
        if key.eq_ignore_ascii_case(name) {
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_attributes() {
        let attrs = r#" id=main class="a related-links" data-x='y z' hidden"#;
        assert_eq!(attr_value(attrs, "class"), Some("a related-links"));
        assert_eq!(attr_value(attrs, "ID"), Some("main"));
        assert_eq!(attr_value(attrs, "data-x"), Some("y z"));
        assert_eq!(attr_value(attrs, "hidden"), Some(""));
        assert_eq!(attr_value(attrs, "title"), None);
        assert_eq!(attr_value(r#" class="unclosed"#, "class"), Some("unclosed"));
        assert_eq!(attr_value("=x =", "class"), None);
    }

    #[test]
    fn classifies_furniture_classes() {
        let cases = [
            ("div", r#" class="related""#, true),
            ("ul", r#" class="related-links""#, true),
            ("div", r#" id="share-bar""#, true),
            ("div", r#" class="ad-slot top""#, true),
            ("div", r#" class="AdvertBox""#, true),
            ("div", r#" class="cookie-consent""#, true),
            ("nav", r#" class="main-menu""#, true),
            ("div", r#" class="head-line""#, false),
            ("div", r#" class="shared-content""#, false),
            ("div", r#" class="article-body""#, false),
            ("body", r#" class="has-cookie-banner""#, false),
            ("article", r#" class="post related""#, false),
        ];
        for (name, attrs, want) in cases {
            assert_eq!(is_boilerplate_element(name, attrs), want, "{name} {attrs}");
        }
    }
}
