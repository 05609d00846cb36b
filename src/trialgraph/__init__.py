"""trialgraph: a knowledge graph of clinical trials and their concepts."""

__version__ = "0.1.0"
