"""The course map: the topics, their notebooks and the notebooks' section names.

This module is the single source of the course's fixed shape. The interview drill checks card files against it,
the assignments builder finds the notebooks through it, and the tests compare the card files and the notebooks
folder with it. It holds no deck or drill logic and imports nothing heavy.

Names
    ``TOPICS``                topic keys in course order (``"foundations"`` first, ``"comparison"`` last)
    ``NOTEBOOKS``             topic -> notebook file name ``NN_name.ipynb``; ``NN`` is the notebook number
    ``SECTION_NAMES``         the ``## `` headings every topic notebook shares, in order
    ``FOUNDATIONS_SECTIONS``  notebook 00's own headings
"""
from __future__ import annotations

import os
import re
from pathlib import Path

__all__ = [
    "TOPICS", "NOTEBOOKS", "SECTION_NAMES", "FOUNDATIONS_SECTIONS", "NOTEBOOK_NAME",
    "section_names", "notebook_name", "notebook_number", "topic_of", "notebook_paths",
]

TOPICS = ("foundations", "vae", "gan", "wgan", "flows", "ebm", "diffusion", "score", "latent_cfg",
          "flow_matching", "comparison")
NOTEBOOKS = {
    "foundations": "00_generative_problem.ipynb",
    "vae": "01_vae_elbo.ipynb",
    "gan": "02_gan_jsd.ipynb",
    "wgan": "03_wgan.ipynb",
    "flows": "04_realnvp.ipynb",
    "ebm": "05_ebm_langevin.ipynb",
    "diffusion": "06_ddpm_ddim.ipynb",
    "score": "07_score_matching.ipynb",
    "latent_cfg": "08_latent_diffusion_cfg.ipynb",
    "flow_matching": "09_flow_matching.ipynb",
    "comparison": "10_comparison.ipynb",
}
SECTION_NAMES = ("Intuition", "Derivation", "Check the derivation", "Implement", "Train and watch",
                 "Failure modes", "Explore", "Drill", "Cheat sheet")
FOUNDATIONS_SECTIONS = ("The task", "Derivation", "Check the derivation numerically",
                        "Sample-quality metrics and their noise floors", "Fit a model and watch it train",
                        "Failure modes", "Images", "The families of generative models", "Explore",
                        "How to use this course", "Drill", "Cheat sheet")

# Two digits, an underscore, then lowercase words joined by underscores.
NOTEBOOK_NAME = re.compile(r"(?P<number>\d\d)_[a-z0-9]+(?:_[a-z0-9]+)*\.ipynb\Z")


def _known(topic: str) -> str:
    if topic not in NOTEBOOKS:
        raise ValueError(f"topic must be one of {', '.join(TOPICS)}; got {topic!r}")
    return topic


def section_names(topic: str) -> tuple[str, ...]:
    """The section names a card of ``topic`` may name (notebook 00 has its own headings)."""
    return FOUNDATIONS_SECTIONS if topic == "foundations" else SECTION_NAMES


def notebook_name(topic: str) -> str:
    """The notebook file of ``topic``, e.g. ``"01_vae_elbo.ipynb"`` for ``"vae"``."""
    return NOTEBOOKS[_known(topic)]


def notebook_number(topic: str) -> int:
    """The notebook's number, the ``NN`` of ``NN_name.ipynb`` (0 for foundations)."""
    return int(notebook_name(topic)[:2])


def topic_of(notebook: str | os.PathLike) -> str:
    """The topic whose notebook is ``notebook`` (a file name or a path to one)."""
    name = Path(notebook).name
    for topic, file_name in NOTEBOOKS.items():
        if file_name == name:
            return topic
    raise ValueError(f"notebook {name!r} is not one of the course's notebooks ({', '.join(NOTEBOOKS.values())})")


def notebook_paths(folder: str | os.PathLike = "notebooks") -> list[Path]:
    """The course notebooks that exist under ``folder``, ordered by notebook number.

    Only the files named in ``NOTEBOOKS`` count: a scratch notebook in the same folder is not part of the course.
    """
    folder = Path(folder)
    ordered = sorted(TOPICS, key=notebook_number)
    return [folder / NOTEBOOKS[topic] for topic in ordered if (folder / NOTEBOOKS[topic]).is_file()]
