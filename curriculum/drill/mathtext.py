"""LaTeX maths as readable Unicode text for the terminal: ``latex_to_unicode``.

``pylatexenc`` parses the LaTeX (macros with their arguments, groups, environments) and supplies its table of
symbols (Greek letters, relations, arrows, double-struck and calligraphic letters). On top of it this module
lays out what a plain symbol table cannot: sub- and superscripts (Unicode small digits and letters where every
character has one, ``x₀``, ``σ²``, ``xₜ₋₁``; otherwise ``p_θ``, ``p_data`` or ``𝔼_{q_ϕ}``), fractions (``½``,
``1/K``, ``(1-ᾱ)/ᾱ``), roots (``√(1-ᾱₜ)``), accents as combining marks (``x̂``, ``ᾱ``), operator names
followed by a space only before a symbol (``log p``, ``log(x)``, ``max_D``), spacing commands, ``\\big``
sizes (dropped) and matrices (``(a b; c d)``). ``markdown_math`` finds the ``$...$`` and ``$$...$$`` spans of
a Markdown text. pylatexenc is imported on first use.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

__all__ = ["latex_to_unicode", "math_spans"]

_SUPERSCRIPTS = dict(zip("0123456789+-=()abcdefghijklmnoprstuvwxyzABDEGHIJKLMNOPRTUVWβγδθφχ",
                         "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂᵝᵞᵟᶿᵠᵡ"))
_SUPERSCRIPTS.update({"⊤": "ᵀ", "−": "⁻", "*": "*", "⋆": "*", "∗": "*", "′": "′", "'": "′"})
_SUBSCRIPTS = dict(zip("0123456789+-=()aehijklmnoprstuvxβγρφχ", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓᵦᵧᵨᵩᵪ"))
_SUBSCRIPTS["−"] = "₋"
_FRACTIONS = {("1", "2"): "½", ("1", "3"): "⅓", ("2", "3"): "⅔", ("1", "4"): "¼", ("3", "4"): "¾",
              ("1", "8"): "⅛"}
_ACCENTS = {"hat": "\u0302", "widehat": "\u0302", "tilde": "\u0303", "widetilde": "\u0303", "bar": "\u0304",
            "overline": "\u0305", "dot": "\u0307", "ddot": "\u0308", "vec": "\u20d7", "check": "\u030c",
            "breve": "\u0306"}
_PLAIN = {"text", "textrm", "textit", "textbf", "textsf", "texttt", "emph", "mbox", "mathrm", "mathit", "mathbf",
          "mathsf", "mathtt", "boldsymbol", "bm", "pmb"}
_OPERATORS = {"log", "ln", "exp", "max", "min", "sup", "inf", "arg", "argmax", "argmin", "det", "tr", "lim",
              "sin", "cos", "tan", "cot", "tanh", "sinh", "cosh", "dim", "Pr", "deg", "ker", "rank", "diag"}
_SPACES = {",": " ", ";": " ", ":": " ", " ": " ", "quad": "  ", "qquad": "  ", "enspace": " ", "thinspace": " ",
           "!": "", "left": "", "right": "", "middle": "", "big": "", "Big": "", "bigg": "", "Bigg": "",
           "bigl": "", "bigr": "", "Bigl": "", "Bigr": "", "biggl": "", "biggr": "", "Biggl": "", "Biggr": "",
           "displaystyle": "", "textstyle": "", "limits": "", "nolimits": ""}
_SYMBOLS = {"|": "‖", "Vert": "‖", "lVert": "‖", "rVert": "‖", "vert": "|", "lvert": "|", "rvert": "|",
            "mid": "|", "{": "{", "}": "}", "langle": "⟨", "rangle": "⟩", "star": "⋆", "top": "⊤",
            "\\": "; ", "%": "%", "$": "$", "#": "#", "&": "&", "_": "_", "prime": "′", "varnothing": "∅",
            "emptyset": "∅", "ell": "ℓ", "dots": "…", "ldots": "…", "cdots": "⋯", "pm": "±", "mp": "∓"}
_RELATIONS = {"sim": "∼", "approx": "≈", "propto": "∝", "ne": "≠", "neq": "≠", "equiv": "≡", "le": "≤",
              "leq": "≤", "ge": "≥", "geq": "≥", "to": "→", "rightarrow": "→", "leftarrow": "←", "mapsto": "↦",
              "Rightarrow": "⇒", "Leftarrow": "⇐", "iff": "⇔", "in": "∈", "coloneqq": "≔", "ll": "≪", "gg": "≫",
              "cdot": "·", "times": "×", "odot": "⊙", "otimes": "⊗", "circ": "∘"}
_BRACKETS = {"pmatrix": "()", "bmatrix": "[]", "Bmatrix": "{}", "vmatrix": "||", "Vmatrix": "‖‖", "matrix": "",
             "cases": "{", "aligned": "", "align": "", "align*": "", "array": "", "smallmatrix": "()"}
_OP_MARK = "\x00"  # after an operator name: becomes a space before a symbol, nothing otherwise
_OP_START = "\x01"  # before an operator name: becomes a space after a symbol, nothing otherwise
_AFTER_OPERATOR = re.compile(_OP_MARK + r"(?=[^\W_]|[√∇∂∑∏∫‖|⟨])")
_BEFORE_OPERATOR = re.compile(r"(?<=[^\W_]|[)\]′'])" + _OP_START)
_ACCENT_MARKS = "\u0300-\u036f\u20d0-\u20ff"
_WORD = re.compile(f"(?:[^\\W_][{_ACCENT_MARKS}]*)+")
_NOT_SIMPLE = re.compile(r"[\s+\-−·×/=<>≤≥,;:±∓]")


@lru_cache(maxsize=1)
def _tools() -> tuple[Any, Any, Any]:
    from pylatexenc import latexwalker, macrospec
    from pylatexenc.latex2text import LatexNodes2Text

    context = latexwalker.get_default_latex_context_db()
    context.add_context_category("drill-maths", prepend=True, macros=[
        macrospec.std_macro(name, False, 2) for name in ("tfrac", "dfrac", "overset", "underset", "stackrel")
    ] + [macrospec.std_macro(name, False, 1) for name in ("operatorname", "boldsymbol", "bm", "widehat",
                                                          "widetilde", "mathscr", "pmb", "check", "breve")])
    return latexwalker, context, LatexNodes2Text(math_mode="text")


def _outside_brackets(text: str) -> str:
    """``text`` without what sits inside (possibly nested) round or square brackets."""
    previous = None
    while previous != text:
        previous, text = text, re.sub(r"\([^()\[\]]*\)|\[[^()\[\]]*\]", "", text)
    return text


def _simple(text: str) -> bool:
    """One symbol cluster such as p_θ(x,z) (no spaces or operators outside brackets): needs no parentheses."""
    return bool(text) and not _NOT_SIMPLE.search(_outside_brackets(text))


def _wrap(text: str, *, denominator: bool = False) -> str:
    """``text`` or ``(text)``; a denominator also needs brackets around a product such as 2σ²."""
    if not _simple(text):
        return f"({text})"
    if denominator:
        base = re.sub(f"[_^].*|[{_ACCENT_MARKS}]|[⁰-⁹⁺⁻⁼⁽⁾ᵀ*′₀-₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ]", "",
                      _outside_brackets(text))
        if len(base) > 1 and not base.isdigit() and not re.fullmatch(r"[d∂][^\W\d_]", base):
            return f"({text})"
    return text


def _script(mark: str, text: str) -> str:
    """``x`` + a sub- (``_``) or superscript: small Unicode characters when every character has one."""
    text = text.strip()
    table = _SUPERSCRIPTS if mark == "^" else _SUBSCRIPTS
    is_word = re.search(r"[^\W\d_]{2}", text)  # small letters spelling a word are hard to read: L_simple
    if text and not is_word and all(char in table for char in text):
        return "".join(table[char] for char in text)
    if mark == "^" and text in ("*", "⋆", "∗", "′"):
        return "*" if text != "′" else "′"
    if _WORD.fullmatch(text):  # a letter (maybe with an accent) or a word: p_θ, p_data
        return mark + text
    return f"{mark}{{{text}}}"


class _Renderer:
    def __init__(self) -> None:
        self.walker_module, self.context, self.symbols = _tools()

    def render(self, source: str) -> str:
        walker = self.walker_module.LatexWalker(source, latex_context=self.context, tolerant_parsing=True)
        nodes, _, _ = walker.get_latex_nodes()
        text = _AFTER_OPERATOR.sub(" ", self.nodes(nodes)).replace(_OP_MARK, "")
        text = _BEFORE_OPERATOR.sub(" ", text).replace(_OP_START, "")
        text = re.sub(r"(?<=[\[(]) +| +(?=[\])])", "", re.sub(r" {2,}", " ", text))  # none just inside brackets
        # "=" spaced on both sides or on neither (a macro before it has lost its space)
        text = re.sub(r"(?<=[^\s:<>!=])= (?=\S)", " = ", re.sub(r"(?<=\S) =(?=[^\s:=])", " = ", text))
        return text.strip()

    def nodes(self, nodelist: Any) -> str:
        atoms: list[Any] = []
        for node in nodelist or ():
            if node is None or node.isNodeType(self.walker_module.LatexCommentNode):
                continue
            if node.isNodeType(self.walker_module.LatexCharsNode):
                atoms.extend(node.chars)
            else:
                atoms.append(node)
        out: list[str] = []
        index = 0
        gap = False  # after p_θ-style script: a letter that follows needs a space (p_θ f, not p_θf)
        while index < len(atoms):
            atom = atoms[index]
            index += 1
            if isinstance(atom, str) and atom in ("_", "^"):
                while index < len(atoms) and isinstance(atoms[index], str) and atoms[index] == " ":
                    index += 1
                node = atoms[index] if index < len(atoms) else ""
                index += 1
                script = _script(atom, self.atom(node))
                after = getattr(node, "macro_post_space", "") if not isinstance(node, str) else ""
                out.append(script + after)  # a space that ended a macro name here separates words
                gap = script[:1] in ("_", "^") and script[1:2] != "{"
            else:
                text = self.atom(atom)
                if gap and (text[:1].isalnum() or text[:1] in "∫∑∏∇∂√"):
                    text = " " + text
                out.append(text)
                gap = gap and not text
        return "".join(out)

    def atom(self, atom: Any) -> str:
        walker = self.walker_module
        if isinstance(atom, str):
            return " " if atom == "~" else atom
        if atom.isNodeType(walker.LatexGroupNode) or atom.isNodeType(walker.LatexMathNode):
            return self.nodes(atom.nodelist)
        if atom.isNodeType(walker.LatexMacroNode):
            return self.macro(atom)
        if atom.isNodeType(walker.LatexEnvironmentNode):
            return self.environment(atom)
        if atom.isNodeType(walker.LatexSpecialsNode):
            return "  " if atom.specials_chars == "&" else atom.specials_chars
        return atom.latex_verbatim()

    def args(self, node: Any) -> list[str]:
        found = node.nodeargd.argnlist if node.nodeargd is not None else []
        return [self.atom(arg) if arg is not None else "" for arg in found]

    def macro(self, node: Any) -> str:
        name, space = node.macroname, node.macro_post_space
        if name in ("frac", "tfrac", "dfrac"):
            top, bottom = (part.strip() for part in self.args(node)[-2:])
            return _FRACTIONS.get((top, bottom)) or f"{_wrap(top)}/{_wrap(bottom, denominator=True)}"
        if name == "sqrt":
            *index, radicand = self.args(node)
            root = "".join(_SUPERSCRIPTS.get(char, "") for char in "".join(index))
            radicand = radicand.strip()
            single = len(re.sub(f"[{_ACCENT_MARKS}]", "", radicand)) == 1 or radicand.isdigit()
            return f"{root}√{radicand if single else f'({radicand})'}"
        if name in ("overset", "stackrel", "underset"):
            over, base = self.args(node)[-2:]
            return base + _script("_" if name == "underset" else "^", over)
        if name in _ACCENTS:
            body = self.args(node)[-1]
            return body + _ACCENTS[name] if body else ""
        if name in _PLAIN:
            return self.args(node)[-1]
        if name == "operatorname":
            return _OP_START + self.args(node)[-1] + _OP_MARK
        if name in _OPERATORS:
            return _OP_START + name + _OP_MARK + space
        if name in _SPACES:
            return _SPACES[name]
        if name in _SYMBOLS:  # delimiters and the like: the space after the macro name only ends the name
            return _SYMBOLS[name]
        if name in _RELATIONS:
            return f" {_RELATIONS[name]} "
        text = self.symbols.nodelist_to_text([node]).strip()
        if not text:
            return node.latex_verbatim()
        if name in ("int", "sum", "prod", "oint"):  # a big operator reads better with its space
            return text + space
        return text  # in maths the space after a macro name only ends the name

    def environment(self, node: Any) -> str:
        brackets = _BRACKETS.get(node.environmentname, "")
        rows = [row.strip() for row in re.split(r";\s", self.nodes(node.nodelist) + "; ")]
        body = "; ".join(" ".join(row.split()) for row in rows if row)
        if len(brackets) == 2:
            return f"{brackets[0]}{body}{brackets[1]}"
        return f"{brackets}{body}"


@lru_cache(maxsize=4096)
def latex_to_unicode(source: str) -> str:
    """A LaTeX maths fragment (what sits between ``$`` signs) as readable Unicode text."""
    return _Renderer().render(source)


_MATH = re.compile(r"(?<!\\)\$\$(.+?)(?<!\\)\$\$|(?<![\\$])\$(?!\s)(.+?)(?<![\s\\])\$(?!\d)", re.S)


def math_spans(text: str) -> list[tuple[int, int, str, bool]]:
    """The maths in a Markdown text: (start, end, LaTeX, is display maths) for each ``$$...$$`` and ``$...$``;
    a ``\\$`` is a dollar sign, and maths inside backtick code spans is left alone."""
    code = [match.span() for match in re.finditer(r"(`+)(?:(?!\1).)+?\1", text, re.S)]
    spans = []
    for match in _MATH.finditer(text):
        if any(start <= match.start() < end for start, end in code):
            continue
        display = match.group(1) is not None
        spans.append((match.start(), match.end(), match.group(1) if display else match.group(2), display))
    return spans
