mod common;
use common::{Vocabulary, corpus, rules};
use newsalert::pipeline::PreparedArticle;
use newsalert::regions::Gazetteer;
use newsalert::rules::{Matcher, RuleDef};
use newsalert::text::CleanOptions;
use std::time::Instant;

fn time(name: &str, defs: &[RuleDef], g: &Gazetteer, corpus: &[PreparedArticle<'_>]) {
    let m = Matcher::build(defs, g).unwrap();
    let mut best = f64::MAX;
    for _ in 0..60 {
        let t = Instant::now();
        let n: usize = corpus.iter().map(|p| m.find(&p.document()).len()).sum();
        std::hint::black_box(n);
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!("{name:30} {:.3} ms", best * 1e3);
}

fn main() {
    let g = Gazetteer::builtin();
    let v = Vocabulary::new(&g);
    let arts = corpus::articles(&v);
    let corpus: Vec<_> = arts
        .iter()
        .map(|a| PreparedArticle::new(a, CleanOptions::default()))
        .collect();
    let base = rules::mixed(&v, 1000);
    if let Ok(n) = std::env::var("LOOP") {
        let mut defs = rules::mixed(&v, n.parse().unwrap());
        if let Ok(nm) = std::env::var("NM") {
            defs.extend(rules::nonmatching(&v, nm.parse().unwrap()));
        }
        let m = Matcher::build(&defs, &g).unwrap();
        let t = Instant::now();
        for _ in 0..1000 {
            let n: usize = corpus.iter().map(|p| m.find(&p.document()).len()).sum();
            std::hint::black_box(n);
        }
        eprintln!("loop {:.3} ms/pass", t.elapsed().as_secs_f64());
        return;
    }
    time("1k", &base, &g, &corpus);
    let mut all = base.clone();
    all.extend(rules::nonmatching(&v, 99_000));
    time("1k+99k", &all, &g, &corpus);
    let mut noreg = base.clone();
    noreg.extend(
        rules::nonmatching(&v, 99_000)
            .into_iter()
            .filter(|d| !d.query.contains("region")),
    );
    time("1k+99k no region", &noreg, &g, &corpus);
    let mut noprefix = base.clone();
    noprefix.extend(
        rules::nonmatching(&v, 99_000)
            .into_iter()
            .filter(|d| !d.query.contains("region") && !d.query.ends_with('*')),
    );
    time("1k+99k no region/prefix", &noprefix, &g, &corpus);
    let mut regonly = base.clone();
    regonly.extend(
        rules::nonmatching(&v, 99_000)
            .into_iter()
            .filter(|d| d.query.contains("region")),
    );
    time("1k+regions only", &regonly, &g, &corpus);
}
