"""The message catalogues are complete, consistent and compiled.

How to refresh them is in ``docs/translations.md``. What is checked here:

(a) every Simplified Chinese entry is translated, none is fuzzy, and its placeholders match;
(b) the committed ``.po`` files list exactly the strings marked in the source (needs xgettext);
(c) the committed ``.mo`` files say exactly what their ``.po`` files say;
(d) Django really serves the Chinese catalogue (and English stays English).
"""

from __future__ import annotations

import gettext
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.utils import translation

import bihuan

PACKAGE_DIR = Path(bihuan.__file__).resolve().parent
LOCALE_DIR = PACKAGE_DIR / "locale"
LANGUAGES = ("zh_Hans", "en")
# Keep in step with docs/translations.md (run from src/bihuan).
MAKEMESSAGES_ARGS = [
    "makemessages",
    "-l",
    "zh_Hans",
    "-l",
    "en",
    "--no-obsolete",
    "--add-location",
    "file",
    "--ignore",
    "tests/*",
    "--ignore",
    "*/tests/*",
]
# Chinese msgstrs that legitimately contain no Chinese character (codes, acronyms).
NOT_CHINESE_ALLOWED: set[str] = set()

CJK = re.compile(r"[\u3400-\u9fff]")
PRINTF = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[#0+-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?(?P<conv>[diouxXeEfFgGcrsa%])"
)
BRACE = re.compile(r"(?<!\{)\{(?P<field>[A-Za-z_]\w*|\d*)(?:![rsa])?(?::[^{}]*)?\}(?!\})")
UNESCAPE = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    '"': '"',
    "\\": "\\",
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "v": "\v",
}


# --- a small .po reader ---------------------------------------------------------------


@dataclass
class Entry:
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def key(self) -> tuple[str | None, str, str | None]:
        return (self.msgctxt, self.msgid, self.msgid_plural)

    @property
    def mo_id(self) -> str:
        """The msgid as ``gettext`` stores it in a compiled catalogue."""
        return self.msgid if self.msgctxt is None else f"{self.msgctxt}\x04{self.msgid}"

    def __str__(self) -> str:
        context = f" (context {self.msgctxt!r})" if self.msgctxt is not None else ""
        return f"line {self.line}: {self.msgid!r}{context}"


def _unquote(token: str, where: str) -> str:
    token = token.strip()
    if len(token) < 2 or token[0] != '"' or token[-1] != '"':
        raise ValueError(f"{where}: not a quoted string: {token!r}")
    return re.sub(r"\\(.)", lambda m: UNESCAPE.get(m.group(1), "\\" + m.group(1)), token[1:-1])


def read_po(path: Path) -> tuple[Entry, list[Entry]]:
    """The header entry and the active (non-obsolete) entries of a .po file."""
    entries: list[Entry] = []
    entry: Entry | None = None
    last: tuple[str, int] | None = None  # which field a continuation line extends
    pending_flags: set[str] = set()
    keyword = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")\s*$')

    def finish() -> None:
        nonlocal entry
        if entry is not None:
            entries.append(entry)
        entry = None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        where = f"{path}:{number}"
        if not line:
            continue
        if line.startswith("#~"):
            continue  # obsolete: not part of the catalogue
        if line.startswith("#"):
            if entry is not None and entry.msgstr:
                finish()
            if line.startswith("#,"):
                pending_flags |= {f.strip() for f in line[2:].split(",") if f.strip()}
            continue
        match = keyword.match(line)
        if match:
            name, index, token = match.groups()
            value = _unquote(token, where)
            if name in {"msgctxt", "msgid"} and (entry is None or entry.msgstr):
                finish()
                entry = Entry(line=number, flags=pending_flags)
                pending_flags = set()
            if entry is None:
                raise ValueError(f"{where}: {name} outside an entry")
            if name == "msgctxt":
                entry.msgctxt, last = value, ("msgctxt", 0)
            elif name == "msgid":
                entry.msgid, last = value, ("msgid", 0)
            elif name == "msgid_plural":
                entry.msgid_plural, last = value, ("msgid_plural", 0)
            else:
                slot = int(index) if index is not None else 0
                entry.msgstr[slot], last = value, ("msgstr", slot)
            continue
        if line.startswith('"') and entry is not None and last is not None:
            value = _unquote(line, where)
            what, slot = last
            if what == "msgstr":
                entry.msgstr[slot] += value
            else:
                setattr(entry, what, (getattr(entry, what) or "") + value)
            continue
        raise ValueError(f"{where}: cannot read {raw!r}")
    finish()
    if not entries or entries[0].msgid != "" or entries[0].msgctxt is not None:
        raise ValueError(f"{path}: no header entry")
    return entries[0], entries[1:]


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / "django.po"


def mo_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / "django.mo"


def placeholders(text: str) -> tuple[Counter[str], list[str], Counter[str]]:
    """Named %-placeholders, positional %-placeholders (in order), and {fields}."""
    named: Counter[str] = Counter()
    positional: list[str] = []
    for match in PRINTF.finditer(text):
        if match.group("conv") == "%":
            continue
        if match.group("name") is not None:
            named[match.group(0)] += 1
        else:
            positional.append(match.group(0))
    braces = Counter(match.group(0) for match in BRACE.finditer(text))
    return named, positional, braces


# --- (a) the Chinese catalogue is complete and well-formed ----------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_po_files_exist_and_parse(language: str) -> None:
    header, entries = read_po(po_path(language))
    assert "charset=UTF-8" in header.msgstr[0]
    assert entries, f"{po_path(language)} holds no messages"
    keys = [entry.key for entry in entries]
    duplicates = [key for key, count in Counter(keys).items() if count > 1]
    assert not duplicates, f"duplicate entries in {po_path(language)}: {duplicates}"
    assert not any("fuzzy" in entry.flags for entry in entries), (
        f"fuzzy entries in {po_path(language)}: "
        + ", ".join(str(entry) for entry in entries if "fuzzy" in entry.flags)
    )


def test_chinese_catalogue_is_fully_translated() -> None:
    header, entries = read_po(po_path("zh_Hans"))
    assert "fuzzy" not in header.flags, "the header of the zh_Hans .po is marked fuzzy"
    assert "Plural-Forms: nplurals=1; plural=0;" in header.msgstr[0]
    problems: list[str] = []
    for entry in entries:
        if "fuzzy" in entry.flags:
            problems.append(f"{entry}: fuzzy")
        # Chinese has a single plural form: msgstr[0] (or plain msgstr) is all there is.
        for text in (entry.msgstr or {0: ""}).values():
            if not text.strip():
                problems.append(f"{entry}: no translation")
            elif not CJK.search(text) and text not in NOT_CHINESE_ALLOWED:
                problems.append(f"{entry}: translation {text!r} contains no Chinese")
    assert not problems, "zh_Hans catalogue is incomplete:\n" + "\n".join(problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_are_kept(language: str) -> None:
    _, entries = read_po(po_path(language))
    problems: list[str] = []
    for entry in entries:
        sources = [entry.msgid] + ([entry.msgid_plural] if entry.msgid_plural else [])
        expected = [placeholders(source) for source in sources]
        for slot, text in entry.msgstr.items():
            if not text:
                continue  # untranslated English: the msgid itself is shown
            named, positional, braces = placeholders(text)
            # A one-form language may drop the count from the singular, never a name.
            ok = any(
                named == want_named and positional == want_positional and braces == want_braces
                for want_named, want_positional, want_braces in expected
            )
            if not ok:
                problems.append(
                    f"{entry}: msgstr[{slot}] {text!r} has placeholders "
                    f"{sorted(named.elements()) + positional + sorted(braces.elements())}"
                )
    assert not problems, f"placeholders differ in {language}:\n" + "\n".join(problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_msgfmt_accepts_the_po(language: str) -> None:
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.skip("GNU gettext's msgfmt is not installed: format check left to the reader")
    result = subprocess.run(  # noqa: S603 - fixed arguments, our own file
        [msgfmt, "--check", "--output-file", os.devnull, str(po_path(language))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


# --- (b) the catalogue lists exactly the strings marked in the source -----------------

_RUN_IN_COPY = """
import sys
from pathlib import Path

import bihuan

here = Path.cwd().resolve()
if Path(bihuan.__file__).resolve().parent != here:
    sys.exit(f"refusing to run: bihuan was imported from {bihuan.__file__}, not {here}")
from django.core.management import execute_from_command_line

execute_from_command_line(["django-admin", *sys.argv[1:]])
"""


def test_po_files_match_the_source(tmp_path: Path) -> None:
    missing = [tool for tool in ("xgettext", "msgmerge", "msguniq") if shutil.which(tool) is None]
    if missing:
        pytest.skip(
            "!!! GNU gettext is not installed (missing: " + ", ".join(missing) + "): "
            "CANNOT check that the committed .po files list every translatable string in the "
            "source. Install gettext (e.g. apt-get install gettext) to run this check. !!!"
        )
    copy = tmp_path / "src" / "bihuan"
    shutil.copytree(
        PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.po", "*.mo")
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"SECRET_KEY_FILE", "PYTHONPATH", "PYTHONSTARTUP"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="bihuan.settings",
        PYTHONPATH=str(copy.parent),
        BIHUAN_ENV="development",
        BIHUAN_VAR_DIR=str(tmp_path / "var"),
        SECRET_KEY="translation-test-only",
    )
    result = subprocess.run(  # noqa: S603 - our interpreter, fixed arguments
        [sys.executable, "-P", "-c", _RUN_IN_COPY, *MAKEMESSAGES_ARGS],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    problems: list[str] = []
    for language in LANGUAGES:
        generated = copy / "locale" / language / "LC_MESSAGES" / "django.po"
        assert generated.exists(), f"makemessages wrote no {generated}:\n{result.stdout}"
        wanted = {entry.key for entry in read_po(generated)[1]}
        committed = {entry.key for entry in read_po(po_path(language))[1]}
        for key in sorted(wanted - committed, key=str):
            problems.append(f"{language}: missing from the .po: {key[1]!r}")
        for key in sorted(committed - wanted, key=str):
            problems.append(f"{language}: no longer in the source: {key[1]!r}")
    assert not problems, (
        "the .po files are out of date; refresh them as docs/translations.md says:\n"
        + "\n".join(problems)
    )


# --- (c) the committed .mo files say what the .po files say ---------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_mo_is_in_sync_with_po(language: str) -> None:
    path = mo_path(language)
    assert path.exists(), f"{path} is missing: run `bihuan compilemessages` in src/bihuan"
    with path.open("rb") as handle:
        catalog: dict[object, str] = dict(gettext.GNUTranslations(handle)._catalog)  # type: ignore[attr-defined]
    catalog.pop("", None)  # the header
    _, entries = read_po(po_path(language))
    expected: dict[object, str] = {}
    for entry in entries:
        if "fuzzy" in entry.flags or not any(entry.msgstr.values()):
            continue  # msgfmt leaves these out; gettext then shows the msgid
        if entry.msgid_plural is None:
            expected[entry.mo_id] = entry.msgstr[0]
        else:
            for slot, text in entry.msgstr.items():
                expected[(entry.mo_id, slot)] = text
    stale = sorted(
        (
            f"{key!r}: .mo says {catalog.get(key)!r}, .po says {text!r}"
            for key, text in expected.items()
            if catalog.get(key) != text
        ),
    )
    extra = sorted(repr(key) for key in catalog.keys() - expected.keys())
    assert not stale and not extra, (
        f"{path} is out of date: run `bihuan compilemessages` in src/bihuan\n"
        + "\n".join(stale + [f"only in the .mo: {key}" for key in extra])
    )


# --- (d) Django serves the catalogue --------------------------------------------------


def test_django_serves_chinese_and_english() -> None:
    from bihuan.core.errors import NotFound
    from bihuan.hazards.choices import HazardState, Severity

    with translation.override("zh-hans"):
        assert str(HazardState.CLOSED.label) == "已销号"
        assert str(HazardState.PENDING_VERIFICATION.label) == "待验收"
        assert str(HazardState.RECTIFYING.label) == "整改中"
        assert str(Severity.MAJOR.label) == "重大"
        message = str(NotFound.default_message)
        assert CJK.search(message), message
        assert translation.gettext("Not found.") == message
    with translation.override("en"):
        assert str(HazardState.CLOSED.label) == "Closed"
        assert str(NotFound.default_message) == "Not found."


def test_default_language_is_chinese(settings) -> None:  # type: ignore[no-untyped-def]
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert Path(settings.LOCALE_PATHS[0]).resolve() == LOCALE_DIR
