"""``python -m ocr_client``: the ``ocr-service`` command."""

from ocr_client.cli import main

raise SystemExit(main())
