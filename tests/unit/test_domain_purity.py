import subprocess
import sys

OUTER = ("sqlite3", "typer", "rich", "openpyxl", "questionary", "click", "sqlalchemy", "sqlmodel")


def test_the_domain_imports_no_outer_layer_package():
    code = (
        "import sys, pkgutil, importlib, atm.domain\n"
        "for m in pkgutil.iter_modules(atm.domain.__path__): importlib.import_module('atm.domain.' + m.name)\n"
        f"print(','.join(sorted(n for n in {OUTER!r} if n in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


def test_atm_help_does_not_import_the_database_or_spreadsheet_layers():
    code = (
        "import sys\nfrom atm.cli import app\n"
        "try:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('LOADED:' + ','.join(sorted(n for n in ('sqlite3', 'openpyxl', 'questionary', "
        "'atm.storage.database') if n in sys.modules)), file=sys.stderr)"
    )
    err = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stderr.strip()
    assert err.splitlines()[-1] == "LOADED:"
