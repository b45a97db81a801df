"""Which cells after the last graded one use a name that an exercise or a graded test cell binds.

When none does, those cells run the same with or without a student's code, so the student versions need to be
autograded only up to the last graded cell (``truncate``); the full solution notebook runs under nbval anyway.
Decided from the source text with ``ast`` (IPython magics transformed first).
"""
from __future__ import annotations

import ast

import nbformat

from .notebooks import _last_nbgrader_cell, _meta

__all__ = ["exercise_dependencies"]


def _python_source(source: str) -> str:
    """A cell's source as plain Python: IPython's magics and shell escapes become ordinary calls."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:  # no IPython: drop magic and shell lines, they bind no name of interest
        return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
    return TransformerManager().transform_cell(source)


class _Names(ast.NodeVisitor):
    """The names one top-level statement loads and binds (module scope), read from its syntax tree.

    ``bound`` over-approximates: names bound on some path only, loop and comprehension variables, and names whose
    object is changed in place by assignment (``x.attr = ...``, ``x[i] = ...``, ``del x[i]``). ``surely_bound``
    holds the names a plain assignment, ``def``, ``class`` or ``import`` at the top level always rebinds.
    Changes made by calling a method (``x.append(1)``) are not seen.
    """

    def __init__(self, statement: ast.stmt):
        self.loaded: set[str] = set()
        self.bound: set[str] = set()
        self.surely_bound: set[str] = set()
        self._depth = 0  # > 0 inside a function, class or lambda body, whose names are local
        self.visit(statement)
        self.surely_bound = self._surely(statement)

    @staticmethod
    def _surely(statement: ast.stmt) -> set[str]:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return {statement.name}
        if isinstance(statement, (ast.Import, ast.ImportFrom)):
            return {alias.asname or alias.name.split(".")[0] for alias in statement.names if alias.name != "*"}
        targets = []
        if isinstance(statement, ast.Assign):
            targets = statement.targets
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            targets = [statement.target]
        names, stack = set(), list(targets)
        while stack:
            target = stack.pop()
            if isinstance(target, ast.Name):
                names.add(target.id)
            elif isinstance(target, (ast.Tuple, ast.List)):
                stack.extend(target.elts)
            elif isinstance(target, ast.Starred):
                stack.append(target.value)
        return names

    def _bind(self, name: str) -> None:
        if self._depth == 0:
            self.bound.add(name)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self.loaded.add(node.id)
        else:
            self._bind(node.id)

    def _changed_in_place(self, node: ast.Attribute | ast.Subscript) -> None:
        if not isinstance(node.ctx, ast.Load):
            base = node.value
            while isinstance(base, (ast.Attribute, ast.Subscript)):
                base = base.value
            if isinstance(base, ast.Name):
                self._bind(base.id)
        self.generic_visit(node)

    visit_Attribute = visit_Subscript = _changed_in_place

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        if isinstance(node.target, ast.Name):  # x += 1 reads x as well
            self.loaded.add(node.target.id)
        self.generic_visit(node)

    def _scope(self, node: ast.AST) -> None:
        name = getattr(node, "name", None)
        if name is not None:
            self._bind(name)
        self._depth += 1
        self.generic_visit(node)  # loads anywhere inside count: the function may be called later
        self._depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = visit_Lambda = _scope

    def visit_Global(self, node: ast.Global) -> None:
        self.bound.update(node.names)  # a function that declares a global rebinds it when called

    def visit_Call(self, node: ast.Call) -> None:
        # %time, %%capture and friends run code given as text: read the text as code too where it parses
        if isinstance(node.func, ast.Attribute) and node.func.attr in {"run_line_magic", "run_cell_magic"}:
            for argument in node.args[1:]:
                if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                    try:
                        self.visit(ast.parse(argument.value))
                    except SyntaxError:
                        pass
        self.generic_visit(node)

    def _import(self, node: ast.Import | ast.ImportFrom) -> None:
        for alias in node.names:
            self._bind("*" if alias.name == "*" else alias.asname or alias.name.split(".")[0])

    visit_Import = visit_ImportFrom = _import


def exercise_dependencies(solution_nb: nbformat.NotebookNode) -> list[str]:
    """Uses, after the last graded cell, of a name an exercise cell or a graded test cell binds (empty = none).

    Read from the solution version's source, without running it: every name bound by an exercise or graded test
    cell is marked, and so is every name that a later statement binds using a marked one; an unconditional
    rebinding from unmarked names (``double = reference.double``) clears the mark. A cell after the last graded
    cell that loads a marked name would run differently in a student's notebook. What cannot be analysed (a cell
    that does not parse, a star import in an exercise) counts as a use.
    """
    last = _last_nbgrader_cell(solution_nb)
    if last is None:
        return []
    marked: dict[str, str] = {}  # name -> the cell that binds it (and the exercise its value comes from)
    unknown: str | None = None  # an exercise or graded cell whose bindings cannot be read
    found: list[str] = []
    for index, cell in enumerate(solution_nb.cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        meta = _meta(cell)
        kind = "exercise cell" if meta.get("solution") else "graded test cell" if meta.get("grade") else None
        try:
            statements = ast.parse(_python_source(cell.source)).body
        except SyntaxError as error:
            reason = f"cell {index} cannot be parsed ({error.msg}, line {error.lineno})"
            if kind:
                unknown = unknown or f"{kind} {meta.get('grade_id')!r}, which cannot be parsed"
            elif index > last:
                found.append(f"{reason}, so whether it uses an exercise's names is unknown")
            continue
        uses: dict[str, str] = {}
        for statement in statements:
            names = _Names(statement)
            if kind:
                if "*" in names.bound:
                    unknown = unknown or f"{kind} {meta.get('grade_id')!r}, whose star import cannot be analysed"
                for name in names.bound - {"*"}:
                    marked[name] = f"{kind} {meta.get('grade_id')!r}"
                continue
            used = {name: marked[name] for name in sorted(names.loaded) if name in marked}
            uses.update(used)
            if used:
                origin = next(iter(used.values())).split(" with a value from ")[-1]
                for name in names.bound - {"*"}:
                    marked[name] = f"cell {index} with a value from {origin}"
            else:
                for name in names.surely_bound:
                    marked.pop(name, None)
        if index > last:
            found += [f"cell {index} uses {name!r}, bound by {binder}" for name, binder in uses.items()]
            if unknown:
                found.append(f"cell {index} may use a name bound by {unknown}")
    return found
