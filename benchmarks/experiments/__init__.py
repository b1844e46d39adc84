"""One-question experiments: each script's docstring is the question it answers.

They reuse make bench's pieces (the model alone, the load driver, the workloads) and are not
part of its run; docs/benchmarks.md says what earlier answers were.
"""
