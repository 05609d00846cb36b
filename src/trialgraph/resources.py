"""Where the data files trialgraph loads by name live: ontology, shapes, queries, examples."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""The repository root (the package is installed in editable mode from it)."""
ONTOLOGY_DIR = ROOT / "ontology"
SHAPES_DIR = ROOT / "shapes"
QUERIES_DIR = ROOT / "queries"
EXAMPLES_DIR = ROOT / "examples"
SHARED_DATA_DIR = ROOT.parent / "shared" / "data"
"""The shared corpora beside the repository (large inputs that are not bundled)."""
