"""Errors that handlers raise. Their class names are the error names Step Functions Retry/Catch match.

A Lambda error's name in Step Functions is the exception's class name, so these names are part of
the contract with ``statemachines/*.asl.json`` (see docs/architecture.md).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    ReadTimeoutError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError


class RekoflowError(Exception):
    """Base class: every error here has a message meant for the person who sent the request."""


class RequestValidationError(RekoflowError):
    """The request breaks the schema or a rule; the message names the field."""


class RequestTooLargeError(RequestValidationError):
    """The request is far larger than any valid one: recorded without it, so the failure path stays small."""


class ImageValidationError(RekoflowError):
    """The image is missing, of the wrong format, or outside Rekognition's limits; the message says which."""


class RekognitionThrottlingError(RekoflowError):
    """Rekognition throttled the call after the client's own retries. Step Functions retries it."""


class RekognitionTransientError(RekoflowError):
    """Rekognition failed on its side (5xx, connection) after the client's own retries. Retried."""


class RekognitionRequestError(RekoflowError):
    """Rekognition rejected the call itself (bad image, bad parameter, access). Not retried."""


THROTTLING_CODES = frozenset(
    {
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "LimitExceededException",
        "TooManyRequestsException",
    }
)
TRANSIENT_CODES = frozenset({"InternalServerError", "ServiceUnavailableException", "ServiceUnavailable"})


def error_code(error: ClientError) -> str:
    """The AWS error code of a botocore ClientError ("" when the answer had none)."""
    return error.response.get("Error", {}).get("Code", "")


def http_status(error: ClientError) -> int:
    return error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)


# How botocore says a call timed out; the message then names the limit instead.
_TIMEOUT_ERRORS = (ReadTimeoutError, ConnectTimeoutError)


@contextlib.contextmanager
def rekognition_errors(operation: str, budget: str = "") -> Iterator[None]:
    """Translate botocore errors from a Rekognition call into the errors the state machine knows.

    ``budget`` describes the client's timeouts and attempts (clients.py), for timeout messages.
    """
    try:
        yield
    except ClientError as error:
        code = error_code(error) or "Unknown"
        message = error.response.get("Error", {}).get("Message", str(error))
        status = http_status(error)
        text = f"{operation} failed: {code}: {message}"[:2000]
        if code in THROTTLING_CODES:
            raise RekognitionThrottlingError(text) from error
        if code in TRANSIENT_CODES or status >= 500:
            raise RekognitionTransientError(text) from error
        raise RekognitionRequestError(text) from error
    except _TIMEOUT_ERRORS as error:
        kind = "connect" if isinstance(error, ConnectTimeoutError) else "read"
        raise RekognitionTransientError(
            f"{operation} failed: Rekognition timed out ({kind} timeout{', ' + budget if budget else ''})"
        ) from error
    except (BotoConnectionError, ConnectionClosedError) as error:
        raise RekognitionTransientError(f"{operation} failed: cannot reach Rekognition: {error}"[:2000]) from error
    except BotoCoreError as error:
        raise RekognitionTransientError(f"{operation} failed: {error}"[:2000]) from error
    except (AttributeError, TypeError, ValueError, KeyError) as error:
        # botocore's parser meets an answer of the wrong shape (a list or string where an object belongs).
        raise RekognitionTransientError(
            f"{operation} failed: Rekognition's answer could not be read ({type(error).__name__})"
        ) from error


class TransientServiceError(RekoflowError):
    """S3 or DynamoDB failed on its side after the client's own retries. Retried by the state machine."""


class ModelNotReadyError(RekoflowError):
    """A Custom Labels model version is not in a state that allows the call (not RUNNING for inference,
    still STARTING when asked to stop, or did not reach RUNNING within maxPolls). Retried where waiting helps."""


class TrainingFailedError(RekoflowError):
    """Custom Labels training ended in TRAINING_FAILED, or its datasets could not be created; the
    message carries Rekognition's StatusMessage. Not retried: the data must change."""


class TrainingTimeoutError(RekoflowError):
    """Custom Labels training (or dataset creation) did not finish within the polls the request allows
    (maxTrainingPolls x trainingPollIntervalSeconds). The version may still be training on AWS."""


class ModelQualityError(RekoflowError):
    """The trained model's F1 score on the test split is below the request's minF1Score: it is not started."""


class ModelBusyError(RekoflowError):
    """No lease on the Custom Labels model could be had within maxPolls: as many requests as its inference
    units allow (maxRequestsPerInferenceUnit) held it all that time, or it was being stopped (raised by the ASL)."""


class ModelLeaseContentionError(RekoflowError):
    """The model's lease item changed under every compare-and-swap attempt of one invocation. Retried."""
