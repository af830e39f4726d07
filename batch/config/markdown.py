"""The README's config table, rendered from the model so the two cannot drift.

`python -m batch.config --markdown` prints it; `--write-readme README.md` puts it between the
README's markers. A test fails when the README's copy differs from `table()`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Final, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from batch.config.model import Config
from batch.config.types import Shown

START: Final = "<!-- config-table:start (python -m batch.config --write-readme README.md) -->"
END: Final = "<!-- config-table:end -->"
_SECTION: Final = re.compile(re.escape(START) + r"\n(.*?)" + re.escape(END), re.DOTALL)


def table() -> str:
    """The Markdown table of every key: its type, default and meaning."""
    lines = ["| key | type | default | meaning |", "| --- | --- | --- | --- |"]
    for section, holder in Config.model_fields.items():
        model = holder.annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        for name, field in model.model_fields.items():
            shown_key = _extra(field, "shown_key") or name
            cells = (f"`{section}.{shown_key}`", _type(field), _default(field), field.description)
            lines.append("| " + " | ".join(str(cell) for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def readme_table(readme: str) -> str | None:
    """The table between the README's markers, or None when the markers are missing."""
    found = _SECTION.search(readme)
    return found.group(1) if found else None


def with_table(readme: str) -> str:
    """The README with the table between its markers replaced by `table()`."""
    if readme_table(readme) is None:
        raise ValueError(f"the README has no {START} ... {END} markers")
    return _SECTION.sub(lambda _: f"{START}\n{table()}{END}", readme)


def write_readme(path: Path) -> None:
    """Put the current table into the README at `path`."""
    path.write_text(with_table(path.read_text(encoding="utf-8")), encoding="utf-8")


def _extra(field: FieldInfo, name: str) -> Any:
    extra = field.json_schema_extra
    return extra.get(name) if isinstance(extra, dict) else None


def _type(field: FieldInfo) -> str:
    """The `Shown` name of the field's type, from its metadata or inside Optional/dict."""
    found = [m for m in field.metadata if isinstance(m, Shown)]
    return found[0].text if found else _shown_in(field.annotation) or "?"


def _shown_in(annotation: Any) -> str | None:
    if get_origin(annotation) is Annotated:
        shown = [m for m in annotation.__metadata__ if isinstance(m, Shown)]
        if shown:
            return shown[0].text
    for arg in get_args(annotation):
        text = _shown_in(arg)
        if text:
            return text
    return None


def _default(field: FieldInfo) -> str:
    """The default as TOML would spell it, or the field's `shown` text when there is none."""
    value = field.default
    shown = _extra(field, "shown_default")
    if shown:
        return str(shown)
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, int):
        return f"`{value:_}`" if value >= 10_000 else f"`{value}`"
    if isinstance(value, float):
        return f"`{value:g}`"
    if isinstance(value, str):
        return f'`"{value}"`' if value else "empty"
    if isinstance(value, tuple) and not value:
        return "`[]`"
    return f"`{value}`"
