"""Finding appeals by words: reference, company name, account id or display name, the
statement and every comment on the timeline, in Chinese and English.

Chinese is written without spaces, so a word-based index finds nothing inside "…发送红包…".
Each appeal's text is kept, normalised, in one `AppealSearch` row beside the appeal, with a
`tsvector` of its *lexemes*: for every run of Han characters each single character and each
pair of neighbours (bigrams), for any other letters and digits the whole run. A query is cut
the same way and all its lexemes must be present (`&`): a Han run of two or more characters
becomes its bigrams, so 红包 is the one lexeme '红包' and 发送红包 is '发送' & '送红' & '红包';
a run of letters or digits matches as a prefix ('ap-2026-0001' finds AP-2026-000123).

Why this and not pg_trgm: a trigram index cannot narrow a two-character Chinese query (the
commonest kind: 红包, 封号, 加粉) since LIKE '%红包%' yields no trigram, so PostgreSQL reads
the whole index; jieba segmentation needs a dictionary and misses words it cuts differently.
Bigrams find every substring of two or more Han characters, need no dictionary, and keep a
GIN index selective (measured in benchmarks/search.py). The lexemes are built here, not by
a text-search configuration, so the database's locale and parser play no part
(`array_to_tsvector`, and a query cast straight to `tsquery`).

SQLite (the embedded default) keeps only the normalised text and matches each query term as a
substring: slower, never wrong.

The rows are refreshed by the services that change the words (filing and draft edits, every
transition with its comment, renaming an enterprise or an account), inside their transaction.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable

from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from appeals.core.models import Appeal, AppealEvent, AppealSearch

MAX_QUERY_CHARS = 100
ID_LIST_LIMIT = 1000
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUNS = re.compile(rf"([{_HAN}]+)|([^\W_{_HAN}]+)")
# A case reference (AP-2026-000123) is one lexeme, plus its serial: cut into "ap" and "2026" it
# would put two lexemes in every document, and a search for a reference would intersect them.
_REFERENCE = re.compile(r"(?<![a-z0-9])[a-z]{2,4}-\d{4}-\d{3,}(?![a-z0-9])")
_REFERENCE_QUERY = re.compile(r"(?<![a-z0-9])[a-z]{2,4}-\d{4}(?:-\d*)?(?![a-z0-9])")


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").lower()


def _runs(text: str) -> Iterable[tuple[str, bool]]:
    for han, other in _RUNS.findall(normalise(text)):
        yield (han, True) if han else (other, False)


def lexemes(text: str) -> set[str]:
    """The index side: references whole (and their serial), Han unigrams and bigrams, other words whole."""
    text = normalise(text)
    out: set[str] = set()
    for reference in _REFERENCE.findall(text):
        out.update((reference, reference.rsplit("-", 1)[1]))
    text = _REFERENCE.sub(" ", text)
    for run, is_han in _runs(text):
        if is_han:
            out.update(run)
            out.update(run[i:i + 2] for i in range(len(run) - 1))
        else:
            out.add(run)
    return out


def query_terms(query: str) -> list[tuple[str, bool]]:
    """The query side: (lexeme, prefix?) pairs that must all match."""
    query = normalise(query[:MAX_QUERY_CHARS])
    terms: list[tuple[str, bool]] = [(reference.rstrip("-"), True) for reference in _REFERENCE_QUERY.findall(query)]
    for run, is_han in _runs(_REFERENCE_QUERY.sub(" ", query)):
        if is_han:
            terms.extend((run[i:i + 2], False) for i in range(len(run) - 1)) if len(run) > 1 else terms.append((run, False))
        else:
            terms.append((run, True))
    return list(dict.fromkeys(terms))


def _tsquery(terms: list[tuple[str, bool]]) -> str:
    # Lexemes hold only letters, digits and a reference's hyphens, so quoting cannot be broken out of.
    return " & ".join(f"'{lex}'" + (":*" if prefix else "") for lex, prefix in terms)


def search_appeals(qs: QuerySet[Appeal], query: str) -> QuerySet[Appeal]:
    """Narrow an (already tenant-scoped) appeal queryset to those matching every query term."""
    terms = query_terms(query or "")
    if not terms:
        return qs if not (query or "").strip() else qs.none()
    if connection.vendor == "postgresql":
        # A rare word (a reference, a phrase) matches few cases: take their ids from the GIN index
        # and let the list read just those. A common one matches many: leave it to the planner as
        # a semi-join, which walks the list's own index and stops after a page. Which one it is,
        # the index says: fetch at most ID_LIST_LIMIT + 1 ids.
        tsquery = _tsquery(terms)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT appeal_id FROM {AppealSearch._meta.db_table} WHERE vector @@ %s::tsquery LIMIT %s",
                           [tsquery, ID_LIST_LIMIT + 1])
            ids = [row[0] for row in cursor.fetchall()]
        if len(ids) <= ID_LIST_LIMIT:
            return qs.filter(pk__in=ids)
        return qs.filter(pk__in=RawSQL(
            f"SELECT appeal_id FROM {AppealSearch._meta.db_table} WHERE vector @@ %s::tsquery", [tsquery]
        ))
    matches = AppealSearch.objects.all()
    for run, _is_han in _runs(query[:MAX_QUERY_CHARS]):
        matches = matches.filter(document__contains=run)
    return qs.filter(pk__in=matches.values("appeal_id"))


def _documents(appeal_ids: list[int]) -> dict[int, str]:
    rows = Appeal.objects.filter(pk__in=appeal_ids).values_list(
        "pk", "reference", "statement", "enterprise__name", "incident__account__account_id",
        "incident__account__display_name",
    )
    comments: dict[int, list[str]] = defaultdict(list)
    for appeal_id, comment in AppealEvent.objects.filter(appeal_id__in=appeal_ids).exclude(comment="").order_by(
        "pk"
    ).values_list("appeal_id", "comment"):
        comments[appeal_id].append(comment)
    return {pk: normalise("\n".join([*parts, *comments[pk]])) for pk, *parts in rows}


def refresh(appeal_ids: Iterable[int]) -> None:
    """Recompute the search rows of these appeals (call inside the writing transaction)."""
    ids = sorted(set(appeal_ids))
    for start in range(0, len(ids), 500):
        docs = _documents(ids[start:start + 500])
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"INSERT INTO {AppealSearch._meta.db_table} (appeal_id, document, vector) "
                    "VALUES (%s, %s, array_to_tsvector(%s::text[])) "
                    "ON CONFLICT (appeal_id) DO UPDATE SET document = EXCLUDED.document, vector = EXCLUDED.vector",
                    [(pk, doc, sorted(lexemes(doc))) for pk, doc in docs.items()],
                )
        else:
            for pk, doc in docs.items():
                AppealSearch.objects.update_or_create(appeal_id=pk, defaults={"document": doc})


def on_transition(appeal, transition, by, event) -> None:
    """Workflow listener: the transition's comment becomes searchable at once."""
    refresh([appeal.pk])
