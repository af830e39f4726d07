"""The report renders: LibreOffice converts it to PDF and the first page shows the Summary."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from test_report import AFTER, BEFORE, WIDE_RESULTS, loaded_file, result_lines, run_info

from batch.report import write_report

TOOLS = ("soffice", "pdftoppm", "pdftotext")


def _require_tools() -> None:
    """Skip on a workstation without LibreOffice/poppler; in CI (CI set) their absence fails."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing and not os.environ.get("CI"):
        pytest.skip(f"not installed: {', '.join(missing)} (CI installs them)")
    assert not missing, f"CI must have {', '.join(missing)} to render reports"


def test_report_renders_as_pdf(tmp_path: Path) -> None:
    """A sandbox report converts to PDF, page 1 is the Summary with SANDBOX and the counts,
    and it rasterises to a non-empty image."""
    _require_tools()
    run = run_info(loaded_file((("ann@example.com", "Licensed", "1000", "", "Sales", "", ""),)),
                   is_sandbox=True, account_id="sandbox")  # fmt: skip
    report = write_report(
        tmp_path / "report.xlsx", run, result_lines(WIDE_RESULTS), before=BEFORE, after=AFTER,
        prices={"Licensed": 15.0, "Webinar 1000": 100.0},
    )  # fmt: skip
    profile = (tmp_path / "lo-profile").as_uri()  # own profile: parallel runs do not collide
    subprocess.run(
        ["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
         "--outdir", str(tmp_path), str(report)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    pdf = tmp_path / "report.pdf"
    assert pdf.stat().st_size > 1000
    page1 = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", "-layout", str(pdf), "-"],
        check=True, capture_output=True, text=True, timeout=60,
    ).stdout  # fmt: skip
    for text in ("SANDBOX", "users.csv", "Result lines per outcome", "applied", "Webinar 1000"):
        assert text in page1
    subprocess.run(
        ["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    images = sorted(tmp_path.glob("page*.png"))
    assert len(images) == 1 and images[0].stat().st_size > 5000
    keep = os.environ.get("REPORT_PDF_KEEP")  # to look at the page by hand
    if keep:
        shutil.copy(images[0], keep)
        shutil.copy(pdf, Path(keep).with_suffix(".pdf"))


def test_every_printed_page_has_its_header_footer_and_readable_text(tmp_path: Path) -> None:
    """Converted to PDF, every page names its sheet and the file, says page N of M and SANDBOX;
    Problems pages each start with Row and E-mail; no text is smaller than
    75% of the Seats sheet's (printed at 100%), i.e. >= 8 pt."""
    import re

    _require_tools()
    row = ("ann@example.com", "Licensed", "1000", "", "Sales", "", "a long note " * 20)
    run = run_info(loaded_file((row,)), is_sandbox=True, account_id="sandbox")
    report = write_report(
        tmp_path / "report.xlsx", run, result_lines(WIDE_RESULTS), before=BEFORE, after=AFTER
    )
    profile = (tmp_path / "lo-profile").as_uri()
    subprocess.run(
        ["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
         "--outdir", str(tmp_path), str(report)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    pdf = tmp_path / "report.pdf"
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    pages = text.split("\f")[:-1]
    for number, page in enumerate(pages, 1):
        assert f"Page {number} of {len(pages)}" in page
        assert "users.csv" in page and "SANDBOX: not a real Zoom account" in page
    problems = [p for p in pages if p.lstrip().startswith("Problems")]
    assert problems
    assert all(re.search(r"^\s*Row\s+E-mail", p, flags=re.MULTILINE) for p in problems)
    boxes = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    heights = {
        n: [
            float(b) - float(a)
            for a, b in re.findall(r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)"', page)
        ]
        for n, page in enumerate(boxes.split("<page ")[1:], 1)
    }
    seats = next(n for n, p in enumerate(pages, 1) if p.lstrip().startswith("Seats"))
    full_size = max(heights[seats])
    smallest = min(h for page in heights.values() for h in page)
    assert smallest >= 0.74 * full_size
