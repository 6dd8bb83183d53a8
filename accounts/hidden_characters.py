"""Text that other people read as it was typed: team names, pause reasons.

``str.isprintable()`` is False for control characters and for the Unicode format characters
(category Cf): zero-width spaces and joiners and the bidirectional overrides and isolates, which
would make a name display as something other than what it is ("Trojan Source").
"""


def has_hidden_characters(text: str) -> bool:
    """Whether ``text`` holds a character that does not show as itself (a space is fine)."""
    return not text.replace(" ", "").isprintable()
