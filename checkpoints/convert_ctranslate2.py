"""Convert a checkpoint for the ctranslate2 engine ahead of time, into the cache it loads from.

The Translator converts on first load anyway; doing it here keeps that minute out of a
replica's start. Same cache and key as the Translator: the checkpoint's files and the compute
type, under TRANSLATION_CT2_CACHE (default ~/.cache/serve-translation/ctranslate2).

    python -m checkpoints.convert_ctranslate2 build/phrasebook-t5 --compute-type int8
"""

from __future__ import annotations

import argparse
import sys

from deployments.engines.ct2_engine import COMPUTE_TYPES, cache_root, convert


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", help="hub id or local folder, as the config's model")
    parser.add_argument(
        "--compute-type",
        action="append",
        choices=COMPUTE_TYPES,
        help="repeatable; default int8",
    )
    parser.add_argument("--cache-dir", default=None, help=f"default: {cache_root()}")
    parser.add_argument("--force", action="store_true", help="convert again even if cached")
    args = parser.parse_args(argv)
    for compute_type in args.compute_type or ["int8"]:
        path = convert(args.checkpoint, compute_type, args.cache_dir, force=args.force)
        print(f"{args.checkpoint} ({compute_type}): {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
