"""A local, offline, Rekognition-compatible engine with real models.

    from rekoflow.engine import EngineServer
    with EngineServer() as server:          # http://127.0.0.1:<free port>
        boto3.client("rekognition", endpoint_url=server.url).detect_faces(...)

`Engine` is the in-process dispatcher the HTTP layer wraps; `serve` blocks (the CLI uses it).
"""

from rekoflow.engine.dispatch import Engine
from rekoflow.engine.errors import RekognitionError
from rekoflow.engine.server import EngineServer, serve

__all__ = ["Engine", "EngineServer", "RekognitionError", "serve"]
