"""The MinerU 4 backend: MinerU's own parser in-process, its own renderer as the post-processor.

Named ``mineru_backend`` so that it never shadows the ``mineru`` package it imports.
"""
