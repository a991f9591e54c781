"""Where the real seasons live for tests: ../shared/data beside the checkout (CI has it there too)."""
from pathlib import Path

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
