"""Which package may import which (docs/architecture.md §2), checked on every .py file of the repository.

Every import counts: `import x` and `from x import y`, at module level or inside a function, a `try`
or an `if TYPE_CHECKING:` block, relative imports (resolved), and `importlib.import_module("x")` /
`__import__("x")` with a literal name.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SKIPPED = {".git", ".venv", "build", "dist", "__pycache__", "node_modules"}

CORE = frozenset({"totem"})
SERVICES = frozenset({"orchestrator", "deployer", "image_factory", "yoda_proxy", "yoda_discover", "yoda_route53"})
APPLICATIONS = frozenset({"totem_cli", "totem_client", "totem_dashboard", "totem_demo", "totem_stack", "totem_cluster"})
DATA = frozenset({"fleet_templates"})

# The rules, one row per package: the first-party packages it may import besides itself. The standard
# library and third-party packages are always allowed; tests/, bench/ and scripts may import anything.
MAY_IMPORT: dict[str, frozenset[str]] = {
    "totem": frozenset(),  # the core (totem.contracts included) stands alone
    "fleet_templates": frozenset(),  # data: Jinja unit templates
    "orchestrator": CORE,
    "deployer": CORE | DATA,  # the fleet scheduler renders fleet_templates
    "image_factory": CORE,
    "yoda_proxy": CORE,
    "yoda_discover": CORE,
    "yoda_route53": CORE,
    "totem_cli": CORE | SERVICES | APPLICATIONS,
    "totem_client": CORE | SERVICES | APPLICATIONS,
    "totem_dashboard": CORE | SERVICES | APPLICATIONS,
    "totem_demo": CORE | SERVICES | APPLICATIONS,
    "totem_stack": CORE | SERVICES | APPLICATIONS,
    "totem_cluster": CORE | SERVICES | APPLICATIONS,
}
FIRST_PARTY = frozenset(MAY_IMPORT)
UNRESTRICTED = {"tests"}  # a package of the repository that the rules leave free


def module_name(path: Path, root: Path) -> tuple[str, bool]:
    """("deployer.wiring", False) for deployer/wiring.py; ("deployer", True) for deployer/__init__.py."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    return ".".join(parts[:-1] if is_package else parts), is_package


def imported(source: str, module: str, is_package: bool) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) for every import in `source`, wherever it stands."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: climb from the importing module's own package
                package = module.split(".") if is_package else module.split(".")[:-1]
                base = package[: len(package) - node.level + 1]
                yield node.lineno, ".".join(base + ([node.module] if node.module else []))
            elif node.module:
                yield node.lineno, node.module
        elif isinstance(node, ast.Call) and _is_dynamic_import(node.func) and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                yield node.lineno, first.value


def _is_dynamic_import(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id in ("__import__", "import_module")
    return isinstance(func, ast.Attribute) and func.attr == "import_module"


def python_files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).parts
        if not any(part in SKIPPED or part.endswith(".egg-info") for part in relative):
            yield path


def violations(root: Path) -> list[str]:
    """ "<file>:<line>: <package> imports <module>" for every import the table forbids."""
    found = []
    for path in python_files(root):
        module, is_package = module_name(path, root)
        package = module.split(".")[0]
        if package not in MAY_IMPORT:
            continue
        for line, name in imported(path.read_text(encoding="utf-8"), module, is_package):
            target = name.split(".")[0]
            if target in FIRST_PARTY and target != package and target not in MAY_IMPORT[package]:
                found.append(f"{path.relative_to(root)}:{line}: {package} imports {name}")
    return found


def packages(root: Path) -> set[str]:
    """Top-level directories of the repository that are Python packages."""
    return {p.parent.name for p in root.glob("*/__init__.py")}


# -- the tree as it stands ---------------------------------------------------------


def test_no_package_imports_across_a_boundary():
    assert violations(REPO) == []


def test_every_package_has_a_row_in_the_table():
    assert packages(REPO) - UNRESTRICTED == set(MAY_IMPORT)


# -- the checker itself, on a small synthetic tree ---------------------------------


def write(root: Path, files: dict[str, str]) -> Path:
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    return root


def test_the_checker_reports_each_forbidden_import(tmp_path):
    root = write(
        tmp_path,
        {
            "totem/__init__.py": "",
            "totem/fine.py": "import json\nimport requests\nfrom totem import store\nfrom . import settings\n",
            "totem/bad.py": "import totem_cli.main\n",
            "deployer/__init__.py": "",
            "deployer/fine.py": "import fleet_templates\nfrom totem.contracts import yoda\n",
            "deployer/bad.py": "def later():\n    from orchestrator.jobs import store\n",
            "yoda_proxy/__init__.py": "",
            "yoda_proxy/bad.py": "import importlib\nimportlib.import_module('yoda_discover.keys')\n",
            "totem_cli/__init__.py": "",
            "totem_cli/fine.py": "from deployer import wiring\nimport totem_stack\nfrom .ops import apps\n",
            "tests/__init__.py": "",
            "tests/anything.py": "import orchestrator, deployer, totem_cli\n",
        },
    )
    assert violations(root) == [
        "deployer/bad.py:2: deployer imports orchestrator.jobs",
        "totem/bad.py:1: totem imports totem_cli.main",
        "yoda_proxy/bad.py:2: yoda_proxy imports yoda_discover.keys",
    ]


def test_relative_imports_resolve_against_the_importing_package():
    source = "from . import a\nfrom .. import b\nfrom ..c import d\n"
    assert [name for _, name in imported(source, "yoda_proxy.sub.mod", False)] == [
        "yoda_proxy.sub",
        "yoda_proxy",
        "yoda_proxy.c",
    ]
    assert [name for _, name in imported("from . import a\n", "yoda_proxy.sub", True)] == ["yoda_proxy.sub"]


def test_a_new_package_without_a_row_is_noticed(tmp_path):
    root = write(tmp_path, {"totem/__init__.py": "", "tests/__init__.py": "", "newsvc/__init__.py": ""})
    assert packages(root) - UNRESTRICTED - set(MAY_IMPORT) == {"newsvc"}
