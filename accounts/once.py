"""One-time form values: a form that mints a secret must not mint a second one when re-sent.

Each rendering of such a form carries a fresh value kept in the session; the first POST
with it uses it up. A reload of the answer re-sends the form with a used value, and the
page then says so instead of creating another secret. The secret itself is never kept
server-side (to make a redirect possible), so this is what stops a re-sent form.
"""

import secrets

KEPT = 5  # pending values per form: a few open tabs


def issue(request, key: str) -> str:
    value = secrets.token_urlsafe(16)
    pending = request.session.get(key, [])[-(KEPT - 1) :]
    request.session[key] = [*pending, value]
    return value


def use(request, key: str, value: str) -> bool:
    """True the first time ``value`` comes back; False when it was used already or never issued."""
    pending = request.session.get(key, [])
    if not value or value not in pending:
        return False
    request.session[key] = [item for item in pending if item != value]
    return True
