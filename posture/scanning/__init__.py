"""The scan pipeline's pure part: inventory, collectors, checks, engine.

Nothing under this package imports Django's ORM; it turns plain dicts into
results and can be used (and tested) without a database.
"""
