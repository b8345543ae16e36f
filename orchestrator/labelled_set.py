"""A labelled set: documents with their ground truth, read from a zip or from several uploaded files.

Each document ``name.<ext>`` (an image or a PDF, checked like any upload) has its truth beside it as
``name.txt`` or ``name.md`` (UTF-8); an optional ``labels.csv`` gives a kind per document
(``name,kind``; a header row ``name,kind`` is skipped). Nothing is written to disk: a zip is read in
memory, every member's size bounded before it is read (a zip bomb is refused from its directory),
and a member named outside the archive (``..``, an absolute path) is refused, not skipped.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath

from orchestrator.document import Document
from shared.errors import InvalidLabelledSet, OCRError, PayloadTooLarge, UnsafeArchive
from shared.uploads import UploadLimits

TRUTH_SUFFIXES = (".txt", ".md")
LABELS_FILE = "labels.csv"
UNLABELLED = "unlabelled"
#: Archive members nobody means as part of the set (macOS resource forks, hidden files).
IGNORED_PARTS = ("__MACOSX",)


@dataclass(frozen=True)
class LabelledDocument:
    name: str  #: the file name without its extension (what results and labels.csv name)
    kind: str
    document: Document
    reference: str


@dataclass(frozen=True)
class SetLimits:
    """How large a labelled set may be: ``max_documents`` documents, ``max_bytes`` of files in all
    (unpacked), each document within the upload limits."""

    upload: UploadLimits
    max_documents: int

    @property
    def max_files(self) -> int:
        return 2 * self.max_documents + 1

    @property
    def max_bytes(self) -> int:
        return self.upload.max_body_bytes


def safe_name(name: str) -> str:
    """An archive member's path, checked: relative, no ``..``, no backslashes or drive letters."""
    path = PurePosixPath(name)
    if (
        not name
        or name.startswith(("/", "\\"))
        or "\\" in name
        or ".." in path.parts
        or (len(name) > 1 and name[1] == ":")
        or "\x00" in name
    ):
        raise UnsafeArchive(f"the archive names a file outside itself: {name!r}")
    return str(path)


def read_archive(data: bytes, limits: SetLimits) -> list[tuple[str, bytes]]:
    """The files of a zip as ``(path, bytes)``, directories and hidden files left out."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UnsafeArchive(f"the archive is not a readable zip file ({exc})") from None
    with archive:
        members = [info for info in archive.infolist() if not info.is_dir()]
        members = [info for info in members if _wanted(safe_name(info.filename))]
        if len(members) > limits.max_files:
            raise PayloadTooLarge(
                f"the archive holds {len(members)} files; the limit is {limits.max_files} "
                f"({limits.max_documents} documents, their truths and labels.csv)"
            )
        declared = sum(info.file_size for info in members)
        if declared > limits.max_bytes:
            raise PayloadTooLarge(f"the archive unpacks to {declared} bytes; the limit is {limits.max_bytes} bytes")
        files: list[tuple[str, bytes]] = []
        total = 0
        for info in members:
            try:
                with archive.open(info) as member:
                    content = member.read(info.file_size + 1)  # never more than it says (a lying header)
            except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError) as exc:
                raise UnsafeArchive(f"{info.filename}: cannot be unpacked ({exc})") from None
            total += len(content)
            if len(content) > info.file_size or total > limits.max_bytes:
                raise PayloadTooLarge(f"{info.filename}: unpacks to more than the archive says")
            files.append((info.filename, content))
    return _without_top_folder(files)


def _without_top_folder(files: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """A zip of a folder holds ``folder/...``: names are what is inside it."""
    tops = {PurePosixPath(name).parts[0] for name, _ in files}
    if len(tops) != 1 or any(len(PurePosixPath(name).parts) < 2 for name, _ in files):
        return files
    return [(str(PurePosixPath(*PurePosixPath(name).parts[1:])), content) for name, content in files]


def _wanted(path: str) -> bool:
    parts = PurePosixPath(path).parts
    return not any(part in IGNORED_PARTS or part.startswith(".") for part in parts)


def read_labelled_set(files: Iterable[tuple[str, bytes]], limits: SetLimits) -> list[LabelledDocument]:
    """The documents of a set, in name order, each with its truth and kind; any gap is an error
    naming the file (422), a document that is no document is the upload checks' own error."""
    documents: dict[str, tuple[str, bytes]] = {}
    truths: dict[str, tuple[str, bytes]] = {}
    labels: dict[str, str] = {}
    for path, content in files:
        name = safe_name(path)
        if PurePosixPath(name).name.lower() == LABELS_FILE:
            labels.update(_labels(content))
            continue
        stem, suffix = str(PurePosixPath(name).with_suffix("")), PurePosixPath(name).suffix.lower()
        target = truths if suffix in TRUTH_SUFFIXES else documents
        if stem in target:
            raise InvalidLabelledSet(f"two files for {stem!r}: {target[stem][0]} and {name}")
        target[stem] = (name, content)
    if not documents:
        raise InvalidLabelledSet("the set has no documents (images or PDFs, each with name.txt or name.md)")
    if len(documents) > limits.max_documents:
        raise PayloadTooLarge(f"the set has {len(documents)} documents; the limit is {limits.max_documents}")
    missing = sorted(documents[stem][0] for stem in documents if stem not in truths)
    if missing:
        raise InvalidLabelledSet(f"no ground truth (name.txt or name.md) for {', '.join(missing[:10])}")
    orphans = sorted(truths[stem][0] for stem in truths if stem not in documents)
    if orphans:
        raise InvalidLabelledSet(f"ground truth without a document: {', '.join(orphans[:10])}")
    unknown = sorted(name for name in labels if _stem(name) not in documents)
    if unknown:
        raise InvalidLabelledSet(f"{LABELS_FILE} names no document for {', '.join(unknown[:10])}")
    kinds = {_stem(name): kind for name, kind in labels.items()}
    return [
        LabelledDocument(
            name=stem,
            kind=kinds.get(stem, UNLABELLED),
            document=_document(*documents[stem], limits.upload),
            reference=_truth(*truths[stem], limits.upload),
        )
        for stem in sorted(documents)
    ]


def _stem(name: str) -> str:
    path = PurePosixPath(name.strip())
    return str(path.with_suffix("")) if path.suffix else str(path)


def _document(name: str, content: bytes, limits: UploadLimits) -> Document:
    try:
        return Document.from_upload(content, PurePosixPath(name).name, limits)
    except OCRError as exc:
        raise type(exc)(f"{name}: {exc.message}") from None


def _truth(name: str, content: bytes, limits: UploadLimits) -> str:
    if len(content) > limits.max_reference_bytes:
        raise PayloadTooLarge(f"{name} is {len(content)} bytes; a ground truth may have {limits.max_reference_bytes}")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidLabelledSet(f"{name} is not UTF-8 text") from None


def _labels(content: bytes) -> dict[str, str]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidLabelledSet(f"{LABELS_FILE} is not UTF-8 text") from None
    labels: dict[str, str] = {}
    for number, row in enumerate(csv.reader(io.StringIO(text)), 1):
        cells = [cell.strip() for cell in row]
        if not any(cells) or (number == 1 and [c.lower() for c in cells[:2]] == ["name", "kind"]):
            continue
        if len(cells) < 2 or not cells[0] or not cells[1]:
            raise InvalidLabelledSet(f"{LABELS_FILE} line {number}: want name,kind, got {','.join(row)!r}")
        labels[cells[0]] = cells[1]
    return labels
