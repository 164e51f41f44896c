//! Matcher benchmark: generated rule sets of 100 to 100k rules over a
//! corpus of news-sized articles, against an aho-corasick baseline.
//!
//! Run with `cargo bench --bench matcher` (or `make bench`), then
//! `python3 scripts/bench-summary.py` for the table quoted in
//! `benches/README.md`. One iteration is one pass over the whole corpus.
//!
//! Groups:
//! - `prepare/corpus`: cleaning + tokenizing every article (the matcher's
//!   input; not included in `match`);
//! - `tokenize/{corpus,multilingual}`: tokenizing alone (a field prepared
//!   with cleaning off), over the corpus's clean fields and over a
//!   mixed-script text where most words take the Unicode path;
//! - `match/{100,1k,10k,100k}`: `Matcher::find` over prepared articles;
//! - `match_1k_plus_99k_nonmatching/100k`: the 1k set plus 99k rules that
//!   match nothing (compare with `match/1k`);
//! - `baseline_aho_corasick/{100,1k,10k,100k}`: the same rules on the
//!   baseline in `common/baseline.rs`;
//! - `compile/{10k,100k}`: `Matcher::compile` of parsed rules.
//! - `region_context/{without,with}`: the 1k set plus `region:` rules of
//!   the countries with weak names, over the corpus plus articles with weak
//!   names in context; `without` uses the same gazetteer with its context
//!   tables left out (the matcher before regions in context).
//!
//! `cargo test --all-targets` runs each benchmark once; in a debug build
//! the 100k sizes are skipped to keep that fast.

mod common;

// The binary's allocator, so this measures what runs.
newsalert::use_binary_allocator!();

use std::hint::black_box;
use std::time::Duration;

use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use newsalert::article::Article;
use newsalert::pipeline::PreparedArticle;
use newsalert::regions::Gazetteer;
use newsalert::rules::{Matcher, RuleDef, parse};
use newsalert::text::{CleanOptions, FieldFormat, FieldName, PreparedField};

use common::baseline::{Baseline, BaselineDoc};
use common::{Vocabulary, corpus, rules, size_label};

/// Rule-set sizes; 100k only in optimised builds.
fn sizes() -> Vec<usize> {
    let mut s = vec![100, 1_000, 10_000];
    if !cfg!(debug_assertions) {
        s.push(100_000);
    }
    s
}

struct Workload {
    gazetteer: Gazetteer,
    vocab: Vocabulary,
    articles: Vec<Article>,
    throughput: Throughput,
}

impl Workload {
    fn new() -> Workload {
        let gazetteer = Gazetteer::builtin();
        let vocab = Vocabulary::new(&gazetteer);
        let articles = corpus::articles(&vocab);
        let throughput = Throughput::ElementsAndBytes {
            elements: articles.len() as u64,
            bytes: corpus::text_bytes(&articles),
        };
        Workload {
            gazetteer,
            vocab,
            articles,
            throughput,
        }
    }

    fn prepared(&self) -> Vec<PreparedArticle<'_>> {
        self.articles
            .iter()
            .map(|a| PreparedArticle::new(a, CleanOptions::default()))
            .collect()
    }

    fn matcher(&self, defs: &[RuleDef]) -> Matcher {
        Matcher::build(defs, &self.gazetteer).expect("benchmark rules compile")
    }
}

/// Rules matched over one pass of the corpus.
fn match_corpus(m: &Matcher, corpus: &[PreparedArticle<'_>]) -> usize {
    corpus.iter().map(|p| m.find(&p.document()).len()).sum()
}

fn report(name: &str, rules: usize, matches: usize, articles: usize) {
    eprintln!(
        "  [{name}] {rules} rules: {:.1} matches per article",
        matches as f64 / articles as f64
    );
}

fn bench_prepare(c: &mut Criterion) {
    let w = Workload::new();
    let mut g = c.benchmark_group("prepare");
    g.throughput(w.throughput.clone());
    g.bench_function("corpus", |b| {
        b.iter(|| {
            w.articles
                .iter()
                .map(|a| PreparedArticle::new(black_box(a), CleanOptions::default()))
                .map(|p| p.document().body.tokens.len())
                .sum::<usize>()
        })
    });
    g.finish();
}

/// News-like text in several scripts with diacritics, `ß`, Turkish `İ`,
/// ligatures, full-width letters, curly apostrophes and hyphens.
const MULTILINGUAL: &str = "Захарова: Россия заинтересована в нормализации \
    азербайджано-армянских отношений. Türkiye'nin Dışişleri Bakanlığı İstanbul'da \
    açıklama yaptı. Die Außenministerin traf sich in der Straße mit dem \
    Botschafter. Le ministre français a rencontré son homologue à São Tomé. \
    Հայաստանի արտաքին գործերի նախարարը ﬁnally met ＡＢＣ officials in \
    Nagorno-Karabakh’s capital on 21.Oct.2025 ― ΕΛΛΆΔΑ και Κύπρος. ";

fn bench_tokenize(c: &mut Criterion) {
    let w = Workload::new();
    let clean: Vec<String> = w
        .prepared()
        .iter()
        .flat_map(|p| FieldName::ALL.map(|f| p.field(f).clean.clone()))
        .collect();
    let multilingual = MULTILINGUAL.repeat(20);
    let off = CleanOptions { enabled: false };
    let tokenize = |texts: &[String]| {
        texts
            .iter()
            .map(|t| PreparedField::with_format(black_box(t), FieldFormat::Text, off))
            .map(|f| f.tokens.len())
            .sum::<usize>()
    };
    let mut g = c.benchmark_group("tokenize");
    g.throughput(Throughput::Bytes(
        clean.iter().map(|t| t.len() as u64).sum(),
    ));
    g.bench_function("corpus", |b| b.iter(|| tokenize(&clean)));
    g.throughput(Throughput::Bytes(multilingual.len() as u64));
    let texts = [multilingual];
    g.bench_function("multilingual", |b| b.iter(|| tokenize(&texts)));
    g.finish();
}

fn bench_match(c: &mut Criterion) {
    let w = Workload::new();
    let corpus = w.prepared();
    let mut g = c.benchmark_group("match");
    g.throughput(w.throughput.clone())
        .sample_size(10)
        .measurement_time(Duration::from_secs(4));
    for n in sizes() {
        let m = w.matcher(&rules::mixed(&w.vocab, n));
        report("match", n, match_corpus(&m, &corpus), corpus.len());
        g.bench_function(BenchmarkId::from_parameter(size_label(n)), |b| {
            b.iter(|| match_corpus(black_box(&m), &corpus))
        });
    }
    g.finish();

    // 99k never-matching rules must barely change the cost of the 1k set.
    let extra = if cfg!(debug_assertions) {
        9_000
    } else {
        99_000
    };
    let mut defs = rules::mixed(&w.vocab, 1_000);
    defs.extend(rules::nonmatching(&w.vocab, extra));
    let m = w.matcher(&defs);
    let mut g = c.benchmark_group("match_1k_plus_99k_nonmatching");
    g.throughput(w.throughput.clone())
        .sample_size(10)
        .measurement_time(Duration::from_secs(4));
    report(
        "1k+nonmatching",
        defs.len(),
        match_corpus(&m, &corpus),
        corpus.len(),
    );
    g.bench_function(BenchmarkId::from_parameter(size_label(defs.len())), |b| {
        b.iter(|| match_corpus(black_box(&m), &corpus))
    });
    g.finish();
}

fn bench_baseline(c: &mut Criterion) {
    let w = Workload::new();
    let docs: Vec<BaselineDoc> = w.articles.iter().map(BaselineDoc::new).collect();
    let mut g = c.benchmark_group("baseline_aho_corasick");
    g.throughput(w.throughput.clone())
        .sample_size(10)
        .measurement_time(Duration::from_secs(4));
    for n in sizes() {
        let base = Baseline::build(&rules::mixed(&w.vocab, n), &w.gazetteer);
        let matches: usize = docs.iter().map(|d| base.find(d).len()).sum();
        report("baseline", n, matches, docs.len());
        g.bench_function(BenchmarkId::from_parameter(size_label(n)), |b| {
            b.iter(|| {
                docs.iter()
                    .map(|d| black_box(&base).find(d).len())
                    .sum::<usize>()
            })
        });
    }
    g.finish();
}

fn bench_compile(c: &mut Criterion) {
    let w = Workload::new();
    let mut g = c.benchmark_group("compile");
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .measurement_time(Duration::from_secs(8));
    for n in sizes().into_iter().filter(|&n| n >= 10_000) {
        let parsed: Vec<_> = rules::mixed(&w.vocab, n)
            .into_iter()
            .map(|d| {
                let q = parse(&d.query).expect("benchmark rules parse");
                (d.id, q)
            })
            .collect();
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(BenchmarkId::from_parameter(size_label(n)), |b| {
            b.iter_with_large_drop(|| {
                Matcher::compile(black_box(&parsed), &w.gazetteer).expect("compiles")
            })
        });
    }
    g.finish();
}

/// Articles that name a weak country name with and without context.
const CONTEXT_ARTICLES: &[(&str, &str)] = &[
    (
        "Georgia",
        "The Georgian mountain resort of Bakuriani in the Borjomi district expects visitors from Armenia.",
    ),
    (
        "Rail",
        "New rail lines in Georgia and Azerbaijan were opened.",
    ),
    (
        "Georgia votes",
        "Voters in Atlanta and Savannah queued for hours in Georgia.",
    ),
    (
        "Jordan",
        "Jordan and Israel signed a water deal; Michael Jordan was not there.",
    ),
    (
        "Chad",
        "Sudanese refugees cross into Chad. Chad said he would visit.",
    ),
];

fn bench_region_context(c: &mut Criterion) {
    let w = Workload::new();
    let mut corpus = w.prepared();
    let extra: Vec<Article> = (0..corpus.len() / 10)
        .map(|i| {
            let (title, body) = CONTEXT_ARTICLES[i % CONTEXT_ARTICLES.len()];
            let mut a = w.articles[i].clone();
            (a.title, a.body) = (title.into(), body.into());
            a.summary.clear();
            a
        })
        .collect();
    corpus.extend(
        extra
            .iter()
            .map(|a| PreparedArticle::new(a, CleanOptions::default())),
    );
    let mut defs = rules::mixed(&w.vocab, 1_000);
    for key in ["GE", "JO", "TD", "MK", "FM", "AZ", "US", "FR"] {
        defs.push(RuleDef {
            id: format!("region-{key}"),
            query: format!("region:{key}"),
        });
    }
    let mut without = Gazetteer::default();
    for r in w.gazetteer.regions() {
        without.insert(r.clone());
    }
    let mut g = c.benchmark_group("region_context");
    g.sample_size(10).measurement_time(Duration::from_secs(4));
    for (label, gaz) in [("without", &without), ("with", &w.gazetteer)] {
        let m = Matcher::build(&defs, gaz).expect("benchmark rules compile");
        report(label, defs.len(), match_corpus(&m, &corpus), corpus.len());
        g.bench_function(BenchmarkId::from_parameter(label), |b| {
            b.iter(|| match_corpus(black_box(&m), &corpus))
        });
    }
    g.finish();
}

criterion_group!(
    benches,
    bench_prepare,
    bench_tokenize,
    bench_match,
    bench_baseline,
    bench_compile,
    bench_region_context
);
criterion_main!(benches);
