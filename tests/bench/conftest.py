import sys
from pathlib import Path

# The benchmarks are scripts in bench/, importing each other as top-level modules.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent / "bench"))
