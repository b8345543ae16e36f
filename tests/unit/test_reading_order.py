"""Reading order and paragraph grouping for bare text lines."""

from shared.line_markdown import escape_line_start, paragraphs_to_markdown
from shared.reading_order import Line, group_paragraphs, reading_order

H = 20  # line height


def line(text: str, x: float, y: float, width: float = 300) -> Line[str]:
    return Line(x, y, x + width, y + H, text)


def texts(lines):
    return [line.item for line in lines]


def test_single_column_top_to_bottom_whatever_the_input_order():
    lines = [line("c", 50, 100), line("a", 50, 50), line("b", 50, 75)]
    assert texts(reading_order(lines)) == ["a", "b", "c"]


def test_two_columns_with_aligned_rows_read_column_by_column():
    rows = [50 + i * 26 for i in range(4)]
    left = [line(f"L{i}", 50, y) for i, y in enumerate(rows)]
    right = [line(f"R{i}", 450, y) for i, y in enumerate(rows)]
    shuffled = [right[2], left[3], right[0], left[1], left[0], right[3], left[2], right[1]]
    assert texts(reading_order(shuffled)) == ["L0", "L1", "L2", "L3", "R0", "R1", "R2", "R3"]


def test_title_spanning_columns_comes_first():
    title = line("Title", 50, 10, width=700)
    left = [line(f"L{i}", 50, 60 + i * 26) for i in range(3)]
    right = [line(f"R{i}", 450, 60 + i * 26) for i in range(3)]
    assert texts(reading_order(right + left + [title])) == ["Title", "L0", "L1", "L2", "R0", "R1", "R2"]


def test_words_on_one_row_read_left_to_right():
    lines = [line("world", 200, 52, width=100), line("Hello", 50, 50, width=100)]
    assert texts(reading_order(lines)) == ["Hello", "world"]


def test_paragraphs_split_at_large_gaps():
    first = [line("p1 a", 50, 50), line("p1 b", 50, 76)]
    second = [line("p2 a", 50, 160), line("p2 b", 50, 186)]
    paragraphs = group_paragraphs(second + first)
    assert [texts(p) for p in paragraphs] == [["p1 a", "p1 b"], ["p2 a", "p2 b"]]


def test_paragraphs_do_not_join_across_columns():
    left = [line("L0", 50, 50), line("L1", 50, 76)]
    right = [line("R0", 450, 50), line("R1", 450, 76)]
    assert [texts(p) for p in group_paragraphs(left + right)] == [["L0", "L1"], ["R0", "R1"]]


def test_heading_of_other_size_is_its_own_paragraph():
    heading = Line(50, 10, 400, 50, "Big heading")  # twice the body height
    body = [line("body a", 50, 56), line("body b", 50, 82)]
    assert [texts(p) for p in group_paragraphs(body + [heading])] == [["Big heading"], ["body a", "body b"]]


def test_markdown_rows_and_paragraphs():
    lines = [
        line("Hello", 50, 50, 100),
        line("world", 160, 51, 100),
        line("next row", 50, 76),
        line("# not a heading", 50, 200),
    ]
    markdown = paragraphs_to_markdown(group_paragraphs(lines), str)
    assert markdown == "Hello world\nnext row\n\n\\# not a heading"


def test_empty():
    assert reading_order([]) == [] and group_paragraphs([]) == []


def test_escape_line_start():
    assert escape_line_start("- item") == "\\- item"
    assert escape_line_start("12. point") == "12\\. point"
    assert escape_line_start("> quote") == "\\> quote"
    assert escape_line_start("Total - 5") == "Total - 5"
    assert escape_line_start("3.14 is pi") == "3.14 is pi"


def test_a_tall_page_of_many_evenly_spaced_rows_is_ordered_without_recursion():
    """One cut per row: about 500 rows overflowed the recursion limit (a 500 on a tall tesseract page)."""
    rows = [Line(10, 60 * i, 200, 60 * i + 20, i) for i in range(3000)]
    assert [line.item for line in reading_order(list(reversed(rows)))] == list(range(3000))
