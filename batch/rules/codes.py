"""The file rules' codes in precedence order, and their integer ranks used inside check_file.

A line's code is carried as a small integer (0: valid, i: FILE_CODES[i - 1]) so that a million
lines are judged with numpy, and turned into text once, at the end.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from batch.vocabulary import Code, Outcome

# A line gets the first code that applies, in this order (README, "Rules and outcomes").
FILE_CODES: Final = (
    Code.MISSING_EMAIL,
    Code.INVALID_EMAIL,
    Code.UNKNOWN_LICENSE,
    Code.INVALID_SIZE,
    Code.NOT_STACKABLE,
    Code.CONFLICT,
    Code.DUPLICATE,
    Code.MISSING_PREREQUISITE,
)

Ranks = npt.NDArray[np.int8]

VALID: Final = 0
RANK: Final[dict[str, int]] = {code.value: rank for rank, code in enumerate(FILE_CODES, start=1)}

# By rank: the code's text and the outcome of a line with that code.
CODE_TEXTS: Final = ("", *(code.value for code in FILE_CODES))
OUTCOME_TEXTS: Final = tuple(
    Outcome.VALID.value
    if not text
    else Outcome.SKIPPED.value
    if text == Code.DUPLICATE.value
    else Outcome.INVALID.value
    for text in CODE_TEXTS
)
