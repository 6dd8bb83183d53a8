"""A small OpenID provider on 127.0.0.1, in a thread, for the single sign-on tests.

    with FakeProvider(redirect_uris=["http://testserver/accounts/oidc/callback/"]) as idp:
        idp.user = {"sub": "u-1", "preferred_username": "alice", "email": ..., "email_verified": True}
        idp.issuer, idp.authorizations, idp.token_requests

It serves discovery, a JWKS (keys made once per test session), ``/authorize`` (approves at once
as ``user``, or, ``interactive``, after a tiny form; records state, nonce and the PKCE challenge),
``/token`` (checks the client secret, the code, the redirect URI and the PKCE verifier; answers an
ID token signed with the claims of ``user`` at the time of the authorization) and ``/userinfo``.

Misbehaviour, set on the instance before a login: ``discovery_issuer`` (the discovery document
names another issuer), ``token_issuer``, ``audience``, ``expired``, ``signing_key`` ("other": a key
the JWKS does not hold), ``alg`` ("ES256", "HS256" with the client secret, "none"), ``nonce``
(another nonce in the token), ``delays`` / ``failures`` ({path: seconds} / {path: HTTP status}),
``deny`` (the person cancels: error=access_denied).
"""

import contextlib
import hashlib
import html
import http.server
import json
import secrets
import threading
import time
from base64 import b64decode
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from tests.oidc import keys

CLIENT_ID = "rampart"
CLIENT_SECRET = "fake-provider-client-secret-0123456789"  # noqa: S105 -- a test fixture's secret


class FakeProvider:
    def __init__(self, *, redirect_uris, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, interactive=False):
        self.redirect_uris = list(redirect_uris)
        self.client_id = client_id
        self.client_secret = client_secret
        self.interactive = interactive
        self.user = {"sub": "subject-1", "preferred_username": "alice"}
        self.userinfo_extra: dict = {}
        self.kid = "key-1"
        self.discovery_issuer = None
        self.token_issuer = None
        self.audience = None
        self.expired = False
        self.signing_key = "main"
        self.alg = "RS256"
        self.nonce = None
        self.delays: dict[str, float] = {}
        self.failures: dict[str, int] = {}
        self.deny = False
        self.offers_logout = True  # an end_session_endpoint in discovery (RP-initiated logout)
        self.post_logout_redirect_uris: list[str] = []  # registered for the client
        self.logouts: list[dict] = []  # the query of every /logout request
        self.authorizations: list[dict] = []  # the query of every /authorize request
        self.token_requests: list[dict] = []  # the form and headers of every /token request
        self.id_tokens: list[str] = []
        self._codes: dict[str, dict] = {}
        self._access_tokens: dict[str, dict] = {}
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self.issuer = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = None

    # --- lifetime -------------------------------------------------------------------

    def start(self):
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # --- what the provider says -------------------------------------------------------

    def discovery(self) -> dict:
        return {
            "issuer": self.discovery_issuer or self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256", "ES256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            **({"end_session_endpoint": f"{self.issuer}/logout"} if self.offers_logout else {}),
        }

    def logout(self, query: dict) -> tuple[int, dict, str]:
        """RP-initiated logout: ends the session, then back to a registered URI of the client."""
        self.logouts.append(query)
        back = query.get("post_logout_redirect_uri", "")
        if query.get("client_id") != self.client_id or back not in self.post_logout_redirect_uris:
            return 400, {}, "unknown client or post_logout_redirect_uri"
        return 302, {"Location": back}, ""

    def jwks(self) -> dict:
        return {"keys": [keys.rsa_jwk(keys.rsa_key("main"), self.kid), keys.ec_jwk(keys.ec_key(), "ec-1")]}

    def authorize(self, query: dict) -> tuple[int, dict, str]:
        """(status, headers, body) for /authorize, and, approved, the code it hands out."""
        self.authorizations.append(query)
        redirect_uri = query.get("redirect_uri", "")
        if query.get("client_id") != self.client_id or redirect_uri not in self.redirect_uris:
            return 400, {}, "unknown client or redirect_uri"  # never redirect to an unregistered URI
        if query.get("response_type") != "code" or query.get("code_challenge_method") != "S256":
            return 400, {}, "only the code flow with PKCE S256"
        if self.deny:
            return self._back(redirect_uri, {"error": "access_denied", "state": query.get("state", "")})
        code = secrets.token_urlsafe(24)
        self._codes[code] = {
            "redirect_uri": redirect_uri,
            "challenge": query.get("code_challenge", ""),
            "nonce": query.get("nonce"),
            "user": dict(self.user),
        }
        return self._back(redirect_uri, {"code": code, "state": query.get("state", "")})

    def token(self, form: dict, headers: dict) -> tuple[int, dict]:
        self.token_requests.append({"form": form, "headers": headers})
        if not self._client_authenticated(form, headers):
            return 401, {"error": "invalid_client"}
        grant = self._codes.pop(form.get("code", ""), None)  # a code works once
        if grant is None or form.get("grant_type") != "authorization_code":
            return 400, {"error": "invalid_grant"}
        if form.get("redirect_uri") != grant["redirect_uri"]:
            return 400, {"error": "invalid_grant", "error_description": "redirect_uri"}
        verifier = form.get("code_verifier", "")
        if keys.b64(hashlib.sha256(verifier.encode()).digest()) != grant["challenge"]:
            return 400, {"error": "invalid_grant", "error_description": "PKCE verifier"}
        access_token = secrets.token_urlsafe(24)
        self._access_tokens[access_token] = grant["user"]
        id_token = self._id_token(grant)
        self.id_tokens.append(id_token)
        return 200, {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": id_token,
        }

    def userinfo(self, headers: dict) -> tuple[int, dict]:
        token = headers.get("authorization", "").removeprefix("Bearer ")
        user = self._access_tokens.get(token)
        if user is None:
            return 401, {"error": "invalid_token"}
        return 200, {**user, **self.userinfo_extra}

    # --- helpers ------------------------------------------------------------------------

    def _back(self, redirect_uri: str, params: dict):
        return 302, {"Location": f"{redirect_uri}?{urlencode(params)}"}, ""

    def _client_authenticated(self, form: dict, headers: dict) -> bool:
        basic = headers.get("authorization", "")
        if basic.startswith("Basic "):
            client_id, _, secret = b64decode(basic[6:]).decode().partition(":")
            return unquote(client_id) == self.client_id and unquote(secret) == self.client_secret
        return form.get("client_id") == self.client_id and form.get("client_secret") == self.client_secret

    def _id_token(self, grant: dict) -> str:
        now = int(time.time())
        claims = {
            "iss": self.token_issuer or self.issuer,
            "aud": self.audience or self.client_id,
            "iat": now - 900 if self.expired else now,
            "exp": now - 600 if self.expired else now + 300,
            "nonce": self.nonce or grant["nonce"],
            **grant["user"],
        }
        if self.alg == "ES256":
            return keys.sign(claims, alg="ES256", kid="ec-1", key=keys.ec_key())
        if self.alg in {"HS256", "none"}:
            return keys.sign(claims, alg=self.alg, kid=None, secret=self.client_secret)
        return keys.sign(claims, alg="RS256", kid=self.kid, key=keys.rsa_key(self.signing_key))


LOGIN_FORM = """<!doctype html><html><head><title>Fake provider</title></head><body>
<h1>Fake provider</h1><form method="post" action="/authorize">{fields}
<p>Signing in as {name}</p><button type="submit">Sign in</button></form></body></html>"""


def _handler(provider: FakeProvider):
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format, *args):  # quiet: the tests read provider.* instead
            pass

        def do_GET(self):
            path, query = self._split()
            if not self._misbehave(path):
                return
            if path == "/.well-known/openid-configuration":
                self._json(200, provider.discovery())
            elif path == "/jwks":
                self._json(200, provider.jwks())
            elif path == "/authorize" and provider.interactive:
                self._form(query)
            elif path == "/authorize":
                self._send(*provider.authorize(query))
            elif path == "/userinfo":
                self._json(*provider.userinfo(self._headers()))
            elif path == "/logout":
                self._send(*provider.logout(query))
            elif path == "/favicon.ico":  # asked by the browser test's Chromium
                self._send(204, {}, "")
            else:
                self._json(404, {"error": "not_found"})

        def do_POST(self):
            path, _ = self._split()
            if not self._misbehave(path):
                return
            length = int(self.headers.get("Content-Length") or 0)
            form = {key: values[0] for key, values in parse_qs(self.rfile.read(length).decode()).items()}
            if path == "/token":
                self._json(*provider.token(form, self._headers()))
            elif path == "/authorize":  # the tiny login form's "Sign in"
                self._send(*provider.authorize(form))
            else:
                self._json(404, {"error": "not_found"})

        def _split(self):
            parts = urlsplit(self.path)
            return parts.path, {key: values[0] for key, values in parse_qs(parts.query).items()}

        def _headers(self) -> dict:
            return {name.lower(): value for name, value in self.headers.items()}

        def _misbehave(self, path: str) -> bool:
            delay = provider.delays.get(path)
            if delay:
                time.sleep(delay)
            status = provider.failures.get(path)
            if status:
                self._send(status, {"Content-Type": "text/html"}, "<h1>Internal Server Error</h1>")
                return False
            return True

        def _form(self, query: dict):
            fields = "".join(
                f'<input type="hidden" name="{html.escape(key)}" value="{html.escape(value)}">'
                for key, value in query.items()
            )
            name = html.escape(str(provider.user.get("preferred_username", provider.user["sub"])))
            self._send(
                200, {"Content-Type": "text/html; charset=utf-8"}, LOGIN_FORM.format(fields=fields, name=name)
            )

        def _json(self, status: int, body: dict):
            self._send(status, {"Content-Type": "application/json"}, json.dumps(body))

        def _send(self, status: int, headers: dict, body: str):
            data = body.encode()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            # The client may have given up waiting (the slow-provider tests).
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(data)

    return Handler
