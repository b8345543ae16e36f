"""Reading a labelled set: documents with their ground truth and kinds, from a zip or from files;
unsafe zip names, zip bombs, missing truths and bad labels are refused with a clear error."""

import io
import zipfile

import pytest

from orchestrator.labelled_set import SetLimits, read_archive, read_labelled_set
from orchestrator.sample_set import sample_files, sample_zip
from shared.errors import InvalidLabelledSet, PayloadTooLarge, UnsafeArchive, UnsupportedMediaType
from shared.uploads import UploadLimits
from tests.support.documents import text_image

LIMITS = SetLimits(UploadLimits(), max_documents=5)
PAGE = text_image(["x"], width=200)


def zipped(files, compression=zipfile.ZIP_DEFLATED):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in files:
            archive.writestr(name, data)
    return buffer.getvalue()


def test_documents_truths_and_labels():
    files = [
        ("a.png", PAGE),
        ("a.txt", b"alpha"),
        ("b.png", PAGE),
        ("b.md", "\ufeff# b\u00e9ta".encode()),
        ("labels.csv", b"name,kind\na.png,letter\n"),
    ]
    documents = read_labelled_set(files, LIMITS)
    assert [(d.name, d.kind, d.reference) for d in documents] == [
        ("a", "letter", "alpha"),
        ("b", "unlabelled", "# b\u00e9ta"),
    ]
    assert documents[0].document.fmt.kind == "image"


def test_a_zip_of_a_folder_reads_as_its_content():
    files = read_archive(zipped([("set/a.png", PAGE), ("set/a.txt", b"x"), ("__MACOSX/._a.png", b"junk")]), LIMITS)
    assert [name for name, _ in files] == ["a.png", "a.txt"]


def test_the_sample_set_reads_with_a_kind_each():
    documents = read_labelled_set(read_archive(sample_zip(), LIMITS), SetLimits(UploadLimits(), 10))
    assert {d.name: d.kind for d in documents} == {
        "letter": "letter",
        "receipt": "receipt",
        "table": "table",
        "two-columns": "two-column",
    }
    assert len(sample_files()) == 9 and "TOTAL 32.31" in documents[1].reference


@pytest.mark.parametrize("name", ["../evil.txt", "/etc/passwd", "a/../../b.png", "C:/x.png", "a\\..\\b.png"])
def test_path_traversal_is_refused(name):
    with pytest.raises(UnsafeArchive, match="outside"):
        read_archive(zipped([(name, b"x")]), LIMITS)


def test_not_a_zip():
    with pytest.raises(UnsafeArchive, match="not a readable zip"):
        read_archive(b"PK\x03\x04 not really", LIMITS)


def test_a_zip_bomb_is_refused_before_it_is_unpacked():
    bomb = zipped([("a.txt", b"\0" * (LIMITS.max_bytes + 1))])
    assert len(bomb) < 200_000
    with pytest.raises(PayloadTooLarge, match="unpacks to"):
        read_archive(bomb, LIMITS)


def test_too_many_files_and_documents():
    with pytest.raises(PayloadTooLarge, match="files"):
        read_archive(zipped([(f"{n}.txt", b"x") for n in range(LIMITS.max_files + 1)]), LIMITS)
    files = [item for n in range(6) for item in ((f"{n}.png", PAGE), (f"{n}.txt", b"x"))]
    with pytest.raises(PayloadTooLarge, match="documents"):
        read_labelled_set(files, LIMITS)


def test_a_document_without_truth_and_a_truth_without_document():
    with pytest.raises(InvalidLabelledSet, match=r"no ground truth .*a\.png"):
        read_labelled_set([("a.png", PAGE)], LIMITS)
    with pytest.raises(InvalidLabelledSet, match=r"without a document: b\.txt"):
        read_labelled_set([("a.png", PAGE), ("a.txt", b"x"), ("b.txt", b"y")], LIMITS)
    with pytest.raises(InvalidLabelledSet, match="no documents"):
        read_labelled_set([("labels.csv", b"")], LIMITS)


def test_bad_labels_and_truths():
    base = [("a.png", PAGE), ("a.txt", b"x")]
    with pytest.raises(InvalidLabelledSet, match="names no document for zzz"):
        read_labelled_set([*base, ("labels.csv", b"zzz,letter\n")], LIMITS)
    with pytest.raises(InvalidLabelledSet, match="line 1"):
        read_labelled_set([*base, ("labels.csv", b"a\n")], LIMITS)
    with pytest.raises(InvalidLabelledSet, match="not UTF-8"):
        read_labelled_set([("a.png", PAGE), ("a.txt", b"\xff\xfe\xfa")], LIMITS)
    with pytest.raises(InvalidLabelledSet, match="two files"):
        read_labelled_set([*base, ("a.md", b"y")], LIMITS)


def test_a_file_that_is_no_document_names_itself():
    with pytest.raises(UnsupportedMediaType, match=r"^a\.doc: "):
        read_labelled_set([("a.doc", b"not a document at all"), ("a.txt", b"x")], LIMITS)
