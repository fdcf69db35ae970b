"""The dependency rules of the design, checked on the source tree."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_billing_never_imports_flask_or_the_web_layer():
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_modules(path) & {"flask", "paywall"})
        for path in (ROOT / "billing").rglob("*.py")
        if imported_modules(path) & {"flask", "paywall"}
    }
    assert offenders == {}


def imported_module_paths(path: Path) -> set[str]:
    """Every module a file imports, with its full dotted name."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_the_web_layer_uses_billing_through_its_public_surface_only():
    """Outside ``billing/`` product code imports ``billing`` itself, never its modules:
    what the web layer may call is listed once, in ``billing.__all__``."""
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            name for name in imported_module_paths(path) if name.startswith("billing.")
        )
        for path in [
            ROOT / "wsgi.py",
            *(ROOT / "paywall").rglob("*.py"),
            *(ROOT / "config").rglob("*.py"),
        ]
        if "versions" not in path.parts
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_billing_public_surface_lists_what_it_exports():
    import billing

    missing = [name for name in billing.__all__ if not hasattr(billing, name)]
    assert missing == []
    assert len(billing.__all__) == len(set(billing.__all__))


def test_the_access_decision_is_pure():
    allowed = {"__future__", "collections", "dataclasses", "datetime", "enum", "billing"}
    assert imported_modules(ROOT / "paywall" / "access.py") <= allowed


def test_the_stripe_sdk_is_imported_only_by_the_gateway_and_the_contract():
    """Product code reaches Stripe through the gateway alone; the tooling reads the SDK's
    generated contract in one module."""
    importers = sorted(
        str(path.relative_to(ROOT))
        for folder in ("paywall", "billing", "config", "devstripe", "tests", "bench")
        for path in (ROOT / folder).rglob("*.py")
        if "stripe" in imported_modules(path)
    )
    assert importers == ["billing/gateway.py", "devstripe/contract.py"]


def test_the_gpl_emulator_is_never_imported():
    importers = [
        str(path.relative_to(ROOT))
        for path in ROOT.rglob("*.py")
        if ".venv" not in path.parts and "localstripe" in imported_modules(path)
    ]
    assert importers == []


def test_product_code_never_imports_the_stand_in_for_stripe():
    """One path to Stripe: only the demo command starts the emulator; nothing else in the
    product knows it exists (config names its address and keys as development defaults)."""
    importers = [
        str(path.relative_to(ROOT))
        for folder in ("billing", "paywall")
        for path in (ROOT / folder).rglob("*.py")
        if "devstripe" in imported_modules(path)
    ]
    assert importers == ["paywall/demo/commands.py"]  # starts devstripe.demo, nothing else


APP_WIDE_FROM_A_BLUEPRINT = {
    "record",
    "record_once",
    "before_app_request",
    "after_app_request",
    "teardown_app_request",
    "app_context_processor",
    "app_errorhandler",
    "app_template_filter",
    "app_template_global",
    "app_template_test",
    "app_url_defaults",
    "app_url_value_preprocessor",
}


def test_create_app_installs_everything_app_wide():
    """Reading ``create_app`` shows every app-wide piece: no blueprint installs one on the
    app behind its back (settings, hooks on every request, template globals)."""
    offenders = sorted(
        f"{path.relative_to(ROOT)}:{node.lineno} {node.attr}"
        for path in (ROOT / "paywall").rglob("*.py")
        if "versions" not in path.parts
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path)))
        if isinstance(node, ast.Attribute) and node.attr in APP_WIDE_FROM_A_BLUEPRINT
    )
    assert offenders == []
