"""The findings list a person looked at last, so that a finding's page leads back to it.

The browser's Back button does that until the finding is triaged: each change posts and
reloads the finding, and Back then steps through those reloads first. The session is saved
on every request anyway (SESSION_SAVE_EVERY_REQUEST), so remembering costs no extra write.
"""

KEY = "findings_list_query"
# What the navigation bar's "Findings" opens: the findings that still need someone.
DEFAULT_QUERY = "status=open&status=acknowledged"
LONGEST = 2_000  # a query beyond this was not typed by a person; keep sessions small


def remember(request, query: str) -> None:
    if len(query) <= LONGEST and request.session.get(KEY) != query:
        request.session[KEY] = query


def recall(request) -> str:
    """The query of the list last shown (possibly empty: every finding), else the default."""
    query = request.session.get(KEY)
    return query if isinstance(query, str) else DEFAULT_QUERY
