//! Host names for `source:` conditions: a domain or URL normalised to the
//! host the `url` crate parses from it (IDNA to lower-case ASCII, IPv4 and
//! IPv6 literals in their canonical form), without trailing dots or a
//! leading `www.`; and the domain suffixes a host belongs to.

use url::{Host, Url};

/// Host of `s` (a bare domain or a URL with any scheme), without scheme,
/// user, port, path, trailing dots or a leading `www.`: a domain in
/// lower-case ASCII (`bücher.example` → `xn--bcher-kva.example`), an IPv4
/// address, or an IPv6 address in brackets (`[2001:db8::1]`). `None` if
/// no plausible host remains.
pub(super) fn normalize_host(s: &str) -> Option<String> {
    let s = s.trim();
    let rest = match s.split_once("://") {
        Some((scheme, rest)) if is_scheme(scheme) => rest,
        _ => s,
    };
    // A special scheme, so that the host is a domain or an IP address.
    let url = Url::parse(&format!("http://{rest}")).ok()?;
    let domain = match url.host()? {
        Host::Domain(d) => d.trim_end_matches('.'),
        Host::Ipv4(ip) => return Some(ip.to_string()),
        Host::Ipv6(ip) => return Some(format!("[{ip}]")),
    };
    let domain = domain.strip_prefix("www.").unwrap_or(domain);
    let valid = !domain.is_empty()
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    valid.then(|| domain.to_string())
}

/// Whether `s` is a URL scheme (`https`, `svn+ssh`).
fn is_scheme(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
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
            // Upper case, ports, schemes.
            ("NEWS.Example.Com:8080", Some("news.example.com")),
            ("example.com:8080/feed", Some("example.com")),
            ("example.com:port", None),
            ("FTP://Files.Example.org:21/", Some("files.example.org")),
            ("feed://example.com/rss", Some("example.com")),
            ("mailto:editor@example.com", Some("example.com")),
            ("example.com/r?u=http://other.org", Some("example.com")),
            ("my_site.example", Some("my_site.example")),
            // IDNA: Unicode and Punycode forms are the same host.
            ("bücher.example", Some("xn--bcher-kva.example")),
            ("xn--bcher-kva.example", Some("xn--bcher-kva.example")),
            ("BÜCHER.Example", Some("xn--bcher-kva.example")),
            (
                "https://www.bücher.example/a",
                Some("xn--bcher-kva.example"),
            ),
            ("президент.рф", Some("xn--d1abbgf6aiiy.xn--p1ai")),
            // Trailing dots.
            ("https://example.com./x", Some("example.com")),
            ("www.example.com.", Some("example.com")),
            ("bücher.example.", Some("xn--bcher-kva.example")),
            (".", None),
            // IP literals.
            ("http://192.0.2.1:8080/", Some("192.0.2.1")),
            ("[2001:DB8::1]", Some("[2001:db8::1]")),
            ("http://[2001:db8:0:0::1]:8443/feed", Some("[2001:db8::1]")),
            ("https://user@[::1]/", Some("[::1]")),
            ("[::1", None),
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
        assert!(within("[::1]", "[::1]"));
        let all: Vec<_> = suffixes("a.b.c").collect();
        assert_eq!(all, ["a.b.c", "b.c", "c"]);
    }
}
