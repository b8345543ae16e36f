"""The web client end to end: real browser, real orchestrator, real OCR. Each test saves a
screenshot of its view under test-artifacts/browser/."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import BrowserPage, browser_page
from tests.support.documents import bomb_png, text_image, text_pdf
from tests.support.preset_backend import APP as PRESET_APP
from tests.support.processes import REPO_ROOT, UNREACHABLE_URL, start_backend, start_orchestrator, wait_healthy

pytestmark = [pytest.mark.integration, pytest.mark.browser]

INVOICE = ["Invoice 2026-0417 for three units", "Total due 127.50 EUR"]
XSS_TEXT = "<img src=x onerror=alert(1)>"
RECEIPT = ["Coffee $3.50", "Bagel $2.25", "Tax 8.5% $0.49", "Total $6.24 (15% off)", "<b>Thank you</b>"]


def choose_file(page, tmp_path, name: str, data: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    page.get_by_test_id("file-input").set_input_files(str(path))
    expect(page.get_by_test_id("chosen-file")).to_contain_text(name)


def is_ocr_post(response, path: str) -> bool:
    return response.request.method == "POST" and response.url.endswith(path)


def run_job(page, button: str = "run", path: str = "/jobs") -> dict:
    """Click Run (every run of the page is a job): the job it started, once final, as the server
    keeps it (its pages per backend at the top level, its result without them)."""
    with page.expect_response(lambda r: is_ocr_post(r, path)) as answer:
        page.get_by_test_id(button).click()
    assert answer.value.status == 202, answer.value.text()
    accepted = answer.value.json()
    expect(page.get_by_test_id("job-status")).to_have_text(re.compile(r"job (succeeded|failed|cancelled)"))
    job = page.request.get(accepted["status_url"]).json()
    assert job["status"] == "succeeded", job
    return job


def test_page_is_served_with_its_assets_and_a_strict_policy(web_system):
    page = requests.get(web_system.url + "/", timeout=10)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "object-src 'none'" in policy
    for asset in re.findall(r'(?:src|href)="(/assets/[^"]+)"', page.text):
        answer = requests.get(web_system.url + asset, timeout=10)
        assert answer.status_code == 200, asset
        assert "immutable" in answer.headers["Cache-Control"]
    assert requests.get(web_system.url + "/no-such-page", timeout=10).json()["success"] is False
    icon = requests.get(web_system.url + "/favicon.ico", timeout=10)
    assert icon.status_code == 200 and icon.content[:4] == b"\x00\x00\x01\x00"  # an ICO file


def test_a_file_can_be_dropped_or_pasted(web):
    page = web.page
    page.goto("/")
    make_file = """([name, data]) => {
        const transfer = new DataTransfer();
        transfer.items.add(new File([new Uint8Array(data)], name, {type: 'application/pdf'}));
        return transfer;
    }"""
    dropped = page.evaluate_handle(make_file, ["dropped.pdf", list(b"%PDF-1.7 not a real one")])
    page.get_by_test_id("drop-zone").dispatch_event("drop", {"dataTransfer": dropped})
    expect(page.get_by_test_id("chosen-file")).to_contain_text("dropped.pdf · PDF")
    # The type is told from the content: a PNG named and typed as a PDF is an image.
    pasted = page.evaluate_handle(make_file, ["pasted.png", list(text_image(["pasted"]))])
    page.evaluate("t => window.dispatchEvent(new ClipboardEvent('paste', {clipboardData: t}))", pasted)
    expect(page.get_by_test_id("chosen-file")).to_contain_text("pasted.png · image (PNG)")
    expect(page.get_by_test_id("options")).not_to_contain_text("Pages")  # PDF options only for PDFs


def test_checks_before_upload_type_by_content_size_by_the_published_limit_and_no_text_found(web, web_system, tmp_path):
    page = web.page
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if r.method == "POST" else None)
    page.goto("/")
    expect(page.get_by_test_id("backend-select")).to_have_value("rapidocr")
    limits = requests.get(web_system.url + "/health", timeout=10).json()["limits"]

    # A text file is not an image, whatever it is called: said at once, never sent.
    choose_file(page, tmp_path, "notes.png", b"Shopping list: milk, eggs\n")
    expect(page.get_by_test_id("chosen-file")).to_contain_text("not an image or PDF")
    expect(page.get_by_test_id("file-problem")).to_contain_text("not an image or a PDF the server reads")
    expect(page.get_by_test_id("run")).to_be_disabled()
    expect(page.locator("img.preview")).to_have_count(0)
    web.screenshot("check-not-an-image")

    # One byte over the server's limit: said before any upload.
    big = tmp_path / "huge.png"
    with big.open("wb") as out:
        out.write(text_image(["big"]))
        out.truncate(limits["max_bytes"] + 1)
    page.get_by_test_id("file-input").set_input_files(str(big))
    expect(page.get_by_test_id("file-problem")).to_contain_text(
        f"this server takes files up to {limits['max_bytes'] / 1024 / 1024:.1f} MiB"
    )
    expect(page.get_by_test_id("run")).to_be_disabled()
    web.screenshot("check-too-large")

    # A decompression bomb: told by its header (nothing decoded in the page), never sent.
    choose_file(page, tmp_path, "bomb.png", bomb_png())
    expect(page.get_by_test_id("file-problem")).to_contain_text(
        f"this server takes images up to {limits['max_pixels']:,} pixels"
    )
    expect(page.get_by_test_id("run")).to_be_disabled()
    expect(page.locator("img.preview")).to_have_count(0)
    web.screenshot("check-too-many-pixels")

    # A 1x1 image: read, and "no text found".
    dot = io.BytesIO()
    Image.new("RGB", (1, 1), "white").save(dot, format="PNG")
    choose_file(page, tmp_path, "dot.png", dot.getvalue())
    expect(page.get_by_test_id("file-problem")).to_have_count(0)
    job = run_job(page)
    assert not job["result"]["markdown"].strip()
    expect(page.get_by_test_id("no-text")).to_have_text("No text found.")
    assert [url for url in sent if "/jobs" in url] == [web_system.url + "/jobs"]  # nothing was sent before
    web.screenshot("check-no-text-found")
    assert not web.errors


def test_single_run_renders_the_text_and_draws_one_box_per_block(web, tmp_path):
    page = web.page
    page.goto("/")
    select = page.get_by_test_id("backend-select")
    expect(select).to_have_value("rapidocr")
    # The backend that is down is listed with its light, but cannot be chosen.
    expect(select.locator("option[value=mineru]")).to_be_disabled()
    expect(page.get_by_test_id("health-list").get_by_test_id("light-mineru")).to_have_class(
        re.compile("light-unreachable")
    )
    expect(page.get_by_test_id("health-list").get_by_test_id("light-rapidocr")).to_have_class(
        re.compile("light-healthy")
    )

    choose_file(page, tmp_path, "invoice.png", text_image(INVOICE))
    job = run_job(page)
    body = {**job["result"], "pages": job["pages"]["rapidocr"]}
    rendered = page.get_by_test_id("rendered-markdown")
    expect(rendered).to_contain_text("Invoice 2026-0417")
    expect(rendered).to_contain_text("127.50")
    expect(page.get_by_test_id("time-rapidocr")).to_have_text(re.compile(r"\d+\.\d\d s"))

    expect(page.get_by_test_id("result-name-rapidocr")).to_have_text(f"rapidocr · {body['model']}")

    blocks = body["pages"][0]["blocks"]
    boxes = page.get_by_test_id("boxes-rapidocr").get_by_test_id("box")
    expect(boxes).to_have_count(len(blocks))
    assert len(blocks) >= 2
    # Hover text: each box's title is its block's text.
    titles = boxes.locator("title").all_text_contents()
    assert [title.split(": ", 1)[1] for title in titles] == [block["text"] for block in blocks]
    web.screenshot("single-run")

    # Copy and download the markdown.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Copy markdown").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == body["markdown"]
    with page.expect_download() as download:
        page.get_by_role("button", name="Download .md").click()
    assert download.value.suggested_filename == "invoice.rapidocr.md"
    assert Path(download.value.path()).read_text(encoding="utf-8") == body["markdown"]

    page.get_by_test_id("toggle-boxes").uncheck()
    expect(page.get_by_test_id("box")).to_have_count(0)
    page.get_by_role("tab", name="JSON").click()
    expect(page.get_by_test_id("tab-json")).to_contain_text('"backend": "rapidocr"')
    page.get_by_role("tab", name="Markdown").click()
    expect(page.get_by_test_id("tab-markdown")).to_contain_text("Total due")
    assert not web.errors


def test_a_receipt_reads_as_written_amounts_percentages_lines_and_markup(web, tmp_path):
    """Text from a line-OCR engine is text: ``$`` opens no formula, ``%`` stays, every OCR'd line keeps
    its own line, and a ``<b>`` on the paper is shown as those characters."""
    page = web.page
    page.goto("/")
    choose_file(page, tmp_path, "receipt.png", text_image(RECEIPT, font_size=56))
    body = run_job(page)["result"]
    # As read, without the markdown the backend adds (a heading's "#", escapes at line starts).
    lines = [line.strip() for line in body["markdown"].splitlines() if line.strip()]
    read = [re.sub(r"^#+ ", "", line).replace("\\", "") for line in lines]
    assert len(read) == len(RECEIPT), read
    assert sum(line.count("$") for line in read) >= 4 and sum(line.count("%") for line in read) >= 2, read
    rendered = page.get_by_test_id("rendered-markdown")
    expect(rendered).to_contain_text(read[0])
    expect(page.locator(".katex, math")).to_have_count(0)
    expect(rendered.locator("b")).to_have_count(0)
    shown = [line.strip() for line in rendered.inner_text().splitlines() if line.strip()]
    assert shown == read  # one line each, as read
    assert "<b>" in rendered.inner_text()
    web.screenshot("receipt-as-written")
    assert not web.errors


def page_background(page) -> tuple[int, ...]:
    colour = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
    return tuple(int(part) for part in re.findall(r"\d+", colour)[:3])


def is_dark(rgb: tuple[int, ...]) -> bool:
    return sum(rgb) < 3 * 80


def test_at_390_px_the_panes_stack_nothing_scrolls_sideways_and_dark_mode_follows_the_system(web, tmp_path):
    page = web.page
    page.set_viewport_size({"width": 390, "height": 844})
    page.emulate_media(color_scheme="dark")
    page.goto("/#compare")
    expect(page.get_by_test_id("pick-tesseract")).to_be_checked()
    choose_file(page, tmp_path, "invoice.png", text_image(INVOICE))
    page.get_by_test_id("run-compare").click()
    for name in ("rapidocr", "tesseract"):
        expect(page.get_by_test_id(f"pane-{name}").get_by_test_id("rendered-markdown")).to_contain_text("Total due")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    left, right = (page.get_by_test_id(f"pane-{name}").bounding_box() for name in ("rapidocr", "tesseract"))
    assert left and right and right["y"] >= left["y"] + left["height"] - 1, (left, right)  # one under the other
    assert left["width"] > 300 and abs(left["x"] - right["x"]) < 1
    assert is_dark(page_background(page))
    web.screenshot("phone-390-compare-dark")

    page.goto("/")
    expect(page.get_by_test_id("backend-select")).to_have_value("rapidocr")
    choose_file(page, tmp_path, "invoice.png", text_image(INVOICE))
    page.get_by_test_id("run").click()
    expect(page.get_by_test_id("rendered-markdown")).to_contain_text("Total due")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    web.screenshot("phone-390-single-dark")
    assert not web.errors


def test_the_theme_toggle_overrides_the_system_and_is_kept(web, tmp_path):
    page = web.page
    page.emulate_media(color_scheme="light")
    page.goto("/")
    assert not is_dark(page_background(page))
    toggle = page.get_by_test_id("theme-toggle")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    assert is_dark(page_background(page))
    page.reload()
    expect(page.get_by_test_id("theme-toggle")).to_have_attribute("aria-pressed", "true")
    assert is_dark(page_background(page))
    choose_file(page, tmp_path, "receipt.png", text_image(RECEIPT, font_size=56))
    page.get_by_test_id("run").click()
    expect(page.get_by_test_id("rendered-markdown")).to_contain_text("Thank you")
    web.screenshot("dark-mode-single-run")
    page.get_by_test_id("theme-toggle").click()
    assert not is_dark(page_background(page))
    assert not web.errors


def test_title_announcements_keyboard_tabs_focus_and_a_cancel(web, tmp_path):
    page = web.page
    page.goto("/")
    expect(page).to_have_title("OCR service")
    choose_file(page, tmp_path, "invoice.png", text_image(INVOICE))
    expect(page).to_have_title("invoice.png · ready — OCR service")
    run = page.get_by_test_id("run")
    expect(run).to_be_enabled()
    run.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("rendered-markdown")).to_contain_text("Total due")
    expect(page).to_have_title("invoice.png · done — OCR service")
    live = page.get_by_test_id("live-status")
    expect(live).to_have_attribute("aria-live", "polite")
    expect(live).to_have_text("Result from rapidocr ready: 1 page.")
    expect(run).to_be_focused()  # the button kept the focus through the run

    rendered_tab = page.get_by_role("tab", name="Rendered")
    rendered_tab.focus()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("tab", name="Markdown")).to_be_focused()
    expect(page.get_by_role("tab", name="Markdown")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_test_id("tab-markdown")).to_contain_text("Total due")
    page.keyboard.press("End")
    expect(page.get_by_role("tab", name="JSON")).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("tab", name="Rendered")).to_have_attribute("aria-selected", "true")

    # A cancel: a note, not a red error. A long PDF keeps rapidocr busy long enough to cancel.
    pages = [[f"Slow page {n}."] * 12 for n in range(1, 31)]
    choose_file(page, tmp_path, "long.pdf", text_pdf(pages))
    page.get_by_test_id("run").click()
    page.get_by_test_id("cancel").click()
    expect(page.get_by_test_id("stopped")).to_contain_text("Cancelled")
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page).to_have_title("long.pdf · stopped — OCR service")
    expect(live).to_have_text("Job cancelled.")
    web.screenshot("job-cancelled")
    assert not web.errors


def test_state_a_new_file_clears_a_refused_job_leaves_no_status_and_an_unreachable_service_greys_out(web, tmp_path):
    page = web.page
    page.goto("/")
    expect(page.get_by_test_id("backend-select")).to_have_value("rapidocr")
    choose_file(page, tmp_path, "invoice.png", text_image(INVOICE))
    page.get_by_test_id("run").click()
    expect(page.get_by_test_id("rendered-markdown")).to_contain_text("Total due")
    # A new file: the old result is not drawn over it.
    choose_file(page, tmp_path, "two.pdf", text_pdf([["One."], ["Two."]]))
    expect(page.get_by_test_id("rendered-markdown")).to_have_count(0)
    expect(page.get_by_test_id("page-view")).to_have_count(0)

    # A job refused at the door (here: the server is full): its error, and no "job queued" beside it.
    refusal = {
        "success": False,
        "backend": "rapidocr",
        "error": {"code": "queue_full", "message": "the job queue is full", "retryable": True},
        "request_id": "r",
    }
    page.route("**/jobs", lambda route: route.fulfill(status=503, json=refusal))
    page.get_by_test_id("run").click()
    expect(page.get_by_test_id("error-rapidocr")).to_contain_text("queue_full")
    expect(page.get_by_test_id("job-status")).to_have_count(0)
    expect(page.get_by_test_id("run")).to_have_text("Run OCR")
    page.unroute("**/jobs")

    # The orchestrator stops answering: said, lights grey, the work area out of reach; then back.
    page.route("**/backends", lambda route: route.abort())
    expect(page.get_by_test_id("service-error")).to_contain_text("The OCR service does not answer")
    expect(page.get_by_test_id("health-list").get_by_test_id("light-rapidocr")).to_have_class(
        re.compile("light-unknown")
    )
    expect(page.get_by_test_id("work")).to_have_attribute("inert", "")
    web.screenshot("state-service-unreachable")
    page.unroute("**/backends")
    expect(page.get_by_test_id("service-error")).to_have_count(0)
    expect(page.get_by_test_id("health-list").get_by_test_id("light-rapidocr")).to_have_class(
        re.compile("light-healthy")
    )
    expect(page.get_by_test_id("work")).not_to_have_attribute("inert", "")
    assert not web.errors


def test_comparison_with_a_backend_that_is_down_shows_one_result_and_one_error(web, tmp_path):
    page = web.page
    page.goto("/#compare")
    expect(page.get_by_test_id("pick-rapidocr")).to_be_checked()
    page.get_by_test_id("pick-tesseract").uncheck()
    page.get_by_test_id("pick-mineru").check()
    choose_file(page, tmp_path, "invoice.png", text_image(INVOICE))
    page.get_by_test_id("reference").fill("\n".join(INVOICE))
    page.get_by_test_id("run-compare").click()

    expect(page.get_by_test_id("pane-rapidocr").get_by_test_id("rendered-markdown")).to_contain_text(
        "Invoice 2026-0417"
    )
    error = page.get_by_test_id("pane-mineru").get_by_role("alert")
    expect(error).to_contain_text("mineru")
    expect(error).to_contain_text("backend_unavailable")
    # Refused at once: either the connection failed now, or the health monitor already marked it down.
    expect(error).to_contain_text(re.compile(r"not reachable|is down"))
    expect(page.get_by_test_id("pane-mineru").get_by_test_id("rendered-markdown")).to_have_count(0)
    expect(page.get_by_test_id("cer-rapidocr")).to_have_text(re.compile(r"\d+\.\d %"))
    expect(page.get_by_test_id("cer-mineru")).to_have_text("—")
    expect(page.get_by_test_id("boxes-rapidocr").get_by_test_id("box").first).to_be_attached()
    expect(page.get_by_test_id("boxes-mineru")).to_have_count(0)
    web.screenshot("compare-down-backend")
    assert not web.errors


def test_comparison_of_two_backends_colours_their_boxes_and_scrolls_together(web, tmp_path):
    page = web.page
    page.goto("/#compare")
    expect(page.get_by_test_id("pick-tesseract")).to_be_checked()
    # Blank rows between lines: every line its own paragraph, so the panes overflow.
    lines = [row for n in range(1, 31) for row in (f"Line {n} of the long page reads {n * 7} units", "")]
    choose_file(page, tmp_path, "long.png", text_image(lines, font_size=32))
    job = run_job(page, "run-compare", "/jobs/compare")
    body = job["result"]
    for name in ("rapidocr", "tesseract"):
        expect(page.get_by_test_id(f"pane-{name}").get_by_test_id("rendered-markdown")).to_contain_text("Line 30")
        count = len(job["pages"][name][0]["blocks"])
        expect(page.get_by_test_id(f"boxes-{name}").get_by_test_id("box")).to_have_count(count)
    colours = {
        name: page.get_by_test_id(f"boxes-{name}").get_by_test_id("box").first.get_attribute("stroke")
        for name in ("rapidocr", "tesseract")
    }
    assert colours["rapidocr"] != colours["tesseract"]
    agreement = body["agreement"][0]["agreement"]
    expect(page.get_by_test_id("agreement")).to_contain_text(f"{agreement * 100:.1f} %")

    left, right = page.get_by_test_id("pane-body-rapidocr"), page.get_by_test_id("pane-body-tesseract")
    assert left.evaluate("el => el.scrollHeight > el.clientHeight"), "the pane should overflow to test scrolling"
    left.evaluate("el => { el.scrollTop = el.scrollHeight; el.dispatchEvent(new Event('scroll')); }")
    page.wait_for_function("el => el.scrollTop > 0", arg=right.element_handle())
    # By block, not by fraction: line 6 at the top of one pane brings line 6 to the top of the other
    # (rapidocr writes the first line as a heading, so the panes' heights differ).
    top_text = """el => {
        const top = el.getBoundingClientRect().top;
        const first = [...el.querySelectorAll('[data-page] p')].find((p) => p.getBoundingClientRect().bottom > top + 1);
        return first ? first.textContent : null;
    }"""
    left.evaluate("""el => {
        const line = [...el.querySelectorAll('[data-page] p')].find((p) => p.textContent.includes('Line 6 '));
        el.scrollTop += line.getBoundingClientRect().top - el.getBoundingClientRect().top;
        el.dispatchEvent(new Event('scroll'));
    }""")
    assert "Line 6 " in (left.evaluate(top_text) or "")
    page.wait_for_function(f"el => ({top_text})(el)?.includes('Line 6 ')", arg=right.element_handle())
    offset = right.evaluate("""el => {
        const line = [...el.querySelectorAll('[data-page] p')].find((p) => p.textContent.includes('Line 6 '));
        return line.getBoundingClientRect().top - el.getBoundingClientRect().top;
    }""")
    assert abs(offset) < 3, offset  # its top exactly at the pane's top, as in the pane scrolled
    web.screenshot("compare-two-backends")
    assert not web.errors


def colours_of(page, names) -> dict[str, tuple[str | None, str | None]]:
    """Each backend's pane swatch colour and its first box's stroke."""
    return {
        name: (
            page.get_by_test_id(f"swatch-{name}").evaluate("el => el.style.background"),
            page.get_by_test_id(f"boxes-{name}").get_by_test_id("box").first.get_attribute("stroke"),
        )
        for name in names
    }


def test_comparison_colours_follow_the_name_one_time_each_sticky_toolbars_and_a_table_to_copy(web, tmp_path):
    page = web.page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto("/#compare")
    expect(page.get_by_test_id("pick-tesseract")).to_be_checked()
    lines = [row for n in range(1, 31) for row in (f"Entry {n} costs {n * 3} units", "")]
    image = text_image(lines, font_size=32)
    choose_file(page, tmp_path, "ledger.png", image)
    page.get_by_test_id("reference").fill("\n".join(line for line in lines if line))
    page.get_by_test_id("run-compare").click()
    for name in ("rapidocr", "tesseract"):
        expect(page.get_by_test_id(f"pane-{name}").get_by_test_id("rendered-markdown")).to_contain_text("Entry 30")
    first = colours_of(page, ["rapidocr", "tesseract"])
    assert first["rapidocr"][0] != first["tesseract"][0]
    for name, (swatch, stroke) in first.items():
        assert stroke and swatch, name
    # One time per backend, in the pane's head only.
    for name in ("rapidocr", "tesseract"):
        expect(page.get_by_test_id(f"pane-{name}").get_by_test_id(f"time-{name}")).to_have_count(1)
        expect(page.get_by_test_id(f"time-{name}")).to_have_text(re.compile(r"^\d+\.\d\d s$"))

    # The table: copied as tab-separated text.
    page.get_by_test_id("copy-scores").click()
    expect(page.get_by_test_id("copy-scores")).to_have_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()").splitlines()
    assert copied[0].split("\t") == ["backend", "time", "result", "CER", "WER", "agreement"]
    rows = {row.split("\t")[0]: row.split("\t") for row in copied[1:]}
    assert set(rows) == {"rapidocr", "tesseract"} and rows["rapidocr"][2] == "ok"
    assert re.fullmatch(r"\d+\.\d %", rows["tesseract"][3]) and re.fullmatch(r"\d+\.\d %", rows["rapidocr"][5])

    # Sticky: scrolled to the end of its text, a pane's toolbar is still at the top of the pane.
    body = page.get_by_test_id("pane-body-rapidocr")
    body.evaluate("el => { el.scrollTop = el.scrollHeight; }")
    bar = page.get_by_test_id("pane-rapidocr").locator(".result-bar")
    page.wait_for_function("el => el.scrollTop > 0", arg=body.element_handle())
    bar_box, body_box = bar.bounding_box(), body.bounding_box()
    assert bar_box and body_box and body_box["y"] - 10 <= bar_box["y"] <= body_box["y"] + 10, (bar_box, body_box)
    web.screenshot("compare-table-sticky")

    # Again, the same file: from the cache, with the first run's time; the same colours.
    page.get_by_test_id("run-compare").click()
    expect(page.get_by_test_id("time-rapidocr")).to_contain_text("from cache, first run took")
    # tesseract first in a run (with mineru, which is down): still tesseract's colour.
    page.get_by_test_id("pick-rapidocr").uncheck()
    page.get_by_test_id("pick-mineru").check()
    page.get_by_test_id("run-compare").click()
    expect(page.get_by_test_id("pane-mineru").get_by_role("alert")).to_contain_text("backend_unavailable")
    expect(page.get_by_test_id("pane-tesseract").get_by_test_id("rendered-markdown")).to_contain_text("Entry 30")
    assert colours_of(page, ["tesseract"])["tesseract"] == first["tesseract"]
    # A new page (a reload): the same colours.
    page.goto("/#compare")
    page.reload()
    choose_file(page, tmp_path, "ledger.png", image)
    page.get_by_test_id("run-compare").click()
    expect(page.get_by_test_id("pane-rapidocr").get_by_test_id("rendered-markdown")).to_contain_text("Entry 30")
    assert colours_of(page, ["rapidocr", "tesseract"]) == first
    web.screenshot("compare-same-colours")
    assert not web.errors


PADDLE_MODES = ["ocr", "table", "formula", "chart"]
DOTS_MODES = ["layout", "ocr", "table"]


@contextmanager
def preset_page(request, browser, tmp_path) -> Iterator[BrowserPage]:
    """Its own orchestrator in front of two stand-in presets that publish their modes (#21)."""
    paddle = start_backend("paddle-vl", tmp_path, app=PRESET_APP, env={"PRESET_MODES": ",".join(PADDLE_MODES)})
    dots = start_backend("dots", tmp_path, app=PRESET_APP, env={"PRESET_MODES": ",".join(DOTS_MODES)})
    orchestrator = start_orchestrator(
        {"paddle-vl": paddle.url, "dots": dots.url}, tmp_path, env={"OCR_DEFAULT_BACKEND": "paddle-vl"}
    )
    try:
        for service in (paddle, dots):
            wait_healthy(service)
        wait_healthy(orchestrator, need_model=False)
        with browser_page(browser, orchestrator.url, request.node) as web:
            yield web
    finally:
        orchestrator.stop()
        paddle.stop()
        dots.stop()


def choices(select) -> list[str]:
    return select.locator("option").evaluate_all("options => options.map(o => o.value)")


def test_a_presets_modes_come_from_its_published_schema_and_the_chosen_one_is_sent(request, browser, tmp_path):
    with preset_page(request, browser, tmp_path) as web:
        page = web.page
        page.goto("/")
        page.get_by_test_id("backend-select").select_option("paddle-vl")
        mode = page.get_by_test_id("options-paddle-vl").get_by_test_id("opt-mode")
        expect(mode).to_have_value("ocr")  # its default, preselected
        assert choices(mode) == PADDLE_MODES  # exactly what it publishes
        expect(page.get_by_test_id("options")).to_contain_text("The preset's task prompt.")
        page.get_by_test_id("backend-select").select_option("dots")
        mode = page.get_by_test_id("options-dots").get_by_test_id("opt-mode")
        expect(mode).to_have_value("layout")
        assert choices(mode) == DOTS_MODES
        mode.select_option("table")
        choose_file(page, tmp_path, "page.png", text_image(["A table"]))
        with page.expect_response(lambda r: is_ocr_post(r, "/jobs")) as answer:
            page.get_by_test_id("run").click()
        job = requests.get(page.url.split("/#")[0] + answer.value.json()["status_url"], timeout=10).json()
        assert job["options"]["mode"] == "table"
        expect(page.get_by_test_id("rendered-markdown")).to_contain_text("ran mode table")
        # The default again: not sent, the backend's own default runs.
        mode.select_option("layout")
        with page.expect_response(lambda r: is_ocr_post(r, "/jobs")) as answer:
            page.get_by_test_id("run").click()
        assert 'name="mode"' not in (answer.value.request.post_data or "")
        expect(page.get_by_test_id("rendered-markdown")).to_contain_text("ran mode layout")
        web.screenshot("preset-modes")
        assert not web.errors


def test_options_follow_the_backends_chosen_and_are_sent(request, browser, tmp_path):
    """A comparison sends one value per option: the panel offers a shared option once, with the
    choices both backends take; the orchestrator gives each backend the options it publishes."""
    with preset_page(request, browser, tmp_path) as web:
        page = web.page
        page.goto("/#compare")
        expect(page.get_by_test_id("pick-dots")).to_be_checked()
        shared = page.get_by_test_id("options-paddle-vl+dots")
        expect(shared).to_contain_text("paddle-vl, dots")
        assert choices(shared.get_by_test_id("opt-mode")) == ["", "ocr", "table"]  # no common default
        page.get_by_test_id("pick-dots").uncheck()
        alone = page.get_by_test_id("options-paddle-vl").get_by_test_id("opt-mode")
        expect(alone).to_have_value("ocr")
        assert choices(alone) == PADDLE_MODES
        page.get_by_test_id("pick-dots").check()
        shared.get_by_test_id("opt-mode").select_option("table")
        choose_file(page, tmp_path, "two-page.pdf", text_pdf([["One."], ["Two."]]))
        page.get_by_test_id("options").get_by_test_id("page-range").fill("2")
        with page.expect_response(lambda r: is_ocr_post(r, "/jobs/compare")) as answer:
            page.get_by_test_id("run-compare").click()
        # What the orchestrator received, as it recorded the job (boxes_image=false: the page draws the
        # boxes over the server's page image).
        job = requests.get(page.url.split("/#")[0] + answer.value.json()["status_url"], timeout=10).json()
        assert job["backends"] == ["paddle-vl", "dots"]
        assert job["options"] == {"boxes_image": False, "mode": "table", "page_range": "2", "pdf_mode": "ocr"}
        expect(page.get_by_test_id("job-status")).to_have_text("job succeeded")
        for name in ("paddle-vl", "dots"):
            expect(page.get_by_test_id(f"pane-{name}").get_by_test_id("rendered-markdown")).to_contain_text(
                "ran mode table"
            )
        web.screenshot("compare-options")
        assert not web.errors


def test_pdf_job_shows_progress_to_100_and_pages_as_they_finish(web, tmp_path):
    page = web.page
    page.goto("/")
    pages = [[f"Page {n} of the report says {n * 111}."] for n in range(1, 6)]
    choose_file(page, tmp_path, "report.pdf", text_pdf(pages))
    # Record what the page shows at every change: progress, and whether page 1's text is shown.
    page.evaluate("""() => {
        window.__seen = [];
        new MutationObserver(() => {
            const bar = document.querySelector('[data-testid=progress-rapidocr] [role=progressbar]');
            const text = document.querySelector('[data-testid=rendered-markdown]')?.textContent ?? '';
            const value = Number(bar?.getAttribute('aria-valuenow') ?? -1);
            window.__seen.push([value, text.includes('Page 1 of the report')]);
        }).observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
    }""")
    with page.expect_response(lambda r: is_ocr_post(r, "/jobs")) as answer:
        page.get_by_test_id("run").click()
    assert answer.value.status == 202
    bar = page.get_by_test_id("progress-rapidocr").get_by_role("progressbar")
    expect(bar).to_have_attribute("aria-valuenow", "100")
    expect(page.get_by_test_id("progress-rapidocr")).to_contain_text("5 / 5 pages")
    expect(page.get_by_test_id("job-status")).to_have_text("job succeeded")
    expect(page.get_by_test_id("page-picker")).to_contain_text("page 1 of 5")
    rendered = page.get_by_test_id("rendered-markdown")
    for n in range(1, 6):
        expect(rendered).to_contain_text(f"Page {n} of the report says {n * 111}")
    seen = page.evaluate("window.__seen")
    assert any(0 <= progress < 100 and shown for progress, shown in seen), "page 1 never showed before the end"
    expect(page.get_by_test_id("boxes-rapidocr").get_by_test_id("box").first).to_be_attached()
    web.screenshot("pdf-job")
    assert not web.errors


def test_pdf_comparison_job_shows_each_backends_progress_and_error(web, tmp_path):
    page = web.page
    page.goto("/#compare")
    page.get_by_test_id("pick-tesseract").uncheck()
    page.get_by_test_id("pick-mineru").check()
    choose_file(page, tmp_path, "two.pdf", text_pdf([["First page of two."], ["Second page of two."]]))
    with page.expect_response(lambda r: is_ocr_post(r, "/jobs/compare")) as answer:
        page.get_by_test_id("run-compare").click()
    assert answer.value.status == 202
    expect(page.get_by_test_id("progress-rapidocr").get_by_role("progressbar")).to_have_attribute(
        "aria-valuenow", "100"
    )
    expect(page.get_by_test_id("job-status")).to_have_text("job succeeded")
    expect(page.get_by_test_id("pane-rapidocr").get_by_test_id("rendered-markdown")).to_contain_text(
        "Second page of two"
    )
    expect(page.get_by_test_id("pane-mineru").get_by_role("alert")).to_contain_text("backend_unavailable")
    expect(page.get_by_test_id("page-picker")).to_contain_text("page 1 of 2")
    web.screenshot("compare-pdf-job")
    assert not web.errors


def test_pdf_job_can_be_cancelled(web, web_system, tmp_path):
    page = web.page
    page.goto("/")
    pages = [[f"Slow page {n}."] * 12 for n in range(1, 31)]
    choose_file(page, tmp_path, "long.pdf", text_pdf(pages))
    with page.expect_response(lambda r: is_ocr_post(r, "/jobs")) as answer:
        page.get_by_test_id("run").click()
    job_id = answer.value.json()["job_id"]
    page.get_by_test_id("cancel").click()
    expect(page.get_by_test_id("job-status")).to_have_text("job cancelled")
    expect(page.get_by_test_id("cancel")).to_have_count(0)
    status = requests.get(f"{web_system.url}/jobs/{job_id}", timeout=10).json()
    assert status["status"] == "cancelled"
    assert status["progress"]["pages_done"] < 30
    web.screenshot("pdf-job-cancelled")
    assert not web.errors


def test_scanned_markup_renders_as_text_and_runs_no_script(web, tmp_path):
    page = web.page
    page.goto("/")
    choose_file(page, tmp_path, "xss.png", text_image([XSS_TEXT], font_size=56))
    assert XSS_TEXT in run_job(page)["result"]["markdown"], "rapidocr should read the markup exactly"
    rendered = page.get_by_test_id("rendered-markdown")
    expect(rendered).to_contain_text(XSS_TEXT)
    expect(rendered.locator("img")).to_have_count(0)
    expect(page.locator("[onerror]")).to_have_count(0)
    page.wait_for_timeout(1000)  # a broken <img> would have fired its onerror by now
    assert web.dialogs == []
    # The same through the comparison view.
    page.goto("/#compare")
    page.get_by_test_id("pick-tesseract").uncheck()
    page.get_by_test_id("pick-mineru").check()
    choose_file(page, tmp_path, "xss-compare.png", text_image([XSS_TEXT], font_size=56))
    page.get_by_test_id("run-compare").click()
    expect(page.get_by_test_id("pane-rapidocr").get_by_test_id("rendered-markdown")).to_contain_text(XSS_TEXT)
    expect(page.locator("[onerror]")).to_have_count(0)
    page.wait_for_timeout(1000)
    assert web.dialogs == []
    web.screenshot("xss-as-text")
    assert not web.errors


def test_health_lights_follow_a_backend_that_goes_down(request, browser, tmp_path):
    """Its own orchestrator and tesseract, so stopping the backend disturbs no other test."""
    tesseract = start_backend("tesseract", tmp_path)
    orchestrator = start_orchestrator({"tesseract": tesseract.url, "rapidocr": UNREACHABLE_URL}, tmp_path)
    try:
        wait_healthy(tesseract)
        wait_healthy(orchestrator, need_model=False)
        with browser_page(browser, orchestrator.url, request.node) as web:
            page = web.page
            page.goto("/")
            light = page.get_by_test_id("health-list").get_by_test_id("light-tesseract")
            expect(light).to_have_class(re.compile("light-healthy"))
            expect(page.get_by_test_id("backend-select")).to_have_value("tesseract")
            tesseract.stop()
            expect(light).to_have_class(re.compile("light-unreachable"))
            expect(page.get_by_test_id("backend-select").locator("option[value=tesseract]")).to_be_disabled()
            # Said, not silently switched: the choice stays, the page says it is down, nothing runs.
            expect(page.get_by_test_id("backend-select")).to_have_value("tesseract")
            expect(page.get_by_test_id("backend-down")).to_contain_text("tesseract is unreachable")
            expect(page.get_by_test_id("run")).to_be_disabled()
            web.screenshot("health-backend-down")
            assert not web.errors
    finally:
        orchestrator.stop()
        tesseract.stop()


def test_with_api_keys_the_page_asks_for_one_refuses_a_wrong_one_and_works_with_the_right_one(
    request, browser, tmp_path
):
    """Its own orchestrator with ORCHESTRATOR_API_KEYS: the page loads without a key (it is static),
    every API call needs one, and the page says so instead of showing an empty list."""
    rapidocr = start_backend("rapidocr", tmp_path)
    orchestrator = start_orchestrator(
        {"rapidocr": rapidocr.url}, tmp_path, env={"ORCHESTRATOR_API_KEYS": "right-key,other-key"}
    )
    try:
        wait_healthy(rapidocr)
        wait_healthy(orchestrator, need_model=False)
        assert requests.get(orchestrator.url + "/backends", timeout=10).status_code == 401
        with browser_page(browser, orchestrator.url, request.node) as web:
            page = web.page
            page.goto("/")
            needed = page.get_by_test_id("api-key-needed")
            expect(needed).to_contain_text("needs an API key")
            expect(page.get_by_test_id("api-key-input")).to_be_focused()
            expect(page.get_by_test_id("health-list").get_by_test_id("light-rapidocr")).to_have_count(0)
            web.screenshot("api-key-needed")

            page.get_by_test_id("api-key-input").fill("wrong-key")
            with page.expect_response(lambda r: r.url.endswith("/backends") and r.status == 401):
                page.get_by_test_id("api-key-save").click()
            expect(needed).to_contain_text("refused this API key")

            page.get_by_test_id("api-key-input").fill("right-key")
            page.get_by_test_id("api-key-save").click()
            expect(needed).to_have_count(0)
            expect(page.get_by_test_id("health-list").get_by_test_id("light-rapidocr")).to_have_class(
                re.compile("light-healthy")
            )
            assert page.evaluate("window.location.href").find("right-key") == -1  # never in the URL

            choose_file(page, tmp_path, "invoice.png", text_image(INVOICE))
            with page.expect_response(lambda r: is_ocr_post(r, "/jobs")) as answer:
                page.get_by_test_id("run").click()
            assert answer.value.request.header_value("X-API-Key") == "right-key"
            assert answer.value.status == 202
            expect(page.get_by_test_id("rendered-markdown")).to_contain_text("Invoice 2026-0417")
            # The page image is the key's too: fetched with it, drawn from an object URL.
            image = page.get_by_test_id("page-image")
            expect(image).to_have_attribute("href", re.compile(r"^blob:"))
            image_url = f"{orchestrator.url}/jobs/{answer.value.json()['job_id']}/pages/1/image"
            assert requests.get(image_url, timeout=10).status_code == 401
            assert requests.get(image_url, headers={"X-API-Key": "other-key"}, timeout=10).status_code == 404
            assert requests.get(image_url, headers={"X-API-Key": "right-key"}, timeout=10).status_code == 200
            # Reloaded: the job again, from the server (the key is the tab's).
            page.reload()
            expect(page.get_by_test_id("rendered-markdown")).to_contain_text("Invoice 2026-0417")
            web.screenshot("api-key-accepted")
            assert not web.errors and not web.dialogs
    finally:
        orchestrator.stop()
        rapidocr.stop()


def test_mineru_beside_rapidocr_and_tesseract_on_a_born_digital_pdf(request, browser, web_system, tmp_path):
    """The real MinerU backend (flash tier on this CPU, no model files) beside the session's rapidocr
    and tesseract, in its own orchestrator: MinerU reads the PDF's text layer with its own parser,
    the other two OCR the rendered page."""
    from tests.support.mineru_documents import report_pdf

    models = tmp_path / "mineru-models"
    models.mkdir()
    env = {"MINERU_MODEL_BASE_DIR": str(models), "MINERU_HOME": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    mineru = start_backend("mineru", tmp_path, env=env)
    rapidocr, tesseract = web_system.backends
    orchestrator = start_orchestrator(
        {"rapidocr": rapidocr.url, "tesseract": tesseract.url, "mineru": mineru.url},
        tmp_path,
        env={"WEB_CLIENT_DIR": str(REPO_ROOT / "web-client" / "dist")},
    )
    try:
        wait_healthy(mineru)
        wait_healthy(orchestrator, need_model=False)
        with browser_page(browser, orchestrator.url, request.node) as web:
            page = web.page
            page.goto("/#compare")
            for name in ("rapidocr", "tesseract", "mineru"):
                page.get_by_test_id(f"pick-{name}").check()
            choose_file(page, tmp_path, "report.pdf", report_pdf())
            page.get_by_test_id("options").get_by_test_id("page-range").fill("1")
            with page.expect_response(lambda r: is_ocr_post(r, "/jobs/compare")) as answer:
                page.get_by_test_id("run-compare").click()
            assert answer.value.status == 202
            expect(page.get_by_test_id("job-status")).to_have_text("job succeeded")
            for name in ("rapidocr", "tesseract", "mineru"):
                pane = page.get_by_test_id(f"pane-{name}").get_by_test_id("rendered-markdown")
                expect(pane).to_contain_text("Quarterly Report")
                expect(pane).to_contain_text("Revenue grew by twelve percent")
            minerus = page.get_by_test_id("pane-mineru").get_by_test_id("rendered-markdown")
            expect(minerus.locator("h1")).to_have_text("Quarterly Report")  # MinerU's own markdown
            expect(minerus.locator("table")).to_have_count(1)
            expect(page.get_by_test_id("boxes-mineru").get_by_test_id("box").first).to_be_attached()
            web.screenshot("compare-mineru-rapidocr-tesseract")
            assert not web.errors
    finally:
        orchestrator.stop()
        mineru.stop()


def test_word_diff_between_two_panes_and_against_the_reference(web, tmp_path):
    page = web.page
    page.goto("/#compare")
    expect(page.get_by_test_id("pick-tesseract")).to_be_checked()
    choose_file(page, tmp_path, "invoice.png", text_image(INVOICE))
    # The reference says "four" where the page says "three".
    page.get_by_test_id("reference").fill("Invoice 2026-0417 for four units\nTotal due 127.50 EUR")
    page.get_by_test_id("run-compare").click()
    expect(page.get_by_test_id("pane-rapidocr").get_by_test_id("rendered-markdown")).to_contain_text("Total due")
    panel = page.get_by_test_id("diff-panel")
    expect(panel.get_by_test_id("diff-first")).to_have_value("rapidocr")
    expect(panel.get_by_test_id("diff-second")).to_have_value("reference")
    expect(panel.get_by_test_id("diff-removed").filter(has_text="three")).to_have_count(1)
    expect(panel.get_by_test_id("diff-added").filter(has_text="four")).to_have_count(1)
    expect(panel.get_by_test_id("diff-counts")).to_contain_text("only in rapidocr")
    # On the page: rapidocr's line with "three" is marked; tesseract, not in the pair, has no marks.
    marked = page.get_by_test_id("boxes-rapidocr").locator("[data-marked=true]")
    expect(marked).to_have_count(1)
    assert "three" in marked.locator("title").text_content()
    expect(page.get_by_test_id("boxes-tesseract").locator("[data-marked=true]")).to_have_count(0)
    web.screenshot("compare-word-diff-reference")
    # Any two panes.
    panel.get_by_test_id("diff-second").select_option("tesseract")
    expect(panel.get_by_test_id("diff-counts")).to_contain_text("only in tesseract")
    expect(panel.get_by_test_id("diff-added").filter(has_text="four")).to_have_count(0)
    assert not web.errors


def test_a_comparison_of_pages_2_to_3_shows_page_2_and_page_3_with_each_panes_boxes_on_that_page(web, tmp_path):
    page = web.page
    page.goto("/#compare")
    expect(page.get_by_test_id("pick-tesseract")).to_be_checked()
    choose_file(
        page, tmp_path, "three.pdf", text_pdf([["Alpha page one."], ["Bravo page two."], ["Charlie page three."]])
    )
    page.get_by_test_id("options").get_by_test_id("page-range").fill("2-3")
    page.get_by_test_id("run-compare").click()
    expect(page.get_by_test_id("job-status")).to_have_text("job succeeded")
    picker = page.get_by_test_id("page-picker")
    expect(picker).to_contain_text("page 2 (pages 2–3)")
    for name in ("rapidocr", "tesseract"):
        titles = page.get_by_test_id(f"boxes-{name}").get_by_test_id("box").locator("title")
        expect(titles.first).to_contain_text("Bravo")
        assert not any("Charlie" in title for title in titles.all_text_contents()), name
    web.screenshot("compare-pages-2-3-page-2")
    picker.get_by_role("button", name="next page").click()
    expect(picker).to_contain_text("page 3 (pages 2–3)")
    for name in ("rapidocr", "tesseract"):
        titles = page.get_by_test_id(f"boxes-{name}").get_by_test_id("box").locator("title")
        expect(titles.first).to_contain_text("Charlie")
        assert not any("Bravo" in title for title in titles.all_text_contents()), name
        current = page.get_by_test_id(f"pane-{name}").locator("[data-testid=page-text][aria-current=page]")
        expect(current).to_have_attribute("data-page", "3")
    assert not web.errors


def test_page_and_text_are_linked_both_ways(web, tmp_path):
    page = web.page
    page.goto("/")
    expect(page.get_by_test_id("backend-select")).to_have_value("rapidocr")
    choose_file(page, tmp_path, "receipt.png", text_image(RECEIPT, font_size=56))
    blocks = run_job(page)["pages"]["rapidocr"][0]["blocks"]
    rendered = page.get_by_test_id("rendered-markdown")
    expect(rendered).to_contain_text("Thank you")
    boxes = page.get_by_test_id("boxes-rapidocr").get_by_test_id("box")
    # A click on the last box: its text is highlighted beside the page.
    boxes.last.click()
    expect(boxes.last).to_have_attribute("data-selected", "true")
    expect(rendered.locator(".text-linked")).to_contain_text(blocks[-1]["text"].split("\n")[0])
    web.screenshot("page-text-linked")
    # The pointer over the first block's text highlights its box; a click on it picks it.
    first_text = rendered.get_by_text(blocks[0]["text"].split("\n")[0]).first
    first_text.hover()
    expect(boxes.first).to_have_class(re.compile("box-hovered"))
    first_text.click()
    expect(boxes.first).to_have_attribute("data-selected", "true")
    expect(boxes.last).not_to_have_attribute("data-selected", "true")

    # The same in a comparison pane.
    page.goto("/#compare")
    expect(page.get_by_test_id("pick-tesseract")).to_be_checked()
    choose_file(page, tmp_path, "invoice.png", text_image(INVOICE))
    page.get_by_test_id("run-compare").click()
    pane = page.get_by_test_id("pane-tesseract").get_by_test_id("rendered-markdown")
    expect(pane).to_contain_text("Total due")
    tesseract_boxes = page.get_by_test_id("boxes-tesseract").get_by_test_id("box")
    title = tesseract_boxes.last.locator("title").text_content() or ""
    tesseract_boxes.last.dispatch_event("click")
    expect(pane.locator(".text-linked")).to_contain_text(title.split(": ", 1)[1].split("\n")[0])
    assert not web.errors


def test_first_run_explains_the_page_and_its_sample_runs_through_the_default_backend(web):
    page = web.page
    page.goto("/")
    intro = page.get_by_test_id("first-run")
    expect(intro).to_contain_text("Drop an image or a PDF")
    expect(page.get_by_test_id("backend-select")).to_have_value("rapidocr")
    web.screenshot("first-run")
    page.get_by_test_id("try-sample").click()
    expect(page.get_by_test_id("chosen-file")).to_contain_text("sample-receipt.png · image (PNG)")
    expect(intro).to_have_count(0)
    assert run_job(page)["result"]["backend"] == "rapidocr"
    rendered = page.get_by_test_id("rendered-markdown")
    expect(rendered).to_contain_text("Corner Cafe")
    expect(rendered).to_contain_text("$8.68")
    expect(page.locator(".katex")).to_have_count(0)
    web.screenshot("first-run-sample-result")
    # Seen once: not shown again on this browser.
    page.reload()
    expect(page.get_by_test_id("backend-select")).to_have_value("rapidocr")
    expect(page.get_by_test_id("first-run")).to_have_count(0)
    assert not web.errors


# Evaluations (#23): a labelled set through every healthy backend, read as a leaderboard and a chart.
LABELLED = {
    "invoice": ("invoice", ["Invoice 2026-0417 for three units", "Total due 127.50 EUR"]),
    "letter": ("letter", ["Dear customer, your order has shipped", "Kind regards from the warehouse"]),
    "memo": ("letter", ["Meeting moved to Thursday at ten", "Bring the quarterly figures"]),
}


def labelled_set(tmp_path: Path) -> list[str]:
    """Three pages with their ground truth (one truth with a deliberate difference) and their kinds."""
    paths = []
    for name, (_kind, lines) in LABELLED.items():
        (tmp_path / f"{name}.png").write_bytes(text_image(lines))
        truth = "\n".join(lines).replace("quarterly", "yearly")
        (tmp_path / f"{name}.txt").write_text(truth + "\n", encoding="utf-8")
        paths += [str(tmp_path / f"{name}.png"), str(tmp_path / f"{name}.txt")]
    labels = "name,kind\n" + "".join(f"{name},{kind}\n" for name, (kind, _) in LABELLED.items())
    (tmp_path / "labels.csv").write_text(labels, encoding="utf-8")
    return [*paths, str(tmp_path / "labels.csv")]


def leaderboard_order(page) -> list[str]:
    rows = page.get_by_test_id("leaderboard").locator("tbody tr")
    return [rows.nth(i).get_attribute("data-backend") for i in range(rows.count())]


def wait_done(page) -> None:
    expect(page.get_by_test_id("eval-status")).to_have_text("done")
    expect(page.get_by_test_id("leaderboard")).to_be_visible()


def test_an_evaluation_of_a_labelled_set_leaderboard_chart_sorting_worst_document_and_reload(web, tmp_path):
    page = web.page
    page.emulate_media(color_scheme="light")
    page.goto("/#/evaluations")
    for name in ("rapidocr", "tesseract"):
        expect(page.get_by_test_id(f"eval-pick-{name}")).to_be_checked()
    expect(page.get_by_test_id("eval-pick-mineru")).to_be_disabled()  # down: not offered
    page.get_by_test_id("eval-files").set_input_files(labelled_set(tmp_path))
    expect(page.get_by_test_id("eval-files-chosen")).to_have_text("7 files chosen")
    page.get_by_test_id("eval-start").click()
    expect(page).to_have_url(re.compile(r"#/evaluations/[^/]+$"))
    wait_done(page)
    url = page.url

    # Every backend with numbers; one point each on the chart, the Pareto front marked.
    for name in ("rapidocr", "tesseract"):
        row = page.get_by_test_id(f"leaderboard-row-{name}")
        expect(row.get_by_test_id("cell-documents")).to_have_text("3")
        expect(row.get_by_test_id("cell-cer")).to_have_text(re.compile(r"^\d+\.\d %$"))
        expect(row.get_by_test_id("cell-word_f1")).to_have_text(re.compile(r"^\d+\.\d %$"))
        expect(row.get_by_test_id("cell-pages_per_second")).to_have_text(re.compile(r"^[\d.]+$"))
        expect(page.get_by_test_id(f"eval-progress-{name}")).to_contain_text("3 / 3 documents")
    points = page.get_by_test_id("scatter").locator("[data-testid^='scatter-point-']")
    expect(points).to_have_count(2)
    assert page.locator("[data-pareto='true']").count() >= 1
    expect(page.get_by_test_id("scatter-caption")).to_contain_text("Pareto front")
    chart = page.get_by_test_id("scatter").get_by_role("img")
    expect(chart).to_have_accessible_name(re.compile("Accuracy against speed"))
    # Per kind: two kinds from labels.csv.
    expect(page.get_by_test_id("kind-row-invoice-rapidocr")).to_contain_text("1")
    expect(page.get_by_test_id("kind-row-letter-tesseract")).to_contain_text("2")

    # Sorting by a column: the header is a button, its aria-sort follows, the order turns around.
    header = page.get_by_test_id("sort-backend")
    header.click()
    expect(page.locator("th:has([data-testid='sort-backend'])")).to_have_attribute("aria-sort", "ascending")
    assert leaderboard_order(page) == ["rapidocr", "tesseract"]
    header.press("Enter")  # the keyboard sorts too
    expect(page.locator("th:has([data-testid='sort-backend'])")).to_have_attribute("aria-sort", "descending")
    assert leaderboard_order(page) == ["tesseract", "rapidocr"]
    web.screenshot("evaluation-leaderboard")

    # The evaluation's URL survives a reload; the list of recent evaluations links to it.
    page.reload()
    wait_done(page)
    page.get_by_test_id("all-evaluations").click()
    expect(page.get_by_test_id("eval-list").get_by_test_id("eval-link").first).to_be_visible()
    page.goto(url)
    wait_done(page)

    # The worst document of a backend opens beside its reference with the word diff.
    worst = page.get_by_test_id("worst-tesseract").get_by_test_id("worst-link").first
    name = worst.inner_text()
    worst.click()
    expect(page.get_by_test_id("evaluation-document")).to_contain_text(name)
    expect(page.get_by_test_id("diff-first")).to_have_value("tesseract")
    expect(page.get_by_test_id("diff-second")).to_have_value("reference")
    expect(page.get_by_test_id("diff-counts")).to_be_visible()
    expect(page.get_by_test_id("pane-reference")).to_contain_text(LABELLED[name][1][0].split()[0])
    web.screenshot("evaluation-document-diff")

    # A phone, dark: nothing scrolls sideways on the evaluation or on a document.
    page.set_viewport_size({"width": 390, "height": 844})
    page.emulate_media(color_scheme="dark")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    web.screenshot("phone-390-evaluation-document-dark")
    page.goto(url)
    wait_done(page)
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    assert is_dark(page_background(page))
    web.screenshot("phone-390-evaluation-dark")
    page.get_by_test_id("all-evaluations").click()
    expect(page.get_by_test_id("eval-sample")).to_be_visible()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    web.screenshot("phone-390-evaluations-start-dark")
    assert not web.errors


def test_an_evaluation_of_the_sample_set_in_one_click(web):
    page = web.page
    page.goto("/#/evaluations")
    expect(page.get_by_test_id("eval-pick-rapidocr")).to_be_checked()
    page.get_by_test_id("eval-sample").click()
    wait_done(page)
    for name in ("rapidocr", "tesseract"):
        expect(page.get_by_test_id(f"leaderboard-row-{name}").get_by_test_id("cell-cer")).to_have_text(
            re.compile(r"%$")
        )
    expect(page.get_by_test_id("scatter").locator("[data-testid^='scatter-point-']")).to_have_count(2)
    web.screenshot("evaluation-sample-set")
    assert not web.errors


def test_an_evaluation_shows_progress_per_backend_and_can_be_cancelled(web, tmp_path):
    page = web.page
    page.goto("/#/evaluations")
    page.get_by_test_id("eval-pick-tesseract").uncheck()  # rapidocr alone: slow enough to cancel mid-way
    # Pages no earlier run has read: nothing comes from the cache.
    paths = []
    for number in range(4):
        lines = [f"Cancelled run {tmp_path.name} page {number}", "Nothing here was read before"]
        (tmp_path / f"page{number}.png").write_bytes(text_image(lines))
        (tmp_path / f"page{number}.txt").write_text("\n".join(lines), encoding="utf-8")
        paths += [str(tmp_path / f"page{number}.png"), str(tmp_path / f"page{number}.txt")]
    page.get_by_test_id("eval-files").set_input_files(paths)
    expect(page.get_by_test_id("eval-start")).to_have_text("Evaluate 1 backend")
    page.get_by_test_id("eval-start").click()
    expect(page.get_by_test_id("eval-progress-rapidocr")).to_contain_text("/ 4 documents")
    expect(page.get_by_test_id("eval-progress-tesseract")).to_have_count(0)
    page.get_by_test_id("eval-cancel").click()
    expect(page.get_by_test_id("eval-status")).to_have_text("cancelled")
    expect(page.get_by_test_id("eval-cancel")).to_have_count(0)
    expect(page).to_have_title(re.compile("stopped"))
    web.screenshot("evaluation-cancelled")


def test_every_backends_boxes_are_drawn_over_the_servers_clean_page_image(web, tmp_path):
    """The page under the boxes is the orchestrator's (GET /jobs/<id>/pages/<n>/image), clean: an
    image as uploaded, a PDF page rendered; no backend's own annotated render."""
    page = web.page
    page.goto("/")
    choose_file(page, tmp_path, "invoice.png", text_image(INVOICE))
    with page.expect_response(lambda r: re.search(r"/jobs/\w+/pages/1/image$", r.url) is not None) as image:
        job = run_job(page)
    assert image.value.status == 200 and image.value.headers["content-type"] == "image/png"
    assert image.value.url.endswith(f"/jobs/{job['job_id']}/pages/1/image")
    assert job["options"]["boxes_image"] is False  # the page draws the boxes: no backend has to
    drawn = page.get_by_test_id("page-image")
    expect(drawn).to_have_attribute("href", re.compile(r"^blob:"))
    boxes = page.get_by_test_id("boxes-rapidocr").get_by_test_id("box")
    expect(boxes).to_have_count(len(job["pages"]["rapidocr"][0]["blocks"]))
    # Boxes off: the page is clean, nothing of a backend's drawing left on it.
    page.get_by_test_id("toggle-boxes").uncheck()
    expect(page.get_by_test_id("box")).to_have_count(0)
    expect(drawn).to_have_attribute("href", re.compile(r"^blob:"))
    web.screenshot("page-image-boxes-off")
    page.get_by_test_id("toggle-boxes").check()

    # A comparison of a PDF: both backends' boxes over the one rendered page, each in its colour.
    page.goto("/#compare")
    expect(page.get_by_test_id("pick-tesseract")).to_be_checked()
    choose_file(page, tmp_path, "two.pdf", text_pdf([["Alpha page one."], ["Bravo page two."]], font_size=28))
    job = run_job(page, "run-compare", "/jobs/compare")
    for name in ("rapidocr", "tesseract"):
        boxes = page.get_by_test_id(f"boxes-{name}").get_by_test_id("box")
        expect(boxes).to_have_count(len(job["pages"][name][0]["blocks"]))
    expect(page.get_by_test_id("page-image")).to_have_attribute("href", re.compile(r"^blob:"))
    web.screenshot("page-image-compare-pdf")
    first_page = page.get_by_test_id("page-image").get_attribute("href")
    page.get_by_test_id("page-picker").get_by_role("button", name="next page").click()
    # Page 2's own image (fetched once: mid-run it may have been the first page there was).
    expect(page.get_by_test_id("page-image")).not_to_have_attribute("href", first_page or "")
    expect(page.get_by_test_id("page-image")).to_have_attribute("href", re.compile(r"^blob:"))
    second = page.request.get(f"/jobs/{job['job_id']}/pages/2/image")
    assert second.status == 200
    rendered = Image.open(io.BytesIO(second.body()))
    # Rendered at the dpi the results were read at: the result page's width in pixels.
    assert rendered.width == min(p["width"] for p in (job["pages"]["rapidocr"][1], job["pages"]["tesseract"][1]))
    expect(page.get_by_test_id("boxes-rapidocr").get_by_test_id("box").locator("title").first).to_contain_text("Bravo")
    assert not web.errors


def test_a_pdf_is_previewed_before_it_runs_and_one_the_server_refuses_is_said_before_run(web, tmp_path):
    page = web.page
    page.goto("/")
    jobs: list[str] = []
    page.on("request", lambda r: jobs.append(r.url) if r.method == "POST" and "/jobs" in r.url else None)
    with page.expect_response(lambda r: is_ocr_post(r, "/pdf/preview")) as answer:
        choose_file(page, tmp_path, "six.pdf", text_pdf([[f"Preview page {n}."] for n in range(1, 7)], font_size=28))
    assert answer.value.status == 200
    preview = page.get_by_test_id("pdf-preview")
    expect(preview.get_by_test_id("pdf-thumb")).to_have_count(4)
    expect(preview).to_contain_text("pages 1–4 of 6")
    expect(preview.get_by_test_id("pdf-thumb").first).to_have_attribute("src", re.compile(r"^data:image/png;base64,"))
    assert preview.get_by_test_id("pdf-thumb").first.evaluate("img => img.complete && img.naturalWidth > 0")
    expect(page.get_by_test_id("run")).to_be_enabled()
    web.screenshot("pdf-preview")
    assert jobs == []  # nothing ran

    # More pages than the server takes: said before Run, which stays off.
    limit = page.request.get("/health").json()["limits"]["max_pdf_pages"]
    choose_file(page, tmp_path, "long.pdf", text_pdf([["x"]] * (limit + 1)))
    expect(page.get_by_test_id("file-problem")).to_contain_text(f"the limit is {limit}")
    expect(page.get_by_test_id("run")).to_be_disabled()
    expect(page.get_by_test_id("pdf-preview")).to_have_count(0)
    web.screenshot("pdf-preview-too-many-pages")
    assert jobs == []
    assert not web.errors


def test_a_job_has_a_url_a_reload_shows_it_the_recent_jobs_list_it_and_a_view_switch_keeps_it(web, tmp_path):
    page = web.page
    page.goto("/")
    choose_file(page, tmp_path, "invoice.png", text_image(INVOICE))
    single = run_job(page)
    assert page.evaluate("location.hash") == f"#/jobs/{single['job_id']}"
    rendered = page.get_by_test_id("rendered-markdown")
    expect(rendered).to_contain_text("Total due")

    # Compare the same file, then back and forth: each view keeps its own job.
    page.get_by_test_id("nav-compare").click()
    expect(page.get_by_test_id("compare-view")).to_be_visible()
    compared = run_job(page, "run-compare", "/jobs/compare")
    assert page.evaluate("location.hash") == f"#/jobs/{compared['job_id']}"
    tesseract = page.get_by_test_id("pane-tesseract").get_by_test_id("rendered-markdown")
    expect(tesseract).to_contain_text("Total due")
    page.get_by_test_id("nav-single").click()
    # Until the switch, the comparison's two panes are still there (two rendered texts).
    expect(page.get_by_test_id("compare-view")).to_have_count(0)
    expect(rendered).to_contain_text("Total due")
    expect(page.get_by_test_id("result-name-rapidocr")).to_be_visible()
    assert page.evaluate("location.hash") == f"#/jobs/{single['job_id']}"
    web.screenshot("view-switch-keeps-results")

    # A reload: the same job, from the server (no file chosen now), its page image too.
    page.reload()
    expect(rendered).to_contain_text("Total due")
    expect(page.get_by_test_id("job-status")).to_have_text("job succeeded")
    expect(page.get_by_test_id("page-image")).to_have_attribute("href", re.compile(r"^blob:"))
    expect(page.get_by_test_id("boxes-rapidocr").get_by_test_id("box")).to_have_count(
        len(single["pages"]["rapidocr"][0]["blocks"])
    )
    expect(page).to_have_title("invoice.png · done — OCR service")
    web.screenshot("job-url-reloaded")
    # ... and the other view still has its own.
    page.get_by_test_id("nav-compare").click()
    expect(tesseract).to_contain_text("Total due")
    expect(page.get_by_test_id("scores")).to_be_visible()

    # The recent jobs, from the server: both, the one shown marked; one opens in its own view.
    recent = page.get_by_test_id("recent-jobs")
    recent.locator("summary").click()
    entry = recent.get_by_test_id(f"recent-{single['job_id']}")
    expect(entry).to_contain_text("invoice.png")
    expect(entry).to_contain_text("rapidocr")
    expect(recent.get_by_test_id(f"recent-{compared['job_id']}")).to_contain_text("compare rapidocr, tesseract")
    expect(recent.get_by_test_id(f"recent-{compared['job_id']}").locator("a")).to_have_attribute("aria-current", "page")
    web.screenshot("recent-jobs")
    entry.locator("a").click()
    expect(page.get_by_test_id("single-view")).to_be_visible()
    expect(rendered).to_contain_text("Total due")
    assert page.evaluate("location.hash") == f"#/jobs/{single['job_id']}"
    assert not web.errors


def test_a_running_job_survives_a_reload_and_finishes_on_the_page(web, tmp_path):
    page = web.page
    page.goto("/")
    choose_file(page, tmp_path, "report.pdf", text_pdf([[f"Report page {n} reads {n * 11}."] for n in range(1, 9)]))
    with page.expect_response(lambda r: is_ocr_post(r, "/jobs")) as answer:
        page.get_by_test_id("run").click()
    job_id = answer.value.json()["job_id"]
    expect(page.get_by_test_id("progress-rapidocr")).to_contain_text("/ 8 pages")
    page.reload()  # mid-run
    assert page.evaluate("location.hash") == f"#/jobs/{job_id}"
    expect(page.get_by_test_id("job-status")).to_have_text("job succeeded")
    expect(page.get_by_test_id("progress-rapidocr")).to_contain_text("8 / 8 pages")
    expect(page.get_by_test_id("rendered-markdown")).to_contain_text("Report page 8 reads 88")
    expect(page.get_by_test_id("page-picker")).to_contain_text("page 1 of 8")
    web.screenshot("running-job-reloaded")
    assert not web.errors
