"""``python -m trialgraph``."""

from trialgraph.cli import main

main()
