"""Signing keys for the fake provider, made once per test session (RSA generation is slow)."""

import base64
import functools
import json

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature


@functools.cache
def rsa_key(name: str = "main") -> rsa.RSAPrivateKey:
    """``main`` is the provider's; any other name is a key the provider never published."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@functools.cache
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _int(value: int, length: int | None = None) -> str:
    length = length or (value.bit_length() + 7) // 8
    return b64(value.to_bytes(length, "big"))


def rsa_jwk(key: rsa.RSAPrivateKey, kid: str) -> dict:
    numbers = key.public_key().public_numbers()
    return {
        "kty": "RSA",
        "kid": kid,
        "use": "sig",
        "alg": "RS256",
        "n": _int(numbers.n),
        "e": _int(numbers.e),
    }


def ec_jwk(key: ec.EllipticCurvePrivateKey, kid: str) -> dict:
    numbers = key.public_key().public_numbers()
    return {
        "kty": "EC",
        "kid": kid,
        "use": "sig",
        "alg": "ES256",
        "crv": "P-256",
        "x": _int(numbers.x, 32),
        "y": _int(numbers.y, 32),
    }


def sign(claims: dict, *, alg: str, kid: str | None, key=None, secret: str = "") -> str:
    """A compact JWS: RS256 or ES256 with ``key``, HS256 with ``secret``, or "none" (unsigned)."""
    header = {"alg": alg, "typ": "JWT"}
    if kid is not None:
        header["kid"] = kid
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}".encode()
    if alg == "RS256":
        signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    elif alg == "ES256":
        r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    elif alg == "HS256":
        mac = hmac.HMAC(secret.encode(), hashes.SHA256())
        mac.update(signing_input)
        signature = mac.finalize()
    else:
        signature = b""
    return f"{signing_input.decode()}.{b64(signature)}"
