"""Card text for a terminal: Markdown rendered by ``rich`` and wrapped to the terminal's width, LaTeX as Unicode.

``render_markdown(text, width)`` turns a card's Markdown (lists, bold, code spans, ``$...$`` and ``$$...$$``
maths) into lines no wider than ``width`` terminal cells, broken only between words; maths goes through
``mathtext.latex_to_unicode`` first and is escaped so that Markdown leaves it alone (display maths gets a line
of its own). ``card_answer_text`` lays out the model answer, the rubric and the red flags; ``prompt_text`` a
prompt. ``terminal_width`` is the width of the terminal (``COLUMNS`` wins; 80 when the output is not a
terminal). With ``color`` (an interactive terminal) bold and code keep their styles; otherwise the text is
plain. ``rich`` is imported on first use.
"""
from __future__ import annotations

import io
import re
import shutil
import textwrap

from .deck import Card
from .mathtext import latex_to_unicode, math_spans

__all__ = ["MIN_WIDTH", "terminal_width", "wrap", "markdown_with_unicode_maths", "render_markdown", "prompt_text",
           "card_answer_text"]

MIN_WIDTH = 40
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")


def terminal_width() -> int:
    """Columns of the terminal (``COLUMNS`` wins; 80 when there is no terminal), at least ``MIN_WIDTH``."""
    return max(shutil.get_terminal_size(fallback=(80, 24)).columns, MIN_WIDTH)


def wrap(text: str, width: int, indent: str = "") -> str:
    """Plain text (no Markdown) wrapped to ``width`` between words: a word longer than a line stays whole."""
    return textwrap.fill(text, width=width, initial_indent=indent, subsequent_indent=indent,
                         break_long_words=False, break_on_hyphens=False)


def _escaped(maths: str) -> str:
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", maths)
    if re.match(r"\d+[.)]", text):  # "2." at the start of a line would begin a numbered list
        return re.sub(r"^(\d+)([.)])", r"\1\\\2", text)
    return re.sub(r"^([-+=])", r"\\\1", text)


def markdown_with_unicode_maths(text: str) -> str:
    """The Markdown ``text`` with each ``$...$`` replaced by Unicode maths (escaped for Markdown) and each
    ``$$...$$`` on a line of its own within its paragraph or list item."""
    out: list[str] = []
    position = 0
    for start, end, latex, display in math_spans(text):
        before = text[position:start]
        maths = _escaped(latex_to_unicode(latex))
        if not display:
            out.append(before + maths)
        else:
            head = before.rstrip(" ")
            if head.endswith("\n\n") or not (("".join(out)) + head).strip():
                out.append(head + maths)  # a paragraph of its own
            else:  # a hard line break keeps it in the paragraph (or list item) it belongs to
                out.append(head.rstrip("\n") + "\\\n" + maths)
            rest = text[end:]
            if rest and not rest.startswith("\n"):
                out.append("\\\n")
                end += len(rest) - len(rest.lstrip(" "))
            elif re.match(r"\n[ \t]*(?![-*+][ \t]|\d+[.)][ \t]|#|>|\n|$)", rest):  # the paragraph goes on
                out.append("\\")
        position = end
    out.append(text[position:])
    return "".join(out)


def render_markdown(text: str, width: int, *, indent: int = 0, color: bool = False) -> str:
    """``text`` (Markdown with LaTeX maths) as terminal lines of at most ``width`` cells, words unbroken."""
    from rich.console import Console
    from rich.markdown import Markdown
    from rich.padding import Padding

    width = max(int(width), MIN_WIDTH)
    console = Console(file=io.StringIO(), width=width, force_terminal=color, no_color=not color,
                      color_system="standard" if color else None, highlight=False, emoji=False,
                      legacy_windows=False)
    document = Markdown(markdown_with_unicode_maths(text), hyperlinks=False, inline_code_lexer=None)
    with console.capture() as captured:
        console.print(Padding(document, (0, 0, 0, indent)) if indent else document)
    lines = [line.rstrip() for line in captured.get().split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return "\n".join(lines)


def prompt_text(card: Card, width: int, *, color: bool = False) -> str:
    """The prompt, indented by two spaces and wrapped to ``width``."""
    return render_markdown(card.prompt, width, indent=2, color=color)


def card_answer_text(card: Card, width: int, *, color: bool = False) -> str:
    """Model answer, rubric and red flags, each under a ``--- heading ---`` line, wrapped to ``width``."""
    rubric = card.rubric
    levels = (f"- **Strong hire:** {rubric.strong_hire}\n- **Lean hire:** {rubric.lean_hire}\n"
              f"- **No hire:** {rubric.no_hire}")
    flags = "\n".join(f"- {flag}" for flag in card.red_flags)
    return (f"\n--- Model answer ---\n{render_markdown(card.answer, width, color=color)}\n\n"
            f"--- Rubric ---\n{render_markdown(levels, width, color=color)}\n\n"
            f"--- Red flags (sentences that lose the room) ---\n{render_markdown(flags, width, color=color)}\n")
