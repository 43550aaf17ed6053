"""The national-scale rule store of bench/rules.py, and the queries it is searched with.

1,000 national topics, each a variant of one of the shipped national rules (its title with a
qualifier, its text with sentences of other rules and words of its own), and local rules for
30 % of the topic x municipality pairs of all 98 municipalities (replace, append, not offered),
written in the shipped local rules' manner. The same rows go into SQLite and PostgreSQL.
Queries: the development set's citizen queries (every kind), and typo, ascii, compound and
"nothing" queries made from the generated topics' own words.
"""

import csv
import random
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import insert, text, update

from hotline.auth.models import Role
from hotline.auth.service import create_user, issue_api_token
from hotline.db import make_engine, make_sessionmaker
from hotline.kit.danish import fold
from hotline.migrate import upgrade_database
from hotline.municipalities.models import Municipality
from hotline.municipalities.service import load_municipalities
from hotline.rules.files import parse_rule_file
from hotline.rules.models import Rule, RuleMode, RuleSearchDocument, RuleVersion
from hotline.rules.search.documents import document_row
from hotline.rules.synonyms import SYNONYMS_FILE, read_synonym_file, store_national_synonyms

PROJECT_ROOT = Path(__file__).resolve().parent.parent
KB_RULES = PROJECT_ROOT / "kb_rules"
DEV_QUERIES = Path(__file__).parent / "data" / "search_queries_dev.tsv"
PLACES = Path(__file__).parent / "data" / "places_as_callers_say.tsv"
MUNICIPALITIES = PROJECT_ROOT / "hotline" / "municipalities" / "data" / "dk_kommuner_98_derived.csv"
SEED = 20261207
TOPICS = 1000
LOCAL_SHARE = 0.30
LOCAL_MODES = [RuleMode.REPLACE, RuleMode.APPEND, RuleMode.NOT_OFFERED]
LOCAL_MODE_WEIGHTS = [0.40, 0.45, 0.15]
QUALIFIERS = [
    "ansøgning",
    "ændring",
    "fornyelse",
    "klage",
    "gebyr",
    "frister",
    "for pensionister",
    "for studerende",
    "ved flytning",
    "i weekender",
    "for virksomheder",
    "i udlandet",
]
SYLLABLES = [
    "ka",
    "ve",
    "lo",
    "run",
    "sted",
    "holm",
    "bro",
    "vig",
    "lund",
    "rup",
    "bjerg",
    "strand",
    "mark",
    "gård",
    "høj",
    "dal",
]
STEMS = [
    "bolig",
    "tilskud",
    "ordning",
    "pulje",
    "støtte",
    "kort",
    "attest",
    "bevis",
    "ydelse",
    "sag",
    "plads",
    "ret",
]
NONE_QUERIES = [
    "kvantefysik for hunde",
    "reservedele til traktor",
    "opskrift på æblekage",
    "fodboldresultater i går",
    "vulkanudbrud på island",
]


@dataclass(frozen=True)
class Store:
    """What the benchmark needs to know of the store it built."""

    slugs: list[str]
    codes: list[str]
    tokens: dict[str, str]  # an agent's API token, per database URL
    local_rules: int
    topic_words: dict[str, str]  # a word only this topic's text has


@dataclass(frozen=True)
class _Shipped:
    title: str
    category: str
    tags: list[str]
    body: str
    notes: str
    fields: dict


def _shipped() -> tuple[list[_Shipped], list[str]]:
    national = []
    for path in sorted((KB_RULES / "national").glob("*.md")):
        rule, _ = parse_rule_file(path, path.name, None)
        front = rule.front
        national.append(
            _Shipped(
                front.title,
                front.category,
                list(front.tags),
                rule.body_md,
                rule.agent_notes_md,
                front.fields.model_dump(mode="json", exclude_none=True),
            )
        )
    local = [
        parse_rule_file(p, p.name, "0751")[0].body_md
        for p in sorted((KB_RULES / "local").glob("*/*.md"))
    ]
    return national, local


def _own_word(rng: random.Random, used: set[str]) -> str:
    while True:
        word = "".join(rng.choices(SYLLABLES, k=2)) + rng.choice(STEMS)
        if word not in used:
            used.add(word)
            return word


def _sentences(text: str) -> list[str]:
    return [s.strip() + "." for s in text.replace("\n", " ").split(". ") if s.strip()]


def _version(rule_id: int, version: int, mode: RuleMode, **values) -> dict:
    return {
        "rule_id": rule_id,
        "version": version,
        "mode": mode.value,
        "sources": [{"url": "https://www.borger.dk/", "verified": "2026-11-23"}],
        "author_name": "Bench Generator",
        "category": "",
        "tags": [],
        "agent_notes_md": "",
        "fields": {},
        "valid_to": None,
        "based_on_national_version": None,
        **values,
    }


def _national_rows(rng: random.Random, shipped: list[_Shipped]):
    rules, versions, slugs, topic_words, used = [], [], [], {}, set()
    for n in range(TOPICS):
        base = shipped[n % len(shipped)]
        qualifier = QUALIFIERS[n // len(shipped) % len(QUALIFIERS)]
        own = _own_word(rng, used)
        slug = f"emne-{n:04d}"
        slugs.append(slug)
        topic_words[slug] = own
        others = _sentences(rng.choice(shipped).body)
        body = "\n\n".join(
            [
                base.body,
                f"Ordningen {own} gælder {qualifier}. " + " ".join(rng.sample(others, 1)),
            ]
        )
        current = 2 if rng.random() < 1 / 3 else 1
        rules.append(
            {"id": n + 1, "topic_slug": slug, "municipality_code": None, "current_version": current}
        )
        for version in range(1, current + 1):
            last = version == current
            versions.append(
                _version(
                    n + 1,
                    version,
                    RuleMode.NATIONAL,
                    title=f"{base.title} – {qualifier}",
                    category=base.category,
                    tags=[*base.tags, own],
                    body_md=body,
                    agent_notes_md=base.notes,
                    fields=base.fields,
                    valid_from=date(2020, 1, 1) if version == 1 else date(2025, 1, 1),
                    valid_to=None if last else date(2025, 1, 1),
                )
            )
    return rules, versions, slugs, topic_words


def _local_rows(rng, slugs, codes, names, local_texts, first_id):
    rules, versions = [], []
    rule_id = first_id
    for slug in slugs:
        for code in codes:
            if rng.random() >= LOCAL_SHARE:
                continue
            rule_id += 1
            mode = rng.choices(LOCAL_MODES, LOCAL_MODE_WEIGHTS)[0]
            text = rng.choice(local_texts)
            body = f"I {names[code]} gælder dette: {text}"
            rules.append(
                {"id": rule_id, "topic_slug": slug, "municipality_code": code, "current_version": 1}
            )
            versions.append(
                _version(
                    rule_id,
                    1,
                    mode,
                    title=f"{names[code]}: lokal regel" if mode != RuleMode.APPEND else "",
                    body_md=body,
                    valid_from=date(2024, 1, 1),
                    based_on_national_version=1,
                )
            )
    return rules, versions


def build_stores(urls: list[str]) -> Store:
    """Migrate each database and fill it with the same national-scale store."""
    rng = random.Random(SEED)
    shipped, local_texts = _shipped()
    rules, versions, slugs, topic_words = _national_rows(rng, shipped)
    with open(MUNICIPALITIES, encoding="utf-8") as f:
        names = {
            r["kommunekode"]: r["kommunenavn"].removesuffix(" Kommune") for r in csv.DictReader(f)
        }
    codes = sorted(names)
    participating = sorted(random.Random(SEED).sample(codes, 50))
    local_rules, local_versions = _local_rows(
        random.Random(SEED + 1), slugs, codes, names, local_texts, len(rules)
    )
    rules += local_rules
    versions += local_versions
    for number, version in enumerate(versions, start=1):
        version["id"] = number
    documents = _documents(rules, versions)
    synonyms = read_synonym_file(KB_RULES / SYNONYMS_FILE, SYNONYMS_FILE)
    tokens = {}
    for url in urls:
        upgrade_database(url)
        engine = make_engine(url)
        with make_sessionmaker(engine)() as session:
            load_municipalities(session=session)
            session.execute(
                update(Municipality)
                .where(Municipality.code.in_(participating))
                .values(participating=True)
            )
            user = create_user(
                session=session,
                username="bench-agent",
                full_name="Bench Agent",
                password="bench-password-123456",
                role=Role.AGENT,
            )
            tokens[url] = issue_api_token(session=session, user=user, name="bench")
            session.execute(insert(Rule), rules)
            session.execute(insert(RuleVersion), versions)
            for start in range(0, len(documents), 2000):
                session.execute(insert(RuleSearchDocument), documents[start : start + 2000])
            store_national_synonyms(session=session, lines=synonyms.lines)
            session.commit()
        if engine.dialect.name == "postgresql":  # what autovacuum does after a bulk load
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE"))
        engine.dispose()
    return Store(slugs, participating, tokens, len(local_rules), topic_words)


def _documents(rules: list[dict], versions: list[dict]) -> list[dict]:
    by_id = {r["id"]: r for r in rules}
    rows = []
    for v in versions:
        rule = by_id[v["rule_id"]]
        rows.append(
            document_row(
                rule_version_id=v["id"],
                rule_id=rule["id"],
                topic_slug=rule["topic_slug"],
                municipality_code=rule["municipality_code"],
                title=v["title"],
                tags=v["tags"],
                body_md=v["body_md"],
                agent_notes_md=v["agent_notes_md"],
                fields=v["fields"],
                valid_from=v["valid_from"],
                valid_to=v["valid_to"],
            )
        )
    return rows


def dev_queries() -> list[dict]:
    """The development set: query, expected slugs, kind."""
    with open(DEV_QUERIES, encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def bench_queries(store: Store, count: int = 60) -> list[str]:
    """At least 200 distinct queries of every kind: the development set's, and generated ones."""
    rng = random.Random(SEED + 2)
    queries = [row["query"] for row in dev_queries()]
    for slug in rng.sample(store.slugs, count):
        word = store.topic_words[slug]
        i = rng.randrange(len(word) - 1)
        typo = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        queries += [typo, fold(word).replace("ø", "o"), f"{word[:4]} {word[4:]} regler"]
    queries += NONE_QUERIES
    return list(dict.fromkeys(queries))
