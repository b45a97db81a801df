"""Answers that read well in a terminal: LaTeX as Unicode maths, Markdown rendered and wrapped to the width, no
word broken and no line wider than the terminal, on every card of the real deck."""
from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.cells import cell_len

from curriculum import drill
from curriculum.drill.mathtext import math_spans
from curriculum.drill.termtext import card_answer_text, markdown_with_unicode_maths, prompt_text

ROOT = Path(__file__).resolve().parent.parent
REAL = drill.load_deck()


@pytest.mark.parametrize("latex, text", [
    (r"\log p_\theta(x) \ge \mathbb{E}_{q_\phi}[\log p_\theta(x,z) - \log q_\phi(z|x)]",
     "log p_θ(x) ≥ 𝔼_{q_ϕ}[log p_θ(x,z) - log q_ϕ(z|x)]"),
    (r"x_t=\sqrt{\bar\alpha_t}\,x_0+\sqrt{1-\bar\alpha_t}\,\varepsilon",
     "xₜ=√(\u03b1\u0304ₜ) x₀+√(1-\u03b1\u0304ₜ) ε"),  # α with a combining macron
    (r"m = \tfrac12(p_{\mathrm{data}}+p_g)", "m = ½(p_data+p_g)"),
    (r"\frac{\partial f}{\partial x}", "∂f/∂x"),
    (r"\tfrac{1}{2\sigma^2}\lVert x-\mu\rVert^2", "1/(2σ²)‖x-μ‖²"),
    (r"D^\star(x)=\dfrac{p_{\mathrm{data}}(x)}{p_{\mathrm{data}}(x)+p_g(x)}",
     "D*(x)=p_data(x)/(p_data(x)+p_g(x))"),
    (r"\min_G C(G) = -\log 4", "min_G C(G) = -log 4"),
    (r"\mathbb{E}_q[\log w] =: \mathrm{ELBO},\ \lambda = 10", "𝔼_q[log w] =: ELBO, λ = 10"),
    (r"\nabla_\theta f(x)", "∇_θ f(x)"),
    (r"\sum_{k=1}^K w_k", "∑ₖ₌₁ᴷ wₖ"),
    (r"L_{\text{simple}} \propto \|\varepsilon-\varepsilon_\theta\|^2", "L_simple ∝ ‖ε-ε_θ‖²"),
    (r"x\sim\mathcal N(0,I),\ \theta\ne0", "x ∼ 𝒩(0,I), θ ≠ 0"),
    (r"\operatorname{Cov}(x_{t-1})", "Cov(xₜ₋₁)"),
    (r"\begin{pmatrix} I & 0\\ A & B \end{pmatrix}", "(I 0; A B)"),
    (r"\bar\alpha_{1000}\approx4\times10^{-5}", "\u03b1\u0304₁₀₀₀ ≈ 4 × 10⁻⁵"),
])
def test_latex_to_unicode(latex, text):
    assert drill.latex_to_unicode(latex) == text


def test_every_formula_in_the_deck_converts_without_leftover_latex():
    leftovers = []
    for card in REAL:
        for source in (card.prompt, card.answer):
            for _, _, latex, _ in math_spans(source):
                text = drill.latex_to_unicode(latex)
                if re.search(r"\\[A-Za-z]+|\\[,;!|{}]|\$", text) or not text:
                    leftovers.append((card.id, latex, text))
    assert leftovers == []


def test_maths_spans_and_escaping():
    text = r"Cost \$5, code `$x$` stays; $a_1$ and $$\sum_i x_i$$ end."
    assert [(latex, display) for _, _, latex, display in math_spans(text)] == [("a_1", False), (r"\sum_i x_i", True)]
    rendered = drill.render_markdown(text, 80)
    assert "Cost $5" in rendered and "$x$" in rendered and "a₁" in rendered and "∑ᵢ xᵢ" in rendered
    # maths that Markdown would read as emphasis or a list stays as it is
    assert drill.render_markdown(r"$D^\star$ and $E^\star$ and $-x$", 80) == "D* and E* and -x"
    assert markdown_with_unicode_maths("Hence\n$$-\\log p$$\nso.") == "Hence\\\n\\-log p\\\nso."


def words(text: str) -> list[str]:
    return [word for line in text.splitlines() for word in line.split()]


@pytest.mark.parametrize("width", [80, 52])
def test_every_answer_fits_the_width_with_no_word_broken(width):
    problems = []
    for card in REAL:
        for name, render in (("answer", card_answer_text), ("prompt", prompt_text)):
            narrow, wide = render(card, width), render(card, 4000)
            too_wide = [line for line in narrow.splitlines() if cell_len(line) > width]
            broken = set(words(narrow)) - set(words(wide))  # a broken word leaves a piece that is no word
            # only a formula longer than a whole line may be folded (at 52 columns, one of the deck's is)
            longer = [word for word in words(wide) if cell_len(word) > width - 6]
            broken = {piece for piece in broken if not any(piece in word for word in longer)}
            if too_wide or broken or "$" in narrow or re.search(r"\*\*[A-Z]", narrow):
                problems.append((card.id, name, too_wide[:1], sorted(broken)[:3]))
    assert problems == []


def test_the_bad_case_the_width_test_guards_against():
    """What the old terminal code did (raw Markdown, text wrapped at a fixed 96 columns) fails the checks."""
    import textwrap

    card = REAL.get("vae-elbo-derivation")
    old = textwrap.fill(card.prompt, width=96)
    assert any(cell_len(line) > 80 for line in old.splitlines())
    assert "$" in card.answer and "$" not in card_answer_text(card, 80)
    chopped = textwrap.fill(card.answer, width=80, break_long_words=True)
    assert "**" in chopped


def test_a_session_renders_the_answer_at_the_terminals_width(tmp_path):
    env = {**os.environ, "COLUMNS": "80", "CURRICULUM_DRILL_FILE": str(tmp_path / "p.json"),
           "CURRICULUM_DRILL_NOW": "2026-01-01T09:00:00Z"}
    env.pop("CURRICULUM_DRILL_DECK", None)
    result = subprocess.run([sys.executable, "-m", "curriculum", "drill", "--topic", "vae", "--limit", "1"],
                            input="\nq\n", capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    shown = result.stdout[result.stdout.index("--- Model answer ---"):result.stdout.index("Grade [")]
    assert max(cell_len(line) for line in shown.splitlines()) <= 80
    assert "𝔼" in shown and "\\mathbb" not in shown and "$" not in shown
    narrow = subprocess.run([sys.executable, "-m", "curriculum", "drill", "--topic", "vae", "--limit", "1"],
                            input="\nq\n", capture_output=True, text=True, env={**env, "COLUMNS": "60"}, cwd=ROOT,
                            timeout=120).stdout
    narrow = narrow[narrow.index("--- Model answer ---"):narrow.index("Grade [")]
    widest = max(cell_len(line) for line in shown.splitlines())
    assert max(cell_len(line) for line in narrow.splitlines()) <= 60 < widest


def test_a_terminal_gets_bold_and_a_pipe_gets_plain_text():
    card = REAL.get("gan-optimal-discriminator")
    assert "\x1b[" not in card_answer_text(card, 80)
    coloured = card_answer_text(card, 80, color=True)
    assert "\x1b[1m" in coloured  # the bold step titles
    plain = re.sub(r"\x1b\[[0-9;]*m", "", coloured)
    assert max(cell_len(line) for line in plain.splitlines()) <= 80


def test_an_output_that_cannot_show_the_maths_degrades_instead_of_crashing(tmp_path):
    class Latin1(io.StringIO):
        encoding = "latin-1"

        def write(self, text):
            text.encode(self.encoding)  # raises UnicodeEncodeError like a real latin-1 stream
            return super().write(text)

    out = Latin1()
    drill.run_session([REAL.get("vae-elbo-derivation")], drill.load_progress(tmp_path / "p.json"),
                      clock=lambda: drill.parse_time("2026-01-01T09:00:00Z"), stdin=io.StringIO("\nq\n"), stdout=out,
                      live_countdown=False, width=80)
    assert "--- Model answer ---" in out.getvalue() and "?" in out.getvalue()
