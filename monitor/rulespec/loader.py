"""Load agreement files: parse → version check → spec validation → defaults → domain.

Every problem names the file, the line and the field path; a file reports all
of its problems at once, and ``load_rules`` reports those of every file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from pydantic import ValidationError

from monitor.domain.agreement import Agreement
from monitor.domain.errors import AgreementError, Problem
from monitor.rulespec.build import build_agreement
from monitor.rulespec.problems import format_path, problems_from
from monitor.rulespec.references import (
    check_closed_stretches,
    check_reach,
    check_references,
)
from monitor.rulespec.v1 import VERSION, AgreementSpec
from monitor.rulespec.yamldoc import Document, YamlSyntaxError, parse_yaml
from monitor.rulespec.yamlguard import MAX_FILE_BYTES, RejectedYamlError, check_text

AGREEMENT_SUFFIXES: Final = (".yaml", ".yml")
NO_LINE: Final = 0
"""The line of problems about a whole path (missing file, empty folder)."""


@dataclass(frozen=True)
class _Loaded:
    agreement: Agreement
    contract_line: int


def load_text(text: str, filename: str) -> Agreement:
    """The agreement in ``text``; raises AgreementError with every problem found."""
    return _load(text, filename).agreement


def load_agreement(path: Path) -> Agreement:
    return _load_file(path).agreement


def load_rules(paths: Sequence[Path]) -> tuple[list[Agreement], list[Problem]]:
    """Agreements from files and folders (``*.yaml``/``*.yml``, sorted), and all problems.

    Two files declaring the same contract id is a problem of the later file.
    """
    files, problems = _agreement_files(paths)
    agreements: list[Agreement] = []
    owners: dict[str, str] = {}
    for path in files:
        try:
            loaded = _load_file(path)
        except AgreementError as error:
            problems.extend(error.problems)
            continue
        contract_id = loaded.agreement.contract_id
        if contract_id in owners:
            problems.append(
                Problem(
                    str(path),
                    loaded.contract_line,
                    "contract",
                    f"contract id {contract_id!r} is already used by {owners[contract_id]}",
                )
            )
            continue
        owners[contract_id] = str(path)
        agreements.append(loaded.agreement)
    return agreements, problems


def _agreement_files(paths: Sequence[Path]) -> tuple[list[Path], list[Problem]]:
    files: list[Path] = []
    problems: list[Problem] = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                child
                for child in path.iterdir()
                if child.suffix in AGREEMENT_SUFFIXES and child.is_file()
            )
            if not found:
                problems.append(
                    Problem(str(path), NO_LINE, "(folder)", "no agreement files (*.yaml, *.yml)")
                )
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            problems.append(Problem(str(path), NO_LINE, "(file)", "no such file or folder"))
    return list(dict.fromkeys(files)), problems


def _load_file(path: Path) -> _Loaded:
    """Reads at most one byte past the size limit, so a huge file costs no memory."""
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            message = f"larger than {MAX_FILE_BYTES} bytes, the limit for an agreement file"
            raise AgreementError([Problem(str(path), NO_LINE, "(file)", message)])
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise AgreementError([Problem(str(path), NO_LINE, "(file)", "not UTF-8 text")]) from None
    except OSError as error:
        message = f"cannot read: {error.strerror or error}"
        raise AgreementError([Problem(str(path), NO_LINE, "(file)", message)]) from None
    return _load(text, str(path))


def _load(text: str, filename: str) -> _Loaded:
    try:
        check_text(text)
        document = parse_yaml(text)
    except RejectedYamlError as error:
        problems = [
            Problem(filename, line, format_path(path), message)
            for line, path, message in error.issues
        ]
        raise AgreementError(problems) from None
    except YamlSyntaxError as error:
        raise AgreementError([Problem(filename, error.line, "(yaml)", error.message)]) from None
    _check_version(document, filename)
    problems = check_references(document, filename)
    spec: AgreementSpec | None = None
    try:
        spec = AgreementSpec.model_validate(document.data)
    except ValidationError as error:
        problems += problems_from(error, document, filename)
    if spec is not None:
        problems += check_reach(spec, document, filename)
        problems += check_closed_stretches(spec, document, filename)
    if problems or spec is None:
        raise AgreementError(sorted(set(problems), key=lambda p: (p.line, p.field, p.message)))
    return _Loaded(build_agreement(spec, filename), document.line_of(("contract",)))


def _check_version(document: Document, filename: str) -> None:
    """Stop early on anything that is not a slamon/v1 agreement: the rest would be noise."""
    data = document.data
    if data is None:
        message = f"the file is empty; an agreement starts with 'version: {VERSION}'"
    elif not isinstance(data, dict):
        message = f"expected a mapping of agreement fields, got {type(data).__name__}"
    elif "version" not in data:
        message = (
            f"required field is missing; the first line of an agreement is 'version: {VERSION}'"
        )
    elif data["version"] != VERSION:
        message = f"unsupported version {data['version']!r}; this slamon reads {VERSION}"
    else:
        return
    field = "(document)" if data is not None and not isinstance(data, dict) else "version"
    line = document.line_of(("version",))
    raise AgreementError([Problem(filename, line, field, message)])
