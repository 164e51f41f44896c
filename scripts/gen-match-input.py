#!/usr/bin/env python3
"""Generate input for timing `newsalert match` end to end: a config
directory with N rules and a JSONL file of news-sized articles.

Usage: scripts/gen-match-input.py OUT_DIR [--articles 20000] [--rules 1000]
                                   [--nonmatching 0] [--body-bytes 4000]
                                   [--seed 42]

Writes OUT_DIR/rules.toml (one subscriber, the rules) and
OUT_DIR/articles.jsonl, so that

    newsalert match --config OUT_DIR OUT_DIR/articles.jsonl

runs as is. Deterministic for a given seed; a smaller --articles gives a
prefix of a larger one. The shape follows benches/common (corpus.rs,
rules.rs): words drawn Zipf-like from function words, news words, country
names and demonyms, names and synthetic topic words; about a quarter of
the bodies are HTML, about a third end with a "Latest news" link list.
Rules: 40% words, 20% phrases, 15% `A AND (B OR C) -D`, 10% prefixes,
10% `region:XX AND ...`, 5% `NEAR/n`, mostly from topic words and a rare
`zq...` tail that never occurs in the text. A smaller --rules gives a
prefix of a larger one. --nonmatching N appends N rules of the same mix
built only from `zq...` words (ids `n0`, `n1`, ...), which match nothing;
the first --rules rules stay those written without it.
"""

import argparse
import bisect
import itertools
import json
import os
import random

FUNCTION = ("the of and to in a is that for on with as was by at from it "
            "has be are have said were this will but not its an they which "
            "after over more than about also who their been two new had "
            "would one last up into year other some could there when").split()
NEWS = ("government minister president officials talks agreement security "
        "ceasefire election parliament economy markets energy pipeline gas "
        "oil prices sanctions border troops peace summit delegation spokesman "
        "statement ministry foreign defence trade budget inflation bank "
        "investment exports imports protest court ruling police report "
        "negotiations conflict region capital city villages refugees aid "
        "humanitarian infrastructure railway corridor port shipping").split()
PLACES = ("Azerbaijan Armenia Georgia Russia Turkey Iran France Germany "
          "Ukraine Kazakhstan China India Brazil Egypt Israel Poland Italy "
          "Spain Japan Canada Baku Yerevan Tbilisi Moscow Ankara Tehran Paris "
          "Berlin Kyiv Astana Beijing Cairo Warsaw Rome Madrid Tokyo").split()
DEMONYMS = ("Azerbaijani Armenian Georgian Russian Turkish Iranian French "
            "German Ukrainian Kazakh Chinese Indian Brazilian Egyptian").split()
FIRST = "Maria Ilham Nikol Sergey Recep Emmanuel Olaf Anna Ivan Leyla".split()
SURNAMES = ("Zakharova Aliyev Pashinyan Lavrov Erdogan Macron Scholz Petrova "
            "Ivanov Mammadova Kobakhidze Hakobyan Bayramov Mirzoyan").split()
REGION_KEYS = "AZ AM GE RU TR IR FR DE UA KZ CN IN BR EG IL PL".split()
SYLLABLES = ("ka lo mi ra ten vor sil dun bre pha gor lin mas tev qui zan "
             "por rek sul bin").split()


def topics(n):
    words = ["".join(c) for c in itertools.product(SYLLABLES, repeat=4)]
    return random.Random(7).sample(words, n)


def rare(i):
    return "zq" + format(i, "x")


class Zipf:
    def __init__(self, items, s, rng):
        self.items, self.rng = items, rng
        self.cum = list(itertools.accumulate(1 / (r + 1) ** s for r in range(len(items))))

    def pick(self):
        return self.items[bisect.bisect(self.cum, self.rng.random() * self.cum[-1])]


def sentence_pool(rng, n):
    topic = Zipf(topics(20_000), 1.0, rng)
    pools = [
        (Zipf(FUNCTION, 1.0, rng), 45),
        (Zipf(NEWS, 0.8, rng), 25),
        (topic, 15),
        (Zipf(PLACES + DEMONYMS, 1.0, rng), 8),
    ]
    weights = list(itertools.accumulate(w for _, w in pools))
    out = []
    for _ in range(n):
        words = []
        for _ in range(rng.randint(8, 25)):
            r = rng.random() * (weights[-1] + 7)
            i = bisect.bisect(weights, r)
            if i < len(pools):
                words.append(pools[i][0].pick())
            else:
                k = rng.randrange(len(SURNAMES))
                words.append(f"{FIRST[k % len(FIRST)]} {SURNAMES[k]}")
        s = " ".join(words)
        out.append(s[0].upper() + s[1:] + ".")
    return out


def article(rng, i, sentences, body_bytes):
    pick = lambda: sentences[rng.randrange(len(sentences))]
    title = pick().rstrip(".")[:90]
    summary = " ".join(pick() for _ in range(2))
    html = rng.random() < 0.25
    paragraphs, size = [], 0
    while size < body_bytes:
        p = " ".join(pick() for _ in range(rng.randint(3, 6)))
        paragraphs.append(f"<p>{p}</p>" if html else p)
        size += len(p) + 2
    if rng.random() < 0.33:
        links = [pick().rstrip(".")[:70] for _ in range(rng.randint(4, 8))]
        if html:
            items = "".join(f'<li><a href="/news/{i}-{k}">{t}</a></li>' for k, t in enumerate(links))
            paragraphs.append(f"<h3>Latest news</h3><ul>{items}</ul>")
        else:
            paragraphs.append("Latest news\n" + "\n".join(links))
    a = {
        "id": f"gen-{i}",
        "title": title,
        "summary": summary,
        "body": ("" if html else "\n\n").join(paragraphs),
        "url": f"https://news.example.com/{i}",
        "source": "news.example.com",
        "language": "en",
        "published_at": "2025-10-25T08:00:00Z",
    }
    if html:
        a["body_format"] = "html"
    return a


def rule_query(rng, topic_words, only_rare=False):
    def word():
        if only_rare:
            return rare(rng.randrange(10_000_000))
        r = rng.random()
        if r < 0.01:
            return rng.choice(NEWS)
        if r < 0.02:
            return rng.choice(SURNAMES)
        if r < 0.03:
            return rng.choice(PLACES)
        if r < 0.65:
            return rng.choice(topic_words)
        return rare(rng.randrange(10_000_000))

    def phrase():
        return '"' + " ".join(word() for _ in range(rng.randint(2, 3))) + '"'

    def term():
        return phrase() if rng.random() < 0.25 else word()

    k = rng.randrange(100)
    if k < 40:
        return word()
    if k < 60:
        return phrase()
    if k < 75:
        return f"{term()} AND ({term()} OR {term()}) -{word()}"
    if k < 85:
        while True:
            w = word()
            if len(w) >= 6 and (w.isalpha() or only_rare):
                return w[: rng.randint(5, len(w) - 1)] + "*"
    if k < 95:
        return f"region:{rng.choice(REGION_KEYS)} AND {term()}"
    return f"{word()} NEAR/{rng.randint(3, 14)} {word()}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--articles", type=int, default=20_000)
    ap.add_argument("--rules", type=int, default=1_000)
    ap.add_argument("--nonmatching", type=int, default=0)
    ap.add_argument("--body-bytes", type=int, default=4_000)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    rng = random.Random(args.seed)
    topic_words = topics(20_000)
    with open(os.path.join(args.out, "rules.toml"), "w") as f:
        f.write('[[subscriber]]\nid = "desk"\ntelegram_chat_id = 1\n\n')
        for i in range(args.rules):
            q = rule_query(rng, topic_words).replace("'", "")
            f.write(f"[[rule]]\nid = \"r{i}\"\nquery = '{q}'\nnotify = [\"desk\"]\n\n")
        rare_rng = random.Random(args.seed + 2)
        for i in range(args.nonmatching):
            q = rule_query(rare_rng, topic_words, only_rare=True)
            f.write(f"[[rule]]\nid = \"n{i}\"\nquery = '{q}'\nnotify = [\"desk\"]\n\n")

    rng = random.Random(args.seed + 1)
    sentences = sentence_pool(rng, 50_000)
    size = 0
    with open(os.path.join(args.out, "articles.jsonl"), "w") as f:
        for i in range(args.articles):
            line = json.dumps(article(rng, i, sentences, args.body_bytes), ensure_ascii=False)
            f.write(line + "\n")
            size += len(line) + 1
    print(f"{args.out}: {args.rules + args.nonmatching} rules, {args.articles} articles, {size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
