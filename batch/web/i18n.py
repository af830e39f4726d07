"""Every text of the web app, in English and Dutch (texts.toml); the browser's Accept-Language
chooses.

t = translator(request.headers.get("accept-language"))
t("apply_n", n=3)   -> "Apply 3 changes" / "3 wijzigingen toepassen"
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from importlib.resources import files
from typing import Final

LANGUAGES: Final = ("en", "nl")


def _catalogue() -> dict[str, tuple[str, ...]]:
    """texts.toml beside this module: per key, its text in each of LANGUAGES."""
    tables = tomllib.loads(files("batch.web").joinpath("texts.toml").read_text(encoding="utf-8"))
    return {key: tuple(str(table[lang]) for lang in LANGUAGES) for key, table in tables.items()}


CATALOGUE: Final = _catalogue()  # key: (English, Dutch)


def choose_language(accept_language: str | None) -> str:
    """The best of LANGUAGES for an Accept-Language header (English when none fits)."""
    best, best_q = "en", -1.0
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        language = tag.strip().lower().split("-")[0]
        if language in LANGUAGES and q > best_q:
            best, best_q = language, q
    return best


def translator(language: str) -> Callable[..., str]:
    """t(key, **values): the catalogue's text in `language`, values filled in."""
    index = LANGUAGES.index(language) if language in LANGUAGES else 0

    def t(key: str, **values: object) -> str:
        text = CATALOGUE[key][index]
        return text.format(**values) if values else text

    return t
