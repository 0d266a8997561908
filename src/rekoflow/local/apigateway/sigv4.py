"""IAM (SigV4) authentication of a request to the local API, as API Gateway checks it for ``AWS_IAM``.

The signature is recomputed with botocore's own signer (``botocore.auth.SigV4Auth``) from the
request as received: method, path, query, the signed headers and the body, at the request's own
``X-Amz-Date``. Outcomes and messages are API Gateway's (gateway response types
MISSING_AUTHENTICATION_TOKEN, INVALID_SIGNATURE, EXPIRED_TOKEN, UNAUTHORIZED).
"""

from __future__ import annotations

import datetime
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass

_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+),\s*SignedHeaders=(?P<signed>[^,\s]+),\s*Signature=(?P<signature>[0-9a-f]+)\s*$"
)
# API Gateway accepts a request signed up to 5 minutes before or after its own clock.
CLOCK_SKEW = datetime.timedelta(minutes=5)


@dataclass(frozen=True)
class AuthFailure:
    response_type: str  # the gateway response type
    error_type: str  # x-amzn-ErrorType
    message: str


@dataclass(frozen=True)
class Caller:
    access_key: str
    region: str


def verify(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    credentials: Mapping[str, str],
    region: str,
    now: datetime.datetime | None = None,
) -> Caller | AuthFailure:
    """Check the SigV4 signature (service ``execute-api``); ``credentials`` maps access key id to secret."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    lowered = {k.lower(): v for k, v in headers.items()}
    authorization = lowered.get("authorization")
    if not authorization:
        return AuthFailure(
            "MISSING_AUTHENTICATION_TOKEN", "MissingAuthenticationTokenException", "Missing Authentication Token"
        )
    match = _AUTHORIZATION.match(authorization)
    if not match:
        return AuthFailure(
            "INVALID_SIGNATURE",
            "IncompleteSignatureException",
            "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters "
            f"(AWS4-HMAC-SHA256). Authorization={authorization}",
        )
    parts = match.group("credential").split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        return AuthFailure(
            "INVALID_SIGNATURE",
            "IncompleteSignatureException",
            f"Credential should be scoped to a valid region, not '{match.group('credential')}'.",
        )
    access_key, date, signed_region, service, _ = parts
    if service != "execute-api":
        return AuthFailure(
            "INVALID_SIGNATURE",
            "InvalidSignatureException",
            "Credential should be scoped to correct service: 'execute-api'. ",
        )
    if signed_region != region:
        return AuthFailure(
            "INVALID_SIGNATURE",
            "InvalidSignatureException",
            f"Credential should be scoped to a valid region, not '{signed_region}'. ",
        )
    secret = credentials.get(access_key)
    if secret is None:
        return AuthFailure(
            "UNAUTHORIZED", "UnrecognizedClientException", "The security token included in the request is invalid."
        )
    amz_date = lowered.get("x-amz-date", "")
    try:
        signed_at = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.UTC)
    except ValueError:
        return AuthFailure(
            "INVALID_SIGNATURE",
            "IncompleteSignatureException",
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        )
    now = now or datetime.datetime.now(datetime.UTC)
    if abs(now - signed_at) > CLOCK_SKEW:
        return AuthFailure(
            "INVALID_SIGNATURE",
            "InvalidSignatureException",
            f"Signature expired: {amz_date} is now earlier than {(now - CLOCK_SKEW).strftime('%Y%m%dT%H%M%SZ')} "
            f"({now.strftime('%Y%m%dT%H%M%SZ')} - 5 min.)",
        )
    signed_headers = match.group("signed").split(";")
    if "host" not in lowered:  # a client library may leave it to the HTTP layer: it is the URL's
        lowered["host"] = urllib.parse.urlsplit(url).netloc
    request = AWSRequest(
        method=method, url=url, data=body, headers={name: lowered.get(name, "") for name in signed_headers}
    )
    request.context["timestamp"] = amz_date
    signer = SigV4Auth(Credentials(access_key, secret, lowered.get("x-amz-security-token")), "execute-api", region)
    # botocore signs every header it is given; give it exactly the ones the client signed.
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    if expected != match.group("signature"):
        return AuthFailure(
            "INVALID_SIGNATURE",
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
        )
    return Caller(access_key=access_key, region=region)


def request_url(scheme: str, host: str, path: str, query: str) -> str:
    return urllib.parse.urlunsplit((scheme, host, path, query, ""))
