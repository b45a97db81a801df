"""Numbers one notebook quotes from another must match the other's committed output."""
import ast
import json
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
ROW_NAMES = {"moons": "two moons", "ring": "ring of 8 Gaussians"}  # toy.get(name).name, as the tables print it


def code_and_outputs(name: str) -> tuple[str, str]:
    cells = json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    outputs = "\n".join("".join(o.get("text", "")) for c in cells if c["cell_type"] == "code" for o in c["outputs"])
    return code, outputs


def assigned_literal(code: str, variable: str):
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == variable for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{variable} is not assigned a literal")


def test_notebook_09_quotes_notebook_04s_realnvp_table():
    code, _ = code_and_outputs("09_flow_matching.ipynb")
    _, table = code_and_outputs("04_realnvp.ipynb")
    quoted = assigned_literal(code, "NOTEBOOK_04")
    assert quoted, "nothing quoted"
    for name, values in quoted.items():
        rows = [line for line in table.splitlines() if line.startswith(ROW_NAMES[name])]
        assert len(rows) == 1, f"notebook 04 prints one table row for {name}"
        for mean, stderr in values.values():
            assert f"{mean:.4f} ± {stderr:.4f}" in rows[0], f"{name}: {mean} ± {stderr} is not notebook 04's number"


def test_notebook_10_quotes_notebook_08s_guidance_sweep():
    code, _ = code_and_outputs("10_comparison.ipynb")
    _, table = code_and_outputs("08_latent_diffusion_cfg.ipynb")
    quoted = assigned_literal(code, "NOTEBOOK_08")
    assert quoted, "nothing quoted"
    for scale, adherence in quoted.items():
        rows = [line.split() for line in table.splitlines() if line.split()[:1] == [f"{scale:.1f}"]]
        assert len(rows) == 1, f"notebook 08 prints one sweep row for s = {scale}"
        assert rows[0][1] == f"{adherence:.1f}%", f"s = {scale}: {adherence}% is not notebook 08's adherence"
