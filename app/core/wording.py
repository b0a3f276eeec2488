"""Small helpers that keep generated messages grammatical."""


def with_article(phrase: str) -> str:
    """`phrase` after its indefinite article: "an issued invoice", "a draft invoice", "an
    interval forecast" (by the first letter, which is right for the service's own words)."""
    return f"{'an' if phrase[:1].lower() in 'aeiou' else 'a'} {phrase}"


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """`count` and its noun in the right number: "1 invalid value", "2 invalid values"."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"
