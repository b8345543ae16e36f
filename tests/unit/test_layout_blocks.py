"""The layout stage's logic on hand-made lines and regions: blocks, their order, tables, rows kept whole."""

from shared.layout import CAPTION, FIGURE, FOOTER, HEADER, TABLE, TEXT, TITLE, Region, clean_regions
from shared.layout_blocks import page_blocks
from shared.line_markdown import blocks_to_markdown
from shared.reading_order import Line, group_paragraphs, reading_order, row_linked
from shared.table import cluster_table, table_markdown

H = 20  # line height


def line(text: str, x: float, y: float, width: float = 300, height: float = H) -> Line[str]:
    return Line(x, y, x + width, y + height, text)


def region(kind: str, x1: float, y1: float, x2: float, y2: float, score: float = 0.9) -> Region:
    return Region(kind, x1, y1, x2, y2, score)


def texts(lines):
    return [line.item for line in lines]


def block_texts(blocks):
    return [texts(block.lines) for block in blocks]


# --- regions


def test_one_region_per_place_the_more_specific_type_wins():
    text = region(TEXT, 100, 100, 500, 400, 0.99)
    table = region(TABLE, 105, 98, 495, 410, 0.6)
    caption_inside = region(CAPTION, 120, 110, 200, 130, 0.9)
    apart = region(TEXT, 100, 500, 500, 600, 0.8)
    assert clean_regions([text, caption_inside, apart, table]) == [table, apart]


# --- rows of a receipt or a form against columns of text


def test_label_and_amount_far_apart_are_one_row():
    labels = [line(name, 50, 50 + i * 30, width=120) for i, name in enumerate(["Coffee", "Bagel", "Total"])]
    amounts = [line(price, 600, 52 + i * 30, width=60) for i, price in enumerate(["3.50", "2.20", "5.70"])]
    assert row_linked(labels, amounts, H)
    assert texts(reading_order(amounts + labels)) == ["Coffee", "3.50", "Bagel", "2.20", "Total", "5.70"]
    markdown = blocks_to_markdown(page_blocks(labels + amounts, []), str)
    assert markdown == "Coffee 3.50\nBagel 2.20\nTotal 5.70"


def test_two_columns_of_text_on_shared_baselines_stay_columns():
    left = [line(f"L{i}", 50, 50 + i * 26, width=400) for i in range(4)]
    right = [line(f"R{i}", 500, 50 + i * 26, width=400) for i in range(4)]
    assert not row_linked(left, right, H)
    assert texts(reading_order(right + left)) == ["L0", "L1", "L2", "L3", "R0", "R1", "R2", "R3"]


def test_row_linked_needs_pairs():
    left = [line(f"L{i}", 50, 50 + i * 60, width=100) for i in range(4)]
    right = [line(f"R{i}", 600, 80 + i * 60, width=60) for i in range(4)]  # between the rows
    assert not row_linked(left, right, H)


def test_side_by_side_blocks_of_a_receipt_merge_into_rows():
    labels = [line(name, 50, 100 + i * 30, width=120) for i, name in enumerate(["Tea", "Cake", "Total"])]
    amounts = [line(price, 600, 101 + i * 30, width=60) for i, price in enumerate(["1.80", "3.10", "4.90"])]
    regions = [region(TEXT, 40, 90, 200, 200), region(TEXT, 590, 90, 680, 200)]
    blocks = page_blocks(labels + amounts, regions)
    assert block_texts(blocks) == [["Tea", "1.80", "Cake", "3.10", "Total", "4.90"]]


# --- blocks in reading order


def test_columns_of_blocks_read_column_by_column_header_first_footer_last():
    header = line("Running header", 50, 10, width=200)
    title = line("Title", 50, 60, width=700, height=40)
    left = [line(f"L{i}", 50, 130 + i * 26) for i in range(6)]
    right = [line(f"R{i}", 420, 130 + i * 26) for i in range(6)]
    footer = line("Page 3", 360, 500, width=60)
    regions = [
        region(FOOTER, 355, 502, 415, 518),  # the model's box of a one-line region is often too small
        region(TEXT, 45, 125, 360, 290),
        region(TEXT, 415, 125, 730, 290),
        region(TITLE, 45, 55, 760, 105),
        region(HEADER, 45, 5, 260, 35),
    ]
    lines = [footer, *right, title, *left, header]
    blocks = page_blocks(lines, regions)
    assert [b.type for b in blocks] == [HEADER, TITLE, TEXT, TEXT, FOOTER]
    assert block_texts(blocks) == [["Running header"], ["Title"], texts(left), texts(right), ["Page 3"]]
    assert blocks_to_markdown(blocks, str).startswith("Running header\n\n# Title\n\nL0\nL1")


def test_a_region_over_two_columns_still_reads_them_in_turn():
    left = [line(f"L{i}", 50, 100 + i * 26) for i in range(4)]
    right = [line(f"R{i}", 420, 100 + i * 26) for i in range(4)]
    blocks = page_blocks(right + left, [region(TEXT, 40, 90, 730, 210)])
    assert [line for b in blocks for line in texts(b.lines)] == texts(left) + texts(right)


def test_caption_goes_with_its_figure_and_lines_outside_regions_are_paragraphs():
    intro = [line("intro a", 50, 50), line("intro b", 50, 76)]
    caption = line("Figure 1: results", 60, 430, width=200)
    after = [line("after a", 50, 520), line("after b", 50, 546)]
    regions = [region(CAPTION, 55, 425, 265, 455), region(FIGURE, 50, 120, 600, 410)]
    blocks = page_blocks(after + [caption] + intro, regions)
    assert [b.type for b in blocks] == [TEXT, FIGURE, CAPTION, TEXT]
    assert blocks[1].lines == [] and blocks[1].box == (50, 120, 600, 410)
    assert block_texts(blocks) == [["intro a", "intro b"], [], ["Figure 1: results"], ["after a", "after b"]]


def test_caption_above_a_table_comes_before_it():
    caption = line("Table 2: prices", 50, 50, width=200)
    cells = [
        line(t, x, 100 + r * 30, width=80)
        for r, row in enumerate([["a", "1"], ["b", "2"]])
        for t, x in zip(row, (50, 400), strict=True)
    ]
    body = line("Text below the table.", 50, 300, width=400)
    regions = [region(TABLE, 45, 95, 490, 160), region(CAPTION, 45, 45, 260, 75)]
    blocks = page_blocks([body, *cells, caption], regions)
    assert [b.type for b in blocks] == [CAPTION, TABLE, TEXT]


def test_titles_are_headings_the_tallest_first_level():
    big = line("Report", 50, 20, height=50)
    small = line("Section one", 50, 120, height=30)
    body = line("# Body text", 50, 200)
    regions = [region(TITLE, 45, 15, 360, 75), region(TITLE, 45, 115, 360, 155), region(TEXT, 45, 195, 360, 225)]
    markdown = blocks_to_markdown(page_blocks([body, small, big], regions), str)
    assert markdown == "# Report\n\n## Section one\n\n\\# Body text"


def test_no_lines_no_regions():
    assert page_blocks([], []) == []


def test_paragraph_rows_of_label_and_value_stay_one_paragraph():
    rows = [(line("Name:", 50, 50 + i * 30, width=80), line("value", 600, 50 + i * 30, width=80)) for i in range(3)]
    paragraphs = group_paragraphs([piece for row in rows for piece in row])
    assert len(paragraphs) == 1


# --- tables


def grid(rows, lefts=(50, 300, 500), top=100, pitch=40):
    return [
        line(text, x, top + r * pitch, width=8 * len(text))
        for r, row in enumerate(rows)
        for text, x in zip(row, lefts, strict=True)
    ]


def test_table_cells_row_major_whatever_the_input_order():
    rows = [["Item", "Qty", "Price"], ["Tea", "2", "1.80"], ["Cake", "1", "3.10"]]
    boxes = grid(rows)
    table = cluster_table(list(reversed(boxes)))
    assert (table.rows, table.columns) == (3, 3)
    assert texts(table.boxes()) == [text for row in rows for text in row]
    assert (
        table_markdown(table, str) == "| Item | Qty | Price |\n|---|---|---|\n| Tea | 2 | 1.80 |\n| Cake | 1 | 3.10 |"
    )


def test_right_aligned_numbers_and_an_empty_cell():
    boxes = [
        line("Name", 50, 100, width=80), line("Amount", 400, 100, width=100),
        line("Rent", 50, 140, width=60), line("1,200.00", 420, 140, width=80),
        line("Note", 50, 180, width=60),
        line("Fees", 50, 220, width=60), line("15.00", 450, 220, width=50),
    ]  # fmt: skip
    table = cluster_table(boxes)
    assert table.columns == 2
    assert table_markdown(table, str).splitlines()[3] == "| Note |  |"


def test_words_of_one_cell_join_and_a_spanning_cell_makes_html():
    boxes = [
        line("Unit", 50, 100, width=40), line("price", 96, 100, width=50), line("Total", 400, 100, width=50),
        line("3.00", 50, 140, width=40), line("9.00", 400, 140, width=40),
        line("Prices include VAT at twenty percent", 50, 180, width=420),
    ]  # fmt: skip
    table = cluster_table(boxes)
    markdown = table_markdown(table, str)
    assert markdown.startswith("<table><tr><td>Unit price</td><td>Total</td></tr>")
    assert '<td colspan="2">Prices include VAT at twenty percent</td>' in markdown


def test_a_pipe_in_a_cell_is_escaped():
    table = cluster_table(grid([["a|b", "c"], ["d", "e"]], lefts=(50, 400)))
    assert table_markdown(table, str).splitlines()[0] == "| a\\|b | c |"


def test_a_table_region_with_one_column_reads_as_text():
    boxes = [line(f"row {i}", 50, 100 + i * 30) for i in range(3)]
    blocks = page_blocks(boxes, [region(TABLE, 40, 90, 400, 200)])
    assert [b.type for b in blocks] == [TEXT] and texts(blocks[0].lines) == ["row 0", "row 1", "row 2"]
