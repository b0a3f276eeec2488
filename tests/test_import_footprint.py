"""The API process does not import the libraries only some requests need.

WeasyPrint and factur-x (PDF rendering, with fontTools and Pango's bindings) and scipy.special
(staffing) are imported on first use: a server that answers reads or takes volumes keeps
some 50 MB less resident memory and starts seconds sooner. The forecasting libraries run in
the forecasting pool's processes, never in the server. A fresh interpreter builds the app and
lists what it imported.
"""

import json
import subprocess
import sys
from pathlib import Path

ON_FIRST_USE = ("weasyprint", "facturx", "fontTools", "scipy", "statsmodels", "prophet")

_SCRIPT = """
import json, sys
from app.core.settings import Settings
from app.main import create_app
create_app(Settings(database_url=sys.argv[1]))
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def test_building_the_app_imports_no_library_of_a_later_request(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/unused.db"
    output = subprocess.run(
        [sys.executable, "-c", _SCRIPT, url], check=True, capture_output=True, text=True
    ).stdout
    imported = set(json.loads(output.splitlines()[-1]))
    assert imported & set(ON_FIRST_USE) == set()
    assert {"fastapi", "sqlalchemy", "app"} <= imported  # the probe did build the app
