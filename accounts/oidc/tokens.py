"""The ID token: its signature against the provider's keys, then its claims (OpenID Connect Core, 3.1.3.7).

Only RS256 and ES256 are accepted: never "none", and never HS256, whose key would be the client
secret (anyone who holds it, any other service of the same client, could mint tokens).
"""

import base64
import binascii
import hmac
import json
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from accounts.oidc import discovery

ALGORITHMS = {"RS256", "ES256"}
LEEWAY_SECONDS = 60  # clocks of the provider and of Rampart disagree by a little
MAX_AGE_SECONDS = 600  # an ID token is issued for this login, moments ago
MIN_RSA_BITS = 2048


class InvalidToken(Exception):
    """Why the token was refused, for the logs (never the token itself)."""


def verify(raw: str, *, provider: discovery.Provider, client_id: str, nonce: str, now: datetime) -> dict:
    """The token's claims, once its signature and claims are checked; raises InvalidToken."""
    header, claims, signing_input, signature = _parse(raw)
    algorithm = header.get("alg")
    if algorithm not in ALGORITHMS:
        raise InvalidToken(f"algorithm {algorithm!r} is not accepted (only {sorted(ALGORITHMS)})")
    _check_signature(header, algorithm, signing_input, signature, provider.jwks_uri)
    _check_claims(claims, issuer=provider.issuer, client_id=client_id, nonce=nonce, now=now.timestamp())
    return claims


def _parse(raw: str) -> tuple[dict, dict, bytes, bytes]:
    parts = raw.split(".") if isinstance(raw, str) else []
    if len(parts) != 3:
        raise InvalidToken("not a signed JWT (three parts)")
    try:
        header = json.loads(_b64decode(parts[0]))
        claims = json.loads(_b64decode(parts[1]))
        signature = _b64decode(parts[2])
    except (ValueError, binascii.Error):
        raise InvalidToken("not valid base64url JSON") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise InvalidToken("header or claims are not JSON objects")
    if "crit" in header:
        raise InvalidToken("critical header extensions are not supported")
    return header, claims, f"{parts[0]}.{parts[1]}".encode("ascii"), signature


def _check_signature(header: dict, algorithm: str, signing_input: bytes, signature: bytes, jwks_uri: str):
    kid = header.get("kid")
    candidates = _keys_for(discovery.signing_keys(jwks_uri), algorithm, kid)
    if not candidates and kid is not None:
        # A key id we have not seen: the provider may have rotated its keys since we cached them.
        candidates = _keys_for(discovery.signing_keys(jwks_uri, refresh=True), algorithm, kid)
    if not candidates:
        raise InvalidToken(f"no {algorithm} key with kid {kid!r} in the provider's JWKS")
    for jwk in candidates:
        try:
            if algorithm == "RS256":
                _rsa_key(jwk).verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
            else:
                _ec_key(jwk).verify(_der_signature(signature), signing_input, ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, ValueError):
            continue
        return
    raise InvalidToken("the signature does not match the provider's keys")


def _keys_for(keys: list[dict], algorithm: str, kid) -> list[dict]:
    kty = "RSA" if algorithm == "RS256" else "EC"
    return [
        jwk
        for jwk in keys
        if jwk.get("kty") == kty
        and jwk.get("use", "sig") == "sig"
        and jwk.get("alg", algorithm) == algorithm
        and (kid is None or jwk.get("kid") == kid)
    ]


def _rsa_key(jwk: dict) -> rsa.RSAPublicKey:
    try:
        numbers = rsa.RSAPublicNumbers(_b64int(jwk["e"]), _b64int(jwk["n"]))
        key = numbers.public_key()
    except (KeyError, TypeError, binascii.Error) as error:
        raise ValueError("malformed RSA JWK") from error
    if key.key_size < MIN_RSA_BITS:
        raise ValueError("RSA key too short")
    return key


def _ec_key(jwk: dict) -> ec.EllipticCurvePublicKey:
    if jwk.get("crv") != "P-256":
        raise ValueError("ES256 needs a P-256 key")
    try:
        return ec.EllipticCurvePublicNumbers(
            _b64int(jwk["x"]), _b64int(jwk["y"]), ec.SECP256R1()
        ).public_key()
    except (KeyError, TypeError, binascii.Error) as error:
        raise ValueError("malformed EC JWK") from error


def _der_signature(signature: bytes) -> bytes:
    # JWS carries an ECDSA signature as r and s side by side (RFC 7518, 3.4); cryptography wants DER.
    if len(signature) != 64:
        raise ValueError("an ES256 signature is 64 bytes")
    return encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))


def _check_claims(claims: dict, *, issuer: str, client_id: str, nonce: str, now: float) -> None:
    if claims.get("iss") != issuer:
        raise InvalidToken(f"issuer {claims.get('iss')!r} is not {issuer!r}")
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience
    if not isinstance(audiences, list) or client_id not in audiences:
        raise InvalidToken(f"audience {audience!r} does not include this client")
    azp = claims.get("azp")
    if (len(audiences) > 1 or azp is not None) and azp != client_id:
        raise InvalidToken(f"authorized party {azp!r} is not this client")
    expires, issued = claims.get("exp"), claims.get("iat")
    if not _is_number(expires) or expires <= now - LEEWAY_SECONDS:
        raise InvalidToken(f"expired (exp {expires!r})")
    if not _is_number(issued) or issued > now + LEEWAY_SECONDS or issued < now - MAX_AGE_SECONDS:
        raise InvalidToken(f"issued at an unlikely time (iat {issued!r})")
    token_nonce = claims.get("nonce")
    if not isinstance(token_nonce, str) or not hmac.compare_digest(token_nonce.encode(), nonce.encode()):
        raise InvalidToken("the nonce is not the one this login sent")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > 255:
        raise InvalidToken("no usable subject")


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _b64decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def _b64int(value: str) -> int:
    return int.from_bytes(_b64decode(value), "big")
