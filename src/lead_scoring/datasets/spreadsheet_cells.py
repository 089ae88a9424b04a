"""Cells a spreadsheet reads as text, never as a formula (CSV injection).

A lead's text fields come from web forms. A spreadsheet that opens a CSV runs a cell starting
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return as a formula, so a city typed as
``=HYPERLINK("http://…","open")`` would become a live link in a rep's call list. OWASP's CSV
injection guidance: prefix such a cell with a single quote, which spreadsheets read as "this cell
is text" and do not show.

Only text columns are touched: the number ``-3`` stays a number, the text ``"-3"`` (say a
quarantined raw value) becomes ``'-3``. Only the file is neutralised: the frame a node returns,
the store and the model's input keep the lead's text as it was typed.
"""

from __future__ import annotations

import pandas as pd
from pandas.api.types import is_string_dtype

# OWASP: "=", "+", "-", "@", tab (0x09) and carriage return (0x0D) start a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TEXT_MARK = "'"


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell that a spreadsheet would run as a formula quoted as text.

    Returns ``frame`` itself when no cell needs it, else a copy: the caller's frame is not changed.
    """
    quoted = {}
    for name, column in frame.items():
        if not is_string_dtype(column.dtype):  # object columns too: they may hold text
            continue
        try:
            starts = column.str.startswith(FORMULA_STARTS)
        except AttributeError:
            continue  # an object column holding no text at all (numbers, None)
        # Non-text cells of an object column (numbers, None) give NaN: they stay as they are.
        formula = starts.to_numpy(dtype=bool, na_value=False)
        if formula.any():
            safe = column.copy()
            safe[formula] = TEXT_MARK + column[formula].astype(str)
            quoted[name] = safe
    if not quoted:
        return frame
    safe_frame = frame.copy(deep=False)
    for name, column in quoted.items():
        safe_frame[name] = column
    return safe_frame
