"""The value types of the config file: strict, and each naming what it expected when refused.

Every type carries a `Shown` marker (how the README's table names it) and an `expect(...)`
validator that turns pydantic's own error into the one line a user reads:
``expected a whole number of at least 1, got 0``. Errors raised as `config` errors by an inner
check (a list item, a price label) pass through unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Final, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    Field,
    SecretStr,
    Strict,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)
from pydantic_core import PydanticCustomError

from batch.vocabulary import ADDON_SIZES, ADDONS, Kind, UserType, license_label, word_key

SUBJECT_FIELDS: Final = ("file", "status", "date")
CONFIG_ERROR: Final = "config"  # the pydantic error type of a message already worded for a user
_BOUND_ERRORS: Final = frozenset(
    {"greater_than", "greater_than_equal", "less_than_equal", "finite_number"}
)

# Every license label a price may be given for, by folded label.
PRICE_LABELS: Final[dict[str, str]] = {
    word_key(label): label
    for label in (
        *(license_label(Kind.BASE, user_type) for user_type in UserType),
        *(license_label(kind, None, size) for kind in ADDONS for size in ADDON_SIZES[kind]),
    )
}


@dataclass(frozen=True)
class Shown:
    """How the README's config table names a type, e.g. ``whole number > 0``."""

    text: str


def show(value: object) -> str:
    """A value as an error message quotes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def refuse(message: str) -> PydanticCustomError:
    """A validation error whose message is shown to the user as it is."""
    return PydanticCustomError(CONFIG_ERROR, "{message}", {"message": message})


def expect(
    expected: str, *, bounded: str = "", normalize: Callable[[str], str] | None = None
) -> WrapValidator:
    """Refusals worded `expected <expected>, got <value>` (`bounded` when only a limit failed).

    `normalize` is applied to text before it is checked (strip, lower case).
    """

    def check(value: object, handler: ValidatorFunctionWrapHandler) -> Any:
        given = value
        if normalize is not None and isinstance(value, str):
            value = normalize(value)
        try:
            return handler(value)
        except ValidationError as error:
            kinds = {e["type"] for e in error.errors()}
            if CONFIG_ERROR in kinds:
                raise  # already worded by an inner check
            wanted = bounded if bounded and kinds <= _BOUND_ERRORS else expected
            raise refuse(f"expected {wanted}, got {show(given)}") from None

    return WrapValidator(check)


def _strip(text: str) -> str:
    return text.strip()


def _fold(text: str) -> str:
    return text.strip().lower()


def _must(ok: Callable[[str], bool]) -> AfterValidator:
    """A check of the (stripped) text; its refusal is worded by the type's `expect`."""

    def check(text: str) -> str:
        if not ok(text):
            raise ValueError(text)
        return text

    return AfterValidator(check)


def _is_url(text: str) -> bool:
    parts = urlsplit(text)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _is_subject(text: str) -> bool:
    try:
        text.format(**dict.fromkeys(SUBJECT_FIELDS, ""))
    except (KeyError, IndexError, ValueError):
        return False
    return True


def _secret(value: object, handler: ValidatorFunctionWrapHandler) -> Any:
    if not isinstance(value, str) or not value.strip():
        raise refuse("expected non-empty text")  # never echo a secret, not even a mistyped one
    return handler(value.strip())


def _price_label(name: str) -> str:
    label = PRICE_LABELS.get(word_key(name))
    if label is None:
        examples = ", ".join(list(PRICE_LABELS.values())[:5])
        raise refuse(f"not a license label (such as {examples}, ...)")
    return label


def _whole(minimum: int, maximum: int | None = None) -> str:
    upper = f" and at most {maximum}" if maximum is not None else ""
    return f"a whole number of at least {minimum}{upper}"


Text = Annotated[str, expect("text", normalize=_strip), Shown("text")]
PathText = Annotated[str, expect("text", normalize=_strip), Shown("path")]
SecretText = Annotated[SecretStr, WrapValidator(_secret), Shown("text (secret)")]
EnvName = Annotated[
    str,
    Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$"),
    expect("the name of an environment variable", normalize=_strip),
    Shown("NAME of a variable"),
]
Url = Annotated[
    str,
    _must(_is_url),
    AfterValidator(lambda text: text.rstrip("/")),
    expect("an http(s) URL", normalize=_strip),
    Shown("URL"),
]
Address = Annotated[
    str,
    _must(lambda text: re.fullmatch(r"[^@\s]+@[^@\s]+", text) is not None),
    expect("a mail address", normalize=_strip),
    Shown("address"),
]
Addresses = Annotated[
    tuple[Address, ...],
    Strict(False),  # TOML gives a list; its items stay strict
    expect('a list of mail addresses (["a@example.com"])'),
    Shown("list of addresses"),
]
Texts = Annotated[
    tuple[Annotated[str, Field(pattern=r"\S")], ...],
    Strict(False),
    expect('a list of texts (["Notes", "Webinar (old)"])'),
    Shown("list of texts"),
]
Subject = Annotated[
    str,
    _must(_is_subject),
    expect(
        "text with only the fields " + " ".join("{" + f + "}" for f in SUBJECT_FIELDS),
        normalize=_strip,
    ),
    Shown("text with `{file}` `{status}` `{date}`"),
]
Currency = Annotated[
    str,
    Field(pattern=r"^[A-Z]{3}$"),
    expect('a currency code of three capitals ("EUR")', normalize=_strip),
    Shown("3 capitals"),
]
Flag = Annotated[bool, expect("true or false"), Shown("true/false")]
Count = Annotated[
    int, Field(ge=1), expect("a whole number", bounded=_whole(1)), Shown("whole number > 0")
]
Port = Annotated[
    int,
    Field(ge=1, le=65535),
    expect("a whole number", bounded=_whole(1, 65535)),
    Shown("1-65535"),
]
Seconds = Annotated[
    float,
    Field(gt=0, allow_inf_nan=False),
    expect("a number", bounded="a number above 0"),
    Shown("number > 0"),
]
Amount = Annotated[
    float,
    Field(ge=0, allow_inf_nan=False),
    expect("a number", bounded="a number of 0 or more"),
    Shown("number >= 0"),
]
MaxRemovals = Annotated[
    Annotated[int, Field(ge=0)] | Annotated[str, Field(pattern=r"^\d+%?$")],
    expect('a count (25) or a percentage ("5%")', normalize=_strip),
    Shown('`25` or `"5%"`'),
]
OnPrem = Annotated[
    Literal["auto"] | bool, expect('"auto", true or false'), Shown('`"auto"`/true/false')
]
PriceLabel = Annotated[str, AfterValidator(_price_label)]


def choice(*options: str) -> WrapValidator:
    """The refusal of a text that is none of `options` (any case, spaces ignored)."""
    return expect(" or ".join(repr(o) for o in options), normalize=_fold)


def shown_choice(*options: str) -> Shown:
    """The README's name of a choice: `"a"`/`"b"`."""
    return Shown("/".join(f'`"{o}"`' for o in options))


Plan = Annotated[
    Literal["pro", "business"], choice("pro", "business"), shown_choice("pro", "business")
]
RunMode = Annotated[
    Literal["apply", "sync"], choice("apply", "sync"), shown_choice("apply", "sync")
]
LogFormat = Annotated[
    Literal["auto", "text", "json"],
    choice("auto", "text", "json"),
    shown_choice("auto", "text", "json"),
]
Security = Annotated[
    Literal["none", "starttls", "ssl"],
    choice("none", "starttls", "ssl"),
    shown_choice("none", "starttls", "ssl"),
]
