"""Models that ship inside PyPI packages, each loaded once, lazily and thread-safely."""
