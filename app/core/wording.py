"""Small helpers that keep generated messages grammatical."""


def with_article(phrase: str) -> str:
    """`phrase` after its indefinite article: "an issued invoice", "a draft invoice", "an
    interval forecast" (by the first letter, which is right for the service's own words)."""
    return f"{'an' if phrase[:1].lower() in 'aeiou' else 'a'} {phrase}"
