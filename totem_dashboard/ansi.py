"""Build-log text with ANSI colour codes → HTML: the text is escaped first, colours become spans."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

SGR = re.compile(r"\x1b\[([0-9;]*)m")
OTHER_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-ln-z]|\x1b\][^\x07]*\x07|\x1b[()][A-Z0-9]|\r")


def _apply(codes: str, state: dict[str, str]) -> None:
    numbers = [int(n) for n in codes.split(";") if n.isdigit()] or [0]
    for n in numbers:
        if n == 0:
            state.clear()
        elif n == 1:
            state["bold"] = "ansi-bold"
        elif n == 3:
            state["italic"] = "ansi-italic"
        elif n == 4:
            state["underline"] = "ansi-underline"
        elif n == 22:
            state.pop("bold", None)
        elif n == 24:
            state.pop("underline", None)
        elif 30 <= n <= 37 or 90 <= n <= 97:
            state["fg"] = f"ansi-fg-{n}"
        elif n == 39:
            state.pop("fg", None)
        elif 40 <= n <= 47 or 100 <= n <= 107:
            state["bg"] = f"ansi-bg-{n}"
        elif n == 49:
            state.pop("bg", None)


def to_html(text: str) -> Markup:
    """Escaped HTML with `<span class="ansi-…">` for SGR colours and styles; other escapes dropped."""
    text = OTHER_ESCAPES.sub("", text)
    out: list[str] = []
    state: dict[str, str] = {}
    position = 0
    for match in SGR.finditer(text):
        out.append(_segment(text[position : match.start()], state))
        _apply(match.group(1), state)
        position = match.end()
    out.append(_segment(text[position:], state))
    return Markup("".join(out))


def _segment(text: str, state: dict[str, str]) -> str:
    if not text:
        return ""
    escaped = str(escape(text))
    if not state:
        return escaped
    return f'<span class="{" ".join(sorted(state.values()))}">{escaped}</span>'
