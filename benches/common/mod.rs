//! Deterministic workload for the matcher benchmarks: a vocabulary of news
//! words, names, places and synthetic words, a corpus of news-sized
//! articles drawn from it, rule sets of any size ([`rules`]), and the
//! aho-corasick baseline matcher ([`baseline`]); for the end-to-end benches,
//! latency summaries and the bare JetStream floor ([`latency`]), and the
//! per-hop latency breakdown ([`hops`]).
//!
//! Everything is seeded, so two runs (and two benches) see the same data.
#![allow(dead_code)] // each bench binary uses a different part

pub mod baseline;
pub mod corpus;
pub mod hops;
pub mod latency;
pub mod rules;

use fastrand::Rng;
use newsalert::regions::{Gazetteer, Strength};

/// The seed of every generator.
pub const SEED: u64 = 0x6e65_7773_616c_6572;

/// Filler words: frequent in text, never used in rules.
const FUNCTION_WORDS: &str = "the of and to in a for on that with is was said by at as from it be has \
    have will are its an were this but not after over he she they who which would also their more \
    been had than about into new last year two one three first week up out could or while all we \
    his her there when other some can most our since during before between under against where \
    such those these because both many several according told however still only just now";

/// Topic words of news text; rules use them sometimes.
const NEWS_WORDS: &str = "government minister president election parliament ministry economy \
    market oil gas pipeline energy price prices inflation bank interest rates budget tax trade \
    exports imports sanctions war peace talks agreement treaty border security military army troops \
    attack ceasefire conflict crisis protest police court trial judge law bill vote voters campaign \
    party opposition coalition leader spokesman statement report investigation corruption scandal \
    company shares profit revenue investors stock currency dollar euro ruble manat debt loan growth \
    recession unemployment jobs workers strike union health hospital vaccine virus outbreak climate \
    emissions flood earthquake storm wildfire drought water food grain wheat harvest farmers \
    transport airport flights railway port shipping tanker refinery nuclear reactor missile drone \
    satellite technology internet cyber hackers data privacy school university students teachers \
    football championship olympic coach team players film festival music museum culture refugees \
    migrants asylum humanitarian aid donors summit delegation embassy ambassador diplomats foreign \
    defence interior finance affairs regional international national official officials sources \
    agency media journalists newspaper television region capital city province district village \
    residents citizens population industry construction investment contract tender project \
    infrastructure corridor logistics exporters customs tariffs negotiations mediation normalization \
    settlement demarcation delimitation referendum constitution reform decree resignation cabinet";

/// First names and surnames that appear in text as "First Last".
const FIRST_NAMES: &str = "Ilham Nikol Vladimir Recep Emmanuel Maria Sergei Antony Olaf Ursula \
    Charles Irakli Kassym Shavkat Volodymyr Xi Narendra Jens Antonio Josep Karen Ruben Mikheil \
    Salome Ali Hikmet Ararat Zhanna Aram Lilit";
const SURNAMES: &str = "Aliyev Pashinyan Putin Erdogan Macron Lavrov Blinken Scholz Leyen Michel \
    Kobakhidze Tokayev Mirziyoyev Zelensky Modi Stoltenberg Guterres Borrell Donfried Mirzoyan \
    Bayramov Zakharova Peskov Hajiyev Simonyan Grigoryan Kocharyan Sargsyan Garibashvili Zourabichvili";

/// Two-word expressions that occur in text as such (phrase rules use them).
const COLLOCATIONS: &[&str] = &[
    "foreign ministry",
    "central bank",
    "prime minister",
    "interest rates",
    "oil prices",
    "peace talks",
    "security council",
    "european union",
    "united nations",
    "natural gas",
    "stock exchange",
    "human rights",
    "peace agreement",
    "border demarcation",
    "press briefing",
    "minsk group",
    "trade corridor",
    "state budget",
    "armed forces",
    "energy security",
];

/// The vocabulary shared by the corpus and the rule generators.
pub struct Vocabulary {
    pub function: Vec<String>,
    pub news: Vec<String>,
    pub first_names: Vec<String>,
    pub surnames: Vec<String>,
    /// Region names, demonyms, capitals as written (ASCII strong aliases).
    pub places: Vec<String>,
    /// Region keys (`AZ`) usable in `region:`.
    pub region_keys: Vec<String>,
    pub collocations: Vec<String>,
    /// Synthetic pronounceable words, rank-ordered: text uses the first
    /// ones often (Zipf), rules pick any of them, so most rarely match.
    pub topics: Vec<String>,
}

/// How many synthetic topic words there are.
pub const TOPIC_WORDS: usize = 20_000;

impl Vocabulary {
    pub fn new(gazetteer: &Gazetteer) -> Vocabulary {
        let words = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        let mut places = Vec::new();
        let mut region_keys = Vec::new();
        for region in gazetteer.regions() {
            let english: Vec<&str> = region
                .aliases
                .iter()
                .filter(|a| a.strength == Strength::Strong && !a.exact_case)
                .map(|a| a.text.as_str())
                .filter(|t| t.chars().all(|c| c.is_ascii_alphabetic() || c == ' '))
                .take(3)
                .collect();
            if !english.is_empty() {
                region_keys.push(region.key.clone());
                places.extend(english.into_iter().map(str::to_string));
            }
        }
        Vocabulary {
            function: words(FUNCTION_WORDS),
            news: words(NEWS_WORDS),
            first_names: words(FIRST_NAMES),
            surnames: words(SURNAMES),
            places,
            region_keys,
            collocations: COLLOCATIONS.iter().map(|s| s.to_string()).collect(),
            topics: (0..TOPIC_WORDS).map(topic_word).collect(),
        }
    }
}

/// The `i`-th synthetic topic word: 2 or 3 consonant-vowel syllables plus
/// a final consonant (`bakal`, `tovirem`). Never contains a `q`.
pub fn topic_word(i: usize) -> String {
    const C: &[u8] = b"bcdfghklmnprstvz";
    const V: &[u8] = b"aeiou";
    let syllables = if i < 80 * 80 { 2 } else { 3 };
    let mut n = i;
    let mut w = String::new();
    for _ in 0..syllables {
        let s = n % 80;
        n /= 80;
        w.push(C[s / 5] as char);
        w.push(V[s % 5] as char);
    }
    w.push(C[(i * 7 + 3) % C.len()] as char);
    w
}

/// The `i`-th rare word: `zq` + base-26 letters. No article contains one.
pub fn rare_word(i: usize) -> String {
    let mut w = String::from("zq");
    let mut n = i;
    for _ in 0..4 {
        w.push((b'a' + (n % 26) as u8) as char);
        n /= 26;
    }
    while n > 0 {
        w.push((b'a' + (n % 26) as u8) as char);
        n /= 26;
    }
    w
}

/// Rank sampling with probability ∝ 1 / (rank + 1)^s.
pub struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    pub fn new(n: usize, s: f64) -> Zipf {
        let mut total = 0.0;
        let cdf = (0..n)
            .map(|r| {
                total += 1.0 / ((r + 1) as f64).powf(s);
                total
            })
            .collect();
        Zipf { cdf }
    }

    pub fn sample(&self, rng: &mut Rng) -> usize {
        let total = self.cdf.last().copied().unwrap_or(0.0);
        let x = rng.f64() * total;
        self.cdf.partition_point(|&c| c < x).min(self.cdf.len() - 1)
    }
}

/// Human-readable size label: `100`, `1k`, `100k`.
pub fn size_label(n: usize) -> String {
    if n >= 1000 && n.is_multiple_of(1000) {
        format!("{}k", n / 1000)
    } else {
        n.to_string()
    }
}

/// Resident set size of this process, in bytes (Linux `/proc`).
pub fn resident_bytes() -> Option<u64> {
    proc_status_kb("VmRSS:").map(|kb| kb * 1024)
}

/// Peak resident set size of this process, in bytes (Linux `/proc`).
pub fn peak_resident_bytes() -> Option<u64> {
    proc_status_kb("VmHWM:").map(|kb| kb * 1024)
}

fn proc_status_kb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line[field.len()..].split_whitespace().next()?.parse().ok()
}
