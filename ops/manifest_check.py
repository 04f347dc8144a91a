"""What every check of a rendered overlay shares (ops/check-*.py): read its documents, print each problem
the check finds on a line of its own, and exit 1 if there was any, else 0."""
import sys
from typing import Callable

import yaml


def run(problems_in: Callable[[list[dict]], list[str]]) -> None:
    if len(sys.argv) != 2:
        print(f"usage: {sys.argv[0]} RENDERED.yaml", file=sys.stderr)
        sys.exit(2)
    with open(sys.argv[1], encoding="utf-8") as rendered:
        docs = [d for d in yaml.safe_load_all(rendered) if d]
    problems = problems_in(docs)
    for problem in problems:
        print(problem, file=sys.stderr)
    sys.exit(1 if problems else 0)
