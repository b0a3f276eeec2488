"""Run one XSLT schematron over XML files and print the SVRL failures as JSON.

Run as a subprocess by `einvoice_validation.py`, never imported by the test process: Saxon-HE's
native library can abort its host process, and a crashed validator must fail one test, not the
whole run.   python schematron_run.py SCHEMATRON.xslt FILE.xml...
"""

import json
import sys

from lxml import etree
from saxonche import PySaxonProcessor

SVRL = "{http://purl.oclc.org/dsdl/svrl}"


def failures(svrl: str) -> list[dict[str, str]]:
    report = etree.fromstring(svrl.encode())
    found = []
    for failed in report.iter(f"{SVRL}failed-assert", f"{SVRL}successful-report"):
        found.append(
            {
                "id": failed.get("id") or "",
                "flag": failed.get("flag") or "",
                "location": failed.get("location") or "",
                "text": " ".join("".join(failed.itertext()).split()),
            }
        )
    return found


def main(stylesheet: str, files: list[str]) -> None:
    with PySaxonProcessor(license=False) as processor:
        executable = processor.new_xslt30_processor().compile_stylesheet(stylesheet_file=stylesheet)
        results = {
            path: failures(executable.transform_to_string(source_file=path)) for path in files
        }
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
