"""The agent's push of a snapshot to Rampart, and what it tells the CronJob when the push does not land.

One POST, retried (same Idempotency-Key) only where a retry can help: the network, a timeout,
429 and 5xx, and Rampart still processing the same push. Everything else is final and says what
to change. The exit code tells the two apart, so that a CronJob's podFailurePolicy stops retrying
a refusal and alerting can page on one but not the other (deploy/agent/README.md):

    0  pushed (or stored while a scan runs, or stored unscanned while the cluster is paused in Rampart)
    1  the cluster could not be read
    3  refused: a person must change the configuration (token, URL, cluster id, size, CA)
    4  Rampart could not be reached or kept failing: the next run may well succeed
"""

import ssl
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass

import orjson
from django.core.management.base import CommandError

USER_AGENT = "rampart-agent/1"
RETRY_DELAYS = (2, 10, 30)  # seconds between attempts after a network error, 429 or 5xx
MAX_RETRY_AFTER = 600
EXIT_REFUSED = 3
EXIT_UNREACHABLE = 4
# Rampart's answer while the first request with this key is still being processed.
IN_PROGRESS = "push_in_progress"


class PushFailed(CommandError):
    """The push did not land; ``returncode`` is EXIT_REFUSED or EXIT_UNREACHABLE."""


@dataclass
class Answer:
    status: int
    body: dict
    from_rampart: bool  # Rampart's own JSON, not a page from a proxy or another server
    retry_after: str | None = None

    @property
    def code(self) -> str:
        error = self.body.get("error")
        return str(error.get("code") or "") if isinstance(error, dict) else ""

    @property
    def message(self) -> str:
        error = self.body.get("error")
        return str(error.get("message") or "") if isinstance(error, dict) else ""

    @property
    def retryable(self) -> bool:
        return self.status == 429 or self.status >= 500 or (self.status == 409 and self.code == IN_PROGRESS)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # urllib would turn the POST into a GET (the snapshot lost, a 405 to puzzle over) and send
    # the token on to wherever the redirect points. A redirect is a wrong --push, said as such.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def push(url, token, data, *, ca_file=None, timeout=120.0, log=lambda line: None, sleep=time.sleep, key=None):
    """POST the snapshot; the final Answer, or PushFailed when retrying could not get one."""
    key = key or str(uuid.uuid4())
    context = ssl.create_default_context(cafile=ca_file) if ca_file else None
    opener = urllib.request.build_opener(_NoRedirects, urllib.request.HTTPSHandler(context=context))
    problem = ""
    for attempt, delay in enumerate([*RETRY_DELAYS, None], start=1):
        request = urllib.request.Request(  # noqa: S310 - the scheme was checked in push_url()
            url,
            data=data,
            method="POST",
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/gzip",
                "Idempotency-Key": key,
                "User-Agent": USER_AGENT,
            },
        )
        wait = delay
        try:
            with opener.open(request, timeout=timeout) as response:
                return _answer(response.status, response.headers, response.read())
        except urllib.error.HTTPError as exc:
            answer = _answer(exc.code, exc.headers, exc.read())
            if 300 <= exc.code < 400:
                location = exc.headers.get("Location")
                raise PushFailed(_redirect_message(url, location), returncode=EXIT_REFUSED) from None
            if not answer.retryable:
                return answer
            problem = f"HTTP {answer.status}" + (f" ({answer.message})" if answer.message else "")
            wait = _retry_after(answer.retry_after, delay) if delay is not None else None
        except urllib.error.URLError as exc:  # before any answer: connecting, TLS
            if isinstance(exc.reason, ssl.SSLCertVerificationError):
                raise PushFailed(
                    f"Rampart's certificate at {url} is not trusted ({exc.reason.verify_message}): "
                    "give its CA with --ca-file",
                    returncode=EXIT_REFUSED,
                ) from None
            problem = str(exc.reason)
        except TimeoutError:  # sent, but no answer in time: Rampart may still store it
            problem = (
                f"no answer within {timeout:g} s (Rampart may have received the snapshot: "
                "its Agent page lists pushes; raise --push-timeout for a large cluster)"
            )
        except OSError as exc:
            problem = str(exc)
        if wait is None:
            raise PushFailed(
                f"could not push to Rampart at {url} after {attempt} attempts: {problem}",
                returncode=EXIT_UNREACHABLE,
            )
        log(f"attempt {attempt}: {problem}; retrying in {wait} s")
        sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover


def stored_unscanned(answer: Answer) -> str:
    """Why Rampart stored the snapshot but queued no scan (the cluster is paused); "" if it queued one.

    Not a refusal: a pause is meant, and the CronJob should neither retry nor fail through it.
    """
    paused = answer.body.get("paused") if answer.status == 202 else None
    if not isinstance(paused, dict):
        return ""
    who = paused.get("paused_by") or "an account since deleted"
    reason = f": {paused['pause_reason']}" if paused.get("pause_reason") else ""
    return (
        f"stored without scanning: the cluster is paused in Rampart (since {paused.get('paused_at')}, by "
        f"{who}{reason}); it is scanned again once a team admin resumes it"
    )


def refusal(answer: Answer, url: str, size: int) -> PushFailed:
    """A final answer other than success, as the operator should read it."""
    if answer.from_rampart:
        return PushFailed(
            f"Rampart refused the snapshot (HTTP {answer.status}): {answer.message or 'no reason given'}",
            returncode=EXIT_REFUSED,
        )
    if answer.status == 413:
        why = (
            f"something in front of Rampart (a proxy or ingress) refused the {size:,}-byte snapshot as "
            "too large: raise its request body limit (nginx: client_max_body_size)"
        )
    elif answer.status in (404, 405):
        why = f"nothing at {url} takes pushes: is --push (RAMPART_URL) Rampart's address?"
    else:
        why = f"{url} did not answer as Rampart does: is --push (RAMPART_URL) Rampart's address?"
    return PushFailed(f"{why} (HTTP {answer.status})", returncode=EXIT_REFUSED)


def _redirect_message(url: str, location: str | None) -> str:
    where = f" to {location}" if location else ""
    return (
        f"{url} redirects{where}: set --push (RAMPART_URL) to the address Rampart answers on itself "
        "(the snapshot and its token are not sent on to another address)"
    )


def _answer(status: int, headers, raw: bytes) -> Answer:
    retry_after = headers.get("Retry-After") if headers is not None else None
    try:
        body = orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError:
        body = None
    if not isinstance(body, dict):
        return Answer(status, {}, from_rampart=False, retry_after=retry_after)
    error = body.get("error")
    # Rampart answers success with its own fields and refusals with {"error": {"code", "message"}}.
    from_rampart = status < 300 or (isinstance(error, dict) and "message" in error)
    return Answer(status, body, from_rampart=from_rampart, retry_after=retry_after)


def _retry_after(value: str | None, default: int) -> int:
    try:
        return max(0, min(int(value), MAX_RETRY_AFTER)) if value else default
    except ValueError:
        return default
