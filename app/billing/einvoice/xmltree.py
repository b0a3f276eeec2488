"""The one helper both XML syntaxes build with: a child element in a namespace, with text."""

from collections.abc import Mapping

from lxml import etree


def child(
    parent: etree._Element,
    namespaces: Mapping[str, str],
    tag: str,
    text: str | None = None,
    **attributes: str,
) -> etree._Element:
    """`parent`'s new last child `prefix:name` (the order of calls is the XSD's sequence)."""
    prefix, name = tag.split(":")
    element = etree.SubElement(parent, f"{{{namespaces[prefix]}}}{name}", attributes)
    if text is not None:
        element.text = text
    return element
