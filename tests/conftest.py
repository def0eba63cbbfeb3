import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def pytest_configure(config):
    # Findings carry paths relative to the working directory; tests compare them.
    os.chdir(ROOT)
