"""XML shared by the ELAN and Sonic Visualiser formats: one parser that turns every
failure into a FormatError naming the file, and the characters XML 1.0 can hold."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from ..errors import FormatError

__all__ = ["parse_xml", "xml_text"]

# XML 1.0 allows tab, newline, carriage return and everything from U+0020 except the
# surrogates and U+FFFE/U+FFFF; anything else makes the file unreadable for every client
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def parse_xml(path) -> ET.Element:
    """The root element of an XML file.

    Raises
    ------
    FormatError
        Naming the file (and line): not well-formed, an encoding the declaration names
        but Python does not know, an entity expansion over expat's limits, unreadable.
    """
    try:
        return ET.parse(path).getroot()
    except ET.ParseError as err:
        raise FormatError(path, f"not valid XML ({err})", line=err.position[0]) from None
    except LookupError as err:  # <?xml encoding="..."?> names an unknown encoding
        raise FormatError(path, f"not valid XML (the declared encoding is unknown: "
                                f"{err})") from None
    except OSError as err:
        raise FormatError(path, err.strerror or "cannot be read") from None


def xml_text(text: str) -> tuple[str, bool]:
    """``text`` with the characters XML cannot hold replaced by U+FFFD; and whether any
    was replaced."""
    clean = _NOT_XML.sub("\ufffd", text)
    return clean, clean != text
