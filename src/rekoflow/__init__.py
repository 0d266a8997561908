"""rekoflow: local tooling for the image-recognition workflow (offline runtime, CLI, local engine)."""

__version__ = "0.1.0"
