"""Sphinx configuration of the simpeg_zo documentation.

Build with ``make docs`` (from the repository root), which runs
``sphinx-build -W --keep-going -b html docs docs/_build/html``.

The tutorials (``tutorials/plot_*.py``) run as a sphinx-gallery gallery with
the same small settings as the test suite (``SIMPEG_ZO_SMALL=1``). The field
data tutorial reads ``../shared/data/paralana`` (beside the repository); where
that folder is absent it is shown without being run.
"""

import inspect
import os
import pathlib
import sys
import time
import warnings

DOCS = pathlib.Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))

# small surveys in the gallery, as in tests/test_tutorials.py
os.environ["SIMPEG_ZO_SMALL"] = "1"
os.environ["MPLBACKEND"] = "Agg"
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

# SimPEG's own deprecation notices (as the test suite's filterwarnings)
for _category in (FutureWarning, DeprecationWarning):
    warnings.filterwarnings("ignore", category=_category, module=r"(simpeg|discretize)(\.|$)")

import simpeg_zo  # noqa: E402
from simpeg_zo import learned, plot, plot_field  # noqa: E402

#: The documented namespaces: one API page each, listing its ``__all__``.
API_MODULES = (simpeg_zo, learned, plot, plot_field)

# -- project ------------------------------------------------------------------
project = "simpeg_zo"
author = "simpeg_zo developers"
copyright = f"{time.strftime('%Y')}, {author}"
release = simpeg_zo.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

# intersphinx needs the network; it is optional (SIMPEG_ZO_DOCS_INTERSPHINX=1)
if os.environ.get("SIMPEG_ZO_DOCS_INTERSPHINX"):
    extensions.append("sphinx.ext.intersphinx")
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "simpeg": ("https://docs.simpeg.xyz/latest", None),
        "discretize": ("https://discretize.simpeg.xyz/en/main", None),
    }

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "generated/auto_examples/*.ipynb", "**/*.py.md5", "**/*.codeobj.json"]
suppress_warnings = []

# -- autodoc, autosummary, numpydoc -------------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"  # numpydoc's Parameters sections give the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# -- myst (BENCHMARKS.md and the Markdown pages) ------------------------------
myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3

# -- sphinx-gallery -----------------------------------------------------------
PARALANA = ROOT.parent / "shared" / "data" / "paralana"
if PARALANA.is_dir():
    run_pattern = r"/plot_"
else:
    # shown, not run: the tutorial needs the third-party Paralana EDI files
    run_pattern = r"/plot_(?!3_paralana)"

sphinx_gallery_conf = {
    "examples_dirs": [str(ROOT / "tutorials")],
    "gallery_dirs": ["generated/auto_examples"],
    "filename_pattern": run_pattern,
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "plot_gallery": "True",
    "abort_on_example_error": True,
    "show_memory": False,
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "capture_repr": (),
    # "Tutorials using X" on the API pages
    "doc_module": ("simpeg_zo",),
    "backreferences_dir": "generated/backreferences",
}

# -- HTML ---------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"simpeg_zo {release}"
html_static_path = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_show_sourcelink = False


# -- API page: the public namespaces, from their __all__ ------------------------
def _defining_module(package, name, value):
    """The private module of ``package`` that assigns ``name``.

    Returns that module's name and the ``#:`` documentation comment of ``name`` there.
    """
    for modname, module in sorted(sys.modules.items()):
        if not modname.startswith(package.__name__ + ".") or module is None:
            continue
        if getattr(module, name, None) is value and modname.rsplit(".", 1)[-1].startswith("_"):
            from sphinx.pycode import ModuleAnalyzer

            try:
                docs = ModuleAnalyzer.for_module(modname).find_attr_docs()
            except Exception:  # noqa: BLE001 - no source: no comment
                continue
            if ("", name) in docs:
                return modname, list(docs[("", name)])
    return None, []


def _kind(value):
    if inspect.isclass(value):
        return "exception" if issubclass(value, BaseException) else "class"
    if callable(value):
        return "function"
    return "data"


def _shared(package, name):
    """Whether ``package.name`` is also ``simpeg_zo.name`` (documented there)."""
    return package is not simpeg_zo and name in simpeg_zo.__all__ and getattr(simpeg_zo, name) is getattr(package, name)


def _api_listing(package):
    """The reST listing of ``package.__all__``.

    Classes, exceptions and functions as autosummary tables (one generated
    page each), constants inline.
    """
    groups = {"class": [], "exception": [], "function": [], "data": []}
    shared = []  # documented once, under the top-level name
    for name in sorted(package.__all__, key=str.lower):
        value = getattr(package, name)
        if _shared(package, name):
            shared.append(name)
        else:
            groups[_kind(value)].append(name)
    titles = {"class": "Classes", "exception": "Exceptions", "function": "Functions", "data": "Constants"}
    lines = [f".. currentmodule:: {package.__name__}", ""]
    for kind in ("class", "function", "exception"):
        if not groups[kind]:
            continue
        template = "autosummary/class.rst" if kind != "function" else "autosummary/function.rst"
        lines += [
            titles[kind],
            "~" * len(titles[kind]),
            "",
            ".. autosummary::",
            "   :toctree: api",
            f"   :template: {template}",
            "",
        ]
        lines += [f"   {name}" for name in groups[kind]] + [""]
    if shared:
        title = "Also exported by simpeg_zo"
        lines += [title, "~" * len(title), "", ".. autosummary::", ""]
        lines += [f"   ~simpeg_zo.{name}" for name in shared] + [""]
    if groups["data"]:
        lines += [titles["data"], "~" * len(titles["data"]), ""]
        for name in groups["data"]:
            value = getattr(package, name)
            _, comment = _defining_module(package, name, value)
            lines += [f".. data:: {name}", ""]
            lines += [f"   {line}" if line else "" for line in comment] or ["   (no description)"]
            lines += ["", "   Value::", ""]
            lines += [f"      {line}" for line in _value_lines(value)] + [""]
    return "\n".join(lines) + "\n"


class _Name:
    """Stands for a function or class in a printed value.

    Prints its name, not its repr with a memory address.
    """

    def __init__(self, obj):
        self.name = obj.__qualname__

    def __repr__(self):
        return self.name


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return type(value)(_plain(v) for v in value)
    if callable(value) and hasattr(value, "__qualname__"):
        return _Name(value)
    return value


def _value_lines(value):
    import pprint

    return pprint.pformat(_plain(value), width=88, sort_dicts=False).splitlines()


def _write_api_pages():
    """docs/generated/<package>.rst: the module docstring and the listing.

    Written when this file is read, before Sphinx looks for source files, so
    that autosummary generates the pages they list on a fresh checkout.
    """
    out = DOCS / "generated"
    out.mkdir(exist_ok=True)
    for package in API_MODULES:
        name = package.__name__
        text = "\n".join(
            [
                f".. This page is written by docs/conf.py from {name}.__all__; do not edit.",
                "",
                f"``{name}``",
                "=" * (len(name) + 4),
                "",
                f".. automodule:: {name}",
                "   :no-members:",
                "",
                "Reference",
                "---------",
                "",
                _api_listing(package),
            ]
        )
        path = out / f"{name}.rst"
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
    # stub pages of names no longer listed (autosummary only adds pages)
    listed = {f"{p.__name__}.{n}.rst" for p in API_MODULES for n in p.__all__ if not _shared(p, n)}
    for stub in (out / "api").glob("*.rst"):
        if stub.name not in listed:
            stub.unlink()


_write_api_pages()
