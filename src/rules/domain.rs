//! Host names for `source:` conditions: normalising a domain or URL to a
//! lower-case host without `www.`, and the domain suffixes a host belongs to.

/// Lower-case host of `s` (a bare domain or a URL), without scheme, user,
/// port, path or a leading `www.`; `None` if no plausible host remains.
pub(super) fn normalize_host(s: &str) -> Option<String> {
    let s = s.trim();
    let rest = s.split_once("://").map_or(s, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host_port.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host_port,
    };
    let host = host.trim_end_matches('.').to_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    let valid = !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty()
                && label
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
        });
    valid.then(|| host.to_string())
}

/// `a.b.example.com` → `a.b.example.com`, `b.example.com`, `example.com`,
/// `com`: every domain `host` equals or is a subdomain of.
pub(super) fn suffixes(host: &str) -> impl Iterator<Item = &str> {
    std::iter::once(host).chain(host.match_indices('.').map(move |(i, _)| &host[i + 1..]))
}

/// Whether `host` is `domain` or a subdomain of it (both normalised).
pub(super) fn within(host: &str, domain: &str) -> bool {
    host == domain
        || host
            .strip_suffix(domain)
            .is_some_and(|head| head.ends_with('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_hosts() {
        let cases = [
            ("example.com", Some("example.com")),
            ("WWW.Example.COM", Some("example.com")),
            (
                "https://user@news.example.com:8443/a?b#c",
                Some("news.example.com"),
            ),
            ("http://www.bbc.co.uk/news", Some("bbc.co.uk")),
            ("example.com.", Some("example.com")),
            ("", None),
            ("a..b", None),
            ("exa mple.com", None),
        ];
        for (input, want) in cases {
            assert_eq!(normalize_host(input).as_deref(), want, "{input:?}");
        }
    }

    #[test]
    fn subdomains() {
        assert!(within("news.example.com", "example.com"));
        assert!(within("example.com", "example.com"));
        assert!(!within("badexample.com", "example.com"));
        let all: Vec<_> = suffixes("a.b.c").collect();
        assert_eq!(all, ["a.b.c", "b.c", "c"]);
    }
}
