//! A corpus of news-sized plain-text articles (3–8 KB bodies) drawn from
//! the [`Vocabulary`] with Zipf-like word frequencies, plus the example
//! articles from `config/examples/articles.jsonl`.

use fastrand::Rng;
use newsalert::article::{Article, ArticleId, DEFAULT_MAX_BYTES, decode};

use super::{SEED, Vocabulary, Zipf};

/// How many articles are generated (the examples come on top).
pub const GENERATED_ARTICLES: usize = 50;

const EXAMPLES: &str = include_str!("../../config/examples/articles.jsonl");

const SOURCES: &[&str] = &[
    "news.example.com",
    "wire.example.org",
    "daily.example.net",
    "caucasus.example.com",
    "markets.example.io",
];

/// The benchmark corpus: generated articles, then the examples.
pub fn articles(vocab: &Vocabulary) -> Vec<Article> {
    let mut writer = Writer::new(vocab);
    let mut out: Vec<Article> = (0..GENERATED_ARTICLES).map(|i| writer.article(i)).collect();
    out.extend(
        EXAMPLES
            .lines()
            .filter(|l| !l.trim().is_empty())
            .filter_map(|l| decode(l.as_bytes(), DEFAULT_MAX_BYTES).ok()),
    );
    out
}

/// Bytes of title, summary and body over all articles.
pub fn text_bytes(articles: &[Article]) -> u64 {
    articles
        .iter()
        .map(|a| (a.title.len() + a.summary.len() + a.body.len()) as u64)
        .sum()
}

struct Writer<'v> {
    v: &'v Vocabulary,
    rng: Rng,
    function: Zipf,
    news: Zipf,
    topics: Zipf,
    places: Zipf,
    people: Zipf,
}

impl<'v> Writer<'v> {
    fn new(v: &'v Vocabulary) -> Writer<'v> {
        Writer {
            v,
            rng: Rng::with_seed(SEED),
            function: Zipf::new(v.function.len(), 1.0),
            news: Zipf::new(v.news.len(), 0.8),
            topics: Zipf::new(v.topics.len(), 1.0),
            places: Zipf::new(v.places.len(), 1.0),
            people: Zipf::new(v.surnames.len(), 0.7),
        }
    }

    fn article(&mut self, i: usize) -> Article {
        let body_target = self.rng.usize(3000..8000);
        let title = self.sentence(8, 14, false);
        let summary = self.sentence(25, 40, false);
        let mut body = String::new();
        while body.len() < body_target {
            for _ in 0..self.rng.usize(3..7) {
                let quoted = self.rng.u8(..10) == 0;
                body.push_str(&self.sentence(8, 25, quoted));
                body.push(' ');
            }
            body.pop();
            body.push_str("\n\n");
        }
        let source = SOURCES[i % SOURCES.len()];
        // A third of the articles carry a producer region tag.
        let regions = if i.is_multiple_of(3) {
            vec![self.v.region_keys[self.places.sample(&mut self.rng) / 3].clone()]
        } else {
            Vec::new()
        };
        Article {
            id: ArticleId::parse(&format!("bench-{i}")).expect("valid id"),
            title: title.trim_end_matches('.').to_string(),
            body,
            body_format: None,
            summary,
            url: Some(format!("https://{source}/news/{i}")),
            source: Some(source.to_string()),
            published_at: None,
            language: Some("en".to_string()),
            regions,
            tags: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// One sentence of `min..max` words, capitalised, ending in a full stop.
    fn sentence(&mut self, min: usize, max: usize, quoted: bool) -> String {
        let n = self.rng.usize(min..max);
        let mut words: Vec<String> = Vec::with_capacity(n + 2);
        while words.len() < n {
            let roll = self.rng.u8(..100);
            let word = match roll {
                0 => self.v.collocations[self.rng.usize(..self.v.collocations.len())].clone(),
                1..48 => self.v.function[self.function.sample(&mut self.rng)].clone(),
                48..72 => self.v.news[self.news.sample(&mut self.rng)].clone(),
                72..86 => self.v.topics[self.topics.sample(&mut self.rng)].clone(),
                86..93 => {
                    let s = self.people.sample(&mut self.rng);
                    let last = &self.v.surnames[s];
                    if self.rng.bool() {
                        format!(
                            "{} {last}",
                            self.v.first_names[s % self.v.first_names.len()]
                        )
                    } else {
                        last.clone()
                    }
                }
                _ => self.v.places[self.places.sample(&mut self.rng)].clone(),
            };
            let decorated = match self.rng.u8(..100) {
                0..3 if roll >= 86 => format!("{word}'s"),
                3..10 => format!("{word},"),
                _ => word,
            };
            words.push(decorated);
        }
        let mut s = words.join(" ");
        s = s.trim_end_matches(',').to_string();
        if let Some(first) = s.chars().next() {
            let upper: String = first.to_uppercase().collect();
            s.replace_range(..first.len_utf8(), &upper);
        }
        s.push('.');
        if quoted { format!("\"{s}\"") } else { s }
    }
}
