"""The scripted Rekognition endpoint the workflow tests use (it lives in the package: the emulator uses it too)."""

from rekoflow.local.scripted_rekognition import CANNED, FakeRekognition

__all__ = ["CANNED", "FakeRekognition"]
